#include "lambdad/scheduler/scheduler.hpp"

#include <nlohmann/json.hpp>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/io_thread.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/sandbox/sandbox_manager.hpp"

namespace lambdad::scheduler {

Scheduler::Scheduler(const control_plane::FunctionRegistry& catalogue, sandbox::SandboxManager& pools,
                     SchedulerOptions options)
    : catalogue_(catalogue), pools_(pools), options_(std::move(options)) {}

Scheduler::~Scheduler() { lifetime_.end(); }

bool Scheduler::has_function(const std::string& name) const { return catalogue_.has_function(name); }

std::string Scheduler::function_for(const std::string& requested) const { return catalogue_.function_for(requested); }

std::optional<std::string> Scheduler::resolve(const std::string& name, const std::string& qualifier) const {
  return catalogue_.resolve(name, qualifier);
}

std::optional<std::string> Scheduler::unavailable(const std::string& name) const {
  return catalogue_.unavailable(name);
}

bool Scheduler::tracing_active(const std::string& name, const std::string& version) const {
  return catalogue_.tracing_active(name, version);
}

bool Scheduler::tenant_isolated(const std::string& name, const std::string& version) const {
  return catalogue_.tenant_isolated(name, version);
}

std::optional<invocation::DurableSettings> Scheduler::durable(const std::string& name,
                                                              const std::string& version) const {
  auto c = catalogue_.durable_config(name, version);
  if (!c) return std::nullopt;
  return invocation::DurableSettings{c->execution_timeout_s, c->retention_days};
}

std::size_t Scheduler::in_flight(const std::string& name) const {
  auto it = in_flight_.find(name);
  return it == in_flight_.end() ? 0 : it->second;
}

invocation::Admission Scheduler::dispatch(invocation::InvocationPtr inv) {
  LAMBDAD_ASSERT_IO_THREAD();
  const std::string name = inv->function_name;
  auto* pool = pools_.find(name, inv->version);
  if (!pool) {
    // A caller bug (it resolves first); still complete the invocation exactly once.
    invocation::InvocationResult r;
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = std::string(error_types::kSandboxFailure);
    r.payload = R"({"errorType":"Sandbox.Failure","errorMessage":"function not found"})";
    if (inv->on_complete) inv->on_complete(std::move(r));
    return invocation::Admission::kAccepted;
  }
  // Decision 004: a reservation bounds the function's invocations over all its versions; the
  // functions without one share what the reservations leave of the account's concurrency.
  const auto* fn = catalogue_.find(name);
  const std::optional<int> reserved = fn ? fn->reserved : std::nullopt;
  if (reserved && in_flight(name) >= static_cast<std::size_t>(*reserved)) {
    ++pool->counters().throttles;
    return invocation::Admission::kThrottledReserved;
  }
  if (!reserved && unreserved_in_flight_ >= static_cast<std::size_t>(catalogue_.unreserved_concurrency())) {
    ++pool->counters().throttles;
    return invocation::Admission::kThrottledAccount;
  }
  // Managed instances (lambda-spec §11): every slot taken and no environment to add is a throttle,
  // not a cold start. Lambda has no reason of its own for it; the account's is used.
  if (!pool->has_capacity()) {
    ++pool->counters().throttles;
    return invocation::Admission::kThrottledAccount;
  }
  ++in_flight_[name];
  if (!reserved) ++unreserved_in_flight_;
  // Released when answered, on the share it was admitted on (the reservation may change meanwhile).
  inv->on_complete = [this, alive = lifetime_.token(), name, shared = !reserved,
                      next = std::move(inv->on_complete)](invocation::InvocationResult r) {
    if (alive) {
      if (auto it = in_flight_.find(name); it != in_flight_.end() && --it->second == 0) in_flight_.erase(it);
      if (shared) --unreserved_in_flight_;
    }
    if (next) next(std::move(r));
  };
  if (options_.on_admitted) options_.on_admitted(*inv);
  pool->submit(std::move(inv));
  return invocation::Admission::kAccepted;
}

std::optional<std::size_t> Scheduler::evict(const std::string& name) { return pools_.evict(name); }

void Scheduler::status(nlohmann::json& out) const {
  pools_.status(out);
  for (auto& f : out["functions"]) {
    const auto* fn = catalogue_.find(f.value("name", ""));
    f["reservedConcurrency"] = fn && fn->reserved ? nlohmann::json(*fn->reserved) : nlohmann::json();
  }
  out["accountConcurrency"] = catalogue_.account_concurrency();
  out["unreservedConcurrency"] = catalogue_.unreserved_concurrency();
  out["unreservedInFlight"] = unreserved_in_flight_;
}

}  // namespace lambdad::scheduler
