"""Settings from lambdad.toml / lambdad.json and LAMBDAD_* variables, with the real binary:
command line > environment > config file > defaults; errors name the key or the variable; every
command's --help shows examples, the precedence and the exit codes."""
import json
import os
import subprocess

import pytest

from conftest import FUNCTIONS, LAMBDAD, Daemon, lambda_client

TEMPLATE = FUNCTIONS / "cli" / "template.yaml"
COMMANDS = ["serve", "invoke", "evict", "test", "generate-event"]


def clean_env(**extra):
    """The test's environment without any LAMBDAD_* setting a developer may have exported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDAD_") or k == "LAMBDAD_BIN"}
    env.update(extra)
    return env


def run(*args, cwd, env=None, stdin=None):
    return subprocess.run([LAMBDAD, *args], cwd=cwd, env=env or clean_env(), input=stdin, capture_output=True,
                          text=True, timeout=60)


def invoke_region(cwd, *args, env=None):
    p = run("invoke", "Echo", *args, cwd=cwd, env=env)
    assert p.returncode == 0, p.stderr
    region = json.loads(p.stdout)["env"]["AWS_REGION"]
    assert f"Runtime Version ARN: arn:aws:lambda:{region}::runtime:" in p.stderr, p.stderr  # INIT_START
    return region


def printed(cwd, command, *args, env=None):
    """`lambdad COMMAND --print-config` as {key: (value line, origin)}."""
    p = run(command, *args, "--print-config", cwd=cwd, env=env)
    assert p.returncode == 0, p.stderr
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("#") or line.startswith("[") or "=" not in line:
            continue
        setting, origin = line.split("  # ", 1)
        key, value = setting.split("=", 1)
        out[key.strip()] = (value.strip(), origin.strip())
    return out


@pytest.fixture
def project(tmp_path):
    """A directory with a lambdad.toml that names the command-line tests' template."""
    (tmp_path / "lambdad.toml").write_text(
        "# lambdad settings for this project\n"
        f"template = {json.dumps(str(TEMPLATE))}\n"
        "region = \"eu-west-1\"\n"
        "\n"
        "[serve]\n"
        "port = 0            # any free port\n"
        "log_level = \"warn\"\n"
        "[invoke]\n"
        "log-level = \"error\"\n")
    return tmp_path


def test_lambdad_toml_in_the_current_directory_configures_serve(project):
    served = Daemon(None, env=clean_env(), cwd=project, bare=True)
    try:
        assert not served.endpoint.endswith(":3001")  # the file's port 0, not the default
        body = json.loads(lambda_client(served.endpoint).invoke(FunctionName="Echo")["Payload"].read())
        assert body["env"]["AWS_REGION"] == "eu-west-1"
    finally:
        assert served.stop() == 0
    log = served.logs()
    assert "START RequestId" in log  # the function's lines still come through
    assert " info  " not in log, log  # log-level warn from [serve]
    settings = printed(project, "serve")
    assert settings["port"] == ("0", "lambdad.toml:6 [serve]")
    assert settings["log-level"] == ('"warn"', "lambdad.toml:7 [serve]")
    assert settings["region"] == ('"eu-west-1"', "lambdad.toml:3")
    assert settings["host"] == ('"127.0.0.1"', "default")


def test_environment_overrides_the_file_and_the_command_line_overrides_both(project):
    assert invoke_region(project) == "eu-west-1"
    env = clean_env(LAMBDAD_REGION="us-west-2")
    assert invoke_region(project, env=env) == "us-west-2"
    assert invoke_region(project, "--region", "ap-south-1", env=env) == "ap-south-1"
    settings = printed(project, "invoke", "Echo", "--log-level", "debug", env=env)
    assert settings["region"] == ('"us-west-2"', "LAMBDAD_REGION")
    assert settings["log-level"] == ('"debug"', "command line")
    assert settings["template"][1] == "lambdad.toml:2"
    # Booleans and lists from the environment.
    env = clean_env(LAMBDAD_FORCE_COLD="1", LAMBDAD_COLD_START_DELAY="100ms,Echo=1s",
                    LAMBDAD_PARAMETER_OVERRIDES="Stage=dev,ParameterKey=Size,ParameterValue=10")
    settings = printed(project, "serve", env=env)
    assert settings["force-cold"] == ("true", "LAMBDAD_FORCE_COLD")
    assert settings["cold-start-delay"] == ('["100ms", "Echo=1s"]', "LAMBDAD_COLD_START_DELAY")
    assert settings["parameter-overrides"][0] == '["Stage=dev", "ParameterKey=Size,ParameterValue=10"]'


def test_config_flag_and_variable_name_a_json_file(tmp_path, project):
    other = tmp_path / "elsewhere"
    other.mkdir()
    config = other / "settings.json"
    config.write_text(json.dumps({"template": str(TEMPLATE), "region": "ca-central-1",
                                  "invoke": {"region": "sa-east-1", "log-level": "error"}}))
    # In the project directory, --config replaces its lambdad.toml; before or after the command.
    assert invoke_region(project, "--config", str(config)) == "sa-east-1"
    p = run("--config", str(config), "serve", "--print-config", cwd=project)
    assert p.returncode == 0, p.stderr
    assert 'region = "ca-central-1"' in p.stdout and f"# config file: {config}" in p.stdout
    assert invoke_region(tmp_path, env=clean_env(LAMBDAD_CONFIG=str(config))) == "sa-east-1"
    # A named file that does not exist is an error; an absent lambdad.toml is not.
    p = run("invoke", "Echo", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert p.returncode == 2 and "--config names" in p.stderr and "nope.toml" in p.stderr, p.stderr
    p = run("invoke", "Echo", cwd=tmp_path, env=clean_env(LAMBDAD_CONFIG="missing.json"))
    assert p.returncode == 2 and "LAMBDAD_CONFIG names missing.json" in p.stderr, p.stderr
    assert invoke_region(other, "--template", str(TEMPLATE)) == "us-east-1"


def test_unknown_keys_and_bad_values_exit_2_naming_the_key(tmp_path):
    (tmp_path / "lambdad.toml").write_text("[serve]\nprot = 3005\nlog-level = \"loud\"\n[invoke]\nfunction = \"Echo\"\n")
    p = run("serve", cwd=tmp_path)
    assert p.returncode == 2
    assert "lambdad.toml:2: unknown key 'prot' in [serve] (did you mean 'port'?)" in p.stderr, p.stderr
    assert "lambdad.toml:3: key 'log-level' in [serve]" in p.stderr and "loud" in p.stderr, p.stderr
    assert "function is a positional argument of invoke" in p.stderr, p.stderr
    assert "Invoke API listening" not in p.stdout
    (tmp_path / "lambdad.toml").write_text("region = eu-west-1\n")
    p = run("invoke", "Echo", "--template", str(TEMPLATE), cwd=tmp_path)
    assert p.returncode == 2 and "lambdad.toml:1: 'eu-west-1' is not a TOML value" in p.stderr, p.stderr
    (tmp_path / "lambdad.toml").unlink()
    (tmp_path / "lambdad.json").write_text(json.dumps({"serve": {"port": [1, 2]}, "evict": {"endpoint": 7}}))
    p = run("serve", cwd=tmp_path)
    assert p.returncode == 2 and "lambdad.json: key 'port' in [serve]: takes one value, not an array" in p.stderr


def test_bad_environment_values_exit_2_naming_the_variable(tmp_path):
    p = run("serve", "--template", str(TEMPLATE), cwd=tmp_path, env=clean_env(LAMBDAD_PORT="abc"))
    assert p.returncode == 2
    assert "LAMBDAD_PORT: 'abc' is not" in p.stderr, p.stderr
    p = run("serve", "--template", str(TEMPLATE), cwd=tmp_path,
            env=clean_env(LAMBDAD_FORCE_COLD="maybe", LAMBDAD_WARM_CONTAINERS="SOMETIMES"))
    assert p.returncode == 2
    assert "LAMBDAD_FORCE_COLD: expects true, false, 1 or 0, not 'maybe'" in p.stderr, p.stderr
    assert "LAMBDAD_WARM_CONTAINERS" in p.stderr and "SOMETIMES" in p.stderr, p.stderr
    # Unknown LAMBDAD_* variables are not flags and are left alone; LAMBDAD_RUNTIMES_DIR is --runtimes-dir's.
    env = clean_env(LAMBDAD_NOT_A_FLAG="x", LAMBDAD_RUNTIMES_DIR=str(tmp_path / "no-runtimes"))
    settings = printed(tmp_path, "serve", env=env)
    assert settings["runtimes-dir"] == (json.dumps(str(tmp_path / "no-runtimes")), "LAMBDAD_RUNTIMES_DIR")


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]], ids=["lambdad", *COMMANDS])
def test_every_help_has_examples_precedence_and_exit_codes(tmp_path, command):
    p = run(*command, "--help", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "Example" in p.stdout
    assert "command line > environment > config file > defaults" in " ".join(p.stdout.split())
    assert "Exit codes: 0" in p.stdout
    if command:
        assert "--config" in p.stdout and "--print-config" in p.stdout


def test_interpreter_lists_from_each_layer_reach_the_runtime(tmp_path):
    """--interpreter RUNTIME=PROGRAM items, from the file, the environment and the command line, are
    what the Python function is started with (a missing program shows in its log)."""
    template = FUNCTIONS / "runtimes" / "template.yaml"
    (tmp_path / "lambdad.toml").write_text(
        f"template = {json.dumps(str(template))}\n"
        "[invoke]\ninterpreter = [\"python=/nonexistent/from-file\", \"nodejs=node\"]\n")

    def started_with(*args, env=None):
        p = run("invoke", "PyEcho", *args, cwd=tmp_path, env=env)
        return [w for w in ("from-file", "from-env", "from-cli") if f"/nonexistent/{w}" in p.stderr]

    assert started_with() == ["from-file"]
    env = clean_env(LAMBDAD_INTERPRETER="nodejs=node,python=/nonexistent/from-env")
    assert started_with(env=env) == ["from-env"]
    assert started_with("--interpreter", "python=/nonexistent/from-cli", env=env) == ["from-cli"]
    p = run("invoke", "PyEcho", "--interpreter", "python", cwd=tmp_path)
    assert p.returncode == 2 and "expected RUNTIME=PROGRAM" in p.stderr, p.stderr


def test_generate_event_takes_account_region_and_fixed_but_not_event_content(tmp_path):
    (tmp_path / "lambdad.toml").write_text("region = \"eu-west-1\"\n[generate-event]\naccount = \"111122223333\"\n")
    # LAMBDAD_STAGE is serverless.yml's --stage elsewhere; it must not land in an S3 event.
    env = clean_env(LAMBDAD_FIXED="true", LAMBDAD_STAGE="prod", LAMBDAD_BUCKET="ignored")
    p = run("generate-event", "s3", "put", "--bucket", "photos", cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    record = json.loads(p.stdout)["Records"][0]
    assert record["awsRegion"] == "eu-west-1"
    assert record["s3"]["bucket"]["name"] == "photos"
    assert p.stdout == run("generate-event", "s3", "put", "--bucket", "photos", cwd=tmp_path, env=env).stdout  # fixed
    settings = printed(tmp_path, "generate-event", env=env)
    assert set(settings) == {"account", "region", "fixed"}
    assert settings["account"] == ('"111122223333"', "lambdad.toml:3 [generate-event]")
    (tmp_path / "lambdad.toml").write_text("[generate-event]\nbucket = \"b\"\n")
    p = run("generate-event", "s3", "put", cwd=tmp_path)
    assert p.returncode == 2 and "--bucket is given on the command line only" in p.stderr, p.stderr
