#include "front_invocation.hpp"

#include <fmt/format.h>

#include "lambdad/common/ids.hpp"
#include "lambdad/invocation/tenant.hpp"

namespace lambdad::http_front {

std::variant<invocation::InvocationPtr, std::string> front_invocation(invocation::Dispatcher& dispatcher,
                                                                      const FrontOptions& options, const Clock& clock,
                                                                      FrontCall call) {
  const std::string& qualifier = call.qualifier;
  const std::string name = dispatcher.function_for(call.function);
  const auto version = dispatcher.resolve(name, qualifier);
  if (!version) return fmt::format("no function {}:{}", name, qualifier);
  if (auto state = dispatcher.unavailable(name)) return fmt::format("{} is {}", name, *state);
  if (call.tenant_id && !invocation::valid_tenant_id(*call.tenant_id)) {
    return fmt::format("X-Amz-Tenant-Id '{}' is not a tenant id", *call.tenant_id);
  }
  if (auto refused = invocation::tenant_refusal(call.tenant_id.has_value(), dispatcher.tenant_isolated(name, *version))) {
    return *refused;
  }
  auto inv = std::make_shared<invocation::Invocation>();
  inv->request_id = std::move(call.request_id);
  inv->function_name = name;
  inv->version = *version;
  inv->qualifier = qualifier;
  inv->invoked_function_arn = invocation::function_arn(options.region, options.account_id, name,
                                                       qualifier == "$LATEST" ? std::string() : qualifier);
  inv->payload = std::move(call.payload);
  inv->tenant_id = std::move(call.tenant_id);
  inv->received = clock.now();
  inv->trace_id =
      ids::invocation_trace_header(call.trace_header, dispatcher.tracing_active(name, *version), clock.epoch_ms() / 1000);
  return inv;
}

}  // namespace lambdad::http_front
