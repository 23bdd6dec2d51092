// invoke_api: the control-plane routes of lambda-spec §3.4 (docs/decisions/008). Each handler
// parses the path, query and JSON body (control_json), calls the FunctionRegistry with the typed
// request and renders its view or error; what the operations do lives in the registry.
#include "control_api.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>

#include "lambdad/async/event_queue.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/invoke_api/service_error.hpp"
#include "lambdad/observability/logging.hpp"
#include "control_json.hpp"
#include "invoke_request.hpp"

namespace lambdad::invoke_api {
namespace {

namespace cj = control_json;
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
  cj::Account account;
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

// `op` on the typed request `parsed` holds, or the parse's error.
template <typename T, typename Op>
Result<json> with_parsed(Result<T> parsed, Op op) {
  if (!parsed) return parsed.error();
  return op(std::move(parsed).value());
}

// The same with the typed request `parse` makes of `body`. A member of the wrong JSON type
// (`"Publish": "yes"`) makes nlohmann's conversion throw: content the request cannot be read as,
// answered like a body that is not JSON rather than thrown into the event loop.
template <typename Parse, typename Op>
Result<json> with_parsed(Parse parse, const json& body, Op op) {
  std::optional<decltype(parse(body))> parsed;
  try {
    parsed.emplace(parse(body));
  } catch (const json::exception& e) {
    return Error{ErrorKind::kInvalidInput, std::string(error_types::kInvalidRequestContentException),
                 fmt::format("Could not parse request body into json: {}", e.what())};
  }
  return with_parsed(std::move(*parsed), std::move(op));
}

// What the operation answered, rendered by `render`; or its error.
template <typename T, typename Render>
Result<json> rendered(const Result<T>& result, Render render) {
  if (!result) return result.error();
  return render(result.value());
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

// A route on the function the path names: `op(request, name, qualifier)` answers it (a body
// rendered with `status`, or for a Status an empty `status`).
template <typename Op>
Handler target_route(const Ctx& ctx, unsigned status, Op op, QualifierParam param = QualifierParam::kRead) {
  return [ctx, status, op, param](http::Request&& req, http::Responder respond) {
    with_target(
        ctx, req, respond,
        [&](const std::string& name, const std::string& qualifier, const std::string& id) {
          return answer(op(req, name, qualifier), status, id);
        },
        param);
  };
}

// The same with a JSON body, which `parse` makes the typed request `op` takes last.
template <typename Parse, typename Op>
Handler body_route(const Ctx& ctx, Parse parse, unsigned status, Op op, QualifierParam param = QualifierParam::kRead) {
  return [ctx, parse, status, op, param](http::Request&& req, http::Responder respond) {
    with_target(
        ctx, req, respond,
        [&](const std::string& name, const std::string& qualifier, const std::string& id) {
          json body;
          if (auto e = parse_body(req, body)) return render(*e, id);
          auto result = with_parsed(parse, body, [&](auto request) { return op(req, name, qualifier, std::move(request)); });
          return answer(result, status, id);
        },
        param);
  };
}

// `handler` once the code digests its answer shows are known. Template code is digested on the
// blocking pool the first time an answer needs it (FunctionRegistry::digest_code): the answer
// waits for it, the event loop does not. kAll: the answer shows every function's.
enum class Digests { kOfTheFunction, kAll };
Handler after_digests(const Ctx& ctx, Digests scope, Handler handler) {
  return [ctx, scope, handler = std::move(handler)](http::Request&& req, http::Responder respond) {
    std::string name;
    if (scope == Digests::kOfTheFunction) {
      auto target = parse_target(req, ctx->options);
      const auto* t = std::get_if<FunctionTarget>(&target);
      if (!t) return handler(std::move(req), std::move(respond));  // which answers the error
      name = t->name;
    }
    auto held = std::make_shared<http::Request>(std::move(req));
    ctx->registry.digest_code(name, [handler, held, respond = std::move(respond)] { handler(std::move(*held), respond); });
  };
}

// Both the path and the path with a trailing slash (older SDKs send one).
void add_route(http::Router& router, http::Method method, const std::string& pattern, std::size_t limit,
               const Handler& handler) {
  router.add(method, pattern, limit, handler);
  router.add(method, pattern + "/", limit, handler);
}

// A route that changes the catalogue: its answer is sent once the records it changed are on disk
// (FunctionRegistry::when_stored; the writes run on the blocking pool), so an answer follows the
// record it describes and a stop right after it loses nothing.
void add_change_route(http::Router& router, const Ctx& ctx, http::Method method, const std::string& pattern,
                      std::size_t limit, Handler handler) {
  add_route(router, method, pattern, limit,
            [ctx, handler = std::move(handler)](http::Request&& req, http::Responder respond) {
              handler(std::move(req), [ctx, respond](http::Response answer) {
                auto held = std::make_shared<http::Response>(std::move(answer));
                ctx->registry.when_stored([respond, held] { respond(std::move(*held)); });
              });
            });
}

}  // namespace

void add_control_routes(http::Router& router, FunctionRegistry& registry, invocation::Dispatcher& dispatcher,
                        const Clock& clock, const InvokeApiOptions& options, async::EventQueue* events) {
  auto ctx = std::make_shared<ControlContext>(
      ControlContext{registry, options, dispatcher, clock, events, cj::Account{options.region, options.account_id}});
  using M = http::Method;
  const std::string functions = "/2015-03-31/functions";
  const std::string function = functions + "/{name}";
  // FunctionConfiguration with an unqualified ARN (create, update) or a qualified one (publish).
  auto latest_configuration = [ctx](const control_plane::VersionView& v) {
    return cj::configuration(v, ctx->account, false);
  };
  auto version_configuration = [ctx](const control_plane::VersionView& v) {
    return cj::configuration(v, ctx->account, true);
  };

  add_change_route(router, ctx, M::kPost, functions, kCodeBodyLimit,
            [ctx, latest_configuration](http::Request&& req, http::Responder respond) {
              const std::string request_id = ids::request_id();
              json body;
              if (auto e = parse_body(req, body)) return respond(render(*e, request_id));
              auto created = with_parsed(cj::parse_create_function, body, [&](control_plane::CreateFunctionRequest r) {
                return rendered(ctx->registry.create_function(std::move(r)), latest_configuration);
              });
              respond(answer(created, 201, request_id));
            });
  add_route(router, M::kGet, functions, 0,
            after_digests(ctx, Digests::kAll, [ctx](http::Request&& req, http::Responder respond) {
              const std::string request_id = ids::request_id();
              std::optional<ServiceError> error;
              auto max_items = int_param(req, "MaxItems", error);
              if (error) return respond(render(*error, request_id));
              auto list = cj::parse_list_functions(req.query_param("FunctionVersion"),
                                                    req.query_param("Marker").value_or(""), max_items);
              respond(answer(with_parsed(std::move(list),
                                         [&](const cj::ListRequest& r) {
                                           return cj::function_page(ctx->registry.list_functions(r.all_versions), r,
                                                                    ctx->account);
                                         }),
                             200, request_id));
            }));
  using Request = const http::Request&;
  using Name = const std::string&;
  constexpr auto kOfTheFunction = Digests::kOfTheFunction;
  add_route(router, M::kGet, function, 0,
            after_digests(ctx, kOfTheFunction, target_route(ctx, 200, [ctx](Request, Name name, Name qualifier) {
                            return rendered(ctx->registry.get_function(name, qualifier),
                                            [&](const control_plane::FunctionView& f) {
                                              return cj::function(f, ctx->account, !qualifier.empty());
                                            });
                          })));
  add_change_route(router, ctx, M::kDelete, function, 0, target_route(ctx, 204, [ctx](Request, Name name, Name qualifier) {
              return ctx->registry.delete_function(name, qualifier);
            }));
  add_route(router, M::kGet, function + "/configuration", 0,
            after_digests(ctx, kOfTheFunction, target_route(ctx, 200, [ctx](Request, Name name, Name qualifier) {
                            return rendered(ctx->registry.get_configuration(name, qualifier),
                                            [&](const control_plane::VersionView& v) {
                                              return cj::configuration(v, ctx->account, !qualifier.empty());
                                            });
                          })));
  add_change_route(router, ctx, M::kPut, function + "/configuration", kConfigBodyLimit,
            after_digests(ctx, kOfTheFunction,
                          body_route(ctx, cj::parse_update_configuration, 200,
                                     [ctx, latest_configuration](Request, Name name, Name,
                                                                 const control_plane::UpdateConfigurationRequest& r) {
                                       return rendered(ctx->registry.update_configuration(name, r),
                                                       latest_configuration);
                                     })));
  add_change_route(router, ctx, M::kPut, function + "/code", kCodeBodyLimit,
            body_route(ctx, cj::parse_update_code, 200,
                       [ctx, latest_configuration](Request, Name name, Name, control_plane::UpdateCodeRequest r) {
                         return rendered(ctx->registry.update_code(name, std::move(r)), latest_configuration);
                       }));
  add_change_route(router, ctx, M::kPost, function + "/versions", kConfigBodyLimit,
            after_digests(ctx, kOfTheFunction,
                          body_route(ctx, cj::parse_publish_version, 201,
                                     [ctx, version_configuration](Request, Name name, Name,
                                                                  const control_plane::PublishVersionRequest& r) {
                                       return rendered(ctx->registry.publish_version(name, r), version_configuration);
                                     })));
  add_route(router, M::kGet, function + "/versions", 0,
            after_digests(ctx, kOfTheFunction, [ctx](http::Request&& req, http::Responder respond) {
              with_target(ctx, req, respond, [&](const std::string& name, const std::string&, const std::string& id) {
                std::optional<ServiceError> error;
                auto max_items = int_param(req, "MaxItems", error);
                if (error) return render(*error, id);
                auto list = with_parsed(cj::parse_list_versions(req.query_param("Marker").value_or(""), max_items),
                                        [&](const cj::ListRequest& r) {
                                          return with_parsed(
                                              ctx->registry.list_versions(name),
                                              [&](const std::vector<control_plane::VersionView>& versions) {
                                                return cj::version_page(versions, r, ctx->account);
                                              });
                                        });
                return answer(list, 200, id);
              });
            }));

  // Aliases.
  auto alias_of = [ctx](const std::string& name) {
    return [ctx, name](const control_plane::AliasView& a) { return cj::alias(a, name, ctx->account); };
  };
  auto alias_param = [](Request req) { return std::string(req.param("alias")); };
  add_change_route(router, ctx, M::kPost, function + "/aliases", kConfigBodyLimit,
            body_route(ctx, cj::parse_create_alias, 201,
                       [ctx, alias_of](Request, Name name, Name, const control_plane::CreateAliasRequest& r) {
                         return rendered(ctx->registry.create_alias(name, r), alias_of(name));
                       }));
  add_route(router, M::kGet, function + "/aliases", 0, target_route(ctx, 200, [ctx](Request req, Name name, Name) {
              return rendered(ctx->registry.list_aliases(name, req.query_param("FunctionVersion").value_or("")),
                              [&](const std::vector<control_plane::AliasView>& all) {
                                return cj::aliases(all, name, ctx->account);
                              });
            }));
  add_route(router, M::kGet, function + "/aliases/{alias}", 0,
            target_route(ctx, 200, [ctx, alias_of, alias_param](Request req, Name name, Name) {
              return rendered(ctx->registry.get_alias(name, alias_param(req)), alias_of(name));
            }));
  add_change_route(router, ctx, M::kPut, function + "/aliases/{alias}", kConfigBodyLimit,
            body_route(ctx, cj::parse_update_alias, 200,
                       [ctx, alias_of, alias_param](Request req, Name name, Name,
                                                    const control_plane::UpdateAliasRequest& r) {
                         return rendered(ctx->registry.update_alias(name, alias_param(req), r), alias_of(name));
                       }));
  add_change_route(router, ctx, M::kDelete, function + "/aliases/{alias}", 0,
            target_route(ctx, 204, [ctx, alias_param](Request req, Name name, Name) {
              return ctx->registry.delete_alias(name, alias_param(req));
            }));

  // Reserved concurrency: Put and Delete under 2017-10-31, Get under 2019-09-30.
  constexpr auto kIgnored = QualifierParam::kIgnored;
  add_change_route(router, ctx, M::kPut, "/2017-10-31/functions/{name}/concurrency", kConfigBodyLimit,
            body_route(
                ctx, cj::parse_put_concurrency, 200,
                [ctx](Request, Name name, Name qualifier, int reserved) {
                  return rendered(ctx->registry.put_concurrency(name, reserved, qualifier),
                                  [](int n) { return cj::concurrency(n); });
                },
                kIgnored));
  add_route(router, M::kGet, "/2019-09-30/functions/{name}/concurrency", 0,
            target_route(
                ctx, 200,
                [ctx](Request, Name name, Name qualifier) {
                  return rendered(ctx->registry.get_concurrency(name, qualifier), cj::concurrency);
                },
                kIgnored));
  add_change_route(router, ctx, M::kDelete, "/2017-10-31/functions/{name}/concurrency", 0,
            target_route(
                ctx, 204, [ctx](Request, Name name, Name qualifier) { return ctx->registry.delete_concurrency(name, qualifier); },
                kIgnored));

  // Event invoke configuration: Put replaces, Update (POST) merges. FunctionArn names $LATEST
  // when the request named no qualifier.
  auto event_config_of = [ctx](const std::string& name, const std::string& qualifier) {
    return [arn = ctx->account.arn(name, qualifier.empty() ? std::string(config::kLatest) : qualifier)](
               const control_plane::EventInvokeConfigView& e) { return cj::event_invoke_config(e, arn); };
  };
  const std::string event_config = "/2019-09-25/functions/{name}/event-invoke-config";
  for (auto [method, merge] : {std::pair{M::kPut, false}, std::pair{M::kPost, true}}) {
    add_change_route(router, ctx, method, event_config, kConfigBodyLimit,
              body_route(ctx, cj::parse_event_invoke_config, 200,
                         [ctx, event_config_of, merge = merge](Request, Name name, Name qualifier,
                                                               const control_plane::EventInvokeConfigChange& change) {
                           return rendered(ctx->registry.put_event_invoke_config(name, qualifier, change, merge),
                                           event_config_of(name, qualifier));
                         }));
  }
  add_route(router, M::kGet, event_config, 0,
            target_route(ctx, 200, [ctx, event_config_of](Request, Name name, Name qualifier) {
              return rendered(ctx->registry.get_event_invoke_config(name, qualifier), event_config_of(name, qualifier));
            }));
  add_change_route(router, ctx, M::kDelete, event_config, 0, target_route(ctx, 204, [ctx](Request, Name name, Name qualifier) {
              return ctx->registry.delete_event_invoke_config(name, qualifier);
            }));

  // Function URLs (decision 020): ?Qualifier= (or a qualified name) names an alias.
  auto url_port = [ctx]() -> std::uint16_t {
    const std::uint16_t port = ctx->options.api_port ? ctx->options.api_port() : 0;
    return port != 0 ? port : 3000;
  };
  auto url_config = [ctx, url_port](cj::UrlView view) {
    return [ctx, url_port, view](const control_plane::FunctionUrlRecord* u) {
      return cj::function_url_config(*u, ctx->account, url_port(), view);
    };
  };
  const std::string url = "/2021-10-31/functions/{name}/url";
  add_change_route(router, ctx, M::kPost, url, kConfigBodyLimit,
            body_route(ctx, cj::parse_create_function_url, 201,
                       [ctx, url_config](Request, Name name, Name qualifier, const control_plane::FunctionUrlChange& c) {
                         if (auto st = cj::check_url_qualifier(qualifier); !st) return Result<json>(st.error());
                         if (!ctx->options.api_port || ctx->options.api_port() == 0) {
                           observability::daemon_log()->warn(
                               "[{}] Function URL created, but this daemon has no --api-port to serve it on; its "
                               "FunctionUrl names port 3000 (start-api's)",
                               name);
                         }
                         return rendered(ctx->registry.create_function_url(name, qualifier, c),
                                         url_config(cj::UrlView::kCreated));
                       }));
  add_route(router, M::kGet, url, 0, target_route(ctx, 200, [ctx, url_config](Request, Name name, Name qualifier) {
              if (auto st = cj::check_url_qualifier(qualifier); !st) return Result<json>(st.error());
              return rendered(ctx->registry.get_function_url(name, qualifier), url_config(cj::UrlView::kFull));
            }));
  add_change_route(router, ctx, M::kPut, url, kConfigBodyLimit,
            body_route(ctx, cj::parse_update_function_url, 200,
                       [ctx, url_config](Request, Name name, Name qualifier, const control_plane::FunctionUrlChange& c) {
                         if (auto st = cj::check_url_qualifier(qualifier); !st) return Result<json>(st.error());
                         return rendered(ctx->registry.update_function_url(name, qualifier, c),
                                         url_config(cj::UrlView::kFull));
                       }));
  add_change_route(router, ctx, M::kDelete, url, 0, target_route(ctx, 204, [ctx](Request, Name name, Name qualifier) {
              if (auto st = cj::check_url_qualifier(qualifier); !st) return st;
              return ctx->registry.delete_function_url(name, qualifier);
            }));
  add_route(router, M::kGet, "/2021-10-31/functions/{name}/urls", 0,
            target_route(
                ctx, 200,
                [ctx, url_port](Request req, Name name, Name) -> Result<json> {
                  std::optional<ServiceError> error;
                  auto max_items = int_param(req, "MaxItems", error);
                  if (error) return Error{ErrorKind::kInvalidInput, error->type, error->message};
                  auto page = cj::parse_list_function_urls(req.query_param("Marker").value_or(""), max_items);
                  if (!page) return page.error();
                  auto urls = ctx->registry.list_function_urls(name);
                  if (!urls) return urls.error();
                  return cj::function_url_page(*urls, *page, ctx->account, url_port());
                },
                QualifierParam::kIgnored));

  add_route(router, M::kGet, "/2016-08-19/account-settings", 0,
            after_digests(ctx, Digests::kAll, [ctx](http::Request&&, http::Responder respond) {
              respond(json_response(200, cj::account_settings(ctx->registry.account_settings()), ids::request_id()));
            }));

  // InvokeAsync (deprecated): an Event invocation answered {"Status":202}.
  add_route(router, M::kPost, "/2014-11-13/functions/{name}/invoke-async", limits::kSyncRequestPayload,
            [ctx](http::Request&& req, http::Responder respond) {
              const std::string request_id = ids::request_id();
              if (!req.headers.has("X-Amz-Invocation-Type")) req.headers.add("X-Amz-Invocation-Type", "Event");
              auto valid = validate_invoke(req, request_id, ctx->dispatcher, ctx->clock, ctx->options,
                                           InvokeRules{"InvokeAsync", {"Event"}});
              if (auto* e = std::get_if<ServiceError>(&valid)) return respond(render(*e, request_id));
              auto& inv = *std::get<ValidInvoke>(valid).inv;
              // Answered once the event is durable, as Invoke's Event type is.
              auto answer = [respond = std::move(respond), request_id](Status accepted) {
                if (!accepted) {
                  return respond(render(ServiceError{500, std::string(error_types::kServiceException),
                                                     fmt::format("The event could not be queued: {}",
                                                                 accepted.error().message),
                                                     {}},
                                        request_id));
                }
                respond(json_response(202, json{{"Status", 202}}, request_id));
              };
              if (!ctx->events) {
                return answer(Error{ErrorKind::kInternal, {}, "asynchronous invocation is not available"});
              }
              ctx->events->accept(inv, std::move(answer));
            });
}

}  // namespace lambdad::invoke_api
