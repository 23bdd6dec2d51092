"""Function output: unbuffered stdout/stderr (lambdad forwards the pipe line by line, so a
print() must reach it before the response is posted), the runtime's own error records, and the
moment the root logger gets Lambda's format (root_logger): when logging is first imported."""
import time

from . import late_import

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


class Unbuffered:
    """Wraps a text stream so that every write is flushed at once."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def write(self, msg):
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, lines):
        self.stream.writelines(lines)
        self.stream.flush()


class StdoutSink:
    """Where the runtime's own records go: the process's stdout, read by lambdad."""

    def __init__(self, stream_getter):
        self._stream = stream_getter

    def write(self, msg):
        self._stream().write(msg)

    def write_error(self, record):
        self._stream().write(record)


class InvokeState:
    """The invocation in progress, for log records."""

    def __init__(self):
        self.request_id = None
        self.tenant_id = None


def is_json_format(value):
    return bool(value) and value.upper() == "JSON"


def level_from_env(value):
    """AWS_LAMBDA_LOG_LEVEL -> a logging level name ("" when unset; TRACE means DEBUG)."""
    if not value:
        return ""
    value = value.upper()
    return "DEBUG" if value == "TRACE" else value


def setup_root_logger(log_sink, state, json_format, level_name):
    """Gives the root logger Lambda's handler and level (root_logger): at once if logging is
    imported, else as the function or a library first imports it, before that import returns."""
    def configure():
        from . import root_logger
        root_logger.setup_root_logger(log_sink, state, json_format, level_name)

    late_import.after_import("logging", configure)


def error_json_record(error):
    """The JSON-format log record of an invoke or init error."""
    import json  # errors only (late_import)

    record = {"timestamp": time.strftime(_TIME_FORMAT, time.gmtime()), "level": "ERROR"}
    record.update(error)
    return json.dumps(record) + "\n"
