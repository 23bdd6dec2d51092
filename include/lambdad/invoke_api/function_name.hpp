// invoke_api: the FunctionName forms Invoke accepts (lambda-spec §3.1): a bare name,
// name:qualifier, a partial ARN (account:function:name[:qualifier]) or a full ARN.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lambdad::invoke_api {

struct FunctionName {
  std::string name;
  std::optional<std::string> qualifier;
  std::optional<std::string> region;   // from an ARN
  std::optional<std::string> account;  // from an ARN
};

// The model's pattern, quoted in ValidationException messages.
inline constexpr std::string_view kFunctionNamePattern =
    R"((arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?)";

// nullopt when the value does not match the pattern (or is longer than 256 characters /
// a bare name longer than 64).
std::optional<FunctionName> parse_function_name(std::string_view value);

// Qualifier pattern: \$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+, 1..128 characters.
bool valid_qualifier(std::string_view q);

}  // namespace lambdad::invoke_api
