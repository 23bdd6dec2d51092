"""Runtime API framing a real runtime may use: chunked bodies, declared and sent trailers."""
import json

from conftest import FUNCTIONS, lambda_client

TEMPLATE = FUNCTIONS / "wire" / "template.yaml"


def invoke(client, payload):
    r = client.invoke(FunctionName="Chunked", Payload=json.dumps(payload))
    return r, r["Payload"].read()


def test_chunked_response_with_declared_trailers_is_a_success(start_daemon):
    d = start_daemon(TEMPLATE)
    r, body = invoke(lambda_client(d.endpoint), {"mode": "chunked"})
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r
    assert json.loads(body) == {"framing": "chunked", "ok": True}
    d.wait_for_log(r'post status 202 \{"status":"OK"\}')


def test_error_trailers_turn_a_response_into_a_function_error(start_daemon):
    d = start_daemon(TEMPLATE)
    r, body = invoke(lambda_client(d.endpoint), {"mode": "chunked-trailer"})
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert json.loads(body) == {"errorMessage": "failed mid-stream", "errorType": "Stream.Broken"}
    d.wait_for_log(r'post status 202')
    d.wait_for_log(r"Error Type: Function.StreamBroken")


def test_chunked_error_post(start_daemon):
    d = start_daemon(TEMPLATE)
    client = lambda_client(d.endpoint)
    r, body = invoke(client, {"mode": "chunked-error"})
    assert r["FunctionError"] == "Unhandled"
    assert json.loads(body) == {"errorMessage": "in chunks", "errorType": "Chunky"}
    # The same keep-alive connection keeps serving.
    r, body = invoke(client, {"mode": "chunked"})
    assert "FunctionError" not in r
