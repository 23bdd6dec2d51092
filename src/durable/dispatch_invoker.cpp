// The engine's invocations through the Dispatcher (docs/decisions/026).
#include "lambdad/durable/dispatch_invoker.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "lambdad/common/ids.hpp"
#include "lambdad/invocation/function_name.hpp"
#include "lambdad/observability/logging.hpp"

namespace lambdad::durable {

using json = nlohmann::json;

struct DispatchInvoker::Call {
  invocation::Invocation request;  // copied into each attempt
  std::function<void(invocation::InvocationResult)> done;
  std::unique_ptr<Timer> retry;
};

DispatchInvoker::DispatchInvoker(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers,
                                 std::string region, std::string account_id)
    : dispatcher_(dispatcher), clock_(clock), timers_(timers), region_(std::move(region)),
      account_id_(std::move(account_id)) {}

DispatchInvoker::~DispatchInvoker() { lifetime_.end(); }

void DispatchInvoker::dispatch(std::shared_ptr<Call> call) {
  auto inv = std::make_shared<invocation::Invocation>(call->request);
  inv->received = clock_.now();
  inv->on_complete = [call](invocation::InvocationResult result) { call->done(std::move(result)); };
  if (dispatcher_.dispatch(inv) == invocation::Admission::kAccepted) return;
  // Throttled: the service tries again; the execution does not count it as a failed invocation.
  if (!call->retry) call->retry = timers_.make_timer();
  call->retry->arm(clock_.now() + kThrottleRetry, lifetime_.guard([this, call] { dispatch(call); }));
}

std::shared_ptr<DispatchInvoker::Call> DispatchInvoker::call_of(std::string name, std::string qualifier,
                                                                std::string version, std::string arn,
                                                                std::string payload) const {
  auto call = std::make_shared<Call>();
  auto& inv = call->request;
  inv.request_id = ids::request_id();
  inv.function_name = std::move(name);
  inv.qualifier = std::move(qualifier);
  inv.version = std::move(version);
  inv.invoked_function_arn = std::move(arn);
  inv.payload = std::move(payload);
  inv.trace_id = ids::trace_header(clock_.epoch_ms() / 1000, dispatcher_.tracing_active(inv.function_name, inv.version));
  return call;
}

void DispatchInvoker::invoke(const Execution& execution, std::string event, std::function<void(Outcome)> done) {
  auto parsed = invocation::parse_function_name(execution.function_arn);
  auto call = call_of(parsed ? parsed->name : execution.function_arn,
                      parsed && parsed->qualifier ? *parsed->qualifier : execution.version, execution.version,
                      execution.function_arn, std::move(event));
  const auto& inv = call->request;
  observability::daemon_log()->info("durable execution {} of {}:{}: invocation {}", execution.name, inv.function_name,
                                    inv.version, inv.request_id);
  if (!dispatcher_.has_function(inv.function_name)) {
    // The function was deleted: the invocation fails, as it would on Lambda.
    return done(Outcome{inv.request_id, true,
                        json{{"errorType", "ResourceNotFoundException"},
                             {"errorMessage", "Function not found: " + execution.function_arn}}
                            .dump()});
  }
  call->done = [done = std::move(done), id = inv.request_id](invocation::InvocationResult result) {
    done(Outcome{id, result.outcome == invocation::Outcome::kFunctionError, std::move(result.payload)});
  };
  dispatch(std::move(call));
}

void DispatchInvoker::chained_invoke(const std::string& function, std::string payload, const std::string& tenant_id,
                                     std::function<void(ChainedOutcome)> done) {
  auto fail = [&](std::string type, std::string message) {
    done(ChainedOutcome{std::nullopt, json{{"ErrorType", std::move(type)}, {"ErrorMessage", std::move(message)}}});
  };
  auto parsed = invocation::parse_function_name(function);
  if (!parsed) return fail("InvalidParameterValueException", "Invalid function name: " + function);
  const std::string name = dispatcher_.function_for(parsed->name);
  const std::string qualifier = parsed->qualifier.value_or("$LATEST");
  const std::string arn = invocation::function_arn(region_, account_id_, name, parsed->qualifier.value_or(""));
  auto version = dispatcher_.has_function(name) ? dispatcher_.resolve(name, qualifier) : std::nullopt;
  if (!version) return fail("ResourceNotFoundException", "Function not found: " + arn);
  if (dispatcher_.durable(name, *version)) {
    if (!start_child_) return fail("InvalidParameterValueException", "Durable targets are not supported here.");
    return start_child_(name, *version, std::move(payload), std::move(done));
  }
  auto call = call_of(name, qualifier, *version, arn, payload.empty() ? "{}" : std::move(payload));
  if (!tenant_id.empty()) call->request.tenant_id = tenant_id;
  call->done = [done = std::move(done)](invocation::InvocationResult result) {
    if (result.outcome == invocation::Outcome::kSuccess) return done(ChainedOutcome{std::move(result.payload), std::nullopt});
    // The function's error body ({"errorType","errorMessage","stackTrace"}) as an ErrorObject.
    json body = json::parse(result.payload, nullptr, false);
    json error{{"ErrorType", result.error_type.empty() ? "Function.Unknown" : result.error_type}};
    if (body.is_object()) {
      if (body.contains("errorType") && body["errorType"].is_string()) error["ErrorType"] = body["errorType"];
      if (body.contains("errorMessage") && body["errorMessage"].is_string()) error["ErrorMessage"] = body["errorMessage"];
      if (body.contains("stackTrace") && body["stackTrace"].is_array()) error["StackTrace"] = body["stackTrace"];
    } else {
      error["ErrorMessage"] = result.payload;
    }
    done(ChainedOutcome{std::nullopt, std::move(error)});
  };
  dispatch(std::move(call));
}

}  // namespace lambdad::durable
