#include "lambdad/sandbox/execution_environment.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <ctime>
#include <optional>
#include <nlohmann/json.hpp>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/observability/platform_log.hpp"
#include "lambdad/process/socket_owner.hpp"
#include "environment_internal.hpp"

namespace lambdad::sandbox {

using detail::ms_between;
using detail::platform_error;

namespace {

// Enough for X-Amz-Log-Result's last 4096 bytes with room; older output is dropped first.
constexpr std::size_t kLogCap = 64 * 1024;
constexpr std::chrono::seconds kTmpCheckInterval{1};
constexpr std::chrono::milliseconds kPeakReadInterval{100};

}  // namespace

ExecutionEnvironment::ExecutionEnvironment(const EnvironmentDeps& deps, const config::FunctionConfig& fn,
                                           std::uint64_t serial, const EnvironmentOptions& options)
    : executor_(deps.executor),
      clock_(deps.clock),
      endpoints_(deps.endpoints),
      runtime_options_(deps.runtime_options),
      blocking_(deps.limits.blocking),
      observer_(deps.observer),
      fn_(fn),
      serial_(serial),
      options_(options),
      // [Name] for $LATEST, [Name:1] for a published version (as its log stream says).
      log_prefix_(options.version == config::kLatest ? fmt::format("[{}] ", fn.name)
                                                     : fmt::format("[{}:{}] ", fn.name, options.version)),
      flog_(observability::function_log()),
      timers_(deps.timers),
      sandbox_address_(next_sandbox_address()),
      init_timer_(deps.timers.make_timer()),
      delay_timer_(deps.timers.make_timer()),
      extensions_timer_(deps.timers.make_timer()) {
  if (fn_.managed_instances) {
    // Managed instances (lambda-spec §11, docs/decisions/028): slots, and logs always JSON.
    capacity_ = static_cast<std::size_t>(std::max(1, config::environment_max_concurrency(fn_)));
    fn_.logging.log_format = "JSON";
  }
  setup_extensions();
  telemetry_ = std::make_unique<Telemetry>(clock_, timers_, deps.endpoints.telemetry_transport(),
                                           fn_.logging.log_format == "JSON", sandbox_address_);
}

ExecutionEnvironment::~ExecutionEnvironment() {
  dead_ = true;
  end_pending(std::nullopt);  // never lost: an answered invoke still waiting for its /tmp measure
  lifetime_.end();
  extension_processes_.clear();  // their callbacks use this environment
  for (auto& slot : slots_) slot.deadline->cancel();
  init_timer_->cancel();
  delay_timer_->cancel();
  extensions_timer_->cancel();
  parked_.clear();
  parked_restore_ = nullptr;
  init_next_ = nullptr;
  extensions_->cancel();
  endpoint_.reset();  // stop serving the Runtime API before the process goes
  process_.reset();   // kills the process group
  group_.reset();     // then the cgroup (and anything that escaped the process group)
  tmp_.reset();
}

Result<std::unique_ptr<ExecutionEnvironment>> ExecutionEnvironment::launch(const EnvironmentDeps& deps,
                                                                           const config::FunctionConfig& fn,
                                                                           std::uint64_t serial,
                                                                           const EnvironmentOptions& options,
                                                                           std::unique_ptr<process::TmpDir> tmp,
                                                                           bool held) {
  std::unique_ptr<ExecutionEnvironment> env(new ExecutionEnvironment(deps, fn, serial, options));
  auto endpoint = deps.endpoints.open(*env);
  if (!endpoint) return endpoint.error();
  env->endpoint_ = std::move(endpoint).value();

  LaunchContext launch;
  launch.runtime_api_port = env->endpoint_->port();
  launch.log_stream_name = make_log_stream_name(options.version);
  launch.version = options.version;
  if (options.provisioned) launch.initialization_type = "provisioned-concurrency";
  if (options.snap_start) launch.initialization_type = "snap-start";
  launch.snapshot_socket = options.snapshot_socket;
  launch.sandbox_address = env->sandbox_address_;
  auto spec = build_spawn_spec(env->fn_, deps.runtime_options, launch);
  if (!spec) return spec.error();
  env->working_directory_ = spec->working_directory.string();
  if (auto st = env->apply_limits(deps.limits, *spec, std::move(tmp)); !st) return st.error();
  for (const auto& kv : spec->environment) {
    if (kv.starts_with("TMPDIR=")) env->tmpdir_ = kv.substr(7);
  }
  // External extensions (docs/decisions/024) start first; the runtime waits in the holder until
  // they have registered. Not for SnapStart (not yet).
  env->externals_ = external_extensions(fn);
  if (!env->externals_.empty() && !deps.runtime_options.holder.empty() && !options.snap_start) {
    std::vector<std::string> names;
    for (const auto& x : env->externals_) names.push_back(x.name);
    env->extensions_->expect_external(std::move(names));
    env->extension_spec_ = *spec;
    env->runtime_waits_ = true;
    spec->hold = deps.runtime_options.holder;
  } else {
    env->externals_.clear();
  }
  if (held) spec->hold = deps.runtime_options.holder;
  // Which way the layers reached the runtime (docs/decisions/009, 014): at /opt in the
  // environment's root, or through search paths naming their directories.
  if (!fn.layer_dirs.empty()) {
    env->layers_note_ = spec->root ? fmt::format(", {} layer(s) at /opt", fn.layer_dirs.size())
                                   : std::string(", layers on search paths (no Lambda-shaped root)");
  }

  if (!held) env->begin_init();
  auto child = process::spawn(deps.executor, *spec, env->child_callbacks());
  if (!child) return child.error();
  env->process_ = std::move(child).value();
  env->held_ = held;
  if (held) env->spawned_at_ = deps.clock.now();
  if (!held) env->initializing();
  if (!held && env->runtime_waits_) {
    if (auto st = env->start_extensions(); !st) return st.error();  // destroying env kills the rest
  }
  return env;
}

Result<std::unique_ptr<ExecutionEnvironment>> ExecutionEnvironment::start(const EnvironmentDeps& deps,
                                                                          const config::FunctionConfig& fn,
                                                                          std::uint64_t serial,
                                                                          const EnvironmentOptions& options,
                                                                          std::unique_ptr<process::TmpDir> tmp) {
  return launch(deps, fn, serial, options, std::move(tmp), false);
}

Result<std::unique_ptr<ExecutionEnvironment>> ExecutionEnvironment::prepare(const EnvironmentDeps& deps,
                                                                            const config::FunctionConfig& fn,
                                                                            std::uint64_t serial,
                                                                            const EnvironmentOptions& options) {
  if (deps.runtime_options.holder.empty()) {
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure), "no lambdad-hold beside the daemon"};
  }
  return launch(deps, fn, serial, options, nullptr, true);
}

pid_t ExecutionEnvironment::pid() const { return process_ ? process_->pid() : 0; }

process::ChildCallbacks ExecutionEnvironment::child_callbacks() {
  process::ChildCallbacks callbacks;
  callbacks.on_output_line = [this](std::string_view line) { on_output(line); };
  callbacks.on_exit = [this](process::ExitStatus status) { on_exit(status); };
  return callbacks;
}

Status ExecutionEnvironment::go() {
  if (!held_) return Ok{};
  if (restored_) {  // a copy of the snapshot: restored, not started
    begin_restore();
    return Ok{};
  }
  held_ = false;
  begin_init();
  if (runtime_waits_) {  // its extensions first
    initializing();
    if (auto st = start_extensions(); !st) {
      become_dead();
      return st;
    }
    return Ok{};
  }
  if (auto st = process_->release(); !st) {
    become_dead();
    return st;
  }
  initializing();
  return Ok{};
}

// The Init phase starts: INIT_START, and Init Duration counts from here.
void ExecutionEnvironment::begin_init() {
  spawned_at_ = clock_.now();
  if (json_logs()) {
    log_platform(nullptr, "platform.initStart", init_start_record());
  } else {
    flog_->info("{}{}", log_prefix_, observability::init_start_line(fn_.runtime, runtime_options_.region));
  }
  telemetry_init_start();
}

// The runtime is running: the memory watch follows it and the init limit runs.
void ExecutionEnvironment::initializing() {
  if (group_) group_->attach(process_->pid());
  arm_init_limit();
  observability::daemon_log()->info("{}environment {} initializing (pid {}{}{})", log_prefix_, serial_,
                                    process_->pid(), options_.provisioned ? ", provisioned" : "", layers_note_);
}

namespace {

bool under(const std::filesystem::path& path, const std::filesystem::path& dir) {
  auto p = path.lexically_normal().string();
  auto d = dir.lexically_normal().string();
  return p.size() > d.size() && p.compare(0, d.size(), d) == 0 && p[d.size()] == '/';
}

}  // namespace

std::uint64_t ExecutionEnvironment::group_peak_bytes() {
  // With slots a reading walks every process of the environment (a worker per slot): at most one
  // per kPeakReadInterval, and meanwhile the last one stands (the sampler still enforces the limit
  // between them).
  const auto now = clock_.now();
  if (!managed() || !peak_read_at_ || now - *peak_read_at_ >= kPeakReadInterval) {
    peak_bytes_ = group_->peak_memory_bytes();
    peak_read_at_ = now;
  }
  return peak_bytes_;
}

bool ExecutionEnvironment::tmp_check_due() const {
  return tmp_ && (!tmp_checked_ || clock_.now() - *tmp_checked_ >= kTmpCheckInterval);
}

std::optional<std::string> ExecutionEnvironment::tmp_overrun(std::uint64_t used) const {
  const std::uint64_t limit = static_cast<std::uint64_t>(fn_.ephemeral_storage_mb) << 20;
  if (used <= limit) return std::nullopt;
  return fmt::format("lambdad: /tmp holds {} MB, more than EphemeralStorage {} MB; on Lambda the writes beyond it "
                     "would have failed with ENOSPC (lambdad measures /tmp, it does not cap it)",
                     (used + (1u << 20) - 1) >> 20, fn_.ephemeral_storage_mb);
}

std::string ExecutionEnvironment::resource_name() const {
  // '.' cannot occur in a function name, so no two environments of the daemon share a name.
  if (options_.version == config::kLatest) return fmt::format("{}.{}", fn_.name, serial_);
  return fmt::format("{}.v{}.{}", fn_.name, options_.version, serial_);
}

Status ExecutionEnvironment::apply_limits(const LimitDeps& limits, process::SpawnSpec& spec,
                                          std::unique_ptr<process::TmpDir> tmp) {
  spec.rlimit_nofile = 1024;  // Lambda's RLIMIT_NOFILE
  if (limits.resources) {
    process::EnvironmentLimits l;
    l.memory_bytes = static_cast<std::uint64_t>(fn_.memory_mb) << 20;
    l.max_pids = 1024;
    // Managed instances have the vCPUs their memory-to-vCPU ratio gives (decision 028).
    if (limits.cpu_scaling) {
      l.cpus = fn_.managed_instances ? static_cast<double>(config::managed_vcpus(fn_))
                                     : static_cast<double>(fn_.memory_mb) / 1769.0;
    }
    auto group = limits.resources->create_group(resource_name(), l);
    if (!group) return group.error();
    group_ = std::move(group).value();
    spec.join_files = group_->join_files();
  }
  if (!tmp && !limits.tmp_root.empty()) {
    auto made = process::make_tmp_dir(limits.tmp_root, resource_name(), limits.tmp_removal);
    if (!made) return made.error();
    tmp = std::move(made).value();
  }
  if (tmp) {
    tmp_ = std::move(tmp);
    // In a root /tmp is the environment's own. On host paths, covering the host's /tmp would hide
    // code or layers that live there (a checkout under /tmp): then the environment gets TMPDIR only.
    const std::filesystem::path host_tmp = "/tmp";
    const bool code_under_tmp = under(spec.working_directory, host_tmp) || under(spec.executable, host_tmp) ||
                                std::any_of(spec.args.begin(), spec.args.end(),
                                            [&](const std::string& a) { return under(a, host_tmp); }) ||
                                std::any_of(fn_.layer_dirs.begin(), fn_.layer_dirs.end(),
                                            [&](const std::filesystem::path& l) { return under(l, host_tmp); });
    if (spec.root || (tmp_->private_mount() && !code_under_tmp)) spec.private_tmp = tmp_->path();
    spec.environment.push_back("TMPDIR=" + (spec.private_tmp.empty() ? tmp_->path().string() : std::string("/tmp")));
  }
  return Ok{};
}

void ExecutionEnvironment::assign(invocation::InvocationPtr inv) {
  auto& cur = slots_.emplace_back();
  cur.inv = std::move(inv);
  if (spare_timers_.empty()) {
    cur.deadline = timers_.make_timer();
  } else {
    cur.deadline = std::move(spare_timers_.back());
    spare_timers_.pop_back();
  }
  if (!tenant_) tenant_ = cur.inv->tenant_id;
  if (group_) group_->set_idle(false);
  arm_deadline(cur);
  if (!parked_.empty()) {
    NextCallback done = std::move(parked_.front());
    parked_.pop_front();
    deliver(cur, done);
  }
}

ExecutionEnvironment::Current* ExecutionEnvironment::slot(std::string_view request_id) {
  for (auto& cur : slots_) {
    if (cur.inv->request_id == request_id) return &cur;
  }
  return nullptr;
}

ExecutionEnvironment::Current* ExecutionEnvironment::undelivered() {
  for (auto& cur : slots_) {
    if (!cur.delivered) return &cur;
  }
  return nullptr;
}

Delivery ExecutionEnvironment::make_delivery(const Current& cur) const {
  const auto& inv = *cur.inv;
  Delivery d;
  invocation::copy_request_fields(inv, d);
  d.cognito_identity = inv.cognito_identity;
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      cur.delivered_at + std::chrono::seconds(fn_.timeout_seconds) - clock_.now());
  d.deadline_epoch_ms = clock_.epoch_ms() + remaining.count();
  return d;
}

void ExecutionEnvironment::deliver(Current& cur, NextCallback& done) {
  const bool first = !cur.delivered;
  if (first) {
    mark_started(cur);
    if (!managed()) state_ = RuntimeState::kRunning;
    arm_deadline(cur);
  }
  done(NextOutcome{make_delivery(cur), {}});
  if (first) invoke_extensions();
}

void ExecutionEnvironment::mark_started(Current& cur) {
  cur.delivered = true;
  cur.delivered_at = clock_.now();
  // Max Memory Used is per invoke: the peak starts again from what the environment holds now.
  // An environment's first invoke keeps its init in the peak, as a cold start's REPORT does. With
  // slots the peak is the environment's, shared by the invokes in flight together.
  if (served_ > 0 && !managed()) {
    if (group_) {
      group_->reset_peak();
    } else if (process_ && !process_->exited()) {
      (void)process::reset_peak_rss(process_->pid());  // best effort: the peak then spans invokes
    }
  }
  if (json_logs()) {
    log_platform(&cur, "platform.start", start_record(cur, false));
  } else {
    log_line(&cur, observability::start_line(cur.inv->request_id, cur.inv->version));
  }
  telemetry_start(cur);
}

void ExecutionEnvironment::arm_init_limit() {
  // Lambda gives init 10 s. With an invocation waiting, its deadline covers init (arm_deadline);
  // an environment started ahead of demand (EAGER, provisioned) is ended here instead.
  init_timer_->arm(spawned_at_ + options_.init_limit + options_.cold_start_delay, [this] {
    if (dead_ || init_duration_ms_ || !slots_.empty()) return;
    if (json_logs()) {
      log_init_report("timeout");
    } else {
      flog_->info("{}INIT_REPORT Init Duration: {:.2f} ms\tPhase: init\tStatus: timeout", log_prefix_,
                  ms_between(spawned_at_, clock_.now()));
    }
    telemetry_init_end("timeout");
    retire(fmt::format("init did not finish within {} ms", options_.init_limit.count()));
  });
}

void ExecutionEnvironment::arm_deadline(Current& cur) {
  // Before delivery the clock is the init budget (Lambda's 10 s init phase) plus the timeout;
  // after delivery it is the function timeout from the moment the runtime received the event.
  auto now = clock_.now();
  Clock::Steady::time_point at;
  if (cur.delivered) {
    at = cur.delivered_at + std::chrono::seconds(fn_.timeout_seconds);
  } else {
    at = now + std::chrono::seconds(fn_.timeout_seconds);
    if (!init_duration_ms_) {
      at = std::max(at, spawned_at_ + std::chrono::seconds(limits::kInitTimeoutSeconds));
    }
    // A restore has 10 s to reach /next, whatever the function's timeout (lambda-spec §14).
    if (restoring_) at = restore_started_ + std::chrono::seconds(limits::kInitTimeoutSeconds);
  }
  cur.deadline->arm(at, [this, c = &cur] { on_deadline(*c); });
}

void ExecutionEnvironment::on_deadline(Current& cur) {
  if (dead_) return;
  const std::string id = cur.inv->request_id;
  if (restoring_ && !cur.delivered) {
    flog_->info("{}{}\tStatus: timeout", log_prefix_,
                observability::restore_report_line(ms_between(restore_started_, clock_.now())));
    invocation::InvocationResult r;
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = std::string(error_types::kSnapStartTimeoutException);
    r.service_error = r.error_type;
    mark_started(cur);  // never delivered: START, END and REPORT still tell of the invoke
    r.payload = fmt::format("The restore of {} did not reach its first invocation within {} seconds (the runtime's "
                            "load and its after-restore hooks).",
                            fn_.name, limits::kInitTimeoutSeconds);
    finish(cur, std::move(r), "timeout");
    become_dead();
    return;
  }
  std::string detail = fmt::format("Task timed out after {:.2f} seconds", static_cast<double>(fn_.timeout_seconds));
  // Lambda also writes this line into the function's log stream.
  auto now_ms = clock_.epoch_ms();
  std::time_t secs = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  log_line(&cur, fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} {}", tm.tm_year + 1900, tm.tm_mon + 1,
                             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now_ms % 1000, id, detail));
  invocation::InvocationResult r;
  r.outcome = invocation::Outcome::kFunctionError;
  r.error_type = std::string(error_types::kSandboxTimedout);
  r.payload = platform_error(error_types::kSandboxTimedout, id, detail);
  timed_out_id_ = id;
  shutdown_reason_ = "timeout";
  finish(cur, std::move(r), "timeout");
  // One environment is one failure domain: the invokes it ran beside this one end with it.
  fail_all(error_types::kSandboxFailure,
           fmt::format("The execution environment was reset: invocation {} in it timed out", id), "error");
  become_dead();
}

namespace {

// The request id a JSON log record names ("requestId":"..."), or empty: with slots, the runtime's
// records say which invoke wrote them.
std::string_view record_request_id(std::string_view line) {
  constexpr std::string_view key = "\"requestId\"";
  if (line.empty() || line.front() != '{') return {};
  auto at = line.find(key);
  if (at == std::string_view::npos) return {};
  at += key.size();
  auto skip_spaces = [&] {
    while (at < line.size() && line[at] == ' ') ++at;
  };
  skip_spaces();  // Python's json.dumps writes `"requestId": "..."`
  if (at >= line.size() || line[at] != ':') return {};
  ++at;
  skip_spaces();
  if (at >= line.size() || line[at] != '"') return {};
  const auto begin = at + 1;
  const auto end = line.find('"', begin);
  return end == std::string_view::npos ? std::string_view{} : line.substr(begin, end - begin);
}

}  // namespace

void ExecutionEnvironment::on_output(std::string_view line) {
  // Output between a response and the next /next still belongs to the answered invoke. With
  // slots, a line belongs to the invoke its JSON record names, if it is in flight.
  std::string_view tag = dead_ ? "shutdown" : "init";
  Current* owner = nullptr;
  if (managed()) {
    const auto id = record_request_id(line);
    if (!id.empty()) owner = slot(id);
    if (owner && !owner->delivered) owner = nullptr;
    if (owner) tag = owner->inv->request_id;
    else if (init_duration_ms_ && !dead_) tag = "function";
  } else if (auto* cur = first(); cur && cur->delivered) {
    owner = cur;
    tag = cur->inv->request_id;
  } else if (!answered_id_.empty()) {
    tag = answered_id_;
  }
  flog_->info("{}[{}] {}", log_prefix_, tag, line);
  if (telemetry_->wanted()) telemetry_->log_line(TelemetryStream::kFunction, line);
  if (owner) {
    auto& log = owner->log;
    log.append(line);
    log.push_back('\n');
    if (log.size() > kLogCap) log.erase(0, log.size() - kLogCap / 2);
  }
}

void ExecutionEnvironment::on_exit(const process::ExitStatus& status) {
  end_pending(std::nullopt);  // answered before the runtime exited: it ends first
  if (held_ && !dead_) {
    observability::daemon_log()->debug("{}the sandbox made ahead for environment {} is gone ({})", log_prefix_, serial_,
                                       status.describe());
    dead_ = true;
  }
  if (!dead_) {
    observability::daemon_log()->info("{}environment {} dead (runtime exited: {})", log_prefix_, serial_, status.describe());
    // An invoke the runtime had not received yet, after its init (e.g. right after answering the
    // previous one): the function never saw it, so it runs elsewhere, as on Lambda. The owner
    // takes it in on_dead (take_undelivered). A runtime that dies in init keeps its error: that is
    // the invoke's answer.
    for (auto it = slots_.begin(); it != slots_.end();) {
      if (it->delivered || !init_duration_ms_ || it->inv->rerouted) {
        ++it;
        continue;
      }
      observability::daemon_log()->info("{}environment {}: invocation {} was not delivered; it goes to another "
                                        "environment", log_prefix_, serial_, it->inv->request_id);
      it->deadline->cancel();
      undelivered_.push_back(std::move(it->inv));
      it = slots_.erase(it);
    }
    if (!slots_.empty()) {
      std::string detail = (!status.signaled && status.code == 0)
                               ? "Runtime exited without providing a reason"
                               : "Runtime exited with error: " + status.describe();
      const bool oom = group_ && group_->oom_killed();
      for (const auto& cur : slots_) {
        if (oom) flog_->info("{}[{}] Runtime exceeded its memory limit of {} MB", log_prefix_, cur.inv->request_id, fn_.memory_mb);
        if (telemetry_->wanted() && cur.delivered) {
          telemetry_->platform("platform.fault",
                               fmt::format("RequestId: {} Process exited before completing request", cur.inv->request_id));
        }
      }
      fail_all(oom ? error_types::kRuntimeOutOfMemory : error_types::kRuntimeExitError, detail, "error");
    }
    dead_ = true;
    // The runtime is gone by itself: its extensions still hear of it (SHUTDOWN, failure).
    if (!extension_processes_.empty()) shut_down_processes();
  }
  // While the extensions have their shutdown budget the environment is not over yet.
  if (shutting_down_) return finish_shutdown_if_done();
  if (!dead_notified_) {
    dead_notified_ = true;
    observer_.on_dead(*this);
  }
}

void ExecutionEnvironment::fail(Current& cur, std::string_view error_type, const std::string& detail,
                                const std::string& status) {
  if (!cur.delivered) mark_started(cur);
  invocation::InvocationResult r;
  r.outcome = invocation::Outcome::kFunctionError;
  r.error_type = std::string(error_type);
  r.payload = platform_error(error_type, cur.inv->request_id, detail);
  finish(cur, std::move(r), status);
}

void ExecutionEnvironment::fail_all(std::string_view error_type, const std::string& detail, const std::string& status) {
  // Nothing is assigned here while the slots fail (their completions may dispatch more).
  const bool was = resetting_;
  resetting_ = true;
  while (!slots_.empty()) fail(slots_.front(), error_type, detail, status);
  resetting_ = was;
}

void ExecutionEnvironment::kill(const std::string& reason) {
  if (dead_) return;
  shutdown_reason_ = "spindown";
  fail_all(error_types::kSandboxFailure, reason, "error");
  become_dead();
}

void ExecutionEnvironment::retire(const std::string& why) {
  if (dead_) return;
  observability::daemon_log()->info("{}environment {} retired ({})", log_prefix_, serial_, why);
  retired_ = true;
  shutdown_reason_ = "spindown";
  fail_all(error_types::kSandboxFailure, why, "error");
  become_dead();
}

std::string_view ExecutionEnvironment::state_label() const {
  if (dead_) return "dead";
  if (snapshot_) return "snapshot";
  if (!slots_.empty() || ending_) return "busy";
  if (!init_duration_ms_) return "initializing";
  if (!extensions_->ready()) return "busy";  // its extensions still work on the last invoke
  return "idle";
}

void ExecutionEnvironment::become_dead() {
  if (dead_) return;
  // Whatever still runs here ends with it (the callers fail their own invoke first).
  if (!slots_.empty()) fail_all(error_types::kSandboxFailure, "The execution environment was reset", "error");
  dead_ = true;
  end_pending(std::nullopt);  // an invoke still waiting for its /tmp measure ends now, without it
  telemetry_pending_report();  // its extensions will not finish it now
  if (!init_duration_ms_) telemetry_init_end("failure");
  // Killed before its parked /next is answered: a runtime that read the answer would only log
  // a failed request on its way out. With extensions, they get their SHUTDOWN and its budget.
  if (process_) shut_down_processes();
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto& old : parked) {
    old(NextOutcome{std::nullopt, RuntimeReply{RuntimeReply::Code::kInternal, state_, RuntimeEvent::kNext}});
  }
  if (init_next_) {
    NextCallback old = std::move(init_next_);
    init_next_ = nullptr;
    old(NextOutcome{std::nullopt, RuntimeReply{RuntimeReply::Code::kInternal, state_, RuntimeEvent::kNext}});
  }
  // Their waiting /event/next go unanswered: the processes are killed (after their shutdown
  // budget, whose end cancels them then: a dropped request would close its connection first).
  if (!shutting_down_) extensions_->cancel();
  if (auto restore = std::move(parked_restore_)) {
    parked_restore_ = nullptr;
    restore(RuntimeReply{RuntimeReply::Code::kInternal, state_, RuntimeEvent::kRestoreNext});
  }
  // on_exit (after reaping) tells the observer; if the process is somehow already gone, say it now.
  // (During the extensions' shutdown budget, finish_shutdown() does.)
  if (!process_ || process_->exited()) {
    boost::asio::post(executor_, lifetime_.guard([this] {
      if (!dead_notified_ && !shutting_down_) {
        dead_notified_ = true;
        observer_.on_dead(*this);
      }
    }));
  }
}

void ExecutionEnvironment::log_line(Current* cur, const std::string& line) {
  flog_->info("{}{}", log_prefix_, line);
  if (cur) {
    cur->log.append(line);
    cur->log.push_back('\n');
  }
}

void ExecutionEnvironment::finish(Current& slot_ref, invocation::InvocationResult result, std::string status) {
  // What the runtime wrote before it answered may still be in the pipe, and a line without a
  // newline would wait for the next one: both belong to this invoke, before its END.
  if (process_ && !process_->exited()) process_->sync_output();
  auto it = std::find_if(slots_.begin(), slots_.end(), [&](const Current& c) { return &c == &slot_ref; });
  if (it == slots_.end()) return;
  Current cur = std::move(*it);
  slots_.erase(it);
  if (managed()) {
    remember_answered(cur.inv->request_id);
  } else {
    answered_id_ = cur.inv->request_id;
  }
  ++served_;
  idle_since_ = clock_.now();
  cur.deadline->cancel();
  if (spare_timers_.size() < capacity_) spare_timers_.push_back(std::move(cur.deadline));
  const auto& id = cur.inv->request_id;

  observability::ReportFields f;
  f.request_id = id;
  f.duration_ms = cur.delivered ? ms_between(cur.delivered_at, clock_.now()) : 0.0;
  f.memory_size_mb = fn_.memory_mb;
  // The group's peak covers the whole process tree since mark_started; without a group (or with
  // enforcement off, peak 0) the runtime's own VmHWM is the best we have, read only while the
  // runtime is not reaped (its pid could be reused after that).
  const std::uint64_t group_peak = group_ ? group_peak_bytes() : 0;
  std::uint64_t peak = group_peak;
  if (peak == 0 && process_ && !process_->exited()) peak = process::peak_rss_bytes(process_->pid());
  // The last reading (taken just now) or the runtime's high water mark passed MemorySize between
  // two samples: Lambda's guest would have run out of memory in this invoke (docs/decisions/013).
  // The group has killed the environment; the invoke ends as such a kill does.
  const bool out_of_memory = group_peak > (static_cast<std::uint64_t>(fn_.memory_mb) << 20) && process_ &&
                             !process_->exited() && result.error_type != error_types::kRuntimeOutOfMemory;
  if (out_of_memory) {
    flog_->info("{}[{}] Runtime exceeded its memory limit of {} MB", log_prefix_, id, fn_.memory_mb);
    result.outcome = invocation::Outcome::kFunctionError;
    result.error_type = std::string(error_types::kRuntimeOutOfMemory);
    result.payload = platform_error(error_types::kRuntimeOutOfMemory, id, "Runtime exited with error: signal: killed");
    result.content_type = "application/json";
    status = "error";
  }
  // Lambda never reports more than the configured size (a sampler can overshoot before it kills).
  f.max_memory_used_mb = static_cast<int>(
      std::min<std::uint64_t>(static_cast<std::uint64_t>(fn_.memory_mb), (peak + (1u << 20) - 1) >> 20));
  if (init_duration_ms_ && !init_reported_) {
    (restored_ ? f.restore_duration_ms : f.init_duration_ms) = init_duration_ms_;
    init_reported_ = true;
  }
  f.status = status;
  if (status == "error") f.error_type = result.error_type;
  telemetry_runtime_done(cur, result, status);

  Ending ending{std::move(cur), std::move(result), std::move(f), out_of_memory};
  // /tmp is a plain directory (docs/decisions/005): nothing stops a write beyond EphemeralStorage
  // the way Lambda's ENOSPC would, so its size is measured after an invoke and reported in that
  // invoke's log. The measure walks what the function wrote: at most once a second per
  // environment, on the blocking pool (docs/decisions/001), while the invoke's END, REPORT and
  // answer wait for it and the environment takes nothing else. An environment that dies with
  // this invoke (a timeout, a crash, out of memory) is not measured: it is replaced.
  // With slots nothing waits for the measure (it would hold the others' slots): not measured.
  const bool lives = !out_of_memory && status != "timeout" && process_ && !process_->exited();
  if (!lives || managed() || !tmp_check_due()) return end(std::move(ending), std::nullopt);
  tmp_checked_ = clock_.now();
  if (!blocking_) return end(std::move(ending), tmp_overrun(tmp_->used_bytes()));
  ending_ = std::move(ending);
  blocking_->run(
      lifetime_.token(), [path = tmp_->path()] { return process::allocated_bytes(path); },
      [this](std::uint64_t used) { end_pending(tmp_overrun(used)); });
}

void ExecutionEnvironment::end(Ending ending, std::optional<std::string> tmp_warning) {
  auto& cur = ending.cur;
  auto& result = ending.result;
  const auto& id = cur.inv->request_id;
  if (tmp_warning) {
    flog_->warn("{}[{}] {}", log_prefix_, id, *tmp_warning);
    cur.log.append(*tmp_warning).append("\n");
  }
  telemetry_report(ending);
  if (json_logs()) {
    log_platform(&cur, "platform.report",
                 report_record(ending.report, ending.report.duration_ms, {}, cur.inv->tenant_id));
  } else {
    auto end = observability::end_line(id);
    auto report = observability::report_line(ending.report);
    flog_->info("{}{}\n{}{}", log_prefix_, end, log_prefix_, report);  // one write for both
    cur.log.append(end).append("\n").append(report).append("\n");
  }
  result.log = std::move(cur.log);
  result.executed_version = cur.inv->version;
  // Dead before the caller hears of it: the pool must not hand this environment another invoke.
  // The invokes beside it were in the same memory.
  if (ending.out_of_memory) {
    fail_all(error_types::kRuntimeOutOfMemory, "Runtime exited with error: signal: killed", "error");
    become_dead();
  }
  if (cur.inv->on_complete) cur.inv->on_complete(std::move(result));
}

void ExecutionEnvironment::end_pending(std::optional<std::string> tmp_warning) {
  if (!ending_) return;
  Ending ending = std::move(*ending_);
  ending_.reset();
  end(std::move(ending), std::move(tmp_warning));
  if (!dead_ && process_ && !process_->exited() && extensions_->ready()) observer_.on_idle(*this);  // offer() did not
}

void ExecutionEnvironment::offer() {
  // Otherwise end_pending() offers it, or extensions_ready() once the extensions are done.
  if (!extensions_->ready()) return wait_for_extensions();
  if (!ending_) observer_.on_idle(*this);
}

}  // namespace lambdad::sandbox
