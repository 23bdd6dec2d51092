// FunctionPool and SnapStart (docs/decisions/023): the pool's snapshot, made at its first cold
// start, and the copies of it that serve the later ones.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lambdad/observability/logging.hpp"
#include "lambdad/sandbox/function_pool.hpp"

namespace lambdad::sandbox {

bool FunctionPool::snap_start() const {
  return deps_.runtime_options.snap_start_all || (fn_.snap_start && options_.version != config::kLatest);
}

bool FunctionPool::snapshot_forks() const {
  // Our Python runtime can become a snapshot; Node.js and custom runtimes restore in place.
  return deps_.runtime_options.snapshot_fork && !snapshot_in_place_ &&
         config::runtime_family(fn_.runtime) == config::RuntimeFamily::kPython;
}

ExecutionEnvironment* FunctionPool::snap_start_cold() {
  // Not root, or a runtime that restores itself: SnapStart's sequence runs in place.
  if (!snapshot_forks()) return nullptr;
  if (!snapshot_) return start_snapshot();
  return snapshot_->ready() ? restore_copy() : nullptr;
}

ExecutionEnvironment* FunctionPool::start_snapshot() {
  auto snap = Snapshot::open(
      deps_.executor, lifetime_.guard([this] { snapshot_ready(); }),
      lifetime_.guard([this](const std::string& why) {
        // A runtime that cannot be copied faithfully restores in place, from now on.
        if (snapshot_ && snapshot_->in_place()) snapshot_in_place_ = true;
        drop_snapshot(why);
        // Cold starts that waited for the snapshot go ahead without it.
        boost::asio::post(deps_.executor, lifetime_.guard([this] { pump(); }));
      }));
  if (!snap) {
    observability::daemon_log()->warn("[{}] no snapshot: {}", fn_.name, snap.error().message);
    return nullptr;
  }
  auto options = environment_options();
  options.snapshot_socket = snap.value()->name();
  auto* env = start_environment(options, nullptr, nullptr);
  if (env == nullptr) return nullptr;  // the usual start that follows reports why
  snap.value()->expect(env->pid());
  snapshot_ = std::move(snap).value();
  snapshot_candidate_ = env;
  snapshot_stale_ = false;
  return env;
}

ExecutionEnvironment* FunctionPool::restore_copy() {
  std::unique_ptr<ExecutionEnvironment> env;
  if (ready_ && !ready_->dead()) {
    env = std::move(ready_);  // a copy made ahead, or a sandbox to fork one into
  } else {
    discard_ready();
    auto prepared = ExecutionEnvironment::prepare(environment_deps(), fn_, next_serial_++, environment_options());
    if (!prepared) {
      observability::daemon_log()->warn("[{}] cannot make a sandbox to restore into: {}", fn_.name,
                                        prepared.error().message);
      return nullptr;
    }
    env = std::move(prepared).value();
  }
  if (!env->is_copy()) {
    if (auto st = env->restore(*snapshot_, false); !st) {
      // Its init then runs here, with SnapStart's sequence in place.
      observability::daemon_log()->warn("[{}] cannot restore the snapshot ({}); environment {} starts the usual way",
                                        fn_.name, st.error().message, env->serial());
    }
  }
  if (env->is_copy()) ++restores_;
  if (auto go = env->go(); !go) {
    std::shared_ptr<ExecutionEnvironment> doomed(std::move(env));
    boost::asio::post(deps_.executor, [doomed] {});
    return nullptr;
  }
  envs_.push_back(std::move(env));
  return envs_.back().get();
}

bool FunctionPool::copy_ahead(ExecutionEnvironment& env) {
  if (!snap_start() || !snapshot_ || !snapshot_->ready() || snapshot_stale_) return false;
  if (auto st = env.restore(*snapshot_, true); !st) {
    observability::daemon_log()->debug("[{}] no copy of the snapshot made ahead: {}", fn_.name, st.error().message);
    return false;
  }
  return true;
}

void FunctionPool::snapshot_ready() {
  auto* candidate = std::exchange(snapshot_candidate_, nullptr);
  auto it = std::find_if(envs_.begin(), envs_.end(), [&](const auto& p) { return p.get() == candidate; });
  if (candidate == nullptr || it == envs_.end() || (*it)->dead()) {
    drop_snapshot("its environment is gone");
    return;
  }
  std::unique_ptr<ExecutionEnvironment> env = std::move(*it);
  envs_.erase(it);
  // The invoke it was started for was never delivered: a copy runs it.
  if (auto inv = env->become_snapshot()) {
    queue_.push_front(std::move(inv));
    if (counters_.cold_starts > 0) --counters_.cold_starts;  // counted once, by the copy
  }
  snapshot_->keep(std::move(env));
  if (snapshot_stale_) drop_snapshot("new code or configuration came while it initialised");
  boost::asio::post(deps_.executor, lifetime_.guard([this] { pump(); }));
}

void FunctionPool::drop_snapshot(const std::string& why) {
  snapshot_candidate_ = nullptr;
  if (!snapshot_) return;
  observability::daemon_log()->info("[{}] snapshot discarded: {}", fn_.name, why);
  // Not here: this may run inside one of the snapshot's callbacks, or its environment's.
  std::shared_ptr<Snapshot> doomed(std::move(snapshot_));
  boost::asio::post(deps_.executor, [doomed] {});
}

void FunctionPool::on_restored_in_place(ExecutionEnvironment& env) {
  if (&env != snapshot_candidate_) return;
  snapshot_in_place_ = true;
  drop_snapshot("the runtime restores in place (it called /restore/next itself)");
  boost::asio::post(deps_.executor, lifetime_.guard([this] { pump(); }));
}

void FunctionPool::snapshot_status(nlohmann::json& out) const {
  if (!snap_start()) return;
  nlohmann::json snap = nullptr;
  if (snapshot_) {
    snap = {{"state", snapshot_->ready() ? "ready" : "initializing"}};
    if (const auto* env = snapshot_->environment()) snap["pid"] = env->pid();
  }
  out["snapStart"] = {{"mode", snapshot_forks() ? "fork" : "in-place"},
                      {"snapshot", std::move(snap)},
                      {"restores", restores_},
                      {"copiesMadeAhead", ready_ && ready_->is_copy() ? 1 : 0}};
}

}  // namespace lambdad::sandbox
