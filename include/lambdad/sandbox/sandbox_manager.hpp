// sandbox: every function's pools (one per version: $LATEST, and the published version its alias
// names), and the account-level concurrency accounting that decides admission the way Lambda
// does: a function with reserved concurrency R runs at most R invocations at once across all its
// versions; the others share what the reservations leave of the account limit.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lambdad/common/lifetime.hpp"
#include "lambdad/invocation/dispatcher.hpp"
#include "lambdad/sandbox/function_pool.hpp"

namespace lambdad::sandbox {

struct ManagerOptions {
  int account_concurrency = 1000;
  bool eager = false;  // --warm-containers EAGER: one initialised environment per function at startup
  PoolOptions pool;
  // By runtime ("python3.12") or function name; overrides pool.cold_start_delay.
  std::map<std::string, std::chrono::milliseconds> cold_start_delay_by_runtime;
  std::string memory_enforcement = "off";       // description, reported by /_lambdad/status
  std::string memory_enforcement_mode = "off";  // "cgroup", "sample" or "off"
  // Called with each admitted invocation: the local X-Ray listener learns which function a
  // sampled trace belongs to.
  std::function<void(const invocation::Invocation&)> on_admitted;
};

class SandboxManager final : public invocation::Dispatcher {
 public:
  SandboxManager(const PoolDeps& deps, const std::vector<config::FunctionConfig>& functions,
                 ManagerOptions options = {});
  ~SandboxManager() override;

  // Lambda's rule: reservations may not leave fewer than 100 unreserved.
  static Status validate(const std::vector<config::FunctionConfig>& functions, int account_concurrency);

  // Pre-initialises provisioned and EAGER environments and starts idle reclaim.
  void start();

  bool has_function(const std::string& name) const override { return functions_.count(name) != 0; }
  std::optional<std::string> resolve(const std::string& name, const std::string& qualifier) const override;
  bool tracing_active(const std::string& name, const std::string& version) const override;
  invocation::Admission dispatch(invocation::InvocationPtr inv) override;
  std::optional<std::size_t> evict(const std::string& name) override;
  std::string status_json() const override;

  FunctionPool* find(const std::string& name, const std::string& version = "$LATEST");
  // Kills every environment; what is queued or running fails with Sandbox.Failure and `reason`.
  void shutdown(const std::string& reason = "the daemon is shutting down");

  // An invocation admitted and not yet answered (queued for an environment, or running).
  struct Unfinished {
    std::string function;
    std::string version;
    std::string request_id;
  };
  std::vector<Unfinished> unfinished() const;

  // Changes while running (the control plane, docs/decisions/008). A pool that goes away
  // drains: its running invokes finish, then its environments stop.
  // Creates the pool of (fn.name, version) running `fn`, or hands the existing one `fn`: its
  // environments drain and the next invoke cold-starts the new code or configuration.
  void put_version(const config::FunctionConfig& fn, const std::string& version);
  void remove_version(const std::string& name, const std::string& version);
  void remove_function(const std::string& name);
  // nullopt: the function shares the unreserved capacity. The 100-unreserved rule is the
  // caller's to check (validate()).
  void set_reserved_concurrency(const std::string& name, std::optional<int> reserved);
  int account_concurrency() const { return options_.account_concurrency; }

 private:
  struct Function {
    config::FunctionConfig config;  // $LATEST's
    std::optional<int> reserved;
    std::map<std::string, std::unique_ptr<FunctionPool>> pools;  // by version
    std::size_t in_flight() const;
  };

  PoolOptions pool_options_for(const config::FunctionConfig& fn, const std::string& version) const;
  void retire(std::unique_ptr<FunctionPool> pool);
  void sweep_retired();
  void recompute_unreserved();
  void schedule_reclaim();

  PoolDeps deps_;
  ManagerOptions options_;
  std::map<std::string, Function> functions_;
  std::vector<std::unique_ptr<FunctionPool>> retired_;  // draining after removal
  int unreserved_capacity_ = 0;
  int unreserved_in_flight_ = 0;
  std::unique_ptr<Timer> reclaim_timer_;
  Lifetime lifetime_;
  bool shut_down_ = false;
};

}  // namespace lambdad::sandbox
