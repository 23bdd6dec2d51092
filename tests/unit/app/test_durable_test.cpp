// `lambdad test`'s durable cases without running anything: the `durable:` options and the
// `status` and `operations` expectations (and their problems, with lines), what does not fit a
// durable or a plain function, each check of an execution's end, the deadline, and the listing
// of operations a failure shows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_suite.hpp"

namespace lambdad::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using std::chrono::milliseconds;

std::vector<std::string> problems_of(const Suite& s) {
  std::vector<std::string> out;
  for (const auto& p : s.problems) out.push_back(p.to_string());
  return out;
}

TEST(DurableCases, ReadTheirOptionsCallbacksAndExpectations) {
  Suite s = load_suite_text(
      "name: approval flow\n"
      "function: Callback\n"
      "event: {order: 7}\n"
      "durable:\n"
      "  executionName: t-1\n"
      "  timeScale: 3600\n"
      "  deadlineSeconds: 20\n"
      "  callbacks:\n"
      "    - result: {approved: true}\n"
      "    - name: second\n"
      "      error: {ErrorType: Rejected, ErrorMessage: no}\n"
      "expect:\n"
      "  result: {approved: true}\n"
      "  status: SUCCEEDED\n"
      "  operations:\n"
      "    - {type: STEP, name: prepare, status: SUCCEEDED}\n"
      "    - {type: CALLBACK, error: Rejected, result: [1, \"2\"]}\n",
      "a.case.yaml");
  ASSERT_TRUE(s.problems.empty()) << s.problems[0].to_string();
  ASSERT_EQ(s.cases.size(), 1u);
  const TestCase& c = s.cases[0];
  ASSERT_TRUE(c.durable);
  EXPECT_EQ(c.durable->line, 5);
  EXPECT_EQ(c.durable->execution_name, "t-1");
  EXPECT_DOUBLE_EQ(c.durable->time_scale, 3600);
  EXPECT_DOUBLE_EQ(c.durable->deadline_s, 20);
  ASSERT_EQ(c.durable->callbacks.size(), 2u);
  EXPECT_EQ(c.durable->callbacks[0].result, json::parse(R"({"approved":true})"));
  EXPECT_FALSE(c.durable->callbacks[0].error);
  EXPECT_EQ(c.durable->callbacks[0].line, 9);
  EXPECT_EQ(c.durable->callbacks[1].name, "second");
  EXPECT_EQ(c.durable->callbacks[1].error, json::parse(R"({"ErrorType":"Rejected","ErrorMessage":"no"})"));
  EXPECT_EQ(c.expect.status, "SUCCEEDED");
  EXPECT_EQ(*c.expect.operations, json::parse(R"([{"type":"STEP","name":"prepare","status":"SUCCEEDED"},
                                                   {"type":"CALLBACK","error":"Rejected","result":[1,"2"]}])"));

  // Without `durable:` a case has no options (its function decides whether it is durable).
  Suite plain = load_suite_text("function: Steps\ndurable:\n", "b.case.yaml");
  ASSERT_TRUE(plain.problems.empty());
  ASSERT_TRUE(plain.cases[0].durable);
  EXPECT_TRUE(plain.cases[0].durable->callbacks.empty());
  EXPECT_FALSE(load_suite_text("function: Steps\n", "c.case.yaml").cases[0].durable);
}

TEST(DurableCases, ProblemsHaveLines) {
  Suite s = load_suite_text(
      "function: Steps\n"
      "durable:\n"
      "  timeScale: 0\n"
      "  executionName: has space\n"
      "  deadlineSeconds: soon\n"
      "  callbacks:\n"
      "    - {result: 1, error: {ErrorType: X}}\n"
      "    - {name: only}\n"
      "    - {error: text}\n"
      "    - {result: 1, when: later}\n"
      "  retries: 3\n"
      "expect:\n"
      "  status: DONE\n"
      "  operations:\n"
      "    - {type: STEPS}\n"
      "    - {status: OK, parent: x}\n"
      "    - 7\n",
      "d.case.yaml");
  const auto problems = problems_of(s);
  ASSERT_EQ(problems.size(), 13u) << ::testing::PrintToString(problems);
  EXPECT_THAT(problems[0], HasSubstr("d.case.yaml:13: 'status' is the execution's end: one of FAILED, STOPPED"));
  EXPECT_THAT(problems[1], HasSubstr("d.case.yaml:15: 'STEPS' is not an operation type"));
  EXPECT_THAT(problems[2], HasSubstr("d.case.yaml:16: 'OK' is not an operation status"));
  EXPECT_THAT(problems[3], HasSubstr("d.case.yaml:16: unknown key 'parent' in an expected operation"));
  EXPECT_THAT(problems[4], HasSubstr("d.case.yaml:17: an expected operation is a mapping"));
  EXPECT_THAT(problems[5], HasSubstr("d.case.yaml:3: 'timeScale' must be a number greater than 0"));
  EXPECT_THAT(problems[6], HasSubstr("d.case.yaml:4: 'executionName' is 1 to 64 of"));
  EXPECT_THAT(problems[7], HasSubstr("d.case.yaml:5: 'deadlineSeconds' must be a number greater than 0"));
  EXPECT_THAT(problems[8], HasSubstr("d.case.yaml:7: a callback gives one of 'result' (it succeeds) and 'error'"));
  EXPECT_THAT(problems[9], HasSubstr("d.case.yaml:8: a callback gives one of"));
  EXPECT_THAT(problems[10], HasSubstr("d.case.yaml:9: a callback's 'error' is an ErrorObject"));
  EXPECT_THAT(problems[11], HasSubstr("d.case.yaml:10: unknown key 'when' in a callback"));
  EXPECT_THAT(problems[12], HasSubstr("d.case.yaml:11: unknown key 'retries' under durable"));
  EXPECT_TRUE(s.cases.empty());
}

TEST(DurableCases, WhatDoesNotFitTheFunctionIsAProblem) {
  Suite s = load_suite_text(
      "cases:\n"
      "  - function: Plain\n"
      "    durable: {timeScale: 2}\n"
      "    expect: {status: FAILED, operations: []}\n"
      "  - function: Flow\n"
      "    invocationType: Event\n"
      "    expect: {destination: onSuccess}\n"
      "  - function: Flow\n"
      "    expect: {maxDurationMs: 10}\n"
      "  - function: Flow\n"
      "    expect: {status: SUCCEEDED, errorMessage: boom}\n"
      "  - function: Flow\n"
      "    durable: {callbacks: [{result: 1}]}\n"
      "    expect: {status: FAILED, error: X, operations: [{type: STEP}]}\n",
      "e.case.yaml");
  ASSERT_TRUE(s.problems.empty()) << s.problems[0].to_string();
  ASSERT_EQ(s.cases.size(), 5u);
  std::vector<std::string> plain;
  for (const auto& p : durable_problems(s.cases[0], false)) plain.push_back(p.to_string());
  ASSERT_EQ(plain.size(), 3u) << ::testing::PrintToString(plain);
  EXPECT_THAT(plain[0], HasSubstr("e.case.yaml:3: 'durable' applies to durable functions only: Plain has no DurableConfig"));
  EXPECT_THAT(plain[1], HasSubstr("e.case.yaml:2: the expectation 'status' applies to durable functions only"));
  EXPECT_THAT(plain[2], HasSubstr("e.case.yaml:2: the expectation 'operations' applies to durable functions only"));
  EXPECT_TRUE(durable_problems(s.cases[0], true).empty());

  auto one = [&](std::size_t i) {
    auto p = durable_problems(s.cases[i], true);
    return p.size() == 1 ? p[0].to_string() : ::testing::PrintToString(p.size());
  };
  EXPECT_THAT(one(1), HasSubstr("e.case.yaml:5: Flow is durable: its case starts an execution"));
  EXPECT_THAT(one(2), HasSubstr("e.case.yaml:8: 'maxDurationMs' does not apply to a durable case"));
  EXPECT_THAT(one(3), HasSubstr("they contradict status: SUCCEEDED"));
  EXPECT_TRUE(durable_problems(s.cases[4], true).empty());
  EXPECT_TRUE(durable_problems(s.cases[1], false).empty()) << "a plain Event case";
}

json op(const std::string& type, const std::string& name, const std::string& status, const std::string& id = "",
        const std::string& parent = "") {
  return json{{"id", id.empty() ? name : id}, {"parentId", parent}, {"type", type}, {"subType", ""},
              {"name", name}, {"status", status}};
}

DurableObserved succeeded(const std::string& result) {
  DurableObserved o;
  o.status = "SUCCEEDED";
  o.result = result;
  o.operations = {op("EXECUTION", "x", "SUCCEEDED"), op("STEP", "prepare", "SUCCEEDED"), op("WAIT", "hour", "SUCCEEDED"),
                  op("STEP", "after", "SUCCEEDED")};
  o.operations[1]["result"] = json{{"input", 1}};
  return o;
}

DurableObserved failed(const std::string& status, json error) {
  DurableObserved o;
  o.status = status;
  o.error = std::move(error);
  auto step = op("STEP", "explode", "FAILED");
  step["error"] = json{{"ErrorType", "Error"}, {"ErrorMessage", "boom"}};
  o.operations = {op("EXECUTION", "x", status), step};
  return o;
}

TEST(DurableExpectations, ASucceededExecutionIsCheckedOnItsResult) {
  Expectation e;
  EXPECT_EQ(check_durable(e, succeeded("{\"a\":1}")), "");
  e.result = json{{"a", 1}};
  e.result_contains = json{{"a", 1}};
  e.fields = {{"$.a", json(1)}};
  EXPECT_EQ(check_durable(e, succeeded("{\"a\":1.0}")), "");
  const auto failure = check_durable(e, succeeded("{\"a\":2}"));
  EXPECT_THAT(failure, HasSubstr("result differs"));
  EXPECT_THAT(failure, HasSubstr("+   \"a\": 2"));
  EXPECT_THAT(failure, HasSubstr("first difference at $.a"));
  EXPECT_THAT(failure, HasSubstr("$.a: expected 1, got 2"));
  Expectation text;
  text.result = "plain";
  EXPECT_EQ(check_durable(text, succeeded("plain")), "") << "a Result that is not JSON is compared as text";
}

TEST(DurableExpectations, StatusDefaultsToSucceededUnlessAnErrorIsExpected) {
  const json boom{{"ErrorType", "StepError"}, {"ErrorMessage", "boom"}};
  Expectation none;
  const auto failure = check_durable(none, failed("FAILED", boom));
  EXPECT_THAT(failure, HasSubstr("the execution ended FAILED with StepError"));
  EXPECT_THAT(failure, HasSubstr("+   \"Status\": \"FAILED\""));

  Expectation e;
  e.error = "StepError";
  e.error_message = "boo";
  EXPECT_EQ(check_durable(e, failed("FAILED", boom)), "");
  EXPECT_THAT(check_durable(e, succeeded("1")), HasSubstr("expected the execution to fail with StepError, but it succeeded"));
  e.error = "Other";
  e.error_message = "bang";
  const auto wrong = check_durable(e, failed("FAILED", boom));
  EXPECT_THAT(wrong, HasSubstr("expected the error Other, got StepError"));
  EXPECT_THAT(wrong, HasSubstr("ErrorMessage does not contain \"bang\": \"boom\""));

  Expectation status;
  status.status = "TIMED_OUT";
  EXPECT_EQ(check_durable(status, failed("TIMED_OUT", json{{"ErrorType", "Execution.TimedOut"}})), "");
  EXPECT_THAT(check_durable(status, failed("FAILED", boom)), HasSubstr("expected the execution to end TIMED_OUT, it ended FAILED"));
  EXPECT_THAT(check_durable(status, succeeded("1")), HasSubstr("it ended SUCCEEDED"));
  status.status = "STOPPED";
  status.result = json(nullptr);
  EXPECT_EQ(check_durable(status, failed("STOPPED", json::object())), "") << "a stopped execution has no Result: null";
}

TEST(DurableExpectations, OperationsAreASubsetInTheOrderTheyBegan) {
  Expectation e;
  e.operations = json::parse(R"([{"type":"STEP","name":"prepare","result":{"input":1}},{"type":"WAIT"},{"name":"after"}])");
  EXPECT_EQ(check_durable(e, succeeded("1")), "");
  e.operations = json::parse(R"([{"type":"WAIT"},{"name":"prepare"}])");
  EXPECT_THAT(check_durable(e, succeeded("1")),
              HasSubstr(R"(operations[1] {"name":"prepare"} is not among the execution's operations after the one operations[0] matched)"));
  e.operations = json::parse(R"([{"type":"STEP","name":"prepare","status":"FAILED"}])");
  EXPECT_THAT(check_durable(e, succeeded("1")), HasSubstr("operations[0] "));
  e.operations = json::parse(R"([{"name":"prepare"},{"name":"prepare"}])");
  EXPECT_THAT(check_durable(e, succeeded("1")), HasSubstr("operations[1]")) << "one operation matches one expected";

  Expectation errors;
  errors.error = "StepError";
  errors.operations = json::parse(R"([{"type":"STEP","status":"FAILED","error":"Error"}])");
  EXPECT_EQ(check_durable(errors, failed("FAILED", json{{"ErrorType", "StepError"}})), "");
  errors.operations = json::parse(R"([{"error":"StepError"}])");
  EXPECT_THAT(check_durable(errors, failed("FAILED", json{{"ErrorType", "StepError"}})), HasSubstr("operations[0]"));
}

TEST(DurableExpectations, ADurableCaseWaitsForItsScaledTimeoutButNotForever) {
  // 86400 s / 3600 = 24 s, plus the function's 30 s and 10 s.
  EXPECT_EQ(durable_case_deadline(86400, 3600, 30, 0), milliseconds(64000));
  // Unscaled, a day would be a day: at most 300 s.
  EXPECT_EQ(durable_case_deadline(86400, 1, 30, 0), milliseconds(340000));
  EXPECT_EQ(durable_case_deadline(0, 3600, 3, 0), milliseconds(313000)) << "no ExecutionTimeout: the cap";
  EXPECT_EQ(durable_case_deadline(60, 4, 3, 0), milliseconds(28000));
  EXPECT_EQ(durable_case_deadline(86400, 1, 30, 2.5), milliseconds(2500)) << "deadlineSeconds wins";
}

TEST(DurableExpectations, AFailureListsTheOperationsAsATree) {
  std::vector<json> ops = {op("EXECUTION", "run-1", "SUCCEEDED", "e"), op("CONTEXT", "approval", "SUCCEEDED", "c"),
                           op("CALLBACK", "", "SUCCEEDED", "cb", "c"), op("STEP", "after", "FAILED", "s")};
  ops[1]["subType"] = "WaitForCallback";
  ops[2]["result"] = json{{"approved", true}};
  ops[3]["error"] = json{{"ErrorType", "Error"}};
  EXPECT_EQ(operations_listing(ops, "| "),
            "| EXECUTION run-1 SUCCEEDED\n"
            "| CONTEXT (WaitForCallback) approval SUCCEEDED\n"
            "|   CALLBACK SUCCEEDED {\"approved\":true}\n"
            "| STEP after FAILED {\"ErrorType\":\"Error\"}\n");
}

}  // namespace
}  // namespace lambdad::app
