#include "lambdad/http_front/front.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/http_front/authorizer.hpp"
#include "lambdad/http_front/cors.hpp"
#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/payload_v1.hpp"
#include "lambdad/http_front/payload_v2.hpp"
#include "lambdad/http_front/request_view.hpp"
#include "lambdad/http_front/route_table.hpp"
#include "lambdad/http_front/url_stream.hpp"
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

// The API whose CORS answers the preflight `v` (nullptr: none does; the request is routed). Among
// the APIs with CORS that take `v` as a preflight, the one whose resource for the path (its most
// specific route, of any method) is the most specific answers; alike, the API declared first. An
// HTTP API answers preflights on every path; a REST API (SAM's OPTIONS mock per path) only on paths
// it has, and not when that path declares OPTIONS itself: SAM adds no mock there, the route serves it.
const config::HttpApi* preflight_api_for(const RouteSnapshot& s, const RequestView& v, std::string_view path) {
  const config::HttpApi* chosen = nullptr;
  std::optional<RouteMatch> chosen_resource;
  for (const auto& api : s.apis.apis) {
    if (api.kind == config::HttpApiKind::kWebSocket || !api.cors || !is_preflight(front_of(api), v)) continue;
    auto resource = s.table.match(api.id, "", path);
    if (api.kind == config::HttpApiKind::kRest && !resource) continue;
    if (chosen == nullptr || (resource && (!chosen_resource || outranks(*resource, *chosen_resource)))) {
      chosen = &api;
      chosen_resource = std::move(resource);
    }
  }
  if (chosen == nullptr || chosen->kind != config::HttpApiKind::kRest) return chosen;
  const auto& resource_path = chosen_resource->route->path;
  for (const auto& route : s.table.routes()) {
    if (route.api_id == chosen->id && route.method == "OPTIONS" && route.path == resource_path) return nullptr;
  }
  return chosen;
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
  // A RESPONSE_STREAM URL: the alias it invokes, and the function's stream while it arrives.
  std::string qualifier = "$LATEST";
  bool streams = false;
  std::string stream_type;  // the Content-Type the runtime declared for its stream
  std::string stream_head;  // the stream's first bytes, until the answer's head is known
  std::shared_ptr<http::ResponseStream> stream;  // once the head went out

  void answer(HttpAnswer a, const std::string& cause = {}) {
    if (answered) return;
    respond(response_of(std::move(a), cause));
  }
  // Sends `head` (status and headers; its body is the first chunk) and keeps the stream open.
  void open_stream(HttpAnswer head) {
    if (answered) return;
    std::string first = std::move(head.body);
    head.body.clear();
    stream = respond.stream(response_of(std::move(head), {}, " streaming"));
    if (stream && !first.empty()) stream->write(std::move(first));
  }
  void fail(FrontErrorKind kind, const std::string& cause) { answer(render_error(front, kind), cause); }

 private:
  http::Response response_of(HttpAnswer a, const std::string& cause, std::string_view note = {}) {
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
      log->info("API {} -> {} ({}{:.1f} ms{})", line, r.status, where, ms, note);
    } else {
      log->warn("API {} -> {} ({}{:.1f} ms): {}", line, r.status, where, ms, cause);
    }
    return r;
  }
};

// A RESPONSE_STREAM URL's answer follows the function's stream: the head once read_stream_head
// knows it, then each piece as one chunk, the function's upload resumed once it is written.
void take_piece(const std::shared_ptr<Exchange>& x, std::string piece, std::function<void()> resume) {
  if (x->stream) return x->stream->write(std::move(piece), [resume = std::move(resume)](bool) { resume(); });
  if (x->answered) return resume();  // a malformed head was answered: the rest is dropped
  x->stream_head += piece;
  auto head = read_stream_head(x->stream_type, x->stream_head, false);
  if (head) {
    x->stream_head.clear();
    if (auto* error = std::get_if<FrontError>(&*head)) {
      x->fail(error->kind, "malformed function stream: " + error->cause);
    } else {
      x->open_stream(std::move(std::get<HttpAnswer>(*head)));
    }
  }
  resume();
}

void end_stream(const std::shared_ptr<Exchange>& x, invocation::InvocationResult& result) {
  if (result.outcome == invocation::Outcome::kFunctionError) {
    observability::daemon_log()->warn("API {}: the function failed mid-stream ({}); the connection is closed", x->line,
                                      result.error_type);
    x->stream.reset();  // dropped without end(): the client sees a truncated body
    return;
  }
  x->stream->end();
  x->stream.reset();
}

}  // namespace

struct Front::State {
  invocation::Dispatcher& dispatcher;
  const Clock& clock;
  Timers& timers;
  FrontOptions options;
  std::shared_ptr<const RouteSnapshot> snapshot = std::make_shared<RouteSnapshot>();
  AuthorizerCache authorizer_cache{clock};
  std::weak_ptr<State> self{};  // for completions that may outlive the front
  // The catalogue's Function URLs by host label (config::function_url_label).
  std::map<std::string, config::FunctionUrl> urls{};
  std::shared_ptr<WebSocketFront> websockets{};  // the WebSocket APIs and @connections

  // The URL `label` names (a host label or a path segment): an exact label, else a name the
  // dispatcher knows for a function with a URL of its own. nullopt: none.
  std::optional<config::FunctionUrl> find_url(std::string_view label) const {
    if (auto it = urls.find(to_lower(label)); it != urls.end()) return it->second;
    const std::string resolved = dispatcher.function_for(std::string(label));
    if (auto it = urls.find(config::function_url_label(resolved, "")); it != urls.end()) return it->second;
    return std::nullopt;
  }

  void handle(http::Request&& req, http::Responder respond);
  void serve_url(const std::shared_ptr<Exchange>& x, const http::Request& req, const config::FunctionUrl& url);
  void serve_api(const std::shared_ptr<Exchange>& x);
  std::vector<std::string> path_methods(const RouteSnapshot& s, const std::string& api_id, std::string_view path) const;
  void dispatch(const std::shared_ptr<Exchange>& x, const std::string& function, std::string payload, int timeout_ms,
                std::function<Mapped(const std::string&)> map);
  // An invocation of `function` for `x`, or nullptr when `x` has been answered (`refused` for a
  // function that cannot be invoked).
  invocation::InvocationPtr new_invocation(const std::shared_ptr<Exchange>& x, const std::string& function,
                                           const std::string& qualifier, std::string payload, FrontErrorKind refused);
  void admit(const std::shared_ptr<Exchange>& x, invocation::InvocationPtr inv, FrontErrorKind throttled);
  // Runs the route's Lambda authorizer; `proceed` gets requestContext.authorizer when it allows.
  void authorize(const std::shared_ptr<Exchange>& x, const config::HttpApi& api, const config::HttpAuthorizer& authorizer,
                 const std::shared_ptr<const RouteMatch>& match, const nlohmann::json& route_event,
                 std::function<void(nlohmann::json)> proceed);
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
    const auto url = find_url(*label);
    if (!url) return x->fail(FrontErrorKind::kNoRoute, fmt::format("no Function URL for '{}'", *label));
    return serve_url(x, req, *url);
  }
  x->front = s.only_rest ? FrontKind::kRestApi : FrontKind::kHttpApi;
  if (req.body_too_large) return x->fail(FrontErrorKind::kTooLarge, "the request body is over 6 MB");
  serve_api(x);
}

void Front::State::serve_url(const std::shared_ptr<Exchange>& x, const http::Request& req,
                             const config::FunctionUrl& url) {
  x->route = "URL -> " + url.function_name + (url.qualifier.empty() ? "" : ":" + url.qualifier);
  if (!url.qualifier.empty()) x->qualifier = url.qualifier;
  x->streams = url.invoke_mode == config::FunctionUrl::InvokeMode::kResponseStream;
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
  settings.api_id = config::function_url_label(url.function_name, url.qualifier);
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

  // The route: the most specific across the APIs (a route beats $default); alike, the API declared first.
  std::optional<RouteMatch> best;
  const config::HttpApi* best_api = nullptr;
  for (const auto& api : s.apis.apis) {
    if (api.kind == config::HttpApiKind::kWebSocket) continue;
    auto match = s.table.match(api.id, v.method, raw_path);
    if (match && (!best || outranks(*match, *best))) {
      best = std::move(match);
      best_api = &api;
    }
  }
  const config::HttpApi* preflight_api = preflight_api_for(s, v, raw_path);
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
  std::function<Mapped(const std::string&)> map;
  nlohmann::json event;
  if (match->route->target.payload == PayloadVersion::kV2) {
    V2Settings settings;
    settings.front = FrontKind::kHttpApi;
    settings.account_id = options.account_id;
    settings.api_id = best_api->id;
    settings.stage = best_api->stage.empty() ? "$default" : best_api->stage;
    settings.stage_variables = best_api->stage_variables;
    event = build_event_v2(x->view, settings, match.get());
    map = [](const std::string& result) { return map_response_v2(result); };
  } else {
    V1Settings settings;
    settings.front = x->front;
    settings.account_id = options.account_id;
    settings.api_id = best_api->id;
    settings.stage = best_api->stage;
    settings.resource_id = std::string(kRestResourceId);
    settings.stage_variables = best_api->stage_variables;
    settings.binary_media_types = best_api->binary_media_types;
    event = build_event_v1(x->view, settings, *match);
    map = [settings, x](const std::string& result) { return map_response_v1(result, settings, x->view); };
  }
  const auto authorizer = std::find_if(best_api->authorizers.begin(), best_api->authorizers.end(),
                                       [&](const config::HttpAuthorizer& a) { return a.name == route.authorizer; });
  if (route.authorizer.empty() || authorizer == best_api->authorizers.end()) {
    return dispatch(x, route.function_name, event.dump(), route.timeout_ms, std::move(map));
  }
  authorize(x, *best_api, *authorizer, match, event,
            [self = self, x, event, function = route.function_name, timeout_ms = route.timeout_ms,
             map = std::move(map)](nlohmann::json context) mutable {
              event["requestContext"]["authorizer"] = std::move(context);
              if (auto state = self.lock()) state->dispatch(x, function, event.dump(), timeout_ms, std::move(map));
            });
}

void Front::State::authorize(const std::shared_ptr<Exchange>& x, const config::HttpApi& api,
                             const config::HttpAuthorizer& authorizer, const std::shared_ptr<const RouteMatch>& match,
                             const nlohmann::json& route_event, std::function<void(nlohmann::json)> proceed) {
  const auto& v = x->view;
  const bool token = authorizer.type == config::HttpAuthorizer::Type::kToken;
  const std::string name = fmt::format("authorizer {}", authorizer.name);
  auto identity = identity_values(authorizer, v, IdentityScope{&api.stage_variables, &route_event.at("requestContext")});
  if (!identity) return x->fail(FrontErrorKind::kUnauthorized, name + ": an identity source is missing");
  if (token && !token_matches(authorizer.validation_expression, identity->front())) {
    return x->fail(FrontErrorKind::kUnauthorized, name + ": the token does not match its ValidationExpression");
  }
  const bool rest = x->front == FrontKind::kRestApi;
  const auto payload = match->route->target.payload;
  const std::string stage = rest ? api.stage : (api.stage.empty() ? "$default" : api.stage);
  const std::string arn = execute_api_arn(options.region, options.account_id, api.id, stage, v.method,
                                          split_target(v.target).first);
  // When allowed: the route's function, with what the authorizer said.
  auto conclude = [x, arn, name, proceed = std::move(proceed), payload](const AuthorizerResult& result,
                                                                       std::int64_t latency_ms) {
    switch (decide(result, arn)) {
      case Decision::kAllow:
        return proceed(authorizer_context(result, payload, latency_ms));
      case Decision::kExplicitDeny:
        return x->fail(FrontErrorKind::kExplicitDeny, name + ": a Deny statement matches " + arn);
      case Decision::kNotAllowed:
        return x->fail(FrontErrorKind::kForbidden, name + ": not allowed on " + arn);
    }
  };
  const bool cached = authorizer.ttl_seconds > 0 && !identity->empty();
  const std::string key = AuthorizerCache::key(api.id, authorizer.name, *identity);
  if (cached) {
    if (const auto* result = authorizer_cache.find(key)) return conclude(*result, 0);
  }

  // An HTTP API authorizer has its own payload version, whatever the route's integration uses.
  nlohmann::json event;
  if (token) {
    event = token_event(identity->front(), arn);
  } else if (rest) {
    event = request_event_v1(route_event, arn, *identity, false);
  } else if (authorizer.payload_format_version == "1.0") {
    const V1Settings settings{FrontKind::kHttpApi, options.account_id, api.id, stage, std::string(kRestResourceId),
                              api.stage_variables, {}};
    event = request_event_v1(payload == PayloadVersion::kV1 ? route_event : build_event_v1(v, settings, *match), arn,
                             *identity, true);
  } else {
    const V2Settings settings{FrontKind::kHttpApi, options.account_id, api.id, stage, api.stage_variables};
    event = request_event_v2(payload == PayloadVersion::kV2 ? route_event : build_event_v2(v, settings, match.get()),
                             arn, *identity);
  }
  auto inv = new_invocation(x, authorizer.function_name, "$LATEST", event.dump(), FrontErrorKind::kAuthorizerFailure);
  if (!inv) return;
  const auto style = rest ? AuthorizerStyle::kRestPolicy
                          : (authorizer.simple_responses ? AuthorizerStyle::kHttpSimple : AuthorizerStyle::kHttpPolicy);
  inv->on_complete = [self = self, x, name, key, cached, ttl = authorizer.ttl_seconds, style, started = clock.now(),
                      conclude = std::move(conclude)](invocation::InvocationResult r) {
    auto state = self.lock();
    if (!state || x->answered) return;
    if (r.outcome == invocation::Outcome::kFunctionError) {
      return x->fail(authorizer_error_kind(x->front, r.payload),
                     fmt::format("{} failed: {} {}", name, r.error_type, r.payload.substr(0, 300)));
    }
    auto parsed = parse_authorizer_result(r.payload, style);
    if (auto* error = std::get_if<FrontError>(&parsed)) {
      return x->fail(error->kind, fmt::format("{}: malformed result: {}", name, error->cause));
    }
    auto& result = std::get<AuthorizerResult>(parsed);
    if (cached) state->authorizer_cache.store(key, result, ttl);
    conclude(result, std::chrono::duration_cast<std::chrono::milliseconds>(state->clock.now() - started).count());
  };
  admit(x, std::move(inv), FrontErrorKind::kAuthorizerFailure);
}

void Front::State::dispatch(const std::shared_ptr<Exchange>& x, const std::string& function, std::string payload,
                            int timeout_ms, std::function<Mapped(const std::string&)> map) {
  auto inv = new_invocation(x, function, x->qualifier, std::move(payload), FrontErrorKind::kFunctionError);
  if (!inv) return;
  if (x->streams) {
    inv->on_stream_start = [x](const std::string& content_type) { x->stream_type = content_type; };
    inv->on_chunk = [x](std::string piece, std::function<void()> resume) {
      take_piece(x, std::move(piece), std::move(resume));
    };
  }
  inv->on_complete = [x, map = std::move(map)](invocation::InvocationResult result) {
    if (x->stream) return end_stream(x, result);
    if (x->answered) return;  // past the integration timeout already
    if (result.outcome == invocation::Outcome::kFunctionError) {
      const bool timed_out = result.error_type == error_types::kSandboxTimedout;
      constexpr std::size_t kShown = 300;  // of the error body, in the log line
      std::string_view body = result.payload;
      return x->fail(timed_out ? FrontErrorKind::kTimeout : FrontErrorKind::kFunctionError,
                     fmt::format("function error {}: {}{}", result.error_type, body.substr(0, kShown),
                                 body.size() > kShown ? "..." : ""));
    }
    // A stream that never sent its head (short, or not streamed at all) is answered whole.
    auto mapped = !x->streams ? map(result.payload)
                  : result.streamed ? *read_stream_head(x->stream_type, x->stream_head, true)
                                    : *read_stream_head(result.content_type, result.payload, true);
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
  admit(x, std::move(inv), FrontErrorKind::kThrottled);
}

invocation::InvocationPtr Front::State::new_invocation(const std::shared_ptr<Exchange>& x, const std::string& function,
                                                       const std::string& qualifier, std::string payload,
                                                       FrontErrorKind refused) {
  if (payload.size() > limits::kSyncRequestPayload) {
    x->fail(FrontErrorKind::kTooLarge, fmt::format("the event is {} bytes, over 6 MB", payload.size()));
    return nullptr;
  }
  auto made = front_invocation(
      dispatcher, options, clock,
      FrontCall{function, qualifier, std::move(payload), first_header(x->view.headers, "x-amzn-trace-id").value_or(""),
                x->front == FrontKind::kFunctionUrl ? x->request_id : ids::request_id(),
                first_header(x->view.headers, "x-amz-tenant-id")});
  if (auto* cause = std::get_if<std::string>(&made)) {
    x->fail(refused, *cause);
    return nullptr;
  }
  return std::get<invocation::InvocationPtr>(std::move(made));
}

void Front::State::admit(const std::shared_ptr<Exchange>& x, invocation::InvocationPtr inv, FrontErrorKind throttled) {
  const auto admission = dispatcher.dispatch(std::move(inv));
  if (admission == invocation::Admission::kThrottledReserved) {
    x->fail(throttled, "throttled: ReservedFunctionConcurrentInvocationLimitExceeded");
  } else if (admission == invocation::Admission::kThrottledAccount) {
    x->fail(throttled, "throttled: ConcurrentInvocationLimitExceeded");
  }
}

Front::Front(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers, FrontOptions options)
    : state_(std::make_shared<State>(State{dispatcher, clock, timers, std::move(options)})) {
  state_->self = state_;
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
  state_->authorizer_cache.clear();  // the authorizers may have changed
}

void Front::put_url(const config::FunctionUrl& url) {
  state_->urls[config::function_url_label(url.function_name, url.qualifier)] = url;
}

void Front::remove_url(const std::string& function_name, const std::string& qualifier) {
  state_->urls.erase(config::function_url_label(function_name, qualifier));
}

void Front::remove_urls(const std::string& function_name) {
  std::erase_if(state_->urls, [&](const auto& entry) { return entry.second.function_name == function_name; });
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
    const auto& authorizer = s.apis.routes[route.target.index].authorizer;
    out.push_back(fmt::format("  {} -> {} ({} {}, payload {}{})", key, route.target.function_name,
                              kind_name(front_of(*api)), api->id,
                              route.target.payload == PayloadVersion::kV1 ? "1.0" : "2.0",
                              authorizer.empty() ? "" : ", authorizer " + authorizer));
  }
  for (const auto& [label, url] : state_->urls) {
    std::string notes;
    if (url.auth_type == config::FunctionUrl::AuthType::kAwsIam) {
      notes = state_->options.verify_signature ? ", AWS_IAM: signed requests only"
                                               : ", AWS_IAM: not checked without --credentials";
    }
    if (url.invoke_mode == config::FunctionUrl::InvokeMode::kResponseStream) notes += ", RESPONSE_STREAM";
    const std::string target = url.function_name + (url.qualifier.empty() ? "" : ":" + url.qualifier);
    out.push_back(fmt::format("  URL http://{}{}:{}/ -> {} (also {}/_lambda-url/{}/{})", label, kUrlHostSuffix, port,
                              target, base_url, label, notes));
  }
  for (auto& line : state_->websockets->describe(base_url)) out.push_back(std::move(line));
  return out;
}

}  // namespace lambdad::http_front
