// http_front (internal): the Invocation a front hands the Dispatcher, made one way for every front.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "lambdad/common/clock.hpp"
#include "lambdad/http_front/front.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::http_front {

// The invocation of `function`'s $LATEST with `payload` (its ARN, its trace header from the
// request's X-Amzn-Trace-Id as the Invoke API makes it); on_complete is the caller's to set.
// The cause, instead, when the dispatcher does not know the function or cannot invoke it now.
std::variant<invocation::InvocationPtr, std::string> front_invocation(invocation::Dispatcher& dispatcher,
                                                                      const FrontOptions& options, const Clock& clock,
                                                                      const std::string& function,
                                                                      const std::string& qualifier, std::string payload,
                                                                      std::string_view trace_header,
                                                                      std::string request_id);

}  // namespace lambdad::http_front
