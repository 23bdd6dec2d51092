#include "lambdad/invocation/tenant.hpp"

#include <algorithm>
#include <cctype>

namespace lambdad::invocation {

bool valid_tenant_id(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > 256) return false;
  return std::all_of(tenant.begin(), tenant.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._:/=+-@ ").find(c) != std::string_view::npos;
  });
}

std::optional<std::string> tenant_refusal(bool has_tenant, bool isolated) {
  if (isolated && !has_tenant) {
    return "The invoked function is enabled with tenancy configuration. Add a valid tenant ID in your request and try "
           "again.";
  }
  if (!isolated && has_tenant) {
    return "The invoked function is not enabled with tenancy configuration. Remove the tenant ID from your request and "
           "try again.";
  }
  return std::nullopt;
}

}  // namespace lambdad::invocation
