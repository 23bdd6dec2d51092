// config (internal): the HTTP fronts of serverless.yml: function events `http` (the REST API the
// Framework names ApiGatewayRestApi), `httpApi` (HttpApi, with provider.httpApi) and `websocket`
// (WebsocketsApi), as the same config::HttpApis a template's Api / HttpApi events give.
#include "serverless_http.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "http_reader.hpp"

namespace lambdad::config {
namespace {

using YKind = YamlValue::Kind;

constexpr std::string_view kRestApiId = "ApiGatewayRestApi";
constexpr std::string_view kHttpApiId = "HttpApi";
constexpr std::string_view kWebSocketApiId = "WebsocketsApi";

// The Framework's CORS headers for `cors: true` on an http event.
const std::vector<std::string>& default_rest_cors_headers() {
  static const std::vector<std::string> headers = {"Content-Type",         "X-Amz-Date",       "Authorization",
                                                   "X-Api-Key",            "X-Amz-Security-Token",
                                                   "X-Amz-User-Agent",     "X-Amzn-Trace-Id"};
  return headers;
}

class ServerlessHttpReader {
 public:
  ServerlessHttpReader(VariableResolver& resolver, const YamlValue& root, std::string stage, DiagnosticSink& sink)
      : resolver_(resolver), root_(root), stage_(std::move(stage)), sink_(sink) {}

  HttpApis run(const std::vector<ServerlessHttpFunction>& functions);

 private:
  std::map<std::string, std::string> names_;  // function key -> deployed name

  void read_event(const ServerlessHttpFunction& function, std::size_t index, const YamlValue& raw);
  // The resolved value at functions.<key>.events.<index>.<type>[.<key>]; nullopt when absent.
  std::optional<YamlValue> get(const ServerlessHttpFunction& f, std::size_t index, std::string_view type,
                               std::string_view key = {});
  std::optional<std::string> text(const YamlValue& v, const std::string& key, const std::string& property);
  std::optional<std::vector<std::string>> texts(const YamlValue& v, const std::string& key,
                                                const std::string& property);
  std::optional<HttpCors> cors(const YamlValue& v, const std::string& key, const std::string& property, bool rest);
  HttpApi& api(std::string_view id, HttpApiKind kind, int line);
  void add_route(const std::string& key, const std::string& property, int line, HttpRoute route);
  // The route's authorizer from an event's `authorizer`; false when it is in error (reported).
  bool route_authorizer(const std::string& key, const std::string& property, const YamlValue& v, bool rest,
                        HttpRoute& route);
  // A websocket event's `authorizer` (a function of the service, or {name, identitySource}) for
  // its $connect route; false when it is in error (reported).
  bool websocket_authorizer(const std::string& key, const std::string& property, const YamlValue& v,
                            HttpRoute& route);
  // An authorizer of `type` named `name` and run by that function of the service; nullopt (the
  // error reported at `at`) when the service has no such function.
  std::optional<HttpAuthorizer> function_authorizer(const YamlValue& at, const std::string& name, const std::string& key,
                                                    const std::string& property, HttpAuthorizer::Type type);
  // provider.httpApi.authorizers, the Lambda ones.
  std::vector<HttpAuthorizer> http_api_authorizers();
  bool path_and_method(const std::string& key, const std::string& property, const YamlValue* path,
                       const YamlValue* method, HttpRoute& route);

  VariableResolver& resolver_;
  const YamlValue& root_;
  std::string stage_;
  DiagnosticSink& sink_;
  HttpApis out_;
};

std::optional<YamlValue> ServerlessHttpReader::get(const ServerlessHttpFunction& f, std::size_t index,
                                                   std::string_view type, std::string_view key) {
  YamlPath path{"functions", f.key, "events", std::to_string(index), std::string(type)};
  if (!key.empty()) path.emplace_back(key);
  return resolver_.get(path);
}

std::optional<std::string> ServerlessHttpReader::text(const YamlValue& v, const std::string& key,
                                                      const std::string& property) {
  if (v.unresolved) return std::nullopt;  // already reported
  if (!v.is(YKind::kScalar) || !v.tag.empty()) {
    sink_.error(v.line, key, property, fmt::format("must be a string, not {}", kind_name(v)));
    return std::nullopt;
  }
  return js_text(v);
}

std::optional<std::vector<std::string>> ServerlessHttpReader::texts(const YamlValue& v, const std::string& key,
                                                                    const std::string& property) {
  if (v.is(YKind::kScalar)) {
    auto s = text(v, key, property);
    if (!s) return std::nullopt;
    return std::vector<std::string>{*s};
  }
  if (!v.is(YKind::kList)) {
    sink_.error(v.line, key, property, fmt::format("must be a list of strings, not {}", kind_name(v)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : v.items) {
    auto s = text(item, key, property);
    if (!s) return std::nullopt;
    out.push_back(std::move(*s));
  }
  return out;
}

std::optional<HttpCors> ServerlessHttpReader::cors(const YamlValue& v, const std::string& key,
                                                   const std::string& property, bool rest) {
  HttpCors cors;
  if (v.is(YKind::kScalar)) {
    auto s = text(v, key, property);
    if (!s) return std::nullopt;
    if (*s != "true" && *s != "false") {
      sink_.error(v.line, key, property, fmt::format("must be true, false or a mapping (got {})", *s));
      return std::nullopt;
    }
    if (*s == "false") return std::nullopt;
    cors.allow_origins = {"*"};
    if (rest) {
      cors.allow_headers = default_rest_cors_headers();
    } else {
      cors.allow_headers = default_rest_cors_headers();
      cors.allow_methods = {"*"};
    }
    return cors;
  }
  if (!v.is(YKind::kMap)) {
    sink_.error(v.line, key, property, fmt::format("must be true or a mapping, not {}", kind_name(v)));
    return std::nullopt;
  }
  // http: origin / origins, headers, methods, allowCredentials, maxAge;
  // provider.httpApi.cors: allowedOrigins, allowedHeaders, allowedMethods, exposedResponseHeaders, ...
  bool ok = true;
  for (const auto& entry : v.entries) {
    const std::string p = fmt::format("{}.{}", property, entry.key);
    std::vector<std::string>* list = nullptr;
    const std::string& k = entry.key;
    if (k == "origin" || k == "origins" || k == "allowedOrigins") list = &cors.allow_origins;
    if (k == "headers" || k == "allowedHeaders") list = &cors.allow_headers;
    if (k == "methods" || k == "allowedMethods") list = &cors.allow_methods;
    if (k == "exposedResponseHeaders") list = &cors.expose_headers;
    if (list != nullptr) {
      auto values = texts(entry.value, key, p);
      if (values) list->insert(list->end(), values->begin(), values->end());
      ok = ok && values.has_value();
    } else if (k == "allowCredentials") {
      auto s = text(entry.value, key, p);
      cors.allow_credentials = s && *s == "true";
      ok = ok && s.has_value();
    } else if (k == "maxAge") {
      auto s = text(entry.value, key, p);
      int seconds = -1;
      if (s) std::from_chars(s->data(), s->data() + s->size(), seconds);
      if (s && (seconds < 0 || seconds > 86400 || std::to_string(seconds) != *s)) {
        sink_.error(entry.value.line, key, p, fmt::format("must be an integer between 0 and 86400 (got {})", *s));
        s.reset();
      }
      if (s) cors.max_age_seconds = seconds;
      ok = ok && s.has_value();
    } else if (k != "cacheControl") {
      sink_.warning(entry.value.line, key, p, "unknown cors property; ignored");
    }
  }
  for (auto& m : cors.allow_methods) {
    if (m == "*") continue;
    auto method = http_method(m);
    if (!method || *method == "ANY") {
      sink_.error(v.line, key, property, fmt::format("{} is not an HTTP method", m));
      return std::nullopt;
    }
    m = *method;
  }
  if (cors.allow_origins.empty()) cors.allow_origins = {"*"};
  if (!ok) return std::nullopt;
  return cors;
}

HttpApi& ServerlessHttpReader::api(std::string_view id, HttpApiKind kind, int line) {
  for (auto& a : out_.apis) {
    if (a.id == id) return a;
  }
  HttpApi a;
  a.id = std::string(id);
  a.kind = kind;
  a.implicit = true;
  a.stage = kind == HttpApiKind::kHttp ? "$default" : stage_;
  a.line = line;
  if (kind == HttpApiKind::kWebSocket) {
    a.route_selection_expression = "$request.body.action";
    if (auto rse = resolver_.get(YamlPath{"provider", "websocketsApiRouteSelectionExpression"})) {
      if (auto s = text(*rse, "provider", "websocketsApiRouteSelectionExpression")) a.route_selection_expression = *s;
    }
  }
  if (kind == HttpApiKind::kHttp) {
    if (auto c = resolver_.get(YamlPath{"provider", "httpApi", "cors"})) a.cors = cors(*c, "provider", "httpApi.cors", false);
    a.authorizers = http_api_authorizers();
  }
  out_.apis.push_back(std::move(a));
  return out_.apis.back();
}

void ServerlessHttpReader::add_route(const std::string& key, const std::string& property, int line, HttpRoute route) {
  for (const auto& r : out_.routes) {
    if (r.api_id == route.api_id && r.method == route.method && r.path == route.path) {
      sink_.error(line, key, property,
                  fmt::format("{} {} of {} is already routed by {}", route.method, route.path, route.api_id, r.source));
      return;
    }
  }
  out_.routes.push_back(std::move(route));
}

bool ServerlessHttpReader::path_and_method(const std::string& key, const std::string& property, const YamlValue* path,
                                           const YamlValue* method, HttpRoute& route) {
  bool ok = true;
  if (method != nullptr) {
    auto s = text(*method, key, property + ".method");
    auto m = s ? http_method(*s) : std::nullopt;
    if (s && !m) sink_.error(method->line, key, property + ".method", fmt::format("{} is not an HTTP method", *s));
    if (m) route.method = *m;
    ok = m.has_value();
  }
  if (path != nullptr) {
    auto s = text(*path, key, property + ".path");
    std::string problem;
    std::optional<std::string> normal;
    if (s && *s == "*" && route.payload_format_version == "2.0") {
      normal = "$default";
    } else if (s) {
      normal = normalise_http_path(*s, problem);
      if (!normal) sink_.error(path->line, key, property + ".path", problem);
    }
    if (normal) route.path = *normal;
    ok = ok && normal.has_value();
  }
  return ok;
}

void ServerlessHttpReader::read_event(const ServerlessHttpFunction& f, std::size_t index, const YamlValue& raw) {
  if (!raw.is(YKind::kMap) || raw.entries.size() != 1) return;
  const std::string type = raw.entries.front().key;
  if (type != "http" && type != "httpApi" && type != "websocket") return;
  const YamlValue& body = raw.entries.front().value;
  const std::string property = fmt::format("events.{}.{}", index, type);
  const int line = raw.entries.front().key_line;
  HttpRoute route;
  route.function_name = f.name;
  route.source = fmt::format("{}.{}", f.key, property);
  route.line = line;

  if (type == "websocket") {
    auto v = get(f, index, type, body.is(YKind::kMap) ? "route" : "");
    if (!v) {
      sink_.error(line, f.key, property + ".route", "required property is missing");
      return;
    }
    auto key = text(*v, f.key, property + ".route");
    if (!key) return;
    route.api_id = std::string(kWebSocketApiId);
    route.method = "ANY";
    route.path = *key;
    if (body.is(YKind::kMap)) {
      if (auto rrse = get(f, index, type, "routeResponseSelectionExpression")) {
        if (!text(*rrse, f.key, property + ".routeResponseSelectionExpression")) return;
        route.route_response = true;
      }
      if (auto authorizer = get(f, index, type, "authorizer")) {
        if (!websocket_authorizer(f.key, property + ".authorizer", *authorizer, route)) return;
      }
    }
    route.payload_format_version = "1.0";
    route.timeout_ms = 29000;
    api(kWebSocketApiId, HttpApiKind::kWebSocket, line);
    add_route(f.key, property, line, std::move(route));
    return;
  }

  const bool rest = type == "http";
  route.payload_format_version = rest ? "1.0" : "2.0";
  route.timeout_ms = rest ? 29000 : 30000;
  route.api_id = std::string(rest ? kRestApiId : kHttpApiId);
  if (!rest) {
    if (auto version = resolver_.get(YamlPath{"provider", "httpApi", "payload"})) {
      auto s = text(*version, "provider", "httpApi.payload");
      if (s && *s != "1.0" && *s != "2.0") {
        sink_.error(version->line, "provider", "httpApi.payload", fmt::format("must be '1.0' or '2.0' (got {})", *s));
        return;
      }
      if (s) route.payload_format_version = *s;
    }
  }
  std::optional<HttpCors> route_cors;
  if (body.is(YKind::kScalar)) {
    // http: 'GET /path'; httpApi: '*' or 'GET /path'.
    auto s = get(f, index, type);
    auto t = s ? text(*s, f.key, property) : std::nullopt;
    if (!t) return;
    if (!rest && *t == "*") {
      route.method = "ANY";
      route.path = "$default";
    } else {
      const auto space = t->find(' ');
      if (space == std::string::npos) {
        sink_.error(s->line, f.key, property, fmt::format("must be 'METHOD /path'{} (got {})", rest ? "" : " or '*'", *t));
        return;
      }
      YamlValue method = YamlValue::scalar(t->substr(0, space), true, s->line);
      YamlValue path = YamlValue::scalar(t->substr(t->find_first_not_of(' ', space)), true, s->line);
      if (!path_and_method(f.key, property, &path, &method, route)) return;
    }
  } else if (body.is(YKind::kMap)) {
    auto path = get(f, index, type, "path");
    auto method = get(f, index, type, "method");
    if (!path || !method) {
      sink_.error(line, f.key, fmt::format("{}.{}", property, !path ? "path" : "method"), "required property is missing");
      return;
    }
    if (!path_and_method(f.key, property, &*path, &*method, route)) return;
    if (auto c = get(f, index, type, "cors"); c && rest) {
      route_cors = cors(*c, f.key, property + ".cors", true);
      if (!route_cors && !(c->is(YKind::kScalar) && js_text(*c) == "false")) return;
    }
    // An authorizer named by a variable (${cf:...}, ${ssm:...}) lives elsewhere in AWS: not run.
    if (const YamlValue* a = body.find("authorizer");
        a != nullptr && !(a->is(YKind::kScalar) && a->text.find("${") != std::string::npos)) {
      auto v = get(f, index, type, "authorizer");
      if (!v || !route_authorizer(f.key, property + ".authorizer", *v, rest, route)) return;
    }
  } else {
    sink_.error(body.line, f.key, property, fmt::format("must be a string or a mapping, not {}", kind_name(body)));
    return;
  }
  if (!rest && route.path == "$default" && route.method != "ANY") {
    sink_.error(line, f.key, property, "the $default route takes every method (*)");
    return;
  }
  HttpApi& a = api(route.api_id, rest ? HttpApiKind::kRest : HttpApiKind::kHttp, line);
  if (route_cors) {
    // The Framework sets CORS per path; the local REST API answers preflights for all of them.
    if (!a.cors) a.cors = HttpCors{};
    for (auto [from, to] : {std::pair{&route_cors->allow_origins, &a.cors->allow_origins},
                            std::pair{&route_cors->allow_headers, &a.cors->allow_headers},
                            std::pair{&route_cors->allow_methods, &a.cors->allow_methods}}) {
      for (auto& item : *from) {
        if (std::find(to->begin(), to->end(), item) == to->end()) to->push_back(item);
      }
    }
    a.cors->allow_credentials = a.cors->allow_credentials || route_cors->allow_credentials;
    if (route_cors->max_age_seconds) a.cors->max_age_seconds = route_cors->max_age_seconds;
  }
  add_route(f.key, property, line, std::move(route));
}

std::vector<HttpAuthorizer> ServerlessHttpReader::http_api_authorizers() {
  std::vector<HttpAuthorizer> out;
  auto section = resolver_.get(YamlPath{"provider", "httpApi", "authorizers"});
  if (!section || !section->is(YKind::kMap)) return out;
  for (const auto& entry : section->entries) {
    const std::string property = "httpApi.authorizers." + entry.key;
    const YamlValue& v = entry.value;
    const YamlValue* type = v.find("type");
    if (!v.is(YKind::kMap) || type == nullptr || js_text(*type) != "request") {
      sink_.warning(v.line, "provider", property,
                    "only Lambda authorizers (type: request) are run locally; routes using this one are served "
                    "without authorization");
      continue;
    }
    HttpAuthorizer a;
    a.name = entry.key;
    a.type = HttpAuthorizer::Type::kRequest;
    a.payload_format_version = "2.0";
    const YamlValue* function = v.find("functionName");
    auto fn = function != nullptr ? text(*function, "provider", property + ".functionName") : std::nullopt;
    if (!fn || !names_.contains(*fn)) {
      if (fn || function == nullptr) {
        sink_.error(v.line, "provider", property + ".functionName",
                    fn ? fmt::format("{} is not a function of this service", *fn)
                       : std::string("required property is missing (functionArn is not run locally)"));
      }
      continue;
    }
    a.function_name = names_.at(*fn);
    if (const YamlValue* version = v.find("payloadVersion")) {
      auto s = text(*version, "provider", property + ".payloadVersion");
      if (s && *s != "1.0" && *s != "2.0") {
        sink_.error(version->line, "provider", property + ".payloadVersion",
                    fmt::format("must be '1.0' or '2.0' (got {})", *s));
        continue;
      }
      if (s) a.payload_format_version = *s;
    }
    if (const YamlValue* simple = v.find("enableSimpleResponses")) a.simple_responses = js_text(*simple) == "true";
    if (const YamlValue* sources = v.find("identitySource")) {
      for (const auto& s : texts(*sources, "provider", property + ".identitySource").value_or(std::vector<std::string>{})) {
        if (s.starts_with("$request.header.")) a.identity_headers.push_back(s.substr(16));
        if (s.starts_with("$request.querystring.")) a.identity_query_strings.push_back(s.substr(21));
        if (s.starts_with("$stageVariables.")) a.identity_stage_variables.push_back(s.substr(16));
        if (s.starts_with("$context.")) a.identity_context.push_back(s.substr(9));
      }
    }
    // As for a template's HTTP API: 300 s, unless there are no identity sources to key a cache on.
    const bool none = a.identity_headers.empty() && a.identity_query_strings.empty() &&
                      a.identity_stage_variables.empty() && a.identity_context.empty();
    a.ttl_seconds = none ? 0 : 300;
    if (const YamlValue* ttl = v.find("resultTtlInSeconds")) {
      int seconds = 0;
      const std::string t = js_text(*ttl);
      std::from_chars(t.data(), t.data() + t.size(), seconds);
      a.ttl_seconds = std::clamp(seconds, 0, 3600);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::optional<HttpAuthorizer> ServerlessHttpReader::function_authorizer(const YamlValue& at, const std::string& name,
                                                                       const std::string& key,
                                                                       const std::string& property,
                                                                       HttpAuthorizer::Type type) {
  if (!names_.contains(name)) {
    sink_.error(at.line, key, property, fmt::format("{} is not a function of this service", name));
    return std::nullopt;
  }
  HttpAuthorizer a;
  a.name = name;
  a.function_name = names_.at(name);
  a.type = type;
  return a;
}

bool ServerlessHttpReader::route_authorizer(const std::string& key, const std::string& property, const YamlValue& v,
                                            bool rest, HttpRoute& route) {
  const YamlValue* name = v.is(YKind::kMap) ? v.find("name") : &v;
  if (name == nullptr || (v.is(YKind::kMap) && v.find("arn") != nullptr)) {
    // {arn: ...} or {type: aws_iam}: an authorizer elsewhere in AWS, or IAM.
    sink_.warning(v.line, key, property,
                  "only authorizer functions of this service are run locally; the route is served without one");
    return true;
  }
  auto n = text(*name, key, property);
  if (!n) return false;
  if (!rest) {
    HttpApi& a = api(kHttpApiId, HttpApiKind::kHttp, v.line);
    const bool known = std::any_of(a.authorizers.begin(), a.authorizers.end(),
                                   [&](const HttpAuthorizer& x) { return x.name == *n; });
    if (!known) {
      sink_.warning(name->line, key, property,
                    fmt::format("{} is not a Lambda authorizer of provider.httpApi.authorizers; the route is served "
                                "without one",
                                *n));
      return true;
    }
    route.authorizer = *n;
    return true;
  }
  if (*n == "aws_iam" || n->starts_with("arn:")) {
    sink_.warning(name->line, key, property,
                  "only authorizer functions of this service are run locally; the route is served without one");
    return true;
  }
  auto made = function_authorizer(*name, *n, key, property, HttpAuthorizer::Type::kToken);
  if (!made) return false;
  HttpAuthorizer& a = *made;
  if (v.is(YKind::kMap)) {
    if (const YamlValue* type = v.find("type")) {
      const std::string t = js_text(*type);
      if (t == "request" || t == "REQUEST") {
        a.type = HttpAuthorizer::Type::kRequest;
      } else if (t != "token" && t != "TOKEN") {
        sink_.error(type->line, key, property + ".type", fmt::format("must be token or request (got {})", t));
        return false;
      }
    }
    if (const YamlValue* expression = v.find("identityValidationExpression")) {
      // A TOKEN authorizer's token must match it whole (else 401 without an invoke), as in SAM's
      // Identity.ValidationExpression; REQUEST authorizers have none in API Gateway.
      auto e = text(*expression, key, property + ".identityValidationExpression");
      if (!e) return false;
      a.validation_expression = *e;
    }
    if (const YamlValue* ttl = v.find("resultTtlInSeconds")) {
      int seconds = 0;
      const std::string t = js_text(*ttl);
      std::from_chars(t.data(), t.data() + t.size(), seconds);
      a.ttl_seconds = std::clamp(seconds, 0, 3600);
    }
    if (const YamlValue* sources = v.find("identitySource")) {
      // method.request.header.Authorization, method.request.querystring.token (comma separated)
      auto s = text(*sources, key, property + ".identitySource");
      if (s) {
        std::size_t pos = 0;
        while (pos < s->size()) {
          std::size_t comma = std::min(s->find(',', pos), s->size());
          std::string item = s->substr(pos, comma - pos);
          item.erase(0, item.find_first_not_of(' '));
          if (item.starts_with("method.request.header.")) a.identity_headers.push_back(item.substr(22));
          if (item.starts_with("method.request.querystring.")) a.identity_query_strings.push_back(item.substr(27));
          if (item.starts_with("stageVariables.")) a.identity_stage_variables.push_back(item.substr(15));
          if (item.starts_with("context.")) a.identity_context.push_back(item.substr(8));
          pos = comma + 1;
        }
      }
    }
  }
  if (a.type == HttpAuthorizer::Type::kToken && a.identity_headers.empty()) a.identity_headers = {"Authorization"};
  HttpApi& rest_api = api(kRestApiId, HttpApiKind::kRest, v.line);
  if (std::none_of(rest_api.authorizers.begin(), rest_api.authorizers.end(),
                   [&](const HttpAuthorizer& x) { return x.name == a.name; })) {
    rest_api.authorizers.push_back(std::move(a));
  }
  route.authorizer = *n;
  return true;
}

bool ServerlessHttpReader::websocket_authorizer(const std::string& key, const std::string& property, const YamlValue& v,
                                                HttpRoute& route) {
  const YamlValue* name = v.is(YKind::kMap) ? v.find("name") : &v;
  if (name == nullptr || (v.is(YKind::kMap) && v.find("arn") != nullptr)) {
    sink_.warning(v.line, key, property,
                  "only authorizer functions of this service are run locally; the route is served without one");
    return true;
  }
  if (route.path != "$connect") {
    sink_.error(v.line, key, property, "only the $connect route of a websocket API takes an authorizer");
    return false;
  }
  auto n = text(*name, key, property);
  if (!n) return false;
  auto made = function_authorizer(*name, *n, key, property, HttpAuthorizer::Type::kRequest);
  if (!made) return false;
  HttpAuthorizer& a = *made;
  a.ttl_seconds = 0;  // API Gateway does not cache WebSocket authorizers' results
  std::vector<std::string> sources = {"route.request.header.Auth"};  // the Framework's default
  if (const YamlValue* given = v.is(YKind::kMap) ? v.find("identitySource") : nullptr) {
    auto list = texts(*given, key, property + ".identitySource");
    if (!list) return false;
    sources = std::move(*list);
  }
  for (const auto& source : sources) {
    if (!add_websocket_identity_source(source, a)) {
      sink_.warning(v.line, key, property + ".identitySource",
                    fmt::format("{} is not checked locally (only route.request.header.<name>, "
                                "route.request.querystring.<name>, stageVariables.<name> and context.<name> are)",
                                source));
    }
  }
  HttpApi& ws = api(kWebSocketApiId, HttpApiKind::kWebSocket, v.line);
  if (std::none_of(ws.authorizers.begin(), ws.authorizers.end(), [&](const HttpAuthorizer& x) { return x.name == a.name; })) {
    ws.authorizers.push_back(std::move(a));
  }
  route.authorizer = *n;
  return true;
}

HttpApis ServerlessHttpReader::run(const std::vector<ServerlessHttpFunction>& functions) {
  for (const auto& f : functions) names_[f.key] = f.name;
  const YamlValue* section = root_.find("functions");
  if (section == nullptr || !section->is(YKind::kMap)) return {};
  for (const auto& f : functions) {
    const YamlValue* definition = section->find(f.key);
    const YamlValue* events = definition != nullptr ? definition->find("events") : nullptr;
    if (events == nullptr || !events->is(YKind::kList)) continue;
    for (std::size_t i = 0; i < events->items.size(); ++i) read_event(f, i, events->items[i]);
  }
  return std::move(out_);
}

}  // namespace

HttpApis read_serverless_http(VariableResolver& resolver, const YamlValue& root, const std::string& stage,
                              const std::vector<ServerlessHttpFunction>& functions, DiagnosticSink& sink) {
  return ServerlessHttpReader(resolver, root, stage, sink).run(functions);
}

}  // namespace lambdad::config
