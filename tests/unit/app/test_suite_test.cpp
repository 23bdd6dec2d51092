// `lambdad test` suites without running anything: case files and their problems (with lines),
// Event cases and generate-event templates, each expectation's verdict and message (also on
// destination records), REPORT parsing, paths, and shards.
#include "test_suite.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace lambdad::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

class SuiteFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "lambdad-suite-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  fs::path dir_;
};

// Found by fuzz/test_case_fuzz: a string that is not UTF-8 reached JSON and threw.
TEST_F(SuiteFiles, TextThatIsNotUtf8IsAProblemWithItsLine) {
  write("bad.case.yaml", "function: F\nevent:\n  name: \"caf\xe9\"\n");
  Suite s = load_suite({dir_ / "bad.case.yaml"});
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_EQ(s.problems[0].line, 3);
  EXPECT_THAT(s.problems[0].message, HasSubstr("UTF-8"));
  Suite from_text = load_suite_text("function: F\neventTemplate: s3 put\nwith: {bucket: \"\xe4\"}\n", "t.case.yaml");
  ASSERT_EQ(from_text.problems.size(), 1u);
  EXPECT_EQ(from_text.problems[0].line, 3);
  EXPECT_TRUE(load_suite_text("function: F\nevent: {name: \"caf\xc3\xa9\"}\n", "ok.case.yaml").problems.empty());
}

TEST_F(SuiteFiles, KeysThatAreNotScalarsAreProblemsNotThrows) {
  // Found by fuzz.test_case: YAML that parses but whose keys cannot be read as text.
  for (const char* text : {"{[a, b]: 1}\n", "function: F\ncases:\n  - {? {x: 1} : 2}\n",
                           "function: F\nexpect:\n  {[1]: 2}: 3\n", "cases: []\n[k]: v\n"}) {
    Suite s;
    EXPECT_NO_THROW(s = load_suite_text(text, "t.case.yaml")) << text;
    EXPECT_FALSE(s.problems.empty()) << text;
  }
}

TEST_F(SuiteFiles, ReadsListsSingleCasesAndEventFilesInNameOrder) {
  write("b.case.yaml", "function: F\ncases:\n  - event: {a: 1}\n  - name: second\n    eventFile: ev/e.json\n");
  write("ev/e.json", R"({"from": "file"})");
  write("a.case.json", R"({"function": "G", "expect": {"result": 3}})");
  write("notes.yaml", "not: a case");
  Suite s = load_suite({dir_});
  ASSERT_TRUE(s.problems.empty()) << s.problems[0].to_string();
  ASSERT_EQ(s.cases.size(), 3u);
  EXPECT_EQ(s.cases[0].function, "G");
  EXPECT_EQ(s.cases[0].name, "a");
  EXPECT_EQ(s.cases[0].expect.result, json(3));
  EXPECT_EQ(s.cases[1].name, "b[0]");
  EXPECT_EQ(s.cases[1].event, json({{"a", 1}}));
  EXPECT_EQ(s.cases[2].name, "second");
  EXPECT_EQ(s.cases[2].function, "F");
  EXPECT_EQ(s.cases[2].event, json({{"from", "file"}}));
  EXPECT_EQ(s.cases[2].line, 4);
}

TEST_F(SuiteFiles, YamlScalarsKeepTheirTypes) {
  write("t.case.yaml", "function: F\nevent: {i: 3, f: 1.5, b: true, n: null, s: '3', v: $LATEST}\n");
  Suite s = load_suite({dir_});
  ASSERT_EQ(s.cases.size(), 1u);
  EXPECT_EQ(s.cases[0].event, json::parse(R"({"i":3,"f":1.5,"b":true,"n":null,"s":"3","v":"$LATEST"})"));
}

TEST_F(SuiteFiles, EveryProblemIsReportedWithItsLine) {
  write("bad.case.yaml",
        "cases:\n"
        "  - name: no function\n"
        "  - function: F\n"
        "    evnt: {}\n"
        "  - function: F\n"
        "    expect: {maxDurationMs: soon}\n"
        "  - function: F\n"
        "    invocationType: Event\n");
  write("broken.case.yaml", "function: F\nevent: {a: 1\n");
  Suite s = load_suite({dir_, dir_ / "missing.case.yaml"});
  std::vector<std::string> problems;
  for (const auto& p : s.problems) problems.push_back(p.to_string());
  ASSERT_EQ(problems.size(), 6u) << ::testing::PrintToString(problems);
  EXPECT_THAT(problems[0], HasSubstr("bad.case.yaml:2: the case names no function"));
  EXPECT_THAT(problems[1], HasSubstr("bad.case.yaml:4: unknown key 'evnt'"));
  EXPECT_THAT(problems[2], HasSubstr("bad.case.yaml:6: 'maxDurationMs' must be a number"));
  EXPECT_THAT(problems[3], HasSubstr("bad.case.yaml:7: an Event case is checked through a destination"));
  EXPECT_THAT(problems[4], HasSubstr("broken.case.yaml:3:"));
  EXPECT_THAT(problems[5], HasSubstr("missing.case.yaml: no such file or directory"));
  EXPECT_TRUE(s.cases.empty());
}

TEST_F(SuiteFiles, EventCasesNameTheDestinationAndARecordSubset) {
  write("e.case.yaml",
        "function: F\n"
        "cases:\n"
        "  - invocationType: Event\n"
        "    expect: {destination: onFailure, record: {requestContext: {condition: RetriesExhausted}}, error: E}\n"
        "  - type: Event\n"
        "    expect: {destination: OnSuccess}\n"
        "  - invocationType: RequestResponse\n");
  Suite s = load_suite({dir_});
  ASSERT_TRUE(s.problems.empty()) << s.problems[0].to_string();
  ASSERT_EQ(s.cases.size(), 3u);
  EXPECT_EQ(s.cases[0].type, InvocationType::kEvent);
  EXPECT_EQ(s.cases[0].expect.destination, "onFailure");
  EXPECT_EQ(s.cases[0].expect.record, json::parse(R"({"requestContext":{"condition":"RetriesExhausted"}})"));
  EXPECT_EQ(s.cases[0].expect.error, "E");
  EXPECT_EQ(s.cases[1].type, InvocationType::kEvent);
  EXPECT_EQ(s.cases[1].expect.destination, "onSuccess");
  EXPECT_EQ(s.cases[2].type, InvocationType::kRequestResponse);
}

TEST_F(SuiteFiles, EventCaseProblemsHaveLines) {
  write("e.case.yaml",
        "function: F\n"
        "cases:\n"
        "  - invocationType: Event\n"
        "    expect: {result: 1}\n"
        "  - invocationType: Event\n"
        "    expect:\n"
        "      destination: onSuccess\n"
        "      maxDurationMs: 5\n"
        "  - expect:\n"
        "      destination: onSuccess\n"
        "  - type: Event\n"
        "    expect: {destination: somewhere}\n"
        "  - type: DryRun\n"
        "  - type: Event\n"
        "    invocationType: Event\n");
  Suite s = load_suite({dir_});
  std::vector<std::string> problems;
  for (const auto& p : s.problems) problems.push_back(p.to_string());
  ASSERT_EQ(problems.size(), 6u) << ::testing::PrintToString(problems);
  EXPECT_THAT(problems[0], HasSubstr("e.case.yaml:4: an Event case is checked through a destination"));
  EXPECT_THAT(problems[1], HasSubstr("e.case.yaml:8: 'maxDurationMs' does not apply to Event cases"));
  EXPECT_THAT(problems[2], HasSubstr("e.case.yaml:10: 'destination' applies to Event cases only"));
  EXPECT_THAT(problems[3], HasSubstr("e.case.yaml:12: 'destination' is onSuccess or onFailure, not 'somewhere'"));
  EXPECT_THAT(problems[4], HasSubstr("e.case.yaml:13: type 'DryRun' is not RequestResponse or Event"));
  EXPECT_THAT(problems[5], HasSubstr("e.case.yaml:14: give either 'invocationType' or 'type'"));
  EXPECT_TRUE(s.cases.empty());
}

TEST_F(SuiteFiles, EventTemplatesAreGenerateEventsEventsWithItsOptions) {
  write("g.case.yaml",
        "function: F\n"
        "cases:\n"
        "  - eventTemplate: sqs receive-message\n"
        "  - eventTemplate:\n"
        "      generate: apigateway aws-proxy\n"
        "      with: {method: POST, path: /orders, query: [a=1, b=2], --header: X-Id=7, fixed: true}\n"
        "      set: {$.body: changed, '$.headers.X-New': true}\n"
        "  - eventTemplate:\n"
        "      generate: eventbridge event\n"
        "      with: {detail: {id: 7, tags: [x]}, resource-arn: [r1, r2]}\n");
  Suite s = load_suite({dir_});
  ASSERT_TRUE(s.problems.empty()) << s.problems[0].to_string();
  ASSERT_EQ(s.cases.size(), 3u);
  EXPECT_EQ(s.cases[0].event["Records"][0]["eventSource"], "aws:sqs");
  const json& api = s.cases[1].event;
  EXPECT_EQ(api["httpMethod"], "POST");
  EXPECT_EQ(api["path"], "/orders");
  EXPECT_EQ(api["queryStringParameters"], json::parse(R"({"a":"1","b":"2"})"));
  EXPECT_EQ(api["headers"]["X-Id"], "7");
  EXPECT_EQ(api["headers"]["X-New"], true);
  EXPECT_EQ(api["body"], "changed");
  EXPECT_EQ(api["requestContext"]["requestTimeEpoch"], 1717243200123) << "fixed: true pins the clock";
  EXPECT_EQ(s.cases[2].event["detail"], json::parse(R"({"id":7,"tags":["x"]})"));
  EXPECT_EQ(s.cases[2].event["resources"], json::parse(R"(["r1","r2"])"));
}

TEST_F(SuiteFiles, EventTemplateProblemsHaveLines) {
  write("g.case.yaml",
        "function: F\n"
        "cases:\n"
        "  - eventTemplate: s3 upload\n"
        "  - eventTemplate:\n"
        "      generate: s3 put\n"
        "      with:\n"
        "        bucket: b\n"
        "        colour: red\n"
        "  - eventTemplate: {generate: s3 put, with: {size: big}}\n"
        "  - eventTemplate: {with: {bucket: b}}\n"
        "  - eventTemplate: {generate: s3 put, sett: {}}\n"
        "  - eventTemplate: s3 put\n"
        "    event: {}\n"
        "  - eventTemplate: {generate: s3 put, set: {'$.Records[9].x': 1}}\n"
        "  - eventTemplate: s3 put now\n");
  Suite s = load_suite({dir_});
  std::vector<std::string> problems;
  for (const auto& p : s.problems) problems.push_back(p.to_string());
  ASSERT_EQ(problems.size(), 8u) << ::testing::PrintToString(problems);
  EXPECT_THAT(problems[0], HasSubstr("g.case.yaml:3: eventTemplate s3 upload: unknown event 'upload' for s3"));
  EXPECT_THAT(problems[1], HasSubstr("g.case.yaml:8: 'colour' is not an option of lambdad generate-event"));
  EXPECT_THAT(problems[2], HasSubstr("g.case.yaml:9: eventTemplate s3 put: Could not convert: --size = big"));
  EXPECT_THAT(problems[3], HasSubstr("g.case.yaml:10: eventTemplate names no event"));
  EXPECT_THAT(problems[4], HasSubstr("g.case.yaml:11: unknown key 'sett' in eventTemplate"));
  EXPECT_THAT(problems[5], HasSubstr("g.case.yaml:12: give one of 'event', 'eventFile' and 'eventTemplate'"));
  EXPECT_THAT(problems[6], HasSubstr("g.case.yaml:14: '$.Records[9].x' does not lead into the s3 put event"));
  EXPECT_THAT(problems[7], HasSubstr("g.case.yaml:15: eventTemplate is 'SERVICE EVENT'"));
  EXPECT_TRUE(s.cases.empty());
}

TEST(Paths, SetAtPathReplacesOrAddsTheLastKeyOnly) {
  json doc = json::parse(R"({"a":{"b":[{"c":1}]}})");
  EXPECT_TRUE(set_at_path(doc, "$.a.b[0].c", 2));
  EXPECT_TRUE(set_at_path(doc, "a.b[0].d", "new"));
  EXPECT_TRUE(set_at_path(doc, "$['a']['e']", json::array()));
  EXPECT_EQ(doc, json::parse(R"({"a":{"b":[{"c":2,"d":"new"}],"e":[]}})"));
  EXPECT_FALSE(set_at_path(doc, "$.x.y", 1)) << "only the last key is created";
  EXPECT_FALSE(set_at_path(doc, "$.a.b[1]", 1)) << "arrays do not grow";
  EXPECT_FALSE(set_at_path(doc, "$.a.b[x]", 1));
  EXPECT_FALSE(set_at_path(doc, "$", 1));
}

Observed ok(const std::string& payload) { return observe(false, "", payload, "REPORT RequestId: x\tDuration: 12.50 ms\t"); }

TEST(Expectations, ResultIsExact) {
  Expectation e;
  e.result = json::parse(R"({"a": 1, "b": [1, 2]})");
  EXPECT_EQ(check(e, ok(R"({"b":[1,2],"a":1.0})")), "");
  EXPECT_THAT(check(e, ok(R"({"a":1,"b":[1,2],"c":0})")), HasSubstr("result differs"));
  EXPECT_THAT(check(e, ok(R"({"a":2,"b":[1,2]})")), HasSubstr("+   \"a\": 2"));
}

TEST(Expectations, ResultContainsIsASubsetAndNamesTheFirstDifference) {
  Expectation e;
  e.result_contains = json::parse(R"({"user": {"id": 7}, "tags": ["x", {"k": 1}]})");
  EXPECT_EQ(check(e, ok(R"({"user":{"id":7,"name":"a"},"tags":["x",{"k":1,"z":2}],"more":1})")), "");
  EXPECT_THAT(check(e, ok(R"({"user":{"id":8},"tags":["x",{"k":1}]})")), HasSubstr("first difference at $.user.id"));
  EXPECT_THAT(check(e, ok(R"({"user":{"id":7},"tags":["x"]})")), HasSubstr("first difference at $.tags"));
}

TEST(Expectations, FieldsFollowPaths) {
  Expectation e;
  e.fields = {{"$.body.items[1].id", json(2)}, {"status", json("ok")}, {"$['a.b']", json(true)}};
  EXPECT_EQ(check(e, ok(R"({"body":{"items":[{"id":1},{"id":2}]},"status":"ok","a.b":true})")), "");
  auto failure = check(e, ok(R"({"body":{"items":[{"id":1}]},"status":"bad","a.b":true})"));
  EXPECT_THAT(failure, HasSubstr("$.body.items[1].id is missing"));
  EXPECT_THAT(failure, HasSubstr("status: expected \"ok\", got \"bad\""));
}

TEST(Expectations, ErrorsAreTheRuntimesTypeOrThePlatforms) {
  Expectation e;
  e.error = "ZeroDivisionError";
  e.error_message = "by zero";
  auto raised = observe(true, "Runtime.Unknown", R"({"errorType":"ZeroDivisionError","errorMessage":"division by zero"})", "");
  EXPECT_EQ(raised.error_type, "ZeroDivisionError");
  EXPECT_EQ(check(e, raised), "");
  EXPECT_THAT(check(e, ok("{}")), HasSubstr("expected the error ZeroDivisionError, but the function succeeded"));
  auto timeout = observe(true, "Sandbox.Timedout", R"({"errorType":"Sandbox.Timedout","errorMessage":"x"})", "");
  EXPECT_THAT(check(e, timeout), HasSubstr("got Sandbox.Timedout"));

  Expectation success;
  EXPECT_THAT(check(success, timeout), HasSubstr("the function failed with Sandbox.Timedout"));
}

TEST(Expectations, DurationComesFromReportAndColdStartsFromInitDuration) {
  auto o = observe(false, "", "1", "START\nREPORT RequestId: x\tDuration: 250.25 ms\tBilled Duration: 251 ms\tInit Duration: 99.00 ms\t");
  EXPECT_DOUBLE_EQ(o.duration_ms, 250.25);
  EXPECT_TRUE(o.cold_start);
  Expectation e;
  e.max_duration_ms = 100;
  EXPECT_THAT(check(e, o), HasSubstr("took 250.25 ms, more than maxDurationMs 100"));
  e.max_duration_ms = 300;
  EXPECT_EQ(check(e, o), "");
}

json record(const std::string& condition, int attempts, const std::string& payload, bool failed) {
  json r = {{"version", "1.0"},
            {"requestContext", {{"requestId", "r-1"}, {"condition", condition}, {"approximateInvokeCount", attempts}}},
            {"requestPayload", {{"n", 1}}},
            {"responseContext", {{"statusCode", 200}, {"executedVersion", "$LATEST"}}},
            {"responsePayload", json::parse(payload)}};
  if (failed) r["responseContext"]["functionError"] = "Unhandled";
  return r;
}

TEST(EventExpectations, AnEventCaseWaitsForEveryAttemptAndRetryDelayButNotForever) {
  using std::chrono::milliseconds;
  // 3 attempts of (1 s + 10 s for a cold start), retries after 10 ms and 20 ms, 5 s more.
  EXPECT_EQ(event_case_deadline(1, 2, milliseconds(10)), milliseconds(3 * 11000 + 30 + 5000));
  EXPECT_EQ(event_case_deadline(900, 0, milliseconds(60000)), milliseconds(910000 + 5000));
  EXPECT_EQ(event_case_deadline(3, 1, milliseconds(60000)), milliseconds(2 * 13000 + 60000 + 5000));
}

TEST(EventExpectations, TheRecordMustReachTheExpectedDestination) {
  Expectation e;
  e.destination = "onSuccess";
  const DeliveredRecord failed{"onFailure", "SQS arn:aws:sqs:us-east-1:1:q",
                               record("RetriesExhausted", 3, R"({"errorType":"E","errorMessage":"m"})", true)};
  EXPECT_THAT(check_event(e, failed),
              HasSubstr("expected a record at OnSuccess, but the event ended RetriesExhausted after 3 attempts and its "
                        "record went to OnFailure (SQS arn:aws:sqs:us-east-1:1:q)"));
  const DeliveredRecord nowhere{"onSuccess", "", record("Success", 1, "{}", false)};
  EXPECT_THAT(check_event(e, nowhere), HasSubstr("the function has no OnSuccess destination"));
  const DeliveredRecord nowhere_else{"onFailure", "", record("RetriesExhausted", 1, "{}", true)};
  EXPECT_THAT(check_event(e, nowhere_else), HasSubstr("it has no OnFailure destination, so it went nowhere"));
  const DeliveredRecord ok{"onSuccess", "Lambda Echo", record("Success", 1, R"({"a":1})", false)};
  EXPECT_EQ(check_event(e, ok), "");
}

TEST(EventExpectations, RecordSubsetAndPayloadChecks) {
  Expectation e;
  e.destination = "onFailure";
  e.record = json::parse(R"({"requestContext":{"condition":"RetriesExhausted","approximateInvokeCount":3}})");
  e.error = "ZeroDivisionError";
  e.error_message = "by zero";
  DeliveredRecord d{"onFailure", "SQS q",
                    record("RetriesExhausted", 3, R"({"errorType":"ZeroDivisionError","errorMessage":"division by zero"})",
                           true)};
  EXPECT_EQ(check_event(e, d), "");
  d.record["requestContext"]["approximateInvokeCount"] = 2;
  EXPECT_THAT(check_event(e, d), HasSubstr("first difference at $.requestContext.approximateInvokeCount"));
  d.record["requestContext"]["approximateInvokeCount"] = 3;
  d.record["responsePayload"]["errorType"] = "ValueError";
  EXPECT_THAT(check_event(e, d), HasSubstr("expected the error ZeroDivisionError, got ValueError"));

  Expectation result;
  result.destination = "onSuccess";
  result.fields = {{"$.text", json("ASYNC")}};
  DeliveredRecord s{"onSuccess", "SQS q", record("Success", 1, R"({"text":"async"})", false)};
  EXPECT_THAT(check_event(result, s), HasSubstr("in the record's responsePayload"));
  EXPECT_THAT(check_event(result, s), HasSubstr("$.text: expected \"ASYNC\", got \"async\""));

  // A function that never ran (reserved concurrency 0) leaves no responsePayload to check.
  Expectation never;
  never.destination = "onFailure";
  never.error = "E";
  json zero = {{"requestContext", {{"condition", "ZeroReservedConcurrency"}, {"approximateInvokeCount", 0}}}};
  EXPECT_THAT(check_event(never, DeliveredRecord{"onFailure", "SQS q", zero}),
              HasSubstr("the record has no responsePayload (the function never ran: ZeroReservedConcurrency"));
}

TEST(EventExpectations, ARecordsPayloadIsObservedAsTheFunctionReturnedIt) {
  auto failed = observe_record(record("RetriesExhausted", 1, R"({"errorType":"TypeError","errorMessage":"x"})", true));
  EXPECT_TRUE(failed.function_error);
  EXPECT_EQ(failed.error_type, "TypeError");
  auto text = observe_record(json{{"responseContext", {{"statusCode", 200}}}, {"responsePayload", "plain text"}});
  EXPECT_FALSE(text.function_error);
  EXPECT_EQ(text.payload, "plain text");
  Expectation e;
  e.result = "plain text";
  EXPECT_EQ(check(e, text), "");
}

TEST(Shards, EveryCaseIsInExactlyOneStableShard) {
  std::map<int, int> sizes;
  for (int i = 0; i < 300; ++i) {
    const std::string id = "suite/c.case.yaml#" + std::to_string(i);
    const int s = shard_of(id, 3);
    ASSERT_GE(s, 1);
    ASSERT_LE(s, 3);
    EXPECT_EQ(shard_of(id, 3), s);
    ++sizes[s];
  }
  for (const auto& [shard, n] : sizes) EXPECT_GT(n, 60) << "shard " << shard << " is badly balanced";
  EXPECT_EQ(shard_of("anything", 1), 1);
}

}  // namespace
}  // namespace lambdad::app
