"""Internal extensions and the Extensions API (docs/decisions/024, lambda-spec §2), through boto3
against the real daemon and our Python and Node.js runtimes: an extension registers from inside
the runtime's process, the init phase lasts until it waits for its first event, it receives an
INVOKE for each invoke with the runtime's request id, deadline and ARN, the environment takes its
next invoke only once it waits again, and the API refuses what Lambda refuses with Lambda's
words. An extension's init error fails the invoke with Extension.InitError."""
import json
import re
import subprocess

from conftest import FUNCTIONS, LAMBDAD
from test_pools import client_for, evict, function_status, init_duration, invoke, poll, report

TEMPLATE = FUNCTIONS / "extensions" / "template.yaml"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def refusal(type_, message):
    return [403, {"errorMessage": message, "errorType": type_}]


def test_an_internal_extension_gets_each_invoke_and_holds_the_next_until_it_is_done(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    first = invoke(client, "InternalPy")
    assert "FunctionError" not in first, first["Body"]
    b = first["Result"]
    assert b["registered"]["status"] == 200 and UUID.match(b["registered"]["id"])
    assert b["registered"]["body"] == {"functionName": "InternalPy", "functionVersion": "$LATEST",
                                       "handler": "app.handler", "accountId": "123456789012"}
    # The init lasted until the extension, a second into it, waited for its first event.
    assert init_duration(report(d, first["RequestId"])) >= 1000
    assert b["refused"] == {
        "shutdownForInternal": refusal("Extension.InvalidEventType",
                                       "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension"),
        "noName": refusal("Extension.InvalidExtensionName", "Empty extension name"),
        "sameName": refusal("Extension.InvalidExtensionState", "Extension with this name already registered"),
        "noId": refusal("Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header"),
        "badId": refusal("Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier"),
        "unknownId": refusal("Extension.UnknownExtensionIdentifier",
                             "Unknown extension 00000000-0000-4000-8000-000000000000"),
        "initErrorWithoutType": refusal("Extension.MissingHeader", "Lambda-Extension-Function-Error-Type not found"),
    }
    assert b["late"] == refusal("Extension.RegistrationClosed", "Extension registration closed already")
    [own] = [e for e in b["events"] if e["event"]["requestId"] == first["RequestId"]]
    assert own["status"] == 200 and UUID.match(own["eventId"])
    event = own["event"]
    assert list(event) == ["eventType", "deadlineMs", "requestId", "invokedFunctionArn", "tracing"]
    assert event["eventType"] == "INVOKE" and event["invokedFunctionArn"] == b["arn"]
    assert abs(event["deadlineMs"] - b["deadlineMs"]) < 1000, (event["deadlineMs"], b["deadlineMs"])
    assert event["tracing"]["type"] == "X-Amzn-Trace-Id" and event["tracing"]["value"].startswith("Root=1-")

    # The extension works 0.3 s after each invoke: no invoke starts in its environment meanwhile
    # (it waits, or another environment takes it).
    results = [invoke(client, "InternalPy") for _ in range(4)]
    for r in results:
        assert "FunctionError" not in r, r["Body"]
        assert r["Result"]["busyAtStart"] is False, "an invoke started while the extension still worked"
        assert any(e["event"]["requestId"] == r["RequestId"] for e in r["Result"]["events"])
    same = [r for r in results if r["Result"]["pid"] == b["pid"]]
    for r in same:  # an environment's extension saw every invoke of that environment, in order
        ids = [e["event"]["requestId"] for e in r["Result"]["events"]]
        assert ids[0] == first["RequestId"] and ids[-1] == r["RequestId"]
    assert d.stop_and_check() == []


def test_a_node_internal_extension_loaded_through_node_options(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    first, second = invoke(client, "InternalNode"), invoke(client, "InternalNode")
    for r in (first, second):
        assert "FunctionError" not in r, r["Body"]
    assert second["Result"]["refused"] == {"status": 403, "body": {
        "errorMessage": "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension",
        "errorType": "Extension.InvalidEventType"}}
    ids = [e["requestId"] for e in second["Result"]["events"]]
    assert ids == [first["RequestId"], second["RequestId"]]
    assert all(e["eventType"] == "INVOKE" for e in second["Result"]["events"])
    assert d.stop_and_check() == []


def test_an_extension_init_error_fails_the_invoke_and_the_environment(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    for _ in range(2):
        r = invoke(client, "InitError")
        assert r["FunctionError"] == "Unhandled"
        assert r["Result"]["errorType"] == "Extension.InitError"
        assert r["Result"]["errorMessage"] == (
            "RequestId: {} Error: extension broken (InitError) reported an error".format(r["RequestId"]))
    d.wait_for_log(r"\[InitError\] environment 2 dead|\[InitError\] environment 2: Extension.InitError")
    assert d.stop_and_check() == []


def test_an_extension_that_never_finishes_an_invoke_gets_its_environment_reset(start_daemon):
    """The function's timeout covers the extensions' part of an invoke too: the caller has its
    answer, and past the timeout the environment is replaced."""
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    first = invoke(client, "Stuck")
    assert "FunctionError" not in first, first["Body"]
    d.wait_for_log(r"\[Stuck\] environment 1 retired \(an extension did not finish the invoke within the "
                   r"function's timeout of 2 s\)")
    second = invoke(client, "Stuck")
    assert "FunctionError" not in second, second["Body"]
    assert second["Result"]["pid"] != first["Result"]["pid"]
    assert d.stop_and_check() == []


def test_external_extensions_start_before_the_runtime_in_its_environment(start_daemon):
    """A layer's extensions/ executables (Python and shell) run as processes of the environment
    (its process group and cgroup), register before the runtime starts, and get every INVOKE."""
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    first = invoke(client, "External")
    # Its extensions wait for the next event within milliseconds; then the environment is free.
    poll(lambda: function_status(d, "External")["environments"][0]["state"] == "idle", "an idle environment")
    second = invoke(client, "External")
    for r in (first, second):
        assert "FunctionError" not in r, r["Body"]
    b = second["Result"]
    assert b["pid"] == first["Result"]["pid"], "the same environment"
    registered = b["recorder"][0]
    assert registered["registered"] == {"functionName": "External", "functionVersion": "$LATEST",
                                        "handler": "app.handler"}
    assert registered["at"] < b["started"], "the runtime started before the extension registered"
    assert registered["pgid"] == b["pgid"] and registered["pid"] != b["pid"]
    assert registered["cgroup"] == b["cgroup"]
    assert [r["event"]["requestId"] for r in b["recorder"][1:]] == [first["RequestId"], second["RequestId"]]
    assert [e["requestId"] for e in b["shell"]] == [first["RequestId"], second["RequestId"]]
    assert all(e["eventType"] == "INVOKE" for e in b["shell"])
    assert d.stop_and_check() == []


def test_an_external_extension_that_exits_in_init_is_an_extension_crash(start_daemon):
    d = start_daemon(TEMPLATE)
    r = invoke(client_for(d), "Crash")
    assert r["FunctionError"] == "Unhandled"
    assert r["Result"] == {"errorType": "Extension.Crash",
                           "errorMessage": "RequestId: {} Error: extension crasher exited: exit status 3".format(
                               r["RequestId"])}
    d.wait_for_log(r"crasher: cannot reach the backend")
    # A file of extensions/ that cannot be executed is not skipped: Lambda tries it and fails.
    r = invoke(client_for(d), "NoExec")
    assert r["FunctionError"] == "Unhandled"
    assert r["Result"]["errorType"] == "Extension.LaunchError", r["Result"]
    assert "forgot-chmod" in r["Result"]["errorMessage"], r["Result"]
    assert d.stop_and_check() == []


SHUTDOWN = r'recorder: \{{"eventType": "SHUTDOWN", "deadlineMs": \d+, "shutdownReason": "{}"\}}'


def test_shutdown_tells_extensions_why_and_gives_them_time(start_daemon):
    """SHUTDOWN with spindown (eviction), timeout (the invoke timed out) and failure (the runtime
    died); each time the extension has the time to finish (it says bye before it is killed)."""
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    invoke(client, "External")
    evict(d, "External")
    d.wait_for_log(SHUTDOWN.format("spindown"))
    d.wait_for_log(r"recorder: bye")

    timed_out = invoke(client, "ExternalShort", {"sleep": 3})
    assert timed_out["Result"]["errorType"] == "Sandbox.Timedout"
    d.wait_for_log(SHUTDOWN.format("timeout"))

    crashed = invoke(client, "External", {"exit": 2})
    assert crashed["Result"]["errorType"] == "Runtime.ExitError"
    d.wait_for_log(SHUTDOWN.format("failure"))
    poll(lambda: d.logs().count("recorder: bye") == 3, "three goodbyes")
    assert invoke(client, "External")["StatusCode"] == 200, "a new environment serves the next invoke"
    assert d.stop_and_check() == []


def test_the_daemons_stop_gives_extensions_their_shutdown(start_daemon):
    d = start_daemon(TEMPLATE)
    invoke(client_for(d), "External")
    assert d.stop_and_check() == []
    log = d.logs()
    assert re.search(SHUTDOWN.format("spindown"), log), log[-3000:]
    assert "recorder: bye" in log, "the extension was killed before it could finish"


def test_lambdad_invoke_gives_extensions_their_shutdown():
    """`lambdad invoke`: the invoke's answer on stdout, then the environment's end with SHUTDOWN,
    and the extension has the time to finish before the command exits."""
    p = subprocess.run([LAMBDAD, "invoke", "External", "--template", str(TEMPLATE), "--event", "-"],
                       input="{}", capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["recorder"][0]["registered"]["functionName"] == "External"
    assert re.search(SHUTDOWN.format("spindown"), p.stderr), p.stderr[-3000:]
    assert "recorder: bye" in p.stderr, p.stderr[-3000:]


def test_lambdad_test_gives_extensions_their_shutdown(tmp_path):
    """`lambdad test`: once its cases are done, the environments end with SHUTDOWN and their
    extensions have the time to finish before the command exits."""
    case = tmp_path / "external.case.yaml"
    case.write_text("function: External\ncases:\n  - name: registered\n    event: {}\n")
    p = subprocess.run([LAMBDAD, "test", "--template", str(TEMPLATE), "--show-logs", str(case)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 passed" in p.stdout, p.stdout
    assert re.search(SHUTDOWN.format("spindown"), p.stderr), p.stderr[-3000:]
    assert "recorder: bye" in p.stderr, p.stderr[-3000:]
