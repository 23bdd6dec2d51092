// The control routes' AWS JSON (docs/decisions/016): what parsing a request refuses, with Lambda's
// messages word for word, and what it makes of a good one; and the shapes the registry's views are
// rendered in (FunctionConfiguration full and listed, GetFunction, list pages and their markers,
// aliases, concurrency, event invoke configuration, account settings). No registry is involved:
// the views point at records built here.
#include "control_json.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/common/base64.hpp"
#include "lambdad/observability/platform_log.hpp"

namespace lambdad::invoke_api::control_json {
namespace {

namespace cp = control_plane;
using nlohmann::json;
using ::testing::HasSubstr;

const Account kAccount{"us-east-1", "123456789012"};

json create_body(const std::string& name = "F") {
  return {{"FunctionName", name},
          {"Runtime", "python3.12"},
          {"Role", "arn:aws:iam::123456789012:role/r"},
          {"Handler", "app.handler"},
          {"Code", {{"ZipFile", base64::encode("PK zip bytes")}}}};
}

template <typename T>
Error error_of(const Result<T>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? Error{} : r.error();
}

// The error's exception name and its message, word for word.
void expect_error(const Error& e, std::string_view type, std::string_view message) {
  EXPECT_EQ(e.type, type);
  EXPECT_EQ(e.message, message);
}

// --- parsing ----------------------------------------------------------------------------------

TEST(ControlJsonTest, ACreateRequestBecomesTypedValues) {
  auto body = create_body();
  body["Timeout"] = 30;
  body["MemorySize"] = 256;
  body["EphemeralStorage"] = {{"Size", 1024}};
  body["Environment"] = {{"Variables", {{"GREETING", "hi"}}}};
  body["Architectures"] = {"arm64"};
  body["Tags"] = {{"team", "a"}, {"count", 3}};
  body["Publish"] = true;
  body["TracingConfig"] = {{"Mode", "Active"}};
  body["Layers"] = {"arn:aws:lambda:us-east-1:123456789012:layer:l:1", 7};
  body["DeadLetterConfig"] = {{"TargetArn", "arn:aws:sqs:us-east-1:123456789012:dlq"}};
  auto r = parse_create_function(body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "F");
  EXPECT_EQ(r->zip, "PK zip bytes");
  EXPECT_EQ(r->settings.runtime, "python3.12");
  EXPECT_EQ(r->settings.handler, "app.handler");
  EXPECT_EQ(r->settings.role, "arn:aws:iam::123456789012:role/r");
  EXPECT_EQ(r->settings.timeout_seconds, 30);
  EXPECT_EQ(r->settings.memory_mb, 256);
  EXPECT_EQ(r->settings.ephemeral_storage_mb, 1024);
  EXPECT_EQ(r->settings.environment, (std::map<std::string, std::string>{{"GREETING", "hi"}}));
  EXPECT_EQ(r->architecture, "arm64");
  EXPECT_EQ(r->tags, (std::map<std::string, std::string>{{"team", "a"}})) << "tags that are not strings are dropped";
  EXPECT_TRUE(r->publish);
  EXPECT_EQ(r->settings.tracing, config::TracingMode::kActive);
  EXPECT_EQ(r->settings.layers, std::vector<std::string>{"arn:aws:lambda:us-east-1:123456789012:layer:l:1"});
  ASSERT_TRUE(r->settings.dead_letter && *r->settings.dead_letter);
  EXPECT_EQ((*r->settings.dead_letter)->type, "SQS");
  EXPECT_FALSE(r->settings.description) << "absent members stay absent";
  EXPECT_FALSE(r->settings.logging);

  body["DeadLetterConfig"] = {{"TargetArn", ""}};
  auto removed = parse_create_function(body);
  ASSERT_TRUE(removed.ok());
  ASSERT_TRUE(removed->settings.dead_letter.has_value()) << "an empty TargetArn removes the dead-letter queue";
  EXPECT_FALSE(removed->settings.dead_letter->has_value());
}

TEST(ControlJsonTest, CreateRejectsWhatLambdaRejects) {
  auto req = create_body();
  req["Role"] = "nope";
  expect_error(error_of(parse_create_function(req)), "ValidationException",
               "1 validation error detected: Value 'nope' at 'role' failed to satisfy constraint: Member must satisfy "
               "regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  req.erase("Role");
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "1 validation error detected: Value 'null' at 'role' failed to satisfy constraint: Member must not be null");

  req = create_body();
  req["Runtime"] = "python2.7";
  EXPECT_EQ(error_of(parse_create_function(req)).type, "InvalidParameterValueException");
  req["Runtime"] = "java21";
  expect_error(error_of(parse_create_function(req)), "InvalidParameterValueException",
               "The runtime parameter of java21 is not one lambdad can run (python3.9 to python3.14, nodejs18.x to "
               "nodejs24.x, provided.al2023, provided.al2, provided).");
  req["Runtime"] = "python3.8";  // Lambda's message, from the one table of blocked runtimes
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "The runtime parameter of python3.8 is no longer supported for creating or updating AWS Lambda "
            "functions. We recommend you use the new runtime (python3.13) while creating or updating functions.");
  EXPECT_THAT(error_of(parse_update_configuration({{"Runtime", "nodejs16.x"}})).message,
              HasSubstr("The runtime parameter of nodejs16.x is no longer supported"));
  req["Runtime"] = 3;
  EXPECT_EQ(error_of(parse_create_function(req)).message, "Runtime must be a string.");

  req = create_body();
  req["Code"] = {{"S3Bucket", "b"}, {"S3Key", "k"}};
  expect_error(error_of(parse_create_function(req)), "InvalidParameterValueException",
               "lambdad cannot fetch code from S3 (Code.S3Bucket / S3Key): there is no S3 here. Upload the zip itself "
               "(Code.ZipFile, or --zip-file fileb://function.zip with the AWS CLI).");
  req["Code"] = {{"ImageUri", "123456789012.dkr.ecr.us-east-1.amazonaws.com/f:latest"}};
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "lambdad runs functions from zip archives only; container images (ImageUri) need a registry.");
  req["Code"] = json::object();
  EXPECT_EQ(error_of(parse_create_function(req)).message, "Please provide a source for function code (Code.ZipFile).");
  req["Code"] = {{"ZipFile", "not base64!"}};
  EXPECT_EQ(error_of(parse_create_function(req)).message, "Code.ZipFile is not valid base64.");
  req = create_body();
  req["PackageType"] = "Image";
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "lambdad runs functions from zip archives only; PackageType Image needs a container registry.");

  req = create_body();
  req["Timeout"] = 901;
  expect_error(error_of(parse_create_function(req)), "ValidationException",
               "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have "
               "value less than or equal to 900");
  req["Timeout"] = "ten";
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "1 validation error detected: Value '\"ten\"' at 'timeout' failed to satisfy constraint: Member must be "
            "a number");
  req = create_body();
  req["MemorySize"] = 127;
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "1 validation error detected: Value '127' at 'memorySize' failed to satisfy constraint: Member must have "
            "value greater than or equal to 128");
  req = create_body();
  req["EphemeralStorage"] = {{"Size", 10241}};
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "1 validation error detected: Value '10241' at 'ephemeralStorage.size' failed to satisfy constraint: "
            "Member must have value less than or equal to 10240");

  req = create_body();
  req["Environment"]["Variables"]["AWS_REGION"] = "x";
  req["Environment"]["Variables"]["LAMBDA_TASK_ROOT"] = "y";
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided contains reserved keys that are currently not supported for modification. Reserved keys used "
            "in this request: AWS_REGION, LAMBDA_TASK_ROOT");
  req = create_body();
  // Keys have two characters at least (Lambda's pattern [a-zA-Z]([a-zA-Z0-9_])+).
  req["Environment"]["Variables"] = {{"KK", std::string(4087, 'v')}};  // {"KK":"v…"}: 4,096 bytes as JSON
  EXPECT_TRUE(parse_create_function(req).ok());
  req["Environment"]["Variables"] = {{"KK", std::string(4088, 'v')}};
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided exceeded the 4KB limit. String measured: {\"KK\":\"" + std::string(4088, 'v') + "\"}");
  EXPECT_EQ(error_of(parse_create_function(req)).type, "InvalidParameterValueException");
  req = create_body();
  req["Environment"]["Variables"]["NN"] = 1;
  EXPECT_EQ(error_of(parse_create_function(req)).message, "The value of environment variable NN must be a string.");

  req = create_body("bad name!");
  EXPECT_EQ(error_of(parse_create_function(req)).message,
            "1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length between 1 and 64");
}

TEST(ControlJsonTest, SettingsOfBothCreateAndUpdateAreCheckedAlike) {
  EXPECT_EQ(error_of(parse_update_configuration({{"DeadLetterConfig",
                                                  {{"TargetArn", "arn:aws:lambda:us-east-1:123456789012:function:f"}}}}))
                .message,
            "The provided target arn arn:aws:lambda:us-east-1:123456789012:function:f is not a valid SQS queue or SNS "
            "topic ARN.");
  EXPECT_EQ(error_of(parse_update_configuration({{"TracingConfig", {{"Mode", "Sometimes"}}}})).message,
            "1 validation error detected: Value 'Sometimes' at 'tracingConfig.mode' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Active, PassThrough]");
  json six_layers = json::array();
  for (int i = 0; i < 6; ++i) six_layers.push_back(fmt::format("arn:aws:lambda:us-east-1:123456789012:layer:l{}:1", i));
  EXPECT_EQ(error_of(parse_update_configuration({{"Layers", six_layers}})).message, "Cannot reference more than 5 layers.");
  EXPECT_EQ(error_of(parse_update_configuration(json::array())).message, "The request body must be a JSON object.");

  auto update = parse_update_configuration({{"RevisionId", "r1"}, {"Description", "d"}, {"Handler", "h.h"}});
  ASSERT_TRUE(update.ok());
  EXPECT_EQ(update->revision_id, "r1");
  EXPECT_EQ(update->settings.description, "d");
  EXPECT_EQ(update->settings.handler, "h.h");
  EXPECT_FALSE(update->settings.timeout_seconds);
}

TEST(ControlJsonTest, CapacityProviderConfigIsTheLongFormOfLambdasModel) {
  const std::string arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp";
  auto req = create_body();
  req["CapacityProviderConfig"] = {{"LambdaManagedInstancesCapacityProviderConfig",
                                    {{"CapacityProviderArn", arn},
                                     {"PerExecutionEnvironmentMaxConcurrency", 64},
                                     {"ExecutionEnvironmentMemoryGiBPerVCpu", 4.0}}}};
  auto created = parse_create_function(req);
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_TRUE(created->settings.managed_instances);
  EXPECT_EQ(created->settings.managed_instances->capacity_provider_arn, arn);
  EXPECT_EQ(created->settings.managed_instances->per_environment_max_concurrency, 64);
  EXPECT_DOUBLE_EQ(created->settings.managed_instances->memory_gib_per_vcpu, 4.0);
  EXPECT_FALSE(parse_create_function(create_body())->settings.managed_instances);

  auto update = parse_update_configuration(
      {{"CapacityProviderConfig", {{"LambdaManagedInstancesCapacityProviderConfig", {{"CapacityProviderArn", arn}}}}}});
  ASSERT_TRUE(update.ok()) << update.error().message;
  EXPECT_FALSE(update->settings.managed_instances->per_environment_max_concurrency);
  EXPECT_DOUBLE_EQ(update->settings.managed_instances->memory_gib_per_vcpu, 2.0);

  const std::string at = "capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig";
  auto refused = [](const json& cpc) { return error_of(parse_update_configuration({{"CapacityProviderConfig", cpc}})); };
  expect_error(refused({{"Arn", arn}}), "ValidationException",
               "1 validation error detected: Value 'null' at '" + at + "' failed to satisfy constraint: Member must not "
               "be null");
  expect_error(refused({{"LambdaManagedInstancesCapacityProviderConfig", json::object()}}), "ValidationException",
               "1 validation error detected: Value 'null' at '" + at + ".capacityProviderArn' failed to satisfy "
               "constraint: Member must not be null");
  expect_error(refused({{"LambdaManagedInstancesCapacityProviderConfig", {{"CapacityProviderArn", "cp"}}}}),
               "ValidationException",
               "1 validation error detected: Value 'cp' at '" + at + ".capacityProviderArn' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|"
               "(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:capacity-provider:[a-zA-Z0-9-_]+");
  expect_error(refused({{"LambdaManagedInstancesCapacityProviderConfig",
                         {{"CapacityProviderArn", arn}, {"PerExecutionEnvironmentMaxConcurrency", 1601}}}}),
               "ValidationException",
               "1 validation error detected: Value '1601' at '" + at + ".perExecutionEnvironmentMaxConcurrency' failed "
               "to satisfy constraint: Member must have value less than or equal to 1600");
  expect_error(refused({{"LambdaManagedInstancesCapacityProviderConfig",
                         {{"CapacityProviderArn", arn}, {"ExecutionEnvironmentMemoryGiBPerVCpu", 1.5}}}}),
               "ValidationException",
               "1 validation error detected: Value '1.5' at '" + at + ".executionEnvironmentMemoryGiBPerVCpu' failed "
               "to satisfy constraint: Member must have value greater than or equal to 2.0");
}

TEST(ControlJsonTest, DescriptionEnvironmentKeysAndArchitecturesAreLambdasModel) {
  auto req = create_body();
  req["Description"] = std::string(256, 'd');
  EXPECT_TRUE(parse_create_function(req).ok()) << "256 characters are allowed";
  req["Description"] = std::string(257, 'd');
  expect_error(error_of(parse_create_function(req)), "ValidationException",
               "1 validation error detected: Value '" + std::string(257, 'd') +
                   "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256");
  expect_error(error_of(parse_update_configuration({{"Description", std::string(300, 'x')}})), "ValidationException",
               "1 validation error detected: Value '" + std::string(300, 'x') +
                   "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256");
  req["Description"] = std::string(128, 'd') + "\xc3\xa9" + std::string(127, 'd');  // 256 characters, 257 bytes
  EXPECT_TRUE(parse_create_function(req).ok()) << "characters are counted, not bytes";

  const std::string bad_key =
      "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must "
      "satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]";
  for (const std::string key : {"A", "1ABC", "_ABC", "MY-KEY", "MY KEY", ""}) {
    req = create_body();
    req["Environment"]["Variables"][key] = "v";
    expect_error(error_of(parse_create_function(req)), "ValidationException", bad_key);
  }
  // The model's check comes before the reserved keys'.
  req["Environment"]["Variables"]["AWS_REGION"] = "x";
  EXPECT_EQ(error_of(parse_create_function(req)).message, bad_key);
  expect_error(error_of(parse_update_configuration({{"Environment", {{"Variables", {{"9LIVES", "v"}}}}}})),
               "ValidationException", bad_key);
  req = create_body();
  req["Environment"]["Variables"] = {{"Ab", "v"}, {"a_1_B", "v"}};
  EXPECT_TRUE(parse_create_function(req).ok());

  req = create_body();
  req["Architectures"] = {"arm64"};
  EXPECT_EQ(parse_create_function(req)->architecture, "arm64");
  req["Architectures"] = {"x86"};
  expect_error(error_of(parse_create_function(req)), "ValidationException",
               "1 validation error detected: Value '[x86]' at 'architectures' failed to satisfy constraint: Member "
               "must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be "
               "null]");
  req["Architectures"] = {"x86_64", "arm64"};
  expect_error(error_of(parse_create_function(req)), "ValidationException",
               "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy "
               "constraint: Member must have length less than or equal to 1");
  req["Architectures"] = json::array();
  expect_error(error_of(parse_create_function(req)), "ValidationException",
               "1 validation error detected: Value '[]' at 'architectures' failed to satisfy constraint: Member must "
               "have length greater than or equal to 1");
  json code{{"ZipFile", base64::encode("PK")}, {"Architectures", {"ppc64le"}}};
  EXPECT_EQ(error_of(parse_update_code(code)).type, "ValidationException");
}

TEST(ControlJsonTest, LoggingConfigMembersAreLambdasEnums) {
  expect_error(error_of(parse_update_configuration({{"LoggingConfig", {{"LogFormat", "XML"}}}})),
               "ValidationException",
               "1 validation error detected: Value 'XML' at 'loggingConfig.logFormat' failed to satisfy constraint: "
               "Member must satisfy enum value set: [JSON, Text]");
  EXPECT_EQ(error_of(parse_update_configuration({{"LoggingConfig", {{"ApplicationLogLevel", "LOUD"}}}})).message,
            "1 validation error detected: Value 'LOUD' at 'loggingConfig.applicationLogLevel' failed to satisfy "
            "constraint: Member must satisfy enum value set: [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]");
  EXPECT_EQ(error_of(parse_update_configuration({{"LoggingConfig", {{"SystemLogLevel", "TRACE"}}}})).message,
            "1 validation error detected: Value 'TRACE' at 'loggingConfig.systemLogLevel' failed to satisfy "
            "constraint: Member must satisfy enum value set: [DEBUG, INFO, WARN]");

  auto ok = parse_update_configuration(
      {{"LoggingConfig", {{"LogFormat", "JSON"}, {"SystemLogLevel", "WARN"}, {"LogGroup", "/custom/group"}}}});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_TRUE(ok->settings.logging);
  const auto& l = *ok->settings.logging;
  EXPECT_EQ(l.log_format, "JSON");
  EXPECT_EQ(l.system_log_level, "WARN");
  EXPECT_EQ(l.log_group, "/custom/group");
  EXPECT_FALSE(l.application_log_level);
  EXPECT_TRUE(l.names_a_level);
  // Whether a level may go with Text depends on the function's format: the registry decides.
  auto text = parse_update_configuration({{"LoggingConfig", {{"LogFormat", "Text"}}}});
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(text->settings.logging->names_a_level);
}

TEST(ControlJsonTest, UpdateCodeAndPublishTakeTheirMembers) {
  auto code = parse_update_code({{"ZipFile", base64::encode("zip")}, {"DryRun", true}, {"RevisionId", "r"},
                                 {"Architectures", {"arm64"}}, {"Publish", true}});
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(code->zip, "zip");
  EXPECT_TRUE(code->dry_run);
  EXPECT_TRUE(code->publish);
  EXPECT_EQ(code->revision_id, "r");
  EXPECT_EQ(code->architecture, "arm64");
  EXPECT_EQ(error_of(parse_update_code({{"S3Bucket", "b"}})).type, "InvalidParameterValueException");

  auto publish = parse_publish_version({{"CodeSha256", "abc="}, {"Description", "v1"}});
  ASSERT_TRUE(publish.ok());
  EXPECT_EQ(publish->code_sha256, "abc=");
  EXPECT_EQ(publish->description, "v1");
  EXPECT_FALSE(parse_publish_version(json::object())->description) << "absent: the registry uses $LATEST's";
}

TEST(ControlJsonTest, ListRequestsCheckFunctionVersionAndMaxItems) {
  expect_error(error_of(parse_list_functions("invalid", "", std::nullopt)), "ValidationException",
               "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: Member "
               "must satisfy enum value set: [ALL]");
  EXPECT_FALSE(parse_list_functions("all", "", std::nullopt).ok()) << "the enum is case-sensitive";
  auto all = parse_list_functions("ALL", "m", 7);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->all_versions);
  EXPECT_EQ(all->marker, "m");
  EXPECT_EQ(all->page, 7u);
  EXPECT_EQ(parse_list_functions(std::nullopt, "", 500)->page, 50u) << "at most 50 a page";
  EXPECT_FALSE(parse_list_functions(std::nullopt, "", std::nullopt)->all_versions);
  EXPECT_EQ(error_of(parse_list_functions(std::nullopt, "", 0)).message,
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value "
            "greater than or equal to 1");
  EXPECT_EQ(error_of(parse_list_functions(std::nullopt, "", 10001)).message,
            "1 validation error detected: Value '10001' at 'maxItems' failed to satisfy constraint: Member must have "
            "value less than or equal to 10000");
  EXPECT_EQ(error_of(parse_list_versions("", 0)).message,
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value "
            "between 1 and 10000");
  EXPECT_EQ(parse_list_versions("", std::nullopt)->page, 50u);
}

TEST(ControlJsonTest, ConcurrencyEventInvokeConfigAndAliasRequests) {
  EXPECT_EQ(error_of(parse_put_concurrency(json::object())).message,
            "1 validation error detected: Value 'null' at 'reservedConcurrentExecutions' failed to satisfy "
            "constraint: Member must not be null");
  EXPECT_EQ(error_of(parse_put_concurrency({{"ReservedConcurrentExecutions", -1}})).message,
            "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0");
  EXPECT_EQ(parse_put_concurrency({{"ReservedConcurrentExecutions", 5}}).value(), 5);

  EXPECT_EQ(error_of(parse_event_invoke_config({{"MaximumRetryAttempts", 3}})).message,
            "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member "
            "must have value less than or equal to 2");
  EXPECT_EQ(error_of(parse_event_invoke_config({{"MaximumEventAgeInSeconds", 59}})).message,
            "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
            "Member must have value greater than or equal to 60");
  EXPECT_EQ(error_of(parse_event_invoke_config({{"DestinationConfig", {{"OnFailure", {{"Destination", "nope"}}}}}}))
                .message,
            "The destination ARN nope is not a Lambda function, SQS queue, SNS topic, EventBridge event bus or S3 "
            "bucket ARN.");
  auto change = parse_event_invoke_config(
      {{"MaximumRetryAttempts", 0},
       {"DestinationConfig",
        {{"OnSuccess", json::object()}, {"OnFailure", {{"Destination", "arn:aws:sqs:us-east-1:123456789012:q"}}}}}});
  ASSERT_TRUE(change.ok()) << change.error().message;
  EXPECT_EQ(change->maximum_retry_attempts, 0);
  EXPECT_FALSE(change->maximum_event_age_seconds);
  ASSERT_TRUE(change->on_success.has_value());
  EXPECT_FALSE(change->on_success->has_value()) << "OnSuccess {} clears the destination";
  ASSERT_TRUE(change->on_failure && *change->on_failure);
  EXPECT_EQ((*change->on_failure)->type, "SQS");

  EXPECT_EQ(error_of(parse_create_alias({{"Name", "123"}, {"FunctionVersion", "1"}})).message,
            "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  EXPECT_EQ(error_of(parse_create_alias({{"Name", "live"}, {"FunctionVersion", "one"}})).message,
            "1 validation error detected: Value 'one' at 'functionVersion' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: (\\$LATEST|[0-9]+)");
  auto alias = parse_create_alias({{"Name", "live"}, {"FunctionVersion", "$LATEST"}, {"Description", "d"}});
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->name, "live");
  EXPECT_EQ(alias->function_version, "$LATEST");
  EXPECT_EQ(alias->description, "d");
  expect_error(error_of(parse_update_alias({{"FunctionVersion", "abc"}})), "ValidationException",
               "1 validation error detected: Value 'abc' at 'functionVersion' failed to satisfy constraint: Member "
               "must satisfy regular expression pattern: (\\$LATEST|[0-9]+)");
  EXPECT_TRUE(parse_update_alias({{"FunctionVersion", "$LATEST"}}).ok());
  EXPECT_TRUE(parse_update_alias({{"Description", "only"}}).ok());
  auto update = parse_update_alias({{"FunctionVersion", "2"}, {"RevisionId", "r"}});
  EXPECT_EQ(update->function_version, "2");
  EXPECT_EQ(update->revision_id, "r");
  EXPECT_FALSE(update->description);
}

// --- rendering --------------------------------------------------------------------------------

class ControlRenderTest : public ::testing::Test {
 protected:
  cp::FunctionRecord& add(const std::string& name, int versions = 0) {
    cp::FunctionRecord fn;
    fn.latest.config.name = fn.latest.config.logical_id = name;
    fn.latest.config.runtime = "python3.12";
    fn.latest.config.handler = "app.handler";
    fn.latest.code_hex = "00ff";  // an uploaded zip: no directory to digest
    fn.latest.code_sha256 = "c2hhMjU2";
    fn.latest.code_size = 123;
    fn.latest.role = "arn:aws:iam::123456789012:role/r";
    fn.latest.revision_id = "rev-" + name;
    fn.latest.last_modified = "2026-11-24T10:30:00.000+0000";
    for (int n = 1; n <= versions; ++n) fn.versions.emplace(n, fn.latest);
    return records_[name] = std::move(fn);
  }
  cp::VersionView view(const std::string& name, const std::string& version = "$LATEST") {
    const auto& fn = records_.at(name);
    return {&fn, version == "$LATEST" ? &fn.latest : &fn.versions.at(std::stoi(version)), version};
  }
  std::vector<cp::VersionView> all(bool with_versions) {
    std::vector<cp::VersionView> out;
    for (const auto& [name, fn] : records_) {
      out.push_back(view(name));
      if (with_versions) {
        for (const auto& [n, v] : fn.versions) out.push_back(view(name, std::to_string(n)));
      }
    }
    return out;
  }
  std::map<std::string, cp::FunctionRecord> records_;
};

TEST_F(ControlRenderTest, AFunctionConfigurationInFull) {
  auto& fn = add("F", 1);
  fn.state = cp::FunctionState::kPending;
  fn.state_reason = "The function is being created.";
  fn.state_reason_code = "Creating";
  fn.latest.config.environment = {{"A", "1"}};
  const json pending = configuration(view("F"), kAccount, false);
  EXPECT_EQ(pending, json::parse(R"({
    "FunctionName": "F", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:F",
    "Runtime": "python3.12", "Role": "arn:aws:iam::123456789012:role/r", "Handler": "app.handler",
    "CodeSize": 123, "Description": "", "Timeout": 3, "MemorySize": 128,
    "LastModified": "2026-11-24T10:30:00.000+0000", "CodeSha256": "c2hhMjU2", "Version": "$LATEST",
    "Environment": {"Variables": {"A": "1"}}, "TracingConfig": {"Mode": "PassThrough"}, "RevisionId": "rev-F",
    "State": "Pending", "StateReason": "The function is being created.", "StateReasonCode": "Creating",
    "PackageType": "Zip", "Architectures": ["x86_64"], "EphemeralStorage": {"Size": 512},
    "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
    "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/F"},
    "RuntimeVersionConfig": {"RuntimeVersionArn": ")" +
                                           observability::runtime_version_arn("python3.12", "us-east-1") + R"("}})"))
      << "Pending shows no LastUpdateStatus";

  fn.state = cp::FunctionState::kActive;
  fn.state_reason.clear();
  fn.state_reason_code.clear();
  fn.last_update = cp::UpdateStatus::kInProgress;
  fn.last_update_reason = "The function is being updated.";
  const json updating = configuration(view("F"), kAccount, false);
  EXPECT_EQ(updating["State"], "Active");
  EXPECT_EQ(updating["LastUpdateStatus"], "InProgress");
  EXPECT_EQ(updating["LastUpdateStatusReason"], "The function is being updated.");
  EXPECT_FALSE(updating.contains("StateReason"));

  // A published version is Active and Successful whatever $LATEST is doing; its ARN names it.
  const json v1 = configuration(view("F", "1"), kAccount, true);
  EXPECT_EQ(v1["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:F:1");
  EXPECT_EQ(v1["Version"], "1");
  EXPECT_EQ(v1["State"], "Active");
  EXPECT_EQ(v1["LastUpdateStatus"], "Successful");
  EXPECT_FALSE(v1.contains("LastUpdateStatusReason"));
  EXPECT_EQ(configuration(view("F"), kAccount, true)["FunctionArn"],
            "arn:aws:lambda:us-east-1:123456789012:function:F:$LATEST");
}

TEST_F(ControlRenderTest, CapacityProviderConfigIsShownInItsLongForm) {
  auto& fn = add("F");
  EXPECT_FALSE(configuration(view("F"), kAccount, false).contains("CapacityProviderConfig"));
  config::ManagedInstancesConfig managed;
  managed.capacity_provider_arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp";
  managed.max_environments = 4;  // FunctionScalingConfig: not part of the configuration
  fn.latest.config.managed_instances = managed;
  EXPECT_EQ(configuration(view("F"), kAccount, false)["CapacityProviderConfig"], json::parse(R"({
    "LambdaManagedInstancesCapacityProviderConfig": {
      "CapacityProviderArn": "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp",
      "ExecutionEnvironmentMemoryGiBPerVCpu": 2.0}})"));
  fn.latest.config.managed_instances->per_environment_max_concurrency = 32;
  EXPECT_EQ(configuration(view("F"), kAccount, false)["CapacityProviderConfig"]["LambdaManagedInstancesCapacityProviderConfig"]
                ["PerExecutionEnvironmentMaxConcurrency"],
            32);
}

TEST_F(ControlRenderTest, ListedFunctionsLeaveOutStateAndUpdateStatusThatGetFunctionConfigurationShows) {
  add("A", 1);
  for (const bool with_versions : {false, true}) {
    ListRequest request{with_versions, "", 50};
    const auto listed = function_page(all(with_versions), request, kAccount).value()["Functions"];
    ASSERT_EQ(listed.size(), with_versions ? 2u : 1u);
    for (const auto& f : listed) {
      for (const auto* key : {"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
                              "LastUpdateStatusReasonCode"}) {
        EXPECT_FALSE(f.contains(key)) << key << " in " << f.dump();
      }
      EXPECT_EQ(f["LoggingConfig"], json({{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/A"}}));
    }
  }
  const auto got = configuration(view("A"), kAccount, false);
  EXPECT_EQ(got["State"], "Active");
  EXPECT_EQ(got["LastUpdateStatus"], "Successful");
  EXPECT_EQ(got["LoggingConfig"], json({{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/A"}}));
  EXPECT_EQ(configuration(view("A", "1"), kAccount, true)["State"], "Active");
}

TEST_F(ControlRenderTest, RuntimeVersionArnIsTheOneInitStartPrints) {
  add("A");
  for (const bool qualified : {false, true}) {
    EXPECT_EQ(configuration(view("A"), kAccount, qualified)["RuntimeVersionConfig"],
              json({{"RuntimeVersionArn", observability::runtime_version_arn("python3.12", "us-east-1")}}));
  }
  EXPECT_THAT(observability::init_start_line("python3.12", "us-east-1"),
              HasSubstr(observability::runtime_version_arn("python3.12", "us-east-1")));
}

TEST_F(ControlRenderTest, LoggingConfigShowsJsonLevelsWithTheirDefault) {
  config::FunctionConfig c;
  c.name = "Tmpl";
  c.logging.log_format = "JSON";
  c.logging.application_log_level = "DEBUG";
  EXPECT_EQ(logging_config(c), json({{"LogFormat", "JSON"}, {"ApplicationLogLevel", "DEBUG"}, {"SystemLogLevel", "INFO"},
                                     {"LogGroup", "/aws/lambda/Tmpl"}}));
  c.logging = config::LoggingConfig{"JSON", "", "WARN", "/custom/group"};
  EXPECT_EQ(logging_config(c), json({{"LogFormat", "JSON"}, {"ApplicationLogLevel", "INFO"}, {"SystemLogLevel", "WARN"},
                                     {"LogGroup", "/custom/group"}}));
  c.logging = config::LoggingConfig{"Text", "", "", "/custom/group"};
  EXPECT_EQ(logging_config(c), json({{"LogFormat", "Text"}, {"LogGroup", "/custom/group"}}));
}

TEST_F(ControlRenderTest, ListingPagesThroughEveryFunctionOnce) {
  for (const auto* name : {"A", "B", "C", "D", "E"}) add(name, std::string(name) == "C" ? 1 : 0);
  std::vector<std::string> names;
  std::string marker;
  for (int page = 0; page < 10; ++page) {
    auto r = function_page(all(false), ListRequest{false, marker, 2}, kAccount);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(r.value()["Functions"].size(), 2u);
    for (const auto& f : r.value()["Functions"]) names.push_back(f["FunctionName"]);
    if (!r.value().contains("NextMarker")) break;
    marker = r.value()["NextMarker"];
  }
  EXPECT_EQ(names, (std::vector<std::string>{"A", "B", "C", "D", "E"}));
  auto every = function_page(all(true), ListRequest{true, "", 50}, kAccount).value()["Functions"];
  ASSERT_EQ(every.size(), 6u);
  EXPECT_EQ(every[2]["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:C:$LATEST");
  EXPECT_EQ(every[3]["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:C:1");
  expect_error(error_of(function_page(all(false), ListRequest{false, "bogus", 50}, kAccount)),
               "InvalidParameterValueException",
               "Invalid marker: bogus");

  auto first = version_page({view("C"), view("C", "1")}, ListRequest{true, "", 1}, kAccount).value();
  ASSERT_EQ(first["Versions"].size(), 1u);
  EXPECT_EQ(first["Versions"][0]["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:C:$LATEST");
  EXPECT_EQ(first["Versions"][0]["State"], "Active") << "versions are listed in full";
  auto second = version_page({view("C"), view("C", "1")}, ListRequest{true, first["NextMarker"].get<std::string>(), 1}, kAccount).value();
  EXPECT_EQ(second["Versions"][0]["Version"], "1");
  EXPECT_FALSE(second.contains("NextMarker"));
}

TEST_F(ControlRenderTest, GetFunctionAliasesConcurrencyEventInvokeConfigAndAccountSettings) {
  auto& fn = add("F");
  const cp::FunctionView plain{view("F"), "file:///state/functions/F/code/00ff.zip"};
  EXPECT_EQ(function(plain, kAccount, false),
            json({{"Configuration", configuration(view("F"), kAccount, false)},
                  {"Code", {{"RepositoryType", "S3"}, {"Location", "file:///state/functions/F/code/00ff.zip"}}}}));
  fn.tags = {{"team", "a"}};
  fn.reserved = 4;
  const json tagged = function(plain, kAccount, false);
  EXPECT_EQ(tagged["Tags"], json({{"team", "a"}}));
  EXPECT_EQ(tagged["Concurrency"], json({{"ReservedConcurrentExecutions", 4}}));

  const cp::AliasView live{"live", "1", "d", "rev"};
  EXPECT_EQ(alias(live, "F", kAccount), json({{"AliasArn", "arn:aws:lambda:us-east-1:123456789012:function:F:live"},
                                              {"Name", "live"},
                                              {"FunctionVersion", "1"},
                                              {"Description", "d"},
                                              {"RevisionId", "rev"}}));
  EXPECT_EQ(aliases({live}, "F", kAccount), json({{"Aliases", {alias(live, "F", kAccount)}}}));
  EXPECT_EQ(aliases({}, "F", kAccount), json({{"Aliases", json::array()}}));

  EXPECT_EQ(concurrency(std::nullopt), json::object());
  EXPECT_EQ(concurrency(7), json({{"ReservedConcurrentExecutions", 7}}));

  cp::EventInvokeConfigView e{config::EventInvokeConfig{}, 1764000000.5};
  e.config.maximum_retry_attempts = 1;
  e.config.maximum_event_age_seconds = 600;
  e.config.on_failure = config::EventDestination{"SQS", "arn:aws:sqs:us-east-1:123456789012:q"};
  EXPECT_EQ(event_invoke_config(e, "arn:aws:lambda:us-east-1:123456789012:function:F:$LATEST"),
            json({{"LastModified", 1764000000.5},
                  {"FunctionArn", "arn:aws:lambda:us-east-1:123456789012:function:F:$LATEST"},
                  {"MaximumRetryAttempts", 1},
                  {"MaximumEventAgeInSeconds", 600},
                  {"DestinationConfig",
                   {{"OnSuccess", json::object()},
                    {"OnFailure", {{"Destination", "arn:aws:sqs:us-east-1:123456789012:q"}}}}}}));

  cp::AccountSettings s;
  s.concurrent_executions = 1000;
  s.unreserved_concurrent_executions = 100;
  s.total_code_size = 4096;
  s.function_count = 2;
  EXPECT_EQ(account_settings(s), json({{"AccountLimit",
                                        {{"TotalCodeSize", 80530636800LL},
                                         {"CodeSizeUnzipped", 262144000},
                                         {"CodeSizeZipped", 52428800},
                                         {"ConcurrentExecutions", 1000},
                                         {"UnreservedConcurrentExecutions", 100}}},
                                       {"AccountUsage", {{"TotalCodeSize", 4096}, {"FunctionCount", 2}}}}));
}

TEST(ControlJsonTest, FunctionUrlRequestsAreCheckedAsLambdaDoes) {
  auto ok = parse_create_function_url(json::parse(
      R"({"AuthType":"AWS_IAM","InvokeMode":"RESPONSE_STREAM","Cors":{"AllowOrigins":["*"],"MaxAge":0,"AllowCredentials":true}})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->auth_type, config::FunctionUrl::AuthType::kAwsIam);
  EXPECT_EQ(ok->invoke_mode, config::FunctionUrl::InvokeMode::kResponseStream);
  ASSERT_TRUE(ok->cors);
  EXPECT_EQ(ok->cors->allow_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(ok->cors->max_age_seconds, 0);
  EXPECT_TRUE(ok->cors->allow_credentials);
  EXPECT_TRUE(parse_update_function_url(json::object()).ok()) << "an update may change nothing";

  auto message = [](const Result<cp::FunctionUrlChange>& r) { return r.ok() ? std::string() : r.error().message; };
  EXPECT_EQ(message(parse_create_function_url(json::object())),
            "1 validation error detected: Value 'null' at 'authType' failed to satisfy constraint: Member must not be null");
  EXPECT_EQ(message(parse_create_function_url(json::parse(R"({"AuthType":"OPEN"})"))),
            "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint: Member must satisfy "
            "enum value set: [AWS_IAM, NONE]");
  EXPECT_EQ(message(parse_update_function_url(json::parse(R"({"InvokeMode":"UNKNOWN"})"))),
            "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy constraint: Member must "
            "satisfy enum value set: [RESPONSE_STREAM, BUFFERED]");
  EXPECT_THAT(message(parse_update_function_url(json::parse(R"({"Cors":{"MaxAge":86401}})"))),
              HasSubstr("at 'cors.maxAge' failed to satisfy constraint: Member must have value less than or equal to 86400"));
  EXPECT_THAT(message(parse_update_function_url(
                  json::parse(R"({"Cors":{"AllowMethods":["GET","PUT","POST","HEAD","PATCH","DELETE","OPTIONS"]}})"))),
              HasSubstr("at 'cors.allowMethods' failed to satisfy constraint: Member must have length less than or equal to 6"));

  EXPECT_TRUE(check_url_qualifier("").ok());
  EXPECT_TRUE(check_url_qualifier("live").ok());
  EXPECT_TRUE(check_url_qualifier("v1").ok());
  for (const char* q : {"1", "$LATEST"}) {
    auto st = check_url_qualifier(q);
    ASSERT_FALSE(st.ok()) << q;
    EXPECT_EQ(st.error().message,
              fmt::format("1 validation error detected: Value '{}' at 'qualifier' failed to satisfy constraint: Member "
                          "must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
                          q));
  }
}

TEST(ControlJsonTest, FunctionUrlConfigsAreRenderedAsLambdaShowsThem) {
  cp::FunctionUrlRecord u;
  u.config.function_name = "F";
  u.config.qualifier = "live";
  u.creation_time = "2026-01-01T00:00:00.000+0000";
  u.last_modified_time = "2026-01-02T00:00:00.000+0000";
  EXPECT_EQ(function_url_config(u, kAccount, 3000, UrlView::kCreated),
            (json{{"FunctionUrl", "http://live--f.lambda-url.localhost:3000/"},
                  {"FunctionArn", "arn:aws:lambda:us-east-1:123456789012:function:F:live"},
                  {"AuthType", "NONE"},
                  {"CreationTime", "2026-01-01T00:00:00.000+0000"},
                  {"InvokeMode", "BUFFERED"}}));
  config::HttpCors cors;
  cors.allow_methods = {"GET"};
  cors.max_age_seconds = 5;
  u.config.cors = cors;
  u.config.qualifier.clear();
  const auto full = function_url_config(u, kAccount, 8080);
  EXPECT_EQ(full["FunctionUrl"], "http://f.lambda-url.localhost:8080/");
  EXPECT_EQ(full["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:F");
  EXPECT_EQ(full["LastModifiedTime"], "2026-01-02T00:00:00.000+0000");
  EXPECT_EQ(full["Cors"], (json{{"AllowCredentials", false}, {"AllowMethods", {"GET"}}, {"MaxAge", 5}}));

  cp::FunctionUrlRecord other = u;
  other.config.qualifier = "live";
  const std::vector<const cp::FunctionUrlRecord*> both{&u, &other};
  auto first = function_url_page(both, ListRequest{true, "", 1}, kAccount, 3000);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ((*first)["FunctionUrlConfigs"].size(), 1u);
  ASSERT_TRUE(first->contains("NextMarker"));
  auto second = function_url_page(both, ListRequest{true, (*first)["NextMarker"].get<std::string>(), 1}, kAccount, 3000);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)["FunctionUrlConfigs"][0]["FunctionUrl"], "http://live--f.lambda-url.localhost:3000/");
  EXPECT_FALSE(second->contains("NextMarker"));
  EXPECT_FALSE(parse_list_function_urls("", 51).ok());
}

}  // namespace
}  // namespace lambdad::invoke_api::control_json
