#include "lambdad/http_front/websocket_front.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <map>
#include <utility>

#include "front_invocation.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/http_front/authorizer.hpp"
#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/websocket_connections.hpp"
#include "lambdad/http_front/websocket_event.hpp"
#include "lambdad/observability/logging.hpp"

namespace lambdad::http_front {

// One WebSocket API as served: the API and its routes by key. (Outside the anonymous namespace:
// WebSocketFront::State holds them.)
struct WebSocketApi {
  config::HttpApi api;
  std::map<std::string, config::HttpRoute> routes;  // by route key

  const config::HttpRoute* route(const std::string& key) const {
    const auto it = routes.find(key);
    return it == routes.end() ? nullptr : &it->second;
  }
  // The Lambda authorizer `route` names; nullptr for none.
  const config::HttpAuthorizer* authorizer_of(const config::HttpRoute& route) const {
    if (route.authorizer.empty()) return nullptr;
    for (const auto& a : api.authorizers) {
      if (a.name == route.authorizer) return &a;
    }
    return nullptr;
  }
};

namespace {

constexpr std::string_view kConnectionsSegment = "@connections";
// API Gateway's reason for a client's close frame without a status code.
constexpr std::string_view kNoStatusReason = "Client-side close frame status not set";
constexpr std::uint16_t kGoingAway = 1001;

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    if (slash != 0) out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string iso_time(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, epoch_ms % 1000);
}

http::Response answer_of(HttpAnswer a) {
  http::Response r;
  r.status = static_cast<unsigned>(a.status);
  for (auto& h : a.headers) r.headers.add(std::move(h.name), std::move(h.value));
  r.body = std::move(a.body);
  return r;
}

// How a route invocation ended: the result's payload, or the error the front renders.
struct RouteOutcome {
  std::optional<FrontErrorKind> error;
  std::string payload;
  std::string cause;
};

}  // namespace

const config::HttpApi* websocket_api_for(const std::vector<config::HttpApi>& apis, std::string_view path) {
  std::vector<const config::HttpApi*> ws;
  for (const auto& api : apis) {
    if (api.kind == config::HttpApiKind::kWebSocket) ws.push_back(&api);
  }
  if (ws.empty()) return nullptr;
  const auto parts = segments(path);
  if (parts.empty()) return ws.front();
  if (parts.size() == 1) {
    for (const auto* api : ws) {
      if (api->id == parts[0]) return api;
    }
    for (const auto* api : ws) {
      if (!api->stage.empty() && api->stage == parts[0]) return api;
    }
  } else if (parts.size() == 2) {
    for (const auto* api : ws) {
      if (api->id == parts[0] && api->stage == parts[1]) return api;
    }
  }
  return nullptr;
}

std::optional<std::string> management_connection_id(std::string_view path) {
  const auto parts = segments(path);
  if (parts.size() < 2 || parts.size() > 3 || parts[parts.size() - 2] != kConnectionsSegment) return std::nullopt;
  if (path.ends_with('/')) return std::nullopt;
  auto id = percent_decode(parts.back());
  if (!id || id->empty()) return std::nullopt;
  return id;
}

struct WebSocketFront::State : std::enable_shared_from_this<WebSocketFront::State> {
  State(invocation::Dispatcher& d, const Clock& c, Timers& t, FrontOptions o)
      : dispatcher(d), clock(c), timers(t), options(std::move(o)) {}

  invocation::Dispatcher& dispatcher;
  const Clock& clock;
  Timers& timers;
  FrontOptions options;
  std::map<std::string, std::shared_ptr<const WebSocketApi>> apis;  // by id
  std::vector<config::HttpApi> order;                                 // as declared, for matching
  ConnectionTable table;

  // The API's routes as they are now, else those the connection has.
  std::shared_ptr<const WebSocketApi> current(const std::shared_ptr<const WebSocketApi>& had) const {
    const auto it = apis.find(had->api.id);
    return it == apis.end() ? had : it->second;
  }

  void upgrade(http::Request&& req, http::Upgrade upgrade, const std::shared_ptr<const WebSocketApi>& api);
  // Runs the $connect route's Lambda authorizer; connects with what it said when it allows,
  // refuses the upgrade (401, 403, 500) otherwise.
  void authorize(const std::shared_ptr<const WebSocketApi>& api, const config::HttpAuthorizer& authorizer,
                 const RequestView& view, WebSocketContext context, std::string user_agent, const http::Upgrade& upgrade,
                 nlohmann::json event);
  // Invokes the $connect route with `event`, then opens the connection or refuses the upgrade.
  void connect(const std::shared_ptr<const WebSocketApi>& api, WebSocketContext context, std::string user_agent,
               const http::Upgrade& upgrade, const nlohmann::json& event);
  void open(const std::shared_ptr<const WebSocketApi>& api, WebSocketContext context, std::string user_agent,
            const http::Upgrade& upgrade, std::optional<std::string> subprotocol);
  void on_message(const std::shared_ptr<WebSocketConnection>& c, const std::shared_ptr<const WebSocketApi>& api,
                  std::string data, bool binary);
  void on_closed(const std::string& id, const std::shared_ptr<const WebSocketApi>& api, http::WebSocketClose how);
  void arm_expiry(const std::shared_ptr<WebSocketConnection>& c);
  void invoke(const config::HttpRoute& route, std::string payload, std::function<void(RouteOutcome)> done);
  void manage(http::Request&& req, http::Responder respond);
};

void WebSocketFront::State::invoke(const config::HttpRoute& route, std::string payload,
                                   std::function<void(RouteOutcome)> done) {
  auto made = front_invocation(dispatcher, options, clock,
                               FrontCall{route.function_name, "$LATEST", std::move(payload), "", ids::request_id()});
  if (auto* cause = std::get_if<std::string>(&made)) return done({FrontErrorKind::kFunctionError, {}, *cause});
  auto inv = std::get<invocation::InvocationPtr>(std::move(made));
  struct Pending {
    std::function<void(RouteOutcome)> done;
    std::unique_ptr<Timer> timer;
    void finish(RouteOutcome o) {
      if (!done) return;
      if (timer) timer->cancel();
      auto d = std::move(done);
      done = nullptr;
      d(std::move(o));
    }
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  inv->on_complete = [pending](invocation::InvocationResult result) {
    if (result.outcome == invocation::Outcome::kFunctionError) {
      const bool timed_out = result.error_type == error_types::kSandboxTimedout;
      return pending->finish({timed_out ? FrontErrorKind::kTimeout : FrontErrorKind::kFunctionError,
                              std::move(result.payload), fmt::format("function error {}", result.error_type)});
    }
    pending->finish({std::nullopt, std::move(result.payload), {}});
  };
  if (route.timeout_ms > 0) {
    pending->timer = timers.make_timer();
    pending->timer->arm(clock.now() + std::chrono::milliseconds(route.timeout_ms),
                        [weak = std::weak_ptr<Pending>(pending), ms = route.timeout_ms] {
                          if (auto p = weak.lock()) {
                            p->finish({FrontErrorKind::kTimeout, {}, fmt::format("past the integration timeout of {} ms", ms)});
                          }
                        });
  }
  const auto admission = dispatcher.dispatch(std::move(inv));
  if (admission == invocation::Admission::kThrottledReserved || admission == invocation::Admission::kThrottledAccount) {
    pending->finish({FrontErrorKind::kThrottled, {}, "throttled"});
  }
}

void WebSocketFront::State::upgrade(http::Request&& req, http::Upgrade upgrade,
                                    const std::shared_ptr<const WebSocketApi>& api) {
  RequestView view;
  view.method = req.method_text;
  view.target = req.target;
  for (const auto& f : req.headers.fields()) view.headers.push_back({f.name, f.value});
  view.peer_ip = req.peer_address;
  view.port = req.local_port;

  WebSocketContext context;
  context.api_id = api->api.id;
  context.stage = api->api.stage;
  context.stage_variables = api->api.stage_variables;
  context.domain_name = std::string(req.headers.get("host").value_or(fmt::format("127.0.0.1:{}", req.local_port)));
  context.connection_id = new_gateway_id();
  while (table.find(context.connection_id)) context.connection_id = new_gateway_id();
  context.connected_at = clock.epoch_ms();
  context.source_ip = req.peer_address;
  std::string user_agent(req.headers.get("user-agent").value_or(""));

  const auto* route = api->route("$connect");
  if (route == nullptr) return open(api, std::move(context), std::move(user_agent), upgrade, std::nullopt);

  auto event = build_connect_event(context, view, new_gateway_id(), context.connected_at);
  if (const auto* authorizer = api->authorizer_of(*route)) {
    return authorize(api, *authorizer, view, std::move(context), std::move(user_agent), upgrade, std::move(event));
  }
  connect(api, std::move(context), std::move(user_agent), upgrade, event);
}

void WebSocketFront::State::authorize(const std::shared_ptr<const WebSocketApi>& api,
                                      const config::HttpAuthorizer& authorizer, const RequestView& view,
                                      WebSocketContext context, std::string user_agent, const http::Upgrade& upgrade,
                                      nlohmann::json event) {
  const std::string name = fmt::format("authorizer {}", authorizer.name);
  const auto refuse = [upgrade, api_id = api->api.id, id = context.connection_id](FrontErrorKind kind,
                                                                                   const std::string& cause) {
    auto answer = render_error(FrontKind::kHttpApi, kind);
    observability::daemon_log()->warn("WS {} $connect {} -> refused {}: {}", api_id, id, answer.status, cause);
    upgrade.refuse()(answer_of(std::move(answer)));
  };
  const auto identity =
      identity_values(authorizer, view, IdentityScope{&api->api.stage_variables, &event.at("requestContext")});
  if (!identity) return refuse(FrontErrorKind::kUnauthorized, name + ": an identity source is missing");
  const std::string arn =
      websocket_route_arn(options.region, options.account_id, api->api.id, api->api.stage, "$connect");
  config::HttpRoute call;  // the authorizer's own invocation: its function's timeout ends it
  call.function_name = authorizer.function_name;
  call.timeout_ms = 0;
  const auto started = clock.now();
  auto authorizer_event = websocket_request_event(event, arn);
  invoke(call, authorizer_event.dump(),
         [weak = weak_from_this(), api, name, arn, context = std::move(context), user_agent = std::move(user_agent),
          upgrade, event = std::move(event), started, refuse](RouteOutcome outcome) mutable {
           auto self = weak.lock();
           if (!self) return;
           if (outcome.error) {
             return refuse(authorizer_error_kind(FrontKind::kRestApi, outcome.payload),
                           fmt::format("{} failed: {} {}", name, outcome.cause, outcome.payload.substr(0, 300)));
           }
           auto parsed = parse_authorizer_result(outcome.payload, AuthorizerStyle::kRestPolicy);
           if (auto* error = std::get_if<FrontError>(&parsed)) {
             return refuse(error->kind, fmt::format("{}: malformed result: {}", name, error->cause));
           }
           const auto& result = std::get<AuthorizerResult>(parsed);
           switch (decide(result, arn)) {
             case Decision::kExplicitDeny:
               return refuse(FrontErrorKind::kExplicitDeny, name + ": a Deny statement matches " + arn);
             case Decision::kNotAllowed:
               return refuse(FrontErrorKind::kForbidden, name + ": not allowed on " + arn);
             case Decision::kAllow:
               break;
           }
           const auto latency =
               std::chrono::duration_cast<std::chrono::milliseconds>(self->clock.now() - started).count();
           context.authorizer = authorizer_context(result, PayloadVersion::kV1, latency);
           event["requestContext"]["authorizer"] = context.authorizer;
           self->connect(api, std::move(context), std::move(user_agent), upgrade, event);
         });
}

void WebSocketFront::State::connect(const std::shared_ptr<const WebSocketApi>& api, WebSocketContext context,
                                    std::string user_agent, const http::Upgrade& upgrade, const nlohmann::json& event) {
  const auto* route = api->route("$connect");
  const auto started = clock.now();
  invoke(*route, event.dump(), [weak = weak_from_this(), api, context, user_agent, upgrade, started,
                                fn = route->function_name](RouteOutcome outcome) mutable {
    auto self = weak.lock();
    if (!self) return;
    const double ms = std::chrono::duration<double, std::milli>(self->clock.now() - started).count();
    auto log = observability::daemon_log();
    std::optional<FrontError> error;
    if (outcome.error) error = FrontError{*outcome.error, outcome.cause};
    ConnectVerdict verdict;
    if (!error) {
      auto mapped = map_connect_result(outcome.payload);
      if (auto* e = std::get_if<FrontError>(&mapped)) {
        error = FrontError{e->kind, "malformed $connect result: " + e->cause};
      } else {
        verdict = std::get<ConnectVerdict>(mapped);
      }
    }
    if (error) {
      log->warn("WS {} $connect {} -> refused ({} -> {}, {:.1f} ms): {}", api->api.id, context.connection_id, "$connect",
                fn, ms, error->cause);
      return upgrade.refuse()(answer_of(render_error(FrontKind::kHttpApi, error->kind)));
    }
    if (!verdict.accepted()) {
      log->info("WS {} $connect {} -> refused {} ($connect -> {}, {:.1f} ms)", api->api.id, context.connection_id,
                verdict.status, fn, ms);
      http::Response r;
      r.status = static_cast<unsigned>(verdict.status);
      return upgrade.refuse()(std::move(r));
    }
    log->info("WS {} $connect {} -> connected ($connect -> {}, {:.1f} ms)", api->api.id, context.connection_id, fn, ms);
    self->open(api, std::move(context), std::move(user_agent), upgrade, verdict.subprotocol);
  });
}

void WebSocketFront::State::open(const std::shared_ptr<const WebSocketApi>& api, WebSocketContext context,
                                 std::string user_agent, const http::Upgrade& upgrade,
                                 std::optional<std::string> subprotocol) {
  auto c = std::make_shared<WebSocketConnection>();
  c->context = std::move(context);
  c->user_agent = std::move(user_agent);
  c->connected = clock.now();
  c->last_active = c->connected;
  c->last_active_at = c->context.connected_at;

  http::WebSocketSettings settings;
  settings.message_limit = kWebSocketMessageLimit;
  settings.frame_limit = kWebSocketFrameLimit;
  if (subprotocol) settings.response_headers.add("Sec-WebSocket-Protocol", *subprotocol);
  http::WebSocketHandlers handlers;
  const std::weak_ptr<State> weak = weak_from_this();
  const std::weak_ptr<WebSocketConnection> weak_c = c;
  handlers.on_message = [weak, weak_c, api](std::string data, bool binary) {
    auto self = weak.lock();
    auto conn = weak_c.lock();
    if (self && conn) self->on_message(conn, api, std::move(data), binary);
  };
  handlers.on_ping = [weak, weak_c] {
    auto self = weak.lock();
    auto conn = weak_c.lock();
    if (!self || !conn) return;
    conn->last_active = self->clock.now();
    conn->last_active_at = self->clock.epoch_ms();
  };
  handlers.on_closed = [weak, id = c->context.connection_id, api](http::WebSocketClose how) {
    if (auto self = weak.lock()) self->on_closed(id, api, std::move(how));
  };
  c->socket = upgrade.accept(std::move(settings), std::move(handlers));
  if (!c->socket) return;  // the client went away during $connect
  table.add(c);
  arm_expiry(c);
}

void WebSocketFront::State::arm_expiry(const std::shared_ptr<WebSocketConnection>& c) {
  if (!c->expiry) c->expiry = timers.make_timer();
  const auto expiry = connection_expiry(c->connected, c->last_active);
  c->expiry->arm(expiry.at, [weak = weak_from_this(), weak_c = std::weak_ptr<WebSocketConnection>(c)] {
    auto self = weak.lock();
    auto conn = weak_c.lock();
    if (!self || !conn) return;
    const auto now = self->clock.now();
    const auto due = connection_expiry(conn->connected, conn->last_active);
    if (now < due.at) return self->arm_expiry(conn);  // active since: later
    observability::daemon_log()->info("WS {} {} closed: {}", conn->context.api_id, conn->context.connection_id,
                                      due.idle ? "idle for 10 minutes" : "open for 2 hours");
    conn->socket->close(kGoingAway, "Going away");
  });
}

void WebSocketFront::State::on_message(const std::shared_ptr<WebSocketConnection>& c,
                                       const std::shared_ptr<const WebSocketApi>& had, std::string data, bool binary) {
  c->last_active = clock.now();
  c->last_active_at = clock.epoch_ms();
  const auto api = current(had);
  const std::string request_id = new_gateway_id();
  const std::string& connection_id = c->context.connection_id;
  std::string key = "$default";
  if (auto selected = select_route_key(api->api.route_selection_expression, data, binary);
      selected && api->route(*selected) != nullptr) {
    key = *selected;
  }
  const auto* route = api->route(key);
  if (route == nullptr || key == "$connect" || key == "$disconnect") {
    observability::daemon_log()->warn("WS {} message {} -> Forbidden: no route matches and there is no $default", api->api.id, connection_id);
    return c->socket->send(render_websocket_error(FrontErrorKind::kNoRoute, connection_id, request_id), false);
  }
  auto event = build_message_event(c->context, key, new_gateway_id(), request_id, data, binary, clock.epoch_ms());
  const auto started = clock.now();
  invoke(*route, event.dump(),
         [weak = weak_from_this(), socket = std::weak_ptr<http::WebSocket>(c->socket), api_id = api->api.id, key,
          connection_id, request_id, two_way = route->route_response, fn = route->function_name,
          started](RouteOutcome outcome) {
           auto self = weak.lock();
           auto ws = socket.lock();
           if (!self) return;
           const double ms = std::chrono::duration<double, std::milli>(self->clock.now() - started).count();
           auto log = observability::daemon_log();
           if (outcome.error) {
             log->warn("WS {} {} {} -> error ({} -> {}, {:.1f} ms): {}", api_id, key, connection_id, key, fn, ms,
                       outcome.cause);
             if (ws) ws->send(render_websocket_error(*outcome.error, connection_id, request_id), false);
             return;
           }
           log->info("WS {} {} {} -> ok ({} -> {}, {:.1f} ms)", api_id, key, connection_id, key, fn, ms);
           if (!two_way || !ws) return;
           if (auto body = route_response_body(outcome.payload)) ws->send(std::move(*body), false);
         });
}

void WebSocketFront::State::on_closed(const std::string& id, const std::shared_ptr<const WebSocketApi>& had,
                                      http::WebSocketClose how) {
  auto c = table.remove(id);
  if (!c) return;
  if (c->expiry) c->expiry->cancel();
  std::string reason = how.reason;
  if (how.code == 1005 && reason.empty()) reason = std::string(kNoStatusReason);
  auto log = observability::daemon_log();
  log->info("WS {} {} disconnected ({} {})", c->context.api_id, id, how.code, reason);
  const auto api = current(had);
  const auto* route = api->route("$disconnect");
  if (route == nullptr) return;
  auto event = build_disconnect_event(c->context, how.code, reason, new_gateway_id(), clock.epoch_ms());
  invoke(*route, event.dump(), [api_id = api->api.id, id, fn = route->function_name](RouteOutcome outcome) {
    if (outcome.error) {
      observability::daemon_log()->warn("WS {} $disconnect {} -> error ($disconnect -> {}): {}", api_id, id, fn,
                                        outcome.cause);
    }
  });
}

void WebSocketFront::State::manage(http::Request&& req, http::Responder respond) {
  const auto id = management_connection_id(req.path).value_or("");
  auto log = observability::daemon_log();
  const auto reply = [&](HttpAnswer a, std::string_view what) {
    log->info("@connections {} {} -> {}{}", req.method_text, id, a.status, what);
    respond(answer_of(std::move(a)));
  };
  if (options.verify_signature && !options.verify_signature(req)) {
    return reply(render_management_error(ManagementErrorKind::kForbidden), ": not signed by a key of --credentials");
  }
  const bool known = req.method == http::Method::kPost || req.method == http::Method::kGet ||
                     req.method == http::Method::kDelete;
  if (!known) return reply(render_management_error(ManagementErrorKind::kNotFound), "");
  auto c = table.find(id);
  if (!c) return reply(render_management_error(ManagementErrorKind::kGone), ": no such connection");
  HttpAnswer a;
  if (req.method == http::Method::kPost) {
    if (req.body_too_large || req.body.size() > kWebSocketMessageLimit) {
      return reply(render_management_error(ManagementErrorKind::kPayloadTooLarge), ": over 128 KB");
    }
    const bool binary = !is_valid_utf8(req.body);
    c->socket->send(std::move(req.body), binary);
  } else if (req.method == http::Method::kGet) {
    nlohmann::json body = {{"connectedAt", iso_time(c->context.connected_at)},
                           {"identity", {{"sourceIp", c->context.source_ip}, {"userAgent", c->user_agent}}},
                           {"lastActiveAt", iso_time(c->last_active_at)}};
    a.headers.push_back({"Content-Type", "application/json"});
    a.body = body.dump();
  } else {
    a.status = 204;
    c->socket->close(1000, "");
  }
  reply(std::move(a), "");
}

WebSocketFront::WebSocketFront(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers,
                               FrontOptions options)
    : state_(std::make_shared<State>(dispatcher, clock, timers, std::move(options))) {}

WebSocketFront::~WebSocketFront() {
  for (const auto& c : state_->table.all()) {
    if (c->expiry) c->expiry->cancel();
  }
}

void WebSocketFront::set_apis(const config::HttpApis& apis) {
  std::map<std::string, std::shared_ptr<const WebSocketApi>> next;
  std::vector<config::HttpApi> order;
  for (const auto& api : apis.apis) {
    if (api.kind != config::HttpApiKind::kWebSocket) continue;
    auto ws = std::make_shared<WebSocketApi>();
    ws->api = api;
    for (const auto& r : apis.routes) {
      if (r.api_id == api.id) ws->routes.emplace(r.path, r);
    }
    next.emplace(api.id, std::move(ws));
    order.push_back(api);
  }
  state_->apis = std::move(next);
  state_->order = std::move(order);
}

void WebSocketFront::upgrade(http::Request&& request, http::Upgrade upgrade,
                             const std::function<void(http::Request&&, http::Responder)>& otherwise) {
  const auto* api = websocket_api_for(state_->order, request.path);
  if (api == nullptr) return otherwise(std::move(request), upgrade.refuse());
  state_->upgrade(std::move(request), std::move(upgrade), state_->apis.at(api->id));
}

void WebSocketFront::manage(http::Request&& request, http::Responder respond) {
  state_->manage(std::move(request), std::move(respond));
}

std::vector<std::string> WebSocketFront::describe(const std::string& base_url) const {
  std::vector<std::string> out;
  const std::string ws_base = base_url.starts_with("http://") ? "ws://" + base_url.substr(7) : base_url;
  for (const auto& api : state_->order) {
    // The shortest path that reaches this API.
    std::string path = "/" + api.stage;
    if (api.stage.empty() || websocket_api_for(state_->order, path) != &api) path = "/" + api.id;
    if (&api == &state_->order.front()) path = api.stage.empty() ? "/" : path;
    std::string routes;
    for (const auto& [key, route] : state_->apis.at(api.id)->routes) {
      routes += fmt::format("{}{} -> {}{}", routes.empty() ? "" : ", ", key, route.function_name,
                            route.authorizer.empty() ? "" : " with authorizer " + route.authorizer);
    }
    out.push_back(fmt::format("  WebSocket {}{} -> {} ({}; @connections at {}{}/@connections)", ws_base, path, api.id,
                              routes, base_url, api.stage.empty() ? "" : "/" + api.stage));
  }
  return out;
}

std::size_t WebSocketFront::open_connections() const { return state_->table.size(); }

bool WebSocketFront::has_apis() const { return !state_->order.empty(); }

}  // namespace lambdad::http_front
