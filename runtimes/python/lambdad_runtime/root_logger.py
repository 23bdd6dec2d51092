"""The root logger's Lambda format: text `[LEVEL]\t<UTC time>Z\t<request id>\t<message>` or, with
AWS_LAMBDA_LOG_FORMAT=JSON, one JSON object per record. Imported when logging is (log_setup)."""
import json
import logging
import time
import traceback

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
_TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"

# LogRecord attributes that are not copied into a JSON record as extra fields.
_RESERVED = {
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
    "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
    "relativeCreated", "thread", "threadName", "processName", "process", "taskName",
    "aws_request_id", "tenant_id",
}


class _RequestIdFilter(logging.Filter):
    def __init__(self, state):
        super().__init__()
        self._state = state

    def filter(self, record):
        record.aws_request_id = self._state.request_id or ""
        record.tenant_id = self._state.tenant_id
        return True


class LambdaLoggerHandler(logging.Handler):
    def __init__(self, log_sink):
        super().__init__()
        self.log_sink = log_sink

    def emit(self, record):
        try:
            self.log_sink.write(self.format(record))
        except Exception:
            self.handleError(record)


def _normalized_level(levelno):
    return min(50, max(0, levelno)) // 10 * 10


class JsonFormatter(logging.Formatter):
    def format(self, record):
        from datetime import datetime, timezone  # only for JSON logs

        record.levelno = _normalized_level(record.levelno)
        record.levelname = logging.getLevelName(record.levelno)
        exc = record.exc_info
        when = datetime.fromtimestamp(record.created, tz=timezone.utc)
        result = {
            "timestamp": when.strftime(_TIME_FORMAT + ".%f")[:-3] + "Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": "{}:{}:{}".format(record.pathname, record.funcName, record.lineno)
            if exc else None,
        }
        if getattr(record, "tenant_id", None) is not None:
            result["tenantId"] = record.tenant_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key not in result:
                result[key] = value
        result = {k: v for k, v in result.items() if v is not None}
        return json.dumps(result, ensure_ascii=False, default=str) + "\n"


def setup_root_logger(log_sink, state, json_format, level_name):
    # Lambda formats every record's time in UTC, for user formatters too.
    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler(log_sink)
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT, _TIME_FORMAT))
    handler.addFilter(_RequestIdFilter(state))
    root = logging.getLogger()
    if level_name in logging._nameToLevel:
        root.setLevel(level_name)
    root.addHandler(handler)
