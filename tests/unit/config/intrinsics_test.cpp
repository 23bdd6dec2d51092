// Intrinsic functions: every tag parses; what a template alone determines is resolved; the rest
// is a warning (or an error where the property is required).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/config/sam_template.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::find_function;
using test::load_file;
using test::load_text;
using test::one_function;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Key;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// A function whose Environment.Variables are the given lines (indented 10 spaces).
std::string with_variables(const std::string& variables, const std::string& prelude = "") {
  return one_function("      Environment:\n        Variables:\n" + variables, prelude);
}

std::map<std::string, std::string> environment_of(const TemplateLoad& load) {
  return load.functions.empty() ? std::map<std::string, std::string>{} : load.functions[0].environment;
}

TEST(Intrinsics, EveryTagParsesAndWhatIsLocalResolves) {
  const auto load = load_file("all_tags.yaml");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const FunctionConfig* f = find_function(load, "TagsFunction");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->memory_mb, 512);     // !If [IsProd, 512, 128]
  EXPECT_EQ(f->timeout_seconds, 7);  // !FindInMap with DefaultValue
  const std::string arn = "arn:aws:lambda:us-east-1:123456789012:function:TagsFunction";
  EXPECT_THAT(f->environment,
              UnorderedElementsAre(Pair("SUB_SHORT", "lambdad-prod-us-east-1"), Pair("SUB_LIST", "xy-prod"),
                                   Pair("SUB_LITERAL", "${NotAVar} prod"),
                                   Pair("SUB_LONG", "123456789012/aws/amazonaws.com"),
                                   Pair("JOIN", "a,prod,subnet-c"), Pair("JOIN_LONG", "p-q-r"),
                                   Pair("SPLIT_SELECT", "beta"), Pair("FIND", "east-bucket"),
                                   Pair("FIND_LONG", "west-bucket"), Pair("BASE64", "aGVsbG8="),
                                   Pair("BASE64_LONG", "cHJvZA=="), Pair("IF", "production"), Pair("IF_LONG", "yes"),
                                   Pair("IF_NESTED", "deep"), Pair("REF_SELF", "TagsFunction"),
                                   Pair("ARN_SELF", arn), Pair("ARN_LIST", arn), Pair("NUMBER", "42"),
                                   Pair("BOOL", "true"), Pair("QUOTED", "007")));

  // Each value only AWS knows is left out with a warning naming it; nothing else warns.
  std::vector<std::string> warned;
  for (const auto& w : load.warnings) warned.push_back(w.property);
  EXPECT_THAT(warned, UnorderedElementsAre("Properties.Environment.Variables.TABLE_ARN",
                                           "Properties.Environment.Variables.TABLE_NAME",
                                           "Properties.Environment.Variables.IMPORTED",
                                           "Properties.Environment.Variables.IMPORTED_LONG",
                                           "Properties.Environment.Variables.AZ",
                                           "Properties.Environment.Variables.CIDR"))
      << describe(load);
  const Diagnostic* table_arn =
      find_diagnostic(load.warnings, "TagsFunction", "Properties.Environment.Variables.TABLE_ARN");
  ASSERT_NE(table_arn, nullptr);
  EXPECT_EQ(table_arn->severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(table_arn->line, 92);
  EXPECT_EQ(table_arn->message, "!GetAtt Table.Arn cannot be resolved locally; the variable is left out");
  const Diagnostic* table_name =
      find_diagnostic(load.warnings, "TagsFunction", "Properties.Environment.Variables.TABLE_NAME");
  ASSERT_NE(table_name, nullptr);
  EXPECT_EQ(table_name->message,
            "!Ref Table cannot be resolved locally (resource Table (AWS::DynamoDB::Table) exists only in AWS); "
            "the variable is left out");
  const Diagnostic* imported =
      find_diagnostic(load.warnings, "TagsFunction", "Properties.Environment.Variables.IMPORTED_LONG");
  ASSERT_NE(imported, nullptr);
  EXPECT_THAT(imported->message, HasSubstr("!ImportValue !Sub ${Stage}-table cannot be resolved locally"));
}

TEST(Intrinsics, WarningRendersAsTheBriefDescribes) {
  const auto load = load_text(with_variables("          TABLE: !GetAtt Table.Arn\n"
                                             "          KEPT: yes\n") +
                              "  Table:\n    Type: AWS::DynamoDB::Table\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.warnings.size(), 1U) << describe(load);
  const std::string file = (test::templates_dir() / "inline.yaml").string();
  EXPECT_EQ(load.warnings[0].to_string(),
            file + ":11: HelloFunction.Properties.Environment.Variables.TABLE: !GetAtt Table.Arn cannot be "
                   "resolved locally; the variable is left out");
  EXPECT_THAT(environment_of(load), ElementsAre(Pair("KEPT", "yes")));
}

TEST(Intrinsics, PseudoParametersFollowTheOptions) {
  TemplateOptions options;
  options.region = "cn-north-1";
  options.account_id = "111122223333";
  options.stack_name = "local-stack";
  const auto load = load_text(with_variables("          REGION: !Ref AWS::Region\n"
                                             "          ACCOUNT: !Ref AWS::AccountId\n"
                                             "          STACK: !Ref AWS::StackName\n"
                                             "          PARTITION: !Ref AWS::Partition\n"
                                             "          SUFFIX: !Ref AWS::URLSuffix\n"
                                             "          STACK_ID: !Ref AWS::StackId\n"
                                             "          SELF_ARN: !GetAtt HelloFunction.Arn\n"
                                             "          NOTIFY: !Join [',', !Ref AWS::NotificationARNs]\n"
                                             "          GONE: !Ref AWS::NoValue\n"),
                              options);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  EXPECT_THAT(environment_of(load),
              UnorderedElementsAre(
                  Pair("REGION", "cn-north-1"), Pair("ACCOUNT", "111122223333"), Pair("STACK", "local-stack"),
                  Pair("PARTITION", "aws-cn"), Pair("SUFFIX", "amazonaws.com.cn"),
                  Pair("STACK_ID", ::testing::StartsWith("arn:aws-cn:cloudformation:cn-north-1:111122223333:stack/"
                                                         "local-stack/")),
                  Pair("SELF_ARN", "arn:aws-cn:lambda:cn-north-1:111122223333:function:HelloFunction"),
                  Pair("NOTIFY", "")));
}

TEST(Intrinsics, DefaultPseudoParameters) {
  const auto load =
      load_text(with_variables("          PP: !Sub '${AWS::Partition}|${AWS::URLSuffix}|${AWS::Region}'\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(environment_of(load), ElementsAre(Pair("PP", "aws|amazonaws.com|us-east-1")));
}

TEST(Intrinsics, ParametersUseDefaultsAndOverrides) {
  const std::string prelude = R"(Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Size: {Type: Number, Default: 256}
  Zones: {Type: CommaDelimitedList, Default: "a,b,c"}
  Untouched: {Type: String, Default: kept}
)";
  const std::string yaml = one_function(
      "      MemorySize: !Ref Size\n"
      "      Environment:\n        Variables:\n"
      "          STAGE: !Ref Stage\n"
      "          ZONE: !Select [1, !Ref Zones]\n"
      "          ZONES: !Join ['+', !Ref Zones]\n"
      "          UNTOUCHED: !Ref Untouched\n",
      prelude);

  const auto defaults = load_text(yaml);
  ASSERT_TRUE(defaults.errors.empty()) << describe(defaults);
  EXPECT_EQ(defaults.functions.at(0).memory_mb, 256);
  EXPECT_THAT(environment_of(defaults), UnorderedElementsAre(Pair("STAGE", "dev"), Pair("ZONE", "b"),
                                                             Pair("ZONES", "a+b+c"), Pair("UNTOUCHED", "kept")));

  TemplateOptions options;
  options.parameter_overrides = {{"Stage", "prod"}, {"Size", "1024"}, {"Zones", "x,y"}};
  const auto overridden = load_text(yaml, options);
  ASSERT_TRUE(overridden.errors.empty()) << describe(overridden);
  EXPECT_EQ(overridden.functions.at(0).memory_mb, 1024);
  EXPECT_THAT(environment_of(overridden), UnorderedElementsAre(Pair("STAGE", "prod"), Pair("ZONE", "y"),
                                                               Pair("ZONES", "x+y"), Pair("UNTOUCHED", "kept")));
}

TEST(Intrinsics, OverrideForAnUnknownParameterWarns) {
  TemplateOptions options;
  options.parameter_overrides["Nope"] = "1";
  const auto load = load_text(one_function(""), options);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.warnings.size(), 1U);
  EXPECT_THAT(load.warnings[0].message, HasSubstr("Nope"));
}

TEST(Intrinsics, ParameterWithoutValueIsAWarningForOptionalPropertiesAndAnErrorForRequiredOnes) {
  const std::string prelude = "Parameters:\n  TableName:\n    Type: String\n";
  const auto optional = load_text(with_variables("          TABLE: !Ref TableName\n", prelude));
  ASSERT_TRUE(optional.errors.empty()) << describe(optional);
  ASSERT_EQ(optional.warnings.size(), 1U);
  EXPECT_EQ(optional.warnings[0].message,
            "!Ref TableName cannot be resolved locally (parameter TableName has no Default and no override was "
            "given); the variable is left out");
  EXPECT_THAT(environment_of(optional), IsEmpty());

  const auto required = load_text(R"(Parameters:
  Lang: {Type: String}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: !Ref Lang
      Handler: app.handler
      Code: !Sub "${Lang}/code"
)");
  EXPECT_TRUE(required.functions.empty());
  const Diagnostic* runtime = find_diagnostic(required.errors, "Fn", "Properties.Runtime");
  ASSERT_NE(runtime, nullptr) << describe(required);
  EXPECT_EQ(runtime->line, 7);
  EXPECT_THAT(runtime->message, HasSubstr("!Ref Lang cannot be resolved locally"));
  const Diagnostic* code = find_diagnostic(required.errors, "Fn", "Properties.Code");
  ASSERT_NE(code, nullptr) << describe(required);
  EXPECT_EQ(code->line, 9);
}

TEST(Intrinsics, SubForms) {
  const auto load = load_text(with_variables(
      "          PLAIN: !Sub no variables here\n"
      "          ESCAPED: !Sub '${!Literal}-${AWS::Region}'\n"
      "          VARS: !Sub ['${A}/${B}/${AWS::AccountId}', {A: one, B: !Ref AWS::Region}]\n"
      "          SPACES: !Sub '${ AWS::Region }'\n"
      "          UNCLOSED: !Sub 'cost: ${'\n"
      "          FN_ARN: !Sub '${HelloFunction.Arn}:live'\n"
      "          FN_NAME: !Sub '${HelloFunction}'\n"
      "          MULTILINE: !Sub |\n"
      "            line ${AWS::Region}\n"
      "          LONG:\n"
      "            Fn::Sub:\n"
      "              - '${X}'\n"
      "              - X: !Join ['', [a, b]]\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  EXPECT_THAT(environment_of(load),
              UnorderedElementsAre(Pair("PLAIN", "no variables here"), Pair("ESCAPED", "${Literal}-us-east-1"),
                                   Pair("VARS", "one/us-east-1/123456789012"), Pair("SPACES", "us-east-1"),
                                   Pair("UNCLOSED", "cost: ${"),
                                   Pair("FN_ARN", "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction:live"),
                                   Pair("FN_NAME", "HelloFunction"), Pair("MULTILINE", "line us-east-1\n"),
                                   Pair("LONG", "ab")));
}

TEST(Intrinsics, SubWithAnUnknownVariableNamesIt) {
  const auto load = load_text(with_variables("          QUEUE: !Sub '${Queue.QueueName}-dlq'\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.warnings.size(), 1U);
  EXPECT_EQ(load.warnings[0].message,
            "!GetAtt Queue.QueueName cannot be resolved locally (the template has no resource named Queue); the "
            "variable is left out");
}

TEST(Intrinsics, RefAndArnOfAnotherFunctionUseItsName) {
  const auto load = load_text(R"(Transform: AWS::Serverless-2016-10-31
Resources:
  Caller:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      CodeUri: code/hello
      Environment:
        Variables:
          TARGET: !Ref Worker
          TARGET_ARN: !GetAtt Worker.Arn
          TARGET_LONG: {"Fn::GetAtt": [Worker, Arn]}
          TARGET_ROLE: !GetAtt Worker.Role
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: background-worker
      Runtime: nodejs20.x
      Handler: index.handler
      CodeUri: code/node
)");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const auto arn = "arn:aws:lambda:us-east-1:123456789012:function:background-worker";
  EXPECT_THAT(environment_of(load), UnorderedElementsAre(Pair("TARGET", "background-worker"),
                                                         Pair("TARGET_ARN", arn), Pair("TARGET_LONG", arn)));
  ASSERT_EQ(load.warnings.size(), 1U) << describe(load);
  EXPECT_EQ(load.warnings[0].property, "Properties.Environment.Variables.TARGET_ROLE");
}

TEST(Intrinsics, ConditionsChooseBranches) {
  const std::string prelude = R"(Parameters:
  Env: {Type: String, Default: staging}
  Unknown: {Type: String}
Conditions:
  IsProd: !Equals [prod, !Ref Env]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, !Equals [!Ref "AWS::Region", us-east-1]]
  Either: !Or [!Condition IsProd, {Condition: NotProd}]
  OrShortCircuit: !Or [!Equals [!Ref Unknown, x], !Equals [a, a]]
  AndShortCircuit: !And [!Equals [!Ref Unknown, x], !Equals [a, b]]
  Undecidable: !Equals [!Ref Unknown, x]
  NumbersAsText: !Equals [1, "1"]
)";
  const auto load = load_text(with_variables("          VA: !If [IsProd, p, np]\n"
                                             "          VB: !If [Both, both, not-both]\n"
                                             "          VC: !If [Either, either, neither]\n"
                                             "          VD: !If [OrShortCircuit, or-true, or-false]\n"
                                             "          VE: !If [AndShortCircuit, and-true, and-false]\n"
                                             "          VF: !If [NumbersAsText, same, different]\n"
                                             "          VG: !If [IsProd, !GetAtt Nothing.Arn, fine]\n"
                                             "          VH: !If [Undecidable, x, y]\n",
                                             prelude));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(environment_of(load),
              UnorderedElementsAre(Pair("VA", "np"), Pair("VB", "both"), Pair("VC", "either"), Pair("VD", "or-true"),
                                   Pair("VE", "and-false"), Pair("VF", "same"), Pair("VG", "fine")));
  // Only the branch taken is evaluated; an undecidable condition leaves the value out.
  ASSERT_EQ(load.warnings.size(), 1U) << describe(load);
  EXPECT_EQ(load.warnings[0].property, "Properties.Environment.Variables.VH");
  EXPECT_THAT(load.warnings[0].message, HasSubstr("!Ref Unknown cannot be resolved locally"));
}

TEST(Intrinsics, NoValueRemovesThePropertyEvenOverGlobalsAsSamDoes) {
  // SAM merges Globals before CloudFormation drops AWS::NoValue, so the function's NoValue
  // wins over the Globals value and the Lambda default applies.
  const auto load = load_text(R"(Transform: AWS::Serverless-2016-10-31
Conditions:
  Never: !Equals [a, b]
Globals:
  Function:
    MemorySize: 1024
    Timeout: 30
    Environment:
      Variables:
        FROM_GLOBALS: g
        DROPPED: g
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      CodeUri: code/hello
      MemorySize: !If [Never, 512, !Ref "AWS::NoValue"]
      Description: !Ref AWS::NoValue
      Environment:
        Variables:
          DROPPED: !Ref AWS::NoValue
          LIST: !Join [",", [a, !Ref "AWS::NoValue", b]]
)");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const FunctionConfig& f = load.functions.at(0);
  EXPECT_EQ(f.memory_mb, 128);
  EXPECT_EQ(f.timeout_seconds, 30);
  EXPECT_EQ(f.description, "");
  EXPECT_THAT(f.environment, UnorderedElementsAre(Pair("FROM_GLOBALS", "g"), Pair("LIST", "a,b")));
}

TEST(Intrinsics, IntrinsicInGlobalsIsReplacedNotMerged) {
  const auto load = load_text(R"(Transform: AWS::Serverless-2016-10-31
Conditions:
  Always: !Equals [a, a]
Globals:
  Function:
    Environment: !If [Always, {Variables: {FROM_GLOBALS: g}}, !Ref "AWS::NoValue"]
Resources:
  Inherits:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.h, CodeUri: code/hello}
  Overrides:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.h
      CodeUri: code/hello
      Environment: {Variables: {OWN: o}}
)");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.functions.size(), 2U);
  EXPECT_THAT(load.functions[0].environment, ElementsAre(Pair("FROM_GLOBALS", "g")));
  EXPECT_THAT(load.functions[1].environment, ElementsAre(Pair("OWN", "o")));
}

TEST(Intrinsics, FindInMapLooksUpComputedKeys) {
  const std::string prelude = R"(Mappings:
  Sizes:
    us-east-1: {Memory: 1536, Name: east}
    eu-west-1: {Memory: 256, Name: west}
)";
  const std::string yaml = one_function("      MemorySize: !FindInMap [Sizes, !Ref 'AWS::Region', Memory]\n"
                                        "      Environment:\n        Variables:\n"
                                        "          NAME: {'Fn::FindInMap': [Sizes, !Ref 'AWS::Region', Name]}\n",
                                        prelude);
  const auto east = load_text(yaml);
  ASSERT_TRUE(east.errors.empty()) << describe(east);
  EXPECT_EQ(east.functions.at(0).memory_mb, 1536);
  EXPECT_THAT(environment_of(east), ElementsAre(Pair("NAME", "east")));

  TemplateOptions west;
  west.region = "eu-west-1";
  const auto load = load_text(yaml, west);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.functions.at(0).memory_mb, 256);
  EXPECT_THAT(environment_of(load), ElementsAre(Pair("NAME", "west")));

  TemplateOptions elsewhere;
  elsewhere.region = "ap-south-1";
  const auto missing = load_text(yaml, elsewhere);
  EXPECT_TRUE(missing.functions.empty());
  ASSERT_EQ(missing.errors.size(), 2U) << describe(missing);
  EXPECT_EQ(missing.errors[0].property, "Properties.MemorySize");
  EXPECT_EQ(missing.errors[0].message, "Fn::FindInMap: key ap-south-1 is not in mapping Sizes");
}

TEST(Intrinsics, SelectSplitJoinBase64) {
  const auto load = load_text(with_variables(
      "          FIRST: !Select ['0', [x, y]]\n"
      "          CSV: !Join [',', !Split ['|', 'a|b||c']]\n"
      "          EMPTY_JOIN: !Join ['-', []]\n"
      "          B64_EMPTY: !Base64 ''\n"
      "          B64_TWO: !Base64 ab\n"
      "          B64_SUB: !Base64 {'Fn::Sub': '${AWS::Region}'}\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(environment_of(load),
              UnorderedElementsAre(Pair("FIRST", "x"), Pair("CSV", "a,b,,c"), Pair("EMPTY_JOIN", ""),
                                   Pair("B64_EMPTY", ""), Pair("B64_TWO", "YWI="),
                                   Pair("B64_SUB", "dXMtZWFzdC0x")));
}

TEST(Intrinsics, TemplateMistakesInsideIntrinsicsAreErrors) {
  const auto load = load_text(with_variables("          OUT_OF_RANGE: !Select [5, [a, b]]\n"
                                             "          BAD_TAG: !Reff Foo\n"
                                             "          NO_MAPPING: !FindInMap [Nope, a, b]\n"
                                             "          NO_CONDITION: !If [Missing, a, b]\n"
                                             "          BAD_JOIN: !Join [',']\n"
                                             "          BAD_PSEUDO: !Ref AWS::Regoin\n"
                                             "          UNKNOWN_FN: {'Fn::Frobnicate': [1]}\n"
                                             "          LIST: [a, b]\n"
                                             "          NULL_VALUE:\n"
                                             "          FINE: ok\n"));
  EXPECT_TRUE(load.functions.empty());
  std::map<std::string, std::string> messages;
  for (const auto& e : load.errors) messages[e.property] = e.message;
  const std::string p = "Properties.Environment.Variables.";
  EXPECT_THAT(messages, UnorderedElementsAre(
                            Pair(p + "OUT_OF_RANGE", "Fn::Select index 5 is out of range (the list has 2 items)"),
                            Pair(p + "BAD_TAG", "unknown tag !Reff"),
                            Pair(p + "NO_MAPPING", "Fn::FindInMap: mapping Nope is not defined in Mappings"),
                            Pair(p + "NO_CONDITION", "condition Missing is not defined in Conditions"),
                            Pair(p + "BAD_JOIN", "Fn::Join needs [delimiter, [values]]"),
                            Pair(p + "BAD_PSEUDO", "unknown pseudo parameter AWS::Regoin"),
                            Pair(p + "UNKNOWN_FN", "unknown intrinsic function Fn::Frobnicate"),
                            Pair(p + "LIST", "must be a string, not a list"),
                            Pair(p + "NULL_VALUE", "'null' values are not allowed in templates")))
      << describe(load);
}

TEST(Intrinsics, CircularConditionsAreAnErrorNotACrash) {
  const auto load = load_text(with_variables("          XX: !If [A, a, b]\n",
                                             "Conditions:\n  A: !Not [!Condition B]\n  B: !Not [!Condition A]\n"));
  EXPECT_TRUE(load.functions.empty());
  ASSERT_FALSE(load.errors.empty());
  EXPECT_THAT(load.errors[0].message, HasSubstr("refers to itself"));
}

TEST(Intrinsics, IntrinsicsAreNotAllowedInMappings) {
  const auto load = load_text(with_variables("          XX: !FindInMap [M, k, v]\n",
                                             "Mappings:\n  M:\n    k:\n      v: !Ref AWS::Region\n"));
  ASSERT_EQ(load.errors.size(), 1U) << describe(load);
  EXPECT_THAT(load.errors[0].message, HasSubstr("intrinsic functions are not allowed in Mappings"));
}

TEST(Intrinsics, UnresolvableOptionalScalarsFallBackToDefaultsWithAWarning) {
  const auto load = load_text(one_function("      MemorySize: !ImportValue memory\n"
                                           "      Timeout: !GetAtt Config.Timeout\n"
                                           "      Architectures: !Split [',', !ImportValue archs]\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const FunctionConfig& f = load.functions.at(0);
  EXPECT_EQ(f.memory_mb, 128);
  EXPECT_EQ(f.timeout_seconds, 3);
  EXPECT_THAT(f.architectures, ElementsAre("x86_64"));
  std::map<std::string, std::string> messages;
  for (const auto& w : load.warnings) messages[w.property] = w.message;
  EXPECT_THAT(messages,
              UnorderedElementsAre(
                  Pair("Properties.MemorySize",
                       "!ImportValue memory cannot be resolved locally; the default 128 MB is used"),
                  Pair("Properties.Timeout", HasSubstr("the default 3 seconds is used")),
                  Pair("Properties.Architectures", HasSubstr("x86_64 is used"))));
}

}  // namespace
}  // namespace lambdad::config
