// The fixture of the environment's tests: the environment driven through its RuntimeApiTarget
// face, with a real (idle) process standing in for the runtime and the injected clock.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "lambdad/sandbox/execution_environment.hpp"
#include "lambdad_test/manual_time.hpp"

namespace lambdad::sandbox {
namespace {

namespace fs = std::filesystem;

class FakeEndpoint final : public RuntimeEndpoint {
 public:
  std::uint16_t port() const override { return 9; }
};

class FakeEndpoints final : public RuntimeEndpointFactory {
 public:
  Result<std::unique_ptr<RuntimeEndpoint>> open(RuntimeApiTarget& target) override {
    last = &target;
    return std::unique_ptr<RuntimeEndpoint>(std::make_unique<FakeEndpoint>());
  }
  RuntimeApiTarget* last = nullptr;
};

class Observer final : public EnvironmentObserver {
 public:
  void on_idle(ExecutionEnvironment&) override { ++idle; }
  void on_dead(ExecutionEnvironment&) override { ++dead; }
  int idle = 0;
  int dead = 0;
};

// A `provided` function whose bootstrap is a shell script: it either sleeps (a runtime that
// never calls the API by itself, so the test plays the runtime) or exits with a code.
class ExecutionEnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lambdad-env-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    write_bootstrap("exec sleep 30");
    fn_.name = "Fn";
    fn_.runtime = "provided.al2023";
    fn_.code_dir = dir_;
    fn_.timeout_seconds = 1;
  }
  void TearDown() override {
    env_.reset();
    io_.run_for(std::chrono::milliseconds(50));
    fs::remove_all(dir_);
  }

  void write_bootstrap(const std::string& body) {
    auto path = dir_ / "bootstrap";
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(path, fs::perms::owner_all);
  }

  void start(const EnvironmentOptions& options = {}) {
    EnvironmentDeps deps{io_.get_executor(), clock_, clock_, endpoints_, options_, observer_};
    auto env = ExecutionEnvironment::start(deps, fn_, 1, options);
    ASSERT_TRUE(env.ok()) << env.error().message;
    env_ = std::move(env).value();
  }

  invocation::InvocationPtr assign(const std::string& id, const std::string& payload = "{}") {
    auto inv = std::make_shared<invocation::Invocation>();
    inv->request_id = id;
    inv->function_name = "Fn";
    inv->payload = payload;
    inv->invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:Fn";
    inv->on_complete = [this](invocation::InvocationResult r) { results_.push_back(std::move(r)); };
    env_->assign(inv);
    return inv;
  }

  RuntimeReply restore_next() {
    std::optional<RuntimeReply> got;
    env_->restore_next([&](RuntimeReply r) { got = r; });
    EXPECT_TRUE(got.has_value()) << "restore_next() parked";
    return got.value_or(RuntimeReply{RuntimeReply::Code::kInternal, {}, {}});
  }

  static EnvironmentOptions snap_start() {
    EnvironmentOptions options;
    options.snap_start = true;
    return options;
  }

  NextOutcome next() {
    std::optional<NextOutcome> got;
    env_->next([&](NextOutcome o) { got = std::move(o); });
    EXPECT_TRUE(got.has_value()) << "next() parked";
    return got.value_or(NextOutcome{});
  }

  // Runs the io_context until `pred` or a hard limit (a deadlock guard).
  template <class Pred>
  bool run_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) io_.run_for(std::chrono::milliseconds(5));
    return pred();
  }

  boost::asio::io_context io_;
  test::ManualTime clock_;  // deadlines fire when the test moves time, never by sleeping
  FakeEndpoints endpoints_;
  RuntimeOptions options_;
  Observer observer_;
  config::FunctionConfig fn_;
  fs::path dir_;
  std::unique_ptr<ExecutionEnvironment> env_;
  std::vector<invocation::InvocationResult> results_;
};

}  // namespace
}  // namespace lambdad::sandbox
