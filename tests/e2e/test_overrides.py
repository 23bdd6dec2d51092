"""SAM habits: --env-vars (a JSON file of environment overrides, global and per function) and
--parameter-overrides reach the handler through `lambdad invoke`, `lambdad serve` and
`lambdad test`."""
import json
import subprocess

from conftest import LAMBDAD, REPO, Daemon, invoke, lambda_client

EXAMPLES = REPO / "examples" / "template.yaml"


def run_invoke(function, *args):
    r = subprocess.run([LAMBDAD, "invoke", function, "--log-level", "warn", *map(str, args)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def test_env_vars_file_overrides_declared_variables(tmp_path):
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"Parameters": {"GREETING": "hi", "UNDECLARED": "x"},
                               "HelloNode": {"GREETING": "yo", "NOT_IN_TEMPLATE": 1}}))
    python, _ = run_invoke("HelloPython", "--template", EXAMPLES, "--env-vars", env)
    assert python["message"] == "hi from python", "Parameters apply to every function"
    node, log = run_invoke("HelloNode", "--template", EXAMPLES, "--env-vars", env)
    assert node["message"] == "yo from node", "a function's own entry wins"
    assert "HelloNode does not declare the variable NOT_IN_TEMPLATE" in log


def test_env_vars_reach_functions_under_serve(tmp_path):
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"HelloPython": {"GREETING": "salut"}}))
    d = Daemon(EXAMPLES, "--env-vars", str(env))
    try:
        r = invoke(lambda_client(d.endpoint), "HelloPython", {})
        assert json.loads(r["Body"])["message"] == "salut from python"
    finally:
        assert not d.stop_and_check()


def test_a_bad_env_vars_file_is_a_usage_error(tmp_path):
    bad = tmp_path / "env.json"
    bad.write_text("[1, 2]")
    r = subprocess.run([LAMBDAD, "invoke", "HelloPython", "--template", str(EXAMPLES), "--env-vars", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--env-vars" in r.stderr


def test_parameter_overrides_in_both_spellings(tmp_path):
    code = REPO / "examples" / "functions" / "hello-python"
    template = tmp_path / "template.yaml"
    template.write_text(f"""
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {{Type: String, Default: hello}}
  Memory: {{Type: Number, Default: 128}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: {code}
      MemorySize: !Ref Memory
      Environment:
        Variables:
          GREETING: !Ref Greeting
""")
    default, _ = run_invoke("Fn", "--template", template)
    assert default["message"] == "hello from python"
    short, _ = run_invoke("Fn", "--template", template, "--parameter-overrides", "Greeting=bonjour")
    assert short["message"] == "bonjour from python"
    long, _ = run_invoke("Fn", "--template", template, "--parameter-overrides",
                         "ParameterKey=Greeting,ParameterValue=hola", "Memory=256")
    assert long["message"] == "hola from python"
