// sandbox: the execution environments of one function. An invocation takes an available warm
// environment, else a new one is started (a cold start); admission (concurrency limits) is decided
// before, by the SandboxManager, so every admitted invocation gets an environment of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lambdad/common/lifetime.hpp"
#include "lambdad/sandbox/execution_environment.hpp"
#include "lambdad/sandbox/snapshot.hpp"

namespace lambdad::sandbox {

struct PoolDeps {
  Executor executor;  // the domain's
  const Clock& clock;
  Timers& timers;  // on clock's time line
  RuntimeEndpointFactory& endpoints;
  const RuntimeOptions& runtime_options;
  LimitDeps limits = {};
};

struct PoolOptions {
  bool force_cold = false;                        // a fresh environment for every invoke
  std::chrono::milliseconds idle_timeout{600000};  // 0 = never reclaim
  std::chrono::milliseconds cold_start_delay{0};
  std::string version = "$LATEST";  // the function version this pool's environments run
  // Once the function has had a cold start, keep one sandbox made ahead for the next
  // (docs/decisions/022; needs RuntimeOptions::holder).
  bool prepare_ahead = false;
};

struct PoolCounters {
  std::uint64_t invocations = 0;
  std::uint64_t cold_starts = 0;
  std::uint64_t throttles = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t oom_kills = 0;
};

class FunctionPool final : public EnvironmentObserver {
 public:
  FunctionPool(const PoolDeps& deps, config::FunctionConfig fn, PoolOptions options = {});
  ~FunctionPool() override;

  const config::FunctionConfig& config() const { return fn_; }
  const std::string& version() const { return options_.version; }
  // Runs an admitted invocation.
  void submit(invocation::InvocationPtr inv);
  // Starts `count` environments ahead of demand (EAGER, provisioned concurrency).
  void prewarm(std::size_t count, bool provisioned);
  // Managed instances (function_pool_managed.cpp): starts environments up to the function's
  // minimum; whether an invoke has a slot now or may have one without a cold start (the
  // scheduler throttles it otherwise). Always true for a classic pool.
  void keep_minimum();
  bool has_capacity();
  // Drains warm environments (busy ones after their invoke). Returns how many were affected.
  std::size_t evict();
  // New code or configuration: environments started from now on run `fn`; the existing ones
  // drain as in evict(). Returns how many were drained.
  std::size_t replace_config(config::FunctionConfig fn);
  // Retires environments idle since before now - idle_timeout (never provisioned ones).
  std::size_t reclaim_idle(Clock::Steady::time_point now);
  // Kills every environment; queued and running invocations fail with Sandbox.Failure and
  // `reason` as the message.
  void shutdown(const std::string& reason = "the daemon is shutting down");
  // Request ids of the invocations submitted and not yet answered (queued or running).
  void unfinished(std::vector<std::string>& request_ids) const;

  std::size_t in_flight() const { return in_flight_; }
  std::size_t environment_count() const { return envs_.size(); }
  // After shutdown(): the environments whose extensions still have their shutdown budget.
  std::size_t closing() const { return shut_down_ ? envs_.size() : 0; }
  std::size_t queued() const { return queue_.size(); }
  PoolCounters& counters() { return counters_; }
  void status(nlohmann::json& out) const;

  // EnvironmentObserver
  void on_idle(ExecutionEnvironment& env) override;
  void on_dead(ExecutionEnvironment& env) override;
  void on_restored_in_place(ExecutionEnvironment& env) override;

 private:
  void pump();
  // Managed instances (function_pool_managed.cpp).
  bool managed() const;
  std::size_t live_environments() const;
  std::size_t min_environments() const;  // at least one: there is no cold start in this mode
  std::size_t max_environments() const;
  // Assigns the queue's first invocation to the environment with the most free slots; false when
  // it has to wait for a slot.
  bool pump_managed();
  void scale_ahead();
  void managed_status(nlohmann::json& out) const;
  ExecutionEnvironment* start_environment(const EnvironmentOptions& options, Error* error,
                                          std::unique_ptr<process::TmpDir> tmp);
  // What this pool's environments are started with (on demand, or provisioned).
  EnvironmentDeps environment_deps();
  EnvironmentOptions environment_options(bool provisioned = false) const;
  // The /tmp a replacement inherits (a failed environment's), or nullptr.
  std::unique_ptr<process::TmpDir> take_spare_tmp();
  // The sandbox made ahead, started; nullptr when there is none or it could not start.
  ExecutionEnvironment* start_ready();
  // Once the function has cold-started and an invoke has ended: makes the next sandbox ahead,
  // after the current handler has returned.
  void refill_later();
  void discard_ready();
  void fail_without_environment(const invocation::InvocationPtr& inv, const Error& error);

  // SnapStart (docs/decisions/023), in function_pool_snapshot.cpp.
  bool snap_start() const;
  bool snapshot_forks() const;
  // A cold start by way of the snapshot: the environment that becomes it, or a copy of it;
  // nullptr: start the usual way (in place, when no snapshot can be made).
  ExecutionEnvironment* snap_start_cold();
  ExecutionEnvironment* start_snapshot();
  ExecutionEnvironment* restore_copy();
  // Forks a copy of the snapshot into a sandbox being made ahead, when there is a snapshot.
  bool copy_ahead(ExecutionEnvironment& env);
  void snapshot_ready();
  void drop_snapshot(const std::string& why);
  void snapshot_status(nlohmann::json& out) const;

  PoolDeps deps_;
  config::FunctionConfig fn_;
  PoolOptions options_;
  PoolCounters counters_;
  std::deque<invocation::InvocationPtr> queue_;
  std::vector<std::unique_ptr<ExecutionEnvironment>> envs_;
  std::unique_ptr<ExecutionEnvironment> ready_;  // made ahead, not started (prepare_ahead)
  // SnapStart: the snapshot (its socket, and once ready its environment), and the environment
  // initialising to become it (in envs_ until then).
  std::unique_ptr<Snapshot> snapshot_;
  ExecutionEnvironment* snapshot_candidate_ = nullptr;
  bool snapshot_stale_ = false;     // new code came while the candidate initialised
  bool snapshot_in_place_ = false;  // the runtime restores in place: no snapshot is made
  std::uint64_t restores_ = 0;
  bool refill_pending_ = false;
  // /tmp directories of environments that failed (timeout, crash, OOM): their replacements get
  // them, as Lambda keeps /tmp across a reset.
  std::vector<std::unique_ptr<process::TmpDir>> spare_tmp_;
  std::size_t in_flight_ = 0;
  std::uint64_t next_serial_ = 1;
  bool pumping_ = false;
  std::size_t starts_this_turn_ = 0;  // cold starts since the loop last ran our posted pump()
  static constexpr std::size_t kColdStartsPerTurn = 1;
  bool shut_down_ = false;
  Lifetime lifetime_;
};

}  // namespace lambdad::sandbox
