// Pools with an injected clock: idle reclaim is decided by the clock the test moves, never by
// sleeping. The runtime is played by the test through each environment's RuntimeApiTarget; the
// environment's process is an idle shell. Invocations are submitted to their version's pool as
// the scheduler does once it has admitted them (admission: tests/unit/scheduler).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lambdad/sandbox/sandbox_manager.hpp"
#include "lambdad_test/manual_time.hpp"
#include "lambdad_test/status_json.hpp"

namespace lambdad::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RecordingEndpoints final : public RuntimeEndpointFactory {
 public:
  class Endpoint final : public RuntimeEndpoint {
   public:
    std::uint16_t port() const override { return 9; }
  };
  Result<std::unique_ptr<RuntimeEndpoint>> open(RuntimeApiTarget& target) override {
    targets.push_back(&target);
    return std::unique_ptr<RuntimeEndpoint>(std::make_unique<Endpoint>());
  }
  std::vector<RuntimeApiTarget*> targets;
};

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lambdad-pool-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "bootstrap") << "#!/bin/sh\nexec sleep 30\n";
    fs::permissions(dir_ / "bootstrap", fs::perms::owner_all);
  }
  void TearDown() override {
    manager_.reset();
    io_.run_for(50ms);
    fs::remove_all(dir_);
  }

  config::FunctionConfig function(const std::string& name, std::optional<int> reserved = std::nullopt) {
    config::FunctionConfig fn;
    fn.name = name;
    fn.runtime = "provided.al2023";
    fn.code_dir = dir_;
    fn.timeout_seconds = 30;
    fn.reserved_concurrency = reserved;
    return fn;
  }

  void make(std::vector<config::FunctionConfig> fns, ManagerOptions options = {}) {
    PoolDeps deps{io_.get_executor(), clock_, clock_, endpoints_, runtime_options_};
    manager_ = std::make_unique<SandboxManager>(deps, options);
    for (const auto& fn : fns) {
      for (const auto& version : config::function_versions(fn)) manager_->put_version(fn, version);
    }
  }

  invocation::InvocationPtr invocation(const std::string& fn, const std::string& id) {
    auto inv = std::make_shared<invocation::Invocation>();
    inv->request_id = id;
    inv->function_name = fn;
    inv->payload = "{}";
    inv->on_complete = [this, id](invocation::InvocationResult r) { done_[id] = std::move(r); };
    return inv;
  }

  // Hands an invocation to the pool of its version, as the scheduler does.
  // Then lets the loop take the turns a burst's cold starts are spread over (one per turn), unless
  // `one_turn` (what the pool does before the loop runs again).
  void submit(invocation::InvocationPtr inv, bool one_turn = false) {
    auto* pool = manager_->find(inv->function_name, inv->version);
    ASSERT_NE(pool, nullptr) << inv->function_name << " has no version " << inv->version;
    pool->submit(std::move(inv));
    if (one_turn) return;
    io_.restart();
    io_.poll();
  }

  // Plays the runtime of environment `i`: asks /next and returns the delivered request id.
  // A parked /next is answered later into next_[i] (the fixture outlives every environment).
  std::string runtime_next(std::size_t i) {
    next_[i].reset();
    endpoints_.targets.at(i)->next([this, i](NextOutcome o) { next_[i] = std::move(o); });
    return delivered(i);
  }
  std::string delivered(std::size_t i) {
    auto& got = next_[i];
    if (!got || !got->delivery) return {};
    return got->delivery->request_id;
  }
  void runtime_respond(std::size_t i, const std::string& id) {
    EXPECT_EQ(endpoints_.targets.at(i)->response(id, RuntimePost{"1", "", false, ""}).code,
              RuntimeReply::Code::kAccepted);
  }
  nlohmann::json status(const std::string& fn) {
    nlohmann::json all;
    manager_->status(all);
    return test::function_status(all, fn);
  }

  boost::asio::io_context io_;
  test::ManualTime clock_;
  RecordingEndpoints endpoints_;
  RuntimeOptions runtime_options_;
  std::unique_ptr<SandboxManager> manager_;
  std::map<std::string, invocation::InvocationResult> done_;
  std::map<std::size_t, std::optional<NextOutcome>> next_;
  fs::path dir_;
};

TEST_F(PoolTest, WarmEnvironmentIsReusedAndColdStartsAreCounted) {
  make({function("F")});
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  runtime_respond(0, "a");
  submit(invocation("F", "b"));
  EXPECT_EQ(endpoints_.targets.size(), 1u) << "the warm environment takes the second invocation";
  ASSERT_EQ(runtime_next(0), "b");
  runtime_respond(0, "b");
  EXPECT_EQ(done_.size(), 2u);
  EXPECT_EQ(status("F")["coldStarts"], 1);
  EXPECT_EQ(status("F")["invocations"], 2);
}

TEST_F(PoolTest, ConcurrentInvocationsGetTheirOwnEnvironments) {
  make({function("F")});
  for (auto id : {"a", "b", "c"}) submit(invocation("F", id));
  EXPECT_EQ(endpoints_.targets.size(), 3u);
  EXPECT_EQ(runtime_next(0), "a");
  EXPECT_EQ(runtime_next(1), "b");
  EXPECT_EQ(runtime_next(2), "c");
}

TEST_F(PoolTest, IdleEnvironmentsAreReclaimedByTheClockNotBySleeping) {
  ManagerOptions options;
  options.pool.idle_timeout = 10min;
  make({function("F")}, options);
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  runtime_respond(0, "a");
  auto* pool = manager_->find("F");
  clock_.advance(10min - 1ms);
  EXPECT_EQ(pool->reclaim_idle(clock_.now()), 0u);
  clock_.advance(1ms);
  EXPECT_EQ(pool->reclaim_idle(clock_.now()), 1u);
  EXPECT_EQ(status("F")["environments"][0]["state"], "dead");
  // The next invocation is a cold start in a new environment.
  submit(invocation("F", "b"));
  EXPECT_EQ(endpoints_.targets.size(), 2u);
}

TEST_F(PoolTest, TheManagersReclaimTimerRunsOnTheInjectedClock) {
  ManagerOptions options;
  options.pool.idle_timeout = 10min;
  make({function("F")}, options);
  manager_->start();
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  runtime_respond(0, "a");
  clock_.advance(10min - 2s);
  EXPECT_EQ(status("F")["environments"][0]["state"], "idle");
  clock_.advance(3s);  // the timer ticks every second at most
  EXPECT_EQ(status("F")["environments"][0]["state"], "dead");
}

TEST_F(PoolTest, AHungInvocationTimesOutOnTheClockAndTheNextCallIsCold) {
  make({function("F")});  // timeout 30 s
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  clock_.advance(30s - 1ms);
  EXPECT_FALSE(done_.count("a"));
  clock_.advance(1ms);
  ASSERT_TRUE(done_.count("a"));
  EXPECT_EQ(done_["a"].error_type, "Sandbox.Timedout");
  EXPECT_EQ(status("F")["timeouts"], 1);
  io_.run_for(50ms);  // the killed process is reaped and the environment dropped
  submit(invocation("F", "b"));
  ASSERT_EQ(endpoints_.targets.size(), 2u) << "a timed-out environment is not reused";
  EXPECT_EQ(runtime_next(1), "b");
}

TEST_F(PoolTest, ZeroIdleTimeoutNeverReclaims) {
  ManagerOptions options;
  options.pool.idle_timeout = 0ms;
  make({function("F")}, options);
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  runtime_respond(0, "a");
  clock_.advance(std::chrono::hours(100));
  EXPECT_EQ(manager_->find("F")->reclaim_idle(clock_.now()), 0u);
}

TEST_F(PoolTest, ProvisionedEnvironmentsAreReadyAndNeverReclaimed) {
  auto fn = function("P");
  fn.auto_publish_alias = "live";
  fn.provisioned_concurrency = 2;
  make({fn});
  manager_->start();
  ASSERT_EQ(endpoints_.targets.size(), 2u);
  EXPECT_EQ(runtime_next(0), "");  // initialised, parked
  EXPECT_EQ(runtime_next(1), "");
  EXPECT_EQ(status("P")["environments"][0]["state"], "idle");
  EXPECT_EQ(status("P")["environments"][0]["provisioned"], true);
  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(manager_->find("P", "1")->reclaim_idle(clock_.now()), 0u);
  auto inv = invocation("P", "a");
  inv->version = "1";
  submit(inv);
  ASSERT_EQ(delivered(0), "a") << "the parked /next of a provisioned environment gets it";
  runtime_respond(0, "a");
  ASSERT_TRUE(done_.count("a"));
  EXPECT_EQ(done_["a"].log.find("Init Duration"), std::string::npos) << "pre-initialised: not a cold start";
  EXPECT_EQ(status("P")["coldStarts"], 0);
  EXPECT_EQ(done_["a"].executed_version, "1");

  // $LATEST is not provisioned: an unqualified call starts an environment of its own.
  submit(invocation("P", "b"));
  ASSERT_EQ(endpoints_.targets.size(), 3u);
  EXPECT_EQ(runtime_next(2), "b");
  runtime_respond(2, "b");
  EXPECT_EQ(done_["b"].executed_version, "$LATEST");
  EXPECT_NE(done_["b"].log.find("Init Duration"), std::string::npos);
}

TEST_F(PoolTest, ForceColdRetiresAnEnvironmentAfterEachInvocation) {
  ManagerOptions options;
  options.pool.force_cold = true;
  make({function("F")}, options);
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  runtime_respond(0, "a");
  submit(invocation("F", "b"));
  EXPECT_EQ(endpoints_.targets.size(), 2u);
  EXPECT_EQ(runtime_next(1), "b");
}

TEST_F(PoolTest, EvictRetiresIdleAndDrainsBusyEnvironments) {
  make({function("F")});
  submit(invocation("F", "a"));
  submit(invocation("F", "b"));
  ASSERT_EQ(runtime_next(0), "a");
  ASSERT_EQ(runtime_next(1), "b");
  runtime_respond(0, "a");  // environment 0 idle, environment 1 busy
  EXPECT_EQ(manager_->evict("F").value_or(0), 2u);
  EXPECT_FALSE(manager_->evict("Nope").has_value());
  runtime_respond(1, "b");
  EXPECT_TRUE(done_.count("b")) << "a draining environment finishes its invocation";
  auto after = status("F");
  for (auto& e : after["environments"]) EXPECT_EQ(e["state"], "dead");
  submit(invocation("F", "c"));
  EXPECT_EQ(endpoints_.targets.size(), 3u);
}

TEST_F(PoolTest, PutVersionAddsAFunctionWhileRunning) {
  make({});
  EXPECT_FALSE(manager_->has_function("N"));
  manager_->put_version(function("N"), "$LATEST");
  ASSERT_TRUE(manager_->has_function("N"));
  submit(invocation("N", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  runtime_respond(0, "a");
  EXPECT_TRUE(done_.count("a"));
}

TEST_F(PoolTest, NewConfigurationDrainsWarmEnvironmentsAndTheNextCallIsCold) {
  make({function("F")});
  submit(invocation("F", "a"));
  submit(invocation("F", "b"));
  ASSERT_EQ(runtime_next(0), "a");
  ASSERT_EQ(runtime_next(1), "b");
  runtime_respond(0, "a");  // environment 0 idle, environment 1 busy

  auto updated = function("F");
  updated.environment["CODE"] = "v2";
  manager_->put_version(updated, "$LATEST");
  runtime_respond(1, "b");
  EXPECT_TRUE(done_.count("b")) << "the busy environment finishes its invocation on the old code";
  const auto drained = status("F");
  for (const auto& e : drained["environments"]) EXPECT_EQ(e["state"], "dead");

  submit(invocation("F", "c"));
  ASSERT_EQ(endpoints_.targets.size(), 3u) << "a new environment for the new configuration";
  EXPECT_EQ(runtime_next(2), "c");
  EXPECT_EQ(manager_->find("F")->config().environment.at("CODE"), "v2");
}

TEST_F(PoolTest, RemovedFunctionFinishesRunningInvocationsAndIsGone) {
  make({function("F")});
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  manager_->remove_function("F");
  EXPECT_FALSE(manager_->has_function("F"));
  EXPECT_EQ(manager_->find("F"), nullptr);
  runtime_respond(0, "a");
  ASSERT_TRUE(done_.count("a"));
  EXPECT_EQ(done_["a"].outcome, invocation::Outcome::kSuccess);
}

TEST_F(PoolTest, PublishedVersionsGetPoolsAndOneCanBeRemoved) {
  make({function("F")});
  manager_->put_version(function("F"), "1");
  manager_->put_version(function("F"), "2");
  EXPECT_NE(manager_->find("F", "2"), nullptr);
  manager_->remove_version("F", "1");
  EXPECT_EQ(manager_->find("F", "1"), nullptr);
  EXPECT_NE(manager_->find("F", "2"), nullptr);
  auto inv = invocation("F", "v2");
  inv->version = "2";
  submit(inv);
  EXPECT_EQ(runtime_next(0), "v2");
}

// --- an invocation whose environment died before delivering it ------------------------------

class UndeliveredTest : public PoolTest {
 protected:
  // A runtime that ends (exit 0) once the test creates the file "die" in the code directory;
  // the first to see it removes it, so one runtime dies per file.
  void SetUp() override {
    PoolTest::SetUp();
    std::ofstream(dir_ / "bootstrap", std::ios::trunc)
        << "#!/bin/sh\nuntil rm '" << (dir_ / "die").string() << "' 2>/dev/null; do sleep 0.01; done\nexit 0\n";
  }
  void kill_runtimes() { std::ofstream(dir_ / "die") << ""; }
  bool run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 500 && !done(); ++i) io_.run_for(10ms);
    return done();
  }
};

TEST_F(UndeliveredTest, AnInvokeTheRuntimeNeverTookRunsInANewEnvironment) {
  make({function("F")});
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  runtime_respond(0, "a");
  // Answered, not yet back on /next: the environment is free and takes "b"...
  submit(invocation("F", "b"));
  ASSERT_EQ(endpoints_.targets.size(), 1u);
  // ... and its runtime exits before asking for it.
  kill_runtimes();
  ASSERT_TRUE(run_until([&] { return endpoints_.targets.size() == 2u; }));
  EXPECT_FALSE(done_.count("b"));
  EXPECT_EQ(runtime_next(1), "b");
  runtime_respond(1, "b");
  ASSERT_TRUE(done_.count("b"));
  EXPECT_EQ(done_["b"].outcome, invocation::Outcome::kSuccess);
  EXPECT_EQ(done_["b"].payload, "1");
  EXPECT_NE(done_["b"].log.find("Init Duration"), std::string::npos) << "a cold start: " << done_["b"].log;
  EXPECT_EQ(done_["b"].log.find("START RequestId: b"), 0u) << "one START, in the new environment: " << done_["b"].log;
  EXPECT_EQ(status("F")["coldStarts"], 2);
  EXPECT_EQ(status("F")["invocations"], 2) << "still one invocation";
  EXPECT_EQ(status("F")["inFlight"], 0);
}

TEST_F(UndeliveredTest, ADeathAfterDeliveryIsStillAnExitError) {
  make({function("F")});
  submit(invocation("F", "a"));
  ASSERT_EQ(runtime_next(0), "a");
  kill_runtimes();
  ASSERT_TRUE(run_until([&] { return done_.count("a") > 0; }));
  EXPECT_EQ(done_["a"].error_type, "Runtime.ExitError");
  io_.run_for(50ms);
  EXPECT_EQ(endpoints_.targets.size(), 1u) << "not run again";
}

TEST_F(UndeliveredTest, ADeathInInitIsTheInvokesAnswerNotARetry) {
  std::ofstream(dir_ / "bootstrap", std::ios::trunc) << "#!/bin/sh\nexit 0\n";  // before its first /next
  make({function("F")});
  submit(invocation("F", "a"));
  ASSERT_TRUE(run_until([&] { return done_.count("a") > 0; }));
  EXPECT_EQ(done_["a"].error_type, "Runtime.ExitError");
  io_.run_for(50ms);
  EXPECT_EQ(endpoints_.targets.size(), 1u) << "one environment, one init error";
}

}  // namespace
}  // namespace lambdad::sandbox

namespace lambdad::sandbox {
namespace {

// A burst of cold starts: one environment is started per turn of the loop, which meanwhile
// serves the runtimes already started; the rest follow in order, none is lost.
TEST_F(PoolTest, ABurstStartsOneEnvironmentPerTurnOfTheLoopAndTheRestAfter) {
  make({function("Burst")});
  for (int i = 0; i < 10; ++i) submit(invocation("Burst", "req-" + std::to_string(i)), true);
  EXPECT_EQ(endpoints_.targets.size(), 1U) << "more cold starts than one turn's";
  EXPECT_EQ(status("Burst")["environments"].size(), 1U);
  // The first environment's runtime gets the first invocation before the rest are spawned.
  EXPECT_EQ(runtime_next(0), "req-0");
  for (int turn = 0; turn < 20 && endpoints_.targets.size() < 10; ++turn) io_.run_one_for(1s);
  EXPECT_EQ(endpoints_.targets.size(), 10U);
  for (std::size_t i = 1; i < 10; ++i) EXPECT_EQ(runtime_next(i), "req-" + std::to_string(i)) << i;
}

}  // namespace
}  // namespace lambdad::sandbox
