// The WebSocket APIs behind the API port's Front, against a scripted Dispatcher, fake sockets and
// the manual clock: $connect accepting and refusing upgrades, messages routed by the selection
// expression, route responses, error frames, $disconnect, the idle and duration limits, and the
// @connections API.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "lambdad/http_front/front.hpp"
#include "lambdad_test/manual_time.hpp"
#include "front_request.hpp"
#include "scripted_dispatcher.hpp"

namespace lambdad::http_front {
namespace {

using invocation::Admission;
using nlohmann::json;


// A connection as the server would hand it over: what was sent and how it was closed.
struct FakeSocket final : http::WebSocket {
  std::vector<std::pair<std::string, bool>> sent;
  std::optional<std::pair<std::uint16_t, std::string>> closed;
  http::WebSocketHandlers handlers;
  http::WebSocketSettings settings;

  void send(std::string data, bool binary) override { sent.emplace_back(std::move(data), binary); }
  void close(std::uint16_t code, std::string reason) override {
    if (closed) return;
    closed.emplace(code, reason);
    if (auto h = std::move(handlers.on_closed)) h(http::WebSocketClose{code, std::move(reason), true});
  }
  // The client closes.
  void client_close(std::uint16_t code, std::string reason) {
    if (auto h = std::move(handlers.on_closed)) h(http::WebSocketClose{code, std::move(reason), false});
  }
};

class WebSocketFrontTest : public ::testing::Test {
 protected:
  WebSocketFrontTest() { front_.set_routes(apis(true)); }

  static config::HttpApis apis(bool with_default) {
    config::HttpApis a;
    config::HttpApi chat;
    chat.id = "ChatApi";
    chat.kind = config::HttpApiKind::kWebSocket;
    chat.stage = "prod";
    chat.route_selection_expression = "$request.body.action";
    a.apis = {chat};
    a.routes.push_back({"ChatApi", "ANY", "$connect", "Connect", "1.0", 29000, "", "", 0});
    a.routes.push_back({"ChatApi", "ANY", "$disconnect", "Bye", "1.0", 29000, "", "", 0});
    a.routes.push_back({"ChatApi", "ANY", "send", "Send", "1.0", 29000, "", "", 0});
    a.routes.push_back({"ChatApi", "ANY", "echo", "Echo", "1.0", 29000, "", "", 0, true});
    if (with_default) a.routes.push_back({"ChatApi", "ANY", "$default", "Default", "1.0", 29000, "", "", 0});
    return a;
  }

  // Starts an upgrade to `path`; the socket is set once it is accepted.
  void upgrade(const std::string& path, std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.insert(headers.begin(), {"User-Agent", "test-client"});
    http::Request req = front_request("GET", path, headers);
    refusal_.reset();
    socket_.reset();
    http::Upgrade up(
        [this](http::WebSocketSettings settings, http::WebSocketHandlers handlers) -> std::shared_ptr<http::WebSocket> {
          socket_ = std::make_shared<FakeSocket>();
          socket_->handlers = std::move(handlers);
          socket_->settings = std::move(settings);
          return socket_;
        },
        [this](http::Response r) { refusal_ = std::move(r); });
    router_.upgrade_handler()(std::move(req), std::move(up));
  }
  void connect() {
    upgrade("/prod");
    dispatcher_.complete(R"({"statusCode":200})");
    ASSERT_TRUE(socket_);
  }
  void message(const std::string& text) { socket_->handlers.on_message(text, false); }

  std::optional<http::Response>& manage(http::Method method, const std::string& target, std::string body = {}) {
    http::Request req;
    req.method = method;
    req.method_text = std::string(http::method_name(method));
    req.target = target;
    req.path = target;
    req.headers.add("Host", "127.0.0.1:3000");
    req.body = std::move(body);
    answer_.reset();
    front_.handle(std::move(req), [this](http::Response r) { answer_ = std::move(r); });
    return answer_;
  }
  std::string connected_id() const {
    return json::parse(dispatcher_.dispatched.front()->payload)["requestContext"]["connectionId"];
  }

  ScriptedDispatcher dispatcher_{{"Connect", "Send", "Echo", "Default", "Bye", "Auth"}};
  test::ManualTime time_;
  FrontOptions options_;
  Front front_{dispatcher_, time_, time_, options_};
  http::Router router_ = front_.router();
  std::shared_ptr<FakeSocket> socket_;
  std::optional<http::Response> refusal_;
  std::optional<http::Response> answer_;
};

TEST_F(WebSocketFrontTest, ConnectRunsTheConnectRouteBeforeTheHandshake) {
  upgrade("/prod?token=t");
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.dispatched[0]->function_name, "Connect");
  EXPECT_FALSE(socket_);  // pending until $connect answers
  const json e = dispatcher_.last_event();
  EXPECT_EQ(e["requestContext"]["eventType"], "CONNECT");
  EXPECT_EQ(e["requestContext"]["domainName"], "127.0.0.1:3000");
  EXPECT_EQ(e["requestContext"]["stage"], "prod");
  EXPECT_EQ(e["queryStringParameters"]["token"], "t");
  const std::string id = e["requestContext"]["connectionId"];
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(manage(http::Method::kGet, "/prod/@connections/" + id)->status, 410u);  // not open yet

  dispatcher_.complete(R"({"statusCode":200,"headers":{"Sec-WebSocket-Protocol":"chat"}})");
  ASSERT_TRUE(socket_);
  EXPECT_FALSE(refusal_);
  EXPECT_EQ(socket_->settings.response_headers.get("Sec-WebSocket-Protocol"), "chat");
  EXPECT_EQ(socket_->settings.message_limit, 128u * 1024);
  EXPECT_EQ(socket_->settings.frame_limit, 32u * 1024);
  EXPECT_EQ(manage(http::Method::kGet, "/@connections/" + id)->status, 200u);
}

TEST_F(WebSocketFrontTest, ConnectRefusesWithTheStatusOrTheErrorAnswer) {
  upgrade("/prod");
  dispatcher_.complete(R"({"statusCode":401})");
  EXPECT_FALSE(socket_);
  ASSERT_TRUE(refusal_);
  EXPECT_EQ(refusal_->status, 401u);

  upgrade("/prod");
  dispatcher_.complete(R"({"errorMessage":"boom"})", invocation::Outcome::kFunctionError);
  ASSERT_TRUE(refusal_);
  EXPECT_EQ(refusal_->status, 502u);

  upgrade("/prod");
  time_.advance(std::chrono::milliseconds(29000));
  ASSERT_TRUE(refusal_);
  EXPECT_EQ(refusal_->status, 504u);
}

TEST_F(WebSocketFrontTest, WithoutAConnectRouteTheUpgradeIsAccepted) {
  auto a = apis(true);
  a.routes.erase(a.routes.begin());
  front_.set_routes(a);
  upgrade("/");
  EXPECT_TRUE(socket_);
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(WebSocketFrontTest, AnUpgradeToNoWebSocketApiIsAnsweredAsHttp) {
  upgrade("/nowhere");
  EXPECT_FALSE(socket_);
  ASSERT_TRUE(refusal_);
  EXPECT_EQ(refusal_->status, 404u);
}

TEST_F(WebSocketFrontTest, MessagesAreRoutedByTheSelectionExpression) {
  connect();
  message(R"({"action":"send","text":"hi"})");
  ASSERT_EQ(dispatcher_.dispatched.size(), 2u);
  EXPECT_EQ(dispatcher_.dispatched[1]->function_name, "Send");
  const json e = dispatcher_.last_event();
  EXPECT_EQ(e["requestContext"]["routeKey"], "send");
  EXPECT_EQ(e["requestContext"]["eventType"], "MESSAGE");
  EXPECT_EQ(e["requestContext"]["connectionId"], connected_id());
  EXPECT_EQ(e["body"], R"({"action":"send","text":"hi"})");
  dispatcher_.complete(R"({"statusCode":200,"body":"not sent back"})");
  EXPECT_TRUE(socket_->sent.empty());  // no route response: one-way

  message("plain text");
  EXPECT_EQ(dispatcher_.dispatched.back()->function_name, "Default");
  message(R"({"action":"unknown"})");
  EXPECT_EQ(dispatcher_.dispatched.back()->function_name, "Default");
  EXPECT_EQ(dispatcher_.last_event()["requestContext"]["routeKey"], "$default");
}

TEST_F(WebSocketFrontTest, ARouteWithARouteResponseSendsTheBodyBack) {
  connect();
  message(R"({"action":"echo"})");
  dispatcher_.complete(R"({"statusCode":200,"body":"pong"})");
  ASSERT_EQ(socket_->sent.size(), 1u);
  EXPECT_EQ(socket_->sent[0].first, "pong");
}

TEST_F(WebSocketFrontTest, NoRouteWithoutDefaultAndFunctionErrorsAreErrorFrames) {
  front_.set_routes(apis(false));
  connect();
  message(R"({"action":"nothing"})");
  EXPECT_EQ(dispatcher_.dispatched.size(), 1u);
  ASSERT_EQ(socket_->sent.size(), 1u);
  const json forbidden = json::parse(socket_->sent[0].first);
  EXPECT_EQ(forbidden["message"], "Forbidden");
  EXPECT_EQ(forbidden["connectionId"], connected_id());
  EXPECT_EQ(forbidden["requestId"].get<std::string>().size(), 16u);

  message(R"({"action":"send"})");
  dispatcher_.complete(R"({"errorMessage":"boom"})", invocation::Outcome::kFunctionError);
  ASSERT_EQ(socket_->sent.size(), 2u);
  EXPECT_EQ(json::parse(socket_->sent[1].first)["message"], "Internal server error");
}

TEST_F(WebSocketFrontTest, DisconnectRunsWithTheClientsCloseStatus) {
  connect();
  const std::string id = connected_id();
  socket_->client_close(1005, "");
  ASSERT_EQ(dispatcher_.dispatched.size(), 2u);
  EXPECT_EQ(dispatcher_.dispatched[1]->function_name, "Bye");
  const json e = dispatcher_.last_event();
  EXPECT_EQ(e["requestContext"]["eventType"], "DISCONNECT");
  EXPECT_EQ(e["requestContext"]["connectionId"], id);
  EXPECT_EQ(e["requestContext"]["disconnectStatusCode"], 1005);
  EXPECT_EQ(e["requestContext"]["disconnectReason"], "Client-side close frame status not set");
  EXPECT_EQ(manage(http::Method::kPost, "/prod/@connections/" + id, "late")->status, 410u);
}

TEST_F(WebSocketFrontTest, IdleConnectionsCloseAfterTenMinutesActiveOnesAfterTwoHours) {
  connect();
  time_.advance(std::chrono::minutes(9));
  message(R"({"action":"send"})");
  time_.advance(std::chrono::minutes(9));
  EXPECT_FALSE(socket_->closed);  // active 9 minutes ago
  time_.advance(std::chrono::minutes(1));
  ASSERT_TRUE(socket_->closed);
  EXPECT_EQ(socket_->closed->first, 1001);
  EXPECT_EQ(dispatcher_.last_event()["requestContext"]["disconnectStatusCode"], 1001);

  connect();
  for (int i = 0; i < 20; ++i) {
    time_.advance(std::chrono::minutes(9));
    socket_->handlers.on_ping();
    if (socket_->closed) break;
  }
  ASSERT_TRUE(socket_->closed);
  EXPECT_EQ(socket_->closed->first, 1001);
  EXPECT_EQ(front_.describe("http://127.0.0.1:3000", 3000).size(), 1u);
}

TEST_F(WebSocketFrontTest, ConnectionsApiPostsGetsAndDeletes) {
  time_.advance(std::chrono::seconds(5));
  connect();
  const std::string id = connected_id();
  time_.advance(std::chrono::seconds(3));
  message(R"({"action":"send"})");

  ASSERT_EQ(manage(http::Method::kPost, "/prod/@connections/" + id, R"({"to":"client"})")->status, 200u);
  ASSERT_EQ(socket_->sent.size(), 1u);
  EXPECT_EQ(socket_->sent[0], std::make_pair(std::string(R"({"to":"client"})"), false));
  manage(http::Method::kPost, "/@connections/" + id, std::string("\xff\x00", 2));
  EXPECT_TRUE(socket_->sent[1].second);  // not UTF-8: a binary frame

  const auto& got = manage(http::Method::kGet, "/@connections/" + id);
  ASSERT_EQ(got->status, 200u);
  const json info = json::parse(got->body);
  EXPECT_EQ(info["identity"], json({{"sourceIp", "127.0.0.1"}, {"userAgent", "test-client"}}));
  // ISO 8601 in UTC with milliseconds; the manual clock's epoch starts in November 2023.
  EXPECT_TRUE(info["connectedAt"].get<std::string>().starts_with("2023-11-14T"));
  EXPECT_TRUE(info["connectedAt"].get<std::string>().ends_with(":25.000Z"));
  EXPECT_TRUE(info["lastActiveAt"].get<std::string>().ends_with(":28.000Z"));

  EXPECT_EQ(manage(http::Method::kPost, "/@connections/" + id, std::string(128 * 1024 + 1, 'x'))->status, 413u);
  EXPECT_EQ(manage(http::Method::kPut, "/@connections/" + id)->status, 404u);

  EXPECT_EQ(manage(http::Method::kDelete, "/prod/@connections/" + id)->status, 204u);
  ASSERT_TRUE(socket_->closed);
  EXPECT_EQ(dispatcher_.last_event()["requestContext"]["eventType"], "DISCONNECT");
  const auto& gone = manage(http::Method::kGet, "/@connections/" + id);
  EXPECT_EQ(gone->status, 410u);
  EXPECT_EQ(gone->headers.get("x-amzn-ErrorType"), "GoneException");
}

TEST_F(WebSocketFrontTest, ConnectionsApiChecksSignaturesWhenAsked) {
  FrontOptions signed_only;
  signed_only.verify_signature = [](const http::Request& r) { return r.headers.has("Authorization"); };
  Front front{dispatcher_, time_, time_, signed_only};
  front.set_routes(apis(true));
  http::Request req;
  req.method = http::Method::kGet;
  req.method_text = "GET";
  req.target = req.path = "/@connections/abc=";
  std::optional<http::Response> answer;
  front.handle(std::move(req), [&](http::Response r) { answer = std::move(r); });
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 403u);
  EXPECT_EQ(answer->headers.get("x-amzn-ErrorType"), "ForbiddenException");
}

// --- the $connect route's Lambda authorizer ---------------------------------------------------

class WebSocketAuthorizerTest : public WebSocketFrontTest {
 protected:
  WebSocketAuthorizerTest() {
    auto a = apis(true);
    config::HttpAuthorizer auth;
    auth.name = "ConnectAuth";
    auth.function_name = "Auth";
    auth.type = config::HttpAuthorizer::Type::kRequest;
    auth.identity_headers = {"Auth"};
    auth.identity_query_strings = {"token"};
    auth.identity_stage_variables = {"mode"};
    auth.identity_context = {"identity.sourceIp"};
    auth.ttl_seconds = 0;
    a.apis[0].authorizers = {auth};
    a.apis[0].stage_variables = {{"mode", "test"}};
    a.routes[0].authorizer = "ConnectAuth";
    front_.set_routes(a);
  }
  static std::string policy(const char* effect, const char* resource) {
    return json{{"principalId", "user-1"},
                {"policyDocument",
                 {{"Version", "2012-10-17"},
                  {"Statement", {{{"Action", "execute-api:Invoke"}, {"Effect", effect}, {"Resource", resource}}}}}},
                {"context", {{"role", "admin"}, {"level", 3}}}}
        .dump();
  }
};

TEST_F(WebSocketAuthorizerTest, AnAllowingAuthorizerRunsFirstAndItsContextReachesEveryEvent) {
  upgrade("/prod?token=t1", {{"Auth", "secret"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.dispatched[0]->function_name, "Auth");
  const json ae = dispatcher_.last_event();
  EXPECT_EQ(ae["type"], "REQUEST");
  EXPECT_EQ(ae["methodArn"], "arn:aws:execute-api:us-east-1:123456789012:ChatApi/prod/$connect");
  EXPECT_EQ(ae["headers"]["Auth"], "secret");
  EXPECT_EQ(ae["queryStringParameters"]["token"], "t1");
  EXPECT_EQ(ae["multiValueQueryStringParameters"]["token"], json::array({"t1"}));
  EXPECT_EQ(ae["stageVariables"], json({{"mode", "test"}}));
  EXPECT_EQ(ae["requestContext"]["routeKey"], "$connect");
  EXPECT_EQ(ae["requestContext"]["eventType"], "CONNECT");
  EXPECT_EQ(ae["requestContext"]["connectionId"].get<std::string>().size(), 16u);
  EXPECT_FALSE(ae.contains("isBase64Encoded"));
  EXPECT_FALSE(socket_);

  dispatcher_.complete(policy("Allow", "arn:aws:execute-api:*:*:ChatApi/*/$connect"));
  ASSERT_EQ(dispatcher_.dispatched.size(), 2u);
  EXPECT_EQ(dispatcher_.dispatched[1]->function_name, "Connect");
  const json ce = dispatcher_.last_event();
  EXPECT_EQ(ce["requestContext"]["authorizer"]["principalId"], "user-1");
  EXPECT_EQ(ce["requestContext"]["authorizer"]["role"], "admin");
  EXPECT_EQ(ce["requestContext"]["authorizer"]["level"], "3");  // REST-style context: strings
  EXPECT_EQ(ce["requestContext"]["connectionId"], ae["requestContext"]["connectionId"]);
  EXPECT_EQ(ce["stageVariables"], json({{"mode", "test"}}));
  dispatcher_.complete(R"({"statusCode":200})");
  ASSERT_TRUE(socket_);

  message(R"({"action":"send"})");
  EXPECT_EQ(dispatcher_.last_event()["requestContext"]["authorizer"]["principalId"], "user-1");
  socket_->client_close(1000, "bye");
  EXPECT_EQ(dispatcher_.last_event()["requestContext"]["eventType"], "DISCONNECT");
  EXPECT_EQ(dispatcher_.last_event()["requestContext"]["authorizer"]["role"], "admin");
}

TEST_F(WebSocketAuthorizerTest, RefusalsAre401403And500WithoutTheConnectRoute) {
  upgrade("/prod?token=t1");  // no Auth header: 401 without invoking the authorizer
  ASSERT_TRUE(refusal_);
  EXPECT_EQ(refusal_->status, 401u);
  EXPECT_EQ(refusal_->body, R"({"message":"Unauthorized"})");
  EXPECT_TRUE(dispatcher_.dispatched.empty());

  upgrade("/prod?token=t1", {{"Auth", "secret"}});
  dispatcher_.complete(policy("Deny", "*"));
  ASSERT_TRUE(refusal_);
  EXPECT_EQ(refusal_->status, 403u);
  EXPECT_EQ(refusal_->body, R"({"message":"Forbidden"})");

  upgrade("/prod?token=t1", {{"Auth", "secret"}});
  dispatcher_.complete(policy("Allow", "arn:aws:execute-api:*:*:OtherApi/*"));  // allows something else
  EXPECT_EQ(refusal_->status, 403u);

  upgrade("/prod?token=t1", {{"Auth", "secret"}});
  dispatcher_.complete(R"({"errorMessage":"boom"})", invocation::Outcome::kFunctionError, "Error");
  EXPECT_EQ(refusal_->status, 500u);

  upgrade("/prod?token=t1", {{"Auth", "secret"}});
  dispatcher_.complete(R"({"principalId":"x"})");  // no policy: malformed
  EXPECT_EQ(refusal_->status, 500u);

  upgrade("/prod?token=t1", {{"Auth", "secret"}});
  dispatcher_.complete(R"({"errorMessage":"Unauthorized"})", invocation::Outcome::kFunctionError, "Error");
  EXPECT_EQ(refusal_->status, 401u);

  EXPECT_FALSE(socket_);
  for (const auto& inv : dispatcher_.dispatched) EXPECT_EQ(inv->function_name, "Auth");
}

}  // namespace
}  // namespace lambdad::http_front
