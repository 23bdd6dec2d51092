// config: the names a function answers to, and the one rule that turns a name given on the command
// line, in a test case or in an Invoke request into a function. `serve`, `invoke`, `test` and the
// registry's Invoke lookups all use find_function; nothing else matches names.
//
// A function has up to three names:
//   - its deployed name: FunctionName (or the Serverless Framework's service-stage-function name),
//     what Lambda knows it by, what ARNs and AWS_LAMBDA_FUNCTION_NAME carry;
//   - its logical id: the template's resource key (OrdersFunction), or for serverless.yml the
//     Framework's CloudFormation resource name (OrdersLambdaFunction);
//   - its short name: serverless.yml's key under functions: (orders); none for SAM templates.
// A requested name is tried against every function's deployed name first, then every logical id,
// then every short name: the first kind that matches wins. Two functions that share a name of the
// same kind are an error at load time (check_function_names).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lambdad/config/function_config.hpp"

namespace lambdad::config {

// The order in which the kinds of names are tried.
enum class NameKind { kDeployed, kLogicalId, kShortName };
inline constexpr NameKind kNameKinds[] = {NameKind::kDeployed, NameKind::kLogicalId, NameKind::kShortName};

// The function's name of `kind`; empty when it has none (a SAM function's short name).
std::string_view name_of(const FunctionConfig& fn, NameKind kind);
std::string_view describe_kind(NameKind kind);  // "deployed name", "logical id", "short name"

// The function `requested` names, by the rule above; nullptr when none does.
const FunctionConfig* find_function(const std::vector<const FunctionConfig*>& functions, std::string_view requested);
const FunctionConfig* find_function(const std::vector<FunctionConfig>& functions, std::string_view requested);

// What is wrong with the names of a template's functions: `errors`, a name two functions share
// as the same kind (ambiguous); `warnings`, a name one function has as one kind and another as a
// later kind (the first wins; the other cannot be reached by it).
struct NameCheck {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};
NameCheck check_function_names(const std::vector<FunctionConfig>& functions);

// "OrdersFunction (orders-prod, short: orders)": the logical id, then the deployed name and the
// short name where they differ from it.
std::string describe_names(const FunctionConfig& fn);

// The Serverless Framework's CloudFormation logical id of the function `key` of functions:
// ("hello-world" -> "HelloDashworldLambdaFunction").
std::string serverless_logical_id(std::string_view key);

}  // namespace lambdad::config
