#include "lambdad/sandbox/sandbox_manager.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lambdad/common/io_thread.hpp"

namespace lambdad::sandbox {

SandboxManager::SandboxManager(const PoolDeps& deps, ManagerOptions options)
    : deps_(deps), options_(std::move(options)), reclaim_timer_(deps.timers.make_timer()) {}

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

SandboxManager::~SandboxManager() { shutdown(); }

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
    if (options_.eager && config.reserved_concurrency.value_or(1) > 0 && !config.managed_instances) {
      if (auto* pool = find(name)) pool->prewarm(1, false);
    }
    // Managed instances start their environments ahead, always (lambda-spec §11).
    if (config.managed_instances) {
      if (auto* pool = find(name)) pool->keep_minimum();
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

std::optional<std::size_t> SandboxManager::evict(const std::string& name) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = functions_.find(name);
  if (it == functions_.end()) return std::nullopt;
  std::size_t n = 0;
  for (auto& [version, pool] : it->second.pools) n += pool->evict();
  return n;
}

void SandboxManager::status(nlohmann::json& out) const {
  LAMBDAD_ASSERT_IO_THREAD();
  // One entry per function: its versions' environments together (each says its version) and
  // the counters summed.
  nlohmann::json functions = nlohmann::json::array();
  for (const auto& [name, fn] : functions_) {
    nlohmann::json f;
    nlohmann::json snap_start = nullptr;  // SnapStart, by version (docs/decisions/023)
    for (const auto& [version, pool] : fn.pools) {
      nlohmann::json p;
      pool->status(p);
      if (auto it = p.find("snapStart"); it != p.end()) {
        snap_start[version] = std::move(*it);
        p.erase(it);
      }
      if (f.is_null()) {
        f = std::move(p);
        continue;
      }
      for (const char* counter : {"inFlight", "invocations", "coldStarts", "throttles", "timeouts", "oomKills"}) {
        f[counter] = f[counter].get<std::uint64_t>() + p[counter].get<std::uint64_t>();
      }
      f["readySandboxes"] = f["readySandboxes"].get<std::uint64_t>() + p["readySandboxes"].get<std::uint64_t>();
      for (auto& env : p["environments"]) f["environments"].push_back(std::move(env));
    }
    f["snapStart"] = std::move(snap_start);
    nlohmann::json versions = nlohmann::json::array();
    for (const auto& [version, pool] : fn.pools) versions.push_back(version);
    f["versions"] = std::move(versions);
    f["alias"] = fn.config.auto_publish_alias.empty() ? nlohmann::json() : nlohmann::json(fn.config.auto_publish_alias);
    functions.push_back(std::move(f));
  }
  out["memoryEnforcement"] = options_.memory_enforcement;
  out["memoryEnforcementMode"] = options_.memory_enforcement_mode;
  out["functions"] = std::move(functions);
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

std::size_t SandboxManager::closing() const {
  std::size_t n = 0;
  for (const auto& [name, fn] : functions_) {
    for (const auto& [version, pool] : fn.pools) n += pool->closing();
  }
  for (const auto& pool : retired_) n += pool->closing();
  return n;
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
  auto& entry = functions_[fn.name];
  if (version == config::kLatest) entry.config = fn;
  auto pool = entry.pools.find(version);
  if (pool == entry.pools.end()) {
    entry.pools.emplace(version, std::make_unique<FunctionPool>(deps_, fn, pool_options_for(fn, version)));
  } else {
    pool->second->replace_config(fn);
  }
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
}

void SandboxManager::follow(const control_plane::CatalogueChange& change) {
  if (const auto* put = std::get_if<control_plane::VersionPut>(&change)) {
    put_version(put->config, put->version);
  } else if (const auto* removed = std::get_if<control_plane::VersionRemoved>(&change)) {
    remove_version(removed->name, removed->version);
  } else if (const auto* gone = std::get_if<control_plane::FunctionRemoved>(&change)) {
    remove_function(gone->name);
  }
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
