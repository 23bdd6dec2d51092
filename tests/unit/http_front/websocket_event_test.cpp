// The pure pieces of the WebSocket APIs: API Gateway's ids, route selection, the three events, what
// a $connect result and a route response say, the error frames, the limits' deadline, the
// connection table, and which API an upgrade or an @connections path names.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/websocket_connections.hpp"
#include "lambdad/http_front/websocket_event.hpp"
#include "lambdad/http_front/websocket_front.hpp"

namespace lambdad::http_front {
namespace {

using nlohmann::json;

WebSocketContext context() {
  WebSocketContext c;
  c.api_id = "ChatApi";
  c.stage = "prod";
  c.domain_name = "127.0.0.1:3000";
  c.connection_id = "Hl-ATdmnoAMCIKw=";
  c.connected_at = 1707502303419;
  c.source_ip = "192.0.2.1";
  return c;
}

TEST(GatewayId, IsUrlSafeBase64OfElevenBytesEndingInEquals) {
  EXPECT_EQ(gateway_id({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "AAAAAAAAAAAAAAA=");
  EXPECT_EQ(gateway_id({0xfb, 0xff, 0xff, 0xfb, 0xff, 0xff, 0xfb, 0xff, 0xff, 0xfb, 0xff}), "-___-___-___-_8=");
  const auto a = new_gateway_id();
  const auto b = new_gateway_id();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.back(), '=');
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="), std::string::npos);
}

TEST(SelectRouteKey, ReadsTheExpressionsFieldOfAJsonObject) {
  EXPECT_EQ(select_route_key("$request.body.action", R"({"action":"send","x":1})", false), "send");
  EXPECT_EQ(select_route_key("$request.body.meta.kind", R"({"meta":{"kind":"ping"}})", false), "ping");
  EXPECT_EQ(select_route_key("$request.body.action", R"({"other":"send"})", false), std::nullopt);
  EXPECT_EQ(select_route_key("$request.body.action", R"({"action":7})", false), std::nullopt);
  EXPECT_EQ(select_route_key("$request.body.action", "not json", false), std::nullopt);
  EXPECT_EQ(select_route_key("$request.body.action", R"(["action"])", false), std::nullopt);
  EXPECT_EQ(select_route_key("$request.body.action", R"({"action":"send"})", true), std::nullopt);
}

TEST(WebSocketEvents, ConnectEventCarriesHeadersQueryAndContext) {
  RequestView upgrade;
  upgrade.method = "GET";
  upgrade.target = "/prod?token=abc&room=1&room=2";
  upgrade.headers = {{"Host", "127.0.0.1:3000"}, {"Sec-WebSocket-Key", "k"}, {"X-Multi", "a"}, {"X-Multi", "b"}};
  upgrade.peer_ip = "192.0.2.1";
  upgrade.port = 3000;
  const json e = build_connect_event(context(), upgrade, "REQ-ID======", 1707502303420);
  EXPECT_EQ(e["headers"]["Host"], "127.0.0.1:3000");
  EXPECT_EQ(e["headers"]["X-Multi"], "b");
  EXPECT_EQ(e["multiValueHeaders"]["X-Multi"], json({"a", "b"}));
  EXPECT_EQ(e["headers"]["X-Forwarded-For"], "192.0.2.1");
  EXPECT_EQ(e["headers"]["X-Forwarded-Port"], "3000");
  EXPECT_EQ(e["queryStringParameters"], json({{"token", "abc"}, {"room", "2"}}));
  EXPECT_EQ(e["multiValueQueryStringParameters"]["room"], json({"1", "2"}));
  EXPECT_EQ(e["isBase64Encoded"], false);
  const json& rc = e["requestContext"];
  EXPECT_EQ(rc["routeKey"], "$connect");
  EXPECT_EQ(rc["eventType"], "CONNECT");
  EXPECT_EQ(rc["messageDirection"], "IN");
  EXPECT_EQ(rc["connectionId"], "Hl-ATdmnoAMCIKw=");
  EXPECT_EQ(rc["connectedAt"], 1707502303419);
  EXPECT_EQ(rc["requestTimeEpoch"], 1707502303420);
  EXPECT_EQ(rc["requestTime"], "09/Feb/2024:18:11:43 +0000");
  EXPECT_EQ(rc["requestId"], "REQ-ID======");
  EXPECT_EQ(rc["extendedRequestId"], "REQ-ID======");
  EXPECT_EQ(rc["domainName"], "127.0.0.1:3000");
  EXPECT_EQ(rc["stage"], "prod");
  EXPECT_EQ(rc["apiId"], "ChatApi");
  EXPECT_EQ(rc["identity"], json({{"sourceIp", "192.0.2.1"}}));
  EXPECT_FALSE(rc.contains("messageId"));

  upgrade.target = "/prod";
  EXPECT_FALSE(build_connect_event(context(), upgrade, "R", 0).contains("queryStringParameters"));
}

TEST(WebSocketEvents, MessageEventHasTheBodyTextOrBase64) {
  const json text = build_message_event(context(), "send", "MSG", "REQ", R"({"action":"send"})", false, 5);
  EXPECT_EQ(text["body"], R"({"action":"send"})");
  EXPECT_EQ(text["isBase64Encoded"], false);
  EXPECT_EQ(text["requestContext"]["routeKey"], "send");
  EXPECT_EQ(text["requestContext"]["eventType"], "MESSAGE");
  EXPECT_EQ(text["requestContext"]["messageId"], "MSG");
  EXPECT_FALSE(text.contains("headers"));
  const json binary = build_message_event(context(), "$default", "MSG", "REQ", std::string("\x00\xff", 2), true, 5);
  EXPECT_EQ(binary["body"], "AP8=");
  EXPECT_EQ(binary["isBase64Encoded"], true);
}

TEST(WebSocketEvents, DisconnectEventHasTheStatusAndReason) {
  const json e = build_disconnect_event(context(), 1005, "Client-side close frame status not set", "REQ", 9);
  EXPECT_EQ(e["requestContext"]["eventType"], "DISCONNECT");
  EXPECT_EQ(e["requestContext"]["routeKey"], "$disconnect");
  EXPECT_EQ(e["requestContext"]["disconnectStatusCode"], 1005);
  EXPECT_EQ(e["requestContext"]["disconnectReason"], "Client-side close frame status not set");
  EXPECT_EQ(e["headers"]["Host"], "127.0.0.1:3000");
  EXPECT_EQ(e["multiValueHeaders"]["Host"], json({"127.0.0.1:3000"}));
}

TEST(ConnectResult, TwoHundredsAcceptOthersRefuse) {
  auto verdict = [](const std::string& payload) { return std::get<ConnectVerdict>(map_connect_result(payload)); };
  EXPECT_TRUE(verdict(R"({"statusCode":200})").accepted());
  EXPECT_TRUE(verdict("null").accepted());
  EXPECT_TRUE(verdict(R"({"body":"hi"})").accepted());
  EXPECT_EQ(verdict(R"({"statusCode":"401"})").status, 401);
  EXPECT_FALSE(verdict(R"({"statusCode":403})").accepted());
  EXPECT_EQ(verdict(R"({"statusCode":200,"headers":{"sec-websocket-protocol":"chat"}})").subprotocol, "chat");
  EXPECT_TRUE(std::holds_alternative<FrontError>(map_connect_result("[1]")));
  EXPECT_TRUE(std::holds_alternative<FrontError>(map_connect_result(R"({"statusCode":99})")));
}

TEST(RouteResponse, IsTheResultsBody) {
  EXPECT_EQ(route_response_body(R"({"statusCode":200,"body":"pong"})"), "pong");
  EXPECT_EQ(route_response_body(R"({"statusCode":200})"), std::nullopt);
  EXPECT_EQ(route_response_body(R"({"reply":1})"), R"({"reply":1})");
  EXPECT_EQ(route_response_body(R"("text")"), R"("text")");
  EXPECT_EQ(route_response_body("null"), std::nullopt);
}

TEST(WebSocketErrors, FramesNameTheConnectionAndRequest) {
  EXPECT_EQ(render_websocket_error(FrontErrorKind::kNoRoute, "C=", "R="),
            R"({"message": "Forbidden", "connectionId":"C=", "requestId":"R="})");
  EXPECT_EQ(render_websocket_error(FrontErrorKind::kFunctionError, "C=", "R="),
            R"({"message": "Internal server error", "connectionId":"C=", "requestId":"R="})");
  EXPECT_EQ(render_websocket_error(FrontErrorKind::kTimeout, "C=", "R="),
            R"({"message": "Endpoint request timed out", "connectionId":"C=", "requestId":"R="})");
  const auto gone = render_management_error(ManagementErrorKind::kGone);
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(first_header(gone.headers, "x-amzn-ErrorType"), "GoneException");
  EXPECT_EQ(render_management_error(ManagementErrorKind::kPayloadTooLarge).status, 413);
  EXPECT_EQ(render_management_error(ManagementErrorKind::kForbidden).status, 403);
}

TEST(ConnectionExpiry, IdleTenMinutesOrTwoHoursWhicheverFirst) {
  const Clock::Steady::time_point t0{};
  auto e = connection_expiry(t0, t0);
  EXPECT_EQ(e.at, t0 + std::chrono::minutes(10));
  EXPECT_TRUE(e.idle);
  e = connection_expiry(t0, t0 + std::chrono::minutes(115));
  EXPECT_EQ(e.at, t0 + std::chrono::hours(2));
  EXPECT_FALSE(e.idle);
}

TEST(ConnectionTable, AddsFindsAndRemovesById) {
  ConnectionTable table;
  auto c = std::make_shared<WebSocketConnection>();
  c->context.connection_id = "A=";
  EXPECT_TRUE(table.add(c));
  auto twin = std::make_shared<WebSocketConnection>();
  twin->context.connection_id = "A=";
  EXPECT_FALSE(table.add(twin));
  EXPECT_EQ(table.find("A="), c);
  EXPECT_EQ(table.find("B="), nullptr);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.remove("A="), c);
  EXPECT_EQ(table.remove("A="), nullptr);
  EXPECT_EQ(table.size(), 0u);
}

TEST(WebSocketApiFor, RootFirstThenStageThenId) {
  std::vector<config::HttpApi> apis(3);
  apis[0].id = "Rest";
  apis[0].kind = config::HttpApiKind::kRest;
  apis[1].id = "Chat";
  apis[1].kind = config::HttpApiKind::kWebSocket;
  apis[1].stage = "prod";
  apis[2].id = "Game";
  apis[2].kind = config::HttpApiKind::kWebSocket;
  apis[2].stage = "prod";
  EXPECT_EQ(websocket_api_for(apis, "/"), &apis[1]);
  EXPECT_EQ(websocket_api_for(apis, "/prod"), &apis[1]);
  EXPECT_EQ(websocket_api_for(apis, "/Game"), &apis[2]);
  EXPECT_EQ(websocket_api_for(apis, "/Game/prod"), &apis[2]);
  EXPECT_EQ(websocket_api_for(apis, "/Game/dev"), nullptr);
  EXPECT_EQ(websocket_api_for(apis, "/other"), nullptr);
  EXPECT_EQ(websocket_api_for(apis, "/Rest"), nullptr);
  EXPECT_EQ(websocket_api_for({apis[0]}, "/"), nullptr);
}

TEST(ManagementConnectionId, WithOrWithoutAStage) {
  EXPECT_EQ(management_connection_id("/@connections/Hl-ATdmnoAMCIKw%3D"), "Hl-ATdmnoAMCIKw=");
  EXPECT_EQ(management_connection_id("/prod/@connections/abc="), "abc=");
  EXPECT_EQ(management_connection_id("/@connections"), std::nullopt);
  EXPECT_EQ(management_connection_id("/@connections/"), std::nullopt);
  EXPECT_EQ(management_connection_id("/a/b/@connections/x"), std::nullopt);
  EXPECT_EQ(management_connection_id("/connections/x"), std::nullopt);
}

}  // namespace
}  // namespace lambdad::http_front
