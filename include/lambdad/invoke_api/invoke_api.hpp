// invoke_api: the Lambda Invoke API of lambda-spec §3 (this version: Invoke with
// RequestResponse, Event and DryRun). Handlers validate, build an Invocation, hand it to the
// Dispatcher and render the outcome; they hold no state of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lambdad/common/clock.hpp"
#include "lambdad/http/router.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::async {
class EventQueue;
}
namespace lambdad::control_plane {
class FunctionRegistry;
}
namespace lambdad::durable {
class Engine;
}

namespace lambdad::invoke_api {
namespace sigv4 {
struct SigningKeys;
}

struct InvokeApiOptions {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  // serve --credentials: every request on the port, whatever its route, must carry a SigV4
  // signature by one of these keys (docs/decisions/010). Null: signatures are not checked.
  std::shared_ptr<const sigv4::SigningKeys> signing_keys;
  // The API port that serves Function URLs (serve --api-port; it may be bound after the router
  // is made, hence a function), for the FunctionUrl the URL operations answer. Unset or
  // answering 0: the daemon serves no URLs, and the answers name start-api's port, 3000.
  std::function<std::uint16_t()> api_port;
};

// `events` takes Event invocations (docs/decisions/006); without it they are answered 500.
// `registry` serves the control plane (docs/decisions/008); without it those routes do not exist.
// `durable` runs durable executions (docs/decisions/026): their routes, and Invoke of a durable
// function starts one; without it neither exists.
http::Router make_router(invocation::Dispatcher& dispatcher, const Clock& clock, InvokeApiOptions options,
                         async::EventQueue* events = nullptr, control_plane::FunctionRegistry* registry = nullptr,
                         durable::Engine* durable = nullptr);

}  // namespace lambdad::invoke_api
