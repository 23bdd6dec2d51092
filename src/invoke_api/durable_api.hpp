// invoke_api (private): durable executions on the Invoke API (lambda-spec §10.3,
// docs/decisions/026): the 2025-12-01 routes (checkpoint, state, get, history, list by function,
// stop, callbacks) and the Invoke of a durable function, which starts an execution.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lambdad/common/clock.hpp"
#include "lambdad/http/router.hpp"
#include "lambdad/invocation/dispatcher.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"

namespace lambdad::durable {
class Engine;
}

namespace lambdad::invoke_api {

void add_durable_routes(http::Router& router, durable::Engine& engine, invocation::Dispatcher& dispatcher,
                        const InvokeApiOptions& options);

// GET /_lambdad/status's durableExecutions: by status, how many, and the newest (at most 50 of
// each) with their ARN, name and function.
nlohmann::json durable_status(const durable::Engine& engine);

// Invoke (RequestResponse or Event) of a durable function: starts the execution, idempotent by
// X-Amz-Durable-Execution-Name. RequestResponse answers when it ends: its Result, or its error
// with X-Amz-Function-Error; Event answers 202 at once. Both carry X-Amz-Durable-Execution-Arn.
void start_durable_invoke(durable::Engine& engine, const http::Request& req, const invocation::Invocation& inv,
                          const invocation::DurableSettings& settings, const std::string& type,
                          const std::string& request_id, http::Responder respond);

}  // namespace lambdad::invoke_api
