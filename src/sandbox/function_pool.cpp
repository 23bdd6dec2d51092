#include "lambdad/sandbox/function_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <nlohmann/json.hpp>

#include "lambdad/common/error_types.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/observability/platform_log.hpp"

namespace lambdad::sandbox {

FunctionPool::FunctionPool(const PoolDeps& deps, config::FunctionConfig fn, PoolOptions options)
    : deps_(deps), fn_(std::move(fn)), options_(options) {}

FunctionPool::~FunctionPool() {
  lifetime_.end();
  shutdown();
}

void FunctionPool::submit(invocation::InvocationPtr inv) {
  if (shut_down_) {
    fail_without_environment(inv, Error{ErrorKind::kFunctionError, std::string(error_types::kSandboxFailure),
                                        "the daemon is shutting down"});
    return;
  }
  ++counters_.invocations;
  ++in_flight_;
  inv->on_complete = [this, alive = lifetime_.token(), next = std::move(inv->on_complete)](invocation::InvocationResult r) {
    if (alive) {
      --in_flight_;
      if (r.error_type == error_types::kSandboxTimedout) ++counters_.timeouts;
      if (r.error_type == error_types::kRuntimeOutOfMemory) ++counters_.oom_kills;
    }
    if (next) next(std::move(r));
  };
  queue_.push_back(std::move(inv));
  pump();
}

EnvironmentDeps FunctionPool::environment_deps() {
  return EnvironmentDeps{deps_.executor, deps_.clock, deps_.timers, deps_.endpoints,
                         deps_.runtime_options, *this, deps_.limits};
}

EnvironmentOptions FunctionPool::environment_options(bool provisioned) const {
  EnvironmentOptions options;
  options.cold_start_delay = options_.cold_start_delay;
  options.provisioned = provisioned;
  options.version = options_.version;
  // Provisioned environments initialise ahead as on Lambda; every other start of a SnapStart
  // pool runs SnapStart's sequence (restored, or in place).
  options.snap_start = snap_start() && !provisioned;
  // Managed instances have no cold start to simulate: their environments start ahead.
  if (managed()) options.cold_start_delay = std::chrono::milliseconds(0);
  return options;
}

std::unique_ptr<process::TmpDir> FunctionPool::take_spare_tmp() {
  std::unique_ptr<process::TmpDir> tmp;
  if (!spare_tmp_.empty()) {
    tmp = std::move(spare_tmp_.back());
    spare_tmp_.pop_back();
  } else {
    // An environment that just failed (timeout, crash) may not be reaped yet: its /tmp is
    // already free for its replacement.
    for (auto& env : envs_) {
      if (env->dead() && (tmp = env->take_tmp())) break;
    }
  }
  return tmp;
}

ExecutionEnvironment* FunctionPool::start_environment(const EnvironmentOptions& options, Error* error,
                                                      std::unique_ptr<process::TmpDir> tmp) {
  auto started = ExecutionEnvironment::start(environment_deps(), fn_, next_serial_++, options, std::move(tmp));
  if (!started) {
    if (error) *error = started.error();
    observability::daemon_log()->warn("[{}] cannot start an environment: {}", fn_.name, started.error().message);
    return nullptr;
  }
  envs_.push_back(std::move(started).value());
  return envs_.back().get();
}

void FunctionPool::pump() {
  if (pumping_) return;  // environments call back into on_idle while we assign
  pumping_ = true;
  while (!queue_.empty() && !shut_down_) {
    if (managed()) {
      if (!pump_managed()) break;
      continue;
    }
    ExecutionEnvironment* target = nullptr;
    for (auto& env : envs_) {
      // With --force-cold only an environment that has never served may take an invocation; a
      // tenant's invocation only one of its own tenant's or one that has served none yet.
      if (env->available() && !env->draining() && (!options_.force_cold || env->invocations_served() == 0) &&
          (!env->tenant() || env->tenant() == queue_.front()->tenant_id)) {
        target = env.get();
        break;
      }
    }
    // A burst: kColdStartsPerTurn cold start(s) per turn of the loop, which meanwhile
    // serves what is ready (the runtimes started so far asking /next, their answers), so the
    // first answers do not wait for the last environment to be spawned. The queue keeps its order.
    // The snapshot is initialising: the next cold starts are its copies.
    if (!target && snap_start() && snapshot_ && !snapshot_->ready()) break;
    if (!target && starts_this_turn_ == kColdStartsPerTurn) break;
    if (!target) {
      if (starts_this_turn_++ == 0) {
        boost::asio::post(deps_.executor, lifetime_.guard([this] {
          starts_this_turn_ = 0;
          pump();
        }));
      }
      Error error;
      if (snap_start()) target = snap_start_cold();
      // A replacement after a reset keeps the failed environment's /tmp, as Lambda does: it
      // starts as before, not in the sandbox made ahead (which has a /tmp of its own).
      auto tmp = target ? nullptr : take_spare_tmp();
      if (!tmp && !target) target = start_ready();
      if (!target) target = start_environment(environment_options(), &error, std::move(tmp));
      if (!target) {
        auto inv = std::move(queue_.front());
        queue_.pop_front();
        fail_without_environment(inv, error);
        continue;
      }
      ++counters_.cold_starts;
    }
    auto inv = std::move(queue_.front());
    queue_.pop_front();
    target->assign(std::move(inv));
  }
  pumping_ = false;
}

ExecutionEnvironment* FunctionPool::start_ready() {
  if (!ready_) return nullptr;
  auto env = std::move(ready_);
  if (env->dead()) return nullptr;
  if (auto st = env->go(); !st) {
    observability::daemon_log()->warn("[{}] the sandbox made ahead could not start ({}); starting one now", fn_.name,
                                      st.error().message);
    std::shared_ptr<ExecutionEnvironment> doomed(std::move(env));
    boost::asio::post(deps_.executor, [doomed] {});
    return nullptr;
  }
  envs_.push_back(std::move(env));
  return envs_.back().get();
}

void FunctionPool::refill_later() {
  if (!options_.prepare_ahead || deps_.runtime_options.holder.empty() || refill_pending_ || shut_down_ || managed()) return;
  refill_pending_ = true;
  auto make = lifetime_.guard([this] {
    refill_pending_ = false;
    if (ready_ || shut_down_) return;
    auto prepared = ExecutionEnvironment::prepare(environment_deps(), fn_, next_serial_++, environment_options());
    if (!prepared) {
      // The next cold start starts its environment as before and tells what is wrong.
      observability::daemon_log()->debug("[{}] no sandbox made ahead: {}", fn_.name, prepared.error().message);
      return;
    }
    ready_ = std::move(prepared).value();
    const bool copy = copy_ahead(*ready_);  // SnapStart: it holds a copy of the snapshot, waiting to be restored
    observability::daemon_log()->debug("[{}] environment {} made ahead (pid {}{})", fn_.name, ready_->serial(),
                                       ready_->pid(), copy ? ", a copy of the snapshot" : "");
  });
  // Posted twice: behind what the handler calling this queues too (the invoke's answer, handed to
  // its connection's strand), so that answer is not held up by the sandbox's fork.
  boost::asio::post(deps_.executor,
                    [ex = deps_.executor, make = std::move(make)]() mutable { boost::asio::post(ex, std::move(make)); });
}

void FunctionPool::discard_ready() {
  if (!ready_) return;
  std::shared_ptr<ExecutionEnvironment> doomed(std::move(ready_));
  boost::asio::post(deps_.executor, [doomed] {});
}

void FunctionPool::prewarm(std::size_t count, bool provisioned) {
  for (std::size_t i = 0; i < count && !shut_down_; ++i) {
    start_environment(environment_options(provisioned), nullptr, take_spare_tmp());
  }
}

void FunctionPool::on_idle(ExecutionEnvironment& env) {
  // An invoke has ended: the time to make the next cold start's sandbox, not while this one's
  // runtime is starting (its /next would wait behind the fork).
  if (counters_.cold_starts > 0) refill_later();
  if (!env.dead()) {
    if (env.draining()) {
      env.retire("evicted");
    } else if (options_.force_cold && env.invocations_served() > 0) {
      env.retire("--force-cold");
    }
  }
  pump();
}

std::size_t FunctionPool::evict() {
  discard_ready();
  // A snapshot of the old code is no use; one still initialising is dropped once it is ready (its
  // invoke then starts again, on the new code).
  if (snapshot_ && snapshot_->ready()) drop_snapshot("evicted");
  if (snapshot_) snapshot_stale_ = true;
  snapshot_in_place_ = false;
  std::size_t n = 0;
  for (auto& env : envs_) {
    if (env->dead()) continue;
    ++n;
    if (env->busy()) {
      env->drain();
    } else {
      env->retire("evicted");
    }
  }
  return n;
}

std::size_t FunctionPool::replace_config(config::FunctionConfig fn) {
  fn_ = std::move(fn);
  spare_tmp_.clear();  // a /tmp kept across a reset, not across new code
  const auto n = evict();
  keep_minimum();  // managed instances: the new code's environments start now
  return n;
}

std::size_t FunctionPool::reclaim_idle(Clock::Steady::time_point now) {
  if (options_.idle_timeout.count() <= 0) return 0;
  // Made ahead for demand that has not come for as long: gone, as an idle environment.
  if (ready_ && now - ready_->created_at() >= options_.idle_timeout) discard_ready();
  std::size_t n = 0;
  // Managed instances keep their minimum.
  std::size_t live = live_environments();
  const std::size_t keep = managed() ? min_environments() : 0;
  for (auto& env : envs_) {
    if (env->dead() || env->busy() || env->provisioned() || !env->initialized()) continue;
    if (live <= keep) break;
    if (now - env->idle_since() >= options_.idle_timeout) {
      --live;
      env->retire(fmt::format("idle for more than {} ms", options_.idle_timeout.count()));
      ++n;
    }
  }
  return n;
}

void FunctionPool::on_dead(ExecutionEnvironment& env) {
  if (snapshot_ && snapshot_->environment() == &env) {
    drop_snapshot("its runtime is gone");
    if (!shut_down_) boost::asio::post(deps_.executor, lifetime_.guard([this] { pump(); }));
    return;
  }
  if (&env == snapshot_candidate_) drop_snapshot("its init did not finish");
  if (&env == ready_.get()) {  // gone before it was used: the next cold start makes another
    discard_ready();
    return;
  }
  auto it = std::find_if(envs_.begin(), envs_.end(), [&](const auto& p) { return p.get() == &env; });
  if (it == envs_.end()) return;
  // Not destroyed here: we are inside one of its callbacks.
  std::shared_ptr<ExecutionEnvironment> doomed(std::move(*it));
  envs_.erase(it);
  if (auto tmp = doomed->take_tmp(); tmp && !shut_down_) spare_tmp_.push_back(std::move(tmp));
  auto undelivered = doomed->take_undelivered();
  for (auto u = undelivered.rbegin(); u != undelivered.rend(); ++u) {
    // Never seen by the function: it runs in another environment (a warm one if any is free,
    // else a cold start), ahead of what was queued after it. Once only.
    auto& inv = *u;
    inv->rerouted = true;
    if (shut_down_) {
      fail_without_environment(inv, Error{ErrorKind::kFunctionError, std::string(error_types::kSandboxFailure),
                                          "the daemon is shutting down"});
    } else {
      queue_.push_front(std::move(inv));
    }
  }
  keep_minimum();  // managed instances: the failed environment's replacement
  boost::asio::post(deps_.executor, [doomed] {});
  if (!shut_down_) {
    boost::asio::post(deps_.executor, lifetime_.guard([this] { pump(); }));
  }
}

void FunctionPool::status(nlohmann::json& out) const {
  auto now = deps_.clock.now();
  nlohmann::json envs = nlohmann::json::array();
  std::set<std::string> tenants;
  for (const auto& env : envs_) {
    envs.push_back({{"id", env->serial()},
                    {"state", env->state_label()},
                    {"slots", env->capacity()},
                    {"slotsInUse", env->slots_in_use()},
                    {"ageMs", std::chrono::duration_cast<std::chrono::milliseconds>(now - env->created_at()).count()},
                    {"invocations", env->invocations_served()},
                    {"version", options_.version},
                    {"provisioned", env->provisioned()}});
    if (env->tenant()) {
      envs.back()["tenant"] = *env->tenant();
      if (!env->dead()) tenants.insert(*env->tenant());
    }
  }
  out = {{"name", fn_.name},
         {"runtime", fn_.runtime},
         {"reservedConcurrency", fn_.reserved_concurrency ? nlohmann::json(*fn_.reserved_concurrency) : nlohmann::json()},
         {"provisionedConcurrency", fn_.provisioned_concurrency},
         {"inFlight", in_flight_},
         {"invocations", counters_.invocations},
         {"coldStarts", counters_.cold_starts},
         {"throttles", counters_.throttles},
         {"timeouts", counters_.timeouts},
         {"oomKills", counters_.oom_kills},
         {"readySandboxes", ready_ ? 1 : 0},
         {"environments", std::move(envs)}};
  if (fn_.tenant_isolation) {
    out["tenantIsolation"] = "PER_TENANT";
    out["tenants"] = std::move(tenants);  // of the live environments
  }
  snapshot_status(out);
  managed_status(out);
}

void FunctionPool::fail_without_environment(const invocation::InvocationPtr& inv, const Error& error) {
  // The environment could not even start (e.g. no bootstrap): Lambda still answers the invoke
  // with a function error and logs START/END/REPORT for it.
  auto log = observability::function_log();
  const std::string prefix = fmt::format("[{}] ", fn_.name);
  std::string lines;
  auto emit = [&](const std::string& line) {
    log->info("{}{}", prefix, line);
    lines.append(line).push_back('\n');
  };
  emit(observability::start_line(inv->request_id, inv->version));
  log->info("{}[{}] {}", prefix, inv->request_id, error.message);
  emit(observability::end_line(inv->request_id));
  observability::ReportFields f;
  f.request_id = inv->request_id;
  f.memory_size_mb = fn_.memory_mb;
  f.status = "error";
  f.error_type = error.type;
  emit(observability::report_line(f));

  invocation::InvocationResult r;
  r.outcome = invocation::Outcome::kFunctionError;
  r.error_type = error.type.empty() ? std::string(error_types::kSandboxFailure) : error.type;
  r.payload = nlohmann::ordered_json{{"errorType", r.error_type},
                                     {"errorMessage", fmt::format("RequestId: {} Error: {}", inv->request_id, error.message)}}
                  .dump();
  r.log = std::move(lines);
  if (inv->on_complete) inv->on_complete(std::move(r));
}

void FunctionPool::unfinished(std::vector<std::string>& request_ids) const {
  for (const auto& inv : queue_) request_ids.push_back(inv->request_id);
  for (const auto& env : envs_) env->unfinished(request_ids);
}

void FunctionPool::shutdown(const std::string& reason) {
  if (shut_down_) return;
  shut_down_ = true;
  auto queued = std::move(queue_);
  queue_.clear();
  for (auto& inv : queued) {
    fail_without_environment(inv, Error{ErrorKind::kFunctionError, std::string(error_types::kSandboxFailure), reason});
  }
  for (auto& env : envs_) env->kill(reason);
  // Destroying an environment kills and reaps its process group; those whose extensions have
  // their shutdown budget stay until it is over (on_dead drops them, closing() counts them).
  std::erase_if(envs_, [](const auto& env) { return !env->shutting_down(); });
  ready_.reset();
  snapshot_candidate_ = nullptr;
  snapshot_.reset();
  spare_tmp_.clear();
}

}  // namespace lambdad::sandbox
