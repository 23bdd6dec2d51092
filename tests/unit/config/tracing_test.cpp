// X-Ray tracing mode: SAM Tracing (and Globals), CloudFormation TracingConfig, serverless.yml
// provider.tracing.lambda and function tracing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/config/sam_template.hpp"
#include "lambdad/config/serverless.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::find_function;
using test::load_text;
using test::one_function;
using ::testing::HasSubstr;

TEST(Tracing, PassThroughByDefault) {
  const auto load = load_text(one_function(""));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_EQ(load.functions[0].tracing, TracingMode::kPassThrough);
  EXPECT_EQ(tracing_mode_name(load.functions[0].tracing), "PassThrough");
}

TEST(Tracing, SamTracingAndGlobals) {
  const auto load = load_text(
      "Transform: AWS::Serverless-2016-10-31\n"
      "Globals:\n"
      "  Function:\n"
      "    Tracing: Active\n"
      "    Runtime: python3.12\n"
      "    Handler: app.lambda_handler\n"
      "    CodeUri: code/hello\n"
      "Resources:\n"
      "  Inherits:\n"
      "    Type: AWS::Serverless::Function\n"
      "  Overrides:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      Tracing: PassThrough\n"
      "  Disables:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      Tracing: Disabled\n"
      "  Plain:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      Runtime: python3.12\n"
      "      Handler: app.lambda_handler\n"
      "      Code: code/hello\n"
      "      TracingConfig:\n"
      "        Mode: Active\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 4U) << describe(load);
  EXPECT_EQ(find_function(load, "Inherits")->tracing, TracingMode::kActive);
  EXPECT_EQ(find_function(load, "Overrides")->tracing, TracingMode::kPassThrough);
  EXPECT_EQ(find_function(load, "Disables")->tracing, TracingMode::kPassThrough);
  EXPECT_EQ(find_function(load, "Plain")->tracing, TracingMode::kActive);
}

TEST(Tracing, UnknownModesAreErrors) {
  auto load = load_text(one_function("      Tracing: active\n"));
  EXPECT_TRUE(load.functions.empty());
  const auto* d = find_diagnostic(load.errors, "HelloFunction", "Properties.Tracing");
  ASSERT_NE(d, nullptr) << describe(load);
  EXPECT_THAT(d->message, HasSubstr("must be Active, PassThrough or Disabled (got active)"));

  load = load_text(
      "Resources:\n"
      "  Plain:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      Runtime: python3.12\n"
      "      Handler: app.lambda_handler\n"
      "      Code: code/hello\n"
      "      TracingConfig:\n"
      "        Mode: Disabled\n");
  d = find_diagnostic(load.errors, "Plain", "Properties.TracingConfig.Mode");
  ASSERT_NE(d, nullptr) << describe(load);
  EXPECT_THAT(d->message, HasSubstr("must be Active or PassThrough (got Disabled)"));
}

TemplateLoad load_serverless_yaml(const std::string& yaml) {
  return load_serverless_text(yaml, test::templates_dir() / "serverless" / "serverless.yml", {});
}

TEST(Tracing, ServerlessProviderAndFunctionTracing) {
  const auto load = load_serverless_yaml(
      "service: demo\n"
      "provider:\n"
      "  name: aws\n"
      "  runtime: python3.12\n"
      "  tracing:\n"
      "    apiGateway: true\n"
      "    lambda: true\n"
      "functions:\n"
      "  inherits:\n"
      "    handler: handler.hello\n"
      "  passthrough:\n"
      "    handler: handler.hello\n"
      "    tracing: PassThrough\n"
      "  off:\n"
      "    handler: handler.hello\n"
      "    tracing: false\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_TRUE(load.warnings.empty()) << describe(load);
  EXPECT_EQ(find_function(load, "inherits")->tracing, TracingMode::kActive);
  EXPECT_EQ(find_function(load, "passthrough")->tracing, TracingMode::kPassThrough);
  EXPECT_EQ(find_function(load, "off")->tracing, TracingMode::kPassThrough);

  const auto own = load_serverless_yaml(
      "service: demo\n"
      "provider:\n"
      "  name: aws\n"
      "  runtime: python3.12\n"
      "  tracing:\n"
      "    lambda: PassThrough\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n"
      "    tracing: Active\n");
  ASSERT_TRUE(own.errors.empty()) << describe(own);
  EXPECT_EQ(find_function(own, "hello")->tracing, TracingMode::kActive);

  const auto bad = load_serverless_yaml(
      "service: demo\n"
      "provider:\n"
      "  name: aws\n"
      "  runtime: python3.12\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n"
      "    tracing: sometimes\n");
  const auto* d = find_diagnostic(bad.errors, "hello", "tracing");
  ASSERT_NE(d, nullptr) << describe(bad);
  EXPECT_THAT(d->message, HasSubstr("must be Active, PassThrough, true or false (got sometimes)"));
}

}  // namespace
}  // namespace lambdad::config
