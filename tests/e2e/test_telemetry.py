"""The Telemetry API (2022-07-01) and the Logs API (2020-08-15) (docs/decisions/025, lambda-spec
§2.5), through boto3 against the real daemon and our Python runtime: three internal extensions
subscribe during init (HTTP and TCP destinations, and the Logs API) and listen on
sandbox.localdomain, the environment's own address. They
receive, for a cold and a warm invoke, every platform event in order with the invoke's request
id, figures that agree with REPORT, and every function log line; a subscription that Lambda
refuses gets its 400 or 403. A subscriber too slow for what the function logs gets
platform.logsDropped, and its slowness does not hold the invokes (their time against the same
function with prompt subscribers is printed as a ratio)."""
import time

from conftest import FUNCTIONS
from test_pools import client_for, init_duration, invoke, report

TEMPLATE = FUNCTIONS / "extensions" / "template.yaml"


def test_a_subscriber_gets_every_phase_of_a_cold_and_a_warm_invoke_and_every_line(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    cold = invoke(client, "Telemetry")
    assert "FunctionError" not in cold, cold["Body"]
    b = cold["Result"]
    # sandbox.localdomain is the environment's own loopback address, not the host's 127.0.0.1.
    assert b["address"].startswith("127.") and b["address"] != "127.0.0.1"
    assert b["subscribed"] == {"telemetry": [200, "OK"], "legacy": [200, "OK"], "stream": [200, "OK"]}
    validation = "ValidationError"
    assert b["refused"]["maxItems"] == [400, {"errorMessage": "buffering.maxItems must be an integer between 1000 "
                                                              "and 10000", "errorType": validation}]
    assert b["refused"]["timeoutMs"][0] == 400 and "between 25 and 30000" in b["refused"]["timeoutMs"][1]["errorMessage"]
    assert b["refused"]["schema"][0] == 400 and b["refused"]["schema"][1]["errorType"] == validation
    assert b["refused"]["types"][0] == 400 and b["refused"]["types"][1]["errorType"] == validation
    assert b["refused"]["noId"] == [403, {"errorMessage": "Missing Lambda-Extension-Identifier header",
                                          "errorType": "Extension.MissingExtensionIdentifier"}]
    # Subscriptions close with the init.
    assert b["late"] == [403, {"errorMessage": "Telemetry API subscription is closed",
                               "errorType": "Telemetry.SubscriptionClosed"}]

    warm = invoke(client, "Telemetry", {"reportOf": cold["RequestId"], "lines": 3})
    last = invoke(client, "Telemetry", {"reportOf": warm["RequestId"]})
    assert last["Result"]["telemetry"], "nothing was delivered"
    events = last["Result"]["telemetry"]
    types = [e["type"] for e in events]
    for e in events:
        assert e["time"].endswith("Z") and len(e["time"]) == len("2022-10-12T00:00:15.064Z"), e

    # The init, in Lambda's order: its start, the extensions, the subscription, the runtime's
    # and the whole init's end (the figure REPORT gives as Init Duration).
    init = types[:types.index("platform.initReport") + 1]
    assert init[0] == "platform.initStart"
    assert init.count("platform.extension") == 3 and "platform.telemetrySubscription" in init
    assert init[-2:] == ["platform.initRuntimeDone", "platform.initReport"]
    start = events[0]["record"]
    assert start["functionName"] == "Telemetry" and start["functionVersion"] == "$LATEST"
    assert start["initializationType"] == "on-demand" and start["phase"] == "init"
    assert {"type": "function", "record": "extension init done"} in [{k: e[k] for k in ("type", "record")}
                                                                    for e in events[:len(init)]]
    init_report = events[len(init) - 1]["record"]
    assert init_report["status"] == "success"
    cold_report = report(d, cold["RequestId"])

    for r, lines, is_cold in ((cold, 1, True), (warm, 3, False)):
        rid = r["RequestId"]
        mine = [e for e in events if isinstance(e["record"], dict) and e["record"].get("requestId") == rid]
        assert [e["type"] for e in mine] == ["platform.start", "platform.runtimeDone", "platform.report"], mine
        start, done, rep = (e["record"] for e in mine)
        assert start["version"] == "$LATEST" and start["tracing"]["type"] == "X-Amzn-Trace-Id"
        assert done["status"] == "success" and done["metrics"]["producedBytes"] > 0
        assert [s["name"] for s in done["spans"]] == ["responseLatency", "responseDuration"]
        metrics = rep["metrics"]
        assert rep["status"] == "success" and metrics["memorySizeMB"] == 128 and metrics["maxMemoryUsedMB"] > 0
        # Durations add up: the report's covers the runtime's, and the init is billed with it.
        assert metrics["durationMs"] >= done["metrics"]["durationMs"]
        billed = metrics["durationMs"] + (metrics.get("initDurationMs") or 0)
        assert billed <= metrics["billedDurationMs"] < billed + 1
        assert ("initDurationMs" in metrics) == is_cold
        if is_cold:
            assert metrics["initDurationMs"] == init_report["metrics"]["durationMs"]
            assert abs(metrics["initDurationMs"] - init_duration(cold_report)) <= 0.005
        # Every line the function printed, between its start and its runtimeDone.
        lines_of = [i for i, e in enumerate(events) if e["type"] == "function" and rid in e["record"]]
        assert len(lines_of) == lines
        assert events.index(mine[0]) < lines_of[0] and lines_of[-1] < events.index(mine[1])

    # The Logs API subscriber gets the older shapes: no init events, END instead of runtimeDone.
    legacy = last["Result"]["legacy"]
    assert "platform.initStart" not in [e["type"] for e in legacy]
    assert [e["type"] for e in legacy if isinstance(e["record"], dict) and
            e["record"].get("requestId") == warm["RequestId"]] == ["platform.start", "platform.end", "platform.report"]
    [legacy_report] = [e["record"] for e in legacy if e["type"] == "platform.report" and
                       e["record"]["requestId"] == warm["RequestId"]]
    assert set(legacy_report) == {"requestId", "metrics"}
    assert any(e["type"] == "platform.logsSubscription" for e in legacy)

    # The TCP subscriber reads the same platform events from one connection, a line each.
    stream = last["Result"]["stream"]
    assert [e["type"] for e in stream if isinstance(e["record"], dict) and
            e["record"].get("requestId") == warm["RequestId"]] == ["platform.start", "platform.runtimeDone",
                                                                  "platform.report"]
    assert stream[0]["type"] == "platform.initStart"


def test_a_slow_subscriber_gets_logs_dropped_and_does_not_hold_the_invokes(start_daemon):
    d = start_daemon(TEMPLATE)
    client = client_for(d)
    first = invoke(client, "TelemetrySlow")
    assert "FunctionError" not in first, first["Body"]
    # The subscriber sleeps 4 s in each POST: 6 invokes of 1,200 lines each are over long
    # before it has taken two batches (delivery does not hold an invoke), and what did not fit
    # in one waiting batch of 1,000 is dropped, not kept.
    def six(name):
        began = time.monotonic()
        for _ in range(6):
            r = invoke(client, name, {"lines": 1200})
            assert "FunctionError" not in r, r["Body"]
        return time.monotonic() - began

    took = six("TelemetrySlow")
    assert took < 4, f"6 invokes took {took:.1f} s: they waited for the subscriber"
    # Against the same function whose subscribers keep up: within noise (the bound is loose, for
    # a busy machine; the ratio is printed).
    assert "FunctionError" not in invoke(client, "Telemetry"), "the prompt subscriber's function failed"
    prompt = six("Telemetry")
    print(f"6 invokes of 1,200 lines: {took:.2f} s with a subscriber asleep, {prompt:.2f} s with prompt ones, "
          f"ratio {took / prompt:.2f}")
    assert took / prompt < 3, (took, prompt)
    # A later invoke waits for the report of dropped records (the next batch after a 4 s POST).
    deadline = time.monotonic() + 20
    dropped = []
    while not dropped and time.monotonic() < deadline:
        time.sleep(1)
        got = invoke(client, "TelemetrySlow", {"wait": 0})["Result"]["telemetry"]
        dropped = [e["record"] for e in got if e["type"] == "platform.logsDropped"]
    assert dropped, "no platform.logsDropped arrived"
    assert dropped[0]["droppedRecords"] > 0 and dropped[0]["droppedBytes"] > 0 and dropped[0]["reason"]
