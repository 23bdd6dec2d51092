"""A function for the security tests.

- {"mode": "env"}: returns os.environ, to check what the daemon's environment lets through.
- {"mode": "wait", "dir": D}: writes its request id to D/<id>.started, then waits for D/<id>.go
  and returns its request id: an invoke held in flight in its own environment.
- {"mode": "steal", "id": ID, "api": HOST:PORT}: posts a /response and an /error for ID ("self":
  its own request id) to the Runtime API at HOST:PORT (default: its own environment's) and
  returns the statuses and bodies it got (status null: the connection was refused or reset).
- anything else: the event and the request id.
"""
import json
import os
import time
import urllib.error
import urllib.request


def post(api, path, body):
    url = f"http://{api}/2018-06-01/runtime/invocation/{path}"
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return {"status": r.status, "body": r.read().decode()}
    except urllib.error.HTTPError as e:
        return {"status": e.code, "body": e.read().decode()}
    except (urllib.error.URLError, ConnectionError) as e:  # refused or reset: no answer at all
        return {"status": None, "body": repr(e)}


def handler(event, context):
    mode = event.get("mode") if isinstance(event, dict) else None
    if mode == "env":
        return dict(os.environ)
    if mode == "wait":
        d = event["dir"]
        with open(os.path.join(d, context.aws_request_id + ".started"), "w") as f:
            f.write(os.environ["AWS_LAMBDA_RUNTIME_API"])
        deadline = time.monotonic() + 25
        while not os.path.exists(os.path.join(d, context.aws_request_id + ".go")):
            if time.monotonic() > deadline:
                raise TimeoutError("never told to go")
            time.sleep(0.02)
        return {"requestId": context.aws_request_id, "mode": "wait"}
    if mode == "steal":
        other = context.aws_request_id if event["id"] == "self" else event["id"]
        api = event.get("api") or os.environ["AWS_LAMBDA_RUNTIME_API"]
        return {
            "requestId": context.aws_request_id,
            "runtimeApi": os.environ["AWS_LAMBDA_RUNTIME_API"],
            "response": post(api, f"{other}/response", json.dumps({"stolen": True}).encode()),
            "error": post(api, f"{other}/error",
                          json.dumps({"errorMessage": "stolen", "errorType": "Stolen"}).encode()),
        }
    return {"requestId": context.aws_request_id, "event": event}
