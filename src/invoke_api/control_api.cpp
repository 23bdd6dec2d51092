// invoke_api: the control-plane routes of lambda-spec §3.4 (docs/decisions/008). Each handler
// parses the path, query and JSON body, calls the FunctionRegistry and renders its answer or
// error; what the operations do lives in the registry.
#include "control_api.hpp"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "lambdad/async/event_queue.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/invoke_api/service_error.hpp"
#include "invoke_request.hpp"

namespace lambdad::invoke_api {
namespace {

using control_plane::FunctionRegistry;
using nlohmann::json;

// CreateFunction and UpdateFunctionCode carry a zip of up to 50 MB as base64 in JSON.
constexpr std::size_t kCodeBodyLimit = 72 * 1024 * 1024;
constexpr std::size_t kConfigBodyLimit = 1 << 20;

struct ControlContext {
  FunctionRegistry& registry;
  InvokeApiOptions options;
  invocation::Dispatcher& dispatcher;
  const Clock& clock;
  async::EventQueue* events;
};
using Ctx = std::shared_ptr<ControlContext>;

http::Response json_response(unsigned status, const json& body, const std::string& request_id) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("x-amzn-RequestId", request_id);
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);  // as render(): never throws
  return r;
}

http::Response empty_response(unsigned status, const std::string& request_id) {
  http::Response r;
  r.status = status;
  r.headers.add("x-amzn-RequestId", request_id);
  return r;
}

// The answer to an operation: its body with `status`, or its error.
http::Response answer(const Result<json>& result, unsigned status, const std::string& request_id) {
  if (!result) return render(ServiceError::from(result.error()), request_id);
  return json_response(status, result.value(), request_id);
}

http::Response answer(const Status& result, unsigned status, const std::string& request_id) {
  if (!result) return render(ServiceError::from(result.error()), request_id);
  return empty_response(status, request_id);
}

std::optional<ServiceError> parse_body(const http::Request& req, json& out) {
  if (req.body_too_large) {
    return ServiceError::entity_too_large(
        fmt::format("Request must be smaller than {} bytes for this operation", kCodeBodyLimit));
  }
  if (req.body.empty()) {
    out = json::object();
    return std::nullopt;
  }
  out = json::parse(req.body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    return ServiceError::invalid_request_content("Could not parse request body into json: the body is not a JSON object");
  }
  return std::nullopt;
}

std::optional<int> int_param(const http::Request& req, std::string_view name, std::optional<ServiceError>& error) {
  auto text = req.query_param(name);
  if (!text) return std::nullopt;
  int value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || ptr != text->data() + text->size()) {
    error = ServiceError::invalid_member(name, *text, {"Member must be a number"});
  }
  return value;
}

// Runs `op` with the function the path names; answers malformed names as Invoke does.
// Operations without a Qualifier member leave ?Qualifier= unread, as Lambda does.
enum class QualifierParam { kRead, kIgnored };
template <typename Op>
void with_target(const Ctx& ctx, http::Request& req, http::Responder& respond, Op op,
                 QualifierParam param = QualifierParam::kRead) {
  const std::string request_id = ids::request_id();
  auto target = param == QualifierParam::kRead
                    ? parse_target(req, ctx->options)
                    : function_target(req.param("name"), std::nullopt, ctx->options.region, ctx->options.account_id);
  if (auto* e = std::get_if<ServiceError>(&target)) return respond(render(*e, request_id));
  const auto& t = std::get<FunctionTarget>(target);
  respond(op(t.name, t.qualifier.value_or(""), request_id));
}

using Handler = http::Handler;

// Both the path and the path with a trailing slash (older SDKs send one).
void add_route(http::Router& router, http::Method method, const std::string& pattern, std::size_t limit,
               const Handler& handler) {
  router.add(method, pattern, limit, handler);
  router.add(method, pattern + "/", limit, handler);
}

}  // namespace

void add_control_routes(http::Router& router, FunctionRegistry& registry, invocation::Dispatcher& dispatcher,
                        const Clock& clock, const InvokeApiOptions& options, async::EventQueue* events) {
  auto ctx = std::make_shared<ControlContext>(ControlContext{registry, options, dispatcher, clock, events});
  using M = http::Method;
  const std::string functions = "/2015-03-31/functions";
  const std::string function = functions + "/{name}";

  add_route(router, M::kPost, functions, kCodeBodyLimit, [ctx](http::Request&& req, http::Responder respond) {
    const std::string request_id = ids::request_id();
    json body;
    if (auto e = parse_body(req, body)) return respond(render(*e, request_id));
    respond(answer(ctx->registry.create_function(body), 201, request_id));
  });
  add_route(router, M::kGet, functions, 0, [ctx](http::Request&& req, http::Responder respond) {
    const std::string request_id = ids::request_id();
    std::optional<ServiceError> error;
    auto max_items = int_param(req, "MaxItems", error);
    if (error) return respond(render(*error, request_id));
    respond(answer(ctx->registry.list_functions(req.query_param("FunctionVersion"),
                                                req.query_param("Marker").value_or(""), max_items),
                   200, request_id));
  });
  add_route(router, M::kGet, function, 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string& qualifier, const std::string& id) {
      return answer(ctx->registry.get_function(name, qualifier), 200, id);
    });
  });
  add_route(router, M::kDelete, function, 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string& qualifier, const std::string& id) {
      return answer(ctx->registry.delete_function(name, qualifier), 204, id);
    });
  });
  add_route(router, M::kGet, function + "/configuration", 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string& qualifier, const std::string& id) {
      return answer(ctx->registry.get_configuration(name, qualifier), 200, id);
    });
  });
  add_route(router, M::kPut, function + "/configuration", kConfigBodyLimit,
            [ctx](http::Request&& req, http::Responder respond) {
              with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
                json body;
                if (auto e = parse_body(req, body)) return render(*e, id);
                return answer(ctx->registry.update_configuration(name, body), 200, id);
              });
            });
  add_route(router, M::kPut, function + "/code", kCodeBodyLimit, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
      json body;
      if (auto e = parse_body(req, body)) return render(*e, id);
      return answer(ctx->registry.update_code(name, body), 200, id);
    });
  });
  add_route(router, M::kPost, function + "/versions", kConfigBodyLimit,
            [ctx](http::Request&& req, http::Responder respond) {
              with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
                json body;
                if (auto e = parse_body(req, body)) return render(*e, id);
                return answer(ctx->registry.publish_version(name, body), 201, id);
              });
            });
  add_route(router, M::kGet, function + "/versions", 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
      std::optional<ServiceError> error;
      auto max_items = int_param(req, "MaxItems", error);
      if (error) return render(*error, id);
      return answer(ctx->registry.list_versions(name, req.query_param("Marker").value_or(""), max_items), 200, id);
    });
  });

  // Aliases.
  add_route(router, M::kPost, function + "/aliases", kConfigBodyLimit, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
      json body;
      if (auto e = parse_body(req, body)) return render(*e, id);
      return answer(ctx->registry.create_alias(name, body), 201, id);
    });
  });
  add_route(router, M::kGet, function + "/aliases", 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
      return answer(ctx->registry.list_aliases(name, req.query_param("FunctionVersion").value_or("")), 200, id);
    });
  });
  add_route(router, M::kGet, function + "/aliases/{alias}", 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
      return answer(ctx->registry.get_alias(name, std::string(req.param("alias"))), 200, id);
    });
  });
  add_route(router, M::kPut, function + "/aliases/{alias}", kConfigBodyLimit,
            [ctx](http::Request&& req, http::Responder respond) {
              with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
                json body;
                if (auto e = parse_body(req, body)) return render(*e, id);
                return answer(ctx->registry.update_alias(name, std::string(req.param("alias")), body), 200, id);
              });
            });
  add_route(router, M::kDelete, function + "/aliases/{alias}", 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
      return answer(ctx->registry.delete_alias(name, std::string(req.param("alias"))), 204, id);
    });
  });

  // Reserved concurrency: Put and Delete under 2017-10-31, Get under 2019-09-30.
  add_route(router, M::kPut, "/2017-10-31/functions/{name}/concurrency", kConfigBodyLimit,
            [ctx](http::Request&& req, http::Responder respond) {
              with_target(ctx, req, respond, [&](const std::string& name, const std::string& qualifier,
                                                 const std::string& id) {
                json body;
                if (auto e = parse_body(req, body)) return render(*e, id);
                return answer(ctx->registry.put_concurrency(name, body, qualifier), 200, id);
              }, QualifierParam::kIgnored);
            });
  add_route(router, M::kGet, "/2019-09-30/functions/{name}/concurrency", 0,
            [ctx](http::Request&& req, http::Responder respond) {
              with_target(ctx, req, respond, [&](const std::string& name, const std::string& qualifier,
                                                 const std::string& id) {
                return answer(ctx->registry.get_concurrency(name, qualifier), 200, id);
              }, QualifierParam::kIgnored);
            });
  add_route(router, M::kDelete, "/2017-10-31/functions/{name}/concurrency", 0,
            [ctx](http::Request&& req, http::Responder respond) {
              with_target(ctx, req, respond, [&](const std::string& name, const std::string& qualifier,
                                                 const std::string& id) {
                return answer(ctx->registry.delete_concurrency(name, qualifier), 204, id);
              }, QualifierParam::kIgnored);
            });

  // Event invoke configuration: Put replaces, Update (POST) merges.
  const std::string event_config = "/2019-09-25/functions/{name}/event-invoke-config";
  for (auto [method, merge] : {std::pair{M::kPut, false}, std::pair{M::kPost, true}}) {
    add_route(router, method, event_config, kConfigBodyLimit,
              [ctx, merge = merge](http::Request&& req, http::Responder respond) {
                with_target(ctx, req, respond,
                            [&](const std::string& name, const std::string& qualifier, const std::string& id) {
                              json body;
                              if (auto e = parse_body(req, body)) return render(*e, id);
                              return answer(ctx->registry.put_event_invoke_config(name, qualifier, body, merge), 200,
                                            id);
                            });
              });
  }
  add_route(router, M::kGet, event_config, 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string& qualifier, const std::string& id) {
      return answer(ctx->registry.get_event_invoke_config(name, qualifier), 200, id);
    });
  });
  add_route(router, M::kDelete, event_config, 0, [ctx](http::Request&& req, http::Responder respond) {
    with_target(ctx, req, respond, [&](const std::string& name, const std::string& qualifier, const std::string& id) {
      return answer(ctx->registry.delete_event_invoke_config(name, qualifier), 204, id);
    });
  });

  add_route(router, M::kGet, "/2016-08-19/account-settings", 0, [ctx](http::Request&&, http::Responder respond) {
    respond(json_response(200, ctx->registry.account_settings(), ids::request_id()));
  });

  // InvokeAsync (deprecated): an Event invocation answered {"Status":202}.
  add_route(router, M::kPost, "/2014-11-13/functions/{name}/invoke-async", limits::kSyncRequestPayload,
            [ctx](http::Request&& req, http::Responder respond) {
              const std::string request_id = ids::request_id();
              if (!req.headers.has("X-Amz-Invocation-Type")) req.headers.add("X-Amz-Invocation-Type", "Event");
              auto valid = validate_invoke(req, request_id, ctx->dispatcher, ctx->clock, ctx->options,
                                           InvokeRules{"InvokeAsync", {"Event"}});
              if (auto* e = std::get_if<ServiceError>(&valid)) return respond(render(*e, request_id));
              auto& inv = *std::get<ValidInvoke>(valid).inv;
              auto accepted =
                  ctx->events ? ctx->events->accept(inv)
                              : Status(Error{ErrorKind::kInternal, {}, "asynchronous invocation is not available"});
              if (!accepted) {
                return respond(render(ServiceError{500, std::string(error_types::kServiceException),
                                                   fmt::format("The event could not be queued: {}",
                                                               accepted.error().message),
                                                   {}},
                                      request_id));
              }
              respond(json_response(202, json{{"Status", 202}}, request_id));
            });
}

}  // namespace lambdad::invoke_api
