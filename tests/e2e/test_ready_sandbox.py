"""Sandboxes made ahead (docs/decisions/022): once a function has cold-started and an invoke has
ended, the daemon prepares the next cold start's environment (cgroup, /tmp, Runtime API listener,
a child that has laid out its root and waits in lambdad-hold). The next cold start runs there: its
runtime is exec'd only then, so its init, Init Duration and module state are a fresh
environment's, as on Lambda. Eviction discards it."""
import re

from test_pools import TEMPLATE, client_for, evict, function_status, init_duration, invoke, report
from conftest import wait_for

MADE_AHEAD = r"\[Counter\] environment (\d+) made ahead \(pid (\d+)\)"


def test_the_next_cold_start_runs_in_the_sandbox_made_ahead(start_daemon):
    d = start_daemon(TEMPLATE, "--force-cold", "--log-level", "debug")
    client = client_for(d)
    first = invoke(client, "Counter")
    assert first["Result"]["count"] == 1
    made = d.wait_for_log(MADE_AHEAD)
    wait_for(lambda: function_status(d, "Counter")["readySandboxes"] == 1, 10, "a sandbox made ahead")
    # Made ahead, not started: no INIT_START for it yet, and it is not an environment of the pool.
    assert "environment {} initializing".format(made.group(1)) not in d.logs()
    assert all(e["id"] != int(made.group(1)) for e in function_status(d, "Counter")["environments"])

    second = invoke(client, "Counter")
    assert second["Result"]["count"] == 1, "a fresh environment: module state starts again"
    assert second["Result"]["pid"] == int(made.group(2)), "served by the process made ahead"
    assert second["Result"]["initializationType"] == "on-demand"
    assert init_duration(report(d, second["RequestId"])) is not None
    d.wait_for_log(r"environment {} initializing \(pid {}\)".format(made.group(1), made.group(2)))
    assert function_status(d, "Counter")["coldStarts"] == 2
    assert d.stop_and_check() == []


def test_eviction_discards_the_sandbox_made_ahead(start_daemon):
    d = start_daemon(TEMPLATE, "--force-cold", "--log-level", "debug")
    client = client_for(d)
    invoke(client, "Counter")
    made = d.wait_for_log(MADE_AHEAD)
    wait_for(lambda: function_status(d, "Counter")["readySandboxes"] == 1, 10, "a sandbox made ahead")
    evict(d, "Counter")
    assert function_status(d, "Counter")["readySandboxes"] == 0
    r = invoke(client, "Counter")
    assert r["Result"]["count"] == 1
    assert r["Result"]["pid"] != int(made.group(2)), "the discarded sandbox served an invoke"
    # The next one is made once this invoke has ended.
    wait_for(lambda: len(re.findall(MADE_AHEAD, d.logs())) == 2, 10, "another sandbox made ahead")
    assert d.stop_and_check() == []
