// invocation: the one parser of a function's name as Lambda takes it (lambda-spec §3.1): a bare
// name, name:qualifier, a partial ARN (account:function:name[:qualifier]) or a full ARN. The
// Invoke API reads a request's {name} with it (invoke_api/function_name.hpp judges the result),
// and the Event queue a Lambda destination.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lambdad::invocation {

struct FunctionName {
  std::string name;
  std::optional<std::string> qualifier;
  std::optional<std::string> region;   // from an ARN
  std::optional<std::string> account;  // from an ARN
  bool arn = false;                    // a (partial) ARN: arn:, a region, an account or function: given
};

// nullopt when the value does not match the model's pattern or is longer than 256 characters.
// The name's own length (at most 64) is the caller's to judge.
std::optional<FunctionName> parse_function_name(std::string_view value);

}  // namespace lambdad::invocation
