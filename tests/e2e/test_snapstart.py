"""SnapStart (docs/decisions/023, lambda-spec §14), through boto3 against the real daemon and our
Python runtime: a published version of a function with `SnapStart: ApplyOn: PublishedVersions`
runs its init and before-snapshot hooks once; every cold start after that is a copy of that
runtime, forked into an environment of its own, that runs the after-restore hooks. Restore
errors are the Invoke API's SnapStartException; an init that fails keeps no snapshot; new code
discards it. As nobody (no right to enter another environment's namespace) and for a custom
runtime, the same sequence runs in place."""
import json
import os
import re
import shutil
import tempfile
import time
import pathlib

import pytest
from botocore.exceptions import ClientError

from conftest import FUNCTIONS, wait_for
from test_pools import client_for, function_status, invoke, report

DIR = FUNCTIONS / "snapstart"
TEMPLATE = DIR / "template.yaml"
IS_ROOT = os.geteuid() == 0

BEFORE = ["before:second", "before:first"]  # reverse order of registration
AFTER = ["after:first", "after:second"]     # order of registration


def restore_duration(report_line):
    m = re.search(r"\tRestore Duration: ([0-9.]+) ms\tBilled Restore Duration: (\d+) ms\t", report_line)
    return (float(m.group(1)), int(m.group(2))) if m else None


def cgroups(text):
    return sorted(line for line in text.splitlines() if re.match(r"\d+:(memory|pids):", line))


def snap_status(d, name, version="1"):
    return (function_status(d, name)["snapStart"] or {}).get(version)


@pytest.fixture
def root():
    if not IS_ROOT:
        pytest.skip("copies of a snapshot are forked into new environments only by a root daemon")


def test_copies_of_the_snapshot_run_the_hooks_in_environments_of_their_own(start_daemon, root):
    d = start_daemon(TEMPLATE, "--force-cold", "--log-level", "debug")
    client = client_for(d)
    results = [invoke(client, "Snap:live") for _ in range(3)]
    bodies = [r["Result"] for r in results]
    for r in results:
        assert r["StatusCode"] == 200 and "FunctionError" not in r, r["Body"]
        assert r["ExecutedVersion"] == "1"

    # One init, once: its before-snapshot hooks ran in reverse order before any copy existed.
    assert d.logs().count("INIT_START") == 1
    assert len(re.findall(r"\[Snap:1\] INIT_REPORT Init Duration: [0-9.]+ ms\n", d.logs())) == 1
    for b in bodies:
        assert b["order"] == BEFORE + AFTER + ["invoke"], "each copy runs the after-restore hooks, once"
        assert b["initializationType"] == "snap-start"
        assert b["logGroup"] is None and b["logStream"] is None, "SnapStart functions get no log group or stream"
        assert b["snapshotSocket"] is None, "lambdad's socket is not the function's"
        assert b["cwd"] == "/var/task"
    # No at-fork hook of the function's ran in a copy or in the snapshot (Lambda runs none at a
    # restore), and they are back for a fork the function makes itself.
    for b in bodies:
        assert b["ownFork"] == {"parent": ["at-fork:before", "at-fork:parent"], "childExit": 0}, b["ownFork"]
    # State made at init is the snapshot's, in every copy: its globals and the random generator's
    # state (random's own at-fork hook would reseed it in a forked child; Lambda's restore does not).
    assert len({b["initPid"] for b in bodies}) == 1
    assert len({b["initToken"] for b in bodies}) == 1
    assert len({b["draw"] for b in bodies}) == 1, "copies of one snapshot draw the same numbers, as on Lambda"
    # Everything else is each environment's own: process, cgroup, /tmp, request ids.
    assert len({b["pid"] for b in bodies}) == 3 and all(b["pid"] != b["initPid"] for b in bodies)
    assert len({tuple(cgroups(b["cgroup"])) for b in bodies}) == 3
    for b in bodies:
        # A copy's /tmp is its own, and holds what the init wrote there (part of the snapshot).
        assert b["tmp"] == sorted([b["requestId"], "model"]), b["tmp"]
        assert b["initFile"] == "weights written at init"
    assert len({b["requestId"] for b in bodies}) == 3

    for r in results:
        line = report(d, r["RequestId"])
        assert "Init Duration" not in line, line
        restored = restore_duration(line)
        assert restored is not None, line
        assert restored[1] >= restored[0]
    assert d.logs().count("RESTORE_START Runtime Version: python3.12\tRuntime Version ARN: ") == 3
    assert len(re.findall(r"RESTORE_REPORT Restore Duration: [0-9.]+ ms\n", d.logs())) == 3

    snap = snap_status(d, "Snap")
    assert snap["mode"] == "fork" and snap["snapshot"]["state"] == "ready" and snap["restores"] == 3
    assert function_status(d, "Snap")["coldStarts"] == 3
    assert d.stop_and_check() == []


def test_a_burst_waits_for_one_snapshot_then_restores_a_copy_each(start_daemon, root):
    """Twelve cold starts at once: one init makes the snapshot while the rest wait for it, then
    each runs in a copy of its own; nothing is lost or served twice."""
    from test_pools import invoke_concurrently

    d = start_daemon(TEMPLATE)
    outcomes = invoke_concurrently(client_for(d), "Snap:live", [{}] * 12)
    assert all(not isinstance(o, Exception) and "FunctionError" not in o for o in outcomes), outcomes
    bodies = [o["Result"] for o in outcomes]
    assert len({b["pid"] for b in bodies}) == 12 and len({b["initPid"] for b in bodies}) == 1
    assert all(b["order"] == BEFORE + AFTER + ["invoke"] for b in bodies)
    assert d.logs().count("[Snap:1] INIT_START") == 1
    assert len(re.findall(r"\[Snap:1\] RESTORE_REPORT", d.logs())) == 12
    assert snap_status(d, "Snap")["restores"] == 12
    assert function_status(d, "Snap")["coldStarts"] == 12
    assert d.stop_and_check() == []


def test_an_init_that_leaves_threads_running_is_restored_in_place(start_daemon, root):
    """Threads started at init run on in every environment Lambda restores; a forked copy would
    have none, so the function's SnapStart sequence runs in place, and the daemon says why."""
    d = start_daemon(TEMPLATE, "--force-cold")
    client = client_for(d)
    for _ in range(2):
        r = invoke(client, "Threads:live")
        assert "FunctionError" not in r, r["Body"]
        assert r["Result"] == {"alive": True, "beating": True, "restored": [True]}
        assert "Init Duration" in report(d, r["RequestId"]), "in place: the init ran here"
    d.wait_for_log(r"\[Threads\] snapshot discarded: the runtime restores in place: its init left 2 threads running")
    assert d.logs().count("[Threads:1] INIT_START") == 2
    assert snap_status(d, "Threads")["mode"] == "in-place"
    assert snap_status(d, "Threads")["restores"] == 0
    assert d.stop_and_check() == []


def test_latest_never_uses_the_snapshot(start_daemon, root):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    latest = invoke(client, "Snap")
    assert latest["ExecutedVersion"] == "$LATEST"
    assert latest["Result"]["initializationType"] == "on-demand"
    assert latest["Result"]["order"] == ["invoke"], "no hooks run for $LATEST"
    assert "Init Duration" in report(d, latest["RequestId"])
    assert latest["Result"]["logStream"], "an ordinary environment has its log stream"
    assert "$LATEST" not in (function_status(d, "Snap")["snapStart"] or {})
    assert d.stop_and_check() == []


def test_a_failing_after_restore_hook_is_a_snapstart_exception(start_daemon, root):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    for _ in range(2):  # every copy runs the hook again
        with pytest.raises(ClientError) as e:
            client.invoke(FunctionName="AfterFails:live", Payload=b"{}")
        err = e.value.response
        assert err["Error"]["Code"] == "SnapStartException"
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "Runtime.AfterRestoreError" in err["Error"]["Message"]
    d.wait_for_log(r"RESTORE_REPORT Restore Duration: [0-9.]+ ms\tStatus: error\tError Type: Runtime.AfterRestoreError")
    assert "ConnectionError" in d.logs() and "the database is not there" in d.logs()
    assert snap_status(d, "AfterFails")["snapshot"]["state"] == "ready", "the snapshot itself is fine"
    assert d.stop_and_check() == []


def test_an_init_that_fails_keeps_no_snapshot(start_daemon, root):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    for _ in range(2):
        r = invoke(client, "BeforeFails:live")
        assert r["FunctionError"] == "Unhandled"
        assert r["Result"]["errorType"] == "RuntimeError"
        assert r["Result"]["errorMessage"] == "cannot flush before the snapshot"
        assert "Error Type: Runtime.BeforeSnapshotError" in report(d, r["RequestId"])
    assert d.logs().count("[BeforeFails:1] INIT_START") == 2, "each cold start tries to make the snapshot again"
    # Dropped once its runtime has exited (64), just after the answer.
    wait_for(lambda: snap_status(d, "BeforeFails")["snapshot"] is None, 10, "no snapshot")

    r = invoke(client, "ImportFails:live")
    assert r["FunctionError"] == "Unhandled"
    assert r["Result"]["errorType"] == "Runtime.ImportModuleError"
    wait_for(lambda: snap_status(d, "ImportFails")["snapshot"] is None, 10, "no snapshot")
    assert "RESTORE_START" not in d.logs()
    assert d.stop_and_check() == []


def test_new_code_discards_the_snapshot(start_daemon, root, tmp_path):
    shutil.copytree(DIR, tmp_path / "fn")
    template = tmp_path / "fn" / "template.yaml"
    d = start_daemon(template, "--watch", "--force-cold", "--log-level", "debug")
    client = client_for(d)
    first = invoke(client, "Snap:live")["Result"]
    assert invoke(client, "Snap:live")["Result"]["initPid"] == first["initPid"]
    app = tmp_path / "fn" / "py" / "app.py"
    app.write_text(app.read_text().replace('ORDER = []', 'ORDER = ["new code"]'))
    d.wait_for_log(r"\[Snap\] snapshot discarded", timeout=20)

    def new_code():
        r = invoke(client, "Snap:live")["Result"]
        return r if r["order"][0] == "new code" else None

    after = wait_for(new_code, 20, "the new code")
    assert after["initPid"] != first["initPid"], "a new snapshot, from the new code"
    assert after["order"] == ["new code"] + BEFORE + AFTER + ["invoke"]
    assert d.stop_and_check() == []


def test_a_custom_runtime_that_restores_itself_does_so_in_place(start_daemon):
    d = start_daemon(DIR / "custom.yaml", "--snapstart")
    client = client_for(d)
    first = invoke(client, "Custom")
    assert first["Result"]["restoreNext"] == 200
    assert "Init Duration" in report(d, first["RequestId"]), "it ran its init: in place, not restored"
    d.wait_for_log(r"restore/next answered 200 \(initialization type snap-start\)")
    assert snap_status(d, "Custom", "$LATEST")["mode"] == "in-place"
    assert snap_status(d, "Custom", "$LATEST")["snapshot"] is None

    # Our Node.js runtime (Lambda has no SnapStart for Node.js): the sequence in place as well.
    node = invoke(client, "Node")
    assert node["Result"] == {"initializationType": "snap-start", "logStream": None}
    assert "Init Duration" in report(d, node["RequestId"])
    assert snap_status(d, "Node", "$LATEST")["mode"] == "in-place"
    assert d.stop_and_check() == []


def test_without_root_the_sequence_runs_in_place(start_daemon):
    if not shutil.which("setpriv") or not IS_ROOT:
        pytest.skip("the daemon is run as nobody through setpriv, from root")
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="lambdad-snapstart-", dir="/var/tmp"))
    try:
        shutil.copytree(DIR, scratch / "fn")
        for p in [scratch, *scratch.rglob("*")]:
            p.chmod(0o755 if p.is_dir() or p.name == "bootstrap" else 0o644)
        d = start_daemon(scratch / "fn" / "template.yaml", share=False,
                         wrap=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"))
        client = client_for(d)
        r = invoke(client, "Snap:live")
        assert r["Result"]["order"] == BEFORE + AFTER + ["invoke"], "the hooks run, in Lambda's order"
        assert r["Result"]["initializationType"] == "snap-start"
        assert "Init Duration" in report(d, r["RequestId"]), "in place: the init ran here"
        assert snap_status(d, "Snap")["mode"] == "in-place"
        with pytest.raises(ClientError) as e:
            client.invoke(FunctionName="AfterFails:live", Payload=b"{}")
        assert e.value.response["Error"]["Code"] == "SnapStartException"
        assert d.stop_and_check() == []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_restore_routes_are_refused_outside_snapstart(start_daemon):
    """A runtime that calls /restore/next without SnapStart gets Lambda's 403, and goes on."""
    d = start_daemon(DIR / "custom.yaml")
    r = invoke(client_for(d), "Custom")
    assert r["Result"]["restoreNext"] == 403
    assert function_status(d, "Custom")["snapStart"] is None
    assert d.stop_and_check() == []


def test_snapstart_on_a_runtime_lambda_refuses_is_a_template_error(tmp_path):
    from conftest import LAMBDAD
    import subprocess

    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "index.mjs").write_text("export const handler = async () => 1;\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Node:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: fn\n      Handler: index.handler\n      Runtime: nodejs20.x\n"
        "      AutoPublishAlias: live\n      SnapStart:\n        ApplyOn: PublishedVersions\n")
    p = subprocess.run([str(LAMBDAD), "invoke", "Node", "-t", str(tmp_path / "template.yaml")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
    assert "SnapStart is not supported for nodejs20.x" in p.stderr


def test_functions_made_through_the_control_plane_take_snapstart(start_daemon, root):
    """CreateFunction's SnapStart: a published version restores; Lambda's refusal for Node.js."""
    from test_control_plane import FAST, ROLE, make_zip, unique

    d = start_daemon(DIR / "custom.yaml", "--force-cold")
    client = client_for(d)
    name = unique("snap")
    client.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                           Code={"ZipFile": make_zip(DIR / "py")}, SnapStart={"ApplyOn": "PublishedVersions"})
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    latest = client.get_function_configuration(FunctionName=name)
    assert latest["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    assert client.publish_version(FunctionName=name)["Version"] == "1"
    client.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1", WaiterConfig=FAST)
    one = client.get_function_configuration(FunctionName=name, Qualifier="1")
    assert one["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}

    copies = [invoke(client, f"{name}:1") for _ in range(2)]
    assert copies[0]["Result"]["initPid"] == copies[1]["Result"]["initPid"] != copies[1]["Result"]["pid"]
    assert restore_duration(report(d, copies[1]["RequestId"])) is not None
    assert invoke(client, name)["Result"]["initializationType"] == "on-demand", "$LATEST is not restored"

    with pytest.raises(ClientError) as e:
        client.create_function(FunctionName=unique("snap-node"), Runtime="nodejs20.x", Role=ROLE,
                               Handler="index.handler", Code={"ZipFile": make_zip(DIR / "node")},
                               SnapStart={"ApplyOn": "PublishedVersions"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "SnapStart is not supported for nodejs20.x" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        client.update_function_configuration(FunctionName=name, SnapStart={"ApplyOn": "Always"})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert d.stop_and_check() == []
