#include "lambdad/invoke_api/invoke_api.hpp"

#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "lambdad/common/base64.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/invoke_api/function_name.hpp"
#include "lambdad/invoke_api/service_error.hpp"

namespace lambdad::invoke_api {
namespace {

constexpr std::size_t kEventPayloadLimit = 1048576;

struct Context {
  invocation::Dispatcher& dispatcher;
  const Clock& clock;
  InvokeApiOptions options;
};

// Jackson-like detail for a payload that is not JSON (lambda-spec §4.1 keeps the prefix exact).
std::string json_error_detail(const std::string& payload) {
  try {
    auto parsed = nlohmann::json::parse(payload);
    static_cast<void>(parsed);
  } catch (const nlohmann::json::parse_error& e) {
    return fmt::format("Could not parse request body into json: Could not parse payload into json: {}\n"
                       " at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "
                       "line: 1, column: {}]",
                       e.what(), e.byte);
  }
  return {};
}

// 429 TooManyRequestsException with Lambda's Reason, or nothing when admitted.
std::optional<ServiceError> admission_error(invocation::Admission a) {
  switch (a) {
    case invocation::Admission::kAccepted:
      return std::nullopt;
    case invocation::Admission::kThrottledReserved:
      return ServiceError::throttled("ReservedFunctionConcurrentInvocationLimitExceeded");
    case invocation::Admission::kThrottledAccount:
      return ServiceError::throttled("ConcurrentInvocationLimitExceeded");
  }
  return std::nullopt;
}

void handle_invoke(const std::shared_ptr<Context>& ctx, http::Request&& req, http::Responder respond) {
  const std::string request_id = ids::request_id();
  auto fail = [&](const ServiceError& e) { respond(render(e, request_id)); };

  const std::string raw_name(req.param("name"));
  auto parsed = parse_function_name(raw_name);
  if (!parsed) {
    return fail(ServiceError::validation(
        fmt::format("1 validation error detected: Value '{}' at 'functionName' failed to satisfy constraint: "
                    "Member must satisfy regular expression pattern: {}",
                    raw_name, kFunctionNamePattern)));
  }
  auto query_qualifier = req.query_param("Qualifier");
  if (query_qualifier && !valid_qualifier(*query_qualifier)) {
    return fail(ServiceError::validation(fmt::format(
        "1 validation error detected: Value '{}' at 'qualifier' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: (|[a-zA-Z0-9$_-]+)",
        *query_qualifier)));
  }
  if (parsed->qualifier && query_qualifier && *parsed->qualifier != *query_qualifier) {
    return fail(ServiceError::invalid_parameter(
        "The derived qualifier from the function name does not match the specified qualifier."));
  }
  const auto& opts = ctx->options;
  if (parsed->region && *parsed->region != opts.region) {
    return fail(ServiceError::not_found(fmt::format("Functions from '{}' are not reachable in this region ('{}')",
                                                    *parsed->region, opts.region)));
  }
  if (parsed->account && *parsed->account != opts.account_id) return fail(ServiceError::access_denied());

  std::optional<std::string> qualifier = parsed->qualifier ? parsed->qualifier : query_qualifier;
  const std::string& name = parsed->name;
  auto version = ctx->dispatcher.resolve(name, qualifier.value_or("$LATEST"));
  if (!version) {
    return fail(ServiceError::not_found(fmt::format(
        "Function not found: {}",
        invocation::function_arn(opts.region, opts.account_id, name, qualifier.value_or("$LATEST")))));
  }

  const std::string type(req.headers.get("X-Amz-Invocation-Type").value_or("RequestResponse"));
  if (type != "RequestResponse" && type != "Event" && type != "DryRun") {
    return fail(ServiceError::validation(fmt::format(
        "1 validation error detected: Value '{}' at 'invocationType' failed to satisfy constraint: Member must "
        "satisfy enum value set: [Event, RequestResponse, DryRun]",
        type)));
  }
  if (req.body_too_large) {
    return fail(ServiceError::entity_too_large(fmt::format(
        "Request must be smaller than {} bytes for the InvokeFunction operation", limits::kSyncRequestPayload)));
  }
  if (type == "Event" && req.body.size() > kEventPayloadLimit) {
    return fail(ServiceError::entity_too_large(fmt::format(
        "{} byte payload is too large for the Event invocation type (limit {} bytes)", req.body.size(),
        kEventPayloadLimit)));
  }
  if (req.body.empty()) {
    req.body = "{}";
  } else if (!nlohmann::json::accept(req.body)) {
    return fail(ServiceError::invalid_request_content(json_error_detail(req.body)));
  }

  auto inv = std::make_shared<invocation::Invocation>();
  inv->request_id = request_id;
  inv->function_name = name;
  inv->qualifier = qualifier.value_or("$LATEST");
  inv->version = *version;
  inv->invoked_function_arn = invocation::function_arn(opts.region, opts.account_id, name, qualifier.value_or(""));
  inv->payload = std::move(req.body);
  inv->received = ctx->clock.now();
  std::string trace(req.headers.get("X-Amzn-Trace-Id").value_or(""));
  inv->trace_id = trace.empty() ? ids::trace_header(ctx->clock.epoch_ms() / 1000) : trace;
  if (auto cc = req.headers.get("X-Amz-Client-Context"); cc && !cc->empty()) {
    auto decoded = base64::decode(*cc);
    if (!decoded) {
      return fail(ServiceError::invalid_parameter("Client context must be a valid Base64-encoded JSON object."));
    }
    inv->client_context = std::move(*decoded);
  }
  if (auto tenant = req.headers.get("X-Amz-Tenant-Id"); tenant && !tenant->empty()) {
    inv->tenant_id = std::string(*tenant);
  }

  if (type == "DryRun") {
    http::Response r;
    r.status = 204;
    r.headers.add("x-amzn-RequestId", request_id);
    return respond(std::move(r));
  }

  if (type == "Event") {
    // Accepted now, run when the function has capacity; the outcome only reaches the log.
    // (Retries, destinations and the durable spool are issue-5 work.)
    inv->on_complete = [](invocation::InvocationResult) {};
    http::Response r;
    r.status = 202;
    r.headers.add("x-amzn-RequestId", request_id);
    r.headers.add("x-amzn-Remapped-Content-Length", "0");
    r.headers.add("X-Amzn-Trace-Id", inv->trace_id);
    // Throttled events are still accepted by Lambda and retried; retries come with issue 5, so
    // for now a throttled Event is answered 429 rather than dropped after a 202.
    if (auto refused = admission_error(ctx->dispatcher.dispatch(std::move(inv)))) return fail(*refused);
    return respond(std::move(r));
  }

  const bool tail = req.headers.get("X-Amz-Log-Type").value_or("None") == "Tail";
  std::string trace_id = inv->trace_id;
  auto responder = std::make_shared<http::Responder>(std::move(respond));
  inv->on_complete = [responder, request_id, tail, trace_id](invocation::InvocationResult result) {
    http::Response r;
    r.status = 200;
    r.headers.add("Content-Type", "application/json");
    r.headers.add("x-amzn-RequestId", request_id);
    r.headers.add("X-Amz-Executed-Version", result.executed_version);
    r.headers.add("x-amzn-Remapped-Content-Length", "0");
    r.headers.add("X-Amzn-Trace-Id", trace_id);
    if (result.outcome == invocation::Outcome::kFunctionError) r.headers.add("X-Amz-Function-Error", "Unhandled");
    if (tail) {
      std::string_view log = result.log;
      if (log.size() > 4096) log = log.substr(log.size() - 4096);
      r.headers.add("X-Amz-Log-Result", base64::encode(log));
    }
    r.body = std::move(result.payload);
    (*responder)(std::move(r));
  };
  // A throttled invocation never runs and its on_complete is never called.
  if (auto refused = admission_error(ctx->dispatcher.dispatch(std::move(inv)))) {
    (*responder)(render(*refused, request_id));
  }
}

void handle_evict(const std::shared_ptr<Context>& ctx, http::Request&& req, http::Responder respond) {
  const std::string name(req.param("name"));
  auto evicted = ctx->dispatcher.evict(name);
  if (!evicted) {
    return respond(render(ServiceError::not_found(fmt::format(
                              "Function not found: {}", invocation::function_arn(ctx->options.region,
                                                                                 ctx->options.account_id, name))),
                          ids::request_id()));
  }
  http::Response r;
  r.headers.add("Content-Type", "application/json");
  r.body = nlohmann::json{{"FunctionName", name}, {"Evicted", *evicted}}.dump();
  respond(std::move(r));
}

void handle_status(const std::shared_ptr<Context>& ctx, http::Request&&, http::Responder respond) {
  http::Response r;
  r.headers.add("Content-Type", "application/json");
  r.body = ctx->dispatcher.status_json();
  respond(std::move(r));
}

}  // namespace

http::Router make_router(invocation::Dispatcher& dispatcher, const Clock& clock, InvokeApiOptions options) {
  auto ctx = std::make_shared<Context>(Context{dispatcher, clock, std::move(options)});
  http::Router router;
  router.add(http::Method::kPost, "/2015-03-31/functions/{name}/invocations", limits::kSyncRequestPayload,
             [ctx](http::Request&& req, http::Responder respond) {
               handle_invoke(ctx, std::move(req), std::move(respond));
             });
  router.add(http::Method::kPost, "/_lambdad/functions/{name}/evict", 0,
             [ctx](http::Request&& req, http::Responder respond) { handle_evict(ctx, std::move(req), std::move(respond)); });
  router.add(http::Method::kGet, "/_lambdad/status", 0,
             [ctx](http::Request&& req, http::Responder respond) { handle_status(ctx, std::move(req), std::move(respond)); });
  router.set_fallback([](http::Request&&, http::Responder respond) {
    respond(render(ServiceError::unknown_operation(), ids::request_id()));
  });
  return router;
}

}  // namespace lambdad::invoke_api
