// The checkpoint rules of a durable execution (docs/decisions/026, lambda-spec §10.4): the
// refusals with their texts, each operation type's transitions and history events, all or
// nothing, what the service changes with time (waits, retries, callback timeouts), callbacks'
// answers, the execution's end, and the wire shapes (milliseconds in the invoke event, seconds
// in the API).
#include "lambdad/durable/checkpoint.hpp"

#include <gtest/gtest.h>

namespace lambdad::durable {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::int64_t kT0 = 1'733'300'000'000;

class CheckpointTest : public ::testing::Test {
 protected:
  Execution e = start_execution("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/n/x", "n",
                                "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST", "$LATEST",
                                R"({"orderId":"1"})", "exec", kT0);
  int callbacks_ = 0;

  Result<Applied> checkpoint(const std::string& updates, std::int64_t at = kT0 + 10) {
    auto parsed = parse_updates(json::parse(updates));
    if (!parsed) return parsed.error();
    return apply(e, *parsed, at, [this](const Operation& op) { return "cb-" + op.id + "-" + std::to_string(++callbacks_); });
  }
  void expect_refused(const std::string& updates, const std::string& message) {
    const auto before = e.history.size();
    auto r = checkpoint(updates);
    ASSERT_FALSE(r) << updates;
    EXPECT_EQ(r.error().type, "InvalidParameterValueException");
    EXPECT_EQ(r.error().message, message) << updates;
    EXPECT_EQ(e.history.size(), before) << "a refused checkpoint changed the execution";
  }
  std::vector<std::string> history_types() const {
    std::vector<std::string> out;
    for (const auto& ev : e.history) out.push_back(ev.type);
    return out;
  }
};

TEST_F(CheckpointTest, AnExecutionStartsWithItsExecutionOperationAndEvent) {
  ASSERT_EQ(e.operations.size(), 1u);
  auto op = operation_json(e.operations[0], TimeUnit::kMillis);
  EXPECT_EQ(op, ojson::parse(R"({"Id":"exec","Name":"n","Type":"EXECUTION","StartTimestamp":1733300000000,)"
                                              R"("Status":"STARTED","ExecutionDetails":{"InputPayload":"{\"orderId\":\"1\"}"}})"));
  EXPECT_EQ(history_types(), std::vector<std::string>{"ExecutionStarted"});
  EXPECT_DOUBLE_EQ(operation_json(e.operations[0], TimeUnit::kSeconds)["StartTimestamp"].get<double>(), 1733300000.0);
}

TEST_F(CheckpointTest, RefusesWhatTheServiceRefusesWithItsWords) {
  expect_refused(R"([{"Id":"a","Type":"EXECUTION","Action":"SUCCEED"},{"Id":"b","Type":"EXECUTION","Action":"FAIL"}])",
                 "Cannot checkpoint multiple EXECUTION updates.");
  expect_refused(R"([{"Id":"a","Type":"EXECUTION","Action":"SUCCEED"},{"Id":"s","Type":"STEP","Action":"START"}])",
                 "EXECUTION checkpoint must be the last update.");
  expect_refused(R"([{"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":5}},)"
                 R"({"Id":"w","Type":"WAIT","Action":"CANCEL"}])",
                 "Cannot update the same operation twice in a single request.");
  expect_refused(R"([{"Id":"s","ParentId":"nope","Type":"STEP","Action":"START"}])", "Invalid parent operation id.");
  expect_refused(R"([{"Id":"w","Type":"WAIT","Action":"SUCCEED"}])", "Invalid action for the given operation type.");
  expect_refused(R"([{"Id":"s","Type":"STEP","Action":"START"},{"Id":"s","Type":"STEP","Action":"FAIL","Payload":"x"}])",
                 "Cannot provide a Payload for FAIL action.");
  expect_refused(R"([{"Id":"s","Type":"STEP","Action":"START"},)"
                 R"({"Id":"s","Type":"STEP","Action":"SUCCEED","Error":{"ErrorType":"E"}}])",
                 "Cannot provide an Error for SUCCEED action.");
  expect_refused(R"([{"Id":"s","Type":"STEP","Action":"START"},{"Id":"s","Type":"STEP","Action":"FAIL","Error":{"ErrorData":")" +
                     std::string(40000, 'x') + R"("}}])",
                 "Error object size must be less than 32768 bytes.");
  expect_refused(R"([{"Id":"bad id","Type":"STEP","Action":"START"}])",
                 "Operation Id must be 1 to 64 characters of [a-zA-Z0-9-_].");
  expect_refused(R"([{"Id":"w","Type":"WAIT","Action":"START"}])",
                 "A WAIT START action needs WaitOptions.WaitSeconds between 1 and 31622400.");
  // Ending a step that never started.
  expect_refused(R"([{"Id":"s","Type":"STEP","Action":"SUCCEED","Payload":"1"}])",
                 "Cannot SUCCEED STEP operation s: it is not started.");
}

TEST_F(CheckpointTest, ACheckpointIsAllOrNothing) {
  // The first update is fine, the second is refused: neither is kept.
  expect_refused(R"([{"Id":"s","Type":"STEP","Action":"START"},{"Id":"c","Type":"CONTEXT","Action":"SUCCEED"}])",
                 "Cannot SUCCEED CONTEXT operation c: it is not started.");
  EXPECT_EQ(e.find("s"), nullptr);
}

TEST_F(CheckpointTest, AStepThatFailsTwiceThenSucceeds) {
  ASSERT_TRUE(checkpoint(R"([{"Id":"s","Name":"charge","Type":"STEP","SubType":"Step","Action":"START"},)"
                         R"({"Id":"s","Type":"STEP","Action":"RETRY","Error":{"ErrorType":"Boom"},"StepOptions":{"NextAttemptDelaySeconds":2}}])"));
  const Operation* s = e.find("s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, OpStatus::kPending);
  EXPECT_EQ(s->attempt, 1);
  EXPECT_EQ(next_due(e), kT0 + 10 + 2000);
  EXPECT_FALSE(advance(e, kT0 + 2009));
  EXPECT_TRUE(advance(e, kT0 + 2010));
  EXPECT_EQ(e.find("s")->status, OpStatus::kReady);
  // The replay starts it again, it fails again, then succeeds.
  ASSERT_TRUE(checkpoint(R"([{"Id":"s","Type":"STEP","Action":"START"},)"
                         R"({"Id":"s","Type":"STEP","Action":"RETRY","Error":{"ErrorType":"Boom"},"StepOptions":{"NextAttemptDelaySeconds":2}}])",
                         kT0 + 3000));
  ASSERT_TRUE(advance(e, kT0 + 5000));
  auto done = checkpoint(R"([{"Id":"s","Type":"STEP","Action":"START"},{"Id":"s","Type":"STEP","Action":"SUCCEED","Payload":"42"}])",
                         kT0 + 6000);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->changed, std::vector<std::string>{"s"});
  s = e.find("s");
  EXPECT_EQ(s->status, OpStatus::kSucceeded);
  EXPECT_EQ(s->attempt, 3);
  EXPECT_EQ(s->result, "42");
  auto wire = operation_json(*s, TimeUnit::kMillis);
  EXPECT_EQ(wire["StepDetails"], ojson::parse(R"({"Attempt":3,"Result":"42"})"));
  EXPECT_EQ(history_types(), (std::vector<std::string>{"ExecutionStarted", "StepStarted", "StepFailed", "StepStarted",
                                                       "StepFailed", "StepStarted", "StepSucceeded"}));
  EXPECT_EQ(e.history[2].details["RetryDetails"], ojson::parse(R"({"CurrentAttempt":1,"NextAttemptDelaySeconds":2})"));
  EXPECT_EQ(e.history.back().event_id, 7);
  // A finished step cannot start again.
  expect_refused(R"([{"Id":"s","Type":"STEP","Action":"START"}])", "Cannot START STEP operation s: it is SUCCEEDED.");
}

TEST_F(CheckpointTest, AWaitEndsWhenDueAndCanBeCancelledBefore) {
  ASSERT_TRUE(checkpoint(R"([{"Id":"w","Type":"WAIT","SubType":"Wait","Action":"START","WaitOptions":{"WaitSeconds":3600}}])"));
  EXPECT_EQ(e.find("w")->scheduled_end_ms, kT0 + 10 + 3'600'000);
  EXPECT_EQ(next_due(e), kT0 + 10 + 3'600'000);
  EXPECT_EQ(e.history.back().details, ojson::parse(R"({"Duration":3600,"ScheduledEndTimestamp":1733303600.01})"));
  EXPECT_TRUE(advance(e, kT0 + 10 + 3'600'000));
  EXPECT_EQ(e.find("w")->status, OpStatus::kSucceeded);
  EXPECT_EQ(e.history.back().type, "WaitSucceeded");
  EXPECT_FALSE(next_due(e).has_value());
  ASSERT_TRUE(checkpoint(R"([{"Id":"w2","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":5}}])"));
  ASSERT_TRUE(checkpoint(R"([{"Id":"w2","Type":"WAIT","Action":"CANCEL"}])"));
  EXPECT_EQ(e.find("w2")->status, OpStatus::kCancelled);
  EXPECT_EQ(e.history.back().type, "WaitCancelled");
}

TEST_F(CheckpointTest, CallbacksAreAnsweredOnceOrTimeOut) {
  ASSERT_TRUE(checkpoint(R"([{"Id":"ctx","Type":"CONTEXT","SubType":"WaitForCallback","Action":"START"},)"
                         R"({"Id":"cb","ParentId":"ctx","Type":"CALLBACK","Action":"START","CallbackOptions":{"TimeoutSeconds":60,"HeartbeatTimeoutSeconds":10}}])"));
  const std::string id = e.find("cb")->callback_id;
  EXPECT_EQ(id, "cb-cb-1");
  EXPECT_EQ(next_due(e), kT0 + 10 + 10'000);  // the heartbeat's, before the timeout's
  ASSERT_TRUE(answer_callback(e, id, CallbackAnswer::kHeartbeat, std::nullopt, std::nullopt, kT0 + 5000));
  EXPECT_EQ(next_due(e), kT0 + 15'000);
  auto unknown = answer_callback(e, "nope", CallbackAnswer::kSuccess, "1", std::nullopt, kT0 + 6000);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().type, "ResourceNotFoundException");
  ASSERT_TRUE(answer_callback(e, id, CallbackAnswer::kSuccess, R"({"approved":true})", std::nullopt, kT0 + 6000));
  EXPECT_EQ(e.find("cb")->status, OpStatus::kSucceeded);
  auto again = answer_callback(e, id, CallbackAnswer::kFailure, std::nullopt, json{{"ErrorType", "x"}}, kT0 + 7000);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().type, "InvalidParameterValueException");
  EXPECT_EQ(operation_json(*e.find("cb"), TimeUnit::kMillis)["CallbackDetails"],
            ojson::parse(R"({"CallbackId":"cb-cb-1","Result":"{\"approved\":true}"})"));

  ASSERT_TRUE(checkpoint(R"([{"Id":"cb2","Type":"CALLBACK","Action":"START","CallbackOptions":{"TimeoutSeconds":30}}])", kT0 + 8000));
  EXPECT_TRUE(advance(e, kT0 + 38'000));
  const Operation* late = e.find("cb2");
  EXPECT_EQ(late->status, OpStatus::kTimedOut);
  EXPECT_EQ((*late->error)["ErrorType"], "Callback.Timeout");
  auto timed_out = answer_callback(e, late->callback_id, CallbackAnswer::kSuccess, "1", std::nullopt, kT0 + 39'000);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().type, "CallbackTimeoutException");
  EXPECT_EQ(e.history.back().type, "CallbackTimedOut");
}

TEST_F(CheckpointTest, TheExecutionEndsOnceAndThenTakesNoCheckpoint) {
  auto r = checkpoint(R"([{"Id":"exec","Type":"EXECUTION","Action":"SUCCEED","Payload":"big result"}])");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->closed);
  EXPECT_EQ(e.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(e.result, "big result");
  EXPECT_EQ(e.operations[0].status, OpStatus::kSucceeded);
  EXPECT_EQ(e.history.back().type, "ExecutionSucceeded");
  expect_refused(R"([{"Id":"s","Type":"STEP","Action":"START"}])", "The execution has already ended.");
  close(e, ExecutionStatus::kStopped, std::nullopt, std::nullopt, kT0 + 99);  // no second end
  EXPECT_EQ(e.status, ExecutionStatus::kSucceeded);
  invocation_completed(e, "req-1", kT0, kT0 + 20, std::nullopt);
  auto ev = event_json(e.history.back(), true);
  EXPECT_EQ(ev["EventType"], "InvocationCompleted");
  EXPECT_EQ(ev["InvocationCompletedDetails"]["RequestId"], "req-1");
  auto started = event_json(e.history.front(), false);
  EXPECT_EQ(started["ExecutionStartedDetails"]["Input"], ojson::parse(R"({"Truncated":true})"));
}

}  // namespace
}  // namespace lambdad::durable
