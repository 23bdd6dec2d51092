// SAM EventInvokeConfig and DeadLetterQueue (Lambda's DeadLetterConfig): what loads, and every
// problem reported with its property path.
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

// HelloFunction with `extra` properties, and a second function to point destinations at.
std::string with_target(const std::string& extra) {
  return one_function(extra) +
         "  Target:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties:\n"
         "      FunctionName: target-fn\n"
         "      Runtime: python3.12\n"
         "      Handler: app.lambda_handler\n"
         "      CodeUri: code/hello\n"
         "  Queue:\n"
         "    Type: AWS::SQS::Queue\n";
}

const FunctionConfig& hello(const TemplateLoad& load) {
  const auto* f = find_function(load, "HelloFunction");
  if (f == nullptr) throw std::runtime_error("HelloFunction did not load:\n" + describe(load));
  return *f;
}

TEST(EventInvokeConfig, AbsentMeansLambdasDefaults) {
  const auto load = load_text(one_function(""));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_FALSE(hello(load).event_invoke_config.has_value());
  EXPECT_FALSE(hello(load).dead_letter.has_value());
}

TEST(EventInvokeConfig, ReadsLimitsAndDestinations) {
  const auto load = load_text(with_target(
      "      EventInvokeConfig:\n"
      "        MaximumEventAgeInSeconds: 60\n"
      "        MaximumRetryAttempts: 0\n"
      "        DestinationConfig:\n"
      "          OnSuccess:\n"
      "            Type: SQS\n"
      "            Destination: arn:aws:sqs:us-east-1:123456789012:done\n"
      "          OnFailure:\n"
      "            Type: EventBridge\n"
      "            Destination: !Sub arn:aws:events:${AWS::Region}:${AWS::AccountId}:event-bus/default\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const auto& c = hello(load).event_invoke_config.value();
  EXPECT_EQ(c.maximum_event_age_seconds, 60);
  EXPECT_EQ(c.maximum_retry_attempts, 0);
  ASSERT_TRUE(c.on_success.has_value());
  EXPECT_EQ(c.on_success->type, "SQS");
  EXPECT_EQ(c.on_success->destination, "arn:aws:sqs:us-east-1:123456789012:done");
  ASSERT_TRUE(c.on_failure.has_value());
  EXPECT_EQ(c.on_failure->type, "EventBridge");
  EXPECT_EQ(c.on_failure->destination, "arn:aws:events:us-east-1:123456789012:event-bus/default");
}

TEST(EventInvokeConfig, DefaultsFillWhatIsLeftOut) {
  const auto load = load_text(one_function("      EventInvokeConfig:\n        MaximumRetryAttempts: 1\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const auto& c = hello(load).event_invoke_config.value();
  EXPECT_EQ(c.maximum_event_age_seconds, 21600);
  EXPECT_EQ(c.maximum_retry_attempts, 1);
  EXPECT_FALSE(c.on_success.has_value());
  EXPECT_FALSE(c.on_failure.has_value());
}

TEST(EventInvokeConfig, LambdaDestinationsResolveToFunctionsOfTheTemplate) {
  const auto load = load_text(with_target(
      "      EventInvokeConfig:\n"
      "        DestinationConfig:\n"
      "          OnSuccess:\n"
      "            Type: Lambda\n"
      "            Destination: !GetAtt Target.Arn\n"
      "          OnFailure:\n"
      "            Type: Lambda\n"
      "            Destination: !Ref Target\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const auto& c = hello(load).event_invoke_config.value();
  EXPECT_EQ(c.on_success->destination, "arn:aws:lambda:us-east-1:123456789012:function:target-fn");
  EXPECT_EQ(c.on_failure->destination, "target-fn");
}

TEST(EventInvokeConfig, QueueOfTheTemplateGetsALocalName) {
  const auto load = load_text(with_target(
      "      EventInvokeConfig:\n"
      "        DestinationConfig:\n"
      "          OnFailure:\n"
      "            Type: SQS\n"
      "            Destination: !GetAtt Queue.Arn\n"
      "          OnSuccess:\n"
      "            Type: SNS\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const auto& c = hello(load).event_invoke_config.value();
  EXPECT_EQ(c.on_failure->destination, "Queue");
  EXPECT_EQ(c.on_success->destination, "HelloFunctionEventInvokeConfigOnSuccessTopic") << "created by SAM";
  const auto* warning = find_diagnostic(load.warnings, "HelloFunction",
                                        "Properties.EventInvokeConfig.DestinationConfig.OnFailure.Destination");
  ASSERT_NE(warning, nullptr) << describe(load);
  EXPECT_THAT(warning->message, HasSubstr("local file named after Queue"));
}

TEST(EventInvokeConfig, ReportsEveryProblem) {
  const auto load = load_text(one_function(
      "      EventInvokeConfig:\n"
      "        MaximumEventAgeInSeconds: 59\n"
      "        MaximumRetryAttempts: 3\n"
      "        DestinationConfig:\n"
      "          OnSuccess:\n"
      "            Type: Kinesis\n"
      "            Destination: arn:aws:kinesis:us-east-1:123456789012:stream/s\n"
      "          OnFailure:\n"
      "            Type: SQS\n"
      "            Destination: arn:aws:sns:us-east-1:123456789012:topic\n"));
  EXPECT_TRUE(load.functions.empty());
  const std::string base = "Properties.EventInvokeConfig.";
  const auto* age = find_diagnostic(load.errors, "HelloFunction", base + "MaximumEventAgeInSeconds");
  ASSERT_NE(age, nullptr) << describe(load);
  EXPECT_THAT(age->message, HasSubstr("between 60 and 21600"));
  const auto* retries = find_diagnostic(load.errors, "HelloFunction", base + "MaximumRetryAttempts");
  ASSERT_NE(retries, nullptr) << describe(load);
  EXPECT_THAT(retries->message, HasSubstr("between 0 and 2"));
  const auto* type = find_diagnostic(load.errors, "HelloFunction", base + "DestinationConfig.OnSuccess.Type");
  ASSERT_NE(type, nullptr) << describe(load);
  EXPECT_THAT(type->message, HasSubstr("Lambda, SQS, SNS, EventBridge or S3"));
  const auto* arn = find_diagnostic(load.errors, "HelloFunction", base + "DestinationConfig.OnFailure.Destination");
  ASSERT_NE(arn, nullptr) << describe(load);
  EXPECT_THAT(arn->message, HasSubstr("must be the ARN of an SQS queue"));
}

TEST(EventInvokeConfig, LambdaDestinationNeedsOne) {
  const auto load = load_text(one_function(
      "      EventInvokeConfig:\n"
      "        DestinationConfig:\n"
      "          OnSuccess:\n"
      "            Type: Lambda\n"
      "          OnFailure:\n"
      "            Type: Lambda\n"
      "            Destination: not a function\n"));
  EXPECT_TRUE(load.functions.empty());
  EXPECT_NE(find_diagnostic(load.errors, "HelloFunction",
                            "Properties.EventInvokeConfig.DestinationConfig.OnSuccess.Destination"),
            nullptr)
      << describe(load);
  EXPECT_NE(find_diagnostic(load.errors, "HelloFunction",
                            "Properties.EventInvokeConfig.DestinationConfig.OnFailure.Destination"),
            nullptr)
      << describe(load);
}

TEST(EventInvokeConfig, ComesFromGlobalsToo) {
  const auto load = load_text(
      "Transform: AWS::Serverless-2016-10-31\n"
      "Globals:\n"
      "  Function:\n"
      "    EventInvokeConfig:\n"
      "      MaximumRetryAttempts: 1\n" +
      one_function("").substr(std::string("Transform: AWS::Serverless-2016-10-31\n").size()));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(hello(load).event_invoke_config.value().maximum_retry_attempts, 1);
}

TEST(DeadLetterQueue, ReadsTypeAndTarget) {
  const auto load = load_text(one_function(
      "      DeadLetterQueue:\n"
      "        Type: SNS\n"
      "        TargetArn: arn:aws:sns:us-east-1:123456789012:dead\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const auto& d = hello(load).dead_letter.value();
  EXPECT_EQ(d.type, "SNS");
  EXPECT_EQ(d.target_arn, "arn:aws:sns:us-east-1:123456789012:dead");
}

TEST(DeadLetterQueue, ReportsWrongTypeAndMismatchedArn) {
  const auto bad_type = load_text(one_function(
      "      DeadLetterQueue:\n"
      "        Type: Kinesis\n"
      "        TargetArn: arn:aws:sqs:us-east-1:123456789012:dead\n"));
  EXPECT_NE(find_diagnostic(bad_type.errors, "HelloFunction", "Properties.DeadLetterQueue.Type"), nullptr)
      << describe(bad_type);
  const auto mismatch = load_text(one_function(
      "      DeadLetterQueue:\n"
      "        Type: SQS\n"
      "        TargetArn: arn:aws:sns:us-east-1:123456789012:dead\n"));
  const auto* d = find_diagnostic(mismatch.errors, "HelloFunction", "Properties.DeadLetterQueue.TargetArn");
  ASSERT_NE(d, nullptr) << describe(mismatch);
  EXPECT_THAT(d->message, HasSubstr("an SQS queue"));
  const auto missing = load_text(one_function("      DeadLetterQueue:\n        Type: SQS\n"));
  EXPECT_NE(find_diagnostic(missing.errors, "HelloFunction", "Properties.DeadLetterQueue.TargetArn"), nullptr)
      << describe(missing);
}

TEST(DeadLetterConfig, LambdaFunctionTakesTheTypeFromTheArn) {
  const auto load = load_text(
      "Resources:\n"
      "  Plain:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      Runtime: python3.12\n"
      "      Handler: app.lambda_handler\n"
      "      Code: code/hello\n"
      "      DeadLetterConfig:\n"
      "        TargetArn: arn:aws:sqs:us-east-1:123456789012:dead\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const auto* f = find_function(load, "Plain");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->dead_letter.has_value());
  EXPECT_EQ(f->dead_letter->type, "SQS");
  EXPECT_EQ(f->dead_letter->target_arn, "arn:aws:sqs:us-east-1:123456789012:dead");
}

}  // namespace
}  // namespace lambdad::config
