"""boto3 (botocore's rest-json Lambda client, as shipped by Debian) against the real daemon.

Checks the Invoke contract an SDK relies on: status, headers it maps to ExecutedVersion,
FunctionError and RequestId, the payload bytes, AWS's error codes and messages.
"""
import concurrent.futures
import json

import pytest
from botocore.exceptions import ClientError

from conftest import FUNCTIONS, invoke, lambda_client

TEMPLATE = FUNCTIONS / "sdk" / "template.yaml"
ACCOUNT_ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
ECHO = {"python": "PyEcho", "node": "NodeEcho", "provided": "ProvidedEcho"}
FAIL = {"python": "PyFail", "node": "NodeFail", "provided": "ProvidedFail"}
INVOKE_LIMIT = 6291456  # bytes; a synchronous request body above this is rejected with 413


@pytest.fixture
def client(start_daemon):
    return lambda_client(start_daemon(TEMPLATE).endpoint)


@pytest.mark.parametrize("runtime", sorted(ECHO))
def test_invoke_returns_function_result(client, runtime):
    event = {"name": "Ada", "numbers": [1, 2, 3], "nested": {"ok": True}, "text": "héllo ✓"}
    r = invoke(client, ECHO[runtime], event)

    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in r
    result = json.loads(r["Body"])
    assert result["runtime"] == runtime
    assert result["event"] == event
    assert result["keys"] == ["name", "nested", "numbers", "text"]
    assert result["functionName"] == ECHO[runtime]
    assert result["greeting"] == f"hello-from-{runtime}"


@pytest.mark.parametrize("runtime", sorted(ECHO))
def test_request_id_is_the_one_the_function_saw(client, runtime):
    seen = set()
    for i in range(3):
        r = invoke(client, ECHO[runtime], {"i": i})
        request_id = r["ResponseMetadata"]["RequestId"]
        assert request_id, r["ResponseMetadata"]
        assert json.loads(r["Body"])["requestId"] == request_id
        assert r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == request_id
        seen.add(request_id)
    assert len(seen) == 3, "every invocation must get its own request id"


@pytest.mark.parametrize("runtime", sorted(ECHO))
def test_empty_payload_reaches_function_as_empty_object(client, runtime):
    r = invoke(client, ECHO[runtime])
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r
    result = json.loads(r["Body"])
    assert result["event"] == {}
    assert result["requestId"] == r["ResponseMetadata"]["RequestId"]


def test_python_handler_exception_is_unhandled_function_error(client):
    r = invoke(client, FAIL["python"], {"name": "Grace"})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert r["FunctionError"] == "Unhandled"
    error = json.loads(r["Body"])
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "python says no to Grace"
    assert isinstance(error["stackTrace"], list)
    assert error["requestId"] == r["ResponseMetadata"]["RequestId"]


def test_node_handler_exception_is_unhandled_function_error(client):
    r = invoke(client, FAIL["node"], {"name": "Grace"})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert r["FunctionError"] == "Unhandled"
    error = json.loads(r["Body"])
    assert error["errorType"] == "TypeError"
    assert error["errorMessage"] == "node says no to Grace"
    assert isinstance(error["trace"], list)
    assert error["trace"][0].startswith("TypeError: node says no to Grace")


def test_custom_runtime_error_body_is_returned_byte_for_byte(client):
    r = invoke(client, FAIL["provided"], {"name": "Grace"})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert r["FunctionError"] == "Unhandled"
    assert r["Body"] == (b'{"errorMessage":"provided says no","errorType":"ProvidedError",'
                         b'"stackTrace":["bootstrap:1"]}')


def test_unknown_function_is_resource_not_found(client):
    with pytest.raises(ClientError) as e:
        client.invoke(FunctionName="NoSuchFunction", Payload=b"{}")
    err = e.value.response
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:NoSuchFunction:$LATEST")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err["ResponseMetadata"]["RequestId"]
    # botocore models the exception; the modeled Type member must come through too.
    assert isinstance(e.value, client.exceptions.ResourceNotFoundException)
    assert err.get("Type") == "User"


@pytest.mark.parametrize("runtime", sorted(ECHO))
def test_function_name_as_full_arn(client, runtime):
    name = ECHO[runtime]
    r = invoke(client, ACCOUNT_ARN + name, {"via": "arn"})
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r
    result = json.loads(r["Body"])
    assert result["event"] == {"via": "arn"}
    assert result["functionName"] == name
    assert result["requestId"] == r["ResponseMetadata"]["RequestId"]


def test_unknown_function_as_arn_is_resource_not_found(client):
    with pytest.raises(ClientError) as e:
        client.invoke(FunctionName=ACCOUNT_ARN + "Ghost", Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Ghost:$LATEST")


def _payload_of_size(n):
    prefix, suffix = b'{"data":"', b'"}'
    return prefix + b"a" * (n - len(prefix) - len(suffix)) + suffix


def test_payload_at_the_limit_is_accepted(client):
    payload = _payload_of_size(INVOKE_LIMIT)
    assert len(payload) == INVOKE_LIMIT
    r = invoke(client, "PySize", payload)
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r
    assert json.loads(r["Body"])["length"] == INVOKE_LIMIT - len(b'{"data":""}')


def test_payload_over_the_limit_is_request_entity_too_large(client):
    payload = _payload_of_size(INVOKE_LIMIT + 1)
    assert len(payload) == 6291457
    with pytest.raises(ClientError) as e:
        client.invoke(FunctionName="PySize", Payload=payload)
    err = e.value.response
    assert err["Error"]["Code"] == "RequestEntityTooLargeException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 413
    # The daemon still serves the function afterwards.
    r = invoke(client, "PySize", {"data": "abc"})
    assert json.loads(r["Body"])["length"] == 3


@pytest.mark.parametrize("runtime", sorted(ECHO))
def test_concurrent_invokes_all_succeed(client, runtime):
    n = 8

    def one(i):
        return i, invoke(client, ECHO[runtime], {"i": i})

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))

    request_ids = set()
    for i, r in results:
        assert r["StatusCode"] == 200
        assert "FunctionError" not in r
        result = json.loads(r["Body"])
        assert result["event"] == {"i": i}, "each caller must get the result of its own event"
        assert result["requestId"] == r["ResponseMetadata"]["RequestId"]
        request_ids.add(result["requestId"])
    assert len(request_ids) == n


def test_invoke_by_logical_id_runs_the_function_under_its_deployed_name(start_daemon, tmp_path):
    """sam local start-lambda answers a logical id; lambdad does too, and everything the caller and
    the function see names the deployed FunctionName."""
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  OrdersFunction:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: orders-prod\n"
        f"      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: {FUNCTIONS / 'sdk' / 'python'}\n")
    d = start_daemon(template)
    client = lambda_client(d.endpoint)
    for name in ("OrdersFunction", "orders-prod", ACCOUNT_ARN + "OrdersFunction"):
        r = invoke(client, name, {"n": 1})
        assert r["StatusCode"] == 200 and r["ExecutedVersion"] == "$LATEST", name
        assert json.loads(r["Body"])["functionName"] == "orders-prod", name
    d.wait_for_log(r"info  function OrdersFunction \(orders-prod\): python3\.12, 128 MB, 3 s, from ")
    d.wait_for_log(r"info  python3\.12 -> /\S+ \(Python 3\.\d+\.\d+\)")
    # One line per request, logged where the Invoke API answers, naming the function reached.
    d.wait_for_log(r"info  POST /2015-03-31/functions/OrdersFunction/invocations -> 200 \(orders-prod, \d+\.\d ms\)")
    with pytest.raises(ClientError) as e:
        client.invoke(FunctionName="ordersfunction")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "Function not found: " + ACCOUNT_ARN + "ordersfunction:$LATEST"
    d.wait_for_log(r"info  POST /2015-03-31/functions/ordersfunction/invocations -> 404 \(ordersfunction, \d+\.\d ms\)")
    # The control plane takes deployed names only, as Lambda's.
    assert client.get_function(FunctionName="orders-prod")["Configuration"]["FunctionName"] == "orders-prod"
