// The scheduler over a real catalogue and real pools, with an injected clock: resolution through
// the catalogue, Pending and Failed answers, admission (reserved concurrency, the account's
// unreserved share, release when answered) and the status it reports. The runtime is played by
// the test through each environment's RuntimeApiTarget; the environment's process is an idle
// shell, so an admitted invocation stays in flight until the test answers it.
#include "lambdad/scheduler/scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/control_plane/function_store.hpp"
#include "lambdad/sandbox/sandbox_manager.hpp"
#include "lambdad_test/manual_time.hpp"
#include "lambdad_test/status_json.hpp"
#include "one_file_zip.hpp"

namespace lambdad::scheduler {
namespace {

namespace fs = std::filesystem;
using invocation::Admission;
using namespace std::chrono_literals;

class RecordingEndpoints final : public sandbox::RuntimeEndpointFactory {
 public:
  class Endpoint final : public sandbox::RuntimeEndpoint {
   public:
    std::uint16_t port() const override { return 9; }
  };
  Result<std::unique_ptr<sandbox::RuntimeEndpoint>> open(sandbox::RuntimeApiTarget& target) override {
    targets.push_back(&target);
    return std::unique_ptr<sandbox::RuntimeEndpoint>(std::make_unique<Endpoint>());
  }
  std::vector<sandbox::RuntimeApiTarget*> targets;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lambdad-scheduler-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "code");
    std::ofstream(dir_ / "code" / "bootstrap") << "#!/bin/sh\nexec sleep 30\n";
    fs::permissions(dir_ / "code" / "bootstrap", fs::perms::owner_all);
  }
  void TearDown() override {
    scheduler_.reset();
    registry_.reset();
    manager_.reset();
    io_.restart();
    io_.run_for(50ms);
    fs::remove_all(dir_);
  }

  config::FunctionConfig function(const std::string& name, std::optional<int> reserved = std::nullopt,
                                  const std::string& alias = {}) {
    config::FunctionConfig fn;
    fn.name = name;
    fn.logical_id = name;
    fn.runtime = "provided.al2023";
    fn.code_dir = dir_ / "code";
    fn.timeout_seconds = 30;
    fn.reserved_concurrency = reserved;
    fn.auto_publish_alias = alias;
    return fn;
  }

  // The core as app::Daemon::build makes it: pools and catalogue entries for the template's
  // functions, the scheduler over both.
  void make(const std::vector<config::FunctionConfig>& fns, int account_concurrency = 1000) {
    sandbox::PoolDeps deps{io_.get_executor(), clock_, clock_, endpoints_, runtime_options_};
    manager_ = std::make_unique<sandbox::SandboxManager>(deps);
    control_plane::RegistryOptions options;
    options.functions_dir = dir_ / "functions";
    options.durable = false;
    options.account_concurrency = account_concurrency;
    registry_ = std::make_unique<control_plane::FunctionRegistry>(
        clock_, [this](std::function<void()> task) { boost::asio::post(io_, std::move(task)); }, blocking_, options);
    registry_->subscribe([this](const control_plane::CatalogueChange& c) { manager_->follow(c); });
    registry_->add_template_functions(fns);
    SchedulerOptions scheduling;
    scheduling.on_admitted = [this](const invocation::Invocation& inv) { admitted_.push_back(inv.request_id); };
    scheduler_ = std::make_unique<Scheduler>(*registry_, *manager_, scheduling);
  }

  invocation::InvocationPtr invocation(const std::string& fn, const std::string& id,
                                       const std::string& version = "$LATEST") {
    auto inv = std::make_shared<invocation::Invocation>();
    inv->request_id = id;
    inv->function_name = fn;
    inv->version = version;
    inv->payload = "{}";
    inv->on_complete = [this, id](invocation::InvocationResult r) {
      ++completions_[id];
      done_[id] = std::move(r);
    };
    return inv;
  }
  // Then lets the loop take the turns a burst's cold starts are spread over (one per turn).
  Admission dispatch(const std::string& fn, const std::string& id, const std::string& version = "$LATEST") {
    const auto admitted = scheduler_->dispatch(invocation(fn, id, version));
    io_.restart();
    io_.poll();
    return admitted;
  }

  // Plays the runtime of environment `i` (the i-th started): takes its invocation and answers it.
  void answer(std::size_t i, const std::string& id) {
    ASSERT_LT(i, endpoints_.targets.size());
    // A /next with nothing to take is parked and answered later: into next_, which outlives it.
    auto& next = next_[i];
    next.reset();
    endpoints_.targets[i]->next([this, i](sandbox::NextOutcome o) { next_[i] = std::move(o); });
    ASSERT_TRUE(next && next->delivery) << "environment " << i << " has nothing to run";
    ASSERT_EQ(next->delivery->request_id, id);
    EXPECT_EQ(endpoints_.targets[i]->response(id, sandbox::RuntimePost{"1", "", false, ""}).code,
              sandbox::RuntimeReply::Code::kAccepted);
    ASSERT_EQ(completions_[id], 1);
  }

  nlohmann::json status() { return test::dispatcher_status(*scheduler_); }
  nlohmann::json status(const std::string& fn) { return test::function_status(status(), fn); }

  boost::asio::io_context io_;
  BlockingPool blocking_{io_};
  test::ManualTime clock_;
  RecordingEndpoints endpoints_;
  sandbox::RuntimeOptions runtime_options_;
  fs::path dir_;
  std::unique_ptr<sandbox::SandboxManager> manager_;
  std::unique_ptr<control_plane::FunctionRegistry> registry_;
  std::unique_ptr<Scheduler> scheduler_;
  std::map<std::string, int> completions_;
  std::map<std::string, invocation::InvocationResult> done_;
  std::vector<std::string> admitted_;
  std::map<std::size_t, std::optional<sandbox::NextOutcome>> next_;
};

// --- resolution and availability ----------------------------------------------------------------

TEST_F(SchedulerTest, QualifiersResolveToVersionsThroughTheCatalogue) {
  make({function("A", std::nullopt, "live"), function("B")});
  EXPECT_EQ(scheduler_->resolve("A", "$LATEST"), "$LATEST");
  EXPECT_EQ(scheduler_->resolve("A", ""), "$LATEST");
  EXPECT_EQ(scheduler_->resolve("A", "live"), "1");
  EXPECT_EQ(scheduler_->resolve("A", "1"), "1");
  EXPECT_EQ(scheduler_->resolve("A", "01"), std::nullopt);
  EXPECT_EQ(scheduler_->resolve("A", "2"), std::nullopt);
  EXPECT_EQ(scheduler_->resolve("A", "prod"), std::nullopt);
  EXPECT_EQ(scheduler_->resolve("B", "1"), std::nullopt) << "no AutoPublishAlias: only $LATEST";
  EXPECT_EQ(scheduler_->resolve("C", "$LATEST"), std::nullopt);
  EXPECT_TRUE(scheduler_->has_function("A"));
  EXPECT_FALSE(scheduler_->has_function("C"));

  // An alias made through the control plane is the catalogue's: the scheduler sees it at once,
  // and the invocation runs in the version's pool.
  ASSERT_TRUE(registry_->create_alias("A", control_plane::CreateAliasRequest{"prod", "1", ""}).ok());
  ASSERT_EQ(scheduler_->resolve("A", "prod"), "1");
  ASSERT_EQ(dispatch("A", "a", "1"), Admission::kAccepted);
  answer(0, "a");
  EXPECT_EQ(done_["a"].executed_version, "1");
  EXPECT_EQ(manager_->find("A", "1")->counters().invocations, 1u);
  EXPECT_EQ(manager_->find("A")->counters().invocations, 0u);
}

TEST_F(SchedulerTest, LogicalIdsAndShortNamesReachTheDeployedName) {
  auto fn = function("shop-prod-orders");
  fn.logical_id = "OrdersLambdaFunction";
  fn.short_name = "orders";
  make({fn});
  EXPECT_EQ(scheduler_->function_for("shop-prod-orders"), "shop-prod-orders");
  EXPECT_EQ(scheduler_->function_for("OrdersLambdaFunction"), "shop-prod-orders");
  EXPECT_EQ(scheduler_->function_for("orders"), "shop-prod-orders");
  EXPECT_EQ(scheduler_->function_for("nope"), "nope");
}

TEST_F(SchedulerTest, PendingAndFailedFunctionsAreUnavailable) {
  // Failed: a stored function whose code the daemon never finished unpacking.
  control_plane::FunctionRecord broken;
  broken.latest.config = function("Broken");
  broken.latest.code_hex = "00ff";
  broken.reserved = 5;
  ASSERT_TRUE(control_plane::FunctionStore(dir_ / "functions", false).save("Broken", broken).ok());
  make({function("Ready")});
  ASSERT_EQ(registry_->load_stored(), 1u);
  EXPECT_EQ(scheduler_->unavailable("Broken"), "Failed");

  // Pending: created through the control plane, its code not unpacked yet.
  control_plane::CreateFunctionRequest create;
  create.name = "New";
  create.settings.runtime = "python3.12";
  create.settings.handler = "app.handler";
  create.settings.role = "arn:aws:iam::123456789012:role/r";
  create.zip = control_plane::make_zip("app.py", "x = 1\n");
  ASSERT_TRUE(registry_->create_function(create).ok());
  EXPECT_EQ(scheduler_->unavailable("New"), "Pending");
  EXPECT_EQ(scheduler_->resolve("New", "$LATEST"), "$LATEST") << "it exists: 409, not 404";

  EXPECT_EQ(scheduler_->unavailable("Ready"), std::nullopt);
  EXPECT_EQ(scheduler_->unavailable("Nope"), std::nullopt);

  // A function without a pool still answers an invocation handed to it, once, and holds nothing.
  ASSERT_EQ(dispatch("New", "n"), Admission::kAccepted);
  EXPECT_EQ(completions_["n"], 1);
  EXPECT_EQ(done_["n"].error_type, "Sandbox.Failure");
  EXPECT_EQ(scheduler_->in_flight("New"), 0u);
  EXPECT_EQ(scheduler_->unreserved_in_flight(), 0u);
  EXPECT_TRUE(admitted_.empty());

  // The Failed function's reservation is held all the same, as GetAccountSettings says.
  EXPECT_EQ(status()["unreservedConcurrency"], 995);
  EXPECT_EQ(registry_->account_settings().unreserved_concurrent_executions, 995);
}

// --- admission ------------------------------------------------------------------------------------

TEST_F(SchedulerTest, ReservedConcurrencyThrottlesAndFreesWhenAnswered) {
  make({function("F", 2)});
  EXPECT_EQ(dispatch("F", "a"), Admission::kAccepted);
  EXPECT_EQ(dispatch("F", "b"), Admission::kAccepted);
  EXPECT_EQ(dispatch("F", "c"), Admission::kThrottledReserved);
  EXPECT_EQ(endpoints_.targets.size(), 2u) << "a throttled invocation starts nothing";
  EXPECT_EQ(scheduler_->in_flight("F"), 2u);
  EXPECT_EQ(scheduler_->unreserved_in_flight(), 0u) << "a reservation is not the shared capacity";
  answer(0, "a");
  EXPECT_EQ(scheduler_->in_flight("F"), 1u);
  EXPECT_EQ(dispatch("F", "d"), Admission::kAccepted);
  EXPECT_EQ(dispatch("F", "e"), Admission::kThrottledReserved);
  EXPECT_EQ(completions_.count("c"), 0u) << "a throttled invocation is never completed";
  EXPECT_EQ(admitted_, (std::vector<std::string>{"a", "b", "d"}));
  const auto f = status("F");
  EXPECT_EQ(f["throttles"], 2);
  EXPECT_EQ(f["invocations"], 3) << "a throttled call is not an invocation";
  EXPECT_EQ(f["inFlight"], 2);
  EXPECT_EQ(f["reservedConcurrency"], 2);
}

TEST_F(SchedulerTest, ReservedZeroThrottlesEverything) {
  make({function("F", 0)});
  EXPECT_EQ(dispatch("F", "a"), Admission::kThrottledReserved);
  EXPECT_EQ(dispatch("F", "b"), Admission::kThrottledReserved);
  EXPECT_TRUE(endpoints_.targets.empty());
  EXPECT_EQ(status("F")["throttles"], 2);
  EXPECT_EQ(status("F")["environments"], nlohmann::json::array());
}

TEST_F(SchedulerTest, ReservedConcurrencyCountsEveryVersion) {
  make({function("F", 1, "live")});
  EXPECT_EQ(dispatch("F", "a"), Admission::kAccepted);
  EXPECT_EQ(dispatch("F", "b", "1"), Admission::kThrottledReserved);
  EXPECT_EQ(manager_->find("F", "1")->counters().throttles, 1u) << "counted on the version's pool";
  EXPECT_EQ(manager_->find("F")->counters().throttles, 0u);
  answer(0, "a");
  EXPECT_EQ(dispatch("F", "c", "1"), Admission::kAccepted);
}

TEST_F(SchedulerTest, TheAccountLimitBindsUnreservedFunctionsOnly) {
  make({function("R", 1), function("U")}, 3);  // 1 reserved for R leaves 2 for everyone else
  EXPECT_EQ(dispatch("U", "u1"), Admission::kAccepted);
  EXPECT_EQ(dispatch("U", "u2"), Admission::kAccepted);
  EXPECT_EQ(dispatch("U", "u3"), Admission::kThrottledAccount);
  EXPECT_EQ(dispatch("R", "r1"), Admission::kAccepted);
  EXPECT_EQ(dispatch("R", "r2"), Admission::kThrottledReserved);
  const auto s = status();
  EXPECT_EQ(s["accountConcurrency"], 3);
  EXPECT_EQ(s["unreservedConcurrency"], 2);
  EXPECT_EQ(s["unreservedInFlight"], 2);
  EXPECT_EQ(status("U")["throttles"], 1);
  EXPECT_EQ(status("U")["reservedConcurrency"], nullptr);
  EXPECT_EQ(status("R")["throttles"], 1);
}

TEST_F(SchedulerTest, TheUnreservedShareIsSharedAndFreedWhenAnswered) {
  make({function("U"), function("V")}, 2);
  EXPECT_EQ(dispatch("U", "u1"), Admission::kAccepted);
  EXPECT_EQ(dispatch("V", "v1"), Admission::kAccepted);
  EXPECT_EQ(dispatch("U", "u2"), Admission::kThrottledAccount) << "V's invocation holds the other one";
  EXPECT_EQ(dispatch("V", "v2"), Admission::kThrottledAccount);
  answer(1, "v1");
  EXPECT_EQ(scheduler_->unreserved_in_flight(), 1u);
  EXPECT_EQ(dispatch("U", "u3"), Admission::kAccepted) << "V's answer freed a place U can take";
  EXPECT_EQ(scheduler_->in_flight("U"), 2u);
  EXPECT_EQ(scheduler_->in_flight("V"), 0u);
  EXPECT_EQ(status()["unreservedInFlight"], 2);
}

TEST_F(SchedulerTest, ReservationsChangedInTheCatalogueApplyAtOnce) {
  make({function("F", 1), function("G")}, 3);
  EXPECT_EQ(dispatch("F", "a"), Admission::kAccepted);
  EXPECT_EQ(dispatch("F", "b"), Admission::kThrottledReserved);
  EXPECT_EQ(dispatch("G", "g1"), Admission::kAccepted);
  EXPECT_EQ(dispatch("G", "g2"), Admission::kAccepted);
  EXPECT_EQ(dispatch("G", "g3"), Admission::kThrottledAccount) << "F's reservation leaves G two";

  // Without a reservation F shares the whole account: three places, G holds two.
  ASSERT_TRUE(registry_->delete_concurrency("F").ok());
  EXPECT_EQ(status("F")["reservedConcurrency"], nullptr);
  EXPECT_EQ(status()["unreservedConcurrency"], 3);
  EXPECT_EQ(dispatch("F", "c"), Admission::kAccepted);
  EXPECT_EQ(dispatch("G", "g4"), Admission::kThrottledAccount);

  // Reserved 0: F is throttled whatever is free.
  ASSERT_TRUE(registry_->put_concurrency("F", 0).ok());
  EXPECT_EQ(status("F")["reservedConcurrency"], 0);
  EXPECT_EQ(dispatch("F", "d"), Admission::kThrottledReserved);

  // Each invocation is released from the share it was admitted on: "a" (reserved) frees none of
  // the shared places, "c" (shared) frees one.
  EXPECT_EQ(scheduler_->unreserved_in_flight(), 3u);
  answer(0, "a");
  EXPECT_EQ(scheduler_->unreserved_in_flight(), 3u);
  answer(3, "c");
  EXPECT_EQ(scheduler_->unreserved_in_flight(), 2u);
  EXPECT_EQ(dispatch("G", "g5"), Admission::kAccepted);
}

TEST_F(SchedulerTest, TheStatusIsThePoolsWithAdmissionsMembers) {
  make({function("F", 1), function("G", std::nullopt, "live")}, 500);
  ASSERT_EQ(dispatch("G", "g1", "1"), Admission::kAccepted);
  const auto s = status();
  for (const char* member : {"memoryEnforcement", "memoryEnforcementMode", "accountConcurrency",
                             "unreservedConcurrency", "unreservedInFlight", "functions"}) {
    EXPECT_TRUE(s.contains(member)) << member;
  }
  EXPECT_EQ(s["accountConcurrency"], 500);
  EXPECT_EQ(s["unreservedConcurrency"], 499);
  EXPECT_EQ(s["unreservedInFlight"], 1);
  ASSERT_EQ(s["functions"].size(), 2u);
  const auto g = status("G");
  EXPECT_EQ(g["versions"], (nlohmann::json{"$LATEST", "1"}));
  EXPECT_EQ(g["alias"], "live");
  EXPECT_EQ(g["inFlight"], 1);
  EXPECT_EQ(g["reservedConcurrency"], nullptr);
  EXPECT_EQ(status("F")["reservedConcurrency"], 1);
}

TEST_F(SchedulerTest, AnInvocationAnsweredAfterTheSchedulerIsGoneStillReachesItsCaller) {
  make({function("F")});
  ASSERT_EQ(dispatch("F", "a"), Admission::kAccepted);
  scheduler_.reset();
  answer(0, "a");
  EXPECT_EQ(done_["a"].outcome, invocation::Outcome::kSuccess);
}

}  // namespace
}  // namespace lambdad::scheduler
