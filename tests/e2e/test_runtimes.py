"""lambdad's own runtime clients (runtimes/python, runtimes/nodejs) and the bundled custom-runtime
example, run by the real daemon and invoked with boto3.

Checks what a function author sees: results, error payloads (Python's errorMessage/errorType/
requestId/stackTrace, Node's errorType/errorMessage/trace), the context object, log lines, init
errors (Runtime.ImportModuleError, Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError), and the
Node programming model (async, callbacks, callbackWaitsForEmptyEventLoop, ESM/CJS, nested paths).
"""
import base64
import json
import os
import re
import time
import uuid

import pytest

from conftest import FUNCTIONS, REPO, Daemon, lambda_client

TEMPLATE = FUNCTIONS / "runtimes" / "template.yaml"
EXAMPLES = REPO / "examples" / "template.yaml"
ARN_PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"
ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(scope="module")
def daemon():
    d = Daemon(TEMPLATE)
    yield d
    problems = d.stop_and_check()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def client(daemon):
    return lambda_client(daemon.endpoint)


def invoke(client, name, payload=None, **kwargs):
    args = {"FunctionName": name, **kwargs}
    if payload is not None:
        args["Payload"] = json.dumps(payload)
    response = client.invoke(**args)
    response["Body"] = response.pop("Payload").read()
    response["RequestId"] = response["ResponseMetadata"]["RequestId"]
    return response


def invoke_ok(client, name, payload=None, **kwargs):
    r = invoke(client, name, payload, **kwargs)
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r, r["Body"]
    return r


def invoke_error(client, name, payload=None):
    r = invoke(client, name, payload)
    assert r["StatusCode"] == 200
    assert r.get("FunctionError") == "Unhandled", r["Body"]
    return json.loads(r["Body"])


# --- Python -------------------------------------------------------------------------------------

def test_python_returns_the_handler_result(client):
    event = {"text": "héllo ✓", "n": [1, 2.5, None, True]}
    r = invoke_ok(client, "PyEcho", event)
    assert json.loads(r["Body"]) == {"event": event, "requestId": r["RequestId"]}


def test_python_none_result_is_null(client):
    assert invoke_ok(client, "PyNone", {})["Body"] == b"null"


def test_python_exception_payload(client):
    r = invoke(client, "PyRaises", {"why": "testing"})
    assert r.get("FunctionError") == "Unhandled"
    error = json.loads(r["Body"])
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorMessage"] == "something went wrong: testing"
    assert error["errorType"] == "ValueError"
    assert error["requestId"] == r["RequestId"]
    # Frames start in the function's code: none of the runtime's own frames.
    assert len(error["stackTrace"]) == 1
    # In a Lambda-shaped root (as root) the path is Lambda's.
    code = "/var/task" if os.geteuid() == 0 else ".*/python"
    assert re.fullmatch(r'  File "' + code + r'/app\.py", line \d+, in raises\n'
                        r'    raise ValueError\(.*\)\n', error["stackTrace"][0])


def test_python_exception_is_logged(client, daemon):
    r = invoke(client, "PyRaises", {"why": "logged"}, LogType="Tail")
    assert r.get("FunctionError") == "Unhandled"
    # One record whose lines are joined with LF, as in Lambda's log event (lambda-spec §6.1).
    log = base64.b64decode(r["LogResult"]).decode()
    assert re.search(r"\n\[ERROR\] ValueError: something went wrong: logged\n"
                     r"Traceback \(most recent call last\):\n\u00a0\u00a0File ", log), log
    assert "\r" not in log
    daemon.wait_for_log(r"\[ERROR\] ValueError: something went wrong: logged")


def test_python_unserializable_result_is_a_marshal_error(client):
    error = invoke_error(client, "PyUnserializable", {})
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == ("Unable to marshal response: "
                                     "Object of type set is not JSON serializable")


def test_python_context(client):
    before = time.time()
    r = invoke_ok(client, "PyContext", {})
    ctx = json.loads(r["Body"])
    assert ctx["awsRequestId"] == r["RequestId"]
    assert 0 < ctx["remainingMs"] <= 7000
    assert ctx["remainingMs"] >= 7000 - (time.time() - before) * 1000 - 1000
    assert ctx["invokedFunctionArn"] == ARN_PREFIX + "PyContext"
    assert ctx["functionName"] == "PyContext"
    assert ctx["functionVersion"] == "$LATEST"
    assert ctx["memoryLimitInMB"] == "256"
    assert ctx["logGroupName"] == "/aws/lambda/PyContext"
    assert ctx["logStreamName"]
    assert ctx["traceEnv"].startswith("Root=1-")
    assert ctx["identity"] is None and ctx["clientContext"] is None


def test_python_context_client_context(client):
    import base64
    cc = {"custom": {"tenant": "t1"}, "env": {}, "client": {}}
    r = invoke_ok(client, "PyContext", {},
                  ClientContext=base64.b64encode(json.dumps(cc).encode()).decode())
    assert json.loads(r["Body"])["clientContext"] == {"tenant": "t1"}


def test_python_logging_and_print(client, daemon):
    marker = uuid.uuid4().hex
    r = invoke_ok(client, "PyLogs", {"marker": marker})
    assert r["Body"] == b'"ok"'
    daemon.wait_for_log(r"printed " + marker)
    daemon.wait_for_log(r"\[WARNING\]\t" + ISO_TIME + r"\t" + r["RequestId"] + r"\tlogged " + marker)


@pytest.mark.parametrize("function, error_type, message", [
    ("PyImportError", "Runtime.ImportModuleError",
     "Unable to import module 'no_such_module': No module named 'no_such_module'"),
    ("PyHandlerNotFound", "Runtime.HandlerNotFound",
     "Handler 'no_such_function' missing on module 'app'"),
    ("PySyntaxError", "Runtime.UserCodeSyntaxError", None),
])
def test_python_init_errors_reach_the_invoker(client, function, error_type, message):
    error = invoke_error(client, function, {})
    assert error["errorType"] == error_type
    assert error["requestId"] == ""
    assert isinstance(error["stackTrace"], list)
    if message:
        assert error["errorMessage"] == message
    else:
        assert error["errorMessage"].startswith("Syntax error in module 'syntax_error': ")
        assert "syntax_error.py" in error["stackTrace"][0]


# --- Node.js ------------------------------------------------------------------------------------

def test_node_async_handler_and_context(client):
    before = time.time()
    r = invoke_ok(client, "NodeAsync", {"text": "héllo ✓"})
    body = json.loads(r["Body"])
    assert body["event"] == {"text": "héllo ✓"}
    assert body["requestId"] == r["RequestId"]
    assert 0 < body["remainingMs"] <= 7000
    assert body["remainingMs"] >= 7000 - (time.time() - before) * 1000 - 1000
    assert body["memoryLimitInMB"] == "256"
    assert body["invokedFunctionArn"] == ARN_PREFIX + "NodeAsync"
    assert body["traceEnv"].startswith("Root=1-")
    assert body["awslambda"] == "object"


def test_node_callback_waits_for_empty_event_loop(client):
    started = time.monotonic()
    r = invoke_ok(client, "NodeCallback", {"timerMs": 300})
    assert json.loads(r["Body"]) == {"callback": True, "timerFired": True}
    assert time.monotonic() - started >= 0.3


def test_node_callback_without_waiting(client):
    started = time.monotonic()
    r = invoke_ok(client, "NodeCallback", {"noWait": True, "timerMs": 3000})
    assert json.loads(r["Body"]) == {"callback": True}
    assert time.monotonic() - started < 3


def test_node_callback_error(client):
    error = invoke_error(client, "NodeCallbackError", {})
    assert error["errorType"] == "TypeError"
    assert error["errorMessage"] == "bad input"
    assert error["trace"][0] == "TypeError: bad input"


def test_node_thrown_error_shape(client):
    r = invoke(client, "NodeThrows", {"why": "testing"})
    assert r.get("FunctionError") == "Unhandled"
    error = json.loads(r["Body"])
    assert list(error) == ["errorType", "errorMessage", "trace"]
    assert error["errorType"] == "Error"
    assert error["errorMessage"] == "handler failed: testing"
    assert error["trace"][0] == "Error: handler failed: testing"
    assert any("index.js" in line for line in error["trace"][1:])


def test_node_thrown_string(client):
    error = invoke_error(client, "NodeThrowsString", {})
    assert error == {"errorType": "string", "errorMessage": "a plain string", "trace": []}


def test_node_console_lines(client, daemon):
    marker = uuid.uuid4().hex
    r = invoke_ok(client, "NodeLogs", {"marker": marker})
    daemon.wait_for_log(ISO_TIME + r"\t" + r["RequestId"] + r"\tINFO\tlogged " + marker)
    daemon.wait_for_log(ISO_TIME + r"\t" + r["RequestId"] + r"\tERROR\terror line " + marker)


def test_node_unsettled_promise(client):
    error = invoke_error(client, "NodeNeverSettles", {})
    assert error["errorType"] == "Runtime.NodeJsExit"


@pytest.mark.parametrize("function, expected", [
    ("NodeEsm", {"module": "esm", "event": {"k": 1}}),
    ("NodeCjs", {"module": "cjs", "event": {"k": 1}}),
    ("NodeNested", {"module": "src/handlers/app"}),
])
def test_node_module_kinds(client, function, expected):
    assert json.loads(invoke_ok(client, function, {"k": 1})["Body"]) == expected


def test_node_streaming_handler_buffered_invoke(client):
    assert invoke_ok(client, "NodeStreaming", {})["Body"] == b"streamed hello"


@pytest.mark.parametrize("function, error_type, message", [
    ("NodeHandlerNotFound", "Runtime.HandlerNotFound",
     "index.noSuchHandler is undefined or not exported"),
    ("NodeImportError", "Runtime.ImportModuleError", None),
])
def test_node_init_errors_reach_the_invoker(client, function, error_type, message):
    error = invoke_error(client, function, {})
    assert error["errorType"] == error_type
    if message:
        assert error["errorMessage"] == message
    else:
        assert error["errorMessage"].startswith("Error: Cannot find module 'no_such_file'")
    assert error["trace"][0].startswith(error_type + ": ")


# --- both clients: the Runtime API out of the function's reach, oversized responses, wrappers ---

@pytest.mark.parametrize("function", ["PyPatched", "NodePatched"])
def test_patched_http_libraries_never_see_the_runtime(client, function):
    # The module patched http.client/urllib/socket (Python) or http/https/fetch/net (Node) to
    # throw and record; the runtime still answers, on the next invoke too, and nothing was called.
    for _ in range(2):
        assert json.loads(invoke_ok(client, function, {})["Body"]) == {"calls": []}


def test_patched_http_libraries_never_see_a_streamed_response(client):
    # A streaming handler posts its response as a chunked stream (buffered here by the invoke).
    for _ in range(2):
        assert json.loads(invoke_ok(client, "NodePatchedStreaming", {})["Body"]) == {"calls": []}


@pytest.mark.parametrize("function", ["PySizes", "NodeSizes"])
def test_oversized_responses_leave_the_environment_warm(client, function):
    invoke_ok(client, function, {})  # the environment is up
    for _ in range(2):
        r = invoke(client, function, {"big": True})
        assert r.get("FunctionError") == "Unhandled"
        assert json.loads(r["Body"]) == {
            "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
            "errorType": "Function.ResponseSizeTooLarge"}
    r = invoke_ok(client, function, {}, LogType="Tail")
    assert json.loads(r["Body"]) == {"small": True}
    report = base64.b64decode(r["LogResult"]).decode().split("REPORT RequestId:")[1]
    assert "Init Duration" not in report, "the same warm environment answered"


@pytest.mark.parametrize("function, bootstrap", [("PyWrapped", "bootstrap.py"), ("NodeWrapped", "bootstrap.mjs")])
def test_exec_wrapper_runs_the_runtime_command_line(client, function, bootstrap):
    body = json.loads(invoke_ok(client, function, {})["Body"])
    assert body["wrapped"] == "yes"
    interpreter, *flags, script = body["saw"]
    assert flags == (["-S"] if function == "PyWrapped" else [])  # Python without site (decision 014)
    assert script.endswith("/" + bootstrap)
    assert re.fullmatch(r"(.*/)?(python3[.0-9]*|node)", interpreter), interpreter
    # The runtime runs as the wrapper was given it.
    assert script in body["argv"]


@pytest.mark.parametrize("function, status", [("PyWrapperMissing", 127), ("PyWrapperNotExecutable", 126)])
def test_exec_wrapper_that_cannot_run_is_an_exit_error(client, function, status):
    error = invoke_error(client, function, {})
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith(f"Error: Runtime exited with error: exit status {status}"), error


# --- custom runtime -----------------------------------------------------------------------------

def test_provided_bash_runtime_echoes(client):
    for event in ({"a": 1}, {"text": "héllo ✓"}):
        r = invoke_ok(client, "ProvidedEcho", event)
        assert json.loads(r["Body"]) == {"echo": event}


# --- the bundled examples -----------------------------------------------------------------------

@pytest.mark.parametrize("function, runtime", [
    ("HelloPython", "python"), ("HelloNode", "node"), ("HelloProvided", None)])
def test_examples(start_daemon, function, runtime):
    c = lambda_client(start_daemon(EXAMPLES).endpoint)
    r = invoke_ok(c, function, {"name": "you"})
    body = json.loads(r["Body"])
    if runtime is None:
        assert body == {"echo": {"name": "you"}}
    else:
        assert body == {"message": f"hello from {runtime}", "event": {"name": "you"},
                        "requestId": r["RequestId"]}
