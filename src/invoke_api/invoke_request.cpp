#include "invoke_request.hpp"

#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "lambdad/common/base64.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/invocation/tenant.hpp"
#include "lambdad/invoke_api/function_name.hpp"

namespace lambdad::invoke_api {
namespace {

// Jackson-like detail for a payload that is not JSON (lambda-spec §4.1 keeps the prefix exact).
std::string json_error_detail(const std::string& payload) {
  try {
    auto parsed = nlohmann::json::parse(payload);
    static_cast<void>(parsed);
  } catch (const nlohmann::json::parse_error& e) {
    return fmt::format("Could not parse request body into json: Could not parse payload into json: {}\n"
                       " at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "
                       "line: 1, column: {}]",
                       e.what(), e.byte);
  }
  return {};
}

}  // namespace

std::variant<FunctionTarget, ServiceError> parse_target(const http::Request& req, const InvokeApiOptions& opts) {
  auto query_qualifier = req.query_param("Qualifier");
  return function_target(req.param("name"),
                         query_qualifier ? std::optional<std::string_view>(*query_qualifier) : std::nullopt,
                         opts.region, opts.account_id);
}

std::variant<ValidInvoke, ServiceError> validate_invoke(http::Request& req, const std::string& request_id,
                                                        invocation::Dispatcher& dispatcher, const Clock& clock,
                                                        const InvokeApiOptions& opts, const InvokeRules& rules) {
  auto target = parse_target(req, opts);
  if (auto* e = std::get_if<ServiceError>(&target)) return std::move(*e);
  const std::optional<std::string> qualifier = std::get<FunctionTarget>(target).qualifier;
  // A logical id or short name reaches the function by its deployed name, which the ARNs, the
  // response and the runtime's AWS_LAMBDA_FUNCTION_NAME carry.
  const std::string name = dispatcher.function_for(std::get<FunctionTarget>(target).name);
  auto version = dispatcher.resolve(name, qualifier.value_or("$LATEST"));
  if (!version) {
    return ServiceError::not_found(fmt::format(
        "Function not found: {}",
        invocation::function_arn(opts.region, opts.account_id, name, qualifier.value_or("$LATEST"))));
  }
  if (auto state = dispatcher.unavailable(name)) {
    return ServiceError::conflict(fmt::format(
        "The operation cannot be performed at this time. The function is currently in the following state: {}", *state));
  }
  // Tenant isolation (lambda-spec §12): a PER_TENANT function takes only invokes that name a
  // tenant, any other function none.
  const auto tenant = req.headers.get("X-Amz-Tenant-Id");
  if (tenant && !invocation::valid_tenant_id(*tenant)) {
    return ServiceError::invalid_member("tenantId", std::string(*tenant),
                                        {"Member must satisfy regular expression pattern: " +
                                             std::string(invocation::kTenantIdPattern),
                                         "Member must have length less than or equal to 256"});
  }
  if (auto refused = invocation::tenant_refusal(tenant.has_value(), dispatcher.tenant_isolated(name, *version))) {
    return ServiceError::invalid_parameter(std::move(*refused));
  }

  std::string type(req.headers.get("X-Amz-Invocation-Type").value_or("RequestResponse"));
  bool known_type = false;
  for (auto t : rules.invocation_types) known_type = known_type || t == type;
  if (!known_type) {
    return ServiceError::invalid_member(
        "invocationType", type,
        {fmt::format("Member must satisfy enum value set: [{}]", fmt::join(rules.invocation_types, ", "))});
  }
  if (req.body_too_large) {
    return ServiceError::entity_too_large(fmt::format("Request must be smaller than {} bytes for the {} operation",
                                                      limits::kSyncRequestPayload, rules.operation));
  }
  if (type == "Event" && req.body.size() > kEventPayloadLimit) {
    return ServiceError::entity_too_large(
        fmt::format("{} byte payload is too large for the Event invocation type (limit {} bytes)", req.body.size(),
                    kEventPayloadLimit));
  }
  if (req.body.empty()) {
    req.body = "{}";
  } else if (!nlohmann::json::accept(req.body)) {
    return ServiceError::invalid_request_content(json_error_detail(req.body));
  }

  auto inv = std::make_shared<invocation::Invocation>();
  inv->request_id = request_id;
  inv->function_name = name;
  inv->qualifier = qualifier.value_or("$LATEST");
  inv->version = *version;
  inv->invoked_function_arn = invocation::function_arn(opts.region, opts.account_id, name, qualifier.value_or(""));
  inv->payload = std::move(req.body);
  inv->received = clock.now();
  inv->trace_id = ids::invocation_trace_header(req.headers.get("X-Amzn-Trace-Id").value_or(""),
                                               dispatcher.tracing_active(name, *version), clock.epoch_ms() / 1000);
  if (auto cc = req.headers.get("X-Amz-Client-Context"); cc && !cc->empty()) {
    auto decoded = base64::decode(*cc);
    if (!decoded) return ServiceError::invalid_parameter("Client context must be a valid Base64-encoded JSON object.");
    inv->client_context = std::move(*decoded);
  }
  if (tenant) inv->tenant_id = std::string(*tenant);
  return ValidInvoke{std::move(inv), std::move(type)};
}

std::optional<ServiceError> admission_error(invocation::Admission a) {
  switch (a) {
    case invocation::Admission::kAccepted:
      return std::nullopt;
    case invocation::Admission::kThrottledReserved:
      return ServiceError::throttled("ReservedFunctionConcurrentInvocationLimitExceeded");
    case invocation::Admission::kThrottledAccount:
      return ServiceError::throttled("ConcurrentInvocationLimitExceeded");
  }
  return std::nullopt;
}

}  // namespace lambdad::invoke_api
