// `lambdad test` suites without running anything: case files and their problems (with lines),
// each expectation's verdict and message, REPORT parsing, and shards.
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
  EXPECT_THAT(problems[3], HasSubstr("bad.case.yaml:8: invocationType 'Event' is not supported"));
  EXPECT_THAT(problems[4], HasSubstr("broken.case.yaml:3:"));
  EXPECT_THAT(problems[5], HasSubstr("missing.case.yaml: no such file or directory"));
  EXPECT_TRUE(s.cases.empty());
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
