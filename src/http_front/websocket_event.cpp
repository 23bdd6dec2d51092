#include "lambdad/http_front/websocket_event.hpp"

#include <random>

#include "lambdad/common/base64.hpp"
#include "payload_common.hpp"

namespace lambdad::http_front {
namespace {

using nlohmann::json;

constexpr std::string_view kBodyPrefix = "$request.body.";
constexpr std::string_view kUrlSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

json request_context(const WebSocketContext& c, std::string_view route_key, std::string_view event_type,
                     std::string_view request_id, std::int64_t now_ms) {
  json ctx{{"routeKey", route_key},
              {"eventType", event_type},
              {"extendedRequestId", request_id},
              {"requestTime", format_request_time(now_ms)},
              {"messageDirection", "IN"},
              {"stage", c.stage},
              {"connectedAt", c.connected_at},
              {"requestTimeEpoch", now_ms},
              {"identity", {{"sourceIp", c.source_ip}}},
              {"requestId", request_id},
              {"domainName", c.domain_name},
              {"connectionId", c.connection_id},
              {"apiId", c.api_id}};
  if (!c.authorizer.is_null()) ctx["authorizer"] = c.authorizer;
  return ctx;
}

// The event with its stage's variables, when the stage has any.
json with_stage_variables(json event, const WebSocketContext& c) {
  if (!c.stage_variables.empty()) event["stageVariables"] = c.stage_variables;
  return event;
}

void add_header(json& single, json& multi, const std::string& name, const std::string& value) {
  single[name] = value;  // the last of repeated fields, as in payload 1.0
  multi[name].push_back(value);
}

}  // namespace

std::string gateway_id(const std::array<std::uint8_t, 11>& bytes) {
  std::string out;
  out.reserve(16);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (n > 1) v |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    if (n > 2) v |= bytes[i + 2];
    for (std::size_t k = 0; k < n + 1; ++k) out.push_back(kUrlSafe[(v >> (18 - 6 * k)) & 0x3f]);
  }
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::string new_gateway_id() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::array<std::uint8_t, 11> bytes{};
  for (auto& b : bytes) b = static_cast<std::uint8_t>(gen() & 0xff);
  return gateway_id(bytes);
}

std::optional<std::string> select_route_key(std::string_view expression, std::string_view data, bool binary) {
  if (binary || !expression.starts_with(kBodyPrefix)) return std::nullopt;
  json body = json::parse(data, nullptr, false);
  if (body.is_discarded()) return std::nullopt;
  const json* at = find_path(body, expression.substr(kBodyPrefix.size()));
  if (at == nullptr || !at->is_string()) return std::nullopt;
  return at->get<std::string>();
}

json build_connect_event(const WebSocketContext& context, const RequestView& upgrade, std::string_view request_id,
                         std::int64_t now_ms) {
  json headers = json::object();
  json multi = json::object();
  for (const auto& h : upgrade.headers) add_header(headers, multi, h.name, h.value);
  const auto forwarded = [&](const char* name, const std::string& value) {
    if (!first_header(upgrade.headers, name) && !value.empty()) add_header(headers, multi, name, value);
  };
  forwarded("X-Forwarded-For", upgrade.peer_ip);
  forwarded("X-Forwarded-Port", upgrade.port != 0 ? std::to_string(upgrade.port) : std::string());
  forwarded("X-Forwarded-Proto", "http");
  json event = {{"headers", std::move(headers)}, {"multiValueHeaders", std::move(multi)}};
  const auto query = split_target(upgrade.target).second;
  const auto pairs = parse_query(query);
  if (!pairs.empty()) {
    json single = json::object();
    json values = json::object();
    for (const auto& [name, value] : pairs) {
      single[name] = value;  // the last value wins, as in payload 1.0
      values[name].push_back(value);
    }
    event["queryStringParameters"] = std::move(single);
    event["multiValueQueryStringParameters"] = std::move(values);
  }
  event["requestContext"] = request_context(context, "$connect", "CONNECT", request_id, now_ms);
  event["isBase64Encoded"] = false;
  return with_stage_variables(std::move(event), context);
}

json build_message_event(const WebSocketContext& context, std::string_view route_key, std::string_view message_id,
                         std::string_view request_id, std::string_view data, bool binary, std::int64_t now_ms) {
  json ctx = request_context(context, route_key, "MESSAGE", request_id, now_ms);
  ctx["messageId"] = message_id;
  return with_stage_variables(json{{"requestContext", std::move(ctx)},
                                   {"body", binary ? base64::encode(data) : std::string(data)},
                                   {"isBase64Encoded", binary}},
                              context);
}

json build_disconnect_event(const WebSocketContext& context, int status_code, std::string_view reason,
                            std::string_view request_id, std::int64_t now_ms) {
  // API Gateway's $disconnect carries a few headers of its own, not the client's.
  json headers = {{"Host", context.domain_name}, {"x-api-key", ""}, {"X-Forwarded-For", ""}, {"x-restapi", ""}};
  json multi = json::object();
  for (const auto& [name, value] : headers.items()) multi[name] = json::array({value});
  json ctx = request_context(context, "$disconnect", "DISCONNECT", request_id, now_ms);
  ctx["disconnectStatusCode"] = status_code;
  ctx["disconnectReason"] = reason;
  return with_stage_variables(json{{"headers", std::move(headers)},
                                   {"multiValueHeaders", std::move(multi)},
                                   {"requestContext", std::move(ctx)},
                                   {"isBase64Encoded", false}},
                              context);
}

std::variant<ConnectVerdict, FrontError> map_connect_result(const std::string& payload) {
  const json result = json::parse(payload, nullptr, false);
  ConnectVerdict verdict;
  if (result.is_null()) return verdict;  // the handler returned nothing: accepted
  if (!result.is_object()) return FrontError{FrontErrorKind::kMalformedResponse, "the $connect result is not an object"};
  if (const auto it = result.find("statusCode"); it != result.end()) {
    const auto code = status_code(*it);
    if (!code) return FrontError{FrontErrorKind::kMalformedResponse, "statusCode is not an HTTP status"};
    verdict.status = *code;
  }
  if (const auto it = result.find("headers"); it != result.end() && it->is_object()) {
    for (const auto& [name, value] : it->items()) {
      if (iequals(name, "sec-websocket-protocol")) verdict.subprotocol = header_text(value);
    }
  }
  return verdict;
}

std::optional<std::string> route_response_body(const std::string& payload) {
  const json result = json::parse(payload, nullptr, false);
  if (result.is_discarded()) return payload.empty() ? std::nullopt : std::optional<std::string>(payload);
  if (result.is_null()) return std::nullopt;
  if (!result.is_object() || !result.contains("statusCode")) return dump_json(result);
  auto body = body_text(result);
  if (!body || body->empty()) return std::nullopt;
  return body;
}

}  // namespace lambdad::http_front
