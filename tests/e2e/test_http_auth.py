"""Lambda authorizers on --api-port (decision 020): the REST API's TOKEN and REQUEST authorizers
and an HTTP API's simple-response authorizer of tests/e2e/functions/http_auth/template.yaml, real
Python authorizer functions, driven with curl and Node's fetch through the real daemon."""
import json
import re
import subprocess
import uuid

import pytest

from conftest import FUNCTIONS, Daemon

TEMPLATE = FUNCTIONS / "http_auth" / "template.yaml"
NODE = "/usr/bin/node"


@pytest.fixture(scope="module")
def api():
    d = Daemon(TEMPLATE, "--api-port", "0")
    lines = d.stdout_after_ready(r"GET /simple -> Echo")
    m = re.search(r"API listening on (http://[0-9.]+:\d+)", "".join(lines))
    assert m, lines
    d.api = m.group(1)
    d.ready_lines = lines
    yield d
    problems = d.stop_and_check()
    assert not problems, "\n".join(problems)


def curl(url, *headers):
    """GET with curl; returns (status, {lower-case header: value}, body text)."""
    args = ["curl", "-sS", "-D", "-", "--max-time", "20", url]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args, capture_output=True, check=True).stdout.decode()  # bytes: keep the CRLFs
    head, _, body = out.partition("\r\n\r\n")
    lines = head.split("\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), hdrs, body


def fetch(url, headers):
    script = (
        "const [url, headers] = [process.argv[1], JSON.parse(process.argv[2])];"
        "const r = await fetch(url, {headers});"
        "console.log(JSON.stringify({status: r.status, body: await r.text()}));"
    )
    out = subprocess.run([NODE, "--input-type=module", "-e", script, url, json.dumps(headers)],
                         capture_output=True, text=True, check=True, timeout=20).stdout
    return json.loads(out)


def token(kind):
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def calls(api, tok):
    return len(re.findall(rf"token-authorizer-called {re.escape(tok)}\b", api.logs()))


def test_ready_lines_name_the_authorizers(api):
    text = "".join(api.ready_lines)
    assert "GET /secret/{id} -> Echo (RestApi AuthRestApi, payload 1.0, authorizer TokenAuth)" in text
    assert "GET /request -> Echo (RestApi AuthRestApi, payload 1.0, authorizer RequestAuth)" in text
    assert "GET /open -> Echo (RestApi AuthRestApi, payload 1.0)" in text
    assert "GET /simple -> Echo (HttpApi AuthHttpApi, payload 2.0, authorizer SimpleAuth)" in text


def test_token_allow_reaches_the_function_with_the_context(api):
    tok = token("allow")
    status, _, body = curl(f"{api.api}/secret/42", f"Authorization: {tok}")
    assert status == 200, body
    authorizer = json.loads(body)["event"]["requestContext"]["authorizer"]
    assert authorizer["principalId"] == tok
    # REST stringifies the context's numbers and booleans.
    assert authorizer["user"] == "alice" and authorizer["level"] == "7" and authorizer["admin"] == "true"
    assert authorizer["methodArn"] == "arn:aws:execute-api:us-east-1:123456789012:AuthRestApi/Prod/GET/secret/42"
    assert isinstance(authorizer["integrationLatency"], int)


def test_missing_token_is_401_without_invoking_the_authorizer(api):
    before = api.logs().count("token-authorizer-called")
    status, headers, body = curl(f"{api.api}/secret/1")
    assert status == 401
    assert json.loads(body) == {"message": "Unauthorized"}
    assert headers.get("x-amzn-errortype") == "UnauthorizedException"
    # A route with Authorizer: NONE needs no token.
    status, _, body = curl(f"{api.api}/open")
    assert status == 200 and "authorizer" not in json.loads(body)["event"]["requestContext"]
    assert api.logs().count("token-authorizer-called") == before


def test_deny_and_not_allowed_are_403(api):
    status, headers, body = curl(f"{api.api}/secret/1", f"Authorization: {token('deny')}")
    assert status == 403
    assert json.loads(body) == {"Message": "User is not authorized to access this resource with an explicit deny"}
    assert headers.get("x-amzn-errortype") == "AccessDeniedException"
    status, _, body = curl(f"{api.api}/secret/1", f"Authorization: {token('elsewhere')}")
    assert status == 403
    assert json.loads(body) == {"Message": "User is not authorized to access this resource"}


def test_authorizer_errors(api):
    status, _, body = curl(f"{api.api}/secret/1", f"Authorization: {token('unauthorized')}")
    assert status == 401 and json.loads(body) == {"message": "Unauthorized"}
    for kind in ("crash", "malformed"):
        status, headers, body = curl(f"{api.api}/secret/1", f"Authorization: {token(kind)}")
        assert status == 500, kind
        assert json.loads(body) == {"message": None}
        assert headers.get("x-amzn-errortype") == "AuthorizerConfigurationException"
    api.wait_for_log(r"authorizer TokenAuth: malformed result: principalId")


def test_token_results_are_cached_for_the_ttl(api):
    tok = token("allow")
    for i in range(3):
        status, _, body = curl(f"{api.api}/secret/{i}", f"Authorization: {tok}")
        assert status == 200, body
        if i > 0:
            assert json.loads(body)["event"]["requestContext"]["authorizer"]["integrationLatency"] == 0
    # Another token is invoked; its line comes after any the cached token's calls could have printed.
    other = token("allow")
    assert curl(f"{api.api}/secret/9", f"Authorization: {other}")[0] == 200
    api.wait_for_log(rf"token-authorizer-called {other}")
    assert calls(api, tok) == 1


def test_request_authorizer_gets_the_request_and_is_not_cached_with_ttl_0(api):
    status, _, body = curl(f"{api.api}/request?tenant=t1&tenant=t2&x=1", "X-User: alice")
    assert status == 200, body
    authorizer = json.loads(body)["event"]["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "alice"
    seen = json.loads(authorizer["seen"])
    assert seen["type"] == "REQUEST"
    assert seen["methodArn"] == "arn:aws:execute-api:us-east-1:123456789012:AuthRestApi/Prod/GET/request"
    assert seen["resource"] == "/request" and seen["path"] == "/request" and seen["httpMethod"] == "GET"
    assert seen["queryStringParameters"] == {"tenant": "t2", "x": "1"}
    assert seen["multiValueQueryStringParameters"] == {"tenant": ["t1", "t2"], "x": ["1"]}
    assert seen["pathParameters"] == {}
    # The same identity, now denied: TTL 0 asks the authorizer every time.
    status, _, _ = curl(f"{api.api}/request?tenant=t1", "X-User: mallory")
    assert status == 403
    # A missing identity source (the query string) is 401.
    status, _, body = curl(f"{api.api}/request", "X-User: alice")
    assert status == 401 and json.loads(body) == {"message": "Unauthorized"}


def test_http_api_simple_responses_with_fetch(api):
    r = fetch(f"{api.api}/simple", {"x-key": "open-sesame"})
    assert r["status"] == 200, r
    event = json.loads(r["body"])["event"]
    lam = event["requestContext"]["authorizer"]["lambda"]
    assert lam["user"] == "bob" and lam["tier"] == 2  # HTTP APIs keep the context's types
    assert lam["type"] == "REQUEST" and lam["identitySource"] == ["open-sesame"]
    assert lam["routeArn"] == "arn:aws:execute-api:us-east-1:123456789012:AuthHttpApi/$default/GET/simple"
    r = fetch(f"{api.api}/simple", {"x-key": "wrong"})
    assert r["status"] == 403 and json.loads(r["body"]) == {"message": "Forbidden"}
    r = fetch(f"{api.api}/simple", {})
    assert r["status"] == 401 and json.loads(r["body"]) == {"message": "Unauthorized"}
