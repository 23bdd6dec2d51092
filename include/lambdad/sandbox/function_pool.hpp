// sandbox: the execution environments of one function and the invocations waiting for them.
// An invocation takes an available warm environment, else a new one is started (a cold start)
// while fewer than max_environments exist; otherwise it waits its turn, in arrival order.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "lambdad/sandbox/execution_environment.hpp"

namespace lambdad::sandbox {

struct PoolDeps {
  boost::asio::io_context& io;
  const Clock& clock;
  RuntimeEndpointFactory& endpoints;
  const RuntimeOptions& runtime_options;
};

class FunctionPool final : public EnvironmentObserver {
 public:
  FunctionPool(const PoolDeps& deps, config::FunctionConfig fn, std::size_t max_environments = 1);
  ~FunctionPool() override;

  const config::FunctionConfig& config() const { return fn_; }
  void submit(invocation::InvocationPtr inv);
  // Kills every environment; queued invocations fail with Sandbox.Failure.
  void shutdown();

  std::size_t environment_count() const { return envs_.size(); }
  std::size_t queued() const { return queue_.size(); }

  // EnvironmentObserver
  void on_idle(ExecutionEnvironment& env) override;
  void on_dead(ExecutionEnvironment& env) override;

 private:
  void pump();
  void fail_without_environment(const invocation::InvocationPtr& inv, const Error& error);

  PoolDeps deps_;
  config::FunctionConfig fn_;
  std::size_t max_environments_;
  std::deque<invocation::InvocationPtr> queue_;
  std::vector<std::unique_ptr<ExecutionEnvironment>> envs_;
  std::uint64_t next_serial_ = 1;
  bool pumping_ = false;
  bool shut_down_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lambdad::sandbox
