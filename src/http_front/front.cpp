#include "lambdad/http_front/front.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/http_front/cors.hpp"
#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/payload_v1.hpp"
#include "lambdad/http_front/payload_v2.hpp"
#include "lambdad/http_front/request_view.hpp"
#include "lambdad/http_front/route_table.hpp"
#include "lambdad/http_front/websocket_front.hpp"
#include "lambdad/observability/logging.hpp"
#include "front_invocation.hpp"

namespace lambdad::http_front {

// The routes and URLs one template declared, as served until the next reload. (Outside the
// anonymous namespace: Front::State holds one.)
struct RouteSnapshot {
  config::HttpApis apis;
  RouteTable table;  // Route::target.index: the route's index in apis.routes
  bool only_rest = false;
};

namespace {

constexpr std::string_view kUrlHostSuffix = ".lambda-url.localhost";
constexpr std::string_view kUrlPathPrefix = "/_lambda-url/";
constexpr std::string_view kRestResourceId = "123456";

Cors to_cors(const config::HttpCors& c) {
  return Cors{c.allow_origins, c.allow_methods, c.allow_headers, c.expose_headers, c.max_age_seconds,
              c.allow_credentials};
}

FrontKind front_of(const config::HttpApi& api) {
  return api.kind == config::HttpApiKind::kRest ? FrontKind::kRestApi : FrontKind::kHttpApi;
}

std::string_view kind_name(FrontKind front) {
  switch (front) {
    case FrontKind::kFunctionUrl: return "FunctionUrl";
    case FrontKind::kHttpApi: return "HttpApi";
    case FrontKind::kRestApi: return "RestApi";
  }
  return "";
}

std::string host_without_port(std::string_view host) {
  if (host.starts_with('[')) {
    const auto end = host.find(']');
    return std::string(host.substr(0, end == std::string_view::npos ? host.size() : end + 1));
  }
  return std::string(host.substr(0, host.find(':')));
}

// One request, from its arrival to its answer.
struct Exchange {
  http::Responder respond;
  std::string line;   // "GET /hello"
  std::string route;  // "GET /hello -> HelloFunction", or empty
  Clock::Steady::time_point started;
  const Clock* clock = nullptr;
  FrontKind front = FrontKind::kHttpApi;
  std::string request_id;  // x-amzn-RequestId
  Headers cors;            // added to every answer
  std::string body;        // the request's body (the view's bytes)
  RequestView view;
  std::shared_ptr<const RouteSnapshot> snapshot;  // what the route points into
  std::unique_ptr<Timer> timer;
  bool answered = false;

  void answer(HttpAnswer a, const std::string& cause = {}) {
    if (answered) return;
    answered = true;
    if (timer) timer->cancel();
    http::Response r;
    r.status = static_cast<unsigned>(a.status);
    for (auto& h : a.headers) r.headers.add(std::move(h.name), std::move(h.value));
    for (const auto& h : cors) {
      if (!r.headers.has(h.name)) r.headers.add(h.name, h.value);
    }
    if (!request_id.empty() && !r.headers.has("x-amzn-RequestId")) r.headers.add("x-amzn-RequestId", request_id);
    r.body = std::move(a.body);
    const double ms = std::chrono::duration<double, std::milli>(clock->now() - started).count();
    auto log = observability::daemon_log();
    const std::string where = route.empty() ? "" : route + ", ";
    if (cause.empty()) {
      log->info("API {} -> {} ({}{:.1f} ms)", line, r.status, where, ms);
    } else {
      log->warn("API {} -> {} ({}{:.1f} ms): {}", line, r.status, where, ms, cause);
    }
    respond(std::move(r));
  }
  void fail(FrontErrorKind kind, const std::string& cause) { answer(render_error(front, kind), cause); }
};

}  // namespace

struct Front::State {
  invocation::Dispatcher& dispatcher;
  const Clock& clock;
  Timers& timers;
  FrontOptions options;
  std::shared_ptr<const RouteSnapshot> snapshot = std::make_shared<RouteSnapshot>();
  std::shared_ptr<WebSocketFront> websockets;  // the WebSocket APIs and @connections

  // The URL of the function `label` names (a host label or a path segment), or nullptr.
  const config::FunctionUrl* find_url(const RouteSnapshot& s, std::string_view label) const {
    const std::string resolved = dispatcher.function_for(std::string(label));
    for (const auto& url : s.apis.urls) {
      if (iequals(url.function_name, label) || url.function_name == resolved) return &url;
    }
    return nullptr;
  }

  void handle(http::Request&& req, http::Responder respond);
  void serve_url(const std::shared_ptr<Exchange>& x, const http::Request& req, const config::FunctionUrl& url);
  void serve_api(const std::shared_ptr<Exchange>& x);
  std::vector<std::string> path_methods(const RouteSnapshot& s, const std::string& api_id, std::string_view path) const;
  void dispatch(const std::shared_ptr<Exchange>& x, const std::string& function, std::string payload, int timeout_ms,
                std::function<Mapped(const std::string&)> map);
};

void Front::State::handle(http::Request&& req, http::Responder respond) {
  if (websockets->has_apis() && management_connection_id(req.path)) {
    return websockets->manage(std::move(req), std::move(respond));
  }
  auto x = std::make_shared<Exchange>();
  x->respond = std::move(respond);
  x->clock = &clock;
  x->started = clock.now();
  x->snapshot = snapshot;
  x->line = fmt::format("{} {}", req.method_text, req.path);
  x->body = std::move(req.body);
  auto& v = x->view;
  v.method = req.method_text;
  v.target = req.target;
  for (const auto& f : req.headers.fields()) v.headers.push_back({f.name, f.value});
  v.body = x->body;
  v.peer_ip = req.peer_address;
  v.host = host_without_port(req.headers.get("host").value_or(""));
  v.port = req.local_port;
  v.epoch_ms = clock.epoch_ms();

  // A Function URL: by host, then by path prefix.
  const RouteSnapshot& s = *x->snapshot;
  const std::string host = to_lower(v.host);
  std::optional<std::string> label;
  if (host.size() > kUrlHostSuffix.size() && host.ends_with(kUrlHostSuffix)) {
    label = host.substr(0, host.size() - kUrlHostSuffix.size());
  } else if (req.path.starts_with(kUrlPathPrefix)) {
    const std::string_view rest = std::string_view(req.path).substr(kUrlPathPrefix.size());
    const auto slash = rest.find('/');
    label = std::string(rest.substr(0, slash));
    const std::string_view path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    const auto q = req.target.find('?');
    v.target = std::string(path) + (q == std::string::npos ? "" : req.target.substr(q));
  }
  if (label) {
    x->front = FrontKind::kFunctionUrl;
    const auto* url = find_url(s, *label);
    if (url == nullptr) return x->fail(FrontErrorKind::kNoRoute, fmt::format("no Function URL for '{}'", *label));
    return serve_url(x, req, *url);
  }
  x->front = s.only_rest ? FrontKind::kRestApi : FrontKind::kHttpApi;
  if (req.body_too_large) return x->fail(FrontErrorKind::kTooLarge, "the request body is over 6 MB");
  serve_api(x);
}

void Front::State::serve_url(const std::shared_ptr<Exchange>& x, const http::Request& req,
                             const config::FunctionUrl& url) {
  x->route = "URL -> " + url.function_name;
  const auto& v = x->view;
  if (url.cors) {
    const Cors cors = to_cors(*url.cors);
    if (is_preflight(FrontKind::kFunctionUrl, v)) return x->answer(preflight_answer(FrontKind::kFunctionUrl, cors, v));
    x->cors = cors_headers(FrontKind::kFunctionUrl, cors, v);
  }
  if (url.auth_type == config::FunctionUrl::AuthType::kAwsIam && options.verify_signature &&
      !options.verify_signature(req)) {
    return x->fail(FrontErrorKind::kForbidden, "AWS_IAM: the request is not signed by a key of --credentials");
  }
  if (req.body_too_large) return x->fail(FrontErrorKind::kTooLarge, "the request body is over 6 MB");
  x->request_id = ids::request_id();
  x->view.request_id = x->request_id;
  V2Settings settings;
  settings.front = FrontKind::kFunctionUrl;
  settings.account_id =
      url.auth_type == config::FunctionUrl::AuthType::kNone ? std::string("anonymous") : options.account_id;
  settings.api_id = to_lower(url.function_name);
  auto event = build_event_v2(x->view, settings, nullptr);
  dispatch(x, url.function_name, event.dump(), 0, [](const std::string& result) { return map_response_v2(result); });
}

std::vector<std::string> Front::State::path_methods(const RouteSnapshot& s, const std::string& api_id,
                                                    std::string_view path) const {
  std::vector<std::string> out;
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}) {
    auto match = s.table.match(api_id, m, path);
    if (match && match->route->path != "$default") out.emplace_back(m);
  }
  if (!out.empty()) out.emplace_back("OPTIONS");
  return out;
}

void Front::State::serve_api(const std::shared_ptr<Exchange>& x) {
  const RouteSnapshot& s = *x->snapshot;
  const auto& v = x->view;
  const auto [raw_path, raw_query] = split_target(v.target);

  // The route: a route beats $default; between routes, the API declared first.
  std::optional<RouteMatch> best;
  const config::HttpApi* best_api = nullptr;
  const config::HttpApi* preflight_api = nullptr;
  for (const auto& api : s.apis.apis) {
    if (api.kind == config::HttpApiKind::kWebSocket) continue;
    const FrontKind front = front_of(api);
    if (api.cors && preflight_api == nullptr && is_preflight(front, v) &&
        (front == FrontKind::kHttpApi || !path_methods(s, api.id, raw_path).empty())) {
      preflight_api = &api;
    }
    auto match = s.table.match(api.id, v.method, raw_path);
    if (!match) continue;
    const bool is_default = match->route->path == "$default";
    if (!best || (best->route->path == "$default" && !is_default)) {
      best = std::move(match);
      best_api = &api;
    }
  }
  if (preflight_api != nullptr) {
    x->front = front_of(*preflight_api);
    Cors cors = to_cors(*preflight_api->cors);
    if (x->front == FrontKind::kRestApi && cors.allow_methods.empty()) {
      cors.allow_methods = path_methods(s, preflight_api->id, raw_path);
    }
    x->route = "CORS preflight (" + preflight_api->id + ")";
    return x->answer(preflight_answer(x->front, cors, v));
  }
  if (!best) return x->fail(FrontErrorKind::kNoRoute, "no route matches");

  const auto& route = s.apis.routes[best->route->target.index];
  x->front = front_of(*best_api);
  x->route = fmt::format("{} -> {}", best->route_key, route.function_name);
  if (best_api->cors) x->cors = cors_headers(x->front, to_cors(*best_api->cors), v);
  x->request_id = ids::request_id();
  x->view.request_id = x->request_id;

  const auto match = std::make_shared<const RouteMatch>(std::move(*best));
  if (match->route->target.payload == PayloadVersion::kV2) {
    V2Settings settings;
    settings.front = FrontKind::kHttpApi;
    settings.account_id = options.account_id;
    settings.api_id = best_api->id;
    settings.stage = best_api->stage.empty() ? "$default" : best_api->stage;
    auto event = build_event_v2(x->view, settings, match.get());
    return dispatch(x, route.function_name, event.dump(), route.timeout_ms,
                    [](const std::string& result) { return map_response_v2(result); });
  }
  V1Settings settings;
  settings.front = x->front;
  settings.account_id = options.account_id;
  settings.api_id = best_api->id;
  settings.stage = best_api->stage;
  settings.resource_id = std::string(kRestResourceId);
  settings.binary_media_types = best_api->binary_media_types;
  auto event = build_event_v1(x->view, settings, *match);
  dispatch(x, route.function_name, event.dump(), route.timeout_ms,
           [settings, x](const std::string& result) { return map_response_v1(result, settings, x->view); });
}

void Front::State::dispatch(const std::shared_ptr<Exchange>& x, const std::string& function, std::string payload,
                            int timeout_ms, std::function<Mapped(const std::string&)> map) {
  if (payload.size() > limits::kSyncRequestPayload) {
    return x->fail(FrontErrorKind::kTooLarge, fmt::format("the event is {} bytes, over 6 MB", payload.size()));
  }
  auto made = front_invocation(dispatcher, options, clock, function, std::move(payload),
                               first_header(x->view.headers, "x-amzn-trace-id").value_or(""),
                               x->front == FrontKind::kFunctionUrl ? x->request_id : ids::request_id());
  if (auto* cause = std::get_if<std::string>(&made)) return x->fail(FrontErrorKind::kFunctionError, *cause);
  auto inv = std::get<invocation::InvocationPtr>(std::move(made));
  inv->on_complete = [x, map = std::move(map)](invocation::InvocationResult result) {
    if (x->answered) return;  // past the integration timeout already
    if (result.outcome == invocation::Outcome::kFunctionError) {
      const bool timed_out = result.error_type == error_types::kSandboxTimedout;
      constexpr std::size_t kShown = 300;  // of the error body, in the log line
      std::string_view body = result.payload;
      return x->fail(timed_out ? FrontErrorKind::kTimeout : FrontErrorKind::kFunctionError,
                     fmt::format("function error {}: {}{}", result.error_type, body.substr(0, kShown),
                                 body.size() > kShown ? "..." : ""));
    }
    auto mapped = map(result.payload);
    if (auto* error = std::get_if<FrontError>(&mapped)) {
      return x->fail(error->kind, "malformed function result: " + error->cause);
    }
    x->answer(std::move(std::get<HttpAnswer>(mapped)));
  };
  if (timeout_ms > 0) {
    x->timer = timers.make_timer();
    // The invocation owns the exchange; the timer only reaches it while it is pending.
    x->timer->arm(clock.now() + std::chrono::milliseconds(timeout_ms),
                  [weak = std::weak_ptr<Exchange>(x), timeout_ms] {
                    if (auto pending = weak.lock()) {
                      pending->fail(FrontErrorKind::kTimeout,
                                    fmt::format("past the integration timeout of {} ms", timeout_ms));
                    }
                  });
  }
  const auto admission = dispatcher.dispatch(std::move(inv));
  if (admission == invocation::Admission::kThrottledReserved) {
    x->fail(FrontErrorKind::kThrottled, "throttled: ReservedFunctionConcurrentInvocationLimitExceeded");
  } else if (admission == invocation::Admission::kThrottledAccount) {
    x->fail(FrontErrorKind::kThrottled, "throttled: ConcurrentInvocationLimitExceeded");
  }
}

Front::Front(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers, FrontOptions options)
    : state_(std::make_shared<State>(State{dispatcher, clock, timers, std::move(options), std::make_shared<RouteSnapshot>(), nullptr})) {
  state_->websockets = std::make_shared<WebSocketFront>(dispatcher, clock, timers, state_->options);
}

Front::~Front() = default;

void Front::set_routes(const config::HttpApis& apis) {
  auto s = std::make_shared<RouteSnapshot>();
  s->apis = apis;
  s->only_rest = !apis.apis.empty();
  for (const auto& api : apis.apis) s->only_rest = s->only_rest && api.kind == config::HttpApiKind::kRest;
  for (std::size_t i = 0; i < apis.routes.size(); ++i) {
    const auto& r = apis.routes[i];
    const auto* api = apis.find_api(r.api_id);
    if (api == nullptr || api->kind == config::HttpApiKind::kWebSocket) continue;
    s->table.add(Route{r.api_id, r.method, r.path,
                       RouteTarget{r.function_name,
                                   r.payload_format_version == "1.0" ? PayloadVersion::kV1 : PayloadVersion::kV2, i}});
  }
  state_->snapshot = std::move(s);
  state_->websockets->set_apis(apis);
}

void Front::handle(http::Request&& request, http::Responder respond) {
  state_->handle(std::move(request), std::move(respond));
}

http::Router Front::router() {
  http::Router router;
  router.set_fallback(
      [state = state_](http::Request&& req, http::Responder respond) {
        state->handle(std::move(req), std::move(respond));
      },
      limits::kSyncRequestPayload);
  router.set_upgrade([state = state_](http::Request&& req, http::Upgrade upgrade) {
    state->websockets->upgrade(std::move(req), std::move(upgrade), [state](http::Request&& r, http::Responder respond) {
      state->handle(std::move(r), std::move(respond));
    });
  });
  return router;
}

std::vector<std::string> Front::describe(const std::string& base_url, std::uint16_t port) const {
  const RouteSnapshot& s = *state_->snapshot;
  std::vector<std::string> out;
  for (const auto& route : s.table.routes()) {
    const auto* api = s.apis.find_api(route.api_id);
    const auto key = route.path == "$default" ? std::string("$default") : route.method + " " + route.path;
    out.push_back(fmt::format("  {} -> {} ({} {}, payload {})", key, route.target.function_name,
                              kind_name(front_of(*api)), api->id,
                              route.target.payload == PayloadVersion::kV1 ? "1.0" : "2.0"));
  }
  for (const auto& url : s.apis.urls) {
    std::string notes;
    if (url.auth_type == config::FunctionUrl::AuthType::kAwsIam) {
      notes = state_->options.verify_signature ? ", AWS_IAM: signed requests only"
                                               : ", AWS_IAM: not checked without --credentials";
    }
    if (url.invoke_mode == config::FunctionUrl::InvokeMode::kResponseStream) notes += ", RESPONSE_STREAM: buffered";
    out.push_back(fmt::format("  URL http://{}{}:{}/ -> {} (also {}/_lambda-url/{}/{})", to_lower(url.function_name),
                              kUrlHostSuffix, port, url.function_name, base_url, url.function_name, notes));
  }
  for (auto& line : state_->websockets->describe(base_url)) out.push_back(std::move(line));
  return out;
}

}  // namespace lambdad::http_front
