"""Three internal extensions that subscribe to the environment's telemetry, as observability agents
do: "telemetry" on the Telemetry API (schema from TELEMETRY_SCHEMA, types platform, function and
extension) with an HTTP destination, "stream" on the Telemetry API with a TCP destination (one
connection, a line of JSON per event), and "legacy" on the Logs API (2020-08-15). Each listens on
sandbox.localdomain (the environment's own address) and records every event it receives. SLOW_SECONDS makes the
Telemetry API listener sleep in each POST, as a subscriber that cannot keep up. The handler
prints LINES lines and returns what the listeners have received so far, and the answers to
subscriptions Lambda refuses."""
import http.server
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
SLOW = float(os.environ.get("SLOW_SECONDS", "0"))
SCHEMA = os.environ.get("TELEMETRY_SCHEMA", "2022-12-13")
RECEIVED = {"telemetry": [], "legacy": [], "stream": []}
ADDRESS = socket.gethostbyname("sandbox.localdomain")


def call(method, path, headers=None, body=None):
    request = urllib.request.Request("http://{}/{}".format(API, path), data=body, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def listen(name, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            batch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if SLOW and name == "telemetry":
                time.sleep(SLOW)
            RECEIVED[name].extend(batch)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("sandbox.localdomain", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def listen_tcp(port):
    server = socket.create_server(("sandbox.localdomain", port))

    def serve():
        connection, _ = server.accept()
        with connection.makefile("r") as lines:
            for line in lines:
                RECEIVED["stream"].append(json.loads(line))

    threading.Thread(target=serve, daemon=True).start()


def register(name):
    status, headers, _ = call("POST", "2020-01-01/extension/register", {"Lambda-Extension-Name": name},
                              json.dumps({"events": ["INVOKE"]}).encode())
    assert status == 200, status
    return headers["Lambda-Extension-Identifier"]


def subscribe(api, ext_id, body):
    status, _, text = call("PUT", api, {"Lambda-Extension-Identifier": ext_id, "Content-Type": "application/json"},
                           json.dumps(body).encode())
    return [status, json.loads(text) if text.startswith("{") else text]


TELEMETRY_ID = register("telemetry")
LEGACY_ID = register("legacy")
STREAM_ID = register("stream")
listen("telemetry", 4243)
listen("legacy", 4244)
listen_tcp(4245)
print("extension init done")  # a function line of the init phase
SUBSCRIPTION = {"schemaVersion": SCHEMA, "types": ["platform", "function", "extension"],
                "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
                "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:4243"}}
REFUSED = {
    "maxItems": subscribe("2022-07-01/telemetry", TELEMETRY_ID, dict(SUBSCRIPTION, buffering={"maxItems": 10})),
    "timeoutMs": subscribe("2022-07-01/telemetry", TELEMETRY_ID, dict(SUBSCRIPTION, buffering={"timeoutMs": 10})),
    "schema": subscribe("2022-07-01/telemetry", TELEMETRY_ID, dict(SUBSCRIPTION, schemaVersion="2020-01-01")),
    "types": subscribe("2022-07-01/telemetry", TELEMETRY_ID, dict(SUBSCRIPTION, types=["platform", "nope"])),
    "noId": subscribe("2022-07-01/telemetry", "", SUBSCRIPTION),
}
SUBSCRIBED = {
    "telemetry": subscribe("2022-07-01/telemetry", TELEMETRY_ID, SUBSCRIPTION),
    "legacy": subscribe("2020-08-15/logs", LEGACY_ID,
                        {"types": ["platform", "function"], "buffering": {"timeoutMs": 25},
                         "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:4244"}}),
    "stream": subscribe("2022-07-01/telemetry", STREAM_ID,
                        dict(SUBSCRIPTION, types=["platform"], destination={"protocol": "TCP", "port": 4245})),
}


def loop(ext_id):
    while True:
        call("GET", "2020-01-01/extension/event/next", {"Lambda-Extension-Identifier": ext_id})


threading.Thread(target=loop, args=(TELEMETRY_ID,), daemon=True).start()
threading.Thread(target=loop, args=(LEGACY_ID,), daemon=True).start()
threading.Thread(target=loop, args=(STREAM_ID,), daemon=True).start()


def handler(event, context):
    for i in range(int(event.get("lines", 1))):
        print("line {} of {}".format(i, context.aws_request_id))
    # Until the listeners have the last report asked for (it comes after its invoke has ended).
    deadline = time.time() + float(event.get("wait", 5))
    want = event.get("reportOf")
    while want and time.time() < deadline:
        if all(any(e["type"] == "platform.report" and e["record"]["requestId"] == want for e in events)
               for events in RECEIVED.values()):
            break
        time.sleep(0.02)
    late = subscribe("2022-07-01/telemetry", TELEMETRY_ID, SUBSCRIPTION)
    return {"address": ADDRESS, "refused": REFUSED, "subscribed": SUBSCRIBED, "late": late,
            "telemetry": RECEIVED["telemetry"][:], "legacy": RECEIVED["legacy"][:], "stream": RECEIVED["stream"][:]}
