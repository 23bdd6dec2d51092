"""A tiny custom runtime shared by the CLI test functions: calls handle(event, request_id, env)
from the function directory's handler.py and posts the result (or the error it raises)."""
import http.client
import importlib.util
import json
import os
import sys
import traceback

spec = importlib.util.spec_from_file_location("handler", os.path.join(os.getcwd(), "handler.py"))
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    event = json.loads(r.read())
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    try:
        result = mod.handle(event, rid, dict(os.environ))
        conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/response", json.dumps(result))
    except Exception as e:  # the function failed: report it like a runtime client does
        traceback.print_exc(file=sys.stdout)
        body = json.dumps({"errorMessage": str(e), "errorType": type(e).__name__})
        conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/error", body,
                     {"Lambda-Runtime-Function-Error-Type": "Function.Unhandled"})
    conn.getresponse().read()
