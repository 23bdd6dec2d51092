#include "lambdad/invoke_api/function_name.hpp"

#include <fmt/format.h>

#include <cctype>
#include <vector>

#include "lambdad/invocation/invocation.hpp"

namespace lambdad::invoke_api {
namespace {

// The characters of the Qualifier pattern ($LATEST.PUBLISHED is the one name with a dot).
bool qualifier_pattern(std::string_view q) {
  if (q == "$LATEST.PUBLISHED") return true;
  for (char c : q) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '$')) return false;
  }
  return true;
}

}  // namespace

bool valid_qualifier(std::string_view q) {
  return !q.empty() && q.size() <= kMaxQualifier && qualifier_pattern(q);
}

std::variant<FunctionTarget, ServiceError> function_target(std::string_view raw_name,
                                                            std::optional<std::string_view> query_qualifier,
                                                            std::string_view region, std::string_view account) {
  auto parsed = parse_function_name(raw_name);
  if (!parsed || (parsed->arn && parsed->name.size() > kMaxFunctionName)) {
    return ServiceError::invalid_member(
        "functionName", raw_name, {fmt::format("Member must satisfy regular expression pattern: {}", kFunctionNamePattern)});
  }
  if (query_qualifier) {
    std::vector<std::string> failed;
    if (!qualifier_pattern(*query_qualifier)) {
      failed.push_back(fmt::format("Member must satisfy regular expression pattern: {}", kQualifierPattern));
    }
    if (query_qualifier->empty()) failed.push_back("Member must have length greater than or equal to 1");
    if (query_qualifier->size() > kMaxQualifier) {
      failed.push_back(fmt::format("Member must have length less than or equal to {}", kMaxQualifier));
    }
    if (!failed.empty()) return ServiceError::invalid_member("qualifier", *query_qualifier, failed);
  }
  std::optional<std::string> qualifier = parsed->qualifier;
  if (qualifier && query_qualifier && *qualifier != *query_qualifier) {
    return ServiceError::invalid_parameter(
        "The derived qualifier from the function name does not match the specified qualifier.");
  }
  if (!qualifier && query_qualifier) qualifier = std::string(*query_qualifier);
  if (parsed->name.size() > kMaxFunctionName) {
    // The pattern admits it; Lambda then looks for it as it does for an Invoke.
    return ServiceError::not_found(fmt::format(
        "Function not found: {}", invocation::function_arn(std::string(region), std::string(account), parsed->name,
                                                           qualifier.value_or("$LATEST"))));
  }
  if (parsed->region && *parsed->region != region) {
    return ServiceError::not_found(
        fmt::format("Functions from '{}' are not reachable in this region ('{}')", *parsed->region, region));
  }
  if (parsed->account && *parsed->account != account) return ServiceError::access_denied();
  return FunctionTarget{parsed->name, qualifier};
}

}  // namespace lambdad::invoke_api
