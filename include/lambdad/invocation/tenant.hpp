// invocation: tenant isolation's rules for an invoke (lambda-spec §12), one place for every API
// that takes X-Amz-Tenant-Id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lambdad::invocation {

// The model's TenantId: 1 to 256 of [a-zA-Z0-9._:/=+-@ ] (space included).
inline constexpr std::string_view kTenantIdPattern = R"(^[a-zA-Z0-9\._:\/=+\-@ ]+$)";
bool valid_tenant_id(std::string_view tenant);

// Lambda's refusal (InvalidParameterValueException) of an invoke whose tenant does not fit the
// function: none for a PER_TENANT function, one for a function without tenancy; nullopt when it fits.
std::optional<std::string> tenant_refusal(bool has_tenant, bool isolated);

}  // namespace lambdad::invocation
