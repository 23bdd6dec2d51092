// invocation: where the APIs hand invocations over, and the few pool controls the APIs expose.
// The sandbox implements it; the Invoke API and `lambdad invoke` only see this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "lambdad/invocation/invocation.hpp"

namespace lambdad::invocation {

enum class Admission {
  kAccepted,             // on_complete will be called exactly once
  kThrottledReserved,    // ReservedFunctionConcurrentInvocationLimitExceeded; on_complete is not called
  kThrottledAccount,     // ConcurrentInvocationLimitExceeded; on_complete is not called
};

// A durable function's DurableConfig (lambda-spec §10.1): its invocations start durable
// executions (docs/decisions/026).
struct DurableSettings {
  std::int64_t execution_timeout_s = 0;  // 0: none
  int retention_days = 14;
};

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual bool has_function(const std::string& name) const = 0;
  // The deployed name of the function `requested` names (its deployed name, logical id or short
  // name: config/function_names.hpp), or `requested` itself when none does.
  virtual std::string function_for(const std::string& requested) const { return requested; }
  // The version `qualifier` ("$LATEST", a version number or an alias) names, or nullopt when the
  // function has no such version or alias.
  virtual std::optional<std::string> resolve(const std::string& name, const std::string& qualifier) const = 0;
  // The function's state when it cannot be invoked now ("Pending" while its code is being
  // unpacked, "Failed"), or nullopt.
  virtual std::optional<std::string> unavailable(const std::string& /*name*/) const { return std::nullopt; }
  // Whether the version's TracingConfig.Mode is Active (it samples invocations that arrive without
  // a caller's sampling decision).
  virtual bool tracing_active(const std::string& /*name*/, const std::string& /*version*/) const { return false; }
  // The version's DurableConfig; nullopt when it is not durable.
  virtual std::optional<DurableSettings> durable(const std::string& /*name*/, const std::string& /*version*/) const {
    return std::nullopt;
  }
  // Whether the version's TenancyConfig is PER_TENANT: each invoke names a tenant.
  virtual bool tenant_isolated(const std::string& /*name*/, const std::string& /*version*/) const { return false; }
  // Admits the invocation if concurrency allows and runs it. The function must exist.
  virtual Admission dispatch(InvocationPtr inv) = 0;
  // Drains the function's warm environments (busy ones after their invoke); nullopt if unknown.
  virtual std::optional<std::size_t> evict(const std::string& name) = 0;
  // Its members of the GET /_lambdad/status document, added to `out` (an object); the Invoke API
  // adds the Event queue's and writes the document once.
  virtual void status(nlohmann::json& out) const = 0;
};

}  // namespace lambdad::invocation
