// Templates that load: defaults, Globals, both function resource types, paths, names.
#include "lambdad/config/sam_template.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::code_dir;
using test::describe;
using test::find_function;
using test::load_file;
using test::load_text;
using test::one_function;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(SamTemplate, MinimalFunctionGetsLambdaDefaults) {
  const auto load = load_text(one_function(""));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 1U);
  const FunctionConfig& f = load.functions[0];
  EXPECT_EQ(f.name, "HelloFunction");
  EXPECT_EQ(f.logical_id, "HelloFunction");
  EXPECT_EQ(f.runtime, "python3.12");
  EXPECT_EQ(f.handler, "app.lambda_handler");
  EXPECT_EQ(f.code_dir, code_dir("hello"));
  EXPECT_TRUE(f.code_dir.is_absolute());
  EXPECT_EQ(f.memory_mb, 128);
  EXPECT_EQ(f.timeout_seconds, 3);
  EXPECT_THAT(f.environment, IsEmpty());
  EXPECT_FALSE(f.reserved_concurrency.has_value());
  EXPECT_THAT(f.architectures, ElementsAre("x86_64"));
  EXPECT_THAT(f.layers, IsEmpty());
  EXPECT_EQ(f.description, "");
}

TEST(SamTemplate, ReadsEveryProperty) {
  const auto load = load_text(one_function(
      "      FunctionName: hello-world_1\n"
      "      Description: says hello\n"
      "      MemorySize: 2048\n"
      "      Timeout: 900\n"
      "      ReservedConcurrentExecutions: 0\n"
      "      Architectures: [arm64]\n"
      "      Layers:\n"
      "        - !Ref LayerOne\n"
      "        - !GetAtt LayerTwo.LayerVersionArn\n"
      "      Environment:\n"
      "        Variables:\n"
      "          GREETING: hello\n"
      "          COUNT: 42\n"
      "          ENABLED: true\n"
      "          PADDED: \"007\"\n"
      "          EMPTY: ''\n") +
                              "  LayerOne:\n    Type: AWS::Serverless::LayerVersion\n"
                              "    Properties: {LayerName: one, ContentUri: code/layers/shared}\n"
                              "  LayerTwo:\n    Type: AWS::Lambda::LayerVersion\n"
                              "    Properties: {LayerName: two, Content: code/layers/own}\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 1U);
  const FunctionConfig& f = load.functions[0];
  EXPECT_EQ(f.name, "hello-world_1");
  EXPECT_EQ(f.logical_id, "HelloFunction");
  EXPECT_EQ(f.description, "says hello");
  EXPECT_EQ(f.memory_mb, 2048);
  EXPECT_EQ(f.timeout_seconds, 900);
  EXPECT_EQ(f.reserved_concurrency, 0);
  EXPECT_THAT(f.architectures, ElementsAre("arm64"));
  EXPECT_THAT(f.layers, ElementsAre("arn:aws:lambda:us-east-1:123456789012:layer:one:1",
                                    "arn:aws:lambda:us-east-1:123456789012:layer:two:1"));
  EXPECT_THAT(f.layer_dirs, ElementsAre(code_dir("layers/shared"), code_dir("layers/own")));
  // Numbers and booleans reach the function as the text the template wrote.
  EXPECT_THAT(f.environment, UnorderedElementsAre(Pair("GREETING", "hello"), Pair("COUNT", "42"),
                                                  Pair("ENABLED", "true"), Pair("PADDED", "007"),
                                                  Pair("EMPTY", "")));
}

TEST(SamTemplate, AutoPublishAliasPublishesVersionOneUnderTheAlias) {
  const auto load = load_text(one_function("      AutoPublishAlias: live\n"
                                           "      ProvisionedConcurrencyConfig:\n"
                                           "        ProvisionedConcurrentExecutions: 3\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const FunctionConfig& f = load.functions.at(0);
  EXPECT_EQ(f.auto_publish_alias, "live");
  EXPECT_EQ(f.provisioned_concurrency, 3);
  EXPECT_THAT(function_versions(f), ElementsAre("$LATEST", "1"));
  EXPECT_EQ(resolve_qualifier(f, "live"), "1");
  EXPECT_EQ(resolve_qualifier(f, "1"), "1");
  EXPECT_EQ(resolve_qualifier(f, "$LATEST"), "$LATEST");
  EXPECT_EQ(resolve_qualifier(f, "2"), std::nullopt);
  EXPECT_EQ(resolve_qualifier(f, "Live"), std::nullopt) << "alias names are case-sensitive";
}

TEST(SamTemplate, WithoutAutoPublishAliasThereIsOnlyLatest) {
  const auto load = load_text(one_function(""));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const FunctionConfig& f = load.functions.at(0);
  EXPECT_THAT(function_versions(f), ElementsAre("$LATEST"));
  EXPECT_EQ(resolve_qualifier(f, "1"), std::nullopt);
  EXPECT_EQ(resolve_qualifier(f, ""), "$LATEST");
}

TEST(SamTemplate, QuotedNumbersAreAcceptedForIntegerProperties) {
  const auto load = load_text(one_function("      MemorySize: \"512\"\n      Timeout: '60'\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.at(0).memory_mb, 512);
  EXPECT_EQ(load.functions.at(0).timeout_seconds, 60);
}

TEST(SamTemplate, GlobalsSupplyDefaultsAndMergeLikeSam) {
  const auto load = load_file("globals.yaml");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 3U);

  const FunctionConfig& first = load.functions[0];
  EXPECT_EQ(first.logical_id, "FirstFunction");
  EXPECT_EQ(first.runtime, "python3.12");
  EXPECT_EQ(first.handler, "app.lambda_handler");
  EXPECT_EQ(first.memory_mb, 1024);  // the function's own value wins
  EXPECT_EQ(first.timeout_seconds, 10);
  EXPECT_THAT(first.architectures, ElementsAre("arm64"));
  EXPECT_EQ(first.description, "overrides memory and one variable");
  // Maps merge key by key, the function's keys winning.
  EXPECT_THAT(first.environment, UnorderedElementsAre(Pair("STAGE", "dev"), Pair("LOG_LEVEL", "DEBUG"),
                                                      Pair("ONLY_FIRST", "1")));
  // Lists concatenate, Globals first.
  EXPECT_THAT(first.layers, ElementsAre("arn:aws:lambda:us-east-1:123456789012:layer:shared:1",
                                        "arn:aws:lambda:us-east-1:123456789012:layer:own:1"));
  EXPECT_THAT(first.layer_dirs, ElementsAre(code_dir("layers/shared"), code_dir("layers/own")));

  const FunctionConfig& second = load.functions[1];
  EXPECT_EQ(second.logical_id, "SecondFunction");
  EXPECT_EQ(second.memory_mb, 256);
  EXPECT_EQ(second.timeout_seconds, 10);
  EXPECT_EQ(second.code_dir, code_dir("hello"));  // "./code/hello/" normalized
  EXPECT_THAT(second.environment, UnorderedElementsAre(Pair("STAGE", "dev"), Pair("LOG_LEVEL", "INFO")));
  EXPECT_THAT(second.layers, ElementsAre("arn:aws:lambda:us-east-1:123456789012:layer:shared:1"));
  EXPECT_THAT(second.layer_dirs, ElementsAre(code_dir("layers/shared")));

  // Globals are a SAM feature: AWS::Lambda::Function resources do not inherit them.
  const FunctionConfig& plain = load.functions[2];
  EXPECT_EQ(plain.logical_id, "PlainFunction");
  EXPECT_EQ(plain.runtime, "nodejs22.x");
  EXPECT_EQ(plain.memory_mb, 128);
  EXPECT_EQ(plain.timeout_seconds, 3);
  EXPECT_THAT(plain.architectures, ElementsAre("x86_64"));
  EXPECT_THAT(plain.environment, IsEmpty());
  EXPECT_THAT(plain.layers, IsEmpty());
  EXPECT_THAT(plain.layer_dirs, IsEmpty());
  EXPECT_EQ(plain.code_dir, code_dir("node"));
}

TEST(SamTemplate, FunctionsComeInTemplateOrderAndOtherResourcesAreIgnored) {
  const auto load = load_text(R"(Transform: AWS::Serverless-2016-10-31
Resources:
  Zeta:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/hello}
  Bucket:
    Type: AWS::S3::Bucket
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: s3://bucket/layer.zip}
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: prod}
  Alpha:
    Type: AWS::Lambda::Function
    Properties: {Runtime: nodejs20.x, Handler: index.handler, Code: code/node}
  Middle:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2, CodeUri: code/provided}
)");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 3U);
  EXPECT_EQ(load.functions[0].name, "Zeta");
  EXPECT_EQ(load.functions[1].name, "Alpha");
  EXPECT_EQ(load.functions[2].name, "Middle");
}

TEST(SamTemplate, LambdaFunctionWithCodePath) {
  const auto load = load_file("lambda_function.yaml");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);  // Role's !GetAtt is never read
  ASSERT_EQ(load.functions.size(), 1U);
  const FunctionConfig& f = load.functions[0];
  EXPECT_EQ(f.name, "plain-lambda");
  EXPECT_EQ(f.logical_id, "ZipFunction");
  EXPECT_EQ(f.runtime, "python3.13");
  EXPECT_EQ(f.handler, "app.handler");
  EXPECT_EQ(f.code_dir, code_dir("lambda"));
  EXPECT_EQ(f.memory_mb, 512);
  EXPECT_EQ(f.timeout_seconds, 30);
  EXPECT_EQ(f.reserved_concurrency, 5);
}

TEST(SamTemplate, ProvidedRuntimesNeedNoHandler) {
  for (const char* runtime : {"provided", "provided.al2", "provided.al2023"}) {
    const auto load = load_text(std::string("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
                                            "    Type: AWS::Serverless::Function\n    Properties:\n"
                                            "      CodeUri: code/provided\n      Runtime: ") +
                                runtime + "\n");
    ASSERT_TRUE(load.errors.empty()) << runtime << "\n" << describe(load);
    EXPECT_EQ(load.functions.at(0).runtime, runtime);
    EXPECT_EQ(load.functions.at(0).handler, "");
  }
}

TEST(SamTemplate, CodeUriIsRelativeToTheTemplateDirectoryAndNormalized) {
  // The working directory is not the template's: the path must not depend on it.
  std::string yaml = one_function("");
  const std::string original = "code/hello";
  yaml.replace(yaml.find(original), original.size(), "./code/../code/./hello/");
  const auto load = load_text(yaml);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.at(0).code_dir, code_dir("hello"));
}

TEST(SamTemplate, AbsoluteCodeUriIsKept) {
  const std::string yaml = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
                           "    Type: AWS::Serverless::Function\n    Properties:\n"
                           "      Runtime: provided.al2023\n      CodeUri: " +
                           code_dir("provided").string() + "\n";
  const auto load = load_sam_template_text(yaml, "/nonexistent/dir/template.yaml", {});
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.at(0).code_dir, code_dir("provided"));
}

TEST(SamTemplate, FileLoadAnchorsPathsAtTheTemplateNotTheWorkingDirectory) {
  const auto load = load_sam_template(test::templates_dir() / "globals.yaml", {});
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_FALSE(load.functions.empty());
  EXPECT_EQ(load.functions[0].code_dir, code_dir("hello"));
}

TEST(SamTemplate, FunctionNameFromSubBecomesTheName) {
  TemplateOptions options;
  options.stack_name = "shop";
  const auto load = load_text(one_function("      FunctionName: !Sub ${AWS::StackName}-checkout\n"), options);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.at(0).name, "shop-checkout");
}

TEST(SamTemplate, FunctionNameThatIsNoValueFallsBackToTheLogicalId) {
  const auto load = load_text(one_function("      FunctionName: !Ref AWS::NoValue\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.at(0).name, "HelloFunction");
}

TEST(SamTemplate, UnresolvableFunctionNameWarnsAndUsesTheLogicalId) {
  const auto load = load_text(one_function("      FunctionName: !ImportValue shared-name\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.at(0).name, "HelloFunction");
  ASSERT_EQ(load.warnings.size(), 1U) << describe(load);
  EXPECT_EQ(load.warnings[0].property, "Properties.FunctionName");
  EXPECT_EQ(load.warnings[0].line, 9);
  EXPECT_EQ(load.warnings[0].message,
            "!ImportValue shared-name cannot be resolved locally; the function is named HelloFunction");
}

TEST(SamTemplate, ResourceConditionFalseLeavesTheFunctionOut) {
  const auto load = load_text(R"(Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  ProdOnly:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties: {Runtime: java21, CodeUri: code/missing}
  Always:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/hello}
)");
  // ProdOnly is never created, so its invalid properties do not matter.
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 1U);
  EXPECT_EQ(load.functions[0].name, "Always");

  TemplateOptions prod;
  prod.parameter_overrides["Stage"] = "prod";
  const auto prod_load = load_text(R"(Parameters:
  Stage: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  ProdOnly:
    Type: AWS::Lambda::Function
    Condition: IsProd
    Properties: {Runtime: python3.12, Handler: app.h, Code: code/hello}
)",
                                   prod);
  ASSERT_TRUE(prod_load.errors.empty()) << describe(prod_load);
  ASSERT_EQ(prod_load.functions.size(), 1U);
}

TEST(SamTemplate, EveryFunctionDisabledIsAnError) {
  const auto load = load_text(R"(Conditions:
  Never: !Equals [a, b]
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Condition: Never
    Properties: {Runtime: python3.12, Handler: app.h, Code: code/hello}
)");
  ASSERT_EQ(load.errors.size(), 1U) << describe(load);
  EXPECT_THAT(load.errors[0].message, ::testing::HasSubstr("disabled by its Condition"));
  EXPECT_TRUE(load.functions.empty());

  const auto broken = load_text(R"(Resources:
  Fn:
    Type: AWS::Lambda::Function
    Condition: Undefined
    Properties: {Runtime: python3.12, Handler: app.h, Code: code/hello}
)");
  ASSERT_EQ(broken.errors.size(), 1U) << describe(broken);
  EXPECT_EQ(broken.errors[0].message, "condition Undefined is not defined in Conditions");
  EXPECT_EQ(broken.errors[0].line, 4);
  EXPECT_EQ(broken.errors[0].property, "Condition");
}

TEST(SamTemplate, PropertiesChosenByIfStillMergeWithGlobals) {
  const auto load = load_text(R"(Transform: AWS::Serverless-2016-10-31
Conditions:
  Always: !Equals [a, a]
Globals:
  Function:
    Timeout: 20
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: !If
      - Always
      - {Runtime: python3.12, Handler: app.h, CodeUri: code/hello}
      - {Runtime: nodejs20.x, Handler: index.h, CodeUri: code/node}
)");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 1U);
  EXPECT_EQ(load.functions[0].runtime, "python3.12");
  EXPECT_EQ(load.functions[0].timeout_seconds, 20);
}

TEST(SamTemplate, UnknownPropertyIsAWarningNotAnError) {
  const auto load = load_text(one_function("      Runtim: python3.11\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 1U);
  ASSERT_EQ(load.warnings.size(), 1U) << describe(load);
  EXPECT_EQ(load.warnings[0].property, "Properties.Runtim");
  EXPECT_EQ(load.warnings[0].line, 9);
}

TEST(SamTemplate, SamFunctionWithoutTransformWarns) {
  const auto load = load_text(R"(Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/hello}
)");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.warnings.size(), 1U) << describe(load);
  EXPECT_THAT(load.warnings[0].message, ::testing::HasSubstr("AWS::Serverless-2016-10-31"));
}

TEST(SamTemplate, IgnoredPropertiesMayHoldAnything) {
  // Events other than Api / HttpApi, Policies, VpcConfig... are not used locally; whatever they
  // hold is not checked (Api events are: http_apis_test.cpp).
  const auto load = load_text(one_function(R"(      Events:
        Queue:
          Type: SQS
          Properties: {Queue: !GetAtt MissingQueue.Arn, BatchSize: !Ref MissingSize}
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Table}
        - Statement: [{Effect: Allow, Action: "*", Resource: !GetAtt Queue.Arn}]
      VpcConfig:
        SubnetIds: !Split [",", !ImportValue subnets]
        SecurityGroupIds: [!GetAtt Sg.GroupId]
      Tags: {team: !Sub "${AWS::AccountId}"}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  EXPECT_EQ(load.functions.size(), 1U);
}

TEST(SamTemplate, CrlfLineEndingsAndCommentsAreFine) {
  const auto load = load_text(
      "# a comment\r\nTransform: AWS::Serverless-2016-10-31\r\nResources:\r\n  Fn:  # trailing\r\n"
      "    Type: AWS::Serverless::Function\r\n    Properties:\r\n      Runtime: nodejs24.x\r\n"
      "      Handler: index.handler\r\n      CodeUri: code/node\r\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.at(0).runtime, "nodejs24.x");
  EXPECT_EQ(load.functions.at(0).code_dir, code_dir("node"));
}

TEST(SamTemplate, JsonTemplatesLoadToo) {
  // CloudFormation JSON is YAML; long-form intrinsics are the only kind JSON can write.
  const auto load = load_text(R"({
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "JsonFunction": {
      "Type": "AWS::Lambda::Function",
      "Properties": {
        "Runtime": "python3.9",
        "Handler": "app.handler",
        "Code": "code/hello",
        "Environment": {"Variables": {"REGION": {"Ref": "AWS::Region"}}}
      }
    }
  }
})");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.functions.at(0).environment, ElementsAre(Pair("REGION", "us-east-1")));
}

}  // namespace
}  // namespace lambdad::config
