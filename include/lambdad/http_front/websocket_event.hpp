// http_front: the pure pieces of a WebSocket API (decision 020): API Gateway's ids, the route a
// message selects, the CONNECT, MESSAGE and DISCONNECT events a Lambda proxy integration gets, and
// what the front does with the function's result. Ids and time come from the caller.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/request_view.hpp"

namespace lambdad::http_front {

// What every event's requestContext says of its connection.
struct WebSocketContext {
  std::string api_id;         // the API's logical id
  std::string stage;          // the API's stage ("" when the template has none)
  std::string domain_name;    // the Host the client upgraded with ("127.0.0.1:3000")
  std::string connection_id;
  std::int64_t connected_at = 0;  // epoch ms
  std::string source_ip;
  // The stage's variables: every event's stageVariables when there are any (absent otherwise).
  std::map<std::string, std::string> stage_variables;
  // What the $connect route's Lambda authorizer said (principalId, integrationLatency and its
  // context, as payload 1.0 has them): every event's requestContext.authorizer; null without one.
  nlohmann::json authorizer;
};

// An id as API Gateway writes connection, message and (extended) request ids: the URL-safe base64
// of 11 bytes, 16 characters ending in '=' ("Hl-ATdmnoAMCIKw=").
std::string gateway_id(const std::array<std::uint8_t, 11>& bytes);
// gateway_id of random bytes.
std::string new_gateway_id();

// The route key `expression` ("$request.body.action"; "$request.body.a.b" reads a nested field)
// selects from a message: the field's value when the message is a JSON object (text) holding a
// string there; nullopt otherwise (the message goes to $default).
std::optional<std::string> select_route_key(std::string_view expression, std::string_view data, bool binary);

// The $connect event: the upgrade request's headers (and multiValueHeaders), its query string
// parameters when it has a query, and the requestContext (eventType CONNECT).
nlohmann::json build_connect_event(const WebSocketContext& context, const RequestView& upgrade,
                                   std::string_view request_id, std::int64_t now_ms);
// A message's event: routeKey, messageId, the body (base64 with isBase64Encoded for a binary one).
nlohmann::json build_message_event(const WebSocketContext& context, std::string_view route_key,
                                   std::string_view message_id, std::string_view request_id, std::string_view data,
                                   bool binary, std::int64_t now_ms);
// The $disconnect event, with disconnectStatusCode and disconnectReason.
nlohmann::json build_disconnect_event(const WebSocketContext& context, int status_code, std::string_view reason,
                                      std::string_view request_id, std::int64_t now_ms);

// What a $connect result says: a 2xx statusCode (or none) accepts, with the result's
// Sec-WebSocket-Protocol for the handshake; any other status refuses with that status. A result
// that is not a JSON object, or a statusCode out of 100..599, is malformed.
struct ConnectVerdict {
  int status = 200;
  std::optional<std::string> subprotocol;  // Sec-WebSocket-Protocol
  bool accepted() const { return status >= 200 && status < 300; }
};
std::variant<ConnectVerdict, FrontError> map_connect_result(const std::string& payload);
// What a route with a route response sends back: the result's body (the result itself when it is
// not a proxy response object); nullopt when there is nothing to send.
std::optional<std::string> route_response_body(const std::string& payload);

}  // namespace lambdad::http_front
