// Layers: template layers resolved to their local directories, in order; everything that is not
// a local layer (an ARN, an S3 location, a missing directory, more than five) is an error naming
// the function, the item and the reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/config/sam_template.hpp"
#include "lambdad/config/serverless.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::code_dir;
using test::describe;
using test::find_diagnostic;
using test::load_text;
using test::one_function;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr const char* kArnPrefix = "arn:aws:lambda:us-east-1:123456789012:layer:";

// A SAM layer resource (2-space indented under Resources).
std::string sam_layer(const std::string& id, const std::string& name, const std::string& content_uri) {
  return "  " + id + ":\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      LayerName: " + name +
         "\n      ContentUri: " + content_uri + "\n";
}

TEST(SamLayers, RefsResolveToTheLayersDirectoriesInOrder) {
  const auto load = load_text(one_function("      Layers: [!Ref Own, !Ref Shared]\n"
                                           "      Environment:\n"
                                           "        Variables:\n"
                                           "          LAYER_ARN: !Ref Shared\n") +
                              sam_layer("Shared", "shared", "code/layers/shared") +
                              sam_layer("Own", "own", "./code/layers/own/"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  const FunctionConfig& f = load.functions.at(0);
  EXPECT_THAT(f.layers, ElementsAre(std::string(kArnPrefix) + "own:1", std::string(kArnPrefix) + "shared:1"));
  EXPECT_THAT(f.layer_dirs, ElementsAre(code_dir("layers/own"), code_dir("layers/shared")));
  // Where a string is needed, !Ref of a layer is its ARN.
  EXPECT_EQ(f.environment.at("LAYER_ARN"), std::string(kArnPrefix) + "shared:1");
}

TEST(SamLayers, LayerNameDefaultsToTheLogicalIdAndArnsFollowTheRegion) {
  TemplateOptions options;
  options.region = "eu-west-1";
  options.account_id = "111122223333";
  const auto load = load_text(one_function("      Layers: [!Ref Deps]\n") +
                                  "  Deps:\n    Type: AWS::Lambda::LayerVersion\n"
                                  "    Properties: {Content: code/layers/shared, CompatibleRuntimes: [python3.12]}\n",
                              options);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  EXPECT_THAT(load.functions.at(0).layers, ElementsAre("arn:aws:lambda:eu-west-1:111122223333:layer:Deps:1"));
}

TEST(SamLayers, LiteralArnIsAClearErrorNamingFunctionItemAndLine) {
  const auto load = load_text(one_function("      Layers:\n"
                                           "        - arn:aws:lambda:us-east-1:123456789012:layer:remote:4\n"));
  EXPECT_TRUE(load.functions.empty());
  ASSERT_EQ(load.errors.size(), 1U) << describe(load);
  const Diagnostic& d = load.errors[0];
  EXPECT_EQ(d.line, 10);
  EXPECT_EQ(d.resource, "HelloFunction");
  EXPECT_EQ(d.property, "Properties.Layers");
  EXPECT_EQ(d.message,
            "arn:aws:lambda:us-east-1:123456789012:layer:remote:4 is not a layer of this template: layer ARNs "
            "cannot be downloaded; define the layer in the template as AWS::Serverless::LayerVersion with a local "
            "ContentUri");
  EXPECT_THAT(d.to_string(), HasSubstr("inline.yaml:10: HelloFunction.Properties.Layers: arn:aws:lambda"));
}

TEST(SamLayers, UnresolvableItemsAreErrorsToo) {
  const auto load = load_text(one_function("      Layers: [!ImportValue shared-layer, !Ref Nowhere]\n"));
  EXPECT_TRUE(load.functions.empty());
  ASSERT_EQ(load.errors.size(), 2U) << describe(load);
  EXPECT_THAT(load.errors[0].message, HasSubstr("!ImportValue shared-layer cannot be resolved locally"));
  EXPECT_THAT(load.errors[0].message, HasSubstr("layer ARNs cannot be downloaded"));
  EXPECT_THAT(load.errors[1].message, HasSubstr("the template has no parameter or resource named Nowhere"));
}

TEST(SamLayers, MoreThanFiveIsLambdasError) {
  std::string layers = "      Layers: [";
  std::string resources;
  for (int i = 0; i < 6; ++i) {
    layers += std::string(i ? ", " : "") + "!Ref L" + std::to_string(i);
    resources += sam_layer("L" + std::to_string(i), "l" + std::to_string(i), "code/layers/shared");
  }
  const auto load = load_text(one_function(layers + "]\n") + resources);
  EXPECT_TRUE(load.functions.empty());
  ASSERT_EQ(load.errors.size(), 1U) << describe(load);
  EXPECT_EQ(load.errors[0].message, "Cannot reference more than 5 layers.");
  EXPECT_EQ(load.errors[0].property, "Properties.Layers");

  // Five are fine.
  const auto five = load_text(one_function("      Layers: [!Ref L0, !Ref L1, !Ref L2, !Ref L3, !Ref L4]\n") +
                              resources);
  ASSERT_TRUE(five.errors.empty()) << describe(five);
  EXPECT_EQ(five.functions.at(0).layer_dirs.size(), 5U);
}

TEST(SamLayers, GlobalsLayersComeFirstAndTheirErrorsNameTheFunction) {
  const auto load = load_text(one_function("      Layers: [!Ref Own]\n",
                                           "Globals:\n  Function:\n    Layers: [!Ref Shared]\n") +
                              sam_layer("Shared", "shared", "code/layers/shared") +
                              sam_layer("Own", "own", "code/layers/own"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.functions.at(0).layer_dirs, ElementsAre(code_dir("layers/shared"), code_dir("layers/own")));

  const auto bad = load_text(one_function("", "Globals:\n  Function:\n    Layers: [arn:aws:lambda:us-east-1:1:layer:x:1]\n"));
  ASSERT_EQ(bad.errors.size(), 1U) << describe(bad);
  EXPECT_EQ(bad.errors[0].resource, "Globals");
  EXPECT_EQ(bad.errors[0].property, "Function.Layers");
  EXPECT_EQ(bad.errors[0].line, 3);
  EXPECT_THAT(bad.errors[0].message, HasSubstr("(a layer of HelloFunction) is not a layer of this template"));
}

TEST(SamLayers, MissingContentDirectoryIsAnError) {
  const auto load = load_text(one_function("      Layers: [!Ref Gone]\n") +
                              sam_layer("Gone", "gone", "code/layers/no-such-dir"));
  EXPECT_TRUE(load.functions.empty());
  const Diagnostic* layer = find_diagnostic(load.errors, "Gone", "Properties.ContentUri");
  ASSERT_NE(layer, nullptr) << describe(load);
  EXPECT_EQ(layer->line, 14);
  EXPECT_THAT(layer->message, HasSubstr("directory code/layers/no-such-dir does not exist (resolved to "));
  const Diagnostic* use = find_diagnostic(load.errors, "HelloFunction", "Properties.Layers");
  ASSERT_NE(use, nullptr) << describe(load);
  EXPECT_THAT(use->message, HasSubstr("layer Gone cannot be used locally"));

  // An unused layer's directory must exist as well: the template is wrong either way.
  const auto unused = load_text(one_function("") + sam_layer("Gone", "gone", "code/layers/no-such-dir"));
  EXPECT_NE(find_diagnostic(unused.errors, "Gone", "Properties.ContentUri"), nullptr) << describe(unused);

  const auto missing = load_text(one_function("") + "  NoContent:\n    Type: AWS::Serverless::LayerVersion\n");
  const Diagnostic* d = find_diagnostic(missing.errors, "NoContent", "Properties.ContentUri");
  ASSERT_NE(d, nullptr) << describe(missing);
  EXPECT_THAT(d->message, HasSubstr("required property is missing"));

  const auto file = load_text(one_function("") + sam_layer("File", "file", "code/not_a_directory.txt"));
  d = find_diagnostic(file.errors, "File", "Properties.ContentUri");
  ASSERT_NE(d, nullptr) << describe(file);
  EXPECT_THAT(d->message, HasSubstr("is not a directory"));
}

TEST(SamLayers, S3ContentIsFineUntilAFunctionUsesIt) {
  const std::string s3_layers = "  Remote:\n    Type: AWS::Serverless::LayerVersion\n"
                                "    Properties: {ContentUri: {Bucket: b, Key: layer.zip}}\n"
                                "  Cfn:\n    Type: AWS::Lambda::LayerVersion\n"
                                "    Properties: {Content: {S3Bucket: b, S3Key: k.zip}}\n";
  const auto unused = load_text(one_function("") + s3_layers);
  ASSERT_TRUE(unused.errors.empty()) << describe(unused);
  EXPECT_THAT(unused.warnings, IsEmpty()) << describe(unused);

  const auto used = load_text(one_function("      Layers: [!Ref Remote, !Ref Cfn]\n") + s3_layers);
  EXPECT_TRUE(used.functions.empty());
  ASSERT_EQ(used.errors.size(), 2U) << describe(used);
  EXPECT_THAT(used.errors[0].message, HasSubstr("layer Remote cannot be used locally: its ContentUri is an S3 location"));
  EXPECT_THAT(used.errors[1].message, HasSubstr("layer Cfn cannot be used locally: its Content is an S3 location"));
}

TEST(SamLayers, BuildMethodAndIncompatibleRuntimesWarn) {
  const auto load = load_text(one_function("      Layers: [!Ref Deps]\n") +
                              "  Deps:\n    Type: AWS::Serverless::LayerVersion\n"
                              "    Properties: {ContentUri: code/layers/shared, CompatibleRuntimes: [nodejs20.x]}\n"
                              "    Metadata: {BuildMethod: python3.12}\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  std::map<std::string, std::string> messages;
  for (const auto& w : load.warnings) messages[w.resource + "." + w.property] = w.message;
  EXPECT_THAT(messages, UnorderedElementsAre(
                            Pair("Deps.Metadata.BuildMethod", HasSubstr("lambdad does not build layers")),
                            Pair("HelloFunction.Properties.Layers",
                                 "layer Deps does not list python3.12 in its CompatibleRuntimes; it is used anyway")));
}

TEST(SamLayers, TwoLayersCannotShareAName) {
  const auto load = load_text(one_function("") + sam_layer("A", "same", "code/layers/shared") +
                              sam_layer("B", "same", "code/layers/own"));
  const Diagnostic* d = find_diagnostic(load.errors, "B", "Properties.LayerName");
  ASSERT_NE(d, nullptr) << describe(load);
  EXPECT_EQ(d->message, "layer name same is already used by A");
}

// ---- serverless.yml

TemplateLoad load_service(const std::string& yaml) {
  return load_serverless_text(yaml, test::templates_dir() / "serverless" / "serverless.yml", {});
}

std::string service(const std::string& provider_layers, const std::string& function_layers,
                    const std::string& layers_section) {
  return "service: demo\n"
         "provider:\n"
         "  name: aws\n"
         "  runtime: python3.12\n" +
         provider_layers +
         "functions:\n"
         "  hello:\n"
         "    handler: handler.hello\n" +
         function_layers +
         "  inherits:\n"
         "    handler: handler.other\n" +
         layers_section;
}

const std::string kLayersSection =
    "layers:\n"
    "  my-deps:\n"
    "    path: ../code/layers/shared\n"
    "    compatibleRuntimes: [python3.12]\n"
    "  tools:\n"
    "    name: team-tools\n"
    "    path: ../code/layers/own\n";

TEST(ServerlessLayers, RefsToTheFrameworksLogicalIdsResolveInOrder) {
  const auto result = load_service(service("  layers:\n    - {Ref: MyDashdepsLambdaLayer}\n",
                                           "    layers:\n      - !Ref ToolsLambdaLayer\n"
                                           "      - Ref: MyDashdepsLambdaLayer\n",
                                           kLayersSection));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(result.warnings, IsEmpty()) << describe(result);
  const FunctionConfig* hello = test::find_function(result, "hello");
  ASSERT_NE(hello, nullptr);
  EXPECT_THAT(hello->layers, ElementsAre(std::string(kArnPrefix) + "team-tools:1", std::string(kArnPrefix) + "my-deps:1"));
  EXPECT_THAT(hello->layer_dirs, ElementsAre(code_dir("layers/own"), code_dir("layers/shared")));
  // A function's layers replace provider.layers; without its own it inherits them.
  const FunctionConfig* inherits = test::find_function(result, "inherits");
  ASSERT_NE(inherits, nullptr);
  EXPECT_THAT(inherits->layer_dirs, ElementsAre(code_dir("layers/shared")));
}

TEST(ServerlessLayers, LiteralArnIsAClearError) {
  const auto result =
      load_service(service("", "    layers:\n      - arn:aws:lambda:us-east-1:123456789012:layer:remote:2\n", ""));
  const Diagnostic* d = find_diagnostic(result.errors, "hello", "layers");
  ASSERT_NE(d, nullptr) << describe(result);
  EXPECT_EQ(d->line, 9);  // the function's layers key
  EXPECT_THAT(d->message, HasSubstr("arn:aws:lambda:us-east-1:123456789012:layer:remote:2 is not a layer of this "
                                    "service: layer ARNs cannot be downloaded"));
  EXPECT_EQ(test::find_function(result, "hello"), nullptr);

  const auto unknown = load_service(service("", "    layers: [{Ref: NopeLambdaLayer}]\n", kLayersSection));
  d = find_diagnostic(unknown.errors, "hello", "layers");
  ASSERT_NE(d, nullptr) << describe(unknown);
  EXPECT_THAT(d->message, HasSubstr("Ref NopeLambdaLayer is not a layer of this service"));

  const auto inherited = load_service(service("  layers: [arn:aws:lambda:us-east-1:1:layer:x:1]\n", "", ""));
  d = find_diagnostic(inherited.errors, "provider", "layers");
  ASSERT_NE(d, nullptr) << describe(inherited);
  EXPECT_THAT(d->message, HasSubstr("(a layer of hello)"));
}

TEST(ServerlessLayers, MissingPathAndMoreThanFiveAreErrors) {
  const auto missing = load_service(service("", "    layers: [{Ref: GoneLambdaLayer}]\n",
                                            "layers:\n  gone:\n    path: ../code/layers/no-such-dir\n"));
  const Diagnostic* d = find_diagnostic(missing.errors, "layers", "gone.path");
  ASSERT_NE(d, nullptr) << describe(missing);
  EXPECT_THAT(d->message, HasSubstr("does not exist"));
  d = find_diagnostic(missing.errors, "hello", "layers");
  ASSERT_NE(d, nullptr) << describe(missing);
  EXPECT_THAT(d->message, HasSubstr("layer gone cannot be used locally"));

  const auto six = load_service(service("", "    layers: [{Ref: ToolsLambdaLayer}, {Ref: ToolsLambdaLayer}, "
                                            "{Ref: ToolsLambdaLayer}, {Ref: ToolsLambdaLayer}, "
                                            "{Ref: ToolsLambdaLayer}, {Ref: ToolsLambdaLayer}]\n",
                                        kLayersSection));
  d = find_diagnostic(six.errors, "hello", "layers");
  ASSERT_NE(d, nullptr) << describe(six);
  EXPECT_EQ(d->message, "Cannot reference more than 5 layers.");
}

}  // namespace
}  // namespace lambdad::config
