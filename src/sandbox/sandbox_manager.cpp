#include "lambdad/sandbox/sandbox_manager.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/io_thread.hpp"

namespace lambdad::sandbox {
namespace {

constexpr int kMinimumUnreserved = 100;

}  // namespace

SandboxManager::SandboxManager(const PoolDeps& deps, const std::vector<config::FunctionConfig>& functions,
                               ManagerOptions options)
    : deps_(deps), options_(std::move(options)), reclaim_timer_(deps.timers.make_timer()) {
  for (const auto& fn : functions) {
    auto& entry = functions_[fn.name];
    entry.config = fn;
    entry.reserved = fn.reserved_concurrency;
    for (const auto& version : config::function_versions(fn)) {
      entry.pools.emplace(version, std::make_unique<FunctionPool>(deps, fn, pool_options_for(fn, version)));
    }
  }
  recompute_unreserved();
}

PoolOptions SandboxManager::pool_options_for(const config::FunctionConfig& fn, const std::string& version) const {
  PoolOptions pool_options = options_.pool;
  // A function's own delay wins over its runtime's, which wins over the global one.
  for (const auto& key : {fn.runtime, fn.name}) {
    if (auto it = options_.cold_start_delay_by_runtime.find(key); it != options_.cold_start_delay_by_runtime.end()) {
      pool_options.cold_start_delay = it->second;
    }
  }
  pool_options.version = version;
  return pool_options;
}

void SandboxManager::recompute_unreserved() {
  int reserved = 0;
  for (const auto& [name, fn] : functions_) reserved += fn.reserved.value_or(0);
  unreserved_capacity_ = std::max(0, options_.account_concurrency - reserved);
}

SandboxManager::~SandboxManager() {
  lifetime_.end();
  shutdown();
}

Status SandboxManager::validate(const std::vector<config::FunctionConfig>& functions, int account_concurrency) {
  int reserved = 0;
  for (const auto& fn : functions) reserved += fn.reserved_concurrency.value_or(0);
  // As on Lambda, the rule only applies to reservations: an account limit below 100 is fine
  // for functions that reserve nothing.
  const int minimum = kMinimumUnreserved;
  if (reserved > 0 && account_concurrency - reserved < minimum) {
    return Error{ErrorKind::kInvalidInput, std::string(error_types::kInvalidParameterValueException),
                 fmt::format("Specified ReservedConcurrentExecutions for function decreases account's "
                             "UnreservedConcurrentExecution below its minimum value of [{}]. (reserved {} of an "
                             "account concurrency of {})",
                             minimum, reserved, account_concurrency)};
  }
  return Ok{};
}

std::size_t SandboxManager::Function::in_flight() const {
  std::size_t n = 0;
  for (const auto& [version, pool] : pools) n += pool->in_flight();
  return n;
}

std::optional<std::string> SandboxManager::resolve(const std::string& name, const std::string& qualifier) const {
  auto it = functions_.find(name);
  if (it == functions_.end()) return std::nullopt;
  if (auto pool = it->second.pools.find(qualifier); pool != it->second.pools.end()) return qualifier;
  return config::resolve_qualifier(it->second.config, qualifier);
}

bool SandboxManager::tracing_active(const std::string& name, const std::string& version) const {
  auto it = functions_.find(name);
  if (it == functions_.end()) return false;
  auto pool = it->second.pools.find(version);
  const auto& fn = pool == it->second.pools.end() ? it->second.config : pool->second->config();
  return fn.tracing == config::TracingMode::kActive;
}

void SandboxManager::start() {
  LAMBDAD_ASSERT_IO_THREAD();
  for (auto& [name, fn] : functions_) {
    const auto& config = fn.config;
    // Provisioned concurrency belongs to the alias, i.e. the published version; EAGER warms
    // the version an unqualified call reaches.
    if (config.provisioned_concurrency > 0) {
      if (auto* pool = find(name, std::string(config::kPublishedVersion))) {
        pool->prewarm(static_cast<std::size_t>(config.provisioned_concurrency), true);
      }
    }
    if (options_.eager && config.reserved_concurrency.value_or(1) > 0) {
      if (auto* pool = find(name)) pool->prewarm(1, false);
    }
  }
  schedule_reclaim();
}

void SandboxManager::schedule_reclaim() {
  auto idle = options_.pool.idle_timeout;
  if (idle.count() <= 0 || shut_down_) return;
  auto tick = std::clamp(idle / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
  reclaim_timer_->arm(deps_.clock.now() + tick, [this] {
    if (shut_down_) return;
    auto now = deps_.clock.now();
    for (auto& [name, fn] : functions_) {
      for (auto& [version, pool] : fn.pools) pool->reclaim_idle(now);
    }
    sweep_retired();
    schedule_reclaim();
  });
}

invocation::Admission SandboxManager::dispatch(invocation::InvocationPtr inv) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto fn = functions_.find(inv->function_name);
  auto* pool = find(inv->function_name, inv->version);
  if (!pool) {
    // A caller bug (has_function is checked first); still complete the invocation exactly once.
    invocation::InvocationResult r;
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = std::string(error_types::kSandboxFailure);
    r.payload = R"({"errorType":"Sandbox.Failure","errorMessage":"function not found"})";
    if (inv->on_complete) inv->on_complete(std::move(r));
    return invocation::Admission::kAccepted;
  }
  const auto& reserved = fn->second.reserved;
  if (reserved) {
    if (fn->second.in_flight() >= static_cast<std::size_t>(*reserved)) {
      ++pool->counters().throttles;
      return invocation::Admission::kThrottledReserved;
    }
  } else {
    if (unreserved_in_flight_ >= unreserved_capacity_) {
      ++pool->counters().throttles;
      return invocation::Admission::kThrottledAccount;
    }
    ++unreserved_in_flight_;
    inv->on_complete = [this, alive = lifetime_.token(), next = std::move(inv->on_complete)](invocation::InvocationResult r) {
      if (alive) --unreserved_in_flight_;
      if (next) next(std::move(r));
    };
  }
  if (options_.on_admitted) options_.on_admitted(*inv);
  pool->submit(std::move(inv));
  return invocation::Admission::kAccepted;
}

std::optional<std::size_t> SandboxManager::evict(const std::string& name) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = functions_.find(name);
  if (it == functions_.end()) return std::nullopt;
  std::size_t n = 0;
  for (auto& [version, pool] : it->second.pools) n += pool->evict();
  return n;
}

std::string SandboxManager::status_json() const {
  LAMBDAD_ASSERT_IO_THREAD();
  // One entry per function: its versions' environments together (each says its version) and
  // the counters summed.
  nlohmann::json functions = nlohmann::json::array();
  for (const auto& [name, fn] : functions_) {
    nlohmann::json f;
    for (const auto& [version, pool] : fn.pools) {
      nlohmann::json p;
      pool->status(p);
      if (f.is_null()) {
        f = std::move(p);
        continue;
      }
      for (const char* counter : {"inFlight", "invocations", "coldStarts", "throttles", "timeouts", "oomKills"}) {
        f[counter] = f[counter].get<std::uint64_t>() + p[counter].get<std::uint64_t>();
      }
      for (auto& env : p["environments"]) f["environments"].push_back(std::move(env));
    }
    nlohmann::json versions = nlohmann::json::array();
    for (const auto& [version, pool] : fn.pools) versions.push_back(version);
    f["versions"] = std::move(versions);
    f["reservedConcurrency"] = fn.reserved ? nlohmann::json(*fn.reserved) : nlohmann::json();
    f["alias"] = fn.config.auto_publish_alias.empty() ? nlohmann::json() : nlohmann::json(fn.config.auto_publish_alias);
    functions.push_back(std::move(f));
  }
  nlohmann::json out = {{"memoryEnforcement", options_.memory_enforcement},
                        {"memoryEnforcementMode", options_.memory_enforcement_mode},
                        {"accountConcurrency", options_.account_concurrency},
                        {"unreservedConcurrency", unreserved_capacity_},
                        {"unreservedInFlight", unreserved_in_flight_},
                        {"functions", std::move(functions)}};
  return out.dump();
}

FunctionPool* SandboxManager::find(const std::string& name, const std::string& version) {
  auto it = functions_.find(name);
  if (it == functions_.end()) return nullptr;
  auto pool = it->second.pools.find(version);
  return pool == it->second.pools.end() ? nullptr : pool->second.get();
}

void SandboxManager::shutdown(const std::string& reason) {
  LAMBDAD_ASSERT_IO_THREAD();
  if (shut_down_) return;
  shut_down_ = true;
  reclaim_timer_->cancel();
  for (auto& [name, fn] : functions_) {
    for (auto& [version, pool] : fn.pools) pool->shutdown(reason);
  }
  for (auto& pool : retired_) pool->shutdown(reason);
}

std::vector<SandboxManager::Unfinished> SandboxManager::unfinished() const {
  std::vector<Unfinished> out;
  std::vector<std::string> ids;
  auto collect = [&](const FunctionPool& pool) {
    ids.clear();
    pool.unfinished(ids);
    for (auto& id : ids) out.push_back(Unfinished{pool.config().name, pool.version(), std::move(id)});
  };
  for (const auto& [name, fn] : functions_) {
    for (const auto& [version, pool] : fn.pools) collect(*pool);
  }
  for (const auto& pool : retired_) collect(*pool);
  return out;
}

void SandboxManager::put_version(const config::FunctionConfig& fn, const std::string& version) {
  LAMBDAD_ASSERT_IO_THREAD();
  sweep_retired();
  auto [it, added] = functions_.try_emplace(fn.name);
  auto& entry = it->second;
  if (added) entry.reserved = fn.reserved_concurrency;
  if (version == config::kLatest) entry.config = fn;
  auto pool = entry.pools.find(version);
  if (pool == entry.pools.end()) {
    entry.pools.emplace(version, std::make_unique<FunctionPool>(deps_, fn, pool_options_for(fn, version)));
  } else {
    pool->second->replace_config(fn);
  }
  if (added) recompute_unreserved();
}

void SandboxManager::remove_version(const std::string& name, const std::string& version) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = functions_.find(name);
  if (it == functions_.end()) return;
  auto pool = it->second.pools.find(version);
  if (pool == it->second.pools.end()) return;
  retire(std::move(pool->second));
  it->second.pools.erase(pool);
}

void SandboxManager::remove_function(const std::string& name) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = functions_.find(name);
  if (it == functions_.end()) return;
  for (auto& [version, pool] : it->second.pools) retire(std::move(pool));
  functions_.erase(it);
  recompute_unreserved();
}

void SandboxManager::set_reserved_concurrency(const std::string& name, std::optional<int> reserved) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = functions_.find(name);
  if (it == functions_.end()) return;
  it->second.reserved = reserved;
  it->second.config.reserved_concurrency = reserved;
  recompute_unreserved();
}

void SandboxManager::retire(std::unique_ptr<FunctionPool> pool) {
  pool->evict();
  retired_.push_back(std::move(pool));
  sweep_retired();
}

void SandboxManager::sweep_retired() {
  // A retired pool may still start an environment for an invoke it had queued: drain again.
  std::erase_if(retired_, [](const std::unique_ptr<FunctionPool>& pool) {
    if (pool->in_flight() == 0 && pool->queued() == 0) {
      pool->evict();
      return pool->environment_count() == 0;
    }
    return false;
  });
}

}  // namespace lambdad::sandbox
