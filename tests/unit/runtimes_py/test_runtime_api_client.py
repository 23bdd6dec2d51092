"""Unit tests of the Python runtime client's HTTP to the Runtime API against a raw TCP server on
loopback: response framings, reconnects, the 413 a too large response gets, and that patches of
http.client, urllib, socket.create_connection and socket.socket made after the runtime was
imported (as a function's libraries would make them) never see the runtime's requests."""
import http.client
import pathlib
import socket
import sys
import threading
import unittest
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "runtimes" / "python"))

from lambdad_runtime.runtime_api_client import RuntimeApiClient, RuntimeApiError  # noqa: E402

_Socket = socket.socket  # the server's own, whatever a test patches
NEXT_HEADERS = b"Lambda-Runtime-Aws-Request-Id: id-1\r\nLambda-Runtime-Deadline-Ms: 123\r\n"


def reply(status, body, extra=b""):
    return (b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
            % (status, len(body), extra, body))


class ScriptedServer:
    """Answers each request (Content-Length bodies) with `self.reply(head, body)`: the raw
    response bytes and whether to close the connection after them."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.requests = []
        self.connections = 0
        self.reply = lambda head, body: (reply(202, b'{"status":"OK"}\n'), False)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                fd, _ = self.listener._accept()
                conn = _Socket(fileno=fd)
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        with conn:
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                    continue
                head = buf[:end].decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                while len(buf) < end + 4 + length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                body, buf = buf[end + 4:end + 4 + length], buf[end + 4 + length:]
                self.requests.append((head, body))
                raw, close = self.reply(head, body)
                conn.sendall(raw)
                if close:
                    return

    def close(self):
        self.listener.close()


class RuntimeApiClientTest(unittest.TestCase):
    def setUp(self):
        self.server = ScriptedServer()
        self.addCleanup(self.server.close)
        self.client = RuntimeApiClient("127.0.0.1:{}".format(self.server.port))
        self.addCleanup(self.client._conn.close)

    def test_next_with_content_length_chunked_and_close_delimited_bodies(self):
        self.server.reply = lambda h, b: (reply(200, b'{"a":1}', NEXT_HEADERS), False)
        inv = self.client.next_invocation()
        self.assertEqual((inv.body, inv.request_id, inv.deadline_ms), (b'{"a":1}', "id-1", 123))
        self.server.reply = lambda h, b: (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + NEXT_HEADERS +
            b"\r\n3\r\n{\"b\r\n4;x=y\r\n\":2}\r\n0\r\nX-T: 1\r\n\r\n", False)
        self.assertEqual(self.client.next_invocation().body, b'{"b":2}')
        self.assertEqual(self.server.connections, 1, "one kept-alive connection")
        self.server.reply = lambda h, b: (
            b"HTTP/1.1 200 OK\r\n" + NEXT_HEADERS + b"Connection: close\r\n\r\n{\"c\":3}", True)
        self.assertEqual(self.client.next_invocation().body, b'{"c":3}')
        self.server.reply = lambda h, b: (reply(202, b'{"status":"OK"}\n'), False)
        self.client.post_response("id-1", b'{"d":4}', "application/json")
        self.assertEqual(self.server.connections, 2, "the closed connection is replaced")
        head, body = self.server.requests[-1]
        self.assertTrue(head.startswith("POST /2018-06-01/runtime/invocation/id-1/response HTTP/1.1\r\n"))
        self.assertIn("\r\nContent-Type: application/json", head)
        self.assertEqual(body, b'{"d":4}')

    def test_a_response_refused_with_413_is_not_fatal(self):
        self.server.reply = lambda h, b: (reply(
            413, b'{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).",'
                 b'"errorType":"RequestEntityTooLarge"}', b"Connection: close\r\n"), True)
        self.client.post_response("id-2", b"x" * 100000, "application/json")  # no exception
        self.server.reply = lambda h, b: (reply(200, b"{}", NEXT_HEADERS), False)
        self.assertEqual(self.client.next_invocation().body, b"{}")

    def test_other_statuses_stay_fatal(self):
        self.server.reply = lambda h, b: (reply(400, b'{"errorType":"InvalidRequestID"}'), False)
        with self.assertRaises(RuntimeApiError):
            self.client.post_response("id-3", b"{}", "application/json")
        with self.assertRaises(RuntimeApiError):
            self.client.post_error("id-3", {"errorType": "E", "errorMessage": "m"})

    def test_request_ids_are_percent_encoded_in_paths(self):
        rid = "a b/c?d=\u00e9%~_.-Z9"
        self.client.post_response(rid, b"{}", "application/json")
        head, _ = self.server.requests[-1]
        # urllib.parse.quote(rid, safe=""), which the client no longer imports at start.
        self.assertTrue(head.startswith("POST /2018-06-01/runtime/invocation/a%20b%2Fc%3Fd%3D%C3%A9%25~_.-Z9/response "),
                        head)

    def test_error_type_header(self):
        self.client.post_error("id-4", {"errorMessage": "bad", "errorType": "TypeError"})
        head, _ = self.server.requests[-1]
        self.assertIn("\r\nLambda-Runtime-Function-Error-Type: TypeError", head)

    def test_patched_http_client_urllib_and_socket_see_nothing(self):
        calls = []

        def trap(name):
            def patched(*args, **kwargs):
                calls.append(name)
                raise RuntimeError(name + " patched")
            return patched

        saved = [(http.client.HTTPConnection, "request"), (http.client.HTTPConnection, "connect"),
                 (socket, "create_connection"), (urllib.request, "urlopen"),
                 (socket.socket, "connect")]
        originals = [(owner, name, owner.__dict__.get(name)) for owner, name in saved]
        original_socket = socket.socket
        for owner, name in saved:
            setattr(owner, name, trap(name))
        socket.socket = trap("socket.socket")
        try:
            self.client._conn.close()  # a fresh connection under the patches
            self.server.reply = lambda h, b: (reply(200, b'{"e":5}', NEXT_HEADERS), False)
            self.assertEqual(self.client.next_invocation().body, b'{"e":5}')
            self.server.reply = lambda h, b: (reply(202, b'{"status":"OK"}\n'), False)
            self.client.post_response("id-1", b'{"f":6}', "application/json")
        finally:
            socket.socket = original_socket
            for owner, name, value in originals:
                if value is None:
                    delattr(owner, name)
                else:
                    setattr(owner, name, value)
        self.assertEqual(calls, [])
        self.assertEqual(self.server.requests[-1][1], b'{"f":6}')


if __name__ == "__main__":
    unittest.main()
