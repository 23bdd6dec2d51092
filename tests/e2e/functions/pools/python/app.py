"""python3.12 functions for the pool, scaling and throttling tests (tests/e2e/test_pools.py)."""
import json
import os
import time
import urllib.request

# Module state lives as long as the execution environment: a fresh environment starts at 0.
COUNT = 0


def counter(event, context):
    """Counts the invokes this environment has served; can time out ({"sleep": s}) or crash
    ({"exit": n}) on request."""
    global COUNT
    COUNT += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if "exit" in event:
        os._exit(event["exit"])
    return {
        "count": COUNT,
        "pid": os.getpid(),
        "initializationType": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
        "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
        "functionVersion": context.function_version,
        "invokedArn": context.invoked_function_arn,
    }


def hold(event, context):
    """Occupies its environment: sleeps {"hold_s": s}, or waits at the test's barrier
    ({"barrier": url}, which answers once enough callers are inside). Returns its wall-clock
    interval so the test can compute how many invokes overlapped."""
    start = time.time()
    met = None
    if event.get("barrier"):
        url = f"{event['barrier']}?pid={os.getpid()}"
        with urllib.request.urlopen(url, timeout=event.get("wait_s", 30) + 5) as r:
            met = json.loads(r.read())["met"]
    if event.get("hold_s"):
        time.sleep(event["hold_s"])
    return {"start": start, "end": time.time(), "pid": os.getpid(), "met": met}
