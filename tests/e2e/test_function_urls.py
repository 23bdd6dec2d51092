"""Function URLs through the control plane (decision 020 step 4): created, read, updated, listed
and deleted with boto3 (/usr/bin/python3's, from apt) and the AWS CLI, then called over HTTP on
--api-port; kept across a restart with --state-dir; and RESPONSE_STREAM URLs, whose first chunk
reaches the client while the function is still running."""
import io
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
import zipfile

import pytest

from conftest import AWS_CLI, FUNCTIONS, lambda_client, wait_for

TEMPLATE = FUNCTIONS / "urls" / "template.yaml"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"


def start(start_daemon, *args):
    d = start_daemon(TEMPLATE, "--api-port", "0", *args)
    lines = d.stdout_after_ready(r"URL http://url-stream\.lambda-url\.localhost")
    m = re.search(r"API listening on http://[0-9.]+:(\d+)", "".join(lines))
    assert m, lines
    d.api_port = int(m.group(1))
    return d


def get(d, label, path="/", timeout=20):
    """GET http://127.0.0.1:<api port><path> with Host <label>.lambda-url.localhost: (status, headers, body)."""
    req = urllib.request.Request(f"http://127.0.0.1:{d.api_port}{path}",
                                 headers={"Host": f"{label}.lambda-url.localhost:{d.api_port}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def zip_of(name, text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, text)
    return buf.getvalue()


ECHO = (FUNCTIONS / "urls" / "node" / "echo.mjs").read_text()


def test_boto3_create_get_update_list_delete_and_call(start_daemon):
    d = start(start_daemon)
    client = lambda_client(d.endpoint)
    created = client.create_function_url_config(FunctionName="url-api-echo", AuthType="NONE",
                                                Cors={"AllowOrigins": ["http://page.example"], "MaxAge": 60})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    url = f"http://url-api-echo.lambda-url.localhost:{d.api_port}/"
    assert created["FunctionUrl"] == url
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:url-api-echo"
    assert created["AuthType"] == "NONE"
    assert created["Cors"] == {"AllowCredentials": False, "AllowOrigins": ["http://page.example"], "MaxAge": 60}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", created["CreationTime"])
    assert "LastModifiedTime" not in created

    # Reachable at once, by host and by path prefix.
    status, headers, body = get(d, "url-api-echo", "/some/path?x=1")
    assert status == 200, body
    assert json.loads(body) == {"rawPath": "/some/path", "method": "GET"}
    with urllib.request.urlopen(f"http://127.0.0.1:{d.api_port}/_lambda-url/url-api-echo/p", timeout=20) as r:
        assert json.loads(r.read())["rawPath"] == "/p"

    with pytest.raises(client.exceptions.ResourceConflictException) as e:
        client.create_function_url_config(FunctionName="url-api-echo", AuthType="NONE")
    assert e.value.response["Error"]["Message"] == (
        "Failed to create function url config for [functionArn = arn:aws:lambda:us-east-1:123456789012:function:"
        "url-api-echo]. Error message:  FunctionUrlConfig exists for this Lambda function")

    got = client.get_function_url_config(FunctionName="url-api-echo")
    assert got["FunctionUrl"] == url and got["LastModifiedTime"] and got["AuthType"] == "NONE"
    updated = client.update_function_url_config(FunctionName="url-api-echo", AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM" and updated["Cors"]["MaxAge"] == 60

    listed = client.list_function_url_configs(FunctionName="url-api-echo")["FunctionUrlConfigs"]
    assert [u["FunctionUrl"] for u in listed] == [url]
    # The template's URL is the catalogue's too.
    stream_urls = client.list_function_url_configs(FunctionName="url-stream")["FunctionUrlConfigs"]
    assert stream_urls[0]["FunctionUrl"] == f"http://url-stream.lambda-url.localhost:{d.api_port}/"
    # Debian's boto3 predates InvokeMode: read it from the wire.
    with urllib.request.urlopen(f"{d.endpoint}/2021-10-31/functions/url-stream/urls", timeout=10) as r:
        assert json.loads(r.read())["FunctionUrlConfigs"][0]["InvokeMode"] == "RESPONSE_STREAM"
    # GetFunction does not show URLs, as on Lambda.
    assert "FunctionUrl" not in json.dumps(client.get_function(FunctionName="url-api-echo"))

    client.delete_function_url_config(FunctionName="url-api-echo")
    assert get(d, "url-api-echo")[0] == 404
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.get_function_url_config(FunctionName="url-api-echo")
    assert e.value.response["Error"]["Message"] == "The resource you requested does not exist."
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.create_function_url_config(FunctionName="nope", AuthType="NONE")
    assert e.value.response["Error"]["Message"] == "Function does not exist"


def test_errors_for_qualifiers_and_values(start_daemon):
    d = start(start_daemon)
    client = lambda_client(d.endpoint)
    for qualifier in ("1", "$LATEST"):
        with pytest.raises(client.exceptions.ClientError) as e:
            client.create_function_url_config(FunctionName="url-api-echo", Qualifier=qualifier, AuthType="NONE")
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert f"Value '{qualifier}' at 'qualifier'" in e.value.response["Error"]["Message"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_function_url_config(FunctionName="url-api-echo", Qualifier="live", AuthType="NONE")
    # What boto3 would refuse itself, sent raw.
    for body, member in ((b'{"AuthType":"OPEN"}', "authType"), (b'{"AuthType":"NONE","InvokeMode":"FAST"}', "invokeMode"),
                         (b'{"AuthType":"NONE","Cors":{"MaxAge":86401}}', "cors.maxAge"), (b"{}", "authType")):
        req = urllib.request.Request(f"{d.endpoint}/2021-10-31/functions/url-api-echo/url", data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 400
        assert e.value.headers["X-Amzn-ErrorType"].startswith("ValidationException")
        assert f"at '{member}'" in json.loads(e.value.read())["message"]


def test_alias_url_is_served_at_its_own_host(start_daemon):
    d = start(start_daemon)
    client = lambda_client(d.endpoint)
    version = client.publish_version(FunctionName="url-api-echo")["Version"]
    client.create_alias(FunctionName="url-api-echo", Name="live", FunctionVersion=version)
    created = client.create_function_url_config(FunctionName="url-api-echo", Qualifier="live", AuthType="NONE")
    assert created["FunctionArn"].endswith(":function:url-api-echo:live")
    assert created["FunctionUrl"] == f"http://live--url-api-echo.lambda-url.localhost:{d.api_port}/"
    assert get(d, "live--url-api-echo", "/a")[0] == 200
    assert get(d, "url-api-echo")[0] == 404  # the function itself has none
    client.delete_alias(FunctionName="url-api-echo", Name="live")  # its URL goes with it
    assert get(d, "live--url-api-echo")[0] == 404


def test_aws_cli_and_persistence_across_restart(start_daemon, cli_env, tmp_path):
    state = tmp_path / "state"
    d = start(start_daemon, "--state-dir", str(state))
    client = lambda_client(d.endpoint)
    client.create_function(FunctionName="api-made", Runtime="nodejs20.x", Role=ROLE, Handler="echo.handler",
                           Code={"ZipFile": zip_of("echo.mjs", ECHO)})
    client.get_waiter("function_active_v2").wait(FunctionName="api-made")
    out = subprocess.run([AWS_CLI, "lambda", "create-function-url-config", "--function-name", "api-made",
                          "--auth-type", "NONE", "--endpoint-url", d.endpoint, "--output", "json"],
                         env=cli_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["FunctionUrl"] == f"http://api-made.lambda-url.localhost:{d.api_port}/"
    assert get(d, "api-made", "/x")[0] == 200
    problems = d.stop_and_check()
    assert not problems, "\n".join(problems)

    again = start(start_daemon, "--state-dir", str(state))
    out = subprocess.run([AWS_CLI, "lambda", "get-function-url-config", "--function-name", "api-made",
                          "--endpoint-url", again.endpoint, "--output", "json"],
                         env=cli_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["AuthType"] == "NONE"
    status, _, body = get(again, "api-made", "/after")
    assert status == 200, body
    assert json.loads(body)["rawPath"] == "/after"


def read_timed(d, label, path):
    """(status, headers, [(arrival ms, bytes)]) of a streamed answer, read as it arrives."""
    req = urllib.request.Request(f"http://127.0.0.1:{d.api_port}{path}",
                                 headers={"Host": f"{label}.lambda-url.localhost"})
    r = urllib.request.urlopen(req, timeout=30)
    pieces = []
    while True:
        data = r.read1(65536)
        if not data:
            break
        pieces.append((time.time() * 1000, data))
    return r.status, r.headers, pieces


def test_response_stream_url_sends_the_prelude_head_then_chunks_as_written(start_daemon):
    d = start(start_daemon)
    status, headers, pieces = read_timed(d, "url-stream", "/?gap=1000")
    assert status == 202
    assert headers["x-streamed"] == "yes"
    assert headers["Content-Type"] == "text/plain"
    assert headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert headers["Transfer-Encoding"] == "chunked"
    assert headers["x-amzn-RequestId"]
    body = b"".join(p for _, p in pieces).decode()
    lines = body.splitlines()
    assert [line.split()[0] for line in lines] == ["first", "second"]
    second_written = int(lines[1].split()[1])
    # The first chunk reached the client before the function wrote the second.
    assert pieces[0][1].startswith(b"first")
    assert pieces[0][0] < second_written, (pieces[0][0], second_written)


def test_response_stream_without_prelude_and_failing_mid_stream(start_daemon):
    d = start(start_daemon)
    status, headers, pieces = read_timed(d, "url-stream", "/?mode=plain&gap=200")
    assert status == 200 and headers["Content-Type"] == "text/plain"
    assert b"".join(p for _, p in pieces).decode().startswith("first ")
    # Failing after the head went out: the body is cut short (the connection is closed mid-body).
    req = urllib.request.Request(f"http://127.0.0.1:{d.api_port}/?mode=fail",
                                 headers={"Host": "url-stream.lambda-url.localhost"})
    r = urllib.request.urlopen(req, timeout=30)
    assert r.status == 200
    with pytest.raises(Exception):  # http.client.IncompleteRead
        r.read()
    wait_for(lambda: re.search(r"failed mid-stream", d.logs()), what="the mid-stream failure in the log")
