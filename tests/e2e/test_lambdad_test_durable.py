"""`lambdad test` with durable functions (docs/test-suites.md, docs/decisions/026): each case of
functions/durable/suite starts an execution of a workflow in functions/durable/index.mjs (the
official @aws/durable-execution-sdk-js, checkpointing through lambdad test's own engine), with its
own time scale, answers its callbacks, and is checked on the execution's status, result, error
and operations; the cases of functions/durable/failing each fail for their reason (a wrong
result, operations out of order, a missing error, a callback nobody waits for, a deadline), the
run still ending cleanly; --endpoint reports durable cases as errors."""
import json
import shutil
import subprocess

import pytest

from conftest import FUNCTIONS, LAMBDAD, copy_node_packages

SOURCE = FUNCTIONS / "durable"
SDK = "@aws/durable-execution-sdk-js"




@pytest.fixture(scope="module")
def template(tmp_path_factory):
    d = tmp_path_factory.mktemp("durable")
    code = d / "code"
    code.mkdir()
    shutil.copy(SOURCE / "index.mjs", code / "index.mjs")
    copy_node_packages(SDK, code)
    path = d / "template.yaml"
    path.write_text((SOURCE / "template.yaml").read_text().replace("CODE_DIR", str(code)))
    return path


def run_test(template, *args, timeout=180):
    return subprocess.run([LAMBDAD, "test", "--template", str(template), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def by_name(report):
    return {c["name"]: c for c in report["cases"]}


def test_durable_cases_start_executions_answer_callbacks_and_check_their_end(template, tmp_path):
    report_file, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    r = run_test(template, SOURCE / "suite", "--json", report_file, "--junit", junit)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(report_file.read_text())
    cases = by_name(report)
    assert set(cases) == {"steps retry and succeed", "parallel branches and a map", "an hour passes in a second",
                          "approved by the case", "rejected by the case", "a failing step fails the execution",
                          "a chained invoke"}
    assert report["summary"]["total"] == 7 and report["summary"]["passed"] == 7
    assert all(c["status"] == "passed" and "failure" not in c for c in cases.values())
    assert "7 cases: 7 passed, 0 failed" in r.stdout

    steps = cases["steps retry and succeed"]["execution"]
    assert steps["status"] == "SUCCEEDED" and steps["timeScale"] == 3600
    assert steps["invocations"] == 3, "the first try, then one invocation per retry"
    assert [(o["type"], o["name"], o["status"]) for o in steps["operations"][1:]] == \
        [("STEP", "prepare", "SUCCEEDED"), ("STEP", "flaky", "SUCCEEDED")]
    assert steps["operations"][2]["result"] == {"attempts": 3, "value": 20}
    assert steps["arn"].startswith("arn:aws:lambda:us-east-1:123456789012:function:Steps:$LATEST/durable-execution/")

    wait = cases["an hour passes in a second"]
    assert wait["execution"]["name"] == "wait-hour-1"
    assert "/durable-execution/wait-hour-1/" in wait["execution"]["arn"]
    # An hour in the execution's own record, about a second on the clock.
    assert wait["durationMs"] >= 3_600_000
    assert wait["wallMs"] < 20_000
    hour = next(o for o in wait["execution"]["operations"] if o["type"] == "WAIT")
    assert hour["name"] == "hour" and hour["status"] == "SUCCEEDED"

    approved = cases["approved by the case"]["execution"]
    assert approved["callbacksAnswered"] == 1 and approved["timeScale"] == 1
    callback = next(o for o in approved["operations"] if o["type"] == "CALLBACK")
    assert callback["result"] == {"approved": True, "by": "lambdad-test"}
    rejected = cases["rejected by the case"]["execution"]
    assert rejected["status"] == "FAILED"
    assert rejected["error"] == {"ErrorType": "CallbackExternalError", "ErrorMessage": "not this one"}

    failing = cases["a failing step fails the execution"]["execution"]
    assert failing["status"] == "FAILED" and failing["error"]["ErrorType"] == "StepError"

    assert "PASS an hour passes in a second (WaitHour, durable: SUCCEEDED after 2 invocations" in r.stdout
    assert "PASS a chained invoke (Chained, durable: SUCCEEDED" in r.stdout
    xml = junit.read_text()
    assert 'tests="7" failures="0" errors="0"' in xml


def test_durable_expectations_can_fail_and_a_case_past_its_deadline_is_stopped(template, tmp_path):
    report_file = tmp_path / "report.json"
    r = run_test(template, SOURCE / "failing", "--json", report_file)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert "5 cases: 0 passed, 5 failed" in out
    cases = by_name(json.loads(report_file.read_text()))
    assert all(c["status"] == "failed" for c in cases.values())

    wrong = cases["wrong result"]
    assert wrong["execution"]["status"] == "SUCCEEDED"
    assert "result differs" in wrong["failure"]
    assert '-   "value": 99' in wrong["failure"] and '+   "value": 10' in wrong["failure"]
    assert "| STEP (Step) flaky SUCCEEDED" in wrong["failure"], "a failure lists the execution's operations"
    assert "FAIL wrong result (Steps)" in out

    assert 'operations[1] {"name":"before"} is not among the execution\'s operations after the one operations[0] ' \
        "matched" in cases["operations out of order"]["failure"]
    assert "expected the execution to fail with StepError, but it succeeded" in \
        cases["expects an error but succeeds"]["failure"]
    assert "1 of the case's 1 callback was not answered: no CALLBACK operation named approval was waiting" in \
        cases["a callback nobody waits for"]["failure"]

    stopped = cases["never ends before its deadline"]
    assert "the execution did not end within 2.0 s" in stopped["failure"] and "it was stopped" in stopped["failure"]
    assert stopped["execution"]["status"] == "STOPPED"
    assert stopped["execution"]["error"]["ErrorType"] == "lambdad.TestDeadline"
    assert 2000 <= stopped["wallMs"] < 10_000


def test_a_durable_case_is_refused_where_it_does_not_fit(template, tmp_path):
    plain = tmp_path / "plain.case.yaml"
    plain.write_text("function: DurableTarget\nevent: {n: 1}\ndurable: {timeScale: 2}\nexpect: {status: SUCCEEDED}\n")
    event = tmp_path / "event.case.yaml"
    event.write_text("function: Steps\ninvocationType: Event\nexpect: {destination: onSuccess}\n")
    r = run_test(template, plain, event)
    assert r.returncode == 2
    assert f"{plain}:3: 'durable' applies to durable functions only: DurableTarget has no DurableConfig" in r.stderr
    assert f"{plain}:1: the expectation 'status' applies to durable functions only" in r.stderr
    assert f"{event}:1: Steps is durable: its case starts an execution" in r.stderr


def test_endpoint_reports_durable_cases_as_errors(template, start_daemon, tmp_path):
    daemon = start_daemon(template)
    report_file = tmp_path / "report.json"
    r = run_test(template, SOURCE / "suite" / "wait.case.yaml", "--endpoint", daemon.endpoint, "--json", report_file)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "ERROR an hour passes in a second (WaitHour)" in r.stdout
    assert "run durable cases in-process (without --endpoint)" in r.stdout
    [case] = json.loads(report_file.read_text())["cases"]
    assert case["status"] == "error"
