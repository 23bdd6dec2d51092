"""Security of `lambdad serve` (docs/decisions/010), driven by real clients against the real daemon:

- --credentials FILE: requests signed (SigV4) by boto3, the AWS CLI v2 (and, in
  js/security.test.mjs, the JS SDK) with a listed key are served, invoke and control plane alike;
  a wrong secret, an unknown key, no signature, a stale or future date, a body changed after
  signing are refused with Lambda's 403s, which botocore surfaces as ClientError with their codes.
- --host: a non-loopback address needs --allow-remote (exit 2 without), which logs a warning;
  the Runtime API of every environment stays on 127.0.0.1 whatever --host is.
- a function's environment holds Lambda's variables and the template's, none of the daemon's own
  (but the role credentials, which are passed on by design).
"""
import contextlib
import datetime
import io
import json
import os
import socket
import subprocess
import urllib.error
import urllib.request
import zipfile
from unittest import mock

import boto3
import botocore.compat
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import AWS_CLI, FUNCTIONS, LAMBDAD, Daemon, wait_for

TEMPLATE = FUNCTIONS / "security" / "template.yaml"
KEY, SECRET = "AKIDLAMBDADTEST0001", "s3cr3t/with+odd=chars"
OTHER_KEY, OTHER_SECRET = "AKIDLAMBDADTEST0002", "second-secret"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
BAD_SIGNATURE = ("The request signature we calculated does not match the signature you provided. Check your AWS "
                 "Secret Access Key and signing method. Consult the service documentation for details.")


def client(endpoint, key=KEY, secret=SECRET, token=None, region="us-east-1", unsigned=False):
    config = Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5,
                    signature_version=UNSIGNED if unsigned else None)
    return boto3.client("lambda", endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token, config=config)


def invoke(c, name="SecEcho", payload=None, **kwargs):
    r = c.invoke(FunctionName=name, Payload=json.dumps(payload if payload is not None else {"k": "v"}), **kwargs)
    r["Body"] = json.loads(r.pop("Payload").read())
    return r


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response


@pytest.fixture(scope="module")
def credentials_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sec") / "credentials"
    path.write_text(f"""# keys lambdad accepts
[default]
aws_access_key_id = {KEY}
aws_secret_access_key = {SECRET}
region = us-east-1

[ci]
aws_access_key_id={OTHER_KEY}
aws_secret_access_key={OTHER_SECRET}
aws_session_token = ignored
""")
    return path


@pytest.fixture(scope="module")
def daemon(credentials_file):
    d = Daemon(TEMPLATE, "--credentials", str(credentials_file))
    yield d
    problems = d.stop_and_check()
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# signed requests are served

def test_boto3_signed_invoke_with_name_qualifier_and_arn(daemon):
    c = client(daemon.endpoint)
    r = invoke(c)
    assert r["StatusCode"] == 200 and "FunctionError" not in r
    assert r["Body"]["event"] == {"k": "v"}
    assert r["Body"]["requestId"] == r["ResponseMetadata"]["RequestId"]
    # The qualifier and the ARN go in the path percent-encoded (`%24LATEST`, `%3A`): the SDK
    # signs that path encoded once more, and so must the daemon.
    for name, kwargs, version in [("SecEcho", {"Qualifier": "live"}, "1"),
                                  ("SecEcho:$LATEST", {}, "$LATEST"),
                                  (ARN + "SecEcho:live", {}, "1"),
                                  (ARN + "SecEcho", {"Qualifier": "$LATEST"}, "$LATEST"),
                                  ("123456789012:function:SecEcho", {}, "$LATEST")]:
        r = invoke(c, name, **kwargs)
        assert r["StatusCode"] == 200, (name, kwargs)
        assert r["ExecutedVersion"] == version, (name, kwargs)


def test_second_listed_key_and_session_token_are_accepted(daemon):
    r = invoke(client(daemon.endpoint, OTHER_KEY, OTHER_SECRET, token="a-session-token"))
    assert r["StatusCode"] == 200


def test_boto3_signed_control_plane(daemon):
    c = client(daemon.endpoint)
    names = [f["FunctionName"] for f in c.list_functions()["Functions"]]
    assert "SecEcho" in names
    assert c.get_function_configuration(FunctionName="SecEcho", Qualifier="live")["Version"] == "1"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return {'created': event}\n")
    c.create_function(FunctionName="SecCreated", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                      Code={"ZipFile": buf.getvalue()})
    try:
        wait_for(lambda: c.get_function_configuration(FunctionName="SecCreated")["State"] == "Active",
                 what="SecCreated active")
        assert invoke(c, "SecCreated", {"x": 1})["Body"] == {"created": {"x": 1}}
    finally:
        c.delete_function(FunctionName="SecCreated")


def test_streaming_invoke_async_and_event_invocation_are_signed_too(daemon):
    c = client(daemon.endpoint)
    assert c.invoke(FunctionName="SecEcho", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    assert c.invoke(FunctionName="SecEcho", InvocationType="DryRun")["StatusCode"] == 204
    assert c.invoke_async(FunctionName="SecEcho", InvokeArgs=b"{}")["Status"] == 202
    # InvokeWithResponseStream (this botocore has no method for it: signed by hand, SigV4Auth).
    path = "/2021-11-15/functions/SecEcho/response-streaming-invocations?Qualifier=live"
    status, headers, body = send(daemon.endpoint, sign(daemon.endpoint, path, b'{"s": 1}'))
    assert status == 200 and headers["Content-Type"] == "application/vnd.amazon.eventstream", (status, body)
    assert b'"event": {"s": 1}' in body and b"InvokeComplete" in body
    status, headers, _ = send(daemon.endpoint, sign(daemon.endpoint, path, b"{}", secret="wrong"))
    assert status == 403 and headers["X-Amzn-ErrorType"] == "InvalidSignatureException"
    e = error_of(lambda: client(daemon.endpoint, secret="wrong").invoke_async(FunctionName="SecEcho", InvokeArgs=b"{}"))
    assert e["Error"]["Code"] == "InvalidSignatureException"
    e = error_of(lambda: client(daemon.endpoint, secret="wrong").invoke(
        FunctionName="SecEcho", InvocationType="Event", Payload=b"{}"))
    assert e["Error"]["Code"] == "InvalidSignatureException"


# ---------------------------------------------------------------------------------------------
# refused requests

def test_wrong_secret_is_403_invalid_signature(daemon):
    e = error_of(lambda: invoke(client(daemon.endpoint, secret="not-the-secret")))
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["Error"]["Code"] == "InvalidSignatureException"
    assert e["Error"]["Message"].startswith(BAD_SIGNATURE)
    e = error_of(lambda: client(daemon.endpoint, secret="not-the-secret").list_functions())
    assert e["Error"]["Code"] == "InvalidSignatureException"


def test_unknown_key_is_403_unrecognized_client(daemon):
    e = error_of(lambda: invoke(client(daemon.endpoint, key="AKIDNOTLISTED", secret=SECRET)))
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["Error"]["Code"] == "UnrecognizedClientException"
    assert e["Error"]["Message"] == "The security token included in the request is invalid."


def test_unsigned_is_403_missing_authentication_token(daemon):
    e = error_of(lambda: invoke(client(daemon.endpoint, unsigned=True)))
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert e["Error"]["Message"] == "Missing Authentication Token"
    # The wire: status, X-Amzn-ErrorType, a request id and a {"message": ...} body.
    for method, path in [("POST", "/2015-03-31/functions/SecEcho/invocations"),
                         ("GET", "/2015-03-31/functions/"),
                         ("POST", "/2014-11-13/functions/SecEcho/invoke-async/"),
                         ("GET", "/_lambdad/status"),
                         ("POST", "/_lambdad/functions/SecEcho/evict"),
                         ("GET", "/no/such/route")]:
        req = urllib.request.Request(daemon.endpoint + path, data=b"{}" if method == "POST" else None, method=method)
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(req, timeout=10)
        assert raised.value.code == 403, path
        assert raised.value.headers["X-Amzn-ErrorType"] == "MissingAuthenticationTokenException", path
        assert raised.value.headers["x-amzn-RequestId"], path
        assert json.loads(raised.value.read()) == {"message": "Missing Authentication Token"}, path


class _Shifted(datetime.datetime):
    shift = datetime.timedelta(0)

    @classmethod
    def utcnow(cls):
        return datetime.datetime.utcnow() + cls.shift


def signed_at(c, minutes, call):
    """Runs `call` with botocore's SigV4 signers `minutes` off the real time: the Python one and,
    when awscrt is installed (botocore then prefers it), the CRT one."""
    fake = mock.MagicMock()
    fake.datetime = type("Shifted", (_Shifted,), {"shift": datetime.timedelta(minutes=minutes)})
    fake.timezone = datetime.timezone
    with contextlib.ExitStack() as patches:
        patches.enter_context(mock.patch("botocore.auth.datetime", fake))
        if botocore.compat.HAS_CRT:
            patches.enter_context(mock.patch("botocore.crt.auth.datetime", fake))
        return call()


def test_signature_six_minutes_old_is_expired(daemon):
    c = client(daemon.endpoint)
    e = error_of(lambda: signed_at(c, -6, lambda: invoke(c)))
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["Error"]["Code"] == "InvalidSignatureException"
    msg = e["Error"]["Message"]
    assert msg.startswith("Signature expired: ") and msg.endswith(" - 5 min.)"), msg
    assert " is now earlier than " in msg
    # Within the window either way: served.
    assert signed_at(c, -4, lambda: invoke(c))["StatusCode"] == 200
    assert signed_at(c, 4, lambda: invoke(c))["StatusCode"] == 200
    e = error_of(lambda: signed_at(c, 6, lambda: invoke(c)))
    assert e["Error"]["Code"] == "InvalidSignatureException"
    assert e["Error"]["Message"].startswith("Signature not yet current: ")


def sign(endpoint, path, body, key=KEY, secret=SECRET, region="us-east-1", service="lambda"):
    req = AWSRequest(method="POST", url=endpoint + path, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), service, region).add_auth(req)
    return req


def send(endpoint, req, body=None):
    r = urllib.request.Request(req.url, data=req.body if body is None else body, method=req.method,
                               headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_body_changed_after_signing_is_refused(daemon):
    path = "/2015-03-31/functions/SecEcho/invocations"
    req = sign(daemon.endpoint, path, b'{"amount": 1}')
    status, _, body = send(daemon.endpoint, req)
    assert status == 200 and json.loads(body)["event"] == {"amount": 1}
    status, headers, body = send(daemon.endpoint, req, body=b'{"amount": 9}')
    assert status == 403 and headers["X-Amzn-ErrorType"] == "InvalidSignatureException"
    # The message shows what the daemon signed, as AWS does, to debug a signer.
    message = json.loads(body)["message"]
    assert message.startswith(BAD_SIGNATURE)
    assert "POST\n/2015-03-31/functions/SecEcho/invocations\n" in message


def test_scope_of_another_service_or_region_is_refused(daemon):
    path = "/2015-03-31/functions/SecEcho/invocations"
    status, headers, body = send(daemon.endpoint, sign(daemon.endpoint, path, b"{}", service="s3"))
    assert status == 403 and headers["X-Amzn-ErrorType"] == "InvalidSignatureException"
    assert "correct service: 'lambda'" in json.loads(body)["message"]
    status, headers, body = send(daemon.endpoint, sign(daemon.endpoint, path, b"{}", region="eu-west-1"))
    assert status == 403 and headers["X-Amzn-ErrorType"] == "InvalidSignatureException"
    assert "'eu-west-1'" in json.loads(body)["message"]


def test_the_daemon_keeps_serving_after_refusals(daemon):
    for _ in range(3):
        error_of(lambda: invoke(client(daemon.endpoint, secret="x")))
        error_of(lambda: invoke(client(daemon.endpoint, unsigned=True)))
    assert invoke(client(daemon.endpoint))["StatusCode"] == 200


# ---------------------------------------------------------------------------------------------
# AWS CLI v2

def test_lambdads_own_clients_sign_with_the_environments_keys(daemon, tmp_path):
    """`lambdad evict` and `lambdad test --endpoint` sign with AWS_ACCESS_KEY_ID/SECRET from the
    environment, as the SDKs do; without keys they are refused like any unsigned client."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    keyed = {**base, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
    evict = [LAMBDAD, "evict", "SecEcho", "--endpoint", daemon.endpoint]
    ok = subprocess.run(evict, env=keyed, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(evict, env=base, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "MissingAuthenticationToken" in refused.stdout + refused.stderr
    wrong = subprocess.run(evict, env={**keyed, "AWS_SECRET_ACCESS_KEY": "nope"}, capture_output=True, text=True,
                           timeout=60)
    assert wrong.returncode == 1 and "InvalidSignatureException" in wrong.stdout + wrong.stderr

    (tmp_path / "echo.case.yaml").write_text(
        "function: SecEcho\ncases:\n  - name: signed echo\n    event: {k: signed}\n"
        "    expect: {resultContains: {event: {k: signed}}}\n")
    suite = [LAMBDAD, "test", "--template", str(TEMPLATE), "--endpoint", daemon.endpoint, str(tmp_path)]
    passed = subprocess.run(suite, env=keyed, capture_output=True, text=True, timeout=120)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    unsigned = subprocess.run(suite, env=base, capture_output=True, text=True, timeout=120)
    assert unsigned.returncode == 1 and "Missing Authentication Token" in unsigned.stdout, unsigned.stdout


def test_aws_cli_signed_and_refused(daemon, cli_env, tmp_path):
    env = {**cli_env, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
    out = tmp_path / "out.json"
    r = subprocess.run([AWS_CLI, "lambda", "invoke", "--endpoint-url", daemon.endpoint, "--function-name",
                        ARN + "SecEcho:live", "--cli-binary-format", "raw-in-base64-out", "--payload",
                        '{"from": "cli"}', str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ExecutedVersion"] == "1"
    assert json.loads(out.read_text())["event"] == {"from": "cli"}
    r = subprocess.run([AWS_CLI, "lambda", "list-functions", "--endpoint-url", daemon.endpoint], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "SecEcho" in [f["FunctionName"] for f in json.loads(r.stdout)["Functions"]]

    r = subprocess.run([AWS_CLI, "lambda", "list-functions", "--endpoint-url", daemon.endpoint],
                       env={**env, "AWS_SECRET_ACCESS_KEY": "wrong"}, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "(InvalidSignatureException) when calling the ListFunctions operation" in r.stderr
    r = subprocess.run([AWS_CLI, "lambda", "list-functions", "--endpoint-url", daemon.endpoint, "--no-sign-request"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "(MissingAuthenticationTokenException) when calling the ListFunctions operation" in r.stderr


# ---------------------------------------------------------------------------------------------
# the credentials file

def test_json_credentials_file(start_daemon, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({KEY: SECRET}))
    d = start_daemon(TEMPLATE, "--credentials", str(path))
    assert invoke(client(d.endpoint))["StatusCode"] == 200
    assert error_of(lambda: invoke(client(d.endpoint, OTHER_KEY, OTHER_SECRET)))["Error"]["Code"] == \
        "UnrecognizedClientException"
    assert d.wait_for_log(r"requests must be signed \(AWS SigV4\) by one of the 1 key")


def serve_exit(*args, env=None):
    return subprocess.run([LAMBDAD, "serve", "--template", str(TEMPLATE), "--port", "0", *args],
                          capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("content, message", [
    ("[default]\naws_access_key_id = AKID\n", ":1: [default] has aws_access_key_id but no aws_secret_access_key"),
    ("[default]\naws_access_key_id = AKID\naws_secret_access_key = s\nnonsense\n",
     ":4: expected 'key = value' or '[profile]', got 'nonsense'"),
    ('{"AKID": 5}', ": key 'AKID': the secret access key must be a non-empty string"),
    ("# nothing\n", ": no keys"),
])
def test_bad_credentials_file_exits_2_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "creds"
    path.write_text(content)
    r = serve_exit("--credentials", str(path))
    assert r.returncode == 2
    assert f"--credentials: {path}{message}" in r.stderr, r.stderr


def test_missing_credentials_file_exits_2(tmp_path):
    r = serve_exit("--credentials", str(tmp_path / "absent"))
    assert r.returncode == 2 and f"{tmp_path / 'absent'}: cannot be read" in r.stderr


# ---------------------------------------------------------------------------------------------
# binding

def non_loopback_address():
    """An address of this host other than loopback, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") else addr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_non_loopback_host_needs_allow_remote(host):
    r = serve_exit("--host", host)
    assert r.returncode == 2
    assert "--allow-remote" in r.stderr and host in r.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost"])
def test_loopback_hosts_need_no_flag(start_daemon, host):
    d = start_daemon(TEMPLATE, "--host", host)
    assert "reachable from other hosts" not in d.logs()


def listening_sockets(pid):
    """(address, port) of the TCP sockets process `pid` listens on, from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    out = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        with open(f"/proc/{pid}/net/{table}") as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A" or inode not in inodes:  # 0A: LISTEN
                    continue
                addr_hex, port_hex = local.split(":")
                raw = bytes.fromhex(addr_hex)
                # /proc prints each 32-bit word in host (little-endian) order.
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                out.append((socket.inet_ntop(family, raw), int(port_hex, 16)))
    return out


def test_allow_remote_warns_and_runtime_api_stays_on_loopback(start_daemon, credentials_file):
    d = start_daemon(TEMPLATE, "--host", "0.0.0.0", "--allow-remote")
    d.wait_for_log(r"warn.*bound to 0\.0\.0\.0 \(--allow-remote\), reachable from other hosts, WITHOUT authentication")
    endpoint = f"http://127.0.0.1:{d.port}"
    c = client(endpoint)
    env = invoke(c, payload={"mode": "env"})["Body"]
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    runtime_port = int(env["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)[1])
    listening = listening_sockets(d.proc.pid)
    assert ("0.0.0.0", d.port) in listening
    assert ("127.0.0.1", runtime_port) in listening
    others = [s for s in listening if s[1] != d.port]
    assert others and all(addr == "127.0.0.1" for addr, _ in others), listening
    addr = non_loopback_address()
    if addr:  # reachable through a non-loopback interface, as asked
        assert invoke(client(f"http://{addr}:{d.port}"))["StatusCode"] == 200
        with pytest.raises(OSError):
            socket.create_connection((addr, runtime_port), timeout=5).close()

    signed = start_daemon(TEMPLATE, "--host", "0.0.0.0", "--allow-remote", "--credentials", str(credentials_file))
    signed.wait_for_log(r"warn.*bound to 0\.0\.0\.0 \(--allow-remote\), reachable from other hosts; only requests "
                        r"signed with a key from ")
    assert "WITHOUT authentication" not in signed.logs()


# ---------------------------------------------------------------------------------------------
# what a function sees of the daemon's environment

LAMBDA_VARIABLES = {
    "PATH", "LANG", "TZ", "LD_LIBRARY_PATH", "PYTHONPATH", "NODE_PATH", "_HANDLER", "_X_AMZN_TRACE_ID",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_INITIALIZATION_TYPE", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS",
    "_AWS_XRAY_DAEMON_PORT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "PWD",        # Lambda's: /var/task (lambda-spec §5)
    "TMPDIR",     # lambdad's: the environment's own /tmp (src/sandbox/execution_environment.cpp)
    "LC_CTYPE",   # Python's own locale coercion (PEP 538), set inside the runtime process
}


def test_function_sees_no_daemon_variable_but_role_credentials(start_daemon):
    canary = "canary-7f3e1d0c"
    d = start_daemon(TEMPLATE, env={
        "LAMBDAD_SECRET_CANARY": canary, "DATABASE_PASSWORD": canary, "HOME": "/nonexistent-home-" + canary,
        "AWS_ACCESS_KEY_ID": "AKIDROLE", "AWS_SECRET_ACCESS_KEY": "role-secret", "AWS_SESSION_TOKEN": "role-token",
    })
    env = invoke(client(d.endpoint), payload={"mode": "env"})["Body"]
    assert not [k for k, v in env.items() if canary in k or canary in v], env
    assert "LAMBDAD_SECRET_CANARY" not in env and "DATABASE_PASSWORD" not in env
    # Role credentials are passed on by design (lambda-spec §5: the function's role).
    assert env["AWS_ACCESS_KEY_ID"] == "AKIDROLE"
    assert env["AWS_SECRET_ACCESS_KEY"] == "role-secret"
    assert env["AWS_SESSION_TOKEN"] == "role-token"
    assert env["FROM_TEMPLATE"] == "template-value"
    unexpected = set(env) - LAMBDA_VARIABLES - {"FROM_TEMPLATE"}
    assert not unexpected, unexpected
