// An environment in managed-instances mode (docs/decisions/028): slots, each outstanding /next
// taking its own invocation, posts matched by request id, one failure ending every slot.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "environment_fixture.hpp"
#include "lambdad/common/error_types.hpp"

namespace lambdad::sandbox {
namespace {

class ManagedEnvironmentTest : public ExecutionEnvironmentTest {
 protected:
  void SetUp() override {
    ExecutionEnvironmentTest::SetUp();
    config::ManagedInstancesConfig mi;
    mi.capacity_provider_arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:local";
    mi.per_environment_max_concurrency = 3;
    fn_.managed_instances = mi;
    fn_.memory_mb = 2048;
  }

  // A /next that parks; its outcome lands in `outcomes_` under `slot`.
  void park(int slot) {
    env_->next([this, slot](NextOutcome o) { outcomes_[slot] = std::move(o); });
  }
  std::string delivered_to(int slot) {
    auto it = outcomes_.find(slot);
    if (it == outcomes_.end() || !it->second.delivery) return {};
    return it->second.delivery->request_id;
  }
  const invocation::InvocationResult* result_of(const std::string& id) const {
    for (const auto& r : results_) {
      if (r.payload.find(id) != std::string::npos) return &r;
    }
    return nullptr;
  }

  static RuntimePost post(std::string body, std::string error_type = {}) {
    RuntimePost p;
    p.body = std::move(body);
    p.error_type = std::move(error_type);
    return p;
  }

  std::map<int, NextOutcome> outcomes_;
};

TEST_F(ManagedEnvironmentTest, EachOutstandingNextTakesItsOwnInvocation) {
  start();
  EXPECT_EQ(env_->capacity(), 3u);
  for (int i = 0; i < 3; ++i) park(i);
  EXPECT_TRUE(outcomes_.empty());
  EXPECT_GE(observer_.idle, 1) << "idle once its init is over";
  assign("a", R"({"v":"a"})");
  assign("b", R"({"v":"b"})");
  EXPECT_EQ(env_->free_slots(), 1u);
  assign("c", R"({"v":"c"})");
  EXPECT_EQ(env_->free_slots(), 0u);
  EXPECT_FALSE(env_->available());
  EXPECT_EQ(delivered_to(0), "a");
  EXPECT_EQ(delivered_to(1), "b");
  EXPECT_EQ(delivered_to(2), "c");
  // Answered in any order, each to its own invoke.
  EXPECT_EQ(env_->response("c", post(R"("for c")")).code, RuntimeReply::Code::kAccepted);
  EXPECT_EQ(env_->free_slots(), 1u);
  EXPECT_EQ(env_->response("a", post(R"("for a")")).code, RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[0].payload, R"("for c")");
  EXPECT_EQ(results_[1].payload, R"("for a")");
  EXPECT_EQ(env_->slots_in_use(), 1u);
}

TEST_F(ManagedEnvironmentTest, InvocationsWaitForANextAndANextReleasesNothing) {
  start();
  park(0);
  assign("a");
  assign("b");  // no /next free for it yet
  EXPECT_EQ(delivered_to(0), "a");
  park(1);  // a second worker asks: it takes b, and a stays in flight
  EXPECT_EQ(delivered_to(1), "b");
  park(2);  // the first worker again, before answering a (as the Node client 4.x does)
  EXPECT_EQ(env_->slots_in_use(), 2u);
  EXPECT_EQ(env_->response("a", post("1")).code, RuntimeReply::Code::kAccepted);
  EXPECT_EQ(env_->error("b", post(R"({"errorType":"E"})", "E")).code,
            RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[1].error_type, "E");
}

TEST_F(ManagedEnvironmentTest, PostsAreMatchedByTheirRequestId) {
  start();
  park(0);
  park(1);
  assign("a");
  assign("b");
  EXPECT_EQ(env_->response("nobody", post("1")).code, RuntimeReply::Code::kInvalidRequestId);
  EXPECT_EQ(env_->response("a", post("1")).code, RuntimeReply::Code::kAccepted);
  auto again = env_->response("a", post("2"));
  EXPECT_EQ(again.code, RuntimeReply::Code::kInvalidStateTransition);
  EXPECT_EQ(again.from, RuntimeState::kResponseSent);
  EXPECT_EQ(env_->slots_in_use(), 1u) << "b is untouched";
  assign("c");  // not delivered: no /next waits
  EXPECT_EQ(env_->response("c", post("1")).code, RuntimeReply::Code::kInvalidRequestId);
}

TEST_F(ManagedEnvironmentTest, ATimeoutFailsTheInvocationsBesideIt) {
  start();
  park(0);
  park(1);
  assign("slow");
  clock_.advance(std::chrono::milliseconds(300));
  assign("beside");
  assign("waiting");  // no worker free: never delivered
  clock_.advance(std::chrono::milliseconds(700));  // slow's 1 s timeout
  io_.run_for(std::chrono::milliseconds(20));
  ASSERT_EQ(results_.size(), 3u);
  ASSERT_TRUE(result_of("slow"));
  EXPECT_EQ(result_of("slow")->error_type, error_types::kSandboxTimedout);
  ASSERT_TRUE(result_of("beside"));
  EXPECT_EQ(result_of("beside")->error_type, error_types::kSandboxFailure);
  EXPECT_NE(result_of("beside")->payload.find("invocation slow in it timed out"), std::string::npos);
  ASSERT_TRUE(result_of("waiting"));
  EXPECT_EQ(result_of("waiting")->error_type, error_types::kSandboxFailure);
  EXPECT_TRUE(env_->dead());
  EXPECT_EQ(env_->response("slow", post("1")).code, RuntimeReply::Code::kInvokeTimeout);
}

TEST_F(ManagedEnvironmentTest, TheFirstInitErrorAnswersEveryWaitingInvocation) {
  start();
  assign("a");
  assign("b");
  EXPECT_EQ(env_->init_error(post(R"({"errorType":"Runtime.ImportModuleError"})", "Runtime.ImportModuleError"))
                .code,
            RuntimeReply::Code::kAccepted);
  // Another worker's report of the same failure is refused, as a second report is.
  EXPECT_EQ(env_->init_error(post("{}", "Runtime.ImportModuleError")).code,
            RuntimeReply::Code::kInvalidStateTransition);
  ASSERT_EQ(results_.size(), 2u);
  for (const auto& r : results_) {
    EXPECT_EQ(r.error_type, "Runtime.ImportModuleError");
    EXPECT_EQ(r.payload, R"({"errorType":"Runtime.ImportModuleError"})");
  }
}

TEST_F(ManagedEnvironmentTest, EachInvokesLogHasItsOwnJsonRecords) {
  start();
  park(0);
  park(1);
  assign("a");
  assign("b");
  clock_.advance(std::chrono::milliseconds(20));
  ASSERT_EQ(env_->response("b", post("1")).code, RuntimeReply::Code::kAccepted);
  ASSERT_EQ(env_->response("a", post("2")).code, RuntimeReply::Code::kAccepted);
  ASSERT_EQ(results_.size(), 2u);
  for (const auto& [r, id] : {std::pair{&results_[0], "b"}, std::pair{&results_[1], "a"}}) {
    std::istringstream lines(r->log);
    std::vector<nlohmann::json> records;
    for (std::string line; std::getline(lines, line);) records.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(records.size(), 2u) << r->log;
    EXPECT_EQ(records[0]["type"], "platform.start");
    EXPECT_EQ(records[0]["record"]["requestId"], id);
    EXPECT_EQ(records[1]["type"], "platform.report");
    EXPECT_EQ(records[1]["record"]["requestId"], id);
    EXPECT_EQ(records[1]["record"]["status"], "success");
    EXPECT_EQ(records[1]["record"]["metrics"]["memorySizeMB"], 2048);
    EXPECT_EQ(records[1]["record"]["metrics"]["durationMs"], 20.0);
    EXPECT_TRUE(records[1].contains("time"));
  }
}

TEST_F(ManagedEnvironmentTest, TheRuntimeLearnsItsConcurrency) {
  write_bootstrap("echo \"concurrency=$AWS_LAMBDA_MAX_CONCURRENCY type=$AWS_LAMBDA_INITIALIZATION_TYPE "
                  "format=$AWS_LAMBDA_LOG_FORMAT\" > \"$LAMBDA_TASK_ROOT/seen\"; exec sleep 30");
  start();
  const auto seen = dir_ / "seen";
  ASSERT_TRUE(run_until([&] { return fs::exists(seen) && fs::file_size(seen) > 0; }));
  std::ifstream in(seen);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "concurrency=3 type=lambda-managed-instances format=JSON");
}

}  // namespace
}  // namespace lambdad::sandbox
