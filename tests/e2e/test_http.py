"""The HTTP fronts on --api-port (decision 020): REST and HTTP API routes and a Function URL of
tests/e2e/functions/http/template.yaml, driven with curl and Node's fetch through the real daemon:
the events the handlers see, the answers mapped from their results, CORS, and the fronts' errors.
One daemon for the whole file."""
import base64
import json
import re
import subprocess

import pytest

from conftest import FUNCTIONS, Daemon

TEMPLATE = FUNCTIONS / "http" / "template.yaml"
NODE = "/usr/bin/node"


@pytest.fixture(scope="module")
def api():
    d = Daemon(TEMPLATE, "--api-port", "0")
    lines = d.stdout_after_ready(r"URL http://url-echo\.lambda-url\.localhost")
    m = re.search(r"API listening on (http://[0-9.]+:(\d+))", "".join(lines))
    assert m, lines
    d.api = m.group(1)
    d.api_port = int(m.group(2))
    d.ready_lines = lines
    yield d
    problems = d.stop_and_check()
    assert not problems, "\n".join(problems)


def curl(*args, data=None):
    """Runs curl; returns (status, headers as a list of (lower name, value), body bytes)."""
    cmd = ["curl", "-sS", "-D", "-", "-o", "/dev/stdout", "--max-time", "20", *args]
    out = subprocess.run(cmd, input=data, capture_output=True, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):  # curl's Expect: 100-continue, for large bodies
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = [(k.strip().lower(), v.strip()) for k, v in (line.split(":", 1) for line in lines[1:])]
    return status, headers, body


def header(headers, name):
    values = [v for k, v in headers if k == name]
    return values[0] if values else None


def fetch(url, **init):
    """Node's fetch: {status, headers: {name: value}, body (text)}."""
    script = (
        "const [url, init] = [process.argv[1], JSON.parse(process.argv[2])];"
        "const r = await fetch(url, init);"
        "console.log(JSON.stringify({status: r.status, headers: Object.fromEntries(r.headers), body: await r.text()}));"
    )
    out = subprocess.run([NODE, "--input-type=module", "-e", script, url, json.dumps(init)],
                         capture_output=True, text=True, check=True, timeout=20).stdout
    return json.loads(out)


def test_ready_lines_list_routes_and_urls(api):
    text = "".join(api.ready_lines)
    assert "  GET /items/{id} -> RestEcho (RestApi RestApi, payload 1.0)" in text
    assert "  ANY /files/{proxy+} -> RestEcho (RestApi RestApi, payload 1.0)" in text
    assert "  POST /hello -> HttpEcho (HttpApi ServerlessHttpApi, payload 2.0)" in text
    assert "  GET /legacy/{name} -> HttpEcho (HttpApi ServerlessHttpApi, payload 1.0)" in text
    assert f"  URL http://url-echo.lambda-url.localhost:{api.api_port}/ -> url-echo" in text
    assert re.search(r"URL http://iam-echo\.lambda-url\.localhost:\d+/ -> iam-echo .*AWS_IAM: not checked", text)


def test_rest_route_payload_1_with_path_parameters_and_multi_value_query(api):
    status, headers, body = curl(f"{api.api}/items/a%20b?x=1&x=2&y=3", "-H", "X-Rep: one", "-H", "X-Rep: two")
    assert status == 200
    event = json.loads(body)["event"]
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/a%20b"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["queryStringParameters"] == {"x": "2", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}
    assert event["multiValueHeaders"]["X-Rep"] == ["one", "two"]
    assert event["stageVariables"] == {"TABLE": "items-prod"}
    ctx = event["requestContext"]
    assert ctx["stage"] == "Prod" and ctx["resourcePath"] == "/items/{id}" and ctx["httpMethod"] == "GET"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["requestId"] == header(headers, "x-amzn-requestid")
    # multiValueHeaders of the result reach the client, and the REST API's CORS headers.
    assert [v for k, v in headers if k == "x-multi"] in (["a", "b"], ["a,b"])


def test_rest_proxy_route_takes_the_rest_of_the_path(api):
    status, _, body = curl("-X", "DELETE", f"{api.api}/files/a/b/c.txt")
    assert status == 200
    event = json.loads(body)["event"]
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["httpMethod"] == "DELETE"
    assert event["resource"] == "/files/{proxy+}"


def test_http_api_payload_2_fields_with_fetch(api):
    r = fetch(f"{api.api}/hello?a=1&a=2&b=x", method="POST", body='{"k":1}',
              headers={"content-type": "application/json", "cookie": "c1=v1; c2=v2", "x-custom": "yes"})
    assert r["status"] == 200
    event = json.loads(r["body"])["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /hello"
    assert event["rawPath"] == "/hello"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-custom"] == "yes"
    assert event["body"] == '{"k":1}' and event["isBase64Encoded"] is False
    http = event["requestContext"]["http"]
    assert http["method"] == "POST" and http["path"] == "/hello" and http["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["requestId"] == r["headers"]["x-amzn-requestid"]


def test_http_api_1_0_integration(api):
    status, _, body = curl(f"{api.api}/legacy/bob?q=1")
    assert status == 200
    event = json.loads(body)["event"]
    assert event["version"] == "1.0"
    assert event["pathParameters"] == {"name": "bob"}
    assert event["queryStringParameters"] == {"q": "1"}


def test_response_mapping(api):
    status, headers, body = curl(f"{api.api}/shapes/bare")
    assert status == 200 and header(headers, "content-type") == "application/json"
    assert json.loads(body) == {"bare": True, "n": 3}
    status, _, body = curl(f"{api.api}/shapes/string")
    assert status == 200 and body == b"hello"
    status, headers, body = curl(f"{api.api}/shapes/binary")
    assert status == 200 and header(headers, "content-type") == "image/png"
    assert body == b"\x89PNG\x00\x01"
    status, headers, body = curl(f"{api.api}/shapes/cookies")
    assert status == 418 and body == b"tea" and header(headers, "x-kind") == "cookies"
    assert [v for k, v in headers if k == "set-cookie"] == ["a=1; Path=/", "b=2"]


def test_errors(api):
    status, _, body = curl(f"{api.api}/shapes/raise")
    assert status == 502 and json.loads(body) == {"message": "Internal server error"}
    status, _, body = curl(f"{api.api}/shapes/malformed")
    assert status == 502
    status, _, body = curl(f"{api.api}/no/such/route")
    assert status == 404 and json.loads(body) == {"message": "Not Found"}
    api.wait_for_log(r"API GET /shapes/raise -> 502 \(GET /shapes/\{kind\} -> HttpShapes, [0-9.]+ ms\): function error")
    api.wait_for_log(r"API GET /no/such/route -> 404 .*: no route matches")


def test_function_url_by_host_with_curl(api):
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    status, headers, body = curl(f"http://url-echo.lambda-url.localhost:{api.api_port}/some/path?a=1&a=2",
                                 "-X", "POST", "-H", "Content-Type: application/octet-stream",
                                 "-H", "Cookie: s=1", "--data-binary", "@-", data=png)
    assert status == 200
    got = json.loads(body)
    event = got["event"]
    assert event["rawPath"] == "/some/path"
    assert event["routeKey"] == "$default"
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["cookies"] == ["s=1"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == png
    assert got["decoded"] == png.hex()
    ctx = event["requestContext"]
    assert ctx["domainName"] == "url-echo.lambda-url.localhost" and ctx["domainPrefix"] == "url-echo"
    assert ctx["accountId"] == "anonymous"
    assert ctx["requestId"] == got["requestId"] == header(headers, "x-amzn-requestid")
    assert event["pathParameters"] is None


def test_function_url_by_path_prefix_with_fetch_and_cors(api):
    r = fetch(f"{api.api}/_lambda-url/url-echo/x/y?z=1", headers={"origin": "http://page.example"})
    assert r["status"] == 200
    event = json.loads(r["body"])["event"]
    assert event["rawPath"] == "/x/y" and event["rawQueryString"] == "z=1"
    assert r["headers"]["access-control-allow-origin"] == "http://page.example"
    assert r["headers"]["access-control-expose-headers"] == "x-echo"
    # The preflight is the front's own answer.
    status, headers, body = curl("-X", "OPTIONS", f"{api.api}/_lambda-url/url-echo/x",
                                 "-H", "Origin: http://page.example", "-H", "Access-Control-Request-Method: POST")
    assert status == 200 and body == b""
    assert header(headers, "access-control-allow-origin") == "http://page.example"
    assert header(headers, "access-control-allow-methods") == "GET,POST"
    # An origin the URL does not allow gets no CORS headers.
    status, headers, _ = curl("-X", "OPTIONS", f"{api.api}/_lambda-url/url-echo/x",
                              "-H", "Origin: http://elsewhere", "-H", "Access-Control-Request-Method: POST")
    assert header(headers, "access-control-allow-origin") is None


def test_rest_cors_preflight(api):
    status, headers, body = curl("-X", "OPTIONS", f"{api.api}/items/1", "-H", "Origin: http://page.example")
    assert status == 200 and body == b""
    assert header(headers, "access-control-allow-origin") == "http://page.example"
    assert header(headers, "access-control-allow-methods") == "GET,OPTIONS"
    assert header(headers, "access-control-allow-headers") == "content-type"


def test_unknown_function_url_is_404(api):
    status, _, _ = curl(f"http://nothing.lambda-url.localhost:{api.api_port}/")
    assert status == 404


def test_throttle_timeout_and_body_limit(api):
    status, _, body = curl(f"{api.api}/throttled")
    assert status == 429 and json.loads(body) == {"message": "Too Many Requests"}
    status, _, body = curl(f"{api.api}/slow")  # the function's own 1 s timeout, shorter than 30 s
    assert status == 504 and json.loads(body) == {"message": "Endpoint request timed out"}
    status, _, body = curl("-X", "POST", "-H", "Content-Type: application/octet-stream", "--data-binary", "@-",
                           f"{api.api}/hello", data=b"x" * (6 * 1024 * 1024 + 1))
    assert status == 413 and json.loads(body) == {"message": "Request Entity Too Large"}


def test_api_port_is_a_setting_and_start_api_defaults_to_3000(tmp_path):
    from conftest import LAMBDAD

    def print_config(*args, cwd=tmp_path):
        return subprocess.run([LAMBDAD, *args, "--print-config"], capture_output=True, text=True, check=True,
                              cwd=cwd).stdout

    assert re.search(r'^# api-port +# not set', print_config("serve"), re.M)
    assert re.search(r'^api-port = "3000" +# default', print_config("start-api"), re.M)
    (tmp_path / "lambdad.toml").write_text('[serve]\napi-port = "8080"\n')
    assert re.search(r'^api-port = "8080" +# lambdad.toml', print_config("serve"), re.M)


def test_routes_follow_a_template_reload(tmp_path):
    import shutil

    work = tmp_path / "http"
    shutil.copytree(TEMPLATE.parent, work)
    template = work / "template.yaml"
    d = Daemon(template, "--api-port", "0", "--watch")
    try:
        lines = d.stdout_after_ready(r"API listening on")
        base = re.search(r"API listening on (http://[0-9.]+:\d+)", "".join(lines)).group(1)
        assert curl(f"{base}/legacy/x")[0] == 200
        template.write_text(template.read_text().replace("Path: /legacy/{name}", "Path: /renamed/{name}"))
        d.wait_for_log(r"API routes reloaded")
        assert curl(f"{base}/legacy/x")[0] == 404
        status, _, body = curl(f"{base}/renamed/y")
        assert status == 200 and json.loads(body)["event"]["pathParameters"] == {"name": "y"}
    finally:
        problems = d.stop_and_check()
    assert not problems, "\n".join(problems)


def test_aws_iam_urls_need_a_signature_with_credentials(tmp_path):
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIDHTTPTEST\naws_secret_access_key = http-secret\n")
    d = Daemon(TEMPLATE, "--api-port", "0", "--credentials", str(credentials))
    try:
        lines = d.stdout_after_ready(r"URL http://iam-echo")
        assert any("iam-echo" in line and "AWS_IAM: signed requests only" in line for line in lines), lines
        base = re.search(r"API listening on (http://[0-9.]+:\d+)", "".join(lines)).group(1)
        url = f"{base}/_lambda-url/iam-echo/signed?x=1"

        def get(key, secret):
            request = AWSRequest(method="GET", url=url)
            if key:
                SigV4Auth(Credentials(key, secret), "lambda", "us-east-1").add_auth(request)
            prepared = request.prepare()
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=dict(prepared.headers))) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        status, body = get("AKIDHTTPTEST", "http-secret")
        assert status == 200 and body["event"]["rawPath"] == "/signed"
        assert body["event"]["requestContext"]["accountId"] == "123456789012"
        for key, secret in [(None, None), ("AKIDHTTPTEST", "wrong-secret")]:
            status, body = get(key, secret)
            assert status == 403 and body["Message"].startswith("Forbidden."), (key, status, body)
        # A URL with AuthType NONE, and the API routes, take unsigned requests.
        assert curl(f"{base}/_lambda-url/url-echo/")[0] == 200
        assert curl(f"{base}/legacy/x")[0] == 200
    finally:
        problems = d.stop_and_check()
    assert not problems, "\n".join(problems)
