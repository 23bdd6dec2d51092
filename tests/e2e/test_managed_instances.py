"""Managed instances (lambda-spec §11, docs/decisions/028) through boto3: 32 invokes at once of a
Python and of a Node function with PerExecutionEnvironmentMaxConcurrency 8 and four environments
are served side by side in those four, each answer its own; a 33rd beyond every slot is
throttled; a runtime that posts for a request id it was not given gets the Runtime API's error;
a timeout in one slot fails the invokes beside it and the next call lands in a new
environment; /_lambdad/status and GetFunctionConfiguration show the mode."""
import base64
import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import FUNCTIONS, invoke, wait_for

TEMPLATE = FUNCTIONS / "managed" / "template.yaml"


def client_for(endpoint, connections=40):
    return boto3.client(
        "lambda", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5,
                      max_pool_connections=connections))


def status_of(daemon, name):
    with urllib.request.urlopen(f"{daemon.endpoint}/_lambdad/status", timeout=10) as r:
        [fn] = [f for f in json.load(r)["functions"] if f["name"] == name]
    return fn


def ready_environments(daemon, name):
    return [e for e in status_of(daemon, name)["environments"] if e["state"] in ("idle", "busy")]


@pytest.fixture(scope="module")
def daemon(request):
    from conftest import Daemon
    d = Daemon(TEMPLATE, "--log-level", "info")
    request.addfinalizer(d.stop_and_check)
    return d


def overlapping(answers):
    """Whether two invokes of the same environment ran at the same time."""
    by_env = {}
    for a in answers:
        by_env.setdefault(a["environment"], []).append((a["start"], a["end"]))
    for spans in by_env.values():
        spans.sort()
        if any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:])):
            return True
    return False


@pytest.mark.parametrize("name", ["PyShared", "NodeShared"])
def test_thirty_two_invokes_share_four_environments(daemon, name):
    wait_for(lambda: len(ready_environments(daemon, name)) == 4, timeout=60, what="four environments started ahead")
    client = client_for(daemon.endpoint)

    def one(i):
        r = invoke(client, name, {"id": i, "sleep": 1.5})
        return r["ResponseMetadata"]["RequestId"], json.loads(r["Body"])

    with ThreadPoolExecutor(max_workers=33) as pool:
        futures = [pool.submit(one, i) for i in range(32)]
        # Every slot is taken: one more is throttled, not queued behind a cold start.
        wait_for(lambda: status_of(daemon, name)["managedInstances"]["slotsInUse"] == 32, timeout=30,
                 what="all 32 slots in use")
        with pytest.raises(ClientError) as throttled:
            invoke(client, name, {"id": 32})
        answers = [f.result() for f in futures]
    err = throttled.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err["Error"]["Code"] == "TooManyRequestsException"
    for i, (request_id, body) in enumerate(answers):
        assert body["id"] == i and body["requestId"] == request_id, "each answer is its own invoke's"
        assert body["maxConcurrency"] == "8"
        assert body["initializationType"] == "lambda-managed-instances"
    assert len({body["environment"] for _, body in answers}) <= 4
    assert overlapping([body for _, body in answers]), "invokes ran side by side in one environment"
    if name == "PyShared":
        assert body["logFormat"] == "JSON"
        assert len({body["pid"] for _, body in answers}) > 4, "Python serves each slot in a process of its own"
    fn = status_of(daemon, name)
    assert fn["mode"] == "managed-instances" and fn["throttles"] >= 1 and fn["coldStarts"] == 0
    assert len([e for e in fn["environments"] if e["state"] != "dead"]) == 4
    assert all(e["slots"] == 8 for e in fn["environments"])


def test_a_post_for_another_request_id_is_refused(daemon):
    client = client_for(daemon.endpoint)
    first = json.loads(invoke(client, "WrongIds", {})["Body"])
    assert first["concurrency"] == "2"
    status, body = first["wrong"]
    assert status == 400 and body["errorType"] == "InvalidRequestID"
    second = json.loads(invoke(client, "WrongIds", {})["Body"])
    status, body = second["previousAgain"]
    assert status == 403, "a second answer for an invoke is a refused transition"
    assert body["errorType"] == "InvalidStateTransition"


def test_a_timeout_fails_the_invokes_beside_it(daemon):
    client = client_for(daemon.endpoint)
    wait_for(lambda: ready_environments(daemon, "PyTimeout"), timeout=30, what="the environment")
    [before] = ready_environments(daemon, "PyTimeout")
    results = {}

    def run(key, payload):
        try:
            r = invoke(client, "PyTimeout", payload)
            results[key] = (r.get("FunctionError"), json.loads(r["Body"]))
        except ClientError as e:  # reported below
            results[key] = ("ClientError", e.response["Error"])

    slow = threading.Thread(target=run, args=("slow", {"sleep": 10}))
    slow.start()
    wait_for(lambda: status_of(daemon, "PyTimeout")["managedInstances"]["slotsInUse"] == 1, what="the slow invoke")
    beside = [threading.Thread(target=run, args=(f"beside{i}", {"sleep": 10})) for i in range(2)]
    for t in beside:
        t.start()
    for t in [slow, *beside]:
        t.join(30)
    assert results["slow"][0] == "Unhandled" and results["slow"][1]["errorType"] == "Sandbox.Timedout"
    for key in ("beside0", "beside1"):
        error, body = results[key]
        assert error == "Unhandled" and body["errorType"] == "Sandbox.Failure", results[key]
        assert "timed out" in body["errorMessage"]
    answer = json.loads(invoke(client, "PyTimeout", {"sleep": 0})["Body"])
    after = [e for e in status_of(daemon, "PyTimeout")["environments"] if e["state"] != "dead"]
    assert [e["id"] for e in after] != [before["id"]], "the next call lands in a new environment"
    assert answer["initializationType"] == "lambda-managed-instances"


def test_configuration_shows_the_capacity_provider(daemon):
    with urllib.request.urlopen(f"{daemon.endpoint}/2015-03-31/functions/PyShared/configuration", timeout=10) as r:
        config = json.load(r)
    assert config["CapacityProviderConfig"] == {
        "LambdaManagedInstancesCapacityProviderConfig": {
            "CapacityProviderArn": "arn:aws:lambda:us-east-1:123456789012:capacity-provider:local",
            "PerExecutionEnvironmentMaxConcurrency": 8,
            "ExecutionEnvironmentMemoryGiBPerVCpu": 2.0}}


def test_logs_are_json_records_each_in_its_invokes_log(daemon):
    client = client_for(daemon.endpoint)

    def one(i):
        r = invoke(client, "PyShared", {"id": i, "log": f"hello {i}", "sleep": 0.3}, LogType="Tail")
        return r["ResponseMetadata"]["RequestId"], base64.b64decode(r["LogResult"]).decode()

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(one, range(4)))
    for i, (request_id, tail) in enumerate(answers):
        records = [json.loads(line) for line in tail.splitlines()]
        start, *app, report = records
        assert start["type"] == "platform.start" and start["record"]["requestId"] == request_id
        assert [(r["level"], r["message"], r["requestId"]) for r in app] == [("INFO", f"hello {i}", request_id)], \
            "only this invoke's own record, though four ran side by side"
        assert report["type"] == "platform.report"
        assert report["record"]["requestId"] == request_id and report["record"]["status"] == "success"
        assert report["record"]["metrics"]["memorySizeMB"] == 2048
    with urllib.request.urlopen(f"{daemon.endpoint}/2015-03-31/functions/PyShared/configuration", timeout=10) as r:
        assert json.load(r)["LoggingConfig"]["LogFormat"] == "JSON"
