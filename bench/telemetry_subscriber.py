#!/usr/bin/python3
"""A Telemetry API subscriber (bench/extensions.sh): an external extension that registers for no
event (so the invokes measure the telemetry's cost, not a Python extension's /event/next loop),
listens on sandbox.localdomain:4243, subscribes to the platform and function streams with a 25 ms
batch timeout, and counts what it receives."""
import http.server
import json
import os
import threading
import urllib.request

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
NAME = os.path.basename(__file__)
RECEIVED = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        RECEIVED[0] += len(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def call(method, path, headers, body=None):
    request = urllib.request.Request("http://{}/{}".format(API, path), data=body, method=method, headers=headers)
    with urllib.request.urlopen(request) as r:
        return dict(r.headers), r.read()


server = http.server.ThreadingHTTPServer(("sandbox.localdomain", 4243), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
headers, _ = call("POST", "2020-01-01/extension/register", {"Lambda-Extension-Name": NAME},
                  json.dumps({"events": []}).encode())
ID = headers["Lambda-Extension-Identifier"]
call("PUT", "2022-07-01/telemetry", {"Lambda-Extension-Identifier": ID, "Content-Type": "application/json"},
     json.dumps({"schemaVersion": "2022-12-13", "types": ["platform", "function"],
                 "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
                 "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:4243"}}).encode())
# Its init is done: the first /event/next waits for an event that never comes.
call("GET", "2020-01-01/extension/event/next", {"Lambda-Extension-Identifier": ID})
