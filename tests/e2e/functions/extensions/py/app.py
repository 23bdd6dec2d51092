"""An internal extension (a thread of the runtime's process, as Lambda's internal extensions are):
it registers at init, takes a second to finish its own init, then records every event it gets
and works 0.3 s after each invoke. The handler returns what it saw, and the Extensions API's
answers to calls Lambda refuses."""
import json
import os
import threading
import time
import urllib.error
import urllib.request

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
EVENTS = []
STATE = {"busy": None}  # the request id the extension works on


def call(method, path, headers=None, body=None):
    request = urllib.request.Request("http://{}/2020-01-01/extension/{}".format(API, path), data=body,
                                     method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


status, headers, body = call("POST", "register", {"Lambda-Extension-Name": "probe",
                                                  "Lambda-Extension-Accept-Feature": "accountId"},
                             json.dumps({"events": ["INVOKE"]}).encode())
ID = headers.get("Lambda-Extension-Identifier")
REGISTERED = {"status": status, "body": json.loads(body), "id": ID}
REFUSED = {
    "shutdownForInternal": call("POST", "register", {"Lambda-Extension-Name": "bad"}, b'{"events":["SHUTDOWN"]}'),
    "noName": call("POST", "register", {}, b'{"events":["INVOKE"]}'),
    "sameName": call("POST", "register", {"Lambda-Extension-Name": "probe"}, b'{"events":["INVOKE"]}'),
    "noId": call("GET", "event/next"),
    "badId": call("GET", "event/next", {"Lambda-Extension-Identifier": "nope"}),
    "unknownId": call("GET", "event/next", {"Lambda-Extension-Identifier": "00000000-0000-4000-8000-000000000000"}),
    "initErrorWithoutType": call("POST", "init/error", {"Lambda-Extension-Identifier": ID}),
}
REFUSED = {k: [v[0], json.loads(v[2])] for k, v in REFUSED.items()}


def loop():
    time.sleep(1)  # the extension's own init: the function's init lasts until it is done
    while True:
        status, headers, body = call("GET", "event/next", {"Lambda-Extension-Identifier": ID})
        STATE["busy"] = json.loads(body).get("requestId")
        EVENTS.append({"status": status, "event": json.loads(body),
                       "eventId": headers.get("Lambda-Extension-Event-Identifier")})
        time.sleep(0.3)  # after the runtime has answered: the next invoke waits for this
        STATE["busy"] = None


threading.Thread(target=loop, daemon=True).start()


def handler(event, context):
    # Still at work on an earlier invoke? (Its INVOKE for this one may already have come.)
    busy_at_start = STATE["busy"] not in (None, context.aws_request_id)
    deadline = time.time() + 5
    while not any(e["event"].get("requestId") == context.aws_request_id for e in EVENTS) and time.time() < deadline:
        time.sleep(0.01)
    late = call("POST", "register", {"Lambda-Extension-Name": "late"}, b'{"events":["INVOKE"]}')
    return {
        "pid": os.getpid(),
        "busyAtStart": busy_at_start,
        "registered": REGISTERED,
        "refused": REFUSED,
        "late": [late[0], json.loads(late[2])],
        "events": EVENTS[:],
        "arn": context.invoked_function_arn,
        "deadlineMs": int(time.time() * 1000) + context.get_remaining_time_in_millis(),
    }
