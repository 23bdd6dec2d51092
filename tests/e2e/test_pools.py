"""Execution-environment pools: parallel environments, throttling at reserved and account
concurrency, warm reuse and what resets it (evict, timeout, crash, --force-cold), cold-start
control (EAGER, provisioned concurrency, simulated init delay), idle reclaim and the status
endpoint — all through boto3 against the real daemon.
"""
import concurrent.futures
import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from conftest import FUNCTIONS, LAMBDAD

POOLS = FUNCTIONS / "pools"
TEMPLATE = POOLS / "template.yaml"
RESERVED_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_REASON = "ConcurrentInvocationLimitExceeded"
THROTTLE_BODY = ('{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User",'
                 '"message":"Rate Exceeded."}')


# ---------------------------------------------------------------------------------------------
# helpers

def client_for(daemon):
    """boto3 with exactly one attempt per call (a retried 429 would skew throttle counts) and
    enough pooled connections for the concurrent tests."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda", endpoint_url=daemon.endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=90,
                      connect_timeout=5, max_pool_connections=64))


def invoke(client, name, event=None):
    r = client.invoke(FunctionName=name, Payload=json.dumps(event or {}))
    r["Body"] = r.pop("Payload").read()
    r["Result"] = json.loads(r["Body"])
    r["RequestId"] = r["ResponseMetadata"]["RequestId"]
    return r


def invoke_concurrently(client, name, events):
    """Invokes once per event, all released at the same moment; returns each response or the
    ClientError it raised, in event order."""
    gate = threading.Barrier(len(events))

    def one(event):
        gate.wait(timeout=30)
        try:
            return invoke(client, name, event)
        except ClientError as e:
            return e

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(one, events))


def split_outcomes(outcomes):
    ok = [o for o in outcomes if not isinstance(o, Exception)]
    failed = [o for o in outcomes if isinstance(o, Exception)]
    return ok, failed


def assert_succeeded(r):
    assert r["StatusCode"] == 200, r
    assert "FunctionError" not in r, r["Body"]


def assert_throttled(e, reason):
    assert isinstance(e, ClientError), repr(e)
    err = e.response
    assert err["Error"]["Code"] == "TooManyRequestsException", err
    assert err["Error"]["Message"] == "Rate Exceeded.", err
    assert err.get("Reason") == reason, err
    assert err.get("Type") == "User", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429, err


def report(daemon, request_id):
    """The REPORT line of one invoke (polled: it may be logged just after the response)."""
    return daemon.wait_for_log(rf"REPORT RequestId: {re.escape(request_id)}\t[^\n]*").group(0)


def init_duration(report_line):
    m = re.search(r"\tInit Duration: ([0-9.]+) ms\t", report_line)
    return float(m.group(1)) if m else None


def duration(report_line):
    return float(re.search(r"\tDuration: ([0-9.]+) ms\t", report_line).group(1))


def http(method, url, body=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def status(daemon):
    code, _, body = http("GET", f"{daemon.endpoint}/_lambdad/status")
    assert code == 200, body
    return json.loads(body)


def function_status(daemon, name):
    functions = [f for f in status(daemon)["functions"] if f["name"] == name]
    assert len(functions) == 1, f"status lists {name} {len(functions)} times: {status(daemon)}"
    return functions[0]


def live_environments(daemon, name, state=None):
    return [e for e in function_status(daemon, name)["environments"]
            if e["state"] != "dead" and (state is None or e["state"] == state)]


def poll(check, what, timeout=15):
    """Polls check() until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def max_overlap(results):
    """The largest number of handler runs in progress at the same instant."""
    points = sorted([(r["start"], 1) for r in results] + [(r["end"], -1) for r in results],
                    key=lambda p: (p[0], p[1]))
    inside = best = 0
    for _, delta in points:
        inside += delta
        best = max(best, inside)
    return best


def evict(daemon, name):
    code, _, body = http("POST", f"{daemon.endpoint}/_lambdad/functions/{name}/evict", b"")
    assert code == 200, body
    return json.loads(body)


class HttpBarrier:
    """A barrier served by the test process: a handler's GET answers once `parties` handlers are
    inside it at the same time ({"met": true}), or after `timeout_s` ({"met": false}). Handlers
    that all return met=true provably ran in parallel."""

    def __init__(self, parties, timeout_s=30):
        self.parties = parties
        self.arrived = 0
        self.pids = set()
        cond = threading.Condition()
        barrier = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                with cond:
                    barrier.arrived += 1
                    barrier.pids.add(self.path.rsplit("pid=", 1)[-1])
                    cond.notify_all()
                    met = cond.wait_for(lambda: barrier.arrived >= barrier.parties, timeout=timeout_s)
                body = json.dumps({"met": met}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/arrive"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def barrier():
    made = []

    def make(parties, timeout_s=30):
        b = HttpBarrier(parties, timeout_s)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


# ---------------------------------------------------------------------------------------------
# concurrency and throttling

def test_reserved_concurrency_caps_parallel_invokes_and_throttles_the_rest(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)

    wave1 = invoke_concurrently(client, "Limited", [{"hold_s": 1.5}] * 16)
    ok, throttled = split_outcomes(wave1)
    for e in throttled:
        assert_throttled(e, RESERVED_REASON)
    for r in ok:
        assert_succeeded(r)
    assert len(ok) == 4, f"{len(ok)} of 16 ran with ReservedConcurrentExecutions 4"
    results = [r["Result"] for r in ok]
    assert max_overlap(results) == 4, results
    pids = {r["pid"] for r in results}
    assert len(pids) == 4, "each concurrent invoke needs its own environment"

    # Once the four are idle again, a second burst is served warm by the same four environments.
    poll(lambda: len(live_environments(d, "Limited", "idle")) == 4, "4 idle Limited environments")
    wave2 = invoke_concurrently(client, "Limited", [{"hold_s": 1.5}] * 16)
    ok2, throttled2 = split_outcomes(wave2)
    for e in throttled2:
        assert_throttled(e, RESERVED_REASON)
    assert len(ok2) == 4
    assert {r["Result"]["pid"] for r in ok2} == pids
    for r in ok2:
        assert init_duration(report(d, r["RequestId"])) is None, "a warm invoke has no Init Duration"

    fs = function_status(d, "Limited")
    assert fs["reservedConcurrency"] == 4
    assert fs["coldStarts"] == 4
    assert fs["throttles"] == 24
    assert fs["invocations"] == 8


def test_unreserved_function_runs_16_invokes_in_parallel_in_16_environments(start_daemon, barrier):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    gate = barrier(16, timeout_s=45)

    outcomes = invoke_concurrently(client, "Unlimited", [{"barrier": gate.url, "wait_s": 45}] * 16)
    ok, failed = split_outcomes(outcomes)
    assert not failed, [f.response for f in failed]
    for r in ok:
        assert_succeeded(r)
    results = [r["Result"] for r in ok]
    assert all(r["met"] for r in results), f"only {gate.arrived} of 16 handlers were ever inside at once"
    assert max_overlap(results) == 16
    assert len({r["pid"] for r in results}) == 16, "16 parallel invokes need 16 environments"

    fs = function_status(d, "Unlimited")
    assert fs["reservedConcurrency"] is None
    assert fs["coldStarts"] == 16
    assert len(live_environments(d, "Unlimited")) == 16


def test_reserved_concurrency_zero_throttles_every_call(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    for _ in range(3):
        with pytest.raises(ClientError) as e:
            invoke(client, "Throttled")
        assert_throttled(e.value, RESERVED_REASON)

    # The exact wire form: status, error type header, body byte for byte.
    code, headers, body = http("POST", f"{d.endpoint}/2015-03-31/functions/Throttled/invocations", b"{}")
    assert code == 429
    assert headers["X-Amzn-ErrorType"].split(":")[0] == "TooManyRequestsException"
    assert headers["X-Amzn-RequestId"]
    assert body.decode() == THROTTLE_BODY

    fs = function_status(d, "Throttled")
    assert fs["reservedConcurrency"] == 0
    assert fs["throttles"] == 4
    assert fs["invocations"] == 0, "a throttled call is not an invocation"
    assert fs["environments"] == [], "nothing may start for a function with reserved concurrency 0"


def test_account_concurrency_limit_throttles_with_its_own_reason(start_daemon):
    d = start_daemon(POOLS / "account.yaml", "--account-concurrency", "3")
    client = client_for(d)
    assert status(d)["accountConcurrency"] == 3

    ok, throttled = split_outcomes(invoke_concurrently(client, "AccountBound", [{"hold_s": 1.5}] * 8))
    for e in throttled:
        assert_throttled(e, ACCOUNT_REASON)
    for r in ok:
        assert_succeeded(r)
    assert len(ok) == 3
    assert max_overlap([r["Result"] for r in ok]) == 3
    assert function_status(d, "AccountBound")["throttles"] == 5


def test_reserved_concurrency_may_not_leave_less_than_100_unreserved():
    # The pools template reserves 6 (4 + 2 + 0); an account of 105 would leave 99 unreserved.
    p = subprocess.run([LAMBDAD, "serve", "--template", str(TEMPLATE), "--port", "0",
                        "--account-concurrency", "105"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
    assert "Invoke API listening" not in p.stdout
    assert "UnreservedConcurrentExecution below its minimum value of [100]" in p.stderr, p.stderr


# ---------------------------------------------------------------------------------------------
# warm reuse and what ends it

def test_warm_environment_keeps_module_state_until_evicted(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)

    first = [invoke(client, "Counter") for _ in range(3)]
    assert [r["Result"]["count"] for r in first] == [1, 2, 3]
    assert len({r["Result"]["pid"] for r in first}) == 1, "sequential calls reuse the warm environment"
    inits = [init_duration(report(d, r["RequestId"])) for r in first]
    assert inits[0] is not None and inits[0] > 0, "the first call is a cold start"
    assert inits[1:] == [None, None], "warm calls have no Init Duration"

    # The eviction endpoint drains the warm environment: the next call is cold.
    assert evict(d, "Counter") == {"FunctionName": "Counter", "Evicted": 1}
    r = invoke(client, "Counter")
    assert r["Result"]["count"] == 1
    assert r["Result"]["pid"] != first[0]["Result"]["pid"]
    assert init_duration(report(d, r["RequestId"])) is not None
    assert invoke(client, "Counter")["Result"]["count"] == 2

    # So does `lambdad evict` against the running daemon.
    p = subprocess.run([LAMBDAD, "evict", "Counter", "--endpoint", d.endpoint],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"FunctionName": "Counter", "Evicted": 1}
    r = invoke(client, "Counter")
    assert r["Result"]["count"] == 1
    assert init_duration(report(d, r["RequestId"])) is not None


def test_timeout_resets_the_environment(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    assert [invoke(client, "Counter")["Result"]["count"] for _ in range(2)] == [1, 2]

    r = invoke(client, "Counter", {"sleep": 5})
    rid = r["RequestId"]
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert r["Result"] == {"errorType": "Sandbox.Timedout",
                           "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds"}
    assert "\tStatus: timeout" in report(d, rid)

    r = invoke(client, "Counter")
    assert r["Result"]["count"] == 1, "in-memory state is lost with the timed-out runtime"
    assert init_duration(report(d, r["RequestId"])) is not None, "the call after a timeout re-initialises"
    assert invoke(client, "Counter")["Result"]["count"] == 2


def test_crash_resets_the_environment(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    assert [invoke(client, "Counter")["Result"]["count"] for _ in range(2)] == [1, 2]

    r = invoke(client, "Counter", {"exit": 3})
    rid = r["RequestId"]
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert r["Result"] == {"errorType": "Runtime.ExitError",
                           "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3"}
    assert "\tStatus: error\tError Type: Runtime.ExitError" in report(d, rid)

    r = invoke(client, "Counter")
    assert r["Result"]["count"] == 1
    assert init_duration(report(d, r["RequestId"])) is not None
    assert invoke(client, "Counter")["Result"]["count"] == 2


def test_force_cold_gives_every_invoke_a_fresh_environment(start_daemon):
    d = start_daemon(TEMPLATE, "--force-cold")
    client = client_for(d)
    rs = [invoke(client, "Counter") for _ in range(3)]
    assert [r["Result"]["count"] for r in rs] == [1, 1, 1]
    assert len({r["Result"]["pid"] for r in rs}) == 3
    for r in rs:
        assert init_duration(report(d, r["RequestId"])) is not None
    assert function_status(d, "Counter")["coldStarts"] == 3


# ---------------------------------------------------------------------------------------------
# cold-start control

def test_eager_initialises_one_environment_per_function_at_startup(start_daemon):
    d = start_daemon(TEMPLATE, "--warm-containers", "EAGER")
    client = client_for(d)
    eager = ["Counter", "Limited", "PairLimited", "Unlimited", "NodeCounter"]
    poll(lambda: all(len(live_environments(d, n, "idle")) == 1 for n in eager),
         "one idle environment per function")
    assert live_environments(d, "Throttled") == [], "reserved concurrency 0 gets no environment"

    r = invoke(client, "Counter")
    assert r["Result"]["count"] == 1
    assert init_duration(report(d, r["RequestId"])) is None, "an EAGER environment's first call is warm"
    fs = function_status(d, "Counter")
    assert fs["coldStarts"] == 0
    assert len(live_environments(d, "Counter")) == 1


def test_provisioned_concurrency_is_initialised_at_startup_and_kept(start_daemon):
    d = start_daemon(POOLS / "provisioned.yaml", "--idle-timeout", "500ms")
    client = client_for(d)
    poll(lambda: len(live_environments(d, "Provisioned", "idle")) == 2, "2 idle provisioned environments")
    status = function_status(d, "Provisioned")
    assert status["provisionedConcurrency"] == 2
    assert status["versions"] == ["$LATEST", "1"] and status["alias"] == "live"
    assert all(e["version"] == "1" for e in status["environments"])
    assert live_environments(d, "OnDemand") == [], "LAZY: on-demand functions start on first use"

    # Provisioned concurrency is on the alias (version 1), as on Lambda.
    r = invoke(client, "Provisioned:live")
    assert r["Result"]["count"] == 1
    assert r["Result"]["initializationType"] == "provisioned-concurrency"
    assert r["Result"]["version"] == r["Result"]["functionVersion"] == "1"
    assert r["Result"]["invokedArn"].endswith(":function:Provisioned:live")
    assert r["ExecutedVersion"] == "1"
    assert init_duration(report(d, r["RequestId"])) is None, "a provisioned environment's first call is warm"
    d.wait_for_log(r"START RequestId: %s Version: 1\n" % re.escape(r["RequestId"]))

    # The idle timeout reclaims the on-demand environment but keeps the provisioned ones.
    r = invoke(client, "OnDemand")
    assert r["Result"]["initializationType"] == "on-demand"
    assert init_duration(report(d, r["RequestId"])) is not None
    poll(lambda: not live_environments(d, "OnDemand"), "the idle OnDemand environment to be reclaimed")
    assert len(live_environments(d, "Provisioned", "idle")) == 2

    # The version number reaches the same provisioned environments as the alias.
    r = client.invoke(FunctionName="Provisioned", Qualifier="1", Payload=b"{}")
    assert json.loads(r["Payload"].read())["initializationType"] == "provisioned-concurrency"
    assert init_duration(report(d, r["ResponseMetadata"]["RequestId"])) is None
    assert function_status(d, "Provisioned")["coldStarts"] == 0

    # $LATEST is not provisioned: an unqualified call is an on-demand cold start.
    r = invoke(client, "Provisioned")
    assert r["Result"]["initializationType"] == "on-demand"
    assert r["Result"]["version"] == "$LATEST" and r["ExecutedVersion"] == "$LATEST"
    assert init_duration(report(d, r["RequestId"])) is not None
    assert function_status(d, "Provisioned")["coldStarts"] == 1


def test_unknown_alias_or_version_is_not_found(start_daemon):
    d = start_daemon(POOLS / "provisioned.yaml")
    client = client_for(d)
    for name, qualifier in (("Provisioned", "prod"), ("Provisioned", "2"), ("OnDemand", "1"),
                            ("OnDemand", "live")):
        with pytest.raises(ClientError) as e:
            client.invoke(FunctionName=name, Qualifier=qualifier, Payload=b"{}")
        err = e.value.response
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert err["Error"]["Code"] == "ResourceNotFoundException"
        assert err["Error"]["Message"] == (
            f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}:{qualifier}")


def test_cold_start_delay_is_added_to_init_duration(start_daemon):
    d = start_daemon(TEMPLATE, "--cold-start-delay", "300ms")
    client = client_for(d)
    cold = report(d, invoke(client, "Counter")["RequestId"])
    assert init_duration(cold) >= 300, cold
    assert duration(cold) < 300, "the delay belongs to init, not to the invoke"
    warm = report(d, invoke(client, "Counter")["RequestId"])
    assert init_duration(warm) is None


def test_cold_start_delay_per_runtime(start_daemon):
    d = start_daemon(TEMPLATE, "--cold-start-delay", "python3.12=1s")
    client = client_for(d)
    python = report(d, invoke(client, "Counter")["RequestId"])
    assert init_duration(python) >= 1000, python
    node = report(d, invoke(client, "NodeCounter")["RequestId"])
    assert init_duration(node) < 1000, f"the python3.12 delay must not apply to nodejs20.x: {node}"


def test_idle_environment_is_reclaimed_after_idle_timeout(start_daemon):
    d = start_daemon(TEMPLATE, "--idle-timeout", "500ms")
    client = client_for(d)
    r = invoke(client, "Counter")
    answered = time.monotonic()
    assert r["Result"]["count"] == 1
    assert len(live_environments(d, "Counter")) == 1

    poll(lambda: not live_environments(d, "Counter"), "the idle environment to be reclaimed", timeout=10)
    assert time.monotonic() - answered >= 0.4, "reclaimed before it had been idle for --idle-timeout"

    r = invoke(client, "Counter")
    assert r["Result"]["count"] == 1
    assert init_duration(report(d, r["RequestId"])) is not None, "the call after reclaim is cold"


# ---------------------------------------------------------------------------------------------
# observability

def test_status_endpoint_counts_invocations_cold_starts_throttles_and_timeouts(start_daemon):
    d = start_daemon(TEMPLATE, "--account-concurrency", "500")
    client = client_for(d)
    st = status(d)
    assert st["accountConcurrency"] == 500
    assert re.match(r"(cgroup|sampl|off)", st["memoryEnforcement"]), st["memoryEnforcement"]
    assert {f["name"] for f in st["functions"]} == {"Counter", "Limited", "PairLimited", "Unlimited",
                                                    "Throttled", "NodeCounter"}

    for _ in range(3):
        invoke(client, "Counter")
    assert invoke(client, "Counter", {"sleep": 5})["Result"]["errorType"] == "Sandbox.Timedout"
    invoke(client, "Counter")
    for _ in range(2):
        with pytest.raises(ClientError):
            invoke(client, "Throttled")

    fs = function_status(d, "Counter")
    assert fs["reservedConcurrency"] is None
    assert fs["provisionedConcurrency"] == 0
    assert fs["invocations"] == 5
    assert fs["coldStarts"] == 2, "the first call and the call after the timeout"
    assert fs["timeouts"] == 1
    assert fs["throttles"] == 0
    assert fs["oomKills"] == 0
    envs = live_environments(d, "Counter")
    assert len(envs) == 1 and envs[0]["state"] == "idle", envs
    assert envs[0]["ageMs"] >= 0 and envs[0]["invocations"] >= 1

    ts = function_status(d, "Throttled")
    assert ts["throttles"] == 2
    assert ts["invocations"] == 0
