"""python3.12 handlers for the control-plane tests (tests/e2e/test_control_plane.py).

The tests zip this directory at test time and add `code_version.txt` ("v1", "v2", ...), so one
source serves every code version: a result names the code that produced it. The template's
functions use the directory as is (no code_version.txt: version "template").

Functions get a private /tmp, so files the test reads are written to host paths (under /var/tmp)
the test passes in the event or the function's environment.
"""
import json
import os
import time

_HERE = os.path.dirname(os.path.abspath(__file__))


def _code_version():
    try:
        with open(os.path.join(_HERE, "code_version.txt"), encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        return "template"


CODE_VERSION = _code_version()


def _append(path, line):
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def handler(event, context):
    """Echo: which code ran, under which function version, with which environment."""
    return {
        "runtime": "python",
        "code": CODE_VERSION,
        "functionName": context.function_name,
        "functionVersion": context.function_version,
        "memory": context.memory_limit_in_mb,
        "remainingMs": context.get_remaining_time_in_millis(),
        "greeting": os.environ.get("GREETING"),
        "event": event,
    }


def sleep(event, context):
    """Sleeps event["sleep"] seconds (for concurrency enforcement)."""
    time.sleep(float(event.get("sleep", 0)))
    return {"code": CODE_VERSION, "slept": event.get("sleep", 0)}


def fail(event, context):
    """Always fails; first appends its request id to event["run_file"] when given."""
    if isinstance(event, dict) and event.get("run_file"):
        _append(event["run_file"], context.aws_request_id)
    raise ValueError("control plane test function fails")


def record(event, context):
    """A destination / side-effect recorder: appends every event it gets to a file: RECORD_FILE
    from the environment, else event["record_file"], else (for a destination record) the
    record_file of the original event, requestPayload."""
    path = os.environ.get("RECORD_FILE") or event.get("record_file") \
        or (event.get("requestPayload") or {}).get("record_file")
    _append(path, json.dumps({"event": event, "requestId": context.aws_request_id}))
    return None
