"""Event invocations through boto3 against the real daemon: the 202, retries with one request
id, Lambda and SQS destinations, dead-letter queues, reserved concurrency 0, the durable spool
across a SIGKILL, and a spool that cannot be written (docs/decisions/006).

Retries are scaled with --async-retry-base 10ms (Lambda waits about 1 and 2 minutes).
"""
import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import FUNCTIONS, LAMBDAD, Daemon, lambda_client, wait_for

TEMPLATE = FUNCTIONS / "async" / "template.yaml"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FAILURE_QUEUE = "sqs-arn_aws_sqs_us-east-1_123456789012_async-failures.jsonl"
DEAD_LETTERS = "dlq-sqs-arn_aws_sqs_us-east-1_123456789012_async-dead-letters.jsonl"


# ---------------------------------------------------------------------------------------------
# helpers

def send_event(client, name, event):
    """One Event invoke; returns (StatusCode, request id, payload bytes)."""
    r = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event))
    return r["StatusCode"], r["ResponseMetadata"]["RequestId"], r["Payload"].read()


def lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [line for line in f.read().splitlines() if line]
    except FileNotFoundError:
        return []


def json_lines(path):
    return [json.loads(line) for line in lines(path)]


def status(daemon):
    with urllib.request.urlopen(f"{daemon.endpoint}/_lambdad/status", timeout=10) as r:
        body = json.loads(r.read())
    return {f["name"]: f for f in body["functions"]}, body


def spooled(state):
    return sorted(p for p in os.listdir(state / "events") if p.endswith(".event"))


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state"


@pytest.fixture
def daemon(start_daemon, state):
    return start_daemon(TEMPLATE, "--state-dir", str(state), "--async-retry-base", "10ms")


@pytest.fixture
def client(daemon):
    return lambda_client(daemon.endpoint)


# ---------------------------------------------------------------------------------------------
# tests

def test_boto3_gets_202_with_the_request_id_and_no_payload(client, host_dir):
    code, request_id, payload = send_event(client, "Flaky", {"dir": str(host_dir)})
    assert code == 202
    assert UUID.match(request_id), request_id
    assert payload == b""
    # The function runs afterwards under the same request id.
    wait_for(lambda: lines(host_dir / "flaky.ids"), what="the function to run")
    assert lines(host_dir / "flaky.ids") == [request_id]


def test_failing_twice_then_succeeding_runs_three_times_with_one_request_id(client, daemon, host_dir):
    event = {"dir": str(host_dir), "fail_times": 2}
    code, request_id, _ = send_event(client, "Flaky", event)
    assert code == 202

    records = wait_for(lambda: json_lines(host_dir / "destination.jsonl"), what="the OnSuccess record")
    assert lines(host_dir / "flaky.ids") == [request_id] * 3
    assert len(records) == 1
    delivered = records[0]
    assert delivered["requestId"] != request_id  # the destination's own Event invocation
    record = delivered["record"]
    assert list(record) == ["version", "timestamp", "requestContext", "requestPayload", "responseContext",
                            "responsePayload"]
    assert record["version"] == "1.0"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", record["timestamp"])
    assert record["requestContext"] == {"requestId": request_id, "functionArn": ARN + "Flaky:$LATEST",
                                        "condition": "Success", "approximateInvokeCount": 3}
    assert record["requestPayload"] == event
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"attempt": 3, "requestId": request_id}

    time.sleep(0.2)  # nothing else arrives: one record, no fourth run
    assert len(json_lines(host_dir / "destination.jsonl")) == 1
    assert len(lines(host_dir / "flaky.ids")) == 3
    counters = status(daemon)[0]["Flaky"]["async"]
    assert counters["accepted"] == 1 and counters["retries"] == 2 and counters["succeeded"] == 1
    assert counters["failed"] == 0 and counters["queued"] == 0 and counters["inFlight"] == 0
    assert re.search(rf"\[Flaky\] \[{request_id}\] Event invocation failed \(attempt 1 of 3\); retrying in 10 ms",
                     daemon.logs())
    assert re.search(rf"\[Flaky\] \[{request_id}\] Event invocation failed \(attempt 2 of 3\); retrying in 20 ms",
                     daemon.logs())


def test_always_failing_function_ends_in_on_failure_with_retries_exhausted(client, daemon, host_dir):
    event = {"dir": str(host_dir)}
    _, request_id, _ = send_event(client, "AlwaysFails", event)

    records = wait_for(lambda: json_lines(host_dir / "destination.jsonl"), what="the OnFailure record")
    assert lines(host_dir / "fail.ids") == [request_id] * 3
    record = records[0]["record"]
    assert record["requestContext"] == {"requestId": request_id, "functionArn": ARN + "AlwaysFails:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == event
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "this function always fails"
    assert record["responsePayload"]["requestId"] == request_id
    counters = status(daemon)[0]["AlwaysFails"]["async"]
    assert counters["failed"] == 1 and counters["retries"] == 2


def test_sqs_on_failure_and_dead_letter_queue_are_written_as_json_lines(client, state, host_dir):
    event = {"dir": str(host_dir), "n": 7}
    _, request_id, _ = send_event(client, "FailsToQueue", event)

    records = wait_for(lambda: json_lines(state / "destinations" / FAILURE_QUEUE), what="the SQS record")
    assert len(lines(host_dir / "fail.ids")) == 2  # MaximumRetryAttempts: 1
    record = records[0]
    assert record["requestContext"] == {"requestId": request_id, "functionArn": ARN + "FailsToQueue:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 2}
    assert record["requestPayload"] == event
    assert record["responseContext"]["functionError"] == "Unhandled"

    dead = wait_for(lambda: json_lines(state / "destinations" / DEAD_LETTERS), what="the dead letter")
    assert json.loads(dead[0]["Body"]) == event
    attributes = dead[0]["MessageAttributes"]
    assert attributes["RequestID"] == {"DataType": "String", "StringValue": request_id}
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"] == {"DataType": "String", "StringValue": "this function always fails"}
    wait_for(lambda: not spooled(state), what="the spool to empty")


def test_reserved_concurrency_zero_fails_without_running(client, state, host_dir):
    _, request_id, _ = send_event(client, "NeverRuns", {"dir": str(host_dir), "n": 1})
    records = wait_for(lambda: json_lines(state / "destinations" / FAILURE_QUEUE), what="the SQS record")
    assert records[0]["requestContext"] == {"requestId": request_id, "functionArn": ARN + "NeverRuns:$LATEST",
                                            "condition": "ZeroReservedConcurrency", "approximateInvokeCount": 0}
    assert "responseContext" not in records[0] and "responsePayload" not in records[0]
    assert not lines(host_dir / "marks.txt")


def test_accepted_events_survive_sigkill_and_run_after_restart(start_daemon, state, host_dir):
    """200 Event invokes, SIGKILL right after the last 202, restart on the same --state-dir:
    every accepted event runs. Delivery is at least once (decision 006): an event whose run was
    cut short by the kill may run twice, so the test counts distinct request ids."""
    first = Daemon(TEMPLATE, "--state-dir", str(state), "--async-retry-base", "10ms")
    try:
        client = lambda_client(first.endpoint)
        sent = {}
        for n in range(200):
            code, request_id, _ = send_event(client, "Marker", {"dir": str(host_dir), "n": n, "sleep": 0.05})
            assert code == 202
            sent[request_id] = n
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(10)
    finally:
        if first.proc.poll() is None:
            os.killpg(first.proc.pid, signal.SIGKILL)
            first.proc.wait(10)
    ran_before = {line.split()[0] for line in lines(host_dir / "marks.txt")}
    left = spooled(state)
    assert left, "four at a time, 50 ms each: the kill must catch events in the spool"
    assert len(left) + len(ran_before) >= 200, "every accepted event either ran or is still spooled"

    second = start_daemon(TEMPLATE, "--state-dir", str(state), "--async-retry-base", "10ms")
    wait_for(lambda: not spooled(state), timeout=180, what="the spool to empty after the restart")
    runs = [line.split() for line in lines(host_dir / "marks.txt")]
    ran = {request_id: int(n) for request_id, n in runs}
    missing = set(sent) - set(ran)
    assert not missing, f"{len(missing)} accepted events never ran"
    assert all(ran[request_id] == n for request_id, n in sent.items())
    duplicates = len(runs) - len(ran)
    print(f"{len(left)} events were still spooled at the kill; {duplicates} ran twice (at least once)")
    assert re.search(rf"replaying {len(left)} Event invocation\(s\)", second.logs())


def test_event_that_cannot_be_spooled_is_refused_with_500(client, state, host_dir):
    # The spool directory turns into a file: no event can be made durable, so none is accepted.
    (state / "events").rmdir()
    (state / "events").write_text("not a directory")
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName="Flaky", InvocationType="Event", Payload=json.dumps({"dir": str(host_dir)}))
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error["Error"]["Code"] == "ServiceException"
    assert error["Error"]["Message"].startswith("The event could not be queued: ")
    assert error["ResponseMetadata"]["RequestId"]
    (state / "events").unlink()
    (state / "events").mkdir()
    time.sleep(0.2)
    assert not lines(host_dir / "flaky.ids")


def test_a_second_daemon_cannot_share_the_state_directory(daemon, state):
    proc = subprocess.run([LAMBDAD, "serve", "--template", str(TEMPLATE), "--port", "0", "--state-dir", str(state)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "is in use by another lambdad" in proc.stderr


def test_without_state_dir_events_still_run(start_daemon, host_dir):
    d = start_daemon(TEMPLATE, "--async-retry-base", "10ms")
    _, request_id, _ = send_event(lambda_client(d.endpoint), "Flaky", {"dir": str(host_dir)})
    wait_for(lambda: lines(host_dir / "flaky.ids"), what="the function to run")
    assert lines(host_dir / "flaky.ids") == [request_id]
    d.wait_for_log(re.escape("until this daemon exits (--state-dir keeps them)"))
