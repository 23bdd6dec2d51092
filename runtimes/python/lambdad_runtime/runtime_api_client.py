"""HTTP client of the Runtime API (2018-06-01) over one keep-alive connection.

The HTTP/1.1 framing is our own, over the socket type and functions of the C module `_socket`,
taken when this module is imported (before the function's code), so that a library that patches
http.client, urllib, socket.create_connection or socket.socket (X-Ray, requests-mock, gevent)
neither sees nor disturbs the runtime's own requests. (`_socket` rather than `socket`: the
wrapper module, with the enum and selectors modules it imports, would add to every cold start.)

Any status other than the documented success (200 for /next, 202 for posts) raises
RuntimeApiError; the runtime then exits, as the official clients do. Except 413 for a response:
the invoke has failed (Function.ResponseSizeTooLarge) and the runtime goes on to the next one.
"""
import _socket as _socket_module

from .marshaller import to_json

_Socket = _socket_module.socket
_getaddrinfo = _socket_module.getaddrinfo
_connect = _Socket.connect
_sendall = _Socket.sendall
_recv = _Socket.recv
_close = _Socket.close
_setsockopt = _Socket.setsockopt
_SOCK_STREAM = _socket_module.SOCK_STREAM
_IPPROTO_TCP = _socket_module.IPPROTO_TCP
_TCP_NODELAY = _socket_module.TCP_NODELAY

_PREFIX = "/2018-06-01/runtime"
# What a request id may keep as it is in a path (urllib.parse.quote(id, safe="")).
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
# X-Ray error causes above this size are dropped (Lambda caps the header below 1 MiB).
_MAX_XRAY_CAUSE = 1024 * 1024


class RuntimeApiError(Exception):
    def __init__(self, endpoint, status, body):
        self.status = status
        super().__init__("Request to Lambda Runtime '{}' endpoint failed. Reason: '{}'. "
                         "Response body: '{}'".format(endpoint, status, body))


class ConnectionClosed(OSError):
    """The server closed the connection before the response was complete."""


class Headers:
    """Response headers, looked up by name in any case (repeated ones joined with ", ")."""

    def __init__(self):
        self._items = {}

    def add(self, name, value):
        key = name.lower()
        self._items[key] = self._items[key] + ", " + value if key in self._items else value

    def get(self, name, default=None):
        return self._items.get(name.lower(), default)


class HttpConnection:
    """One kept-alive HTTP/1.1 connection; requests go one at a time, with a complete body.
    Responses are framed by Content-Length, chunked encoding or the end of the connection."""

    def __init__(self, host, port):
        self._host = host
        self._port = port
        self._sock = None
        self._buf = b""
        self._used = False  # the open connection already carried a complete exchange

    def close(self):
        if self._sock is not None:
            _close(self._sock)
        self._sock = None
        self._buf = b""

    def _open(self):
        error = None
        # A str host goes through the idna codec, whose import (with re and enum) would cost a
        # cold start more than all of the runtime's own modules; an ASCII name needs none.
        host = self._host.encode("ascii") if self._host.isascii() else self._host
        for family, _, proto, _, address in _getaddrinfo(host, self._port, 0, _SOCK_STREAM):
            sock = _Socket(family, _SOCK_STREAM, proto)
            try:
                _connect(sock, address)
            except OSError as e:
                _close(sock)
                error = e
                continue
            _setsockopt(sock, _IPPROTO_TCP, _TCP_NODELAY, 1)
            self._sock, self._buf, self._used = sock, b"", False
            return
        raise error or OSError("cannot resolve {}".format(self._host))

    def request(self, method, path, body=None, headers=None):
        """Returns (status, Headers, body bytes). When a kept-alive connection turns out to be
        closed by the server before it answered, reconnects and sends once more."""
        head = "{} {} HTTP/1.1\r\nHost: {}:{}\r\n".format(method, path, self._host, self._port)
        for name, value in (headers or {}).items():
            head += "{}: {}\r\n".format(name, value)
        body = body or b""
        if body or method != "GET":
            head += "Content-Length: {}\r\n".format(len(body))
        message = (head + "\r\n").encode("latin-1") + body
        for attempt in (1, 2):
            reused = self._sock is not None and self._used
            if self._sock is None:
                self._open()
            try:
                _sendall(self._sock, message)
                status, response_headers, data, keep_alive = self._read_response()
            except OSError:
                self.close()
                if attempt == 2 or not reused:
                    raise
                continue
            if keep_alive:
                self._used = True
            else:
                self.close()
            return status, response_headers, data

    def _fill(self):
        data = _recv(self._sock, 65536)
        if not data:
            raise ConnectionClosed("the Runtime API closed the connection")
        self._buf += data

    def _read_line(self):
        while True:
            end = self._buf.find(b"\r\n")
            if end >= 0:
                line, self._buf = self._buf[:end], self._buf[end + 2:]
                return line
            self._fill()

    def _read_exact(self, n):
        while len(self._buf) < n:
            self._fill()
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _read_response(self):
        while True:
            status_line = self._read_line().decode("latin-1")
            parts = status_line.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise OSError("malformed response status line: {!r}".format(status_line))
            status = int(parts[1])
            headers = Headers()
            while True:
                line = self._read_line()
                if not line:
                    break
                name, sep, value = line.partition(b":")
                if sep:
                    headers.add(name.strip().decode("latin-1"), _header_text(value.strip()))
            if not 100 <= status < 200:  # an interim response: the real one follows
                break
        connection = (headers.get("Connection") or "").lower()
        keep_alive = "close" not in connection if parts[0] != "HTTP/1.0" else "keep-alive" in connection
        if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_text = self._read_line().split(b";")[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise OSError("malformed chunk size: {!r}".format(size_text)) from None
                if size == 0:
                    while self._read_line():  # trailers
                        pass
                    break
                chunks.append(self._read_exact(size))
                self._read_exact(2)
            return status, headers, b"".join(chunks), keep_alive
        length = headers.get("Content-Length")
        if length is not None:
            return status, headers, self._read_exact(int(length)), keep_alive
        if status in (204, 304):
            return status, headers, b"", keep_alive
        chunks = [self._buf]  # the body is everything until the server closes
        self._buf = b""
        while True:
            data = _recv(self._sock, 65536)
            if not data:
                return status, headers, b"".join(chunks), False
            chunks.append(data)


def _header_text(raw):
    """A header value: UTF-8 as Lambda's runtimes read it, bytes that are not as Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class Invocation:
    """One /next response."""

    def __init__(self, body, headers):
        self.body = body
        self.request_id = headers.get("Lambda-Runtime-Aws-Request-Id") or ""
        self.deadline_ms = _int_or_zero(headers.get("Lambda-Runtime-Deadline-Ms"))
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.trace_id = headers.get("Lambda-Runtime-Trace-Id") or None
        self.client_context = headers.get("Lambda-Runtime-Client-Context") or None
        self.cognito_identity = headers.get("Lambda-Runtime-Cognito-Identity") or None
        self.tenant_id = headers.get("Lambda-Runtime-Aws-Tenant-Id") or None
        self.content_type = headers.get("Content-Type") or None


def _quote(text):
    """Percent-encodes every byte of the UTF-8 text but the unreserved ones."""
    return "".join(chr(b) if b in _UNRESERVED else "%{:02X}".format(b) for b in text.encode("utf-8"))


def _int_or_zero(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


def _header_safe(value):
    """Header values must be single-line printable ASCII."""
    return all(32 <= ord(c) < 127 for c in value)


class RuntimeApiClient:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        # No timeout: /next is a long poll that lasts until the next invoke.
        self._conn = HttpConnection(host or address, int(port) if port else 80)

    def _request(self, method, path, body=None, headers=None):
        return self._conn.request(method, path, body, headers)

    def _expect(self, endpoint, wanted, status, data):
        if status != wanted:
            raise RuntimeApiError(endpoint, status, data.decode("utf-8", "replace"))

    def next_invocation(self):
        path = _PREFIX + "/invocation/next"
        status, headers, data = self._request("GET", path)
        self._expect(path, 200, status, data)
        return Invocation(data, headers)

    def post_response(self, request_id, body, content_type):
        path = "{}/invocation/{}/response".format(_PREFIX, _quote(request_id))
        status, _, data = self._request("POST", path, body, {"Content-Type": content_type})
        if status == 413:
            # Too large: the Runtime API failed the invoke (Function.ResponseSizeTooLarge) and
            # the runtime goes on to /next, as Lambda's runtime does.
            return
        self._expect(path, 202, status, data)

    def post_error(self, request_id, error, xray_cause=None):
        path = "{}/invocation/{}/error".format(_PREFIX, _quote(request_id))
        self._post_error(path, error, xray_cause)

    def post_init_error(self, error, error_type=None):
        self._post_error(_PREFIX + "/init/error", error, None, error_type)

    def restore_next(self):
        """SnapStart: answered (200) once this environment is restored (lambda-spec §14)."""
        path = _PREFIX + "/restore/next"
        status, _, data = self._request("GET", path)
        self._expect(path, 200, status, data)

    def post_restore_error(self, error, error_type):
        self._post_error(_PREFIX + "/restore/error", error, None, error_type)

    def close(self):
        self._conn.close()

    def _post_error(self, path, error, xray_cause, error_type=None):
        headers = {"Content-Type": "application/json"}
        error_type = error_type or error.get("errorType") or ""
        if error_type and _header_safe(error_type):
            headers["Lambda-Runtime-Function-Error-Type"] = error_type
        if xray_cause is not None:
            import json  # errors only (late_import)

            cause = json.dumps(xray_cause)  # ASCII-only, single line
            if len(cause) < _MAX_XRAY_CAUSE:
                headers["Lambda-Runtime-Function-XRay-Error-Cause"] = cause
        status, _, data = self._request("POST", path, to_json(error).encode("utf-8"), headers)
        self._expect(path, 202, status, data)
