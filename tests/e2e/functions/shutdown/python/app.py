import os
import subprocess
import sys
import time

# A process that would outlive a careless daemon: `sleep` in Python, so that it carries the
# function's environment (the tests find it by a marker variable there).
SLEEP_FOREVER = [sys.executable, "-c", "import time; time.sleep(1000)"]


def handler(event, context):
    if event.get("spawn"):
        quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        # One in the runtime's process group, one that left it (a session of its own, as a
        # double-forked daemon does).
        subprocess.Popen(SLEEP_FOREVER, **quiet)
        subprocess.Popen(SLEEP_FOREVER, start_new_session=True, **quiet)
    print(f"sleeping {event.get('sleep', 0)} s", flush=True)
    time.sleep(event.get("sleep", 0))
    return {"slept": event.get("sleep", 0)}


def first_attempt_fails(event, context):
    """For the spool test: the first attempt of each event fails, the retry succeeds; every run
    leaves a line in event["dir"]/runs.txt."""
    time.sleep(event.get("sleep", 0))
    tries = os.path.join(event["dir"], "tries")
    os.makedirs(tries, exist_ok=True)
    marker = os.path.join(tries, context.aws_request_id)
    first = not os.path.exists(marker)
    with open(marker, "a", encoding="utf-8") as f:
        f.write("x")
    with open(os.path.join(event["dir"], "runs.txt"), "a", encoding="utf-8") as f:
        f.write(f"{context.aws_request_id} {event['n']}\n")
    if first:
        raise RuntimeError("the first attempt fails on purpose")
    return {"n": event["n"]}
