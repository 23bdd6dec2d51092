"""The official Node runtime interface client (aws-lambda-ric from npm) against lambdad's
Runtime API, invoked with boto3. A client we did not write decides whether our wire contract
(headers on /next, status codes on /response and /error) is Lambda's.
"""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import FUNCTIONS, REPO, lambda_client

TEMPLATE = FUNCTIONS / "ric" / "template.yaml"
RIC = REPO / "node_modules" / "aws-lambda-ric"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:RicNode"


@pytest.fixture
def client(start_daemon):
    if not (RIC / "package.json").is_file():
        pytest.fail(f"the official aws-lambda-ric is not installed at {RIC}; run `npm ci` in {REPO}")
    return lambda_client(start_daemon(TEMPLATE).endpoint)


def invoke(client, payload):
    r = client.invoke(FunctionName="RicNode", Payload=json.dumps(payload))
    r["Body"] = r.pop("Payload").read()
    return r


def test_ric_returns_handler_result(client):
    r = invoke(client, {"hello": "ric", "n": 42})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in r, r["Body"]
    result = json.loads(r["Body"])
    assert result["client"] == "aws-lambda-ric"
    assert result["event"] == {"hello": "ric", "n": 42}
    assert result["functionName"] == "RicNode"
    # The RIC builds context.awsRequestId from Lambda-Runtime-Aws-Request-Id.
    assert result["requestId"] == r["ResponseMetadata"]["RequestId"]
    # ...the ARN from Lambda-Runtime-Invoked-Function-Arn (unqualified invoke -> unqualified ARN)...
    assert result["invokedFunctionArn"] == ARN
    # ...and getRemainingTimeInMillis from Lambda-Runtime-Deadline-Ms (Timeout: 30).
    assert 20_000 < result["remainingMs"] <= 30_000


def test_ric_keeps_serving_and_ids_differ(client):
    ids = []
    for i in range(3):
        r = invoke(client, {"i": i})
        result = json.loads(r["Body"])
        assert result["event"] == {"i": i}
        assert result["requestId"] == r["ResponseMetadata"]["RequestId"]
        ids.append(result["requestId"])
    assert len(set(ids)) == 3


def test_ric_handler_error_is_unhandled_with_ric_error_shape(client):
    r = invoke(client, {"fail": "on purpose"})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert r["FunctionError"] == "Unhandled"
    error = json.loads(r["Body"])
    # The Node RIC's shape: errorType, errorMessage, trace (a list of stack lines).
    assert error["errorType"] == "RangeError"
    assert error["errorMessage"] == "ric handler failed: on purpose"
    assert isinstance(error["trace"], list)
    assert error["trace"][0] == "RangeError: ric handler failed: on purpose"

    # The environment survives a handler error.
    r = invoke(client, {"after": "error"})
    assert "FunctionError" not in r, r["Body"]
    assert json.loads(r["Body"])["event"] == {"after": "error"}


def test_ric_serves_a_managed_instances_environment(client):
    """aws-lambda-ric 4.x takes AWS_LAMBDA_MAX_CONCURRENCY as its cue to serve invokes side by
    side (worker threads, each asking /next again before its invoke ends): lambdad hands it at most
    the environment's four at once, each answer to its own request."""
    def one(i):
        r = client.invoke(FunctionName="RicManaged", Payload=json.dumps({"i": i, "sleepMs": 800}))
        return r["ResponseMetadata"]["RequestId"], r.get("FunctionError"), json.loads(r.pop("Payload").read())

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(one, range(4)))
    for i, (request_id, error, result) in enumerate(answers):
        assert error is None, result
        assert result["event"]["i"] == i and result["requestId"] == request_id
        assert result["maxConcurrency"] == "4"
    assert len({result["pid"] for _, _, result in answers}) == 1, "one environment"
    spans = sorted((result["start"], result["end"]) for _, _, result in answers)
    assert spans[-1][0] < spans[0][1], "all four ran at once"
