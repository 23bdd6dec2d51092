// The engine of durable executions (docs/decisions/026): idempotent starts, the invoke event and
// its token, re-invocation when a wait ends (under a time scale, with the unscaled times kept), a
// callback's answer, retries of failed invocations, stop and the execution timeout. Time is a
// fake clock; the "function" is the test, answering each invocation.
#include "lambdad/durable/engine.hpp"

#include <gtest/gtest.h>

#include "lambdad_test/manual_time.hpp"

namespace lambdad::durable {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class FakeInvoker final : public DurableInvoker {
 public:
  struct Call {
    std::string function_arn;
    json event;
    std::function<void(Outcome)> done;
  };
  void invoke(const Execution& execution, std::string event, std::function<void(Outcome)> done) override {
    calls.push_back(Call{execution.function_arn, json::parse(event), std::move(done)});
  }
  struct Chained {
    std::string function;
    std::string payload;
    std::function<void(ChainedOutcome)> done;
  };
  void chained_invoke(const std::string& function, std::string payload, const std::string&,
                      std::function<void(ChainedOutcome)> done) override {
    chained.push_back(Chained{function, std::move(payload), std::move(done)});
  }
  std::vector<Call> calls;
  std::vector<Chained> chained;
};

class EngineTest : public ::testing::Test {
 protected:
  test::ManualTime time;
  FakeInvoker invoker;
  int ids = 0;
  Engine engine{time, time, invoker, EngineOptions{3600.0, 5, 5000ms}, [this] { return "id" + std::to_string(++ids); }};
  const std::string fn = "arn:aws:lambda:us-east-1:123456789012:function:wf:$LATEST";

  std::string start(const std::string& name = "order-1", const std::string& input = R"({"n":1})") {
    auto s = engine.start({fn, "$LATEST", name, input, 0});
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? s->arn : "";
  }
  // The last invocation answers `status` (with `extra` fields).
  void answer(const std::string& status, json extra = json::object()) {
    auto call = std::move(invoker.calls.back());
    invoker.calls.pop_back();
    extra["Status"] = status;
    call.done(DurableInvoker::Outcome{"req-" + std::to_string(++requests), false, extra.dump()});
  }
  std::string token() const { return invoker.calls.back().event["CheckpointToken"]; }
  int requests = 0;
};

TEST_F(EngineTest, AStartInvokesWithTheDurableEventAndASucceededAnswerEndsIt) {
  const auto arn = start();
  EXPECT_EQ(arn, fn + "/durable-execution/order-1/id1");
  ASSERT_EQ(invoker.calls.size(), 1u);
  const auto& ev = invoker.calls[0].event;
  EXPECT_EQ(invoker.calls[0].function_arn, fn);
  EXPECT_EQ(ev["DurableExecutionArn"], arn);
  EXPECT_FALSE(ev["CheckpointToken"].get<std::string>().empty());
  const auto& ops = ev["InitialExecutionState"]["Operations"];
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0]["Type"], "EXECUTION");
  EXPECT_EQ(ops[0]["ExecutionDetails"]["InputPayload"], R"({"n":1})");
  EXPECT_TRUE(ops[0]["StartTimestamp"].is_number_integer());  // milliseconds in the invoke event
  EXPECT_EQ(ev["InitialExecutionState"]["NextMarker"], "");
  bool ended = false;
  engine.on_end(arn, [&](const Execution& e) {
    ended = true;
    EXPECT_EQ(e.status, ExecutionStatus::kSucceeded);
  });
  answer("SUCCEEDED", {{"Result", "\"done\""}});
  EXPECT_TRUE(ended);
  const Execution* e = engine.find(arn);
  EXPECT_EQ(e->result, "\"done\"");
  std::vector<std::string> types;
  for (const auto& h : e->history) types.push_back(h.type);
  EXPECT_EQ(types, (std::vector<std::string>{"ExecutionStarted", "InvocationCompleted", "ExecutionSucceeded"}));
  EXPECT_EQ(e->history[1].details["RequestId"], "req-1");
}

TEST_F(EngineTest, ANameStartsOneExecutionForTheSameInput) {
  const auto arn = start();
  auto again = engine.start({fn, "$LATEST", "order-1", R"({"n":1})", 0});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->existing);
  EXPECT_EQ(again->arn, arn);
  EXPECT_EQ(invoker.calls.size(), 1u);  // no second invocation
  auto other = engine.start({fn, "$LATEST", "order-1", R"({"n":2})", 0});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().type, "DurableExecutionAlreadyStartedException");
}

TEST_F(EngineTest, AnHourWaitUnderTimeScale3600TakesASecondAndKeepsItsHour) {
  const auto arn = start();
  const auto t = token();
  auto r = engine.checkpoint(arn, t, json::parse(R"([{"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":3600}}])"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->token, t);  // each checkpoint gives the next token
  auto stale = engine.checkpoint(arn, t, json::array());
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().message.rfind("Invalid Checkpoint Token", 0), 0u);
  const std::int64_t started = engine.find(arn)->find("w")->start_ms;
  answer("PENDING");
  EXPECT_TRUE(invoker.calls.empty());
  time.advance(999ms);
  EXPECT_TRUE(invoker.calls.empty());
  time.advance(1ms);
  ASSERT_EQ(invoker.calls.size(), 1u);  // the wait is over: the replay
  const auto& ops = invoker.calls[0].event["InitialExecutionState"]["Operations"];
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[1]["Status"], "SUCCEEDED");
  EXPECT_EQ(ops[1]["WaitDetails"]["ScheduledEndTimestamp"], started + 3'600'000);
  EXPECT_EQ(ops[1]["EndTimestamp"], started + 3'600'000);  // the execution's own time kept its hour
  EXPECT_GE(engine.now_ms(arn), started + 3'600'000);
  answer("SUCCEEDED", {{"Result", "1"}});
  EXPECT_EQ(engine.find(arn)->status, ExecutionStatus::kSucceeded);
}

TEST_F(EngineTest, AnExecutionsOwnTimeScaleReplacesTheEnginesForItsDelays) {
  // The engine divides by 3600; this execution by 60 (`lambdad test`'s per-case timeScale).
  Engine::StartRequest request{fn, "$LATEST", "scaled", "{}", 0};
  request.time_scale = 60;
  auto s = engine.start(request);
  ASSERT_TRUE(s);
  const auto arn = s->arn;
  ASSERT_TRUE(engine.checkpoint(arn, token(), json::parse(R"([{"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":3600}}])")));
  const std::int64_t started = engine.find(arn)->find("w")->start_ms;
  answer("PENDING");
  time.advance(59999ms);
  EXPECT_TRUE(invoker.calls.empty());  // an hour / 60, not / 3600
  time.advance(1ms);
  ASSERT_EQ(invoker.calls.size(), 1u);
  EXPECT_EQ(invoker.calls[0].event["InitialExecutionState"]["Operations"][1]["EndTimestamp"], started + 3'600'000);
  // A failed invocation's 5 s back-off is scaled by 60 too: again after 84 ms, not 2 ms.
  auto call = std::move(invoker.calls.back());
  invoker.calls.pop_back();
  call.done(DurableInvoker::Outcome{"r", true, R"({"errorType":"Boom","errorMessage":"x"})"});
  time.advance(83ms);
  EXPECT_TRUE(invoker.calls.empty());
  time.advance(1ms);
  EXPECT_EQ(invoker.calls.size(), 1u);
  // Another execution keeps the engine's scale.
  auto other = engine.start({fn, "$LATEST", "unscaled", "{}", 0});
  ASSERT_TRUE(other);
  ASSERT_TRUE(engine.checkpoint(other->arn, token(), json::parse(R"([{"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":3600}}])")));
  answer("PENDING");
  time.advance(1000ms);
  EXPECT_EQ(invoker.calls.size(), 2u);  // its wait's replay, beside the first one's retry
  EXPECT_EQ(invoker.calls.back().event["DurableExecutionArn"], other->arn);
}

TEST_F(EngineTest, ACallbackAnsweredFromOutsideReinvokes) {
  const auto arn = start();
  auto r = engine.checkpoint(arn, token(), json::parse(R"([{"Id":"cb","Type":"CALLBACK","Action":"START"}])"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->changed.size(), 1u);
  const std::string id = r->changed[0]->callback_id;
  EXPECT_FALSE(id.empty());
  answer("PENDING");
  time.advance(1h);
  EXPECT_TRUE(invoker.calls.empty());  // no timeout: it waits
  ASSERT_TRUE(engine.callback(id, CallbackAnswer::kSuccess, "\"approved\"", std::nullopt));
  ASSERT_EQ(invoker.calls.size(), 1u);
  EXPECT_EQ(invoker.calls[0].event["InitialExecutionState"]["Operations"][1]["CallbackDetails"]["Result"], "\"approved\"");
  auto unknown = engine.callback("nope", CallbackAnswer::kSuccess, "1", std::nullopt);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);
}

TEST_F(EngineTest, AChainedInvokeCallsItsTargetOnceAndItsResultReinvokes) {
  const auto arn = start();
  auto r = engine.checkpoint(arn, token(), json::parse(R"([{"Id":"ci","Type":"CHAINED_INVOKE","Action":"START",)"
                                                       R"("Payload":"{\"n\":2}","ChainedInvokeOptions":{"FunctionName":"target"}}])"));
  ASSERT_TRUE(r);
  ASSERT_EQ(invoker.chained.size(), 1u);
  EXPECT_EQ(invoker.chained[0].function, "target");
  EXPECT_EQ(invoker.chained[0].payload, R"({"n":2})");
  ASSERT_TRUE(engine.checkpoint(arn, r->token, json::array()));  // a later checkpoint calls it no second time
  EXPECT_EQ(invoker.chained.size(), 1u);
  answer("PENDING");
  EXPECT_TRUE(invoker.calls.empty());
  invoker.chained[0].done(DurableInvoker::ChainedOutcome{"{\"doubled\":4}", std::nullopt});
  ASSERT_EQ(invoker.calls.size(), 1u);
  const auto& op = invoker.calls[0].event["InitialExecutionState"]["Operations"][1];
  EXPECT_EQ(op["Status"], "SUCCEEDED");
  EXPECT_EQ(op["ChainedInvokeDetails"]["Result"], R"({"doubled":4})");
}

TEST_F(EngineTest, FailedInvocationsAreRetriedThenFailTheExecution) {
  const auto arn = start();
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(invoker.calls.size(), 1u) << "attempt " << i;
    auto call = std::move(invoker.calls.back());
    invoker.calls.pop_back();
    call.done(DurableInvoker::Outcome{"r" + std::to_string(i), true, R"({"errorType":"Boom","errorMessage":"x"})"});
    time.advance(2ms);  // the 5 s back-off, scaled by 3600
  }
  EXPECT_TRUE(invoker.calls.empty());
  const Execution* e = engine.find(arn);
  EXPECT_EQ(e->status, ExecutionStatus::kFailed);
  EXPECT_EQ((*e->error)["errorType"], "Boom");
}

TEST_F(EngineTest, StopAndTheExecutionTimeoutEndIt) {
  const auto arn = start();
  const auto t = token();
  auto stopped = engine.stop(arn, json{{"ErrorType", "Manual"}});
  ASSERT_TRUE(stopped);
  EXPECT_EQ(engine.find(arn)->status, ExecutionStatus::kStopped);
  EXPECT_FALSE(engine.checkpoint(arn, t, json::array()));
  EXPECT_FALSE(engine.stop(arn, std::nullopt));
  answer("PENDING");  // the invocation in flight ends after the stop: nothing more happens
  EXPECT_TRUE(invoker.calls.empty());

  auto timed = engine.start({fn, "$LATEST", "slow", "{}", 60});
  ASSERT_TRUE(timed);
  answer("PENDING");
  time.advance(17ms);  // 60 s / 3600
  const Execution* e = engine.find(timed->arn);
  EXPECT_EQ(e->status, ExecutionStatus::kTimedOut);
  EXPECT_EQ((*e->error)["ErrorMessage"], "Execution timed out after 60 seconds.");
}

TEST_F(EngineTest, ARestartTakesUpARunningExecutionFromTheStore) {
  auto store = Store::open({});
  ASSERT_TRUE(store);
  FakeInvoker first_invoker;
  std::string arn;
  {
    Engine first{time, time, first_invoker, EngineOptions{3600.0, 5, 5000ms}, [this] { return "k" + std::to_string(++ids); },
                 store->get()};
    auto s = first.start({fn, "$LATEST", "kept", "{}", 0});
    ASSERT_TRUE(s);
    arn = s->arn;
    const std::string t = first_invoker.calls.back().event["CheckpointToken"];
    ASSERT_TRUE(first.checkpoint(arn, t, json::parse(R"([{"Id":"s","Type":"STEP","Action":"START"},)"
                                                     R"({"Id":"s","Type":"STEP","Action":"SUCCEED","Payload":"1"},)"
                                                     R"({"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":60}}])")));
    // The daemon dies here, its invocation in flight.
  }
  Engine second{time, time, invoker, EngineOptions{3600.0, 5, 5000ms}, [this] { return "m" + std::to_string(++ids); },
                store->get()};
  auto running = second.recover();
  ASSERT_TRUE(running);
  EXPECT_EQ(*running, 1u);
  ASSERT_EQ(invoker.calls.size(), 1u);  // invoked again at once
  const auto& ops = invoker.calls[0].event["InitialExecutionState"]["Operations"];
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[1]["Status"], "SUCCEEDED");  // the step is replayed, not run again
  EXPECT_EQ(ops[1]["StepDetails"]["Result"], "1");
  answer("PENDING");
  time.advance(17ms);  // the minute's wait, scaled
  ASSERT_EQ(invoker.calls.size(), 1u);
  answer("SUCCEEDED", {{"Result", "2"}});
  EXPECT_EQ(second.find(arn)->status, ExecutionStatus::kSucceeded);
  // What it kept says so too.
  auto kept = (*store)->load();
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->front().execution.status, ExecutionStatus::kSucceeded);
  EXPECT_GT(kept->front().retain_until_ms, kept->front().execution.end_ms.value_or(0));
}

}  // namespace
}  // namespace lambdad::durable
