"""`lambdad execution get|history|stop` and `lambdad callback succeed|fail|heartbeat`: the commands'
wire shapes, checked against a recording server (a small http.server that keeps each request's
method, raw path, headers and body and answers canned JSON): the ARN and the callback id as one
percent-encoded path segment, the bodies, the paging of the history, the output and the exit codes.
The daemon's side of these routes is tested elsewhere."""
import http.server
import json
import os
import socket
import subprocess
import threading

import pytest

from conftest import LAMBDAD

ARN = "arn:aws:lambda:us-east-1:123456789012:function:Orders:$LATEST/durable-execution/order=1/7f3a"
ARN_SEGMENT = ("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3AOrders%3A%24LATEST"
               "%2Fdurable-execution%2Forder%3D1%2F7f3a")
EXECUTION_PATH = "/2025-12-01/durable-executions/" + ARN_SEGMENT
CALLBACK_ID = "eyJ0IjoiY2IifQ==/a+b:c$"
CALLBACK_SEGMENT = "eyJ0IjoiY2IifQ%3D%3D%2Fa%2Bb%3Ac%24"
CALLBACK_PATH = "/2025-12-01/durable-execution-callbacks/" + CALLBACK_SEGMENT

EXECUTION = {
    "DurableExecutionArn": ARN,
    "DurableExecutionName": "order=1",
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:Orders:$LATEST",
    "Status": "SUCCEEDED",
    "StartTimestamp": 1764583200.25,
    "EndTimestamp": 1764583201,
    "Result": "{\"total\": 42}",
}
EVENTS = [
    {"EventType": "ExecutionStarted", "EventId": 1, "Id": "7f3a", "Name": "order=1", "EventTimestamp": 1764583200.25},
    {"EventType": "StepStarted", "EventId": 2, "Id": "c4ca4238", "Name": "charge", "EventTimestamp": 1764583200.5},
    {"EventType": "StepSucceeded", "EventId": 3, "Id": "c4ca4238", "EventTimestamp": 1764583200.75},
]


class Recorder:
    """An HTTP/1.1 server on 127.0.0.1, port 0. `answer(method, path, body)` returns (status,
    headers, body) for each request; every request is kept in `requests`."""

    def __init__(self, answer):
        self.requests = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the history's pages share a connection

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                recorder.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers), "body": body})
                status, headers, payload = answer(self.command, self.path, body)
                payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = handle_one

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(answer):
        servers.append(Recorder(answer))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def lambdad(*args, cwd, env=None):
    """The command with none of the developer's LAMBDAD_* settings or AWS credentials (unsigned)."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("LAMBDAD_", "AWS_")) or k == "LAMBDAD_BIN"}
    return subprocess.run([LAMBDAD, *args], cwd=cwd, env={**clean, **(env or {})}, capture_output=True,
                          timeout=60)


def ok(body):
    return lambda method, path, raw: (200, {}, body)


def test_get_prints_the_execution_as_json_or_as_a_table(serve, tmp_path):
    s = serve(ok(EXECUTION))
    p = lambdad("execution", "get", ARN, "--endpoint", s.endpoint, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert [(r["method"], r["path"]) for r in s.requests] == [("GET", EXECUTION_PATH)]
    assert s.requests[0]["body"] == b""
    assert json.loads(p.stdout) == EXECUTION
    assert p.stdout.decode().startswith('{\n  "DurableExecutionArn": ')  # pretty, in the daemon's order

    p = lambdad("execution", "--endpoint", s.endpoint, "get", "--format", "table", ARN, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = [line.split(None, 1) for line in p.stdout.decode().splitlines()]
    assert rows == [["Name", "order=1"], ["Status", "SUCCEEDED"], ["Start", "2025-12-01T10:00:00.250Z"],
                    ["End", "2025-12-01T10:00:01.000Z"], ["Result", '{"total": 42}']]

    failed = {**EXECUTION, "Status": "FAILED", "Error": {"ErrorType": "Declined", "ErrorMessage": "card"}}
    del failed["Result"], failed["EndTimestamp"]
    s = serve(ok(failed))
    p = lambdad("execution", "get", ARN, "--format", "table", cwd=tmp_path, env={"LAMBDAD_ENDPOINT": s.endpoint})
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    assert lines[3].split() == ["End", "-"] and lines[4].split(None, 1) == ["Error", "Declined: card"]


def test_history_follows_next_marker_and_prints_every_event(serve, tmp_path):
    marker = "page 2/=+"

    def pages(method, path, body):
        if "Marker=" in path:
            return 200, {}, {"Events": EVENTS[2:]}
        return 200, {}, {"Events": EVENTS[:2], "NextMarker": marker}

    s = serve(pages)
    p = lambdad("execution", "history", ARN, "--endpoint", s.endpoint, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert [(r["method"], r["path"]) for r in s.requests] == [
        ("GET", EXECUTION_PATH + "/history?IncludeExecutionData=false"),
        ("GET", EXECUTION_PATH + "/history?IncludeExecutionData=false&Marker=page%202%2F%3D%2B"),
    ]
    assert json.loads(p.stdout) == {"Events": EVENTS}

    s.requests.clear()
    p = lambdad("execution", "history", ARN, "--include-execution-data", "--format", "table",
                "--endpoint", s.endpoint, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert [r["path"].split("?")[1] for r in s.requests] == [
        "IncludeExecutionData=true", "IncludeExecutionData=true&Marker=page%202%2F%3D%2B"]
    rows = [line.split() for line in p.stdout.decode().splitlines()]
    assert rows == [["EventId", "EventType", "Name/Id", "EventTimestamp"],
                    ["1", "ExecutionStarted", "order=1", "2025-12-01T10:00:00.250Z"],
                    ["2", "StepStarted", "charge", "2025-12-01T10:00:00.500Z"],
                    ["3", "StepSucceeded", "c4ca4238", "2025-12-01T10:00:00.750Z"]]

    # An empty NextMarker ends the paging as an absent one does.
    s = serve(ok({"Events": EVENTS, "NextMarker": ""}))
    p = lambdad("execution", "history", ARN, "--endpoint", s.endpoint, cwd=tmp_path)
    assert p.returncode == 0 and len(s.requests) == 1 and json.loads(p.stdout) == {"Events": EVENTS}


def test_stop_sends_only_the_error_fields_given(serve, tmp_path):
    s = serve(ok({"StopTimestamp": 1764583202}))
    p = lambdad("execution", "stop", ARN, "--endpoint", s.endpoint, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"StopTimestamp": 1764583202}
    p = lambdad("execution", "stop", ARN, "--endpoint", s.endpoint, "--error-type", "Cancelled",
                "--error-message", "by hand", "--error-data", '{"who":"ops"}',
                "--stack-trace", "at a (x.js:1)", "--stack-trace", "at b (x.js:2)", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    p = lambdad("execution", "stop", ARN, "--endpoint", s.endpoint, "--error-message", "", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert [(r["method"], r["path"]) for r in s.requests] == [("POST", EXECUTION_PATH + "/stop")] * 3
    assert [json.loads(r["body"]) for r in s.requests] == [
        {},
        {"ErrorType": "Cancelled", "ErrorMessage": "by hand", "ErrorData": '{"who":"ops"}',
         "StackTrace": ["at a (x.js:1)", "at b (x.js:2)"]},
        {"ErrorMessage": ""},
    ]
    assert s.requests[0]["headers"]["Content-Type"] == "application/json"


def test_callbacks_post_the_result_the_error_or_nothing(serve, tmp_path):
    s = serve(lambda method, path, body: (200, {}, b""))
    for args in (["succeed", CALLBACK_ID, "-r", '{"approved": true}'],
                 ["succeed", CALLBACK_ID],
                 ["fail", CALLBACK_ID, "--error-type", "Rejected", "--stack-trace", "at approve"],
                 ["fail", CALLBACK_ID],
                 ["heartbeat", CALLBACK_ID]):
        p = lambdad("callback", *args, "--endpoint", s.endpoint, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert p.stdout == b""  # the daemon answered nothing
    assert [(r["method"], r["path"], r["body"]) for r in s.requests] == [
        ("POST", CALLBACK_PATH + "/succeed", b'{"approved": true}'),
        ("POST", CALLBACK_PATH + "/succeed", b""),
        ("POST", CALLBACK_PATH + "/fail", b'{"ErrorType":"Rejected","StackTrace":["at approve"]}'),
        ("POST", CALLBACK_PATH + "/fail", b"{}"),
        ("POST", CALLBACK_PATH + "/heartbeat", b""),
    ]
    s = serve(ok({"Status": "received"}))
    p = lambdad("callback", "succeed", "--result", "done", CALLBACK_ID, cwd=tmp_path,
                env={"LAMBDAD_ENDPOINT": s.endpoint})
    assert p.returncode == 0 and json.loads(p.stdout) == {"Status": "received"}, p.stderr
    assert s.requests[0]["body"] == b"done"


@pytest.mark.parametrize("args", [["execution", "get", ARN], ["execution", "history", ARN],
                                  ["execution", "stop", ARN], ["callback", "heartbeat", CALLBACK_ID]])
def test_an_error_answer_is_printed_and_exits_1(serve, tmp_path, args):
    error = {"Type": "User", "message": "Durable execution not found"}
    s = serve(lambda method, path, body: (404, {"X-Amzn-ErrorType": "ResourceNotFoundException"}, error))
    p = lambdad(*args, "--endpoint", s.endpoint, cwd=tmp_path)
    assert p.returncode == 1
    assert json.loads(p.stdout) == error
    assert p.stderr.decode() == "lambdad: the daemon answered 404 ResourceNotFoundException\n"
    assert len(s.requests) == 1


def test_an_unreachable_daemon_exits_1_and_usage_errors_exit_2(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    p = lambdad("execution", "get", ARN, "--endpoint", f"http://127.0.0.1:{port}", cwd=tmp_path)
    assert p.returncode == 1 and b"cannot connect" in p.stderr, p.stderr
    for args in (["execution", "get"], ["execution", ARN], ["execution", "get", ARN, "--format", "yaml"],
                 ["execution", "get", ARN, "--endpoint", "https://example.com"], ["execution", "get", ""],
                 ["execution", "stop", ARN, "--include-execution-data"], ["callback", "succeed"],
                 ["callback", "heartbeat", CALLBACK_ID, "--result", "x"]):
        p = lambdad(*args, cwd=tmp_path)
        assert p.returncode == 2, (args, p.stderr)


def test_help_shows_the_actions_examples_and_exit_codes(tmp_path):
    for command, actions in (("execution", ["get", "history", "stop"]),
                             ("callback", ["succeed", "fail", "heartbeat"])):
        p = lambdad(command, "--help", cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        out = p.stdout.decode()
        assert all(a in out for a in actions) and "Examples:" in out and "Exit codes: 0" in out
        for action in actions:
            p = lambdad(command, action, "--help", cwd=tmp_path)
            assert p.returncode == 0 and b"Example:" in p.stdout and b"Exit codes: 0" in p.stdout, p.stderr
