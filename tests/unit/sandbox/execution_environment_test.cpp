// The environment driven through its RuntimeApiTarget face, with a real (idle) process standing
// in for the runtime: every Runtime API call a runtime can make, in every order that matters.
#include "lambdad/sandbox/execution_environment.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/sandbox/function_pool.hpp"
#include "lambdad_test/manual_time.hpp"
#include "environment_fixture.hpp"

namespace lambdad::sandbox {
namespace {

TEST_F(ExecutionEnvironmentTest, NextParksUntilAnInvocationArrivesThenDelivers) {
  start();
  std::optional<NextOutcome> got;
  env_->next([&](NextOutcome o) { got = std::move(o); });
  EXPECT_FALSE(got.has_value());
  EXPECT_EQ(observer_.idle, 1);
  assign("id-1", R"({"k":1})");
  ASSERT_TRUE(got && got->delivery);
  EXPECT_EQ(got->delivery->request_id, "id-1");
  EXPECT_EQ(got->delivery->payload, R"({"k":1})");
  EXPECT_GT(got->delivery->deadline_epoch_ms, clock_.epoch_ms());
  EXPECT_EQ(env_->runtime_state(), RuntimeState::kRunning);
}

// SnapStart in place (docs/decisions/023): what a runtime restoring itself, or ours where no copy
// of a snapshot can be forked, meets on the Runtime API.
TEST_F(ExecutionEnvironmentTest, RestoreNextIsRefusedWithoutSnapStart) {
  start();
  auto r = restore_next();
  EXPECT_EQ(r.code, RuntimeReply::Code::kInvalidStateTransition);
  EXPECT_EQ(transition_error_message(r.from, r.event),
            "State transition from Started to RestoreReady failed for runtime. Error: State transition is not allowed");
  EXPECT_EQ(env_->restore_error(RuntimePost{}).code, RuntimeReply::Code::kInvalidStateTransition);
}

TEST_F(ExecutionEnvironmentTest, RestoringInPlaceAnswersAtOnceThenServesAsAColdStart) {
  start(snap_start());
  assign("id-1");
  EXPECT_EQ(env_->restore_error(RuntimePost{}).code, RuntimeReply::Code::kInvalidStateTransition)
      << "no restore error before /restore/next";
  EXPECT_EQ(restore_next().code, RuntimeReply::Code::kAccepted);
  EXPECT_EQ(env_->runtime_state(), RuntimeState::kRestoring);
  EXPECT_EQ(restore_next().code, RuntimeReply::Code::kInvalidStateTransition) << "once";
  ASSERT_TRUE(next().delivery);
  env_->response("id-1", RuntimePost{"1", "", false, ""});
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, invocation::Outcome::kSuccess);
  EXPECT_NE(results_[0].log.find("Init Duration: "), std::string::npos) << "its init ran here";
  EXPECT_EQ(results_[0].log.find("Restore Duration"), std::string::npos);
  EXPECT_EQ(restore_next().code, RuntimeReply::Code::kInvalidStateTransition) << "not after init";
}

TEST_F(ExecutionEnvironmentTest, ARestoreErrorIsTheInvokeApisSnapStartException) {
  start(snap_start());
  assign("id-1");
  ASSERT_EQ(restore_next().code, RuntimeReply::Code::kAccepted);
  RuntimePost post{R"({"errorMessage":"no db","errorType":"ConnectionError"})", "application/json", false,
                   "Runtime.AfterRestoreError"};
  EXPECT_EQ(env_->restore_error(post).code, RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].service_error, "SnapStartException");
  EXPECT_NE(results_[0].payload.find("Runtime.AfterRestoreError"), std::string::npos) << results_[0].payload;
  EXPECT_NE(results_[0].log.find("Status: error\tError Type: SnapStartException"), std::string::npos)
      << results_[0].log;
  EXPECT_EQ(env_->restore_error(post).code, RuntimeReply::Code::kInvalidStateTransition);
  EXPECT_TRUE(run_until([&] { return observer_.dead == 1; }));
}

TEST_F(ExecutionEnvironmentTest, AfterRestoreHooksHaveTenSecondsWhateverTheTimeout) {
  fn_.timeout_seconds = 60;
  start(snap_start());
  assign("id-1");
  clock_.advance(std::chrono::seconds(2));  // its init
  ASSERT_EQ(restore_next().code, RuntimeReply::Code::kAccepted);
  clock_.advance(std::chrono::milliseconds(9999));
  EXPECT_TRUE(results_.empty());
  clock_.advance(std::chrono::milliseconds(1));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].service_error, "SnapStartTimeoutException");
  EXPECT_EQ(results_[0].error_type, "SnapStartTimeoutException");
  EXPECT_NE(results_[0].log.find("START RequestId: id-1"), std::string::npos) << results_[0].log;
  EXPECT_NE(results_[0].log.find("Status: timeout"), std::string::npos) << results_[0].log;
  EXPECT_TRUE(run_until([&] { return observer_.dead == 1; }));
}

TEST_F(ExecutionEnvironmentTest, ResponseCompletesWithBodyAndReportsInitOnce) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  EXPECT_EQ(env_->response("id-1", RuntimePost{"\"ok\"", "application/json", false, ""}).code,
            RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, invocation::Outcome::kSuccess);
  EXPECT_EQ(results_[0].payload, "\"ok\"");
  EXPECT_NE(results_[0].log.find("START RequestId: id-1 Version: $LATEST\n"), std::string::npos);
  EXPECT_NE(results_[0].log.find("Init Duration: "), std::string::npos);

  assign("id-2");
  ASSERT_TRUE(next().delivery);
  env_->response("id-2", RuntimePost{"2", "", false, ""});
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[1].log.find("Init Duration"), std::string::npos) << "warm invoke";
}

TEST_F(ExecutionEnvironmentTest, WrongIdIsRefusedBeforeAnyTransition) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  EXPECT_EQ(env_->response("other", RuntimePost{}).code, RuntimeReply::Code::kInvalidRequestId);
  EXPECT_EQ(env_->error("other", RuntimePost{}).code, RuntimeReply::Code::kInvalidRequestId);
  EXPECT_EQ(env_->runtime_state(), RuntimeState::kRunning);
  EXPECT_TRUE(results_.empty());
}

TEST_F(ExecutionEnvironmentTest, SecondResponseIsAnInvalidTransitionThenIdIsReleasedByNext) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  env_->response("id-1", RuntimePost{"1", "", false, ""});
  auto again = env_->response("id-1", RuntimePost{"2", "", false, ""});
  EXPECT_EQ(again.code, RuntimeReply::Code::kInvalidStateTransition);
  EXPECT_EQ(again.from, RuntimeState::kResponseSent);
  EXPECT_EQ(again.event, RuntimeEvent::kResponse);
  std::optional<NextOutcome> parked;
  env_->next([&](NextOutcome o) { parked = std::move(o); });
  EXPECT_EQ(env_->response("id-1", RuntimePost{}).code, RuntimeReply::Code::kInvalidRequestId);
  EXPECT_EQ(results_.size(), 1u);
}

TEST_F(ExecutionEnvironmentTest, ResponseBeforeNextIsInvalidRequestId) {
  start();
  EXPECT_EQ(env_->response("id-1", RuntimePost{}).code, RuntimeReply::Code::kInvalidRequestId);
}

TEST_F(ExecutionEnvironmentTest, OversizedResponseBecomesFunctionResponseSizeTooLarge) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  auto reply = env_->response("id-1", RuntimePost{"", "", true, ""});
  EXPECT_EQ(reply.code, RuntimeReply::Code::kPayloadTooLarge);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, invocation::Outcome::kFunctionError);
  EXPECT_EQ(results_[0].payload,
            R"({"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"})");
}

TEST_F(ExecutionEnvironmentTest, ErrorPostIsReturnedVerbatim) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  std::string body = R"({"errorMessage":"boom","errorType":"Error","trace":[]})";
  EXPECT_EQ(env_->error("id-1", RuntimePost{body, "application/json", false, "Function.Unknown"}).code,
            RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, invocation::Outcome::kFunctionError);
  EXPECT_EQ(results_[0].payload, body);
}

TEST_F(ExecutionEnvironmentTest, InitErrorAnswersTheWaitingInvokeAndEndsTheEnvironment) {
  start();
  assign("id-1");
  std::string body = R"({"errorMessage":"Unable to import module 'app'","errorType":"Runtime.ImportModuleError"})";
  EXPECT_EQ(env_->init_error(RuntimePost{body, "application/json", false, "Runtime.ImportModuleError"}).code,
            RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].payload, body);
  EXPECT_TRUE(env_->dead());
  EXPECT_TRUE(run_until([&] { return observer_.dead == 1; }));
  EXPECT_EQ(env_->init_error(RuntimePost{}).code, RuntimeReply::Code::kInvalidStateTransition);
}

TEST_F(ExecutionEnvironmentTest, InitErrorAfterInitIsRefused) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  auto r = env_->init_error(RuntimePost{});
  EXPECT_EQ(r.code, RuntimeReply::Code::kInvalidStateTransition);
  EXPECT_EQ(r.from, RuntimeState::kRunning);
}

TEST_F(ExecutionEnvironmentTest, PostAfterTheTimeoutIsInvokeTimeout) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  clock_.advance(std::chrono::milliseconds(1000));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(env_->response("id-1", RuntimePost{"late", "", false, ""}).code, RuntimeReply::Code::kInvokeTimeout);
  EXPECT_EQ(env_->error("id-1", RuntimePost{}).code, RuntimeReply::Code::kInvokeTimeout);
  EXPECT_EQ(env_->response("other", RuntimePost{}).code, RuntimeReply::Code::kInvalidRequestId);
  EXPECT_EQ(results_.size(), 1u) << "the late post changed nothing";
}

TEST_F(ExecutionEnvironmentTest, TimeoutKillsTheEnvironmentWithSandboxTimedout) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  clock_.advance(std::chrono::milliseconds(999));
  EXPECT_TRUE(results_.empty()) << "timed out before the deadline";
  clock_.advance(std::chrono::milliseconds(1));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].outcome, invocation::Outcome::kFunctionError);
  EXPECT_EQ(results_[0].payload,
            R"({"errorType":"Sandbox.Timedout","errorMessage":"RequestId: id-1 Error: Task timed out after 1.00 seconds"})");
  EXPECT_NE(results_[0].log.find("Status: timeout"), std::string::npos);
  EXPECT_TRUE(run_until([&] { return observer_.dead == 1; }));
}

TEST_F(ExecutionEnvironmentTest, TheDeadlineRunsFromDeliveryNotFromAssignment) {
  fn_.timeout_seconds = 3;
  start();
  assign("id-1");
  clock_.advance(std::chrono::seconds(5));  // a slow init: the invoke waits, within the init budget
  EXPECT_TRUE(results_.empty());
  auto got = next();
  ASSERT_TRUE(got.delivery);
  EXPECT_EQ(got.delivery->deadline_epoch_ms, clock_.epoch_ms() + 3000);
  clock_.advance(std::chrono::milliseconds(2999));
  EXPECT_TRUE(results_.empty());
  clock_.advance(std::chrono::milliseconds(1));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].error_type, "Sandbox.Timedout");
}

TEST_F(ExecutionEnvironmentTest, AnInvokeWaitingOnInitGetsTheInitBudget) {
  // Timeout 1 s, but the runtime never asks /next: Lambda's 10 s init phase applies first.
  start();
  assign("id-1");
  clock_.advance(std::chrono::milliseconds(9999));
  EXPECT_TRUE(results_.empty());
  clock_.advance(std::chrono::milliseconds(1));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].error_type, "Sandbox.Timedout");
  EXPECT_TRUE(run_until([&] { return observer_.dead == 1; }));
}

TEST_F(ExecutionEnvironmentTest, AnAnsweredInvokeCancelsItsDeadline) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  EXPECT_EQ(env_->response("id-1", RuntimePost{"1", "", false, ""}).code, RuntimeReply::Code::kAccepted);
  clock_.advance(std::chrono::minutes(20));
  EXPECT_EQ(results_.size(), 1u);
  EXPECT_FALSE(env_->dead());
  EXPECT_EQ(clock_.armed(), 0u);
}

TEST_F(ExecutionEnvironmentTest, ColdStartDelayHoldsTheFirstNextAndCountsAsInit) {
  EnvironmentDeps deps{io_.get_executor(), clock_, clock_, endpoints_, options_, observer_};
  EnvironmentOptions opts;
  opts.cold_start_delay = std::chrono::milliseconds(250);
  auto env = ExecutionEnvironment::start(deps, fn_, 1, opts);
  ASSERT_TRUE(env.ok());
  env_ = std::move(env).value();
  assign("id-1");
  std::optional<NextOutcome> got;
  env_->next([&](NextOutcome o) { got = std::move(o); });
  clock_.advance(std::chrono::milliseconds(249));
  EXPECT_FALSE(got.has_value());
  clock_.advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(got && got->delivery);
  EXPECT_EQ(env_->response("id-1", RuntimePost{"1", "", false, ""}).code, RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_NE(results_[0].log.find("Init Duration: 250.00 ms"), std::string::npos) << results_[0].log;
}

TEST_F(ExecutionEnvironmentTest, ExitDuringInvokeIsRuntimeExitError) {
  write_bootstrap("sleep 0.3; exit 3");
  fn_.timeout_seconds = 30;  // the exit, not the deadline, must end it even on a loaded machine
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  ASSERT_TRUE(run_until([&] { return !results_.empty(); }));
  EXPECT_EQ(results_[0].payload,
            R"({"errorType":"Runtime.ExitError","errorMessage":"RequestId: id-1 Error: Runtime exited with error: exit status 3"})");
  EXPECT_TRUE(run_until([&] { return observer_.dead == 1; }));
}

TEST_F(ExecutionEnvironmentTest, CleanExitDuringInvokeHasNoReason) {
  write_bootstrap("sleep 0.3; exit 0");
  fn_.timeout_seconds = 30;
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  ASSERT_TRUE(run_until([&] { return !results_.empty(); }));
  EXPECT_EQ(results_[0].payload,
            R"({"errorType":"Runtime.ExitError","errorMessage":"RequestId: id-1 Error: Runtime exited without providing a reason"})");
}

TEST_F(ExecutionEnvironmentTest, InitAheadOfDemandIsLimited) {
  // A runtime that never calls /next, started without an invocation (EAGER, provisioned).
  EnvironmentDeps deps{io_.get_executor(), clock_, clock_, endpoints_, options_, observer_};
  EnvironmentOptions opts;
  opts.init_limit = std::chrono::milliseconds(200);
  auto env = ExecutionEnvironment::start(deps, fn_, 1, opts);
  ASSERT_TRUE(env.ok());
  env_ = std::move(env).value();
  clock_.advance(std::chrono::milliseconds(199));
  EXPECT_FALSE(env_->dead());
  clock_.advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(env_->dead());
  EXPECT_TRUE(run_until([&] { return observer_.dead == 1; }, std::chrono::seconds(5)));
}

TEST_F(ExecutionEnvironmentTest, MissingBootstrapIsInvalidEntrypoint) {
  fs::remove(dir_ / "bootstrap");
  EnvironmentDeps deps{io_.get_executor(), clock_, clock_, endpoints_, options_, observer_};
  auto env = ExecutionEnvironment::start(deps, fn_, 1);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().type, "Runtime.InvalidEntrypoint");
}

TEST_F(ExecutionEnvironmentTest, SecondParkedNextReplacesTheFirst) {
  start();
  std::optional<NextOutcome> first, second;
  env_->next([&](NextOutcome o) { first = std::move(o); });
  env_->next([&](NextOutcome o) { second = std::move(o); });
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->delivery);
  EXPECT_EQ(first->refusal.code, RuntimeReply::Code::kInvalidStateTransition);
  EXPECT_FALSE(second.has_value());
  assign("id-1");
  ASSERT_TRUE(second && second->delivery);
}

TEST_F(ExecutionEnvironmentTest, NextWhileRunningRedeliversTheSameInvocation) {
  start();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  auto again = next();
  ASSERT_TRUE(again.delivery);
  EXPECT_EQ(again.delivery->request_id, "id-1");
}

// A private /tmp measured on the blocking pool (docs/decisions/001): the invoke's END, REPORT and
// answer wait for the measure, and the environment takes nothing else meanwhile.
class EnvironmentTmpTest : public ExecutionEnvironmentTest {
 protected:
  void start_with_tmp() {
    LimitDeps limits;
    limits.tmp_root = dir_ / "tmp-root";
    limits.blocking = &blocking_;
    EnvironmentDeps deps{io_.get_executor(), clock_, clock_, endpoints_, options_, observer_, limits};
    auto env = ExecutionEnvironment::start(deps, fn_, 1);
    ASSERT_TRUE(env.ok()) << env.error().message;
    env_ = std::move(env).value();
  }
  fs::path tmp() const { return dir_ / "tmp-root" / "Fn.1"; }
  RuntimeReply answer(const std::string& id) { return env_->response(id, RuntimePost{"{}", "", false, ""}); }

  BlockingPool blocking_{io_, {.threads = 1, .capacity = 8}};
};

TEST_F(EnvironmentTmpTest, AnOverrunIsMeasuredOnThePoolAndReportedInTheInvokeThatMadeIt) {
  fn_.ephemeral_storage_mb = 0;  // any byte is over it
  start_with_tmp();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  std::ofstream(tmp() / "data") << std::string(8192, 'x');
  EXPECT_EQ(answer("id-1").code, RuntimeReply::Code::kAccepted);
  EXPECT_TRUE(results_.empty()) << "the answer waits for the measure";
  EXPECT_FALSE(env_->available());
  std::optional<NextOutcome> parked;
  env_->next([&](NextOutcome o) { parked = std::move(o); });
  EXPECT_FALSE(parked);
  EXPECT_EQ(observer_.idle, 0) << "not offered while its invoke ends";

  ASSERT_TRUE(run_until([&] { return !results_.empty(); }));
  const auto& log = results_[0].log;
  const auto warning = log.find("lambdad: /tmp holds 1 MB, more than EphemeralStorage 0 MB");
  ASSERT_NE(warning, std::string::npos) << log;
  EXPECT_LT(warning, log.find("END RequestId: id-1")) << log;
  EXPECT_EQ(observer_.idle, 1) << "offered once the invoke has ended";
  EXPECT_TRUE(env_->available());

  // Within the second: not measured again, answered at once.
  assign("id-2");
  ASSERT_TRUE(parked && parked->delivery);
  EXPECT_EQ(answer("id-2").code, RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[1].log.find("/tmp holds"), std::string::npos) << results_[1].log;
  // A second later it is measured again.
  clock_.advance(std::chrono::milliseconds(1001));
  parked.reset();
  env_->next([&](NextOutcome o) { parked = std::move(o); });
  EXPECT_FALSE(parked);
  assign("id-3");
  ASSERT_TRUE(parked && parked->delivery);
  EXPECT_EQ(answer("id-3").code, RuntimeReply::Code::kAccepted);
  EXPECT_EQ(results_.size(), 2u);
  ASSERT_TRUE(run_until([&] { return results_.size() == 3; }));
  EXPECT_NE(results_[2].log.find("/tmp holds"), std::string::npos) << results_[2].log;
}

TEST_F(EnvironmentTmpTest, AnInvokeWaitingForItsMeasureIsAnsweredWhenItsEnvironmentIsKilled) {
  start_with_tmp();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  EXPECT_EQ(answer("id-1").code, RuntimeReply::Code::kAccepted);
  ASSERT_TRUE(results_.empty());
  env_->kill("evicted");
  ASSERT_EQ(results_.size(), 1u) << "never lost";
  EXPECT_EQ(results_[0].payload, "{}");
  EXPECT_NE(results_[0].log.find("REPORT RequestId: id-1"), std::string::npos) << results_[0].log;
  EXPECT_EQ(results_[0].log.find("/tmp holds"), std::string::npos);
}

}  // namespace
}  // namespace lambdad::sandbox

namespace lambdad::sandbox {
namespace {

// A resource group whose readings the test sets: the environment's decisions on them.
struct FakeReadings {
  std::uint64_t peak = 0;
  int resets = 0;
  std::vector<bool> idle;  // each set_idle() call
};

class FakeGroup final : public process::ResourceGroup {
 public:
  explicit FakeGroup(FakeReadings& r) : r_(r) {}
  std::vector<std::string> join_files() const override { return {}; }
  void attach(pid_t) override {}
  std::uint64_t peak_memory_bytes() const override { return r_.peak; }
  void reset_peak() override { ++r_.resets; }
  bool per_invoke_peak() const override { return true; }
  bool oom_killed() const override { return false; }
  void set_idle(bool idle) override { r_.idle.push_back(idle); }

 private:
  FakeReadings& r_;
};

class FakeController final : public process::ResourceController {
 public:
  explicit FakeController(FakeReadings& r) : r_(r) {}
  std::string describe() const override { return "fake"; }
  process::MemoryEnforcement mode() const override { return process::MemoryEnforcement::kSample; }
  Result<std::unique_ptr<process::ResourceGroup>> create_group(const std::string&,
                                                               const process::EnvironmentLimits&) override {
    return std::unique_ptr<process::ResourceGroup>(std::make_unique<FakeGroup>(r_));
  }

 private:
  FakeReadings& r_;
};

class EnvironmentMemoryTest : public ExecutionEnvironmentTest {
 protected:
  void start_limited() {
    LimitDeps limits;
    limits.resources = &controller_;
    EnvironmentDeps deps{io_.get_executor(), clock_, clock_, endpoints_, options_, observer_, limits};
    auto env = ExecutionEnvironment::start(deps, fn_, 1);
    ASSERT_TRUE(env.ok()) << env.error().message;
    env_ = std::move(env).value();
  }
  FakeReadings readings_;
  FakeController controller_{readings_};
};

TEST_F(EnvironmentMemoryTest, APeakOverMemorySizeAtTheAnswerIsAnOutOfMemoryKill) {
  fn_.memory_mb = 128;
  start_limited();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  readings_.peak = (128ull << 20) + 1;  // the last reading, or the runtime's high water mark
  EXPECT_EQ(env_->response("id-1", RuntimePost{"{}", "", false, ""}).code, RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].error_type, "Runtime.OutOfMemory");
  EXPECT_EQ(results_[0].payload,
            R"({"errorType":"Runtime.OutOfMemory","errorMessage":"RequestId: id-1 Error: Runtime exited with error: signal: killed"})");
  EXPECT_NE(results_[0].log.find("Max Memory Used: 128 MB"), std::string::npos) << results_[0].log;
  EXPECT_NE(results_[0].log.find("Status: error\tError Type: Runtime.OutOfMemory"), std::string::npos)
      << results_[0].log;
  EXPECT_TRUE(env_->dead()) << "never handed another invoke";
  EXPECT_FALSE(env_->available());
}

TEST_F(EnvironmentMemoryTest, APeakAtMemorySizeIsWithinIt) {
  fn_.memory_mb = 128;
  start_limited();
  assign("id-1");
  ASSERT_TRUE(next().delivery);
  readings_.peak = 128ull << 20;
  EXPECT_EQ(env_->response("id-1", RuntimePost{"{}", "", false, ""}).code, RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_TRUE(results_[0].error_type.empty()) << results_[0].payload;
  EXPECT_EQ(results_[0].payload, "{}");
  EXPECT_FALSE(env_->dead());
}

TEST_F(EnvironmentMemoryTest, SamplingPausesWhileTheRuntimeWaitsWithNothingToDo) {
  start_limited();
  EXPECT_TRUE(readings_.idle.empty()) << "busy from the start: init is sampled";
  std::optional<NextOutcome> parked;
  env_->next([&](NextOutcome o) { parked = std::move(o); });  // initialised, nothing to do
  ASSERT_FALSE(parked);
  EXPECT_EQ(readings_.idle, std::vector<bool>({true}));
  assign("id-1");
  ASSERT_TRUE(parked && parked->delivery);
  EXPECT_EQ(readings_.idle, std::vector<bool>({true, false}));
  EXPECT_EQ(env_->response("id-1", RuntimePost{"{}", "", false, ""}).code, RuntimeReply::Code::kAccepted);
  EXPECT_EQ(readings_.idle.size(), 2u) << "still sampled until the runtime asks again";
  parked.reset();
  env_->next([&](NextOutcome o) { parked = std::move(o); });
  EXPECT_EQ(readings_.idle, std::vector<bool>({true, false, true}));
}

}  // namespace
}  // namespace lambdad::sandbox
