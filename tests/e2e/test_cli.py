"""The command line: `lambdad invoke`, template errors, readiness and shutdown of `lambdad serve`."""
import json
import os
import signal
import subprocess
import time

from conftest import FUNCTIONS, LAMBDAD, Daemon, lambda_client

TEMPLATE = FUNCTIONS / "cli" / "template.yaml"


def run_invoke(*args, stdin=None):
    return subprocess.run([LAMBDAD, "invoke", *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_invoke_prints_result_on_stdout_and_platform_lines_on_stderr(tmp_path):
    event = tmp_path / "e.json"
    event.write_text('{"x": 1}')
    p = run_invoke("Echo", "--template", str(TEMPLATE), "--event", str(event))
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result["event"] == {"x": 1}
    rid = result["requestId"]
    assert f"START RequestId: {rid} Version: $LATEST" in p.stderr
    assert f"END RequestId: {rid}" in p.stderr
    report = [l for l in p.stderr.splitlines() if f"REPORT RequestId: {rid}\t" in l]
    assert len(report) == 1, p.stderr
    assert "\tInit Duration: " in report[0] and "\tMemory Size: 128 MB\t" in report[0]
    assert report[0].endswith("\t")
    assert f"[{rid}] echo handling {rid}" in p.stderr


def test_invoke_reads_event_from_stdin_and_defaults_to_empty_object():
    p = run_invoke("Echo", "--template", str(TEMPLATE), "--event", "-", stdin='{"from": "stdin"}')
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["event"] == {"from": "stdin"}
    p = run_invoke("Echo", "--template", str(TEMPLATE))
    assert json.loads(p.stdout)["event"] == {}


def test_environment_is_lambdas_not_the_daemons():
    p = run_invoke("Echo", "--template", str(TEMPLATE))
    env = json.loads(p.stdout)["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "Echo"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/Echo"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["TZ"] == ":UTC"
    assert env["GREETING"] == "hi"
    # In a Lambda-shaped root (as root) the code is at /var/task, as on Lambda.
    code = "/var/task" if os.geteuid() == 0 else str((FUNCTIONS / "cli" / "echo").resolve())
    assert env["LAMBDA_TASK_ROOT"] == env["PWD"] == code
    assert env["HOME"] is None


def test_invoke_exit_code_1_on_function_error():
    p = run_invoke("Fail", "--template", str(TEMPLATE), "--event", "-", stdin='{"x": 7}')
    assert p.returncode == 1
    assert json.loads(p.stdout) == {"errorMessage": "bad input: 7", "errorType": "ValidationError"}
    assert "Status: error\tError Type: Function.Unhandled\t" in p.stderr


def test_invoke_timeout_is_sandbox_timedout():
    p = run_invoke("Sleeper", "--template", str(TEMPLATE), "--event", "-", stdin='{"sleep": 5}')
    assert p.returncode == 1
    body = json.loads(p.stdout)
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert "Status: timeout" in p.stderr


def test_invoke_usage_errors_exit_2(tmp_path):
    assert run_invoke("Nope", "--template", str(TEMPLATE)).returncode == 2
    bad_event = tmp_path / "bad.json"
    bad_event.write_text("{not json")
    assert run_invoke("Echo", "--template", str(TEMPLATE), "--event", str(bad_event)).returncode == 2
    assert run_invoke("Echo", "--template", str(tmp_path / "missing.yaml")).returncode == 2
    assert subprocess.run([LAMBDAD, "frobnicate"], capture_output=True).returncode == 2


def test_invalid_template_lists_every_problem_and_exits_2(tmp_path):
    (tmp_path / "code").mkdir()
    t = tmp_path / "template.yaml"
    t.write_text(
        "Resources:\n"
        "  A:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        "      CodeUri: code/\n"
        "      MemorySize: lots\n"
        "  B:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: cobol85\n"
        "      CodeUri: nowhere/\n")
    p = subprocess.run([LAMBDAD, "serve", "--template", str(t), "--port", "0"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert "Invoke API listening" not in p.stdout
    err = p.stderr
    assert f"{t}:8:" in err and "MemorySize" in err, err
    assert "cobol85" in err and "nowhere" in err, err


def test_serve_ready_line_and_sigterm_kills_every_process_group(host_dir):
    d = Daemon(TEMPLATE)
    try:
        assert d.endpoint.startswith("http://127.0.0.1:") and d.port > 0
        client = lambda_client(d.endpoint)
        marker = host_dir / "grandchild.pid"
        r = client.invoke(FunctionName="Sleeper", Payload=json.dumps({"spawn": str(marker)}))
        runtime_pid = json.loads(r["Payload"].read())["pid"]
        grandchild = int(marker.read_text())
        os.kill(runtime_pid, 0)
        os.kill(grandchild, 0)
    finally:
        rc = d.stop(signal.SIGTERM)
    assert rc == 0
    for pid in (runtime_pid, grandchild):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.05)
        assert not alive(pid), f"process {pid} outlived the daemon"


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_invoke_needs_no_name_when_the_template_has_one_function(tmp_path):
    t = tmp_path / "template.yaml"
    t.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n"
                 f"  CliRuntime:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {{ContentUri: {FUNCTIONS / 'cli' / 'runtime'}}}\n"
                 "  Only:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                 f"      Runtime: provided.al2023\n      CodeUri: {FUNCTIONS / 'cli' / 'echo'}\n"
                 "      FunctionName: only-one\n      Layers: [!Ref CliRuntime]\n")
    event = tmp_path / "e.json"
    event.write_text('{"x": 2}')
    p = run_invoke("--template", str(t), "--event", str(event))
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result["event"] == {"x": 2}
    assert result["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "only-one"
    # By its logical id, too.
    p = run_invoke("Only", "--template", str(t), "--event", str(event))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "only-one"


def test_invoke_without_a_name_lists_the_functions_when_there_are_several():
    p = run_invoke("--template", str(TEMPLATE))
    assert p.returncode == 2
    assert f"lambdad: {TEMPLATE} has 3 functions; name one (functions: Echo, Fail, Sleeper)" in p.stderr, p.stderr
    assert p.stdout == ""


def test_a_port_in_use_is_reported_with_its_cause():
    d = Daemon(TEMPLATE)
    try:
        p = subprocess.run([LAMBDAD, "serve", "--template", str(TEMPLATE), "--port", str(d.port)],
                           capture_output=True, text=True, timeout=30)
    finally:
        assert not d.stop_and_check()
    assert p.returncode == 2
    assert f"lambdad: cannot bind 127.0.0.1:{d.port}: Address already in use" in p.stderr, p.stderr
    assert "Invoke API listening" not in p.stdout


def test_a_runtime_lambda_blocks_is_a_template_error(tmp_path):
    (tmp_path / "code").mkdir()
    t = tmp_path / "template.yaml"
    t.write_text("Resources:\n  Old:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                 "      Runtime: python3.8\n      Handler: app.handler\n      CodeUri: code/\n")
    p = subprocess.run([LAMBDAD, "serve", "--template", str(t), "--port", "0"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert "Invoke API listening" not in p.stdout
    assert (f"{t}:5: Old.Properties.Runtime: The runtime parameter of python3.8 is no longer supported for "
            "creating or updating AWS Lambda functions. We recommend you use the new runtime (python3.13) while "
            "creating or updating functions.") in p.stderr, p.stderr
