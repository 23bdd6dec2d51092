// sandbox: one execution environment — a runtime process, its private Runtime API endpoint and
// the invocations it is serving: one at a time, or in managed-instances mode up to
// AWS_LAMBDA_MAX_CONCURRENCY at once (its slots, docs/decisions/028). Lifecycle
// (docs/architecture.md): Spawning -> Initializing -> Idle <-> Busy -> Dead; the Runtime API
// protocol state is RuntimeState.
//
// All methods run on the daemon's io thread. The owner (a FunctionPool) learns about idleness and
// death through EnvironmentObserver and must not destroy an environment from inside one of its
// callbacks (post the destruction instead).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/clock.hpp"
#include "lambdad/common/executor.hpp"
#include "lambdad/common/timer.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/invocation/invocation.hpp"
#include "lambdad/observability/platform_log.hpp"
#include "lambdad/process/child_process.hpp"
#include "lambdad/process/resource_limits.hpp"
#include "lambdad/sandbox/extensions.hpp"
#include "lambdad/sandbox/runtime_api_target.hpp"
#include "lambdad/sandbox/runtime_launcher.hpp"
#include "lambdad/sandbox/telemetry.hpp"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace lambdad::sandbox {

class ExecutionEnvironment;

class EnvironmentObserver {
 public:
  virtual ~EnvironmentObserver() = default;
  // The environment can take another invocation.
  virtual void on_idle(ExecutionEnvironment& env) = 0;
  // The environment is finished (process gone or killed); the owner should drop it.
  virtual void on_dead(ExecutionEnvironment& env) = 0;
  // A SnapStart environment's runtime called /restore/next itself: it restores in place instead of
  // offering itself as the snapshot (docs/decisions/023).
  virtual void on_restored_in_place(ExecutionEnvironment& /*env*/) {}
};

// Where environments get their limits and private /tmp; both optional (unit tests run without).
struct LimitDeps {
  process::ResourceController* resources = nullptr;
  std::filesystem::path tmp_root;  // empty: no private /tmp
  bool cpu_scaling = false;        // CPU in proportion to memory, 1769 MB = one vCPU
  // Where the checks of a Runtime API connection's owner read /proc (docs/decisions/001);
  // without one they run on the io thread.
  BlockingPool* blocking = nullptr;
  // Where a private /tmp goes when its environment or pool is done with it (a remove_all); with
  // none, it is removed in place.
  std::shared_ptr<PoolLink> tmp_removal;
};

struct EnvironmentDeps {
  Executor executor;  // the domain's: the runtime's watch and the environment's posts run on it
  const Clock& clock;
  Timers& timers;  // on clock's time line
  RuntimeEndpointFactory& endpoints;
  const RuntimeOptions& runtime_options;
  EnvironmentObserver& observer;
  LimitDeps limits = {};
};

struct EnvironmentOptions {
  // Simulated extra init time, added before the first invocation is delivered and reported in
  // Init Duration (--cold-start-delay).
  std::chrono::milliseconds cold_start_delay{0};
  bool provisioned = false;  // AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency; never reclaimed
  std::string version = "$LATEST";  // the function version this environment runs
  // Lambda's init limit for an environment initialising ahead of demand.
  std::chrono::milliseconds init_limit{std::chrono::seconds(limits::kInitTimeoutSeconds)};
  // SnapStart (docs/decisions/023): AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, /restore/next
  // allowed; with a socket name, the runtime may offer itself as the snapshot there.
  bool snap_start = false;
  std::string snapshot_socket;
};

class Snapshot;

class ExecutionEnvironment final : public RuntimeApiTarget {
 public:
  // Opens the Runtime API endpoint and starts the runtime process. On failure (e.g. a missing
  // bootstrap) returns the Lambda error (type Runtime.InvalidEntrypoint, ...).
  static Result<std::unique_ptr<ExecutionEnvironment>> start(const EnvironmentDeps& deps,
                                                             const config::FunctionConfig& fn,
                                                             std::uint64_t serial,
                                                             const EnvironmentOptions& options = {},
                                                             std::unique_ptr<process::TmpDir> tmp = nullptr);
  // A sandbox made ahead (docs/decisions/022): everything start() does but the runtime's exec:
  // the endpoint, the cgroup, the /tmp, and a child that has joined, limited and laid out its
  // root and waits (RuntimeOptions::holder). It takes no invocation and logs nothing until go().
  static Result<std::unique_ptr<ExecutionEnvironment>> prepare(const EnvironmentDeps& deps,
                                                               const config::FunctionConfig& fn,
                                                               std::uint64_t serial,
                                                               const EnvironmentOptions& options = {});
  // Starts a prepared environment's runtime: its Init begins now (INIT_START, Init Duration from
  // here). An Error when its setup or the exec failed; the environment is then dead.
  Status go();
  // Prepared and not yet started.
  bool held() const { return held_; }
  // Forks a copy of `snapshot`'s runtime into this prepared environment (docs/decisions/023). The
  // copy takes over from the held child and waits in /restore/next; go() then restores it
  // (RESTORE_START, Restore Duration from there to its first /next). An Error when the request
  // could not be made; the environment is then held as before (go() starts its runtime).
  // `ahead`: the copy is made ahead of its cold start (RestoreTarget::ahead).
  Status restore(Snapshot& snapshot, bool ahead);
  bool is_copy() const { return restored_; }
  // This environment's runtime has offered itself as the snapshot: INIT_REPORT; it takes no
  // invocation from now on. Returns the invocation it was started for (not delivered), if any.
  invocation::InvocationPtr become_snapshot();
  bool is_snapshot() const { return snapshot_; }
  ~ExecutionEnvironment() override;

  // Takes an invocation; only when available(). It is delivered when the runtime asks /next.
  void assign(invocation::InvocationPtr inv);
  // A free slot. Not while an extension still works on the last invoke (docs/decisions/024).
  bool available() const { return free_slots() > 0; }
  std::size_t free_slots() const {
    if (dead_ || resetting_ || ending_ || snapshot_ || !extensions_->ready()) return 0;
    return slots_.size() >= capacity_ ? 0 : capacity_ - slots_.size();
  }
  // Invocations at once: AWS_LAMBDA_MAX_CONCURRENCY in managed-instances mode, else 1.
  std::size_t capacity() const { return capacity_; }
  std::size_t slots_in_use() const { return slots_.size(); }
  bool dead() const { return dead_; }
  std::uint64_t serial() const { return serial_; }
  // Kills the process group; the current invocations fail with `reason` (Sandbox.Failure).
  void kill(const std::string& reason);
  // Ends an environment that has nothing to do (evicted, reclaimed, force-cold); logs `why`.
  void retire(const std::string& why);
  // Marks the environment to be retired once its current invocation is answered.
  void drain() { draining_ = true; }
  bool draining() const { return draining_; }
  bool provisioned() const { return options_.provisioned; }
  // Dead, and its extensions have their shutdown budget (docs/decisions/024).
  bool shutting_down() const { return shutting_down_; }
  bool initialized() const { return init_duration_ms_.has_value(); }
  bool busy() const { return !slots_.empty() || ending_.has_value(); }
  // The request ids of the invocations it runs (assigned, not yet answered).
  void unfinished(std::vector<std::string>& request_ids) const {
    for (const auto& slot : slots_) request_ids.push_back(slot.inv->request_id);
  }
  std::uint64_t invocations_served() const { return served_; }
  // Tenant isolation (lambda-spec §12): the tenant of the first invocation assigned here, which
  // is then the only one this environment serves; nullopt before it (or without a tenant).
  const std::optional<std::string>& tenant() const { return tenant_; }
  Clock::Steady::time_point created_at() const { return spawned_at_; }  // a held one's: when it was made
  pid_t pid() const;
  Clock::Steady::time_point idle_since() const { return idle_since_; }
  // The private /tmp, handed to the environment that replaces this one after a failure (Lambda
  // keeps /tmp across a reset); nullptr after retire() or when there is none.
  std::unique_ptr<process::TmpDir> take_tmp() { return retired_ ? nullptr : std::move(tmp_); }
  // The invocations assigned here that the runtime never received because it died first (after
  // its init): the owner runs them in another environment. Empty when there are none; once.
  std::vector<invocation::InvocationPtr> take_undelivered() { return std::move(undelivered_); }
  // "initializing", "idle", "busy" or "dead", for /_lambdad/status and the log.
  std::string_view state_label() const;

  // RuntimeApiTarget
  void next(NextCallback done) override;
  RuntimeReply response(std::string_view request_id, RuntimePost post) override;
  RuntimeReply error(std::string_view request_id, RuntimePost post) override;
  RuntimeReply init_error(RuntimePost post) override;
  void restore_next(std::function<void(RuntimeReply)> done) override;
  RuntimeReply restore_error(RuntimePost post) override;
  // Only a process of this environment: its runtime, what the runtime started (same cgroup,
  // or same process group where there is no cgroup). The socket tables and /proc are read on the
  // blocking pool when there is one (LimitDeps::blocking).
  void admit(const TcpPeer& client, std::function<void(bool)> decide) override;
  RuntimeReply stream_begin(std::string_view request_id, std::string content_type) override;
  RuntimeReply stream_chunk(std::string_view request_id, std::string data, std::function<void()> ready) override;
  RuntimeReply stream_end(std::string_view request_id, StreamEnd end) override;

  Extensions* extensions() override { return extensions_.get(); }
  Telemetry* telemetry() override { return telemetry_.get(); }
  // Its own loopback address: sandbox.localdomain inside it (docs/decisions/025).
  const std::string& sandbox_address() const { return sandbox_address_; }

  RuntimeState runtime_state() const { return state_; }

 private:
  static Result<std::unique_ptr<ExecutionEnvironment>> launch(const EnvironmentDeps& deps,
                                                              const config::FunctionConfig& fn, std::uint64_t serial,
                                                              const EnvironmentOptions& options,
                                                              std::unique_ptr<process::TmpDir> tmp, bool held);
  void begin_init();
  void initializing();
  ExecutionEnvironment(const EnvironmentDeps& deps, const config::FunctionConfig& fn, std::uint64_t serial,
                       const EnvironmentOptions& options);
  void handle_next(NextCallback done);
  // The environment's cgroup and /tmp directory name, unique in the daemon.
  std::string resource_name() const;
  // Whether /tmp is due to be measured after an invoke (at most once a second), and the warning
  // for `used` bytes when that is more than EphemeralStorage.
  bool tmp_check_due() const;
  // The group's peak memory for REPORT (group_ set).
  std::uint64_t group_peak_bytes();
  std::optional<std::string> tmp_overrun(std::uint64_t used) const;
  Status apply_limits(const LimitDeps& limits, process::SpawnSpec& spec, std::unique_ptr<process::TmpDir> tmp);

  // One invocation in flight: the one of a classic environment, or one slot's.
  struct Current {
    invocation::InvocationPtr inv;
    std::unique_ptr<Timer> deadline;  // arm_deadline()
    bool delivered = false;
    Clock::Steady::time_point delivered_at{};
    std::string log;  // START..REPORT lines, capped (see kLogCap)
    // A streamed /response in progress (stream_begin .. stream_end).
    struct Stream {
      std::string content_type;
      std::string buffer;  // without a streaming invoker: the response so far
      std::size_t bytes = 0;
    };
    std::optional<Stream> stream;
  };
  bool streaming(std::string_view request_id) const;
  // An answered invocation on its way out: its END and REPORT, then its completion.
  struct Ending {
    Current cur;
    invocation::InvocationResult result;
    observability::ReportFields report;
    bool out_of_memory = false;
  };

  bool managed() const { return fn_.managed_instances.has_value(); }
  // The invocation in flight with this id, or nullptr; the first one (a classic environment's
  // only one), or nullptr.
  Current* slot(std::string_view request_id);
  Current* first() { return slots_.empty() ? nullptr : &slots_.front(); }
  const Current* first() const { return slots_.empty() ? nullptr : &slots_.front(); }
  Current* undelivered();
  std::optional<RuntimeReply> validate_post(std::string_view request_id, RuntimeEvent event);
  void handle_next_managed(NextCallback done);
  // An answered id stays known to the Runtime API: a second post for it is a refused transition.
  void remember_answered(const std::string& request_id);
  bool was_answered(std::string_view request_id) const;
  RuntimeReply accept_response(Current& cur, RuntimePost post);
  void deliver(Current& cur, NextCallback& done);
  // The invocation has begun for REPORT's Duration: stamp it and log START.
  void mark_started(Current& cur);
  Delivery make_delivery(const Current& cur) const;
  void arm_deadline(Current& cur);
  void arm_init_limit();
  void on_deadline(Current& cur);
  void on_output(std::string_view line);
  void on_exit(const process::ExitStatus& status);
  // The snapshot forked the copy `pid` (or failed to): adopt it and let it go.
  void restored(Result<pid_t> pid, int output, int go);
  // go() of a copy: the restore begins.
  void begin_restore();
  process::ChildCallbacks child_callbacks();
  // Completes the invocation; `status`/`status_error` go into REPORT.
  void finish(Current& cur, invocation::InvocationResult result, std::string status = {});
  // Logs END and REPORT (after `tmp_warning`) and completes the invocation.
  void end(Ending ending, std::optional<std::string> tmp_warning);
  // Ends the invocation that waits for its /tmp measure (ending_), with what the measure found,
  // if it still waits; then offers the environment, unless it is dying.
  void end_pending(std::optional<std::string> tmp_warning);
  // After an answer: the environment can take another invocation (once its invoke has ended).
  void offer();
  // Every invocation in flight fails with `error_type` (those not yet delivered are started for
  // START, END and REPORT).
  void fail_all(std::string_view error_type, const std::string& detail, const std::string& status);
  void fail(Current& cur, std::string_view error_type, const std::string& detail, const std::string& status);
  void become_dead();
  // A platform line: to the function log and, with `cur`, to that invoke's log.
  void log_line(Current* cur, const std::string& line);
  // Extensions (environment_extensions.cpp, docs/decisions/024).
  void setup_extensions();
  // The runtime's first /next: registration closes; false (and `done` kept) while an extension
  // has not reached its /event/next yet, so the init phase goes on.
  bool init_waits_for_extensions(NextCallback& done);
  void extensions_ready();
  void extension_failed();
  // Ends the environment with `error_type` for the invoke it runs or waits for (the init's end
  // too, when it had not ended).
  void fail_environment(std::string_view error_type, const std::string& detail);
  void invoke_extensions();
  // After the runtime's answer, while an extension still works on the invoke: the function's
  // timeout covers both; past it the environment is reset.
  void wait_for_extensions();
  // External extensions (the executables of /opt/extensions) start before the runtime, which
  // waits in the holder until every one has registered.
  Status start_extensions();  // an Error (Extension.LaunchError) when one cannot be started
  void release_runtime();
  void extension_exited(const std::string& name, const process::ExitStatus& status);
  void on_extension_output(std::string_view line);
  // Telemetry (environment_telemetry.cpp, docs/decisions/025): the platform events of each phase.
  std::string initialization_type() const;
  // The records of platform.initStart, platform.start and platform.report (the Telemetry API's
  // carry the trace; the log's, as lambda-spec §15 shows them, do not).
  nlohmann::ordered_json init_start_record() const;
  nlohmann::ordered_json start_record(const Current& cur, bool with_tracing) const;
  static nlohmann::ordered_json report_record(const observability::ReportFields& f, double duration,
                                              const std::string& trace_id, const std::optional<std::string>& tenant_id);
  // LogFormat JSON (always with slots): the platform lines are those records, as
  // {"time","type","record"} (lambda-spec §15), kept or not by SystemLogLevel.
  bool json_logs() const;
  void log_platform(Current* cur, std::string_view type, nlohmann::ordered_json record);
  // platform.initReport in JSON logs (Text logs tell of init in REPORT's Init Duration).
  void log_init_report(std::string_view status, std::string_view error_type = {});
  void telemetry_init_start();
  void telemetry_runtime_ready();  // platform.initRuntimeDone, once: the runtime's first /next
  // platform.initReport (and initRuntimeDone if not yet sent) with `status`; subscriptions close.
  void telemetry_init_end(std::string_view status, std::string_view error_type = {});
  void telemetry_start(const Current& cur);
  void telemetry_runtime_done(const Current& cur, const invocation::InvocationResult& result,
                              const std::string& status);
  // platform.report once the invoke has ended, extensions included (at once, or when they wait
  // again, or when the environment ends).
  void telemetry_report(const Ending& ending);
  void telemetry_pending_report();
  // The environment ends (lambda-spec §2.4): without extensions its processes are killed at once;
  // with them, SHUTDOWN (shutdown_reason_) to the subscribed ones, SIGTERM to the runtime, and
  // the budget (2,000 ms with external extensions, 500 ms with internal ones only) before the
  // rest is killed. The owner hears of the death once that is over.
  void shut_down_processes();
  void finish_shutdown_if_done();
  void finish_shutdown();

  Executor executor_;
  const Clock& clock_;
  RuntimeEndpointFactory& endpoints_;
  const RuntimeOptions& runtime_options_;
  BlockingPool* blocking_;  // may be null
  EnvironmentObserver& observer_;
  config::FunctionConfig fn_;
  std::uint64_t serial_;
  EnvironmentOptions options_;
  std::string log_prefix_;
  std::shared_ptr<spdlog::logger> flog_;  // function output and platform lines

  std::unique_ptr<RuntimeEndpoint> endpoint_;
  std::unique_ptr<process::TmpDir> tmp_;
  std::unique_ptr<process::ResourceGroup> group_;
  std::unique_ptr<process::ChildProcess> process_;
  RuntimeState state_ = RuntimeState::kStarted;
  bool dead_ = false;
  bool dead_notified_ = false;
  bool held_ = false;  // prepare()d, go() not yet called
  // Restoring (a copy from go(), in place from /restore/next) until the first /next: 10 s at most.
  bool restoring_ = false;
  Clock::Steady::time_point restore_started_{};
  std::function<void(RuntimeReply)> parked_restore_;  // the copy's /restore/next, until go()
  bool restored_ = false;   // started by restore(): REPORT shows Restore Duration
  bool copy_adopted_ = false;  // the snapshot has forked the copy and it is process_
  bool snapshot_ = false;   // become_snapshot()
  std::string working_directory_;  // where the runtime starts (a restored copy enters it too)
  std::string tmpdir_;             // its TMPDIR (a host directory where /tmp is not its own)
  std::string layers_note_;  // for the "initializing" line: where the layers are
  Clock::Steady::time_point spawned_at_{};
  std::optional<double> init_duration_ms_;  // set at the first /next; reported once
  bool init_reported_ = false;
  bool delay_pending_ = false;   // the simulated cold-start delay is running
  bool draining_ = false;
  bool retired_ = false;
  std::uint64_t served_ = 0;
  std::optional<std::string> tenant_;
  std::optional<Clock::Steady::time_point> tmp_checked_;  // when tmp_overrun last measured
  std::optional<Clock::Steady::time_point> peak_read_at_;  // group_peak_bytes()'s last reading
  std::uint64_t peak_bytes_ = 0;
  Clock::Steady::time_point idle_since_{};
  // In flight, in the order assigned: at most capacity_ (a std::list: a slot stays where it is).
  std::list<Current> slots_;
  std::size_t capacity_ = 1;
  std::vector<std::unique_ptr<Timer>> spare_timers_;  // deadlines of answered invokes, for the next
  bool resetting_ = false;  // failing every slot: it takes nothing meanwhile
  // Answered, waiting for its /tmp measure on the blocking pool before its END and REPORT: the
  // environment takes no other invocation meanwhile.
  std::optional<Ending> ending_;
  std::vector<invocation::InvocationPtr> undelivered_;  // see take_undelivered()
  std::string answered_id_;  // the id just answered, bound until the runtime's next /next
  // Managed instances: the ids answered lately (a post for one is refused, not invalid).
  std::deque<std::string> answered_ids_;
  std::string timed_out_id_;  // the invocation that timed out here: a late post for it gets 410
  // The runtime's /next waiting for an invocation: one in a classic environment (a newer one
  // replaces it), one per idle slot in managed-instances mode.
  std::deque<NextCallback> parked_;
  std::unique_ptr<Extensions> extensions_;
  Timers& timers_;
  std::string sandbox_address_;
  std::unique_ptr<Telemetry> telemetry_;
  bool runtime_ready_sent_ = false;  // platform.initRuntimeDone
  // An invoke's platform.report, while its extensions still work on it.
  struct PendingReport {
    observability::ReportFields fields;
    Clock::Steady::time_point delivered_at{};
    std::string trace_id;
    std::optional<std::string> tenant_id;
  };
  std::optional<PendingReport> pending_report_;
  NextCallback init_next_;  // the runtime's first /next, while extensions finish their init
  Clock::Steady::time_point invoke_deadline_{};  // of the invoke the extensions were sent
  std::vector<ExternalExtension> externals_;
  std::optional<process::SpawnSpec> extension_spec_;  // the runtime's, which theirs derive from
  std::vector<std::unique_ptr<process::ChildProcess>> extension_processes_;
  bool runtime_waits_ = false;  // in the holder, until the external extensions have registered
  std::string shutdown_reason_ = "failure";  // SHUTDOWN's reason: "spindown", "timeout" or "failure"
  bool shutting_down_ = false;               // the extensions' shutdown budget runs
  std::unique_ptr<Timer> init_timer_;
  std::unique_ptr<Timer> delay_timer_;  // the simulated cold-start delay
  std::unique_ptr<Timer> extensions_timer_;  // wait_for_extensions()
  Lifetime lifetime_;
};

}  // namespace lambdad::sandbox
