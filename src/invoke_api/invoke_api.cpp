#include "lambdad/invoke_api/invoke_api.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "lambdad/async/event_queue.hpp"
#include "lambdad/common/base64.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/invoke_api/function_name.hpp"
#include "lambdad/invoke_api/service_error.hpp"
#include "lambdad/invoke_api/sigv4.hpp"
#include "lambdad/observability/logging.hpp"
#include "control_api.hpp"
#include "durable_api.hpp"
#include "invoke_request.hpp"
#include "stream_invoke.hpp"

namespace lambdad::invoke_api {
namespace {

struct Context {
  invocation::Dispatcher& dispatcher;
  const Clock& clock;
  InvokeApiOptions options;
  async::EventQueue* events = nullptr;  // Event invocations; without it they are refused with 500
  durable::Engine* durable = nullptr;   // durable executions; without it durable functions run as others
};

void handle_invoke(const std::shared_ptr<Context>& ctx, http::Request&& req, http::Responder respond) {
  const std::string request_id = ids::request_id();
  auto fail = [&](const ServiceError& e) { respond(render(e, request_id)); };

  // Shared with InvokeWithResponseStream (invoke_request.cpp).
  auto valid = validate_invoke(req, request_id, ctx->dispatcher, ctx->clock, ctx->options,
                               InvokeRules{"InvokeFunction", {"Event", "RequestResponse", "DryRun"}});
  if (auto* e = std::get_if<ServiceError>(&valid)) return fail(*e);
  const std::string type = std::get<ValidInvoke>(valid).type;
  invocation::InvocationPtr inv = std::move(std::get<ValidInvoke>(valid).inv);

  if (type == "DryRun") {
    http::Response r;
    r.status = 204;
    r.headers.add("x-amzn-RequestId", request_id);
    return respond(std::move(r));
  }
  if (ctx->durable) {
    if (auto settings = ctx->dispatcher.durable(inv->function_name, inv->version)) {
      return start_durable_invoke(*ctx->durable, req, *inv, *settings, type, request_id, std::move(respond));
    }
  }

  if (type == "Event") {
    // On disk before the 202, run later with retries and destinations (decision 006); the
    // runtime and every retry see this request id. Never a 202 for an event that is not kept:
    // the answer waits for the spool write's completion.
    auto answer = [respond = std::move(respond), request_id, trace_id = inv->trace_id](Status accepted) {
      if (!accepted) {
        return respond(render(ServiceError{500, std::string(error_types::kServiceException),
                                           fmt::format("The event could not be queued: {}", accepted.error().message),
                                           {}},
                              request_id));
      }
      http::Response r;
      r.status = 202;
      r.headers.add("x-amzn-RequestId", request_id);
      r.headers.add("x-amzn-Remapped-Content-Length", "0");
      r.headers.add("X-Amzn-Trace-Id", trace_id);
      respond(std::move(r));
    };
    if (!ctx->events) return answer(Error{ErrorKind::kInternal, {}, "asynchronous invocation is not available"});
    return ctx->events->accept(*inv, std::move(answer));
  }

  const bool tail = req.headers.get("X-Amz-Log-Type").value_or("None") == "Tail";
  std::string trace_id = inv->trace_id;
  auto responder = std::make_shared<http::Responder>(std::move(respond));
  inv->on_complete = [responder, request_id, tail, trace_id](invocation::InvocationResult result) {
    if (!result.service_error.empty()) {
      return (*responder)(render(ServiceError::from(Error{ErrorKind::kInvalidInput, result.service_error,
                                                          std::move(result.payload)}),
                                 request_id));
    }
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
  const std::string name = ctx->dispatcher.function_for(std::string(req.param("name")));
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

// Adds each function's Event invocation counters, and the spool's write timings (its writes are
// made in batches on the blocking pool: spoolWriteMsMax is the longest batch).
void add_async_status(nlohmann::json& out, const async::EventQueue& events) {
  for (auto& fn : out["functions"]) {
    const auto c = events.counters(fn.value("name", ""));
    if (!c) continue;
    fn["async"] = {{"accepted", c->accepted}, {"queued", c->queued},       {"inFlight", c->in_flight},
                   {"retries", c->retries},   {"throttles", c->throttles}, {"succeeded", c->succeeded},
                   {"failed", c->failed},     {"expired", c->expired}};
  }
  const auto& t = events.spool_timings();
  out["eventSpool"] = {{"spoolWrites", t.writes},
                       {"spoolBatches", t.batches},
                       {"spoolWriteMsTotal", t.total_ms},
                       {"spoolWriteMsMax", t.max_ms}};
}

void handle_status(const std::shared_ptr<Context>& ctx, http::Request&&, http::Responder respond) {
  http::Response r;
  r.headers.add("Content-Type", "application/json");
  auto out = nlohmann::json::object();
  ctx->dispatcher.status(out);
  if (ctx->events) add_async_status(out, *ctx->events);
  if (ctx->durable) out["durableExecutions"] = durable_status(*ctx->durable);
  r.body = out.dump();
  respond(std::move(r));
}

// Logs each exchange once it is answered (or its streamed answer starts), at info:
// "POST /2015-03-31/functions/Hello/invocations -> 200 (Hello, 12.3 ms)", naming the function
// the path's {name} reaches by its deployed name.
http::Responder log_exchange(const std::shared_ptr<Context>& ctx, const http::Request& req, http::Responder respond) {
  struct Exchange {
    http::Responder respond;
    std::string line;  // "POST /path"
    std::string function;
    Clock::Steady::time_point started;
    const Clock& clock;
    bool logged = false;
    void log(unsigned status) {
      if (logged) return;
      logged = true;
      const double ms = std::chrono::duration<double, std::milli>(clock.now() - started).count();
      observability::daemon_log()->info("{} -> {} ({}{:.1f} ms)", line, status,
                                        function.empty() ? "" : function + ", ", ms);
    }
  };
  auto x = std::make_shared<Exchange>(Exchange{std::move(respond),
                                               fmt::format("{} {}", http::method_name(req.method), req.path),
                                               {}, ctx->clock.now(), ctx->clock});
  if (auto name = parse_function_name(req.param("name"))) x->function = ctx->dispatcher.function_for(name->name);
  return http::Responder(
      [x](http::Response r) {
        x->log(r.status);
        x->respond(std::move(r));
      },
      [x](http::Response head) {
        x->log(head.status);
        return x->respond.stream(std::move(head));
      });
}

}  // namespace

http::Router make_router(invocation::Dispatcher& dispatcher, const Clock& clock, InvokeApiOptions options,
                         async::EventQueue* events, control_plane::FunctionRegistry* registry,
                         durable::Engine* durable) {
  auto ctx = std::make_shared<Context>(Context{dispatcher, clock, std::move(options), events, durable});
  http::Router router;
  router.add(http::Method::kPost, "/2015-03-31/functions/{name}/invocations", limits::kSyncRequestPayload,
             [ctx](http::Request&& req, http::Responder respond) {
               handle_invoke(ctx, std::move(req), std::move(respond));
             });
  router.add(http::Method::kPost, "/2021-11-15/functions/{name}/response-streaming-invocations",
             limits::kSyncRequestPayload, make_stream_invoke_handler(dispatcher, clock, ctx->options));
  router.add(http::Method::kPost, "/_lambdad/functions/{name}/evict", 0,
             [ctx](http::Request&& req, http::Responder respond) { handle_evict(ctx, std::move(req), std::move(respond)); });
  router.add(http::Method::kGet, "/_lambdad/status", 0,
             [ctx](http::Request&& req, http::Responder respond) { handle_status(ctx, std::move(req), std::move(respond)); });
  if (durable) add_durable_routes(router, *durable, dispatcher, ctx->options);
  if (registry) add_control_routes(router, *registry, dispatcher, clock, ctx->options, events);
  router.set_fallback([](http::Request&&, http::Responder respond) {
    respond(render(ServiceError::unknown_operation(), ids::request_id()));
  });
  if (ctx->options.signing_keys) {
    sigv4::VerifyOptions verify{ctx->options.region};
    router.set_guard([keys = ctx->options.signing_keys, verify, &clock](const http::Request& req)
                         -> std::optional<http::Response> {
      auto refused = sigv4::verify(req, *keys, clock.epoch_ms() / 1000, verify);
      if (!refused) return std::nullopt;
      return sigv4::render_rejection(*refused, ids::request_id());
    });
  }
  router.set_observer(
      [ctx](const http::Request& req, http::Responder respond) { return log_exchange(ctx, req, std::move(respond)); });
  return router;
}

}  // namespace lambdad::invoke_api
