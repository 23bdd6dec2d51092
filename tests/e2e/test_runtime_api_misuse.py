"""A runtime that misuses the Runtime API on purpose (functions/misuse/bootstrap) gets Lambda's
exact statuses and bodies (spec §1.7, §1.8), the invoker gets Lambda's answer, and the
environment keeps serving afterwards.
"""
import concurrent.futures
import json
import time

import pytest

from conftest import FUNCTIONS, lambda_client, wait_for

TEMPLATE = FUNCTIONS / "misuse" / "template.yaml"
# A Python function that holds an invoke in flight ("wait") and posts for any request id to any
# environment's Runtime API ("steal"): see functions/security/python/app.py.
SECURITY_TEMPLATE = FUNCTIONS / "security" / "template.yaml"

INVALID_REQUEST_ID = '{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}\n'
RESPONSE_AFTER_RESPONSE = (
    '{"errorMessage":"State transition from RuntimeResponseSentState to InvocationResponse failed '
    'for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}\n')
ERROR_AFTER_RESPONSE = (
    '{"errorMessage":"State transition from RuntimeResponseSentState to InvocationErrorResponse '
    'failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}\n')
RUNTIME_TOO_LARGE = (
    '{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).",'
    '"errorType":"RequestEntityTooLarge"}\n')
INVOKER_TOO_LARGE = {
    "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    "errorType": "Function.ResponseSizeTooLarge",
}


@pytest.fixture
def client(start_daemon):
    return lambda_client(start_daemon(TEMPLATE).endpoint)


def invoke(client, event):
    r = client.invoke(FunctionName="Misuse", Payload=json.dumps(event))
    r["Body"] = r.pop("Payload").read()
    return r


def wait_for_record(path, timeout=20):
    """The runtime writes what it saw after the invoker already has its answer: poll for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        time.sleep(0.02)
    raise AssertionError(f"the misuse runtime never wrote {path}")


def assert_still_serving(client):
    r = invoke(client, {"mode": "ok"})
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r, r["Body"]
    result = json.loads(r["Body"])
    assert result == {"requestId": r["ResponseMetadata"]["RequestId"], "mode": "ok"}


def test_post_for_unknown_request_id_is_400_invalid_request_id(client):
    r = invoke(client, {"mode": "wrong-id"})
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r, r["Body"]
    result = json.loads(r["Body"])
    # The invocation itself completes with the runtime's real response.
    assert result["requestId"] == r["ResponseMetadata"]["RequestId"]
    for endpoint in ("response", "error"):
        seen = result[endpoint]
        assert seen["status"] == 400, (endpoint, seen)
        assert seen["body"] == INVALID_REQUEST_ID, (endpoint, seen)
        assert seen["contentType"].startswith("application/json"), (endpoint, seen)
    assert_still_serving(client)


def test_post_for_released_request_id_is_400_invalid_request_id(client):
    first = invoke(client, {"mode": "ok"})
    previous_id = json.loads(first["Body"])["requestId"]

    r = invoke(client, {"mode": "stale-id"})
    assert "FunctionError" not in r, r["Body"]
    result = json.loads(r["Body"])
    assert result["previousId"] == previous_id
    assert result["requestId"] == r["ResponseMetadata"]["RequestId"] != previous_id
    assert result["response"]["status"] == 400, result
    assert result["response"]["body"] == INVALID_REQUEST_ID, result
    assert_still_serving(client)


def test_second_response_before_next_is_403_invalid_state_transition(client, host_dir):
    record = host_dir / "double.json"
    r = invoke(client, {"mode": "double", "record": str(record)})
    # The first response is what the invoker gets.
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r, r["Body"]
    assert json.loads(r["Body"]) == {"requestId": r["ResponseMetadata"]["RequestId"], "mode": "double"}

    seen = wait_for_record(record)
    assert seen["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert seen["status"] == 403, seen
    assert seen["body"] == RESPONSE_AFTER_RESPONSE, seen
    assert seen["contentType"].startswith("application/json"), seen
    assert_still_serving(client)


def test_error_after_response_before_next_is_403_invalid_state_transition(client, host_dir):
    record = host_dir / "double-error.json"
    r = invoke(client, {"mode": "double-error", "record": str(record)})
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r, r["Body"]
    assert json.loads(r["Body"])["mode"] == "double-error"

    seen = wait_for_record(record)
    assert seen["status"] == 403, seen
    assert seen["body"] == ERROR_AFTER_RESPONSE, seen
    assert_still_serving(client)


def test_oversized_response_is_413_for_runtime_and_function_error_for_invoker(client, host_dir):
    record = host_dir / "oversize.json"
    r = invoke(client, {"mode": "oversize", "record": str(record)})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert r["FunctionError"] == "Unhandled"
    assert json.loads(r["Body"]) == INVOKER_TOO_LARGE
    assert r["Body"] == json.dumps(INVOKER_TOO_LARGE, separators=(",", ":")).encode()

    seen = wait_for_record(record)
    assert seen["sentBytes"] == 6291557
    assert seen["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert seen["status"] == 413, seen
    assert seen["body"] == RUNTIME_TOO_LARGE, seen
    assert seen["contentType"].startswith("application/json"), seen
    assert_still_serving(client)


def test_misuse_in_sequence_never_breaks_the_environment(client, host_dir):
    for i, mode in enumerate(["wrong-id", "double", "oversize", "double-error", "stale-id"]):
        record = host_dir / f"{i}.json"
        invoke(client, {"mode": mode, "record": str(record)})
        if mode in ("double", "oversize", "double-error"):
            wait_for_record(record)
        assert_still_serving(client)


# ---------------------------------------------------------------------------------------------
# one environment's Runtime API and another environment's request ids

def invoke_sec(client, event):
    r = client.invoke(FunctionName="SecEcho", Payload=json.dumps(event))
    r["Body"] = json.loads(r.pop("Payload").read())
    return r


def test_request_ids_of_another_environment_are_refused_and_its_invoke_is_unaffected(start_daemon, host_dir):
    client = lambda_client(start_daemon(SECURITY_TEMPLATE).endpoint)
    refused = {"status": 400, "body": INVALID_REQUEST_ID}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        # B: an invoke held in flight in its own environment.
        held = pool.submit(invoke_sec, client, {"mode": "wait", "dir": str(host_dir)})
        started = wait_for(lambda: list(host_dir.glob("*.started")), timeout=30, what="the held invoke")[0]
        b_id, b_api = started.name[: -len(".started")], started.read_text()

        # A (a second environment, B being busy) posts B's request id to its own Runtime API...
        r = invoke_sec(client, {"mode": "steal", "id": b_id})
        assert r["StatusCode"] == 200 and "FunctionError" not in r, r["Body"]
        assert r["Body"]["runtimeApi"] != b_api
        assert r["Body"]["response"] == refused, r["Body"]
        assert r["Body"]["error"] == refused, r["Body"]
        # ... and its own request id to B's Runtime API, which resets a connection that no
        # process of its own environment holds, before reading a byte of it.
        r = invoke_sec(client, {"mode": "steal", "id": "self", "api": b_api})
        assert r["StatusCode"] == 200 and "FunctionError" not in r, r["Body"]
        assert r["Body"]["requestId"] == r["ResponseMetadata"]["RequestId"]
        assert r["Body"]["response"]["status"] is None, r["Body"]
        assert r["Body"]["error"]["status"] is None, r["Body"]

        # B was not disturbed: it completes with its own answer.
        assert not held.done()
        (host_dir / f"{b_id}.go").touch()
        b = held.result(timeout=30)
    assert b["StatusCode"] == 200 and "FunctionError" not in b, b["Body"]
    assert b["Body"] == {"requestId": b_id, "mode": "wait"}
    assert b["ResponseMetadata"]["RequestId"] == b_id

    # Once B's invoke is over its id is stale everywhere, its own environment included.
    for api in (None, b_api):
        r = invoke_sec(client, {"mode": "steal", "id": b_id, "api": api})
        assert r["Body"]["response"] == refused and r["Body"]["error"] == refused, r["Body"]
