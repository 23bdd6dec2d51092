// FunctionPool in managed-instances mode (lambda-spec §11, docs/decisions/028): environments with
// slots, kept at FunctionScalingConfig's minimum and started ahead of demand up to its maximum;
// an invoke takes the environment with the most free slots, and one beyond every slot is
// throttled by the scheduler (has_capacity) instead of waiting for a cold start.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "lambdad/observability/logging.hpp"
#include "lambdad/sandbox/function_pool.hpp"

namespace lambdad::sandbox {

bool FunctionPool::managed() const { return fn_.managed_instances.has_value(); }

std::size_t FunctionPool::live_environments() const {
  std::size_t n = 0;
  for (const auto& env : envs_) n += !env->dead() && !env->draining();
  return n;
}

std::size_t FunctionPool::min_environments() const {
  return static_cast<std::size_t>(std::max(1, fn_.managed_instances->min_environments));
}

std::size_t FunctionPool::max_environments() const {
  const auto& mi = *fn_.managed_instances;
  if (mi.max_environments) return static_cast<std::size_t>(std::max(*mi.max_environments, mi.min_environments));
  return std::numeric_limits<std::size_t>::max();  // bounded by the function's concurrency alone
}

void FunctionPool::keep_minimum() {
  if (!managed() || shut_down_) return;
  for (auto live = live_environments(); live < min_environments(); ++live) {
    if (!start_environment(environment_options(), nullptr, take_spare_tmp())) return;  // logged; the next invoke tries again
  }
}

bool FunctionPool::has_capacity() {
  if (!managed()) return true;
  keep_minimum();  // a failed environment's replacement, before its slots are counted
  std::size_t free = 0;
  for (const auto& env : envs_) {
    if (!env->draining()) free += env->free_slots();
  }
  return free > queue_.size() || live_environments() < max_environments();
}

void FunctionPool::scale_ahead() {
  // Another environment starts once half the slots are taken, so that it is ready before they
  // all are (Lambda scales on saturation, never on the request path).
  std::size_t slots = 0;
  std::size_t used = 0;
  for (const auto& env : envs_) {
    if (env->dead() || env->draining()) continue;
    slots += env->capacity();
    used += env->slots_in_use();
  }
  if (2 * used <= slots || live_environments() >= max_environments()) return;
  if (auto* env = start_environment(environment_options(), nullptr, take_spare_tmp())) {
    observability::daemon_log()->info("[{}] {} of {} slots in use: environment {} started ahead", fn_.name, used, slots,
                                      env->serial());
  }
}

bool FunctionPool::pump_managed() {
  const auto& inv = *queue_.front();
  ExecutionEnvironment* target = nullptr;
  for (auto& env : envs_) {
    if (env->draining() || env->free_slots() == 0) continue;
    if (env->tenant() && env->tenant() != inv.tenant_id) continue;
    if (!target || env->free_slots() > target->free_slots()) target = env.get();
  }
  if (!target) {
    // Every slot is taken (has_capacity let it in because another environment may start, or a
    // tenant has none of its own yet): one starts now, else the invoke waits for a slot.
    if (live_environments() >= max_environments()) return false;
    Error error;
    target = start_environment(environment_options(), &error, take_spare_tmp());
    if (!target) {
      auto failed = std::move(queue_.front());
      queue_.pop_front();
      fail_without_environment(failed, error);
      return true;
    }
    ++counters_.cold_starts;
  }
  auto next = std::move(queue_.front());
  queue_.pop_front();
  target->assign(std::move(next));
  scale_ahead();
  return true;
}

void FunctionPool::managed_status(nlohmann::json& out) const {
  if (!managed()) return;
  const auto& mi = *fn_.managed_instances;
  std::size_t slots = 0;
  std::size_t used = 0;
  for (const auto& env : envs_) {
    if (env->dead()) continue;
    slots += env->capacity();
    used += env->slots_in_use();
  }
  out["mode"] = "managed-instances";
  out["managedInstances"] = {{"capacityProviderArn", mi.capacity_provider_arn},
                             {"maxConcurrency", config::environment_max_concurrency(fn_)},
                             {"vCpus", config::managed_vcpus(fn_)},
                             {"minEnvironments", mi.min_environments},
                             {"maxEnvironments", mi.max_environments ? nlohmann::json(*mi.max_environments) : nlohmann::json()},
                             {"slots", slots},
                             {"slotsInUse", used}};
}

}  // namespace lambdad::sandbox
