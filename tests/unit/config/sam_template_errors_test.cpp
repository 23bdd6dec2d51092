// Templates that do not load: every problem is reported at once, with file, line, resource and
// property; warnings never make a template invalid; nothing throws.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <tuple>

#include "lambdad/config/sam_template.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::load_file;
using test::load_text;
using test::one_function;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// (line, resource, property) of each diagnostic, for comparing whole lists.
std::vector<std::tuple<int, std::string, std::string>> locations(const Diagnostics& list) {
  std::vector<std::tuple<int, std::string, std::string>> out;
  for (const auto& d : list) out.emplace_back(d.line, d.resource, d.property);
  return out;
}

const Diagnostic& only_error(const TemplateLoad& load) {
  EXPECT_EQ(load.errors.size(), 1U) << describe(load);
  static const Diagnostic kNone{};
  return load.errors.empty() ? kNone : load.errors.front();
}

TEST(SamTemplateErrors, EveryProblemInATemplateIsListedWithItsLine) {
  const auto load = load_file("many_errors.yaml");
  const std::string file = (test::templates_dir() / "many_errors.yaml").string();
  EXPECT_THAT(locations(load.errors),
              UnorderedElementsAre(std::make_tuple(12, "BadMemory", "Properties.MemorySize"),
                                   std::make_tuple(13, "BadMemory", "Properties.Timeout"),
                                   std::make_tuple(17, "BadRuntime", "Properties.Runtime"),
                                   std::make_tuple(19, "BadRuntime", "Properties.CodeUri"),
                                   std::make_tuple(20, "NoHandler", "Properties.Handler"),
                                   std::make_tuple(25, "NoHandler", "Properties.Layers"),
                                   std::make_tuple(33, "Unresolvable", "Properties.Runtime"),
                                   std::make_tuple(36, "Unresolvable", "Properties.Architectures")))
      << describe(load);
  for (const auto& e : load.errors) {
    EXPECT_EQ(e.severity, Diagnostic::Severity::kError);
    EXPECT_EQ(e.file, file);
  }
  // The unresolvable environment variable is only a warning.
  EXPECT_THAT(locations(load.warnings),
              UnorderedElementsAre(std::make_tuple(29, "NoHandler", "Properties.Environment.Variables.TABLE")))
      << describe(load);
  // Only the function without problems is loaded.
  ASSERT_EQ(load.functions.size(), 1U);
  EXPECT_EQ(load.functions[0].name, "Good");

  const Diagnostic* memory = find_diagnostic(load.errors, "BadMemory", "Properties.MemorySize");
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(memory->to_string(),
            file + ":12: BadMemory.Properties.MemorySize: must be an integer between 128 and 10240 (got abc)");
  const Diagnostic* timeout = find_diagnostic(load.errors, "BadMemory", "Properties.Timeout");
  ASSERT_NE(timeout, nullptr);
  EXPECT_EQ(timeout->message, "must be an integer between 1 and 900 (got 901)");
  const Diagnostic* runtime = find_diagnostic(load.errors, "BadRuntime", "Properties.Runtime");
  ASSERT_NE(runtime, nullptr);
  EXPECT_EQ(runtime->message,
            "runtime java21 is not supported by lambdad (supported: python3.x, nodejsN.x, provided, provided.al2, "
            "provided.al2023)");
  const Diagnostic* layers = find_diagnostic(load.errors, "NoHandler", "Properties.Layers");
  ASSERT_NE(layers, nullptr);
  EXPECT_EQ(layers->message, "Cannot reference more than 5 layers.");
  const Diagnostic* arch = find_diagnostic(load.errors, "Unresolvable", "Properties.Architectures");
  ASSERT_NE(arch, nullptr);
  EXPECT_EQ(arch->message, "unknown architecture sparc (x86_64 or arm64)");
}

TEST(SamTemplateErrors, YamlSyntaxErrorIsOneErrorWithItsLine) {
  const auto load = load_file("syntax_error.yaml");
  const Diagnostic& e = only_error(load);
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.file, (test::templates_dir() / "syntax_error.yaml").string());
  EXPECT_THAT(e.message, HasSubstr("YAML syntax error"));
  EXPECT_TRUE(load.functions.empty());

  const auto tabs = load_text("Resources:\n\tFn: x\n");
  EXPECT_EQ(only_error(tabs).line, 2);

  const auto deep = load_text(std::string(5000, '[') + std::string(5000, ']'));
  EXPECT_THAT(only_error(deep).message, HasSubstr("nests too deeply"));
}

TEST(SamTemplateErrors, MissingOrUnreadableFile) {
  const auto missing = load_sam_template(test::templates_dir() / "does_not_exist.yaml", {});
  const Diagnostic& e = only_error(missing);
  EXPECT_EQ(e.to_string(), (test::templates_dir() / "does_not_exist.yaml").string() +
                               ": cannot read template: no such file");
  EXPECT_TRUE(missing.functions.empty());

  const auto directory = load_sam_template(test::templates_dir(), {});
  EXPECT_THAT(only_error(directory).message, HasSubstr("directory"));
}

TEST(SamTemplateErrors, TemplatesWithoutFunctions) {
  EXPECT_EQ(only_error(load_file("no_functions.yaml")).message,
            "no AWS::Serverless::Function or AWS::Lambda::Function resources");
  EXPECT_EQ(only_error(load_text("Description: nothing\n")).message,
            "no AWS::Serverless::Function or AWS::Lambda::Function resources");
  EXPECT_EQ(only_error(load_text("")).message, "template is empty");
  EXPECT_EQ(only_error(load_text("# only a comment\n")).message, "template is empty");
  EXPECT_THAT(only_error(load_text("- a\n- b\n")).message, HasSubstr("must be a YAML mapping"));
  EXPECT_THAT(only_error(load_text("just text")).message, HasSubstr("must be a YAML mapping"));
}

TEST(SamTemplateErrors, WrongTypesNameTheProperty) {
  const auto load = load_text(one_function("      MemorySize: [1]\n"
                                           "      Timeout: 1.5\n"
                                           "      ReservedConcurrentExecutions: -1\n"
                                           "      Description: {a: b}\n"
                                           "      Environment: [x]\n"
                                           "      Architectures: arm64\n"
                                           "      Layers: arn:aws:lambda:us-east-1:1:layer:x:1\n"));
  EXPECT_TRUE(load.functions.empty());
  EXPECT_THAT(locations(load.errors),
              UnorderedElementsAre(std::make_tuple(9, "HelloFunction", "Properties.MemorySize"),
                                   std::make_tuple(10, "HelloFunction", "Properties.Timeout"),
                                   std::make_tuple(11, "HelloFunction", "Properties.ReservedConcurrentExecutions"),
                                   std::make_tuple(12, "HelloFunction", "Properties.Description"),
                                   std::make_tuple(13, "HelloFunction", "Properties.Environment"),
                                   std::make_tuple(14, "HelloFunction", "Properties.Architectures"),
                                   std::make_tuple(15, "HelloFunction", "Properties.Layers")))
      << describe(load);
}

TEST(SamTemplateErrors, ProvisionedConcurrencyNeedsAnAlias) {
  const auto load = load_text(one_function("      ProvisionedConcurrencyConfig:\n"
                                           "        ProvisionedConcurrentExecutions: 2\n"));
  EXPECT_EQ(only_error(load).property, "Properties.ProvisionedConcurrencyConfig") << describe(load);
  EXPECT_NE(only_error(load).message.find("AutoPublishAlias"), std::string::npos) << describe(load);
}

TEST(SamTemplateErrors, AliasNamesFollowLambdasRule) {
  for (const char* bad : {"'123'", "'a b'", "'x:y'", "''"}) {
    const auto load = load_text(one_function(std::string("      AutoPublishAlias: ") + bad + "\n"));
    EXPECT_EQ(only_error(load).property, "Properties.AutoPublishAlias") << bad << describe(load);
  }
  for (const char* good : {"live", "prod-2", "v_1", "$LATEST"}) {
    const auto load = load_text(one_function(std::string("      AutoPublishAlias: ") + good + "\n"));
    if (std::string(good) == "$LATEST") {
      EXPECT_FALSE(load.errors.empty()) << "$LATEST is not an alias name";
    } else {
      EXPECT_TRUE(load.errors.empty()) << good << describe(load);
    }
  }
}

TEST(SamTemplateErrors, MemoryAndTimeoutBounds) {
  for (const char* bad : {"127", "10241", "0", "-128", "99999999999999999999", "abc", "''", "512MB"}) {
    const auto load = load_text(one_function(std::string("      MemorySize: ") + bad + "\n"));
    EXPECT_EQ(only_error(load).property, "Properties.MemorySize") << bad;
  }
  for (const char* good : {"128", "10240", "3008"}) {
    const auto load = load_text(one_function(std::string("      MemorySize: ") + good + "\n"));
    EXPECT_TRUE(load.errors.empty()) << good << describe(load);
  }
  for (const char* bad : {"0", "901", "3s"}) {
    const auto load = load_text(one_function(std::string("      Timeout: ") + bad + "\n"));
    EXPECT_EQ(only_error(load).property, "Properties.Timeout") << bad;
  }
  for (const char* good : {"1", "900"}) {
    const auto load = load_text(one_function(std::string("      Timeout: ") + good + "\n"));
    EXPECT_TRUE(load.errors.empty()) << good << describe(load);
  }
}

TEST(SamTemplateErrors, RequiredPropertiesAreNamedAtTheResource) {
  const auto load = load_text(R"(Transform: AWS::Serverless-2016-10-31
Resources:
  NoRuntime:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.h
      CodeUri: code/hello
  NoCode:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs18.x
      Handler: index.handler
  NoProperties:
    Type: AWS::Serverless::Function
  PlainNoCode:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: provided.al2023
)");
  EXPECT_TRUE(load.functions.empty());
  EXPECT_THAT(locations(load.errors),
              UnorderedElementsAre(std::make_tuple(3, "NoRuntime", "Properties.Runtime"),
                                   std::make_tuple(8, "NoCode", "Properties.CodeUri"),
                                   std::make_tuple(13, "NoProperties", "Properties.Runtime"),
                                   std::make_tuple(13, "NoProperties", "Properties.CodeUri"),
                                   std::make_tuple(15, "PlainNoCode", "Properties.Code")))
      << describe(load);
  const Diagnostic* runtime = find_diagnostic(load.errors, "NoRuntime", "Properties.Runtime");
  ASSERT_NE(runtime, nullptr);
  EXPECT_EQ(runtime->message, "required property is missing");
}

TEST(SamTemplateErrors, HandlerIsRequiredForPythonAndNode) {
  for (const char* runtime : {"python3.9", "python3.14", "nodejs18.x", "nodejs24.x"}) {
    const auto load = load_text(std::string("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n"
                                            "    Properties:\n      Code: code/hello\n      Runtime: ") +
                                runtime + "\n");
    const Diagnostic& e = only_error(load);
    EXPECT_EQ(e.property, "Properties.Handler") << runtime;
    EXPECT_EQ(e.line, 2) << runtime;
  }
  const auto blank = load_text(one_function("").replace(one_function("").find("app.lambda_handler"), 18, "''"));
  EXPECT_EQ(only_error(blank).property, "Properties.Handler");
  const auto spaced = load_text(one_function("").replace(one_function("").find("app.lambda_handler"), 18,
                                                          "'app. handler'"));
  EXPECT_EQ(only_error(spaced).property, "Properties.Handler");
}

TEST(SamTemplateErrors, RuntimesLambdaBlocksAreRefusedWithLambdasMessage) {
  for (const char* runtime : {"python3.8", "nodejs16.x", "go1.x", "python2.7", "python3.7", "nodejs12.x", "nodejs"}) {
    std::string yaml = one_function("");
    yaml.replace(yaml.find("python3.12"), 10, std::string("'") + runtime + "'");
    const auto load = load_text(yaml);
    ASSERT_EQ(load.errors.size(), 1U) << runtime << describe(load);
    EXPECT_EQ(load.errors[0].property, "Properties.Runtime") << runtime;
    EXPECT_EQ(load.errors[0].message, blocked_runtime_message(runtime).value_or("")) << runtime;
    EXPECT_THAT(load.errors[0].message, HasSubstr("no longer supported for creating or updating")) << runtime;
  }
}

TEST(SamTemplateErrors, UnsupportedRuntimes) {
  for (const char* runtime : {"java21", "dotnet8", "ruby3.3", "python3.15", "python3", "python3.012", "nodejs19.x",
                              "nodejs20", "provided.al2024", "PYTHON3.12", ""}) {
    std::string yaml = one_function("");
    yaml.replace(yaml.find("python3.12"), 10, std::string("'") + runtime + "'");
    const auto load = load_text(yaml);
    ASSERT_FALSE(load.errors.empty()) << runtime;
    EXPECT_EQ(load.errors[0].property, "Properties.Runtime") << runtime;
    EXPECT_THAT(load.errors[0].message, HasSubstr("is not supported by lambdad")) << runtime;
  }
}

TEST(SamTemplateErrors, CodeLocationsThatAreNotLocalDirectories) {
  const auto load = load_text(R"(Resources:
  MissingDir:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/nope}
  FileNotDir:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/not_a_directory.txt}
  ZipArchive:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/bundle.zip}
  S3Map:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      CodeUri: {Bucket: my-bucket, Key: code.zip}
  S3Url:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: s3://my-bucket/code.zip}
  Inline:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: index.h, InlineCode: "def h(e, c): pass"}
  ZipFile:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.h
      Code:
        ZipFile: |
          def h(event, context): pass
  S3Code:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.h
      Code: {S3Bucket: b, S3Key: k}
)");
  EXPECT_TRUE(load.functions.empty());
  EXPECT_THAT(locations(load.errors),
              UnorderedElementsAre(std::make_tuple(4, "MissingDir", "Properties.CodeUri"),
                                   std::make_tuple(7, "FileNotDir", "Properties.CodeUri"),
                                   std::make_tuple(10, "ZipArchive", "Properties.CodeUri"),
                                   std::make_tuple(16, "S3Map", "Properties.CodeUri"),
                                   std::make_tuple(19, "S3Url", "Properties.CodeUri"),
                                   std::make_tuple(22, "Inline", "Properties.InlineCode"),
                                   std::make_tuple(29, "ZipFile", "Properties.Code.ZipFile"),
                                   std::make_tuple(36, "S3Code", "Properties.Code")))
      << describe(load);
  for (const auto& e : load.errors) {
    if (e.resource == "MissingDir" || e.resource == "FileNotDir" || e.resource == "ZipArchive") continue;
    EXPECT_THAT(e.message, AllOf(HasSubstr("a local directory is required"))) << e.to_string();
  }
  const Diagnostic* missing = find_diagnostic(load.errors, "MissingDir", "Properties.CodeUri");
  ASSERT_NE(missing, nullptr);
  EXPECT_THAT(missing->message, HasSubstr("code/nope does not exist"));
}

TEST(SamTemplateErrors, ZipArchiveCodeUriSaysSo) {
  const auto load = load_text(R"(Resources:
  ZipArchive:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/bundle.zip}
)");
  EXPECT_THAT(only_error(load).message, HasSubstr("is an archive"));
}

TEST(SamTemplateErrors, ContainerImageFunctionsAreRejectedWithOneError) {
  const auto serverless = load_text(R"(Transform: AWS::Serverless-2016-10-31
Resources:
  ImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest
    Metadata:
      Dockerfile: Dockerfile
)");
  const Diagnostic& e = only_error(serverless);
  EXPECT_EQ(e.message, "container image functions are not supported");
  EXPECT_EQ(e.property, "Properties.PackageType");
  EXPECT_EQ(e.line, 6);

  const auto lambda = load_text(R"(Resources:
  ImageFunction:
    Type: AWS::Lambda::Function
    Properties:
      Code: {ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest}
)");
  EXPECT_EQ(only_error(lambda).message, "container image functions are not supported");
}

TEST(SamTemplateErrors, DuplicateFunctionNames) {
  const auto load = load_text(R"(Resources:
  First:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: shared, Runtime: python3.12, Handler: app.h, Code: code/hello}
  Second:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: shared, Runtime: python3.12, Handler: app.h, Code: code/hello}
  shared:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Handler: app.h, Code: code/hello}
)");
  EXPECT_THAT(locations(load.errors), UnorderedElementsAre(std::make_tuple(5, "Second", ""),
                                                           std::make_tuple(8, "shared", "")))
      << describe(load);
  EXPECT_EQ(load.errors[0].message, "function name shared is already used by First");
}

TEST(SamTemplateErrors, InvalidFunctionNames) {
  for (const std::string& name : std::vector<std::string>{"'has space'", "'a/b'", "''", std::string(65, 'x')}) {
    const auto load = load_text(one_function("      FunctionName: " + name + "\n"));
    const Diagnostic& e = only_error(load);
    EXPECT_EQ(e.property, "Properties.FunctionName") << name;
    EXPECT_EQ(e.line, 9) << name;
  }
}

TEST(SamTemplateErrors, EnvironmentVariableRules) {
  const auto load = load_text(one_function("      Environment:\n        Variables:\n"
                                           "          AWS_REGION: eu-west-1\n"
                                           "          1BAD: x\n"
                                           "          A: single-letter\n"
                                           "          WITH-DASH: x\n"
                                           "          GOOD_NAME: fine\n"
                                           "          NESTED: {a: b}\n"));
  EXPECT_TRUE(load.functions.empty());
  const std::string p = "Properties.Environment.Variables.";
  EXPECT_THAT(locations(load.errors),
              UnorderedElementsAre(std::make_tuple(11, "HelloFunction", p + "AWS_REGION"),
                                   std::make_tuple(12, "HelloFunction", p + "1BAD"),
                                   std::make_tuple(13, "HelloFunction", p + "A"),
                                   std::make_tuple(14, "HelloFunction", p + "WITH-DASH"),
                                   std::make_tuple(16, "HelloFunction", p + "NESTED")))
      << describe(load);
  EXPECT_EQ(find_diagnostic(load.errors, "HelloFunction", p + "AWS_REGION")->message,
            "AWS_REGION is reserved by Lambda and cannot be set");

  const auto big = load_text(one_function("      Environment:\n        Variables:\n          BIG: " +
                                          std::string(4100, 'x') + "\n"));
  EXPECT_EQ(only_error(big).property, "Properties.Environment.Variables");

  // Lambda measures the variables as JSON: 100 names of 10 and values of 25 characters are 3,500
  // bytes of text but 4,101 of {"K":"V",...}, which Lambda refuses.
  std::string many = "      Environment:\n        Variables:\n";
  for (int i = 0; i < 100; ++i) many += fmt::format("          VARIABLE{:02}: {}\n", i, std::string(25, 'v'));
  const auto measured = load_text(one_function(many));
  EXPECT_EQ(only_error(measured).message,
            "environment variables take 4101 bytes as Lambda measures them (as JSON); Lambda allows at most 4 KB");
  std::string fewer = "      Environment:\n        Variables:\n";
  for (int i = 0; i < 99; ++i) fewer += fmt::format("          VARIABLE{:02}: {}\n", i, std::string(25, 'v'));
  EXPECT_TRUE(load_text(one_function(fewer)).errors.empty()) << "4,060 bytes as JSON fit";
}

TEST(SamTemplateErrors, ArchitecturesMustBeExactlyOne) {
  EXPECT_EQ(only_error(load_text(one_function("      Architectures: [x86_64, arm64]\n"))).message,
            "must hold exactly one architecture, x86_64 or arm64 (got 2)");
  EXPECT_EQ(only_error(load_text(one_function("      Architectures: []\n"))).property, "Properties.Architectures");
}

TEST(SamTemplateErrors, GlobalsProblemsAreReportedOnceAgainstGlobals) {
  const auto load = load_text(R"(Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    MemorySize: lots
    FunctionName: not-allowed-here
    Environment:
      Variables:
        TABLE: !GetAtt Table.Arn
  Apii:
    Cors: "*"
Resources:
  One:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/hello}
  Two:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/hello}
  Three:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/hello, MemorySize: 256}
)");
  EXPECT_THAT(locations(load.errors), UnorderedElementsAre(std::make_tuple(4, "Globals", "Function.MemorySize"),
                                                           std::make_tuple(5, "Globals", "Function.FunctionName")))
      << describe(load);
  EXPECT_THAT(locations(load.warnings),
              UnorderedElementsAre(std::make_tuple(8, "Globals", "Function.Environment.Variables.TABLE"),
                                   std::make_tuple(9, "Globals", "Apii")))
      << describe(load);
  // Three overrides the broken Globals value, as SAM would let it.
  ASSERT_EQ(load.functions.size(), 1U);
  EXPECT_EQ(load.functions[0].name, "Three");
}

TEST(SamTemplateErrors, TemplateStructureProblems) {
  const auto load = load_text(R"(AWSTemplateFormatVersion: "2012-01-01"
Resourcs: {}
Resources:
  Bad-Id:
    Type: AWS::Serverless::Function
  NoType:
    Properties: {}
  NotAMap: hello
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Handler: app.h, Code: code/hello, Timeout: 5}
  Fn2:
    Type: AWS::Lambda::Function
    Properties: [not, a, map]
  Fn3:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Handler: app.h, Code: code/hello, Timeout: 5, Timeout: 6}
)");
  EXPECT_THAT(locations(load.errors),
              UnorderedElementsAre(std::make_tuple(1, "AWSTemplateFormatVersion", ""),
                                   std::make_tuple(4, "Bad-Id", ""), std::make_tuple(6, "NoType", "Type"),
                                   std::make_tuple(8, "NotAMap", ""), std::make_tuple(14, "Fn2", "Properties"),
                                   std::make_tuple(17, "", "")))
      << describe(load);
  EXPECT_THAT(load.warnings, Contains(::testing::Field(&Diagnostic::resource, "Resourcs"))) << describe(load);
  EXPECT_THAT(load.errors,
              Contains(::testing::Field(&Diagnostic::message, "duplicate key Timeout (first at line 17)")));
}

TEST(SamTemplateErrors, ParameterConstraints) {
  const std::string prelude = R"(Parameters:
  Stage: {Type: String, Default: test, AllowedValues: [dev, prod]}
  Count: {Type: Number, Default: many}
  Name: {Type: String, Default: ok, AllowedPattern: "[a-z]+"}
  NoType: {Default: x}
)";
  const auto load = load_text(one_function("", prelude));
  EXPECT_THAT(locations(load.errors), UnorderedElementsAre(std::make_tuple(2, "Parameters", "Stage"),
                                                           std::make_tuple(3, "Parameters", "Count"),
                                                           std::make_tuple(5, "Parameters", "NoType")))
      << describe(load);

  TemplateOptions options;
  options.parameter_overrides = {{"Stage", "prod"}, {"Count", "3"}, {"Name", "NOT-LOWER"}};
  const auto overridden = load_text(one_function("", prelude), options);
  EXPECT_THAT(locations(overridden.errors), UnorderedElementsAre(std::make_tuple(4, "Parameters", "Name"),
                                                                 std::make_tuple(5, "Parameters", "NoType")))
      << describe(overridden);
}

TEST(SamTemplateErrors, WarningsAloneDoNotInvalidateATemplate) {
  const auto load = load_text(one_function("      Tracing: Active\n      Typo: 1\n      Environment:\n"
                                           "        Variables: {A1: !ImportValue x}\n"));
  EXPECT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.warnings.size(), 2U) << describe(load);
  EXPECT_EQ(load.functions.size(), 1U);
}

TEST(SamTemplateErrors, AliasCyclesAreReportedNotFollowed) {
  EXPECT_THAT(only_error(load_text("Resources: &r\n  Fn: *r\n")).message, HasSubstr("alias refers to itself"));
  // Aliases that only share data are fine.
  const auto load = load_text(R"(Resources:
  One:
    Type: AWS::Lambda::Function
    Properties: &props {Runtime: python3.12, Handler: app.h, Code: code/hello}
  Two:
    Type: AWS::Lambda::Function
    Properties: *props
)");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.size(), 2U);
}

TEST(SamTemplateErrors, SubNeedsALiteralTemplateString) {
  const auto load = load_text(one_function("      Description: {'Fn::Sub': !Ref AWS::Region}\n"));
  EXPECT_EQ(only_error(load).message, "Fn::Sub needs a string or [string, {variables}]");
}

TEST(SamTemplateErrors, NothingThrowsOnHostileInput) {
  const std::vector<std::string> inputs = {
      "Resources: !Ref X\n",
      "Resources:\n  Fn: !Sub x\n",
      "Resources:\n  Fn:\n    Type: [a]\n",
      "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties: !If [C, {}, {}]\n",
      "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Condition: [x]\n",
      "Resources:\n  ? [complex, key]\n  : {Type: AWS::Lambda::Function}\n",
      "Globals: [1]\nResources: {}\n",
      "Globals: {Function: 3}\nResources: {Fn: {Type: AWS::Serverless::Function}}\n",
      "Parameters: [1]\nConditions: 3\nMappings: x\nResources: {}\n",
      "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: !Sub [1, 2, 3]\n"
      "      Handler: !GetAtt\n      Code: !Join []\n      Environment: {Variables: {A1: !Select [x, y]}}\n",
      "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: !FindInMap []\n"
      "      Code: !Base64 [a]\n      MemorySize: !Equals [a]\n      Timeout: !And [a]\n      Layers: !Not x\n",
      "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: !If [1, 2]\n"
      "      Code: !Split [a]\n      FunctionName: !GetAtt [a, b, c]\n      Handler: !Condition [x]\n",
      "Resources: &a\n  Fn: *a\n",
      "a: &x [*x]\n",
      std::string(3000, '[') + std::string(3000, ']'),
      "\xff\xfe garbage",
      "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: \"\\0\"\n",
  };
  for (const auto& input : inputs) {
    TemplateLoad load;
    EXPECT_NO_THROW(load = load_text(input)) << input.substr(0, 80);
    EXPECT_FALSE(load.errors.empty()) << input.substr(0, 80);
  }
}

}  // namespace
}  // namespace lambdad::config
