"""A Lambda-shaped environment (docs/decisions/014): what passes here must pass on Lambda.

Each environment runs in a root of its own: the code at /var/task (read-only), our runtime client
at /var/runtime, layers at /opt, a private /tmp, the host's /usr and /etc, and nothing else of the
host. As root the daemon makes it in a mount namespace ('root'); unprivileged (the daemon run as
nobody through setpriv) in a user namespace of its own ('userns'). With --filesystem host
functions run on host paths and only the interpreters' search paths are isolated ('host', run
unprivileged too). Every import test runs in all three modes.
"""
import json
import os
import pathlib
import shutil

import pytest

from conftest import FUNCTIONS, REPO, invoke, lambda_client

DIR = FUNCTIONS / "isolation"
TEMPLATE = DIR / "template.yaml"
IS_ROOT = os.geteuid() == 0
HOST_ONLY = "/usr/lib/python3/dist-packages/yaml"  # Debian's, not part of Lambda's Python runtime


def unprivileged():
    if not shutil.which("setpriv"):
        pytest.skip("running the daemon unprivileged needs setpriv (util-linux)")
    return ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")


def wrap_for(mode):
    """How the daemon is started in `mode`: as root for 'root', as nobody otherwise."""
    if mode == "root":
        if not IS_ROOT:
            pytest.skip("the 'root' mode needs the tests to run as root")
        return ()
    return unprivileged() if IS_ROOT else ()


def start(start_daemon, mode, template=TEMPLATE, *args):
    """The daemon in `mode`: 'root' or 'userns' (a Lambda-shaped root per environment, made as root or
    in a user namespace) or 'host' (--filesystem host: host paths)."""
    if mode == "host":
        args = (*args, "--filesystem", "host")
    return start_daemon(template, *args, wrap=wrap_for(mode), share=False)


def where_functions_run(d):
    """The daemon's startup line saying whether functions run in a Lambda-shaped root (or on the
    host's paths, and why). It is logged before the ready line, but on stderr, which the fixture
    reads on a thread of its own: it is waited for, not looked up at once."""
    return d.wait_for_log(r"functions run (?:in a|on the host's paths, not in a) Lambda-shaped root[^\n]*").group(0)


def in_a_root(mode):
    return mode != "host"


def ok(client, name, payload=None):
    r = invoke(client, name, payload or {})
    assert r["StatusCode"] == 200 and "FunctionError" not in r, r["Body"]
    return json.loads(r["Body"])


def error(client, name, payload=None):
    r = invoke(client, name, payload or {})
    assert r.get("FunctionError") == "Unhandled", r
    return json.loads(r["Body"])


def world_readable(path):
    """setpriv's nobody must read what the test made."""
    for p in [path, *path.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return path


@pytest.fixture(params=["root", "userns", "host"])
def mode(request):
    return request.param


@pytest.fixture(params=["root", "userns"])
def root_mode(request):
    return request.param


@pytest.fixture
def scratch():
    """A directory setpriv's nobody can read (pytest's tmp_path is root's alone)."""
    import tempfile
    d = pathlib.Path(tempfile.mkdtemp(prefix="lambdad-isolation-", dir="/var/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_the_code_is_at_var_task_and_nothing_else_of_the_host_is_there(start_daemon, root_mode):
    d = start(start_daemon, root_mode)
    said = where_functions_run(d)
    # The whole log: why the root was not made.
    assert said.startswith("functions run in a Lambda-shaped root"), d.logs()
    where = ok(lambda_client(d.endpoint), "Where", {"paths": [str(REPO), "/root", "/home", "/usr/bin/python3",
                                                            "/var/runtime/bootstrap.py", "/var/tmp"]})
    assert where["cwd"] == where["pwd"] == where["task_root"] == "/var/task"
    assert where["file"] == "/var/task/app.py"
    assert where["runtime_dir"] == "/var/runtime" and where["tmpdir"] == "/tmp"
    assert where["exists"] == {str(REPO): False, "/root": False, "/home": False, "/usr/bin/python3": True,
                               "/var/runtime/bootstrap.py": True, "/var/tmp": False}
    assert where["task_writable"] is False  # read-only, as on Lambda
    # Lambda's order: the code, the runtime, the standard library; no site-packages of the host.
    assert where["sys_path"][:2] == ["/var/task", "/var/runtime"], where["sys_path"]
    assert not [p for p in where["sys_path"] if "-packages" in p], where["sys_path"]
    assert where["has_exit"] is True
    assert where["tmp_writable"] is True
    if root_mode == "userns":
        # The daemon's user, mapped to itself, with no capability left after execve.
        assert where["uid"] == 65534 and int(where["cap_eff"], 16) == 0, where


def test_stack_traces_name_var_task(start_daemon, root_mode):
    d = start(start_daemon, root_mode)
    body = error(lambda_client(d.endpoint), "Fails")
    assert body["errorType"] == "ValueError"
    assert any('File "/var/task/app.py"' in frame for frame in body["stackTrace"]), body["stackTrace"]


def test_on_host_paths_the_code_is_its_own_directory(start_daemon):
    d = start(start_daemon, "host")
    said = where_functions_run(d)
    assert said.startswith("functions run on the host's paths, not in a Lambda-shaped root (--filesystem host)"), said
    where = ok(lambda_client(d.endpoint), "Where")
    code = str((DIR / "python").resolve())
    assert where["cwd"] == where["pwd"] == where["task_root"] == code
    assert where["sys_path"][0] == code
    assert not [p for p in where["sys_path"] if "-packages" in p], where["sys_path"]


def test_a_package_only_the_host_has_is_an_import_module_error(start_daemon, mode):
    assert os.path.isdir(HOST_ONLY), "the test needs Debian's python3-yaml (installed with awscli)"
    d = start(start_daemon, mode)
    body = error(lambda_client(d.endpoint), "ImportsYaml")
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'imports_yaml': No module named 'yaml'"


def test_the_same_package_in_a_layer_imports(start_daemon, mode, scratch):
    layer = scratch / "layer"
    shutil.copytree(HOST_ONLY, layer / "python" / "yaml", ignore=shutil.ignore_patterns("__pycache__"))
    world_readable(scratch)
    template = scratch / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n"
        f"  Yaml:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {{ContentUri: {layer}}}\n"
        "  ImportsYaml:\n    Type: AWS::Serverless::Function\n"
        f"    Properties: {{Runtime: python3.12, Handler: imports_yaml.handler, CodeUri: {(DIR / 'python').resolve()},"
        " Layers: [!Ref Yaml]}\n")
    world_readable(scratch)
    d = start(start_daemon, mode, template)
    where = ok(lambda_client(d.endpoint), "ImportsYaml")["yaml"]
    assert where == ("/opt/python/yaml/__init__.py" if in_a_root(mode) else str(layer / "python/yaml/__init__.py"))


def test_boto3_imports_as_on_lambda_whose_python_runtimes_ship_it(start_daemon, mode):
    d = start(start_daemon, mode)
    assert ok(lambda_client(d.endpoint), "ImportsBoto3")["boto3"]


def test_requests_is_not_found_although_boto3_is(start_daemon, mode):
    d = start(start_daemon, mode)
    client = lambda_client(d.endpoint)
    body = error(client, "Imports", {"module": "requests"})
    assert body["errorType"] == "ModuleNotFoundError" and body["errorMessage"] == "No module named 'requests'"
    # Debian's botocore imports requests itself (Lambda's vendors its own copy); the function still
    # cannot import it afterwards, by a statement or through importlib.
    assert ok(client, "Imports", {"module": "botocore.session"})["module"] == "botocore.session"
    assert ok(client, "Imports", {"module": "botocore.exceptions"})["module"] == "botocore.exceptions"
    for how in ("statement", "importlib"):
        body = error(client, "Imports", {"module": "requests", "how": how})
        assert body["errorType"] == "ModuleNotFoundError" and body["errorMessage"] == "No module named 'requests'"


def test_a_function_shipping_requests_gets_its_own_after_the_sdk(start_daemon, mode, scratch):
    code = scratch / "fn"
    shutil.copytree(DIR / "python", code, ignore=shutil.ignore_patterns("__pycache__"))
    (code / "requests").mkdir()
    (code / "requests" / "__init__.py").write_text("OWN = True\n")
    template = scratch / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n"
        "  Imports:\n    Type: AWS::Serverless::Function\n"
        f"    Properties: {{Runtime: python3.12, Handler: app.imports, CodeUri: {code}, Timeout: 30}}\n")
    world_readable(scratch)
    d = start(start_daemon, mode, template)
    client = lambda_client(d.endpoint)
    ok(client, "Imports", {"module": "boto3"})
    where = ok(client, "Imports", {"module": "requests", "how": "statement"})["file"]
    assert where == ("/var/task/requests/__init__.py" if in_a_root(mode) else str(code / "requests/__init__.py"))
    # ... and the SDK keeps working with the host's copy it loaded.
    assert ok(client, "Imports", {"module": "botocore.httpsession"})["module"] == "botocore.httpsession"


def test_a_serverless_handler_in_py_is_the_functions_own_not_debians_py(start_daemon, mode):
    assert os.path.isdir("/usr/lib/python3/dist-packages/py"), "the test needs Debian's python3-py"
    d = start(start_daemon, mode, "/dev/null", "--serverless", str(DIR / "serverless" / "serverless.yml"))
    assert ok(lambda_client(d.endpoint), "isolation-dev-own") == {"from": "the function's own py/app.py"}


def test_node_cannot_require_from_a_node_modules_above_its_code(start_daemon, mode, scratch):
    above = scratch / "node_modules" / "leftpad"
    above.mkdir(parents=True)
    (above / "index.js").write_text("module.exports = (s) => s;\n")
    code = scratch / "fn"
    shutil.copytree(DIR / "node", code)
    template = scratch / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n"
        "  Requires:\n    Type: AWS::Serverless::Function\n"
        f"    Properties: {{Runtime: nodejs20.x, Handler: index.requires, CodeUri: {code}}}\n")
    world_readable(scratch)
    d = start(start_daemon, mode, template)
    client = lambda_client(d.endpoint)
    body = error(client, "Requires", {"module": "leftpad"})
    assert "Cannot find module 'leftpad'" in body["errorMessage"], body
    # The same package shipped with the function is found.
    shutil.copytree(above, code / "node_modules" / "leftpad")
    world_readable(scratch)
    assert ok(client, "Requires", {"module": "leftpad"}) == {"module": "leftpad", "type": "function"}


def test_node_sees_lambdas_paths(start_daemon, root_mode):
    d = start(start_daemon, root_mode)
    where = ok(lambda_client(d.endpoint), "NodeWhere", {"paths": [str(REPO), "/var/runtime/bootstrap.mjs"]})
    assert where["cwd"] == where["pwd"] == where["taskRoot"] == "/var/task"
    assert where["file"] == "/var/task/index.js"
    assert where["nodePath"] == ("/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:"
                                 "/var/runtime/node_modules:/var/runtime:/var/task")
    assert where["exists"] == {str(REPO): False, "/var/runtime/bootstrap.mjs": True}
