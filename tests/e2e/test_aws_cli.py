"""AWS CLI v2 (/usr/bin/aws, Debian's awscli package) against the real daemon.

`aws lambda invoke` prints the response metadata as JSON and writes the payload to a file; the
checks below are on exactly what a user of the CLI sees. The `aws` first on PATH may be a v1
from a Python environment, so the binary is named explicitly.
"""
import json
import pathlib
import subprocess

import pytest

from conftest import AWS_CLI as AWS
from conftest import FUNCTIONS

TEMPLATE = FUNCTIONS / "sdk" / "template.yaml"
ECHO = {"python": "PyEcho", "node": "NodeEcho", "provided": "ProvidedEcho"}
FAIL = {"python": "PyFail", "node": "NodeFail", "provided": "ProvidedFail"}


@pytest.fixture
def cli(start_daemon, cli_env, tmp_path):
    daemon = start_daemon(TEMPLATE)

    def invoke(function_name, payload=None):
        out = tmp_path / f"out-{len(list(tmp_path.iterdir()))}.json"
        cmd = [AWS, "lambda", "invoke", "--endpoint-url", daemon.endpoint,
               "--function-name", function_name, "--cli-binary-format", "raw-in-base64-out",
               "--cli-connect-timeout", "5", "--cli-read-timeout", "60", "--output", "json"]
        if payload is not None:
            cmd += ["--payload", payload]
        cmd.append(str(out))
        proc = subprocess.run(cmd, env=cli_env, capture_output=True, text=True, timeout=120)
        return proc, out

    return invoke


def metadata(proc):
    assert proc.returncode == 0, f"aws exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}"
    return json.loads(proc.stdout)


@pytest.mark.parametrize("runtime", sorted(ECHO))
def test_invoke_writes_result_to_outfile(cli, runtime):
    event = {"name": "Ada", "n": [1, 2, 3]}
    proc, out = cli(ECHO[runtime], json.dumps(event))
    meta = metadata(proc)
    assert meta["StatusCode"] == 200
    assert meta["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in meta
    result = json.loads(out.read_bytes())
    assert result["runtime"] == runtime
    assert result["event"] == event
    assert result["keys"] == ["n", "name"]
    assert result["functionName"] == ECHO[runtime]


@pytest.mark.parametrize("runtime", sorted(ECHO))
def test_invoke_without_payload_sends_empty_object(cli, runtime):
    proc, out = cli(ECHO[runtime])
    meta = metadata(proc)
    assert meta["StatusCode"] == 200
    assert json.loads(out.read_bytes())["event"] == {}


@pytest.mark.parametrize("runtime", sorted(FAIL))
def test_function_error_is_reported_as_unhandled(cli, runtime):
    proc, out = cli(FAIL[runtime], '{"name": "Grace"}')
    # A function error is not a CLI error: exit 0, FunctionError in the metadata.
    meta = metadata(proc)
    assert meta["StatusCode"] == 200
    assert meta["ExecutedVersion"] == "$LATEST"
    assert meta["FunctionError"] == "Unhandled"
    body = out.read_bytes()
    error = json.loads(body)
    if runtime == "python":
        assert error["errorType"] == "ValueError"
        assert error["errorMessage"] == "python says no to Grace"
    elif runtime == "node":
        assert error["errorType"] == "TypeError"
        assert error["errorMessage"] == "node says no to Grace"
    else:
        assert body == (b'{"errorMessage":"provided says no","errorType":"ProvidedError",'
                        b'"stackTrace":["bootstrap:1"]}')


def test_function_name_as_arn(cli):
    proc, out = cli("arn:aws:lambda:us-east-1:123456789012:function:PyEcho", '{"via": "arn"}')
    meta = metadata(proc)
    assert meta["StatusCode"] == 200
    assert json.loads(out.read_bytes())["event"] == {"via": "arn"}


def test_unknown_function_fails_with_resource_not_found(cli):
    proc, out = cli("NoSuchFunction", "{}")
    assert proc.returncode in (254, 255), (proc.returncode, proc.stdout, proc.stderr)
    assert "ResourceNotFoundException" in proc.stderr
    assert ("Function not found: arn:aws:lambda:us-east-1:123456789012:function:"
            "NoSuchFunction:$LATEST") in proc.stderr
    assert not pathlib.Path(out).exists() or out.read_bytes() == b""
