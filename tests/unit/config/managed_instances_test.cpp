// Lambda Managed Instances in templates (lambda-spec §11, docs/decisions/028): CapacityProviderConfig
// in both forms, its concurrency defaults, FunctionScalingConfig, and what Lambda refuses with it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/config/sam_template.hpp"
#include "lambdad/config/serverless.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::load_text;
using ::testing::HasSubstr;

constexpr std::string_view kProviderArn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:my-cp";

// A SAM function HelloFunction with `runtime`, `memory` MB and `extra` properties (indented 6),
// then `resources` (indented 2).
std::string managed_sam_function(const std::string& extra, const std::string& runtime = "python3.13",
                                 int memory = 4096, const std::string& resources = "") {
  return "Transform: AWS::Serverless-2016-10-31\n"
         "Resources:\n"
         "  HelloFunction:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties:\n"
         "      Runtime: " + runtime + "\n" +
         (runtime.starts_with("nodejs") ? "      Handler: index.handler\n      CodeUri: code/node\n"
                                        : "      Handler: app.lambda_handler\n      CodeUri: code/hello\n") +
         "      MemorySize: " + std::to_string(memory) + "\n" + extra + resources;
}

std::string short_form(const std::string& more = "") {
  return "      CapacityProviderConfig:\n        Arn: " + std::string(kProviderArn) + "\n" + more;
}

const std::string& message_at(const TemplateLoad& load, const std::string& property) {
  static const std::string kNone = "(no diagnostic)";
  const auto* d = find_diagnostic(load.errors, "HelloFunction", property);
  return d != nullptr ? d->message : kNone;
}

TEST(ManagedInstances, CloudFormationLongForm) {
  const std::string yaml =
      "Resources:\n"
      "  HelloFunction:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      Runtime: python3.13\n"
      "      Handler: app.lambda_handler\n"
      "      Code: code/hello\n"
      "      MemorySize: 4096\n"
      "      CapacityProviderConfig:\n"
      "        LambdaManagedInstancesCapacityProviderConfig:\n"
      "          CapacityProviderArn: " + std::string(kProviderArn) + "\n"
      "          PerExecutionEnvironmentMaxConcurrency: 10\n"
      "          ExecutionEnvironmentMemoryGiBPerVCpu: 4.0\n";
  auto load = load_text(yaml);
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  const auto& m = load.functions[0].managed_instances;
  ASSERT_TRUE(m);
  EXPECT_EQ(m->capacity_provider_arn, kProviderArn);
  EXPECT_EQ(m->per_environment_max_concurrency, 10);
  EXPECT_DOUBLE_EQ(m->memory_gib_per_vcpu, 4.0);
  EXPECT_EQ(m->min_environments, 1);
  EXPECT_FALSE(m->max_environments);
  EXPECT_EQ(environment_max_concurrency(load.functions[0]), 10);
}

TEST(ManagedInstances, CloudFormationNeedsTheLongForm) {
  const std::string yaml =
      "Resources:\n"
      "  HelloFunction:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties: {Runtime: python3.13, Handler: app.h, Code: code/hello, MemorySize: 4096,\n"
      "                 CapacityProviderConfig: {Arn: " + std::string(kProviderArn) + "}}\n";
  auto load = load_text(yaml);
  EXPECT_TRUE(load.functions.empty());
  EXPECT_THAT(message_at(load, "Properties.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig"),
              HasSubstr("is required"))
      << describe(load);
}

TEST(ManagedInstances, SamShortFormWithTheTemplatesCapacityProvider) {
  const std::string provider =
      "  Provider:\n"
      "    Type: AWS::Serverless::CapacityProvider\n"
      "    Properties: {VpcConfig: {SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}}\n";
  auto load = load_text(managed_sam_function(
      "      CapacityProviderConfig:\n"
      "        Arn: !GetAtt Provider.Arn\n"
      "        PerExecutionEnvironmentMaxConcurrency: 8\n"
      "        ExecutionEnvironmentMemoryToVCpuRatio: 8\n",
      "python3.13", 4096, provider));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  const auto& m = load.functions[0].managed_instances;
  ASSERT_TRUE(m);
  // Its real ARN exists only in AWS: a local one named after the resource stands in.
  EXPECT_EQ(m->capacity_provider_arn, "arn:aws:lambda:us-east-1:123456789012:capacity-provider:Provider");
  EXPECT_EQ(m->per_environment_max_concurrency, 8);
  EXPECT_DOUBLE_EQ(m->memory_gib_per_vcpu, 8.0);
  EXPECT_EQ(find_diagnostic(load.warnings, "HelloFunction", "Properties.CapacityProviderConfig.Arn"), nullptr)
      << describe(load);

  // SAM's documentation spells the ratio as CloudFormation does; that is taken too.
  load = load_text(managed_sam_function(short_form("        ExecutionEnvironmentMemoryGiBPerVCpu: 4\n")));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_DOUBLE_EQ(load.functions[0].managed_instances->memory_gib_per_vcpu, 4.0);
}

TEST(ManagedInstances, ConcurrencyDefaultsPerVCpuOfTheRuntime) {
  // Python: 16 per vCPU; 4096 MB at 2 GiB per vCPU is 2 vCPUs.
  auto load = load_text(managed_sam_function(short_form(), "python3.13", 4096));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_FALSE(load.functions[0].managed_instances->per_environment_max_concurrency);
  EXPECT_EQ(managed_vcpus(load.functions[0]), 2);
  EXPECT_EQ(environment_max_concurrency(load.functions[0]), 32);
  // Node.js: 64 per vCPU; 8192 MB at 4 GiB per vCPU is 2 vCPUs.
  load = load_text(managed_sam_function(short_form("        ExecutionEnvironmentMemoryToVCpuRatio: 4.0\n"),
                                        "nodejs22.x", 8192));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_EQ(managed_vcpus(load.functions[0]), 2);
  EXPECT_EQ(environment_max_concurrency(load.functions[0]), 128);
}

TEST(ManagedInstances, GlobalsApplyToEveryFunction) {
  const std::string yaml =
      "Transform: AWS::Serverless-2016-10-31\n"
      "Globals:\n"
      "  Function:\n"
      "    MemorySize: 2048\n"
      "    CapacityProviderConfig: {Arn: " + std::string(kProviderArn) + "}\n"
      "Resources:\n"
      "  HelloFunction:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties: {Runtime: python3.14, Handler: app.lambda_handler, CodeUri: code/hello}\n";
  auto load = load_text(yaml);
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  ASSERT_TRUE(load.functions[0].managed_instances);
  EXPECT_EQ(load.functions[0].managed_instances->capacity_provider_arn, kProviderArn);
}

TEST(ManagedInstances, OutOfRangeValuesAreTemplateErrors) {
  auto load = load_text(managed_sam_function(short_form("        PerExecutionEnvironmentMaxConcurrency: 1601\n")));
  EXPECT_THAT(message_at(load, "Properties.CapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency"),
              HasSubstr("must be an integer between 1 and 1600 (got 1601)"))
      << describe(load);
  load = load_text(managed_sam_function(short_form("        ExecutionEnvironmentMemoryToVCpuRatio: 9.0\n")));
  EXPECT_THAT(message_at(load, "Properties.CapacityProviderConfig.ExecutionEnvironmentMemoryToVCpuRatio"),
              HasSubstr("must be a number between 2.0 and 8.0 (got 9.0)"))
      << describe(load);
  load = load_text(managed_sam_function("      CapacityProviderConfig: {Arn: arn:aws:sqs:us-east-1:123456789012:q}\n"));
  EXPECT_THAT(message_at(load, "Properties.CapacityProviderConfig.Arn"), HasSubstr("must be the ARN of a capacity provider"))
      << describe(load);
  load = load_text(managed_sam_function("      CapacityProviderConfig: {PerExecutionEnvironmentMaxConcurrency: 4}\n"));
  EXPECT_THAT(message_at(load, "Properties.CapacityProviderConfig.Arn"), HasSubstr("is required")) << describe(load);
  EXPECT_TRUE(load.functions.empty());
}

TEST(ManagedInstances, RuntimeMustBeOneLambdaTakes) {
  auto load = load_text(managed_sam_function(short_form(), "python3.12"));
  EXPECT_TRUE(load.functions.empty());
  EXPECT_EQ(message_at(load, "Properties.CapacityProviderConfig"), *managed_instances_runtime_refusal("python3.12"))
      << describe(load);
}

TEST(ManagedInstances, MemorySizeAtLeast2048) {
  auto load = load_text(managed_sam_function(short_form(), "python3.13", 1024));
  EXPECT_TRUE(load.functions.empty());
  EXPECT_THAT(message_at(load, "Properties.CapacityProviderConfig"),
              HasSubstr("MemorySize must be at least 2048 MB for Lambda Managed Instances"))
      << describe(load);
}

TEST(ManagedInstances, NotWithSnapStartOrProvisionedConcurrency) {
  auto load = load_text(managed_sam_function(short_form() + "      SnapStart:\n        ApplyOn: PublishedVersions\n"));
  EXPECT_TRUE(load.functions.empty());
  EXPECT_EQ(message_at(load, "Properties.CapacityProviderConfig"), "Lambda Managed Instances do not support SnapStart")
      << describe(load);
  load = load_text(managed_sam_function(short_form() +
                                        "      AutoPublishAlias: live\n"
                                        "      ProvisionedConcurrencyConfig:\n        ProvisionedConcurrentExecutions: 2\n"));
  EXPECT_TRUE(load.functions.empty());
  EXPECT_EQ(message_at(load, "Properties.CapacityProviderConfig"),
            "Lambda Managed Instances do not support provisioned concurrency")
      << describe(load);
}

TEST(ManagedInstances, DurableAndTenantIsolatedFunctionsMayUseThem) {
  auto load = load_text(managed_sam_function(short_form() +
                                             "      DurableConfig:\n        ExecutionTimeout: 60\n"
                                             "      TenancyConfig:\n        TenantIsolationMode: PER_TENANT\n"));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_TRUE(load.functions[0].managed_instances);
  EXPECT_TRUE(load.functions[0].durable);
  EXPECT_TRUE(load.functions[0].tenant_isolation);
}

TEST(ManagedInstances, FunctionScalingConfigBoundsTheEnvironments) {
  auto load = load_text(managed_sam_function(
      short_form() + "      FunctionScalingConfig:\n        MinExecutionEnvironments: 0\n        MaxExecutionEnvironments: 10\n"));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  // 0 is taken, but one environment is kept: there is no cold start in this mode.
  EXPECT_EQ(load.functions[0].managed_instances->min_environments, 1);
  EXPECT_EQ(load.functions[0].managed_instances->max_environments, 10);

  load = load_text(managed_sam_function(short_form() + "      FunctionScalingConfig: {MinExecutionEnvironments: 3}\n"));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_EQ(load.functions[0].managed_instances->min_environments, 3);
  EXPECT_FALSE(load.functions[0].managed_instances->max_environments);

  load = load_text(managed_sam_function(
      short_form() + "      FunctionScalingConfig: {MinExecutionEnvironments: 5, MaxExecutionEnvironments: 2}\n"));
  EXPECT_THAT(message_at(load, "Properties.FunctionScalingConfig"),
              HasSubstr("MinExecutionEnvironments (5) must not exceed MaxExecutionEnvironments (2)"))
      << describe(load);
  load = load_text(managed_sam_function(short_form() + "      FunctionScalingConfig: {MaxExecutionEnvironments: 15001}\n"));
  EXPECT_THAT(message_at(load, "Properties.FunctionScalingConfig.MaxExecutionEnvironments"),
              HasSubstr("between 0 and 15000"))
      << describe(load);
}

TEST(ManagedInstances, FunctionScalingConfigNeedsCapacityProviderConfig) {
  auto load = load_text(managed_sam_function("      FunctionScalingConfig: {MinExecutionEnvironments: 1}\n"));
  EXPECT_TRUE(load.functions.empty());
  EXPECT_THAT(message_at(load, "Properties.FunctionScalingConfig"),
              HasSubstr("FunctionScalingConfig needs CapacityProviderConfig"))
      << describe(load);
}

TEST(ManagedInstances, ServerlessCapacityProviderNamesOneAndItsSettings) {
  const std::string yaml =
      "service: demo\n"
      "provider:\n"
      "  name: aws\n"
      "  runtime: python3.13\n"
      "  capacityProviders:\n"
      "    highMem:\n"
      "      scaling:\n"
      "        mode: auto\n"
      "functions:\n"
      "  plain:\n"
      "    handler: handler.hello\n"
      "    capacityProvider: default\n"
      "  tuned:\n"
      "    handler: handler.hello\n"
      "    memorySize: 8192\n"
      "    capacityProvider:\n"
      "      name: highMem\n"
      "      maxConcurrency: 32\n"
      "      memoryPerVCpu: 4\n"
      "      scaling:\n"
      "        min: 2\n"
      "        max: 5\n";
  auto load = load_serverless_text(yaml, test::templates_dir() / "serverless" / "serverless.yml", {});
  ASSERT_EQ(load.functions.size(), 2U) << describe(load);
  EXPECT_TRUE(load.warnings.empty()) << describe(load);
  const auto& plain = load.functions[0];
  ASSERT_TRUE(plain.managed_instances);
  EXPECT_EQ(plain.managed_instances->capacity_provider_arn, "arn:aws:lambda:us-east-1:123456789012:capacity-provider:default");
  EXPECT_EQ(plain.memory_mb, 2048) << "the Framework's default for such a function";
  EXPECT_EQ(environment_max_concurrency(plain), 16);
  const auto& tuned = load.functions[1];
  ASSERT_TRUE(tuned.managed_instances);
  EXPECT_EQ(tuned.managed_instances->per_environment_max_concurrency, 32);
  EXPECT_EQ(tuned.managed_instances->memory_gib_per_vcpu, 4.0);
  EXPECT_EQ(tuned.managed_instances->min_environments, 2);
  EXPECT_EQ(tuned.managed_instances->max_environments, 5);
  EXPECT_EQ(managed_vcpus(tuned), 2);
}

TEST(ManagedInstances, LogsAreJsonAndTextIsRefused) {
  auto load = load_text(managed_sam_function(short_form()));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_EQ(load.functions[0].logging.log_format, "JSON");

  auto text = load_text(managed_sam_function(short_form() + "      LoggingConfig:\n        LogFormat: Text\n"));
  EXPECT_EQ(message_at(text, "Properties.LoggingConfig.LogFormat"), kManagedInstancesLogFormat) << describe(text);
}

}  // namespace
}  // namespace lambdad::config
