// SnapStart (docs/decisions/023): SnapStart.ApplyOn in SAM (and Globals) and CloudFormation, and
// the runtimes Lambda takes it for.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/config/sam_template.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::find_function;
using test::load_text;
using test::one_function;
using ::testing::HasSubstr;

TEST(SnapStart, OffByDefaultAndWithApplyOnNone) {
  auto load = load_text(one_function(""));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_FALSE(load.functions[0].snap_start);
  load = load_text(one_function("      SnapStart:\n        ApplyOn: None\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_FALSE(load.functions[0].snap_start);
}

TEST(SnapStart, PublishedVersionsFromTheFunctionOrGlobals) {
  const auto load = load_text(
      "Transform: AWS::Serverless-2016-10-31\n"
      "Globals:\n"
      "  Function:\n"
      "    SnapStart:\n"
      "      ApplyOn: PublishedVersions\n"
      "    Runtime: python3.13\n"
      "    Handler: app.handler\n"
      "    CodeUri: code/hello\n"
      "Resources:\n"
      "  Inherits:\n"
      "    Type: AWS::Serverless::Function\n"
      "  TurnsItOff:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      SnapStart:\n"
      "        ApplyOn: None\n"
      "  Plain:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      Runtime: python3.12\n"
      "      Handler: app.handler\n"
      "      Code: code/hello\n"
      "      SnapStart:\n"
      "        ApplyOn: PublishedVersions\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_TRUE(find_function(load, "Inherits")->snap_start);
  EXPECT_FALSE(find_function(load, "TurnsItOff")->snap_start);
  EXPECT_TRUE(find_function(load, "Plain")->snap_start);
}

TEST(SnapStart, ARuntimeLambdaRefusesItForIsATemplateError) {
  auto load = load_text(
      "Transform: AWS::Serverless-2016-10-31\n"
      "Resources:\n"
      "  Node:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      Runtime: nodejs20.x\n"
      "      Handler: index.handler\n"
      "      CodeUri: code/hello\n"
      "      SnapStart:\n"
      "        ApplyOn: PublishedVersions\n");
  const auto* d = find_diagnostic(load.errors, "Node", "Properties.SnapStart");
  ASSERT_NE(d, nullptr) << describe(load);
  EXPECT_THAT(d->message, HasSubstr("SnapStart is not supported for nodejs20.x"));

  load = load_text(one_function("      SnapStart:\n        ApplyOn: Always\n"));
  d = find_diagnostic(load.errors, "HelloFunction", "Properties.SnapStart.ApplyOn");
  ASSERT_NE(d, nullptr) << describe(load);
  EXPECT_THAT(d->message, HasSubstr("must be PublishedVersions or None (got Always)"));
}

TEST(SnapStart, TheRuntimesLambdaTakesItFor) {
  for (const char* ok : {"python3.12", "python3.13", "java11", "java21", "dotnet8"}) {
    EXPECT_FALSE(snap_start_refusal(ok).has_value()) << ok;
  }
  for (const char* no : {"python3.11", "python3.9", "nodejs20.x", "nodejs22.x", "ruby3.3", "provided.al2023", "java8.al2",
                         "dotnet6", ""}) {
    EXPECT_TRUE(snap_start_refusal(no).has_value()) << no;
  }
}

}  // namespace
}  // namespace lambdad::config
