// invoke_api (private): what Invoke and InvokeWithResponseStream share — the request's validation,
// in the order Lambda applies it, and the Invocation the request describes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lambdad/common/clock.hpp"
#include "lambdad/http/message.hpp"
#include "lambdad/invocation/dispatcher.hpp"
#include "lambdad/invoke_api/function_name.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"
#include "lambdad/invoke_api/service_error.hpp"

namespace lambdad::invoke_api {

inline constexpr std::size_t kEventPayloadLimit = 1048576;

// Where the operations differ.
struct InvokeRules {
  std::string_view operation;                    // named in the 413 message ("InvokeFunction")
  std::vector<std::string_view> invocation_types;  // X-Amz-Invocation-Type's enum, in Lambda's order
};

struct ValidInvoke {
  invocation::InvocationPtr inv;  // everything but the callbacks
  std::string type;               // X-Amz-Invocation-Type ("RequestResponse" when absent)
};

// function_target() of the request's {name} and ?Qualifier.
std::variant<FunctionTarget, ServiceError> parse_target(const http::Request& req, const InvokeApiOptions& options);

// The invocation a request describes, or the error Lambda answers it with. Consumes req.body.
std::variant<ValidInvoke, ServiceError> validate_invoke(http::Request& req, const std::string& request_id,
                                                        invocation::Dispatcher& dispatcher, const Clock& clock,
                                                        const InvokeApiOptions& options, const InvokeRules& rules);

// 429 TooManyRequestsException with Lambda's Reason, or nothing when admitted.
std::optional<ServiceError> admission_error(invocation::Admission a);

}  // namespace lambdad::invoke_api
