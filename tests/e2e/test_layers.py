"""Layers: template layers (AWS::Serverless::LayerVersion with a local ContentUri) reach the real
runtimes the way Lambda extracts them to /opt, in order, a later layer's file winning.

In a Lambda-shaped root (docs/decisions/014) the daemon mounts them at /opt in each environment's
own mount namespace: as root ('native', when the tests run as root) and unprivileged, in a user
namespace ('unprivileged': the daemon run as nobody through setpriv). With --filesystem host
('host') it points the search variables (PYTHONPATH, NODE_PATH, PATH, LD_LIBRARY_PATH) at the
layer directories instead. Every importability test runs in all three modes.
"""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import FUNCTIONS, LAMBDAD, REPO, invoke, lambda_client

DIR = FUNCTIONS / "layers"
TEMPLATE = DIR / "template.yaml"
PYTHON_LIBS = (DIR / "layers" / "python-libs").resolve()
NODE_LIBS = (DIR / "layers" / "node-libs").resolve()
ARN = "arn:aws:lambda:us-east-1:123456789012:layer:"
IS_ROOT = os.geteuid() == 0


def unprivileged_wrap():
    if not IS_ROOT:
        pytest.skip("the daemon already runs unprivileged: the 'native' mode covers it")
    if not shutil.which("setpriv"):
        pytest.skip("running the daemon unprivileged needs setpriv (util-linux)")
    return ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")


@pytest.fixture(params=["native", "unprivileged", "host"])
def layered(request, start_daemon):
    """(daemon, client, at_opt): the layers template served in a root as this user or as nobody
    (layers at /opt), or on host paths (layers on search paths)."""
    wrap = unprivileged_wrap() if request.param == "unprivileged" else ()
    args = ("--filesystem", "host") if request.param == "host" else ()
    d = start_daemon(TEMPLATE, *args, wrap=wrap)
    return d, lambda_client(d.endpoint), request.param != "host"


def result_of(client, name, payload=None):
    r = invoke(client, name, payload or {})
    assert r["StatusCode"] == 200 and "FunctionError" not in r, r["Body"]
    import json
    return json.loads(r["Body"])


def assert_mode_logged(d, function, at_opt):
    if at_opt:
        d.wait_for_log(r"\[%s\] environment \d+ initializing \(pid \d+, 2 layer\(s\) at /opt\)" % function)
    else:
        d.wait_for_log(r"\[%s\] environment \d+ initializing \(pid \d+, layers on search paths "
                       r"\(no Lambda-shaped root\)\)" % function)


def test_python_handler_imports_the_layers_modules(layered):
    d, client, at_opt = layered
    r = result_of(client, "LayersPython", {"name": "tester"})
    assert r["greeting"] == "hello tester from the python-libs layer"
    assert r["sitePackage"] == "site-packages of the python-libs layer"
    # Both layers have python/layer_order.py; node-libs comes later (Globals first, then the
    # function's own), so its copy wins.
    assert r["winner"] == "node-libs"
    # Lambda's order: the task root, then the layers' site-packages, then their python/.
    if at_opt:
        assert r["greetingFile"] == "/opt/python/layer_greeting.py"
        assert r["sysPath"][1:3] == ["/opt/python/lib/python3.12/site-packages", "/opt/python"], r["sysPath"]
        assert r["env"]["PYTHONPATH"] == "/opt/python/lib/python3.12/site-packages:/opt/python"
    else:
        assert r["greetingFile"] == str(PYTHON_LIBS / "python" / "layer_greeting.py")
        assert r["sysPath"][1:5] == [str(NODE_LIBS / "python/lib/python3.12/site-packages"),
                                     str(PYTHON_LIBS / "python/lib/python3.12/site-packages"),
                                     str(NODE_LIBS / "python"), str(PYTHON_LIBS / "python")], r["sysPath"]
    assert r["sysPath"][0] == ("/var/task" if at_opt else str((DIR / "python").resolve()))
    assert_mode_logged(d, "LayersPython", at_opt)


def test_node_handler_requires_the_layers_package(layered):
    d, client, at_opt = layered
    r = result_of(client, "LayersNode", {"name": "tester"})
    assert r["greeting"] == "hello tester from the node-libs layer"
    if at_opt:
        assert r["greetingFile"] == "/opt/nodejs/node_modules/layer-greeting/index.js"
        assert r["env"]["NODE_PATH"] == ("/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:"
                                         "/var/runtime/node_modules:/var/runtime:/var/task")
    else:
        task_root = str((DIR / "node").resolve())
        runtime = str(REPO / "runtimes" / "nodejs")
        assert r["greetingFile"] == str(NODE_LIBS / "nodejs/node_modules/layer-greeting/index.js")
        assert r["env"]["NODE_PATH"].endswith(
            f"{PYTHON_LIBS}/nodejs/node_modules:{runtime}/node_modules:{runtime}:{task_root}")
    assert_mode_logged(d, "LayersNode", at_opt)


@pytest.mark.parametrize("function", ["LayersPython", "LayersNode", "LayersProvided"])
def test_the_layers_bin_tool_runs_through_path(layered, function):
    d, client, at_opt = layered
    r = result_of(client, function)
    # Both layers have bin/layer-tool; the later layer's wins.
    who = {"LayersPython": "python", "LayersNode": "node", "LayersProvided": "provided"}[function]
    assert r["tool"] == f"layer-tool of node-libs from {who}"


def test_a_custom_runtime_can_come_from_a_layer(layered):
    """No bootstrap in the code: Lambda runs /opt/bootstrap, here the shell-runtime layer's."""
    d, client, at_opt = layered
    r = result_of(client, "LayersRuntimeFromLayer")
    # Its layers are python-libs (Globals) and shell-runtime: python-libs' layer-tool is the only one.
    assert r["tool"] == "layer-tool of python-libs from provided"


def test_python_sees_the_layers_at_the_literal_opt(start_daemon):
    host_opt = sorted(os.listdir("/opt"))
    d = start_daemon(TEMPLATE)
    r = result_of(lambda_client(d.endpoint), "LayersPython")
    assert r["opt"]["listing"] == ["bin", "nodejs", "python"]
    assert 'WINNER = "node-libs"' in r["opt"]["layerOrder"]
    assert r["opt"]["writable"] is False and r["opt"]["writeError"] == "Read-only file system"
    assert r["env"]["PATH"] == "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
    assert r["env"]["LD_LIBRARY_PATH"].endswith(":/opt/lib")
    # Only the environment saw them: the host's /opt and the layer directories are unchanged.
    assert sorted(os.listdir("/opt")) == host_opt
    assert not (NODE_LIBS / "written-by-function").exists()


def test_get_function_reports_the_layer_arns(start_daemon):
    d = start_daemon(TEMPLATE)
    config = lambda_client(d.endpoint).get_function(FunctionName="LayersNode")["Configuration"]
    assert [layer["Arn"] for layer in config["Layers"]] == [ARN + "python-libs:1", ARN + "node-libs:1"]


def test_serverless_layers_are_mounted_the_same_way(start_daemon):
    d = start_daemon(DIR / "serverless.yml", "--serverless", str(DIR / "serverless.yml"))
    r = result_of(lambda_client(d.endpoint), "layers-dev-fromServerless", {"name": "sls"})
    assert r["greeting"] == "hello sls from the python-libs layer"
    assert r["winner"] == "node-libs"
    assert r["tool"] == "layer-tool of node-libs from python"


def test_a_literal_layer_arn_is_a_template_error():
    template = DIR / "literal-arn" / "template.yaml"
    p = subprocess.run([LAMBDAD, "invoke", "UsesRemoteLayer", "--template", str(template), "--event", "-"],
                       input="{}", capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    assert re.search(
        r"literal-arn/template\.yaml:11: UsesRemoteLayer\.Properties\.Layers: "
        r"arn:aws:lambda:us-east-1:123456789012:layer:shared-libs:3 is not a layer of this template: "
        r"layer ARNs cannot be downloaded; define the layer in the template as AWS::Serverless::LayerVersion "
        r"with a local ContentUri", p.stderr), p.stderr


def test_layers_under_the_hosts_tmp_are_not_hidden_by_the_private_tmp(start_daemon, host_dir):
    """A layer directory under /tmp (a checkout or a test's temporary directory there) must stay
    visible, so the environment's private /tmp does not cover the host's one then."""
    import tempfile
    layers = pathlib.Path(tempfile.mkdtemp(prefix="lambdad-layers-", dir="/tmp"))
    try:
        shutil.copytree(PYTHON_LIBS, layers / "python-libs")
        shutil.copytree(NODE_LIBS, layers / "node-libs")
        os.chmod(layers, 0o755)
        template = host_dir / "template.yaml"
        template.write_text(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n"
            f"  A:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {{ContentUri: {layers / 'python-libs'}}}\n"
            f"  B:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {{ContentUri: {layers / 'node-libs'}}}\n"
            "  Fn:\n    Type: AWS::Serverless::Function\n"
            f"    Properties: {{Runtime: python3.12, Handler: app.handler, CodeUri: {(DIR / 'python').resolve()},"
            " Layers: [!Ref A, !Ref B]}\n")
        d = start_daemon(template)
        r = result_of(lambda_client(d.endpoint), "Fn", {"name": "tmp"})
        assert r["greeting"] == "hello tmp from the python-libs layer"
        assert r["winner"] == "node-libs"
        assert r["tool"] == "layer-tool of node-libs from python"
    finally:
        shutil.rmtree(layers, ignore_errors=True)
