"""A function whose layer brings two external extensions; it returns what they recorded."""
import json
import os
import time

STARTED = time.monotonic()  # the runtime starts once every external extension has registered


def lines(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def handler(event, context):
    if event.get("exit"):
        os._exit(event["exit"])
    time.sleep(event.get("sleep", 0))
    deadline = time.time() + 5
    mine = lambda rs: any(r.get("event", r).get("requestId") == context.aws_request_id for r in rs)  # noqa: E731
    while time.time() < deadline and not (mine(lines("/tmp/recorder.log")) and mine(lines("/tmp/shell-probe.log"))):
        time.sleep(0.01)
    return {"recorder": lines("/tmp/recorder.log"), "shell": lines("/tmp/shell-probe.log"), "started": STARTED,
            "pid": os.getpid(), "pgid": os.getpgid(0), "cgroup": open("/proc/self/cgroup").read()}
