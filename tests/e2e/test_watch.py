"""`lambdad serve --watch`: an edit to a handler changes the next invoke's result without a
restart (a busy invoke finishes with the code it started with); an edit to the template changes
configuration, adds and removes functions; an invalid template keeps the old definitions; without
--watch nothing reloads. Every test edits a copy of tests/e2e/functions/watch in tmp_path."""
import io
import json
import os
import re
import shutil
import threading
import zipfile

import pytest

from conftest import FUNCTIONS, invoke, lambda_client, wait_for

RELOAD_WAIT = 20  # seconds: a debounced reload takes well under one


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(FUNCTIONS / "watch", root)
    return root


def result(client, name, payload=None):
    r = invoke(client, name, payload if payload is not None else {})
    assert "FunctionError" not in r, r["Body"]
    return json.loads(r["Body"])


def wait_result(client, name, predicate, what, daemon=None):
    """Invokes until the result satisfies `predicate`; returns that result. On timeout the
    message shows the last result (and the daemon's log)."""
    last = {}

    def attempt():
        last["body"] = result(client, name)
        return last["body"] if predicate(last["body"]) else None
    try:
        return wait_for(attempt, timeout=RELOAD_WAIT, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}; last result {last.get('body')}; log:\n{daemon.logs() if daemon else ''}") from None


def edit(path, old, new):
    """Edits in place (truncate and write), as most editors save."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def replace(path, old, new):
    """Writes a new file next to `path` and renames it over, as vim or an atomic save does."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    tmp = path.with_name(path.name + ".saving")
    tmp.write_text(text.replace(old, new))
    os.replace(tmp, path)


def count(log, pattern):
    return len(re.findall(pattern, log))


def test_editing_a_handler_changes_the_next_invoke(project, start_daemon):
    d = start_daemon(project / "template.yaml", "--watch")
    client = lambda_client(d.endpoint)
    py_dir, node_dir = project / "python", project / "node"
    d.wait_for_log(rf"watching {re.escape(str(py_dir))} for PyWatch\n")
    d.wait_for_log(rf"watching {re.escape(str(node_dir))} for NodeWatch\n")
    d.wait_for_log(rf"watching {re.escape(str(project / 'template.yaml'))} for function definitions")
    assert result(client, "PyWatch")["version"] == "v1"
    assert result(client, "NodeWatch")["version"] == "v1"

    edit(py_dir / "app.py", 'VERSION = "v1"', 'VERSION = "v2"')
    wait_result(client, "PyWatch", lambda b: b["version"] == "v2", "the new Python code", d)
    d.wait_for_log(rf"{re.escape(str(py_dir))} changed: reloaded PyWatch \(1 warm environment drained")
    assert result(client, "NodeWatch")["version"] == "v1", "the other function's environment is left alone"

    replace(node_dir / "index.js", 'const VERSION = "v1"', 'const VERSION = "v2"')
    wait_result(client, "NodeWatch", lambda b: b["version"] == "v2", "the new Node.js code", d)
    d.wait_for_log(rf"{re.escape(str(node_dir))} changed: reloaded NodeWatch")

    # A new module in a new subdirectory counts as a change of the function's code too.
    (py_dir / "lib").mkdir()
    (py_dir / "lib" / "__init__.py").write_text("")
    (py_dir / "lib" / "version.py").write_text('VERSION = "v3"\n')
    edit(py_dir / "app.py", 'VERSION = "v2"', 'from lib.version import VERSION')
    wait_result(client, "PyWatch", lambda b: b["version"] == "v3", "code from a new subdirectory", d)
    # The same length within the same second: a cached .pyc would be trusted, but none is written.
    (py_dir / "lib" / "version.py").write_text('VERSION = "v4"\n')
    wait_result(client, "PyWatch", lambda b: b["version"] == "v4", "an edit in the new subdirectory", d)

    # The runtime writes no bytecode next to the code (Lambda's code directory is read-only), and
    # bytecode written there by someone else is not a change of the code: once a later change
    # elsewhere has been handled, PyWatch has still not been reloaded and its environment is
    # still warm.
    assert not (py_dir / "__pycache__").exists(), "the runtime wrote bytecode into the code directory"
    (py_dir / "__pycache__").mkdir()
    (py_dir / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"not really bytecode")
    python_reloads = count(d.logs(), rf"{re.escape(str(py_dir))} changed: reloaded PyWatch")
    python_inits = count(d.logs(), r"\[PyWatch\] environment \d+ initializing")
    node_reloads = count(d.logs(), rf"{re.escape(str(node_dir))} changed: reloaded NodeWatch")
    with open(node_dir / "index.js", "a") as f:
        f.write("// touched\n")
    wait_for(lambda: count(d.logs(), rf"{re.escape(str(node_dir))} changed: reloaded NodeWatch") > node_reloads,
             timeout=RELOAD_WAIT, what="the Node.js directory's reload")
    assert result(client, "PyWatch")["version"] == "v4"
    log = d.logs()
    assert count(log, rf"{re.escape(str(py_dir))} changed: reloaded PyWatch") == python_reloads, log
    assert count(log, r"\[PyWatch\] environment \d+ initializing") == python_inits, log


def test_a_busy_invoke_finishes_with_the_code_it_started_with(project, start_daemon):
    d = start_daemon(project / "template.yaml", "--watch")
    client = lambda_client(d.endpoint)
    assert result(client, "PyWatch")["version"] == "v1"
    busy = {}
    t = threading.Thread(target=lambda: busy.update(result(client, "PyWatch", {"sleep": 2})))
    t.start()
    d.wait_for_log(r"(?s)\[PyWatch\] START RequestId.*\[PyWatch\] START RequestId")  # the busy one has begun
    edit(project / "python" / "app.py", 'VERSION = "v1"', 'VERSION = "v2"')
    d.wait_for_log(r"changed: reloaded PyWatch \(1 warm environment drained")
    t.join(30)
    assert busy["version"] == "v1", "the invoke in flight completes, with its code"
    # Its environment drained when it answered: the very next call runs the new code.
    assert result(client, "PyWatch")["version"] == "v2"
    assert "retired (evicted)" in d.logs()


def test_template_edits_change_add_and_remove_functions(project, start_daemon):
    d = start_daemon(project / "template.yaml", "--watch")
    client = lambda_client(d.endpoint)
    template = project / "template.yaml"
    first = result(client, "PyWatch")
    assert first["greeting"] == "hello" and first["remainingMs"] <= 10000
    assert result(client, "NodeWatch")["greeting"] == "hello"
    # A function created through the API, which template edits must leave alone.
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return 'api'\n")
    client.create_function(FunctionName="FromApi", Runtime="python3.12", Handler="app.handler",
                           Role="arn:aws:iam::123456789012:role/r", Code={"ZipFile": code.getvalue()})
    client.get_waiter("function_active_v2").wait(FunctionName="FromApi")

    replace(template, "GREETING: hello", "GREETING: bonjour")
    wait_result(client, "PyWatch", lambda b: b["greeting"] == "bonjour", "the new environment variable")
    assert result(client, "NodeWatch")["greeting"] == "bonjour"
    d.wait_for_log(rf"{re.escape(str(template))} changed: reloaded (PyWatch, NodeWatch|NodeWatch, PyWatch) "
                   r"\(warm environments drained\)")

    edit(template, "Timeout: 10", "Timeout: 25")
    wait_for(lambda: client.get_function_configuration(FunctionName="PyWatch")["Timeout"] == 25,
             timeout=RELOAD_WAIT, what="GetFunctionConfiguration to report the new Timeout")
    assert result(client, "PyWatch")["remainingMs"] > 20000, "the invoke runs with the new Timeout"

    edit(template, "Resources:\n", "Resources:\n  PyAdded:\n    Type: AWS::Serverless::Function\n"
                                  "    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: python/,"
                                  " Environment: {Variables: {GREETING: added}}}\n")
    wait_for(lambda: "PyAdded" in {f["FunctionName"] for f in client.list_functions()["Functions"]},
             timeout=RELOAD_WAIT, what="the added function")
    body = result(client, "PyAdded")
    assert body["greeting"] == "added" and body["version"] == "v1"
    d.wait_for_log(r"changed: added PyAdded")
    d.wait_for_log(rf"watching {re.escape(str(project / 'python'))} for PyWatch, PyAdded|"
                   rf"watching {re.escape(str(project / 'python'))} for PyAdded, PyWatch")

    text = template.read_text()
    template.write_text(re.sub(r"  NodeWatch:\n.*\n.*\n", "", text))

    def gone():
        try:
            invoke(client, "NodeWatch", {})
            return False
        except client.exceptions.ResourceNotFoundException:
            return True
    wait_for(gone, timeout=RELOAD_WAIT, what="the removed function to be 404")
    d.wait_for_log(r"changed: removed NodeWatch")
    d.wait_for_log(rf"no longer watching {re.escape(str(project / 'node'))}")
    assert result(client, "FromApi") == "api", "a function created through the API is untouched"
    assert result(client, "PyAdded")["greeting"] == "added"


def test_an_invalid_template_keeps_the_old_definitions_serving(project, start_daemon):
    d = start_daemon(project / "template.yaml", "--watch")
    client = lambda_client(d.endpoint)
    template = project / "template.yaml"
    assert result(client, "PyWatch")["greeting"] == "hello"
    good = template.read_text()

    template.write_text(good.replace("GREETING: hello", "GREETING: [unclosed"))
    d.wait_for_log(r"is not a valid template")
    d.wait_for_log(rf"{re.escape(str(template))} changed but cannot be loaded \(see above\); still serving")
    assert result(client, "PyWatch")["greeting"] == "hello"
    assert result(client, "NodeWatch")["version"] == "v1"

    # Valid YAML, but a function without a Runtime.
    template.write_text(good.replace("Runtime: nodejs20.x, ", ""))
    d.wait_for_log(r"changed but cannot be loaded(.|\n)*changed but cannot be loaded")
    assert result(client, "NodeWatch")["version"] == "v1", "still defined"

    template.write_text(good.replace("GREETING: hello", "GREETING: fixed"))
    wait_result(client, "PyWatch", lambda b: b["greeting"] == "fixed", "the repaired template")


def test_the_env_vars_file_is_watched_too(project, start_daemon):
    env = project / "env.json"
    env.write_text(json.dumps({"PyWatch": {"GREETING": "from env file"}}))
    d = start_daemon(project / "template.yaml", "--watch", "--env-vars", str(env))
    client = lambda_client(d.endpoint)
    assert result(client, "PyWatch")["greeting"] == "from env file"
    env.write_text(json.dumps({"PyWatch": {"GREETING": "edited"}}))
    wait_result(client, "PyWatch", lambda b: b["greeting"] == "edited", "the edited --env-vars file")
    assert result(client, "NodeWatch")["greeting"] == "hello"
    d.wait_for_log(rf"{re.escape(str(env))} changed: reloaded PyWatch \(")


def test_without_watch_nothing_reloads(project, start_daemon):
    plain = start_daemon(project / "template.yaml")
    watching = start_daemon(project / "template.yaml", "--watch")
    plain_client, watching_client = lambda_client(plain.endpoint), lambda_client(watching.endpoint)
    for client in (plain_client, watching_client):
        assert result(client, "PyWatch")["version"] == "v1"
    edit(project / "python" / "app.py", 'VERSION = "v1"', 'VERSION = "v2"')
    edit(project / "template.yaml", "GREETING: hello", "GREETING: bonjour")
    # Once the watching daemon has reloaded both, the other has had every chance to.
    wait_result(watching_client, "PyWatch", lambda b: b == {**b, "version": "v2", "greeting": "bonjour"},
                "the watching daemon to reload")
    assert {k: v for k, v in result(plain_client, "PyWatch").items() if k != "remainingMs"} == \
        {"version": "v1", "greeting": "hello"}, "the warm environment still runs what it loaded"
    assert plain_client.get_function_configuration(FunctionName="PyWatch")["Environment"]["Variables"] == \
        {"GREETING": "hello"}
    assert "watching" not in plain.logs() and "changed" not in plain.logs()


def test_event_invoke_settings_follow_the_template_and_the_state_dir_is_not_code(project, start_daemon):
    # The state directory under a code directory: the spool's writes must not count as code changes.
    state = project / "python" / ".state"
    d = start_daemon(project / "template.yaml", "--watch", "--state-dir", str(state))
    client = lambda_client(d.endpoint)
    assert result(client, "PyWatch")["version"] == "v1"
    edit(project / "template.yaml", "CodeUri: python/}",
         "CodeUri: python/, EventInvokeConfig: {DestinationConfig: {OnSuccess: "
         "{Type: SQS, Destination: 'arn:aws:sqs:us-east-1:123456789012:watch-success'}}}}")
    d.wait_for_log(r"template\.yaml changed: reloaded PyWatch \(")
    assert client.get_function_event_invoke_config(FunctionName="PyWatch")["DestinationConfig"]["OnSuccess"] == \
        {"Destination": "arn:aws:sqs:us-east-1:123456789012:watch-success"}

    r = client.invoke(FunctionName="PyWatch", InvocationType="Event", Payload=b'{"n": 1}')
    assert r["StatusCode"] == 202
    queue = state / "destinations" / "sqs-arn_aws_sqs_us-east-1_123456789012_watch-success.jsonl"
    record = wait_for(lambda: queue.exists() and queue.read_text().strip(), timeout=RELOAD_WAIT,
                      what="the OnSuccess record the new definition asks for")
    assert json.loads(record.splitlines()[0])["responsePayload"]["version"] == "v1"

    # A change handled after the spool's writes shows they were seen and not taken for code.
    with open(project / "node" / "index.js", "a") as f:
        f.write("// touched\n")
    d.wait_for_log(r"node changed: reloaded NodeWatch")
    assert result(client, "PyWatch")["version"] == "v1"
    assert not re.search(r"python changed: reloaded", d.logs()), d.logs()


def test_a_serverless_yml_is_watched(tmp_path, start_daemon):
    (tmp_path / "app.py").write_text(
        "import os\nVERSION = 'v1'\ndef handler(e, c):\n    return {'version': VERSION, 'greeting': os.environ['GREETING']}\n")
    sls = tmp_path / "serverless.yml"
    sls.write_text("service: watched\nprovider:\n  name: aws\n  runtime: python3.12\n  environment:\n"
                   "    GREETING: hello\nfunctions:\n  hello:\n    handler: app.handler\n")
    d = start_daemon(tmp_path / "template.yaml", "--serverless", str(sls), "--watch")
    client = lambda_client(d.endpoint)
    d.wait_for_log(rf"watching {re.escape(str(sls))} for function definitions")
    d.wait_for_log(rf"watching {re.escape(str(tmp_path))} for watched-dev-hello\n")
    assert result(client, "watched-dev-hello") == {"version": "v1", "greeting": "hello"}

    replace(sls, "GREETING: hello", "GREETING: bonjour")
    wait_result(client, "watched-dev-hello", lambda b: b["greeting"] == "bonjour", "the edited serverless.yml", d)
    d.wait_for_log(rf"{re.escape(str(sls))} changed: reloaded watched-dev-hello \(")
    # The service directory is the code directory, but the definitions file is not code.
    assert f"{tmp_path} changed:" not in d.logs()

    edit(tmp_path / "app.py", "VERSION = 'v1'", "VERSION = 'v2'")
    wait_result(client, "watched-dev-hello", lambda b: b["version"] == "v2", "the edited handler", d)
    d.wait_for_log(rf"{re.escape(str(tmp_path))} changed: reloaded watched-dev-hello \(1 warm")


def test_editing_a_layer_reloads_the_functions_that_use_it(tmp_path, start_daemon):
    root = tmp_path / "layers"
    shutil.copytree(FUNCTIONS / "layers", root)
    d = start_daemon(root / "template.yaml", "--watch")
    client = lambda_client(d.endpoint)
    layer = root / "layers" / "node-libs"
    d.wait_for_log(rf"watching {re.escape(str(layer))} for [^\n]*LayersPython")
    assert result(client, "LayersPython")["winner"] == "node-libs"

    edit(layer / "python" / "layer_order.py", 'WINNER = "node-libs"', 'WINNER = "node-libs, edited"')
    wait_result(client, "LayersPython", lambda b: b["winner"] == "node-libs, edited", "the edited layer", d)
    d.wait_for_log(rf"{re.escape(str(layer))} changed: reloaded [^\n]*LayersPython")
