// serverless.yml: provider defaults, names, variables, stage precedence, errors, and equivalence
// with a SAM template describing the same functions.
#include "lambdad/config/serverless.hpp"

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/config/sam_template.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::find_function;
using test::templates_dir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::filesystem::path serverless_dir() { return templates_dir() / "serverless"; }

// Inline files live "in" tests/unit/config/templates/serverless, which is their code directory.
TemplateLoad load(const std::string& yaml, const ServerlessOptions& options = {}) {
  return load_serverless_text(yaml, serverless_dir() / "serverless.yml", options);
}

// A service with one python function `hello` and the given extra lines: `provider_extra` indented
// 2 spaces under provider, `function_extra` 4 spaces under functions.hello.
std::string service(const std::string& provider_extra, const std::string& function_extra,
                    const std::string& tail = "") {
  return "service: demo\n"
         "provider:\n"
         "  name: aws\n"
         "  runtime: python3.12\n" +
         provider_extra +
         "functions:\n"
         "  hello:\n"
         "    handler: handler.hello\n" +
         function_extra + tail;
}

const FunctionConfig& only_function(const TemplateLoad& load) {
  EXPECT_EQ(load.functions.size(), 1U) << describe(load);
  return load.functions.at(0);
}

TEST(Serverless, MinimalFunctionGetsTheFrameworkDefaults) {
  const auto result = load(service("", ""));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(result.warnings, IsEmpty()) << describe(result);
  const FunctionConfig& f = only_function(result);
  EXPECT_EQ(f.name, "demo-dev-hello");
  EXPECT_EQ(f.logical_id, "HelloLambdaFunction");
  EXPECT_EQ(f.short_name, "hello");
  EXPECT_EQ(f.runtime, "python3.12");
  EXPECT_EQ(f.handler, "handler.hello");
  EXPECT_EQ(f.memory_mb, 1024);
  EXPECT_EQ(f.timeout_seconds, 6);
  EXPECT_THAT(f.environment, IsEmpty());
  EXPECT_THAT(f.architectures, ElementsAre("x86_64"));
  EXPECT_FALSE(f.reserved_concurrency.has_value());
  EXPECT_EQ(f.provisioned_concurrency, 0);
  EXPECT_EQ(f.auto_publish_alias, "");
}

TEST(Serverless, CodeDirIsTheDirectoryOfTheFile) {
  const auto result = load(service("", ""));
  const FunctionConfig& f = only_function(result);
  EXPECT_TRUE(f.code_dir.is_absolute());
  EXPECT_EQ(f.code_dir, std::filesystem::weakly_canonical(serverless_dir()));
}

TEST(Serverless, ProviderDefaultsAreInheritedAndOverridden) {
  const auto result = load(
      "service: demo\n"
      "provider:\n"
      "  name: aws\n"
      "  runtime: nodejs20.x\n"
      "  memorySize: 512\n"
      "  timeout: 30\n"
      "  architecture: arm64\n"
      "  logRetentionInDays: 14\n"
      "functions:\n"
      "  inherits:\n"
      "    handler: index.handler\n"
      "  overrides:\n"
      "    handler: app.main\n"
      "    runtime: python3.12\n"
      "    memorySize: 2048\n"
      "    timeout: 900\n"
      "    architecture: x86_64\n"
      "    description: does its own thing\n"
      "    ephemeralStorageSize: 1024\n"
      "    events:\n"
      "      - http: {path: /, method: get, authorizer: '${cf:auth-stack.AuthorizerArn}'}\n");
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(result.warnings, IsEmpty()) << describe(result);  // events are not looked at
  const FunctionConfig* inherits = find_function(result, "inherits");
  const FunctionConfig* overrides = find_function(result, "overrides");
  ASSERT_NE(inherits, nullptr);
  ASSERT_NE(overrides, nullptr);
  EXPECT_EQ(inherits->runtime, "nodejs20.x");
  EXPECT_EQ(inherits->memory_mb, 512);
  EXPECT_EQ(inherits->timeout_seconds, 30);
  EXPECT_THAT(inherits->architectures, ElementsAre("arm64"));
  EXPECT_EQ(overrides->runtime, "python3.12");
  EXPECT_EQ(overrides->handler, "app.main");
  EXPECT_EQ(overrides->memory_mb, 2048);
  EXPECT_EQ(overrides->timeout_seconds, 900);
  EXPECT_THAT(overrides->architectures, ElementsAre("x86_64"));
  EXPECT_EQ(overrides->description, "does its own thing");
  EXPECT_EQ(overrides->ephemeral_storage_mb, 1024);
}

TEST(Serverless, FunctionEnvironmentIsMergedOverProviderEnvironment) {
  const auto result = load(service(
      "  environment:\n"
      "    SHARED: from-provider\n"
      "    OVERRIDDEN: from-provider\n"
      "    COUNT: 42\n"
      "    RATIO: 1.50\n"
      "    ENABLED: True\n",
      "    environment:\n"
      "      OVERRIDDEN: from-function\n"
      "      OWN: mine\n"
      "      PADDED: '007'\n"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  // Numbers and booleans become the text JavaScript would print for them.
  EXPECT_THAT(only_function(result).environment,
              UnorderedElementsAre(Pair("SHARED", "from-provider"), Pair("OVERRIDDEN", "from-function"),
                                   Pair("COUNT", "42"), Pair("RATIO", "1.5"), Pair("ENABLED", "true"),
                                   Pair("OWN", "mine"), Pair("PADDED", "007")));
}

TEST(Serverless, CloudFormationValuesInTheEnvironmentAreLeftOutWithAWarning) {
  const auto result = load(service("",
                                   "    environment:\n"
                                   "      TABLE: !Ref UsersTable\n"
                                   "      QUEUE:\n"
                                   "        Fn::GetAtt: [Queue, Arn]\n"
                                   "      PLAIN: yes\n"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(only_function(result).environment, UnorderedElementsAre(Pair("PLAIN", "yes")));
  const Diagnostic* table = find_diagnostic(result.warnings, "hello", "environment.TABLE");
  ASSERT_NE(table, nullptr) << describe(result);
  EXPECT_EQ(table->line, 9);
  EXPECT_THAT(table->message, HasSubstr("!Ref UsersTable"));
  EXPECT_NE(find_diagnostic(result.warnings, "hello", "environment.QUEUE"), nullptr) << describe(result);
}

TEST(Serverless, DefaultNameIsServiceStageKeyAndNameOverridesIt) {
  const auto result = load(
      "service: shop\n"
      "provider: {name: aws, runtime: python3.12, stage: prod}\n"
      "functions:\n"
      "  checkout: {handler: app.checkout}\n"
      "  refund: {handler: app.refund, name: refunds-v2}\n");
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  ASSERT_EQ(result.functions.size(), 2U);
  EXPECT_EQ(result.functions[0].name, "shop-prod-checkout");
  EXPECT_EQ(result.functions[0].logical_id, "CheckoutLambdaFunction");
  EXPECT_EQ(result.functions[0].short_name, "checkout");
  EXPECT_EQ(result.functions[1].name, "refunds-v2");
  EXPECT_EQ(result.functions[1].logical_id, "RefundLambdaFunction");
  EXPECT_EQ(result.functions[1].short_name, "refund");
}

TEST(Serverless, InvalidNamesAreErrorsWithTheirLine) {
  const auto result = load(service("", "    name: not a valid name\n"));
  EXPECT_THAT(result.functions, IsEmpty());
  const Diagnostic* d = find_diagnostic(result.errors, "hello", "name");
  ASSERT_NE(d, nullptr) << describe(result);
  EXPECT_EQ(d->line, 8);
  EXPECT_THAT(d->message, HasSubstr("not a valid function name"));

  const auto long_default = load(service("", "", "  a_function_key_long_enough_to_overflow_the_sixty_four_limit:\n"
                                                 "    handler: handler.hello\n"));
  const Diagnostic* too_long =
      find_diagnostic(long_default.errors, "a_function_key_long_enough_to_overflow_the_sixty_four_limit", "name");
  ASSERT_NE(too_long, nullptr) << describe(long_default);
  EXPECT_EQ(too_long->line, 8);
  EXPECT_THAT(too_long->message, HasSubstr("set name:"));
}

TEST(Serverless, DuplicateDeployedNamesAreAnError) {
  const auto result = load(service("", "    name: same\n", "  other: {handler: handler.other, name: same}\n"));
  const Diagnostic* d = find_diagnostic(result.errors, "other", "name");
  ASSERT_NE(d, nullptr) << describe(result);
  EXPECT_THAT(d->message, HasSubstr("already used by hello"));
}

// ---- variables

TEST(Serverless, SelfVariablesReadTheDocument) {
  const auto result = load(
      "service: demo\n"
      "custom:\n"
      "  greeting: hi\n"
      "  sizes: {small: 256}\n"
      "  list: [a, b]\n"
      "provider:\n"
      "  name: aws\n"
      "  runtime: python3.12\n"
      "  stage: qa\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n"
      "    memorySize: ${self:custom.sizes.small}\n"
      "    environment:\n"
      "      SERVICE: ${self:service}\n"
      "      STAGE: ${self:provider.stage}\n"
      "      TEXT: '${self:custom.greeting} from ${self:service}-${self:provider.stage}'\n"
      "      SECOND: ${self:custom.list.1}\n");
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(result.warnings, IsEmpty()) << describe(result);
  const FunctionConfig& f = only_function(result);
  EXPECT_EQ(f.memory_mb, 256);
  EXPECT_EQ(f.name, "demo-qa-hello");
  EXPECT_THAT(f.environment, UnorderedElementsAre(Pair("SERVICE", "demo"), Pair("STAGE", "qa"),
                                                  Pair("TEXT", "hi from demo-qa"), Pair("SECOND", "b")));
}

TEST(Serverless, WholeValueVariablesKeepTheirType) {
  const auto result = load(
      "service: demo\n"
      "custom:\n"
      "  mem: 2048\n"
      "  env: {AA: one, BB: 2}\n"
      "  layers: [{Ref: SharedLambdaLayer}]\n"
      "provider: {name: aws, runtime: python3.12, environment: '${self:custom.env}'}\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n"
      "    memorySize: ${self:custom.mem}\n"
      "    layers: ${self:custom.layers}\n"
      "layers:\n"
      "  shared: {path: ../code/layers/shared}\n");
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  const FunctionConfig& f = only_function(result);
  EXPECT_EQ(f.memory_mb, 2048);
  EXPECT_THAT(f.environment, UnorderedElementsAre(Pair("AA", "one"), Pair("BB", "2")));
  EXPECT_THAT(f.layers, ElementsAre("arn:aws:lambda:us-east-1:123456789012:layer:shared:1"));
}

TEST(Serverless, EnvOptSlsAndAwsVariables) {
  ServerlessOptions options;
  options.environment = {{"TABLE", "users"}, {"PORT", "8080"}};
  options.region = "eu-west-1";
  options.account_id = "111122223333";
  const auto result = load(service("",
                                    "    environment:\n"
                                    "      TABLE: ${env:TABLE}\n"
                                    "      PORT: ${env:PORT}\n"
                                    "      OPT_STAGE: ${opt:stage}\n"
                                    "      SLS_STAGE: ${sls:stage}\n"
                                    "      OPT_REGION: ${opt:region}\n"
                                    "      AWS_REGION_COPY: ${aws:region}\n"
                                    "      ACCOUNT: ${aws:accountId}\n"
                                    "      ARN: arn:aws:dynamodb:${aws:region}:${aws:accountId}:table/${env:TABLE}\n"
                                    "      SUB: '${AWS::Region}-${Suffix}'\n"),
                           options);
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(result.warnings, IsEmpty()) << describe(result);
  EXPECT_THAT(only_function(result).environment,
              UnorderedElementsAre(Pair("TABLE", "users"), Pair("PORT", "8080"), Pair("OPT_STAGE", "dev"),
                                   Pair("SLS_STAGE", "dev"), Pair("OPT_REGION", "eu-west-1"),
                                   Pair("AWS_REGION_COPY", "eu-west-1"), Pair("ACCOUNT", "111122223333"),
                                   Pair("ARN", "arn:aws:dynamodb:eu-west-1:111122223333:table/users"),
                                   // CloudFormation's own ${...} (Fn::Sub) are not variables.
                                   Pair("SUB", "${AWS::Region}-${Suffix}")));
}

TEST(Serverless, RegionComesFromProviderElseOptions) {
  ServerlessOptions options;
  options.region = "eu-west-1";
  const auto from_provider = load(service("  region: ap-south-1\n", "    environment: {REGION: '${aws:region}'}\n"), options);
  ASSERT_TRUE(from_provider.errors.empty()) << describe(from_provider);
  EXPECT_THAT(only_function(from_provider).environment, ElementsAre(Pair("REGION", "ap-south-1")));

  options.region_given = true;
  const auto from_cli = load(service("  region: ap-south-1\n", "    environment: {REGION: '${aws:region}'}\n"), options);
  EXPECT_THAT(only_function(from_cli).environment, ElementsAre(Pair("REGION", "eu-west-1")));
}

TEST(Serverless, FallbacksApplyWhenTheValueIsMissing) {
  ServerlessOptions options;
  options.environment = {{"SET", "present"}};
  const auto result = load(
      "service: demo\n"
      "custom:\n"
      "  fallback: from-custom\n"
      "provider: {name: aws, runtime: python3.12}\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n"
      "    memorySize: ${self:custom.missing, 512}\n"
      "    timeout: ${env:NOT_SET, 20}\n"
      "    environment:\n"
      "      QUOTED: ${env:NOT_SET, 'default value'}\n"
      "      DOUBLE: ${env:NOT_SET, \"a, b\"}\n"
      "      PRESENT: ${env:SET, 'unused'}\n"
      "      VARIABLE: ${env:NOT_SET, ${self:custom.fallback}}\n"
      "      BARE: ${env:NOT_SET, self:custom.fallback}\n"
      "      CHAIN: ${env:NOT_SET, env:ALSO_NOT_SET, 'last'}\n"
      "      STAGE: ${opt:stage, 'fallback-stage'}\n",
      options);
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(result.warnings, IsEmpty()) << describe(result);
  const FunctionConfig& f = only_function(result);
  EXPECT_EQ(f.memory_mb, 512);
  EXPECT_EQ(f.timeout_seconds, 20);
  // Without --stage the Framework has no ${opt:stage}: the fallback is used.
  EXPECT_THAT(f.environment,
              UnorderedElementsAre(Pair("QUOTED", "default value"), Pair("DOUBLE", "a, b"), Pair("PRESENT", "present"),
                                   Pair("VARIABLE", "from-custom"), Pair("BARE", "from-custom"),
                                   Pair("CHAIN", "last"), Pair("STAGE", "fallback-stage")));
}

TEST(Serverless, NestedVariablesBuildTheAddress) {
  ServerlessOptions options;
  options.stage = "prod";
  options.stage_given = true;
  options.environment = {{"TIER", "large"}};
  const auto result = load(
      "service: demo\n"
      "custom:\n"
      "  dev: {mem: 256}\n"
      "  prod: {mem: 3008}\n"
      "  sizes: {large: 4096}\n"
      "provider: {name: aws, runtime: python3.12}\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n"
      "    memorySize: ${self:custom.${opt:stage}.mem}\n"
      "    environment:\n"
      "      SIZE: ${self:custom.sizes.${env:TIER}}\n",
      options);
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  const FunctionConfig& f = only_function(result);
  EXPECT_EQ(f.memory_mb, 3008);
  EXPECT_THAT(f.environment, ElementsAre(Pair("SIZE", "4096")));
}

TEST(Serverless, ReferencesThroughVariablesAndMergeKeysResolve) {
  const auto result = load(
      "service: demo\n"
      "custom:\n"
      "  base: &base {mem: 640, note: base}\n"
      "  current: ${self:custom.base}\n"
      "  extended:\n"
      "    <<: *base\n"
      "    note: extended\n"
      "provider: {name: aws, runtime: python3.12}\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n"
      "    memorySize: ${self:custom.current.mem}\n"
      "    environment:\n"
      "      NOTE: ${self:custom.extended.note}\n"
      "      MEM: ${self:custom.extended.mem}\n");
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  const FunctionConfig& f = only_function(result);
  EXPECT_EQ(f.memory_mb, 640);
  EXPECT_THAT(f.environment, UnorderedElementsAre(Pair("NOTE", "extended"), Pair("MEM", "640")));
}

TEST(Serverless, UnresolvableVariablesWarnWithTheirLocationAndLeaveTheValueEmpty) {
  const auto result = load(service("",
                                   "    environment:\n"
                                   "      SECRET: ${ssm:/demo/secret}\n"
                                   "      OUTPUT: ${cf:other-stack.Url}\n"
                                   "      UNSET: prefix-${env:NOT_SET}\n"
                                   "      WITH_FALLBACK: ${ssm:/demo/flag, 'off'}\n"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(only_function(result).environment,
              UnorderedElementsAre(Pair("SECRET", ""), Pair("OUTPUT", ""), Pair("UNSET", "prefix-"),
                                   Pair("WITH_FALLBACK", "off")));
  const Diagnostic* secret = find_diagnostic(result.warnings, "hello", "environment.SECRET");
  ASSERT_NE(secret, nullptr) << describe(result);
  EXPECT_EQ(secret->line, 9);
  EXPECT_THAT(secret->message, HasSubstr("${ssm:/demo/secret}"));
  EXPECT_THAT(secret->message, HasSubstr("left empty"));
  EXPECT_NE(find_diagnostic(result.warnings, "hello", "environment.OUTPUT"), nullptr) << describe(result);
  const Diagnostic* unset = find_diagnostic(result.warnings, "hello", "environment.UNSET");
  ASSERT_NE(unset, nullptr) << describe(result);
  EXPECT_THAT(unset->message, HasSubstr("NOT_SET"));
  // A fallback stands in for what only AWS knows, but the deployed function may see otherwise.
  const Diagnostic* flag = find_diagnostic(result.warnings, "hello", "environment.WITH_FALLBACK");
  ASSERT_NE(flag, nullptr) << describe(result);
  EXPECT_THAT(flag->message, HasSubstr("fallback is used"));
}

TEST(Serverless, AnUnresolvableRequiredValueIsAnError) {
  const auto result = load(
      "service: demo\n"
      "provider: {name: aws, runtime: '${env:RUNTIME}'}\n"
      "functions:\n"
      "  hello:\n"
      "    handler: ${file(./handlers.yml):hello}\n");
  EXPECT_THAT(result.functions, IsEmpty());
  const Diagnostic* runtime = find_diagnostic(result.errors, "provider", "runtime");
  ASSERT_NE(runtime, nullptr) << describe(result);
  EXPECT_EQ(runtime->line, 2);
  EXPECT_THAT(runtime->message, HasSubstr("could not be resolved"));
  const Diagnostic* handler = find_diagnostic(result.errors, "hello", "handler");
  ASSERT_NE(handler, nullptr) << describe(result);
  EXPECT_EQ(handler->line, 5);
  const Diagnostic* file_warning = find_diagnostic(result.warnings, "hello", "handler");
  ASSERT_NE(file_warning, nullptr) << describe(result);
  EXPECT_THAT(file_warning->message, HasSubstr("file source"));
}

TEST(Serverless, CyclicVariablesAreAnError) {
  const auto result = load(
      "service: demo\n"
      "custom:\n"
      "  a: ${self:custom.b}\n"
      "  b: ${self:custom.a}\n"
      "  me: x-${self:custom.me}\n"
      "provider: {name: aws, runtime: python3.12}\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n"
      "    environment:\n"
      "      A: ${self:custom.a}\n"
      "      ME: ${self:custom.me}\n");
  EXPECT_THAT(result.functions, IsEmpty()) << describe(result);
  const Diagnostic* cycle = find_diagnostic(result.errors, "", "custom.a");
  ASSERT_NE(cycle, nullptr) << describe(result);
  EXPECT_EQ(cycle->line, 3);
  EXPECT_THAT(cycle->message, HasSubstr("custom.a -> custom.b -> custom.a"));
  EXPECT_NE(find_diagnostic(result.errors, "", "custom.me"), nullptr) << describe(result);
}

TEST(Serverless, TheStageCannotBeDefinedByItself) {
  const auto result = load(service("  stage: ${sls:stage}\n", ""));
  const Diagnostic* d = find_diagnostic(result.errors, "", "provider.stage");
  ASSERT_NE(d, nullptr) << describe(result);
  EXPECT_THAT(d->message, HasSubstr("provider.stage"));
}

TEST(Serverless, ExpansionIsBounded) {
  std::string yaml = "service: demo\ncustom:\n  l0: [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 8; ++i) {
    yaml += "  l" + std::to_string(i) + ": [";
    for (int j = 0; j < 10; ++j) yaml += std::string(j ? ", " : "") + "'${self:custom.l" + std::to_string(i - 1) + "}'";
    yaml += "]\n";
  }
  yaml += "provider: {name: aws, runtime: python3.12}\nfunctions:\n  hello:\n    handler: handler.hello\n"
          "    layers: ${self:custom.l8}\n";
  const auto result = load(yaml);
  EXPECT_THAT(result.functions, IsEmpty());
  ASSERT_FALSE(result.errors.empty());
  EXPECT_THAT(describe(result), HasSubstr("too large"));
}

// ---- stage

TEST(Serverless, StagePrecedenceIsCommandLineThenProviderThenDev) {
  const std::string with_provider_stage = service("  stage: staging\n", "    environment: {STAGE_NAME: '${sls:stage}'}\n");
  const std::string without = service("", "    environment: {STAGE_NAME: '${sls:stage}'}\n");

  EXPECT_EQ(only_function(load(without)).name, "demo-dev-hello");
  EXPECT_EQ(only_function(load(with_provider_stage)).name, "demo-staging-hello");

  ServerlessOptions not_given;
  not_given.stage = "ignored";  // without stage_given the option is only a default nobody asked for
  EXPECT_EQ(only_function(load(with_provider_stage, not_given)).name, "demo-staging-hello");

  ServerlessOptions given;
  given.stage = "prod";
  given.stage_given = true;
  const auto result = load(with_provider_stage, given);
  EXPECT_EQ(only_function(result).name, "demo-prod-hello");
  EXPECT_THAT(only_function(result).environment, ElementsAre(Pair("STAGE_NAME", "prod")));
}

TEST(Serverless, ProviderStageMayUseTheOptionWithAFallback) {
  const std::string yaml = service("  stage: ${opt:stage, 'qa'}\n", "");
  EXPECT_EQ(only_function(load(yaml)).name, "demo-qa-hello");
  ServerlessOptions given;
  given.stage = "prod";
  given.stage_given = true;
  EXPECT_EQ(only_function(load(yaml, given)).name, "demo-prod-hello");
}

// ---- concurrency, layers, package

TEST(Serverless, ReservedAndProvisionedConcurrency) {
  const auto result = load(service("",
                                   "    reservedConcurrency: 5\n"
                                   "    provisionedConcurrency: 2\n",
                                   "  plain:\n"
                                   "    handler: handler.plain\n"
                                   "    provisionedConcurrency: 0\n"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  const FunctionConfig* hello = find_function(result, "hello");
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->reserved_concurrency, 5);
  EXPECT_EQ(hello->provisioned_concurrency, 2);
  EXPECT_EQ(hello->auto_publish_alias, "provisioned");
  EXPECT_THAT(function_versions(*hello), ElementsAre("$LATEST", "1"));
  const FunctionConfig* plain = find_function(result, "plain");
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->provisioned_concurrency, 0);
  EXPECT_EQ(plain->auto_publish_alias, "");

  const auto negative = load(service("", "    reservedConcurrency: -1\n"));
  const Diagnostic* d = find_diagnostic(negative.errors, "hello", "reservedConcurrency");
  ASSERT_NE(d, nullptr) << describe(negative);
  EXPECT_EQ(d->line, 8);
}

TEST(Serverless, LayersAreKeptAndReplaceProviderLayers) {
  const auto result = load(service("  layers:\n"
                                   "    - {Ref: CommonLambdaLayer}\n",
                                   "    layers:\n"
                                   "      - {Ref: OneLambdaLayer}\n"
                                   "      - {Ref: TwoLambdaLayer}\n",
                                   "  inherits:\n"
                                   "    handler: handler.other\n"
                                   "layers:\n"
                                   "  common: {path: ../code/layers/shared}\n"
                                   "  one: {path: ../code/layers/own}\n"
                                   "  two: {path: ../code/layers/shared}\n"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(find_function(result, "hello")->layers,
              ElementsAre("arn:aws:lambda:us-east-1:123456789012:layer:one:1",
                          "arn:aws:lambda:us-east-1:123456789012:layer:two:1"));
  EXPECT_THAT(find_function(result, "inherits")->layers,
              ElementsAre("arn:aws:lambda:us-east-1:123456789012:layer:common:1"));
}

TEST(Serverless, PackagePatternsAreIgnoredAndArtifactsRefused) {
  const auto patterns = load(service("", "    package: {individually: true, patterns: ['!node_modules/**']}\n"));
  ASSERT_TRUE(patterns.errors.empty()) << describe(patterns);
  EXPECT_THAT(patterns.warnings, IsEmpty()) << describe(patterns);

  const auto artifact = load(service("", "    package: {artifact: build/hello.zip}\n"));
  const Diagnostic* d = find_diagnostic(artifact.errors, "hello", "package.artifact");
  ASSERT_NE(d, nullptr) << describe(artifact);
  EXPECT_THAT(d->message, HasSubstr("zip artifacts are not supported"));
}

// ---- errors

TEST(Serverless, MissingHandlerIsAnErrorWithTheFunctionLine) {
  const auto result = load(
      "service: demo\n"
      "provider: {name: aws, runtime: python3.12}\n"
      "functions:\n"
      "  hello:\n"
      "    memorySize: 256\n"
      "  custom_runtime:\n"
      "    runtime: provided.al2023\n");
  const Diagnostic* d = find_diagnostic(result.errors, "hello", "handler");
  ASSERT_NE(d, nullptr) << describe(result);
  EXPECT_EQ(d->line, 4);
  EXPECT_THAT(d->message, HasSubstr("required property is missing"));
  // provided runtimes need no handler.
  EXPECT_EQ(find_diagnostic(result.errors, "custom_runtime", "handler"), nullptr) << describe(result);
  ASSERT_NE(find_function(result, "custom_runtime"), nullptr) << describe(result);
}

TEST(Serverless, MissingAndUnsupportedRuntimesAreErrorsWithTheirLine) {
  const auto missing = load(
      "service: demo\n"
      "provider: {name: aws}\n"
      "functions:\n"
      "  hello:\n"
      "    handler: handler.hello\n");
  const Diagnostic* d = find_diagnostic(missing.errors, "hello", "runtime");
  ASSERT_NE(d, nullptr) << describe(missing);
  EXPECT_EQ(d->line, 4);

  const auto unsupported = load(service("", "    runtime: java21\n"));
  const Diagnostic* u = find_diagnostic(unsupported.errors, "hello", "runtime");
  ASSERT_NE(u, nullptr) << describe(unsupported);
  EXPECT_EQ(u->line, 8);
  EXPECT_THAT(u->message, HasSubstr("runtime java21 is not supported by lambdad"));
}

TEST(Serverless, ServiceAndAwsProviderAreRequired) {
  const auto no_service = load("provider: {name: aws, runtime: python3.12}\nfunctions: {f: {handler: a.b}}\n");
  EXPECT_NE(find_diagnostic(no_service.errors, "", "service"), nullptr) << describe(no_service);

  const auto other = load("service: demo\nprovider:\n  name: azure\nfunctions: {f: {handler: a.b}}\n");
  const Diagnostic* d = find_diagnostic(other.errors, "provider", "name");
  ASSERT_NE(d, nullptr) << describe(other);
  EXPECT_EQ(d->line, 3);
  EXPECT_THAT(d->message, HasSubstr("azure is not supported"));

  const auto no_functions = load("service: demo\nprovider: {name: aws, runtime: python3.12}\n");
  EXPECT_NE(find_diagnostic(no_functions.errors, "", "functions"), nullptr) << describe(no_functions);
}

TEST(Serverless, UnknownKeysWarnButDoNotFail) {
  const auto result = load(service("  memorySise: 512\n  iam: {role: '${cf:roles.Arn}'}\n", "    handlr: typo\n"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  ASSERT_EQ(result.functions.size(), 1U);
  EXPECT_NE(find_diagnostic(result.warnings, "provider", "memorySise"), nullptr) << describe(result);
  EXPECT_NE(find_diagnostic(result.warnings, "hello", "handlr"), nullptr) << describe(result);
  EXPECT_EQ(result.warnings.size(), 2U) << describe(result);  // nothing about iam's ${cf:...}
}

TEST(Serverless, YamlSyntaxErrorsNameTheLine) {
  const auto result = load("service: demo\nprovider:\n  name: aws\n  runtime: [python3.12\nfunctions: {}\n");
  ASSERT_EQ(result.errors.size(), 1U) << describe(result);
  EXPECT_THAT(result.errors[0].message, HasSubstr("YAML syntax error"));
  EXPECT_GT(result.errors[0].line, 0);
  EXPECT_THAT(result.functions, IsEmpty());

  const auto duplicate = load(service("  runtime: nodejs20.x\n", ""));
  ASSERT_FALSE(duplicate.errors.empty());
  EXPECT_THAT(duplicate.errors[0].message, HasSubstr("duplicate key runtime"));
  EXPECT_EQ(duplicate.errors[0].line, 5);
}

TEST(Serverless, MissingFileIsAnErrorNotAnException) {
  const auto result = load_serverless(serverless_dir() / "does-not-exist.yml", {});
  ASSERT_EQ(result.errors.size(), 1U);
  EXPECT_THAT(result.errors[0].message, HasSubstr("no such file"));
  EXPECT_TRUE(load_serverless_text("", serverless_dir() / "serverless.yml", {}).errors.size() == 1U);
}

// ---- equivalence with SAM

TEST(Serverless, EquivalentFixtureMatchesTheSamTemplate) {
  const auto dir = serverless_dir() / "equivalent";
  const auto sls = load_serverless(dir / "serverless.yml", {});
  const auto sam = load_sam_template(dir / "template.yaml", {});
  ASSERT_TRUE(sls.errors.empty()) << describe(sls);
  ASSERT_TRUE(sam.errors.empty()) << describe(sam);
  EXPECT_THAT(sls.warnings, IsEmpty()) << describe(sls);
  ASSERT_EQ(sls.functions.size(), 2U);
  ASSERT_EQ(sam.functions.size(), 2U);
  for (const FunctionConfig& s : sls.functions) {
    auto it = std::find_if(sam.functions.begin(), sam.functions.end(),
                           [&](const FunctionConfig& f) { return f.name == s.name; });
    ASSERT_NE(it, sam.functions.end()) << s.name;
    EXPECT_EQ(s.runtime, it->runtime) << s.name;
    EXPECT_EQ(s.handler, it->handler) << s.name;
    EXPECT_EQ(s.memory_mb, it->memory_mb) << s.name;
    EXPECT_EQ(s.timeout_seconds, it->timeout_seconds) << s.name;
    EXPECT_EQ(s.environment, it->environment) << s.name;
    EXPECT_EQ(s.code_dir, it->code_dir) << s.name;
  }
  EXPECT_EQ(sls.functions[0].code_dir, std::filesystem::weakly_canonical(dir));
}

}  // namespace
}  // namespace lambdad::config
