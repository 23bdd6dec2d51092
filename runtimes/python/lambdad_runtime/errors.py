"""Error payloads posted to the Runtime API and the log lines that accompany them.

The payload shape is what the invoker receives byte for byte:
{"errorMessage", "errorType", "requestId", "stackTrace"} (requestId "" during init).
"""
import os

# Lambda's error types for failures the runtime itself detects.
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

# Lambda's runtime writes an uncaught error as one log record whose lines are joined with LF
# (lambda-spec §6.1; the CR join of the RIC is only for a plain stdout without Lambda's log
# framing); the indentation of traceback lines uses NO-BREAK SPACE.
_LINE_JOIN = "\n"
_INDENT = "\u00a0"

_RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class FaultException(Exception):
    """A failure with a Lambda error type (Runtime.*), raised by the runtime itself."""

    def __init__(self, error_type, message, stack_trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace


def make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def user_frames(tb):
    """The traceback's frames as (file, line, function, code), minus the runtime's own
    leading frames so that the trace starts where the function's code (or importlib) does."""
    import traceback  # for errors only, not every cold start (late_import)

    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, frame in enumerate(frames):
        if not _is_runtime_file(frame[0]):
            return frames[i:]
    return frames


def _is_runtime_file(filename):
    return os.path.abspath(filename).startswith(_RUNTIME_DIR + os.sep)


def error_from_exception(exc, request_id=None):
    """Payload for an exception raised by user code (during init or an invoke)."""
    if isinstance(exc, FaultException):
        return make_error(exc.message, exc.error_type, exc.stack_trace, request_id)
    import traceback

    frames = user_frames(exc.__traceback__)
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def xray_cause(exc, working_dir):
    """Value of the Lambda-Runtime-Function-XRay-Error-Cause header."""
    frames = [] if isinstance(exc, FaultException) else user_frames(exc.__traceback__)
    if isinstance(exc, FaultException):
        ex_type, ex_msg = "LambdaValidationError", exc.message
    else:
        ex_type, ex_msg = type(exc).__name__, str(exc)
    return {
        "working_directory": working_dir,
        "exceptions": [{
            "message": ex_msg,
            "type": ex_type,
            "stack": [{"label": name, "path": path, "line": line}
                      for path, line, name, _ in frames],
        }],
        "paths": sorted({path for path, _, _, _ in frames}),
    }


def _reindent(line):
    stripped = line.lstrip(" ")
    return _INDENT * (len(line) - len(stripped)) + stripped


def text_log_record(error):
    """The text-format log record of an error: `[ERROR] Type: msg` then the traceback, one
    line each, terminated by LF."""
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            head += ":"
        head += " " + error["errorMessage"]
    lines = [head]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                lines.extend(_reindent(part) for part in element.splitlines())
    return _LINE_JOIN.join(lines) + "\n"
