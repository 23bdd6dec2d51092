#include "lambdad/http_front/authorizer.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include "payload_common.hpp"

namespace lambdad::http_front {

using nlohmann::json;

namespace {

FrontError failure(std::string cause) { return FrontError{FrontErrorKind::kAuthorizerFailure, std::move(cause)}; }

std::string joined(const std::vector<std::string>& values, char sep) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += sep;
    out += v;
  }
  return out;
}

// A policy member that IAM allows as one string or a list of strings.
std::optional<std::vector<std::string>> strings(const json& value) {
  if (value.is_string()) return std::vector<std::string>{value.get<std::string>()};
  if (!value.is_array() || value.empty()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : value) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::optional<FrontError> read_policy(const json& doc, AuthorizerResult& out) {
  const auto principal = doc.find("principalId");
  if (principal == doc.end() || !principal->is_string()) return failure("principalId is missing or not a string");
  out.principal_id = principal->get<std::string>();
  const auto policy = doc.find("policyDocument");
  if (policy == doc.end() || !policy->is_object()) return failure("policyDocument is missing or not an object");
  const auto statement = policy->find("Statement");
  if (statement == policy->end() || !(statement->is_object() || statement->is_array())) {
    return failure("policyDocument.Statement is missing or not a statement list");
  }
  const json list = statement->is_object() ? json::array({*statement}) : *statement;
  for (const auto& s : list) {
    if (!s.is_object()) return failure("a policy statement is not an object");
    PolicyStatement ps;
    const auto effect = s.find("Effect");
    if (effect == s.end() || !effect->is_string() || (*effect != "Allow" && *effect != "Deny")) {
      return failure("a policy statement's Effect is not Allow or Deny");
    }
    ps.allow = *effect == "Allow";
    const auto action = s.find("Action");
    auto actions = action == s.end() ? std::nullopt : strings(*action);
    if (!actions) return failure("a policy statement's Action is missing or not a string list");
    const auto resource = s.find("Resource");
    auto resources = resource == s.end() ? std::nullopt : strings(*resource);
    if (!resources) return failure("a policy statement's Resource is missing or not a string list");
    ps.actions = std::move(*actions);
    ps.resources = std::move(*resources);
    out.statements.push_back(std::move(ps));
  }
  return std::nullopt;
}

std::optional<FrontError> read_context(const json& doc, bool rest, AuthorizerResult& out) {
  const auto context = doc.find("context");
  if (context == doc.end() || context->is_null()) return std::nullopt;
  if (!context->is_object()) return failure("context is not an object");
  if (!rest) {
    out.context = *context;
    return std::nullopt;
  }
  out.context = json::object();
  for (const auto& [key, value] : context->items()) {
    if (value.is_null()) continue;
    if (value.is_string()) {
      out.context[key] = value;
    } else if (value.is_number() || value.is_boolean()) {
      out.context[key] = value.dump();
    } else {
      return failure("context." + key + " is an object or array");
    }
  }
  return std::nullopt;
}

bool action_matches(const PolicyStatement& s) {
  return std::any_of(s.actions.begin(), s.actions.end(),
                     [](const std::string& a) { return wildcard_match(a, "execute-api:Invoke", /*ignore_case=*/true); });
}

bool resource_matches(const PolicyStatement& s, std::string_view arn) {
  return std::any_of(s.resources.begin(), s.resources.end(),
                     [&](const std::string& r) { return wildcard_match(r, arn); });
}

}  // namespace

std::optional<std::string> context_variable(const nlohmann::json& request_context, std::string_view name) {
  std::string path(name);
  if (request_context.contains("http")) {  // payload 2.0 keeps the request's own values under http
    if (path == "identity.sourceIp") path = "http.sourceIp";
    if (path == "identity.userAgent") path = "http.userAgent";
    if (path == "httpMethod") path = "http.method";
    if (path == "path") path = "http.path";
  }
  const json* at = find_path(request_context, path);
  if (at == nullptr) return std::nullopt;
  if (at->is_string()) return at->get<std::string>();
  if (at->is_number() || at->is_boolean()) return at->dump();
  return std::nullopt;
}

std::optional<std::vector<std::string>> identity_values(const config::HttpAuthorizer& authorizer,
                                                        const RequestView& request, IdentityScope scope) {
  const bool token = authorizer.type == config::HttpAuthorizer::Type::kToken;
  std::vector<std::string> out;
  for (const auto& name : authorizer.identity_headers) {
    auto values = header_values(request.headers, name);
    if (values.empty()) return std::nullopt;
    std::string value = token ? values.back() : joined(values, ',');
    if (value.empty()) return std::nullopt;
    out.push_back(std::move(value));
  }
  if (!authorizer.identity_query_strings.empty()) {
    const auto pairs = parse_query(split_target(request.target).second);
    for (const auto& name : authorizer.identity_query_strings) {
      std::optional<std::string> value;
      for (const auto& [k, v] : pairs) {
        if (k == name) value = v;
      }
      if (!value || value->empty()) return std::nullopt;
      out.push_back(std::move(*value));
    }
  }
  for (const auto& name : authorizer.identity_stage_variables) {
    if (scope.stage_variables == nullptr) return std::nullopt;
    const auto it = scope.stage_variables->find(name);
    if (it == scope.stage_variables->end() || it->second.empty()) return std::nullopt;
    out.push_back(it->second);
  }
  for (const auto& name : authorizer.identity_context) {
    auto value = scope.request_context ? context_variable(*scope.request_context, name) : std::nullopt;
    if (!value || value->empty()) return std::nullopt;
    out.push_back(std::move(*value));
  }
  return out;
}

bool token_matches(const std::string& expression, const std::string& token) {
  if (expression.empty()) return true;
  try {
    return std::regex_match(token, std::regex(expression));
  } catch (const std::regex_error&) {
    return false;  // the template reader refuses such expressions
  }
}

std::string execute_api_arn(std::string_view region, std::string_view account_id, std::string_view api_id,
                            std::string_view stage, std::string_view method, std::string_view raw_path) {
  if (raw_path.starts_with('/')) raw_path.remove_prefix(1);
  std::string arn = "arn:aws:execute-api:";
  arn.append(region).append(":").append(account_id).append(":").append(api_id).append("/");
  arn.append(stage).append("/").append(method).append("/").append(raw_path);
  return arn;
}

nlohmann::json token_event(std::string_view token, std::string_view method_arn) {
  return json{{"type", "TOKEN"}, {"authorizationToken", token}, {"methodArn", method_arn}};
}

nlohmann::json request_event_v1(nlohmann::json route_event, std::string_view method_arn,
                                const std::vector<std::string>& identity, bool http_api) {
  json event = json::object();
  if (http_api) event["version"] = "1.0";
  event["type"] = "REQUEST";
  event["methodArn"] = method_arn;
  if (http_api) {
    event["identitySource"] = joined(identity, ',');
    event["authorizationToken"] = joined(identity, ',');
  }
  for (const char* member : {"resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                             "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext"}) {
    event[member] = std::move(route_event[member]);
  }
  if (event["pathParameters"].is_null()) event["pathParameters"] = json::object();
  return event;
}

nlohmann::json request_event_v2(nlohmann::json route_event, std::string_view route_arn,
                                const std::vector<std::string>& identity) {
  route_event.erase("body");
  route_event.erase("isBase64Encoded");
  json event = json::object();
  event["version"] = "2.0";
  event["type"] = "REQUEST";
  event["routeArn"] = route_arn;
  event["identitySource"] = identity;
  for (auto it = route_event.begin(); it != route_event.end(); ++it) {
    if (!event.contains(it.key())) event[it.key()] = std::move(it.value());
  }
  return event;
}

std::string websocket_route_arn(std::string_view region, std::string_view account_id, std::string_view api_id,
                                std::string_view stage, std::string_view route_key) {
  std::string arn = "arn:aws:execute-api:";
  arn.append(region).append(":").append(account_id).append(":").append(api_id).append("/");
  arn.append(stage).append("/").append(route_key);
  return arn;
}

nlohmann::json websocket_request_event(nlohmann::json connect_event, std::string_view method_arn) {
  json event = json::object();
  event["type"] = "REQUEST";
  event["methodArn"] = method_arn;
  for (const char* member : {"headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters",
                             "stageVariables", "requestContext"}) {
    if (connect_event.contains(member)) event[member] = std::move(connect_event[member]);
  }
  if (!event.contains("stageVariables")) event["stageVariables"] = json::object();
  return event;
}

std::variant<AuthorizerResult, FrontError> parse_authorizer_result(std::string_view result, AuthorizerStyle style) {
  const auto doc = json::parse(result, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return failure("the result is not JSON");
  if (!doc.is_object()) return failure("the result is not a JSON object");
  AuthorizerResult out;
  if (style == AuthorizerStyle::kHttpSimple) {
    const auto authorized = doc.find("isAuthorized");
    if (authorized == doc.end() || !authorized->is_boolean()) return failure("isAuthorized is missing or not a boolean");
    out.simple = true;
    out.authorized = authorized->get<bool>();
  } else if (auto error = read_policy(doc, out)) {
    return *error;
  }
  if (auto error = read_context(doc, style == AuthorizerStyle::kRestPolicy, out)) return *error;
  if (const auto key = doc.find("usageIdentifierKey"); key != doc.end() && !key->is_null()) {
    if (!key->is_string()) return failure("usageIdentifierKey is not a string");
    out.usage_identifier_key = key->get<std::string>();
  }
  return out;
}

Decision decide(const AuthorizerResult& result, std::string_view method_arn) {
  if (result.simple) return result.authorized ? Decision::kAllow : Decision::kNotAllowed;
  bool allowed = false;
  for (const auto& s : result.statements) {
    if (!action_matches(s) || !resource_matches(s, method_arn)) continue;
    if (!s.allow) return Decision::kExplicitDeny;
    allowed = true;
  }
  return allowed ? Decision::kAllow : Decision::kNotAllowed;
}

bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  const auto same = [ignore_case](char a, char b) {
    if (!ignore_case) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  // Greedy with backtracking to the last '*': linear in practice, no recursion.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && same(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

nlohmann::json authorizer_context(const AuthorizerResult& result, PayloadVersion payload, std::int64_t latency_ms) {
  if (payload == PayloadVersion::kV2) return json{{"lambda", result.context}};
  json out = result.context.is_object() ? result.context : json::object();
  if (!result.simple) out["principalId"] = result.principal_id;
  out["integrationLatency"] = latency_ms;
  return out;
}

FrontErrorKind authorizer_error_kind(FrontKind front, std::string_view error_payload) {
  if (front != FrontKind::kRestApi) return FrontErrorKind::kAuthorizerFailure;
  const auto doc = json::parse(error_payload, nullptr, /*allow_exceptions=*/false);
  const bool unauthorized = doc.is_object() && doc.contains("errorMessage") && doc["errorMessage"] == "Unauthorized";
  return unauthorized ? FrontErrorKind::kUnauthorized : FrontErrorKind::kAuthorizerFailure;
}

AuthorizerCache::AuthorizerCache(const Clock& clock, std::size_t capacity) : clock_(clock), capacity_(capacity) {}

std::string AuthorizerCache::key(std::string_view api_id, std::string_view authorizer,
                                 const std::vector<std::string>& identity) {
  // Each piece length-prefixed, so no two lists of values share a key.
  std::string out;
  const auto add = [&out](std::string_view piece) {
    out += std::to_string(piece.size());
    out += ':';
    out += piece;
  };
  add(api_id);
  add(authorizer);
  for (const auto& v : identity) add(v);
  return out;
}

const AuthorizerResult* AuthorizerCache::find(const std::string& key) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (clock_.now() >= it->second.expires) {
    entries_.erase(it);
    return nullptr;
  }
  return &it->second.result;
}

void AuthorizerCache::store(const std::string& key, AuthorizerResult result, int ttl_seconds) {
  if (ttl_seconds <= 0 || capacity_ == 0) return;
  const auto now = clock_.now();
  if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) {
    std::erase_if(entries_, [now](const auto& e) { return now >= e.second.expires; });
    if (entries_.size() >= capacity_) {
      entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.expires < b.second.expires;
      }));
    }
  }
  entries_.insert_or_assign(key, Entry{std::move(result), now + std::chrono::seconds(ttl_seconds)});
}

}  // namespace lambdad::http_front
