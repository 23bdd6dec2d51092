// sandbox: every function's pools (one per version: $LATEST and each published version), their
// environments ahead of demand (provisioned, EAGER), idle reclaim and eviction. Which pool an
// invocation goes to, and whether it may run now, is the scheduler's (docs/decisions/018): it
// submits admitted invocations to find(name, version). Which pools exist follows the function
// catalogue's changes (docs/decisions/019).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lambdad/control_plane/catalogue_change.hpp"
#include "lambdad/sandbox/function_pool.hpp"

namespace lambdad::sandbox {

struct ManagerOptions {
  bool eager = false;  // --warm-containers EAGER: one initialised environment per function at startup
  PoolOptions pool;
  // By runtime ("python3.12") or function name; overrides pool.cold_start_delay.
  std::map<std::string, std::chrono::milliseconds> cold_start_delay_by_runtime;
  std::string memory_enforcement = "off";       // description, reported by /_lambdad/status
  std::string memory_enforcement_mode = "off";  // "cgroup", "sample" or "off"
};

class SandboxManager final {
 public:
  // Starts with no pools: they follow the catalogue's changes (follow), or put_version.
  explicit SandboxManager(const PoolDeps& deps, ManagerOptions options = {});
  ~SandboxManager();
  SandboxManager(const SandboxManager&) = delete;
  SandboxManager& operator=(const SandboxManager&) = delete;

  // Pre-initialises provisioned and EAGER environments and starts idle reclaim.
  void start();

  bool has_function(const std::string& name) const { return functions_.count(name) != 0; }
  // The pool of the function's version, nullptr when there is none.
  FunctionPool* find(const std::string& name, const std::string& version = "$LATEST");
  // Drains the function's warm environments (busy ones after their invoke); nullopt if unknown.
  std::optional<std::size_t> evict(const std::string& name);
  // The pools' part of GET /_lambdad/status: memory enforcement, and one entry per function (its
  // versions' environments together, counters summed). Admission's members are the scheduler's.
  void status(nlohmann::json& out) const;
  // Kills every environment; what is queued or running fails with Sandbox.Failure and `reason`.
  void shutdown(const std::string& reason = "the daemon is shutting down");

  // An invocation admitted and not yet answered (queued for an environment, or running).
  struct Unfinished {
    std::string function;
    std::string version;
    std::string request_id;
  };
  std::vector<Unfinished> unfinished() const;
  // After shutdown(): how many environments' extensions still have their shutdown budget.
  std::size_t closing() const;

  // Changes while running (the control plane, docs/decisions/008). A pool that goes away
  // drains: its running invokes finish, then its environments stop.
  // Creates the pool of (fn.name, version) running `fn`, or hands the existing one `fn`: its
  // environments drain and the next invoke cold-starts the new code or configuration.
  void put_version(const config::FunctionConfig& fn, const std::string& version);
  void remove_version(const std::string& name, const std::string& version);
  void remove_function(const std::string& name);
  // Follows the function catalogue (docs/decisions/019): VersionPut, VersionRemoved and
  // FunctionRemoved are the three calls above; Event settings are the Event queue's.
  void follow(const control_plane::CatalogueChange& change);

 private:
  struct Function {
    config::FunctionConfig config;  // $LATEST's
    std::map<std::string, std::unique_ptr<FunctionPool>> pools;  // by version
  };

  PoolOptions pool_options_for(const config::FunctionConfig& fn, const std::string& version) const;
  void retire(std::unique_ptr<FunctionPool> pool);
  void sweep_retired();
  void schedule_reclaim();

  PoolDeps deps_;
  ManagerOptions options_;
  std::map<std::string, Function> functions_;
  std::vector<std::unique_ptr<FunctionPool>> retired_;  // draining after removal
  std::unique_ptr<Timer> reclaim_timer_;
  bool shut_down_ = false;
};

}  // namespace lambdad::sandbox
