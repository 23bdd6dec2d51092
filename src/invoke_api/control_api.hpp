// invoke_api (private): the control-plane routes (CreateFunction, GetFunction, ListFunctions, ...,
// InvokeAsync), served from the FunctionRegistry (docs/decisions/008).
#pragma once

#include "lambdad/common/clock.hpp"
#include "lambdad/http/router.hpp"
#include "lambdad/invocation/dispatcher.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"

namespace lambdad::control_plane {
class FunctionRegistry;
}
namespace lambdad::async {
class EventQueue;
}

namespace lambdad::invoke_api {

void add_control_routes(http::Router& router, control_plane::FunctionRegistry& registry,
                        invocation::Dispatcher& dispatcher, const Clock& clock, const InvokeApiOptions& options,
                        async::EventQueue* events);

}  // namespace lambdad::invoke_api
