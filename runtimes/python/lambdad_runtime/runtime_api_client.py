"""HTTP client of the Runtime API (2018-06-01) over one keep-alive connection.

Any status other than the documented success (200 for /next, 202 for posts) raises
RuntimeApiError; the runtime then exits, as the official clients do.
"""
import http.client
import json
import urllib.parse

from .marshaller import to_json

_PREFIX = "/2018-06-01/runtime"
# X-Ray error causes above this size are dropped (Lambda caps the header below 1 MiB).
_MAX_XRAY_CAUSE = 1024 * 1024


class RuntimeApiError(Exception):
    def __init__(self, endpoint, status, body):
        super().__init__("Request to Lambda Runtime '{}' endpoint failed. Reason: '{}'. "
                         "Response body: '{}'".format(endpoint, status, body))


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


def _int_or_zero(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


def _header_safe(value):
    """Header values must be single-line Latin-1 for http.client."""
    return all(32 <= ord(c) < 127 for c in value)


class RuntimeApiClient:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        # No timeout: /next is a long poll that lasts until the next invoke.
        self._conn = http.client.HTTPConnection(host or address, int(port) if port else 80)
        self._used = False

    def _request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            try:
                self._conn.request(method, path, body=body, headers=headers or {})
                response = self._conn.getresponse()
                data = response.read()
                self._used = True
                return response.status, response.headers, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed a kept-alive connection while it sat idle: reconnect once.
                self._conn.close()
                if attempt == 2 or not self._used:
                    raise

    def _expect(self, endpoint, wanted, status, data):
        if status != wanted:
            raise RuntimeApiError(endpoint, status, data.decode("utf-8", "replace"))

    def next_invocation(self):
        path = _PREFIX + "/invocation/next"
        status, headers, data = self._request("GET", path)
        self._expect(path, 200, status, data)
        return Invocation(data, headers)

    def post_response(self, request_id, body, content_type):
        path = "{}/invocation/{}/response".format(_PREFIX, urllib.parse.quote(request_id, ""))
        status, _, data = self._request("POST", path, body, {"Content-Type": content_type})
        self._expect(path, 202, status, data)

    def post_error(self, request_id, error, xray_cause=None):
        path = "{}/invocation/{}/error".format(_PREFIX, urllib.parse.quote(request_id, ""))
        self._post_error(path, error, xray_cause)

    def post_init_error(self, error):
        self._post_error(_PREFIX + "/init/error", error, None)

    def _post_error(self, path, error, xray_cause):
        headers = {"Content-Type": "application/json"}
        error_type = error.get("errorType") or ""
        if error_type and _header_safe(error_type):
            headers["Lambda-Runtime-Function-Error-Type"] = error_type
        if xray_cause is not None:
            cause = json.dumps(xray_cause)  # ASCII-only, single line
            if len(cause) < _MAX_XRAY_CAUSE:
                headers["Lambda-Runtime-Function-XRay-Error-Cause"] = cause
        status, _, data = self._request("POST", path, to_json(error).encode("utf-8"), headers)
        self._expect(path, 202, status, data)
