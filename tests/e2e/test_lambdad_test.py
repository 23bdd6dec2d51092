"""`lambdad test`: the example suite passes, failing expectations are reported with what differs,
malformed suites are refused with file and line, reports (JUnit, JSON) agree with the run, and
shards split a suite so that every case runs exactly once."""
import json
import subprocess
import xml.etree.ElementTree as ET

from conftest import LAMBDAD, REPO

TEMPLATE = REPO / "examples" / "suite" / "template.yaml"
CASES = REPO / "examples" / "suite" / "cases"
SUITES = REPO / "tests" / "e2e" / "functions" / "suite"


def run_test(*args, timeout=120):
    return subprocess.run([LAMBDAD, "test", "--template", str(TEMPLATE), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def junit_cases(path):
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
        assert int(element.get("errors")) == 0
    return cases, failures


def test_the_example_suite_passes_and_the_reports_agree(tmp_path):
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    r = run_test(CASES, "--junit", junit, "--json", report)
    assert r.returncode == 0, r.stdout + r.stderr
    cases, failures = junit_cases(junit)
    assert len(cases) >= 30 and not failures
    assert {c.get("classname") for c in cases} == {"Calc", "SlowCalc", "Text", "Echo"}, "python, node and provided"
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
    assert "7 cases: 1 passed, 6 failed" in r.stdout
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
    assert len(cases) == 7 and len(failures) == 6
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
    assert "PASS" not in r.stdout, "nothing runs when the suite is malformed"


def test_shards_run_every_case_exactly_once(tmp_path):
    names = []
    for i in (1, 2, 3):
        report = tmp_path / f"shard{i}.json"
        r = run_test(CASES, "--shard", f"{i}/3", "--json", report)
        assert r.returncode == 0, r.stdout + r.stderr
        names += [(c["file"], c["name"]) for c in json.loads(report.read_text())["cases"]]
    everything = tmp_path / "all.json"
    assert run_test(CASES, "--json", everything).returncode == 0
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
