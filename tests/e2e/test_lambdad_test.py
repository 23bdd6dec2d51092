"""`lambdad test`: the example suite passes, failing expectations are reported with what differs,
malformed suites are refused with file and line, reports (JUnit, JSON) agree with the run, shards
split a suite so that every case runs exactly once, Event cases are checked through the records
their destinations receive, events come from generate-event templates, and --endpoint runs the
same cases against a running `lambdad serve` with the same verdicts."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

from conftest import LAMBDAD, REPO

TEMPLATE = REPO / "examples" / "suite" / "template.yaml"
CASES = REPO / "examples" / "suite" / "cases"
SUITES = REPO / "tests" / "e2e" / "functions" / "suite"


def run_test(*args, timeout=120):
    return subprocess.run([LAMBDAD, "test", "--template", str(TEMPLATE), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def junit_cases(path, errors=0):
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    # The counts the XML claims agree with its elements, at both levels.
    for element in (root, suite):
        assert int(element.get("tests")) == len(cases)
        assert int(element.get("failures")) == len(failures)
        assert int(element.get("errors")) == errors
    return cases, failures


def test_the_example_suite_passes_and_the_reports_agree(tmp_path):
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    r = run_test(CASES, "--junit", junit, "--json", report)
    assert r.returncode == 0, r.stdout + r.stderr
    cases, failures = junit_cases(junit)
    assert len(cases) >= 30 and not failures
    assert {c.get("classname") for c in cases} == {"Calc", "SlowCalc", "Text", "Echo", "AsyncCalc", "AsyncText"}, \
        "python, node and provided"
    data = json.loads(report.read_text())
    assert data["summary"]["total"] == len(cases) and data["summary"]["failed"] == 0
    assert data["summary"]["coldStarts"] >= 4
    assert {c["name"] for c in data["cases"]} == {c.get("name") for c in cases}
    timed_out = next(c for c in data["cases"] if c["name"] == "times out")
    assert timed_out["status"] == "passed" and timed_out["durationMs"] >= 1000
    assert f"{len(cases)} cases: {len(cases)} passed, 0 failed" in r.stdout


def test_failing_expectations_fail_with_what_differs(tmp_path):
    junit = tmp_path / "junit.xml"
    r = run_test(SUITES / "failing", "--junit", junit)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "11 cases: 1 passed, 10 failed" in r.stdout
    out = r.stdout
    assert "FAIL wrong sum (Calc)" in out and '-   "result": 5' in out and '+   "result": 4' in out
    assert "expected the error ZeroDivisionError, but the function succeeded" in out
    assert "the function failed with TypeError" in out
    assert "$.echo.a[1]: expected 3, got 2" in out and "$.echo.missing is missing" in out
    assert "first difference at $.extra" in out
    assert "the function failed with Sandbox.Timedout" in out
    assert "| REPORT RequestId:" in out, "a failure shows that invoke's log"
    assert "PASS one that passes" in out
    cases, failures = junit_cases(junit)
    assert len(cases) == 11 and len(failures) == 10
    wrong_sum = next(c for c in cases if c.get("name") == "wrong sum")
    assert '"result": 4' in wrong_sum.find("failure").text


def test_a_malformed_suite_is_refused_with_file_and_line():
    r = run_test(SUITES / "malformed")
    assert r.returncode == 2
    err = r.stderr
    assert "bad.case.yaml:7: unknown key 'evnt'" in err
    assert "bad.case.yaml:13: unknown expectation 'rezult'" in err
    assert "bad.case.yaml:8: no function named Nope" in err
    assert "syntax.case.yaml:4:" in err
    assert "bad.case.yaml:18: an Event case is checked through a destination" in err
    assert "PASS" not in r.stdout, "nothing runs when the suite is malformed"


def test_shards_run_every_case_exactly_once(tmp_path):
    names = []
    for i in (1, 2, 3):
        report = tmp_path / f"shard{i}.json"
        r = run_test(CASES, "--shard", f"{i}/3", "--json", report)
        assert r.returncode == 0, r.stdout + r.stderr
        names += [(c["file"], c["name"]) for c in json.loads(report.read_text())["cases"]]
    everything = tmp_path / "all.json"
    r = run_test(CASES, "--json", everything)
    assert r.returncode == 0, r.stdout + r.stderr
    all_names = [(c["file"], c["name"]) for c in json.loads(everything.read_text())["cases"]]
    assert sorted(names) == sorted(all_names)
    assert len(set(names)) == len(names)


def test_filter_selects_by_name_and_bad_options_are_usage_errors(tmp_path):
    report = tmp_path / "r.json"
    r = run_test(CASES, "--filter", "^echoes", "--json", report)
    assert r.returncode == 0
    names = [c["name"] for c in json.loads(report.read_text())["cases"]]
    assert names and all(n.startswith("echoes") for n in names)
    assert run_test(CASES, "--shard", "4/3").returncode == 2
    assert run_test(CASES, "--filter", "(").returncode == 2
    assert run_test(tmp_path / "nowhere").returncode == 2


def test_event_cases_pass_through_their_destinations(tmp_path):
    report = tmp_path / "r.json"
    r = run_test(CASES / "async.case.yaml", "--json", report)
    assert r.returncode == 0, r.stdout + r.stderr
    cases = {c["name"]: c for c in json.loads(report.read_text())["cases"]}
    assert len(cases) == 5 and all(c["invocationType"] == "Event" for c in cases.values())
    assert cases["an Event invocation reaches OnSuccess"]["destination"] == "onSuccess"
    retried = "a failing Event invocation is retried twice, then reaches OnFailure"
    assert cases[retried]["destination"] == "onFailure"
    assert f"PASS {retried} (AsyncCalc, Event, OnFailure: RetriesExhausted after 3 attempts)" in r.stdout
    assert "PASS a Node.js Event invocation goes to a Lambda destination (AsyncText, Event, OnSuccess: Success " \
           "after 1 attempt)" in r.stdout
    # Three attempts of a 1 s timeout, 10 ms and 20 ms apart (--async-retry-base 10ms by default).
    timed_out = cases["an Event invocation that times out reaches OnFailure"]
    assert 3000 <= timed_out["wallMs"] < 20000


def test_failing_event_expectations_name_the_destination_and_the_difference():
    r = run_test(SUITES / "failing" / "events.case.yaml")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert "4 cases: 0 passed, 4 failed" in out
    assert "FAIL expects OnSuccess but the event fails (AsyncCalc)" in out
    assert ("expected a record at OnSuccess, but the event ended RetriesExhausted after 3 attempts and its record "
            "went to OnFailure (SQS arn:aws:sqs:us-east-1:123456789012:calc-failures)") in out
    assert "first difference at $.requestContext.approximateInvokeCount" in out
    assert '-     "approximateInvokeCount": 2,' in out and '+     "approximateInvokeCount": 3,' in out
    assert "in the record's responsePayload:" in out and '+   "text": "cba"' in out
    assert "Calc has no OnSuccess destination configured" in out


def test_a_slower_retry_base_is_used_for_event_retries(tmp_path):
    report = tmp_path / "r.json"
    r = run_test(CASES / "async.case.yaml", "--filter", "retried twice", "--async-retry-base", "300ms",
                 "--json", report)
    assert r.returncode == 0, r.stdout + r.stderr
    # Retries wait the base, then twice it: at least 900 ms in all.
    assert json.loads(report.read_text())["cases"][0]["wallMs"] >= 900
    assert run_test(CASES, "--async-retry-base", "soon").returncode == 2


def test_events_from_generate_event_templates(tmp_path):
    r = run_test(CASES / "generated.case.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 cases: 4 passed" in r.stdout
    bad = tmp_path / "bad.case.yaml"
    bad.write_text("function: Echo\n"
                   "cases:\n"
                   "  - eventTemplate: s3 upload\n"
                   "  - eventTemplate:\n"
                   "      generate: s3 put\n"
                   "      with: {bucket: b, colour: red}\n"
                   "  - eventTemplate: {generate: s3 put, with: {body: x}}\n"
                   "  - eventTemplate: {generate: sqs receive-message, set: {'$.Nope[3].x': 1}}\n"
                   "  - eventTemplate: nosuch thing\n")
    r = run_test(bad)
    assert r.returncode == 2 and "PASS" not in r.stdout
    err = r.stderr
    assert "bad.case.yaml:3: eventTemplate s3 upload: unknown event 'upload' for s3; its events: put, delete" in err
    assert "bad.case.yaml:6: 'colour' is not an option of lambdad generate-event" in err
    assert "bad.case.yaml:7: eventTemplate s3 put: --body does not apply to s3 put" in err
    assert "bad.case.yaml:8: '$.Nope[3].x' does not lead into the sqs receive-message event" in err
    assert "bad.case.yaml:9: eventTemplate nosuch thing: unknown service 'nosuch'" in err


def test_jobs_default_is_capped_by_reserved_concurrency():
    # AsyncCalc alone: ReservedConcurrentExecutions 2.
    r = run_test(CASES / "async.case.yaml", "--filter", "^an Event invocation reaches")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "(2 at once: the functions' reserved concurrency)" in r.stdout
    # With functions that have none: twice the cores.
    cores = max(1, os.cpu_count())
    r = run_test(CASES / "calc.case.yaml", CASES / "async.case.yaml", "--filter", "^an Event invocation reaches|^adds")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"({max(2, 2 * cores)} at once: twice the {cores} core" in r.stdout
    r = run_test(CASES / "calc.case.yaml", "--jobs", "3")
    assert "(3 at once: --jobs)" in r.stdout


def verdicts(report):
    return {(c["file"], c["name"]): c["status"] for c in json.loads(report.read_text())["cases"]}


def test_endpoint_gives_the_same_verdicts_as_in_process(start_daemon, tmp_path):
    daemon = start_daemon(TEMPLATE)
    suites = [p for p in sorted(CASES.glob("*.case.*")) if p.name != "async.case.yaml"]
    suites += [SUITES / "failing" / "wrong.case.yaml", SUITES / "failing" / "passes.case.yaml"]
    here, there = tmp_path / "here.json", tmp_path / "there.json"
    local = run_test(*suites, "--json", here)
    remote = run_test(*suites, "--json", there, "--endpoint", daemon.endpoint)
    assert local.returncode == remote.returncode == 1, remote.stdout + remote.stderr
    assert verdicts(here) == verdicts(there)
    assert sum(s == "failed" for s in verdicts(there).values()) == 6
    out = remote.stdout
    assert f"against {daemon.endpoint}" in out
    # Errors come from X-Amz-Function-Error and the payload; durations and cold starts from the
    # log tail (X-Amz-Log-Type: Tail).
    assert "the function failed with TypeError" in out and "the function failed with Sandbox.Timedout" in out
    assert "| REPORT RequestId:" in out
    data = json.loads(there.read_text())
    timed_out = next(c for c in data["cases"] if c["name"] == "times out")
    assert timed_out["status"] == "passed" and timed_out["durationMs"] >= 1000
    assert data["summary"]["coldStarts"] >= 4


def test_endpoint_reports_event_cases_as_errors_and_failures_with_reasons(start_daemon, tmp_path):
    daemon = start_daemon(TEMPLATE)
    junit = tmp_path / "junit.xml"
    r = run_test(CASES / "async.case.yaml", CASES / "single.case.json", "--endpoint", daemon.endpoint,
                 "--junit", junit)
    assert r.returncode == 2, "an Event case that cannot be checked is never passed"
    assert "6 cases: 1 passed, 0 failed, 5 errors" in r.stdout
    assert "ERROR an Event invocation reaches OnSuccess (AsyncCalc)" in r.stdout
    assert "does not show; run Event cases in-process" in r.stdout
    cases, _ = junit_cases(junit, errors=5)
    assert sum(c.find("error") is not None for c in cases) == 5

    # Throttles and connection errors are failures that say why.
    busy = tmp_path / "busy.case.yaml"
    busy.write_text("function: AsyncCalc\ncases:\n" +
                    "".join(f"  - name: sleeps {i}\n    event: {{op: sleep, seconds: 0.5}}\n" for i in range(4)))
    r = run_test(busy, "--endpoint", daemon.endpoint, "--jobs", "4")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "AsyncCalc is throttled: TooManyRequestsException (ReservedFunctionConcurrentInvocationLimitExceeded" \
        in r.stdout
    assert "4 cases: 2 passed, 2 failed" in r.stdout
    daemon.stop()
    r = run_test(CASES / "single.case.json", "--endpoint", daemon.endpoint)
    assert r.returncode == 1
    assert f"cannot invoke Calc at {daemon.endpoint}: cannot connect" in r.stdout
    assert run_test(CASES, "--endpoint", "localhost:3001").returncode == 2
