// http_front (internal): the Invocation a front hands the Dispatcher, made one way for every front.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "lambdad/common/clock.hpp"
#include "lambdad/http_front/front.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::http_front {

// What a front asks to invoke.
struct FrontCall {
  std::string function;             // any name Dispatcher::function_for knows
  std::string qualifier = "$LATEST";  // a Function URL's alias, else $LATEST
  std::string payload;              // the event
  std::string trace_header;         // the request's X-Amzn-Trace-Id, or ""
  std::string request_id;
  // The request's X-Amz-Tenant-Id, passed on as SAM's start-api does (API Gateway maps a tenant
  // onto it): a PER_TENANT function needs one, any other takes none (lambda-spec §12).
  std::optional<std::string> tenant_id{};
};

// The invocation of `call` (its ARN, its trace header as the Invoke API makes it); on_complete
// is the caller's to set. The cause, instead, when the dispatcher does not know the function or
// cannot invoke it now.
std::variant<invocation::InvocationPtr, std::string> front_invocation(invocation::Dispatcher& dispatcher,
                                                                      const FrontOptions& options, const Clock& clock,
                                                                      FrontCall call);

}  // namespace lambdad::http_front
