"""python3.12 functions for the Event invocation tests (tests/e2e/test_async.py).

Functions get a private /tmp, so everything the test reads goes to event["dir"], a host
directory the test passes in the payload (destination functions find it in requestPayload).
"""
import json
import os
import time


def _append(directory, name, line):
    with open(os.path.join(directory, name), "a", encoding="utf-8") as f:
        f.write(line + "\n")


def flaky(event, context):
    """Fails event["fail_times"] times, then succeeds; records every request id it is run with."""
    _append(event["dir"], "flaky.ids", context.aws_request_id)
    with open(os.path.join(event["dir"], "flaky.ids"), encoding="utf-8") as f:
        attempt = sum(1 for _ in f)
    if attempt <= event.get("fail_times", 0):
        raise RuntimeError(f"attempt {attempt} fails on purpose")
    return {"attempt": attempt, "requestId": context.aws_request_id}


def always_fail(event, context):
    _append(event["dir"], "fail.ids", context.aws_request_id)
    raise ValueError("this function always fails")


def record(event, context):
    """A destination: keeps each record it receives, with the request id it ran under."""
    directory = event["requestPayload"]["dir"]
    _append(directory, "destination.jsonl", json.dumps({"record": event, "requestId": context.aws_request_id}))
    return None


def mark(event, context):
    """For the durability test: one line per run, the request id and the event's number. Takes
    event["sleep"] seconds first, so that a burst outlasts its own sending."""
    time.sleep(event.get("sleep", 0))
    _append(event["dir"], "marks.txt", f"{context.aws_request_id} {event['n']}")
    return {"n": event["n"]}
