// Destination records, EventBridge events and dead letters, byte for byte (lambda-spec §4.3).
#include "lambdad/async/destination_record.hpp"

#include <gtest/gtest.h>

namespace lambdad::async {
namespace {

constexpr const char* kFn = "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST";

SpooledEvent event() {
  SpooledEvent e;
  e.request_id = "req-1";
  e.function_name = "fn";
  e.payload = R"({"b":1,"a":[true,null]})";
  return e;
}

TEST(DestinationRecord, TimestampsAreIso8601WithMilliseconds) {
  EXPECT_EQ(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_ms(1573755365568), "2019-11-14T18:16:05.568Z");
}

TEST(DestinationRecord, SuccessKeepsLambdasFieldOrderAndThePayloadsAsJson) {
  OutcomeSummary o{Condition::kSuccess, 1, AttemptResponse{R"({"z":1,"y":"two"})", "$LATEST"}};
  EXPECT_EQ(destination_record(event(), kFn, o, 1573755365568),
            R"({"version":"1.0","timestamp":"2019-11-14T18:16:05.568Z","requestContext":{"requestId":"req-1",)"
            R"("functionArn":"arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST","condition":"Success",)"
            R"("approximateInvokeCount":1},"requestPayload":{"b":1,"a":[true,null]},"responseContext":)"
            R"({"statusCode":200,"executedVersion":"$LATEST"},"responsePayload":{"z":1,"y":"two"}})");
}

TEST(DestinationRecord, FailureSaysUnhandled) {
  OutcomeSummary o{Condition::kRetriesExhausted, 3, AttemptResponse{R"({"errorMessage":"x"})", "1"}};
  EXPECT_EQ(destination_record(event(), kFn, o, 0),
            R"({"version":"1.0","timestamp":"1970-01-01T00:00:00.000Z","requestContext":{"requestId":"req-1",)"
            R"("functionArn":"arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST","condition":)"
            R"("RetriesExhausted","approximateInvokeCount":3},"requestPayload":{"b":1,"a":[true,null]},)"
            R"("responseContext":{"statusCode":200,"executedVersion":"1","functionError":"Unhandled"},)"
            R"("responsePayload":{"errorMessage":"x"}})");
}

TEST(DestinationRecord, ResponsesThatAreNotJsonBecomeStringsAndNothingIsNull) {
  OutcomeSummary text{Condition::kSuccess, 1, AttemptResponse{"plain text", "$LATEST"}};
  EXPECT_NE(destination_record(event(), kFn, text, 0).find(R"("responsePayload":"plain text")"), std::string::npos);
  OutcomeSummary empty{Condition::kSuccess, 1, AttemptResponse{"", "$LATEST"}};
  EXPECT_NE(destination_record(event(), kFn, empty, 0).find(R"("responsePayload":null)"), std::string::npos);
  OutcomeSummary null{Condition::kSuccess, 1, AttemptResponse{"null", "$LATEST"}};
  EXPECT_NE(destination_record(event(), kFn, null, 0).find(R"("responsePayload":null)"), std::string::npos);
}

TEST(DestinationRecord, NeverRunHasNoResponse) {
  OutcomeSummary o{Condition::kZeroReservedConcurrency, 0, std::nullopt};
  EXPECT_EQ(destination_record(event(), kFn, o, 0),
            R"({"version":"1.0","timestamp":"1970-01-01T00:00:00.000Z","requestContext":{"requestId":"req-1",)"
            R"("functionArn":"arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST","condition":)"
            R"("ZeroReservedConcurrency","approximateInvokeCount":0},"requestPayload":{"b":1,"a":[true,null]}})");
}

TEST(DestinationRecord, EventBridgeWrapsTheRecord) {
  OutcomeSummary o{Condition::kEventAgeExceeded, 0, std::nullopt};
  const auto record = destination_record(event(), kFn, o, 0);
  EventBridgeEnvelope env{"11111111-2222-3333-4444-555555555555", "us-east-1", "123456789012",
                          "arn:aws:events:us-east-1:123456789012:event-bus/default", kFn, 1573755365568};
  EXPECT_EQ(eventbridge_event(record, false, env),
            R"({"version":"0","id":"11111111-2222-3333-4444-555555555555","detail-type":)"
            R"("Lambda Function Invocation Result - Failure","source":"lambda","account":"123456789012",)"
            R"("time":"2019-11-14T18:16:05Z","region":"us-east-1","resources":)"
            R"(["arn:aws:events:us-east-1:123456789012:event-bus/default",)"
            R"("arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST"],"detail":)" +
                record + "}");
}

TEST(DeadLetter, CarriesTheOriginalPayloadAndTheError) {
  OutcomeSummary ran{Condition::kRetriesExhausted, 3, AttemptResponse{R"({"errorMessage":"it \"broke\""})", "$LATEST"}};
  EXPECT_EQ(dead_letter_message(event(), ran),
            R"({"Body":"{\"b\":1,\"a\":[true,null]}","MessageAttributes":{"RequestID":{"DataType":"String",)"
            R"("StringValue":"req-1"},"ErrorCode":{"DataType":"Number","StringValue":"200"},"ErrorMessage":)"
            R"({"DataType":"String","StringValue":"it \"broke\""}}})");
  OutcomeSummary never{Condition::kZeroReservedConcurrency, 0, std::nullopt};
  EXPECT_NE(dead_letter_message(event(), never).find(R"("StringValue":"429")"), std::string::npos);
}

}  // namespace
}  // namespace lambdad::async
