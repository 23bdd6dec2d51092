"""Stopping the daemon: SIGTERM lets in-flight invokes finish within --shutdown-grace, then kills
what is left and answers it with a Lambda-shaped error; no process of a function outlives the
daemon; a daemon killed with SIGKILL leaves nothing a restart does not clean up."""
import json
import os
import pathlib
import re
import signal
import subprocess
import socket
import threading
import time
import uuid

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from conftest import FUNCTIONS, LAMBDAD, Daemon, invoke, lambda_client, wait_for

TEMPLATE = FUNCTIONS / "shutdown" / "template.yaml"


def marked_processes(mark):
    """Pids of every process whose environment holds SHUTDOWN_MARK=<mark> (a runtime of the
    daemon under test, or anything its function started)."""
    needle = f"SHUTDOWN_MARK={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = pathlib.Path(f"/proc/{entry}/environ").read_bytes()
            stat = pathlib.Path(f"/proc/{entry}/stat").read_text()
            argv0 = pathlib.Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        # A zombie has given everything back already; only its parent's wait is missing. A
        # sandbox made ahead for the next cold start (docs/decisions/022) waits in lambdad-hold
        # with the function's environment, but nothing of the function runs in it yet.
        if needle in environ.split(b"\0") and stat.rsplit(")", 1)[1].split()[0] != "Z" and argv0 != b"lambdad-hold":
            found.append(int(entry))
    return found


@pytest.fixture
def marked(tmp_path):
    """(mark, --env-vars file): the function's processes carry the mark in their environment."""
    mark = uuid.uuid4().hex
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"Sleeper": {"SHUTDOWN_MARK": mark}}))
    return mark, str(env_vars)


def invoke_in_background(endpoint, payload):
    """Starts invoke(Sleeper, payload) on a thread; returns (thread, result dict)."""
    result = {}

    def run():
        try:
            result["response"] = invoke(lambda_client(endpoint), "Sleeper", payload)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            result["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def start(marked, *args, env=None):
    mark, env_vars = marked
    return Daemon(TEMPLATE, "--env-vars", env_vars, *args, env=env)


def wait_exit(d, timeout):
    try:
        return d.proc.wait(timeout)
    except Exception:
        os.killpg(d.proc.pid, signal.SIGKILL)
        raise


def request_ids_started(d):
    return re.findall(r"START RequestId: ([0-9a-f-]{36})", d.logs())


def test_sigterm_lets_an_invoke_in_flight_finish_and_refuses_new_connections(marked):
    d = start(marked, "--shutdown-grace", "5s")
    t, result = invoke_in_background(d.endpoint, {"sleep": 2})
    d.wait_for_log(r"sleeping 2 s", timeout=30)
    began = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    d.wait_for_log(r"1 in flight get up to 5s to finish")
    # The listener is closed during the grace period.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", d.port), timeout=2).close()
    t.join(15)
    assert "response" in result, result
    response = result["response"]
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response, response["Body"]
    assert json.loads(response["Body"]) == {"slept": 2}
    assert wait_exit(d, 10) == 0, d.logs()
    assert time.monotonic() - began < 5, "the daemon waited for the whole grace period"
    assert "1 invocation(s) finished within the grace period, 0 cut short" in d.logs()
    assert marked_processes(marked[0]) == []


def test_grace_over_kills_the_invoke_and_answers_it_with_an_error(marked):
    d = start(marked, "--shutdown-grace", "1s")
    t, result = invoke_in_background(d.endpoint, {"sleep": 10, "spawn": True})
    d.wait_for_log(r"sleeping 10 s", timeout=30)
    assert len(marked_processes(marked[0])) >= 3  # the runtime and its two background children
    [request_id] = request_ids_started(d)
    began = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    t.join(15)
    assert "response" in result, result
    response = result["response"]
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert body["errorType"] == "Sandbox.Failure"
    assert body["errorMessage"].startswith(f"RequestId: {request_id} Error: ")
    assert "--shutdown-grace 1s" in body["errorMessage"]
    assert wait_exit(d, 10) == 0, d.logs()
    assert time.monotonic() - began < 5
    log = d.logs()
    assert f"[Sleeper] [{request_id}] cut short by the shutdown" in log, log
    assert "0 invocation(s) finished within the grace period, 1 cut short after 1s" in log, log
    # Nothing of the function is left: the runtime, its child, and the child in its own session.
    wait_for(lambda: marked_processes(marked[0]) == [], timeout=5, what="the function's processes to be gone")


def test_a_second_signal_ends_the_grace_period(marked):
    d = start(marked, "--shutdown-grace", "60s")
    t, result = invoke_in_background(d.endpoint, {"sleep": 30})
    d.wait_for_log(r"sleeping 30 s", timeout=30)
    began = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    d.wait_for_log(r"get up to 60s to finish")
    d.proc.send_signal(signal.SIGTERM)
    assert wait_exit(d, 10) == 0, d.logs()
    assert time.monotonic() - began < 5
    t.join(10)
    assert result["response"]["FunctionError"] == "Unhandled"
    assert "cut short by a second signal" in d.logs()
    wait_for(lambda: marked_processes(marked[0]) == [], timeout=5, what="the function's processes to be gone")


def test_grace_zero_kills_at_once(marked):
    d = start(marked, "--shutdown-grace", "0")
    t, result = invoke_in_background(d.endpoint, {"sleep": 30})
    d.wait_for_log(r"sleeping 30 s", timeout=30)
    d.proc.send_signal(signal.SIGTERM)
    assert wait_exit(d, 5) == 0, d.logs()
    t.join(10)
    assert json.loads(result["response"]["Body"])["errorType"] == "Sandbox.Failure"


def test_malformed_grace_is_a_usage_error():
    r = subprocess.run([LAMBDAD, "serve", "--template", str(TEMPLATE), "--port", "0", "--shutdown-grace", "soon"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "--shutdown-grace: 'soon' is not a duration" in r.stderr


def test_sigkill_of_the_daemon_kills_the_runtime_and_a_restart_cleans_the_rest(marked, host_dir):
    env = {"LAMBDAD_TMP_ROOT": str(host_dir)}
    d = start(marked, env=env)
    first_pid = d.proc.pid
    response = invoke(lambda_client(d.endpoint), "Sleeper", {"spawn": True})
    assert "FunctionError" not in response, response["Body"]
    marks = marked_processes(marked[0])
    assert len(marks) == 3, marks
    enforcement = re.search(r"memory enforcement: cgroup v\d[^\n]* at (\S+)", d.logs())
    cgroup_mode = enforcement is not None
    tmp_root = host_dir / f"lambdad-{first_pid}"
    assert tmp_root.is_dir()

    in_own_session = [p for p in marks if os.getsid(p) == p]
    assert len(in_own_session) == 1, marks

    os.kill(first_pid, signal.SIGKILL)
    d.proc.wait(5)
    # The runtime dies with the daemon (PR_SET_PDEATHSIG), and the daemon's helper kills the
    # runtime's process group: the background child in it dies too, at once.
    wait_for(lambda: marked_processes(marked[0]) == in_own_session, timeout=5,
             what="the runtime and its background child to die with the daemon")

    # What left the process group (a session of its own) is found by the next start on the same
    # host, through the dead daemon's cgroup, which is removed with its /tmp root. (Without a
    # cgroup it cannot be found again: docs/decisions/011.)
    d2 = start(marked, env=env)
    try:
        d2.wait_for_log(rf"removed {tmp_root}, the /tmp root of a daemon that is gone")
        assert not tmp_root.exists()
        if not cgroup_mode:
            pytest.skip("memory enforcement is not cgroup here: background processes of a SIGKILLed daemon stay")
        # Any daemon starting on this host cleans up after a dead one, and other tests start
        # daemons in parallel (ctest -j): the cleanup may be theirs, so the outcome is checked
        # here, and the log line only says who did it.
        wait_for(lambda: marked_processes(marked[0]) == [], timeout=5,
                 what="the background processes of the killed daemon's function to be gone")
        group = pathlib.Path(enforcement.group(1))
        assert not group.exists(), f"the dead daemon's cgroup {group} is still there"
        if not re.search(rf"removed the cgroup \S+/lambdad-{first_pid} of a daemon that is gone", d2.logs()):
            print(f"{group} was removed by another daemon on this host before this restart")
    finally:
        for pid in marked_processes(marked[0]):  # not to leave them to the host when the test fails
            os.kill(pid, signal.SIGKILL)
        assert d2.stop() == 0, d2.logs()


DONE_QUEUE = "sqs-arn_aws_sqs_us-east-1_123456789012_shutdown-done.jsonl"


def test_the_spool_survives_sigkill_at_any_point_and_a_restart_resumes(marked, tmp_path, host_dir):
    """Event invokes in a stream, the daemon SIGKILLed at several points (202s just returned,
    attempts running, retries pending), restarted on the same --state-dir each time: every event
    that got a 202 runs to its OnSuccess record (at least once), and a torn spool file is
    reported and set aside, not fatal."""
    state = tmp_path / "state"
    args = ("--state-dir", str(state), "--async-retry-base", "200ms")
    accepted = {}

    def send(d, count):
        client = lambda_client(d.endpoint)
        for _ in range(count):
            n = len(accepted)
            r = client.invoke(FunctionName="Retried", InvocationType="Event",
                              Payload=json.dumps({"dir": str(host_dir), "n": n, "sleep": 0.05}))
            assert r["StatusCode"] == 202
            accepted[r["ResponseMetadata"]["RequestId"]] = n

    def runs():
        try:
            return (host_dir / "runs.txt").read_text().splitlines()
        except FileNotFoundError:
            return []

    def kill(d):
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait(10)

    # 1: killed right after a burst of 202s, before most events ran.
    d = start(marked, *args)
    send(d, 20)
    kill(d)
    # 2: killed while attempts run and first attempts wait for their retry.
    d = start(marked, *args)
    send(d, 10)
    wait_for(lambda: len(runs()) >= 10, timeout=60, what="some attempts to run")
    kill(d)
    # 3: killed in the middle of a stream of invokes.
    def send_until_killed(d, count):
        try:
            send(d, count)
        except (EndpointConnectionError, ConnectionClosedError):
            pass  # the rest of the stream finds no daemon: those events were never accepted

    d = start(marked, *args)
    sender = threading.Thread(target=send_until_killed, args=(d, 15), daemon=True)
    sender.start()
    wait_for(lambda: len(accepted) >= 40, timeout=60, what="part of the stream to be accepted")
    kill(d)
    sender.join(30)
    # A spool file torn by hand (a disk that lost the end of a write): reported, not fatal.
    torn = state / "events" / "00000000-0000-4000-8000-000000000000.event"
    torn.write_text('{"format":1,"requestId":"00000000-0000-4000-8000-0000')

    d = start(marked, *args)
    try:
        d.wait_for_log(r"00000000-0000-4000-8000-000000000000\.event.*corrupt|corrupt.*00000000-0000-4000-8000")
        assert not torn.exists()

        def done():
            try:
                lines = (state / "destinations" / DONE_QUEUE).read_text().splitlines()
            except FileNotFoundError:
                return False
            ids = set()
            for line in lines:
                try:
                    ids.add(json.loads(line)["requestContext"]["requestId"])
                except ValueError:
                    pass  # a record torn by a kill; the event ran again and has a whole one
            return set(accepted) <= ids

        wait_for(done, timeout=180, what="an OnSuccess record for every accepted event")
        wait_for(lambda: not [p for p in os.listdir(state / "events") if p.endswith(".event")], timeout=30,
                 what="the spool to empty")
        print(f"{len(accepted)} events accepted over three SIGKILLs; {len(runs())} runs in all")
    finally:
        assert d.stop() == 0, d.logs()
