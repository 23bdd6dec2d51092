// invoke_api: the FunctionName forms Invoke accepts (lambda-spec §3.1): a bare name,
// name:qualifier, a partial ARN (account:function:name[:qualifier]) or a full ARN.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "lambdad/invocation/function_name.hpp"
#include "lambdad/invoke_api/service_error.hpp"

namespace lambdad::invoke_api {

using invocation::FunctionName;
using invocation::parse_function_name;

// The model's pattern, quoted in ValidationException messages.
inline constexpr std::string_view kFunctionNamePattern =
    R"((arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?)";

inline constexpr std::string_view kQualifierPattern = "(|[a-zA-Z0-9$_-]+)";
inline constexpr std::size_t kMaxFunctionName = 64;  // the name itself, without ARN or qualifier
inline constexpr std::size_t kMaxQualifier = 128;

// Qualifier pattern: \$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+, 1..128 characters.
bool valid_qualifier(std::string_view q);

// The function a request's {name} and its ?Qualifier name.
struct FunctionTarget {
  std::string name;
  std::optional<std::string> qualifier;
};

// What a request's {name} (a name, partial or full ARN, maybe with a qualifier) and ?Qualifier
// name in `region` / `account`, or the error Lambda answers (lambda-spec §3.1), in its order:
// a name off the pattern and a malformed Qualifier are ValidationExceptions; a plain name longer
// than 64 characters is a function Lambda does not find (404, qualified with $LATEST); a
// qualifier in the name that differs from ?Qualifier, another region and another account are
// refused.
std::variant<FunctionTarget, ServiceError> function_target(std::string_view raw_name,
                                                            std::optional<std::string_view> query_qualifier,
                                                            std::string_view region, std::string_view account);

}  // namespace lambdad::invoke_api
