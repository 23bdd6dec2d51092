// scheduler: the one Dispatcher (docs/decisions/018). It resolves a function name and qualifier
// to a version through the catalogue (control_plane::FunctionRegistry), answers whether the
// function can run now, admits the invocation the way Lambda does (reserved concurrency; the
// account's concurrency shared by the functions without a reservation) and hands it to the pool
// of its version (sandbox::SandboxManager). The Invoke API, the Event queue, `lambdad invoke` and
// `lambdad test` reach functions through it only. Runs on the daemon's one thread.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "lambdad/common/lifetime.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::control_plane {
class FunctionRegistry;
}
namespace lambdad::sandbox {
class SandboxManager;
}

namespace lambdad::scheduler {

struct SchedulerOptions {
  // Called with each admitted invocation, before its pool sees it: the local X-Ray listener
  // learns which function a sampled trace belongs to.
  std::function<void(const invocation::Invocation&)> on_admitted;
};

class Scheduler final : public invocation::Dispatcher {
 public:
  Scheduler(const control_plane::FunctionRegistry& catalogue, sandbox::SandboxManager& pools,
            SchedulerOptions options = {});
  ~Scheduler() override;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Resolution: the catalogue's.
  bool has_function(const std::string& name) const override;
  std::string function_for(const std::string& requested) const override;
  std::optional<std::string> resolve(const std::string& name, const std::string& qualifier) const override;
  std::optional<std::string> unavailable(const std::string& name) const override;
  bool tracing_active(const std::string& name, const std::string& version) const override;
  bool tenant_isolated(const std::string& name, const std::string& version) const override;
  std::optional<invocation::DurableSettings> durable(const std::string& name,
                                                     const std::string& version) const override;

  // Admission, then the pool of (inv->function_name, inv->version).
  invocation::Admission dispatch(invocation::InvocationPtr inv) override;
  std::optional<std::size_t> evict(const std::string& name) override;
  // The pools' status with admission's members.
  void status(nlohmann::json& out) const override;

  // Admitted and not yet answered: of one function, and of those without a reservation.
  std::size_t in_flight(const std::string& name) const;
  std::size_t unreserved_in_flight() const { return unreserved_in_flight_; }

 private:
  const control_plane::FunctionRegistry& catalogue_;
  sandbox::SandboxManager& pools_;
  SchedulerOptions options_;
  std::map<std::string, std::size_t> in_flight_;  // by function, every version together
  std::size_t unreserved_in_flight_ = 0;
  Lifetime lifetime_;
};

}  // namespace lambdad::scheduler
