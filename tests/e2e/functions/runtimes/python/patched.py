"""A function whose module-level code patches every HTTP entry point a library might patch
(the X-Ray SDK, requests-mock, gevent): each patch records its call and raises. The runtime's own
requests to the Runtime API must reach none of them (tests/e2e/test_runtimes.py)."""
import http.client
import socket
import urllib.request

CALLS = []


def _trap(name):
    def patched(*args, **kwargs):
        CALLS.append(name)
        raise RuntimeError(name + " is patched by the function")
    return patched


http.client.HTTPConnection.request = _trap("HTTPConnection.request")
http.client.HTTPConnection.connect = _trap("HTTPConnection.connect")
socket.create_connection = _trap("socket.create_connection")
socket.socket.connect = _trap("socket.socket.connect")
urllib.request.urlopen = _trap("urllib.request.urlopen")


def handler(event, context):
    return {"calls": CALLS}
