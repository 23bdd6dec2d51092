// The front's Lambda authorizers against a scripted Dispatcher and the manual clock: the authorizer
// is an invocation before the route's; 401 without invoking it when an identity source is missing;
// allow, explicit deny, not allowed, failures; its context in the route's event; the cache.
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

using nlohmann::json;


std::string allow_policy(const std::string& resource, json context = nullptr, const std::string& effect = "Allow") {
  json doc = {{"principalId", "user-1"},
              {"policyDocument",
               {{"Version", "2012-10-17"},
                {"Statement", {{{"Action", "execute-api:Invoke"}, {"Effect", effect}, {"Resource", resource}}}}}}};
  if (!context.is_null()) doc["context"] = std::move(context);
  return doc.dump();
}

class FrontAuthorizerTest : public ::testing::Test {
 protected:
  FrontAuthorizerTest() { front_.set_routes(apis()); }

  static config::HttpApis apis() {
    config::HttpApis apis;
    config::HttpApi rest;
    rest.id = "RestApi";
    rest.kind = config::HttpApiKind::kRest;
    rest.stage = "Prod";
    config::HttpAuthorizer token;
    token.name = "TokenAuth";
    token.function_name = "Auth";
    token.identity_headers = {"Authorization"};
    token.ttl_seconds = 300;
    config::HttpAuthorizer request;
    request.name = "RequestAuth";
    request.function_name = "Auth";
    request.type = config::HttpAuthorizer::Type::kRequest;
    request.identity_query_strings = {"key"};
    request.ttl_seconds = 0;
    rest.authorizers = {token, request};
    config::HttpApi http;
    http.id = "HttpApi";
    http.kind = config::HttpApiKind::kHttp;
    http.stage = "$default";
    config::HttpAuthorizer simple;
    simple.name = "Simple";
    simple.function_name = "Auth";
    simple.type = config::HttpAuthorizer::Type::kRequest;
    simple.identity_headers = {"X-Key"};
    simple.payload_format_version = "2.0";
    simple.simple_responses = true;
    simple.ttl_seconds = 60;
    config::HttpAuthorizer open;
    open.name = "Open";
    open.function_name = "Auth";
    open.type = config::HttpAuthorizer::Type::kRequest;
    open.payload_format_version = "1.0";
    open.ttl_seconds = 0;
    http.authorizers = {simple, open};
    apis.apis = {rest, http};
    apis.routes.push_back({"RestApi", "GET", "/items/{id}", "Items", "1.0", 29000, "TokenAuth", "", 0});
    apis.routes.push_back({"RestApi", "GET", "/req", "Items", "1.0", 29000, "RequestAuth", "", 0});
    apis.routes.push_back({"RestApi", "GET", "/broken", "Items", "1.0", 29000, "Missing", "", 0});
    apis.routes.push_back({"HttpApi", "GET", "/hello", "Hello", "2.0", 30000, "Simple", "", 0});
    apis.routes.push_back({"HttpApi", "GET", "/legacy", "Hello", "1.0", 30000, "Open", "", 0});
    return apis;
  }

  static config::HttpApis apis_with_authorizer_function(const std::string& function) {
    auto out = apis();
    for (auto& api : out.apis) {
      for (auto& a : api.authorizers) a.function_name = function;
    }
    return out;
  }

  std::optional<http::Response>& send(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    answer_.reset();
    front_.handle(front_request("GET", target, headers), [this](http::Response r) { answer_ = std::move(r); });
    return answer_;
  }

  json answer_json() const { return json::parse(answer_->body); }

  ScriptedDispatcher dispatcher_;
  test::ManualTime time_;
  Front front_{dispatcher_, time_, time_, FrontOptions{}};
  std::optional<http::Response> answer_;
};

constexpr const char* kItemArn = "arn:aws:execute-api:us-east-1:123456789012:RestApi/Prod/GET/items/7";

TEST_F(FrontAuthorizerTest, RestTokenAllowPassesContextToTheFunction) {
  send("/items/7", {{"Authorization", "Bearer t1"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.dispatched[0]->function_name, "Auth");
  EXPECT_EQ(dispatcher_.event(0),
            json({{"type", "TOKEN"}, {"authorizationToken", "Bearer t1"}, {"methodArn", kItemArn}}));
  time_.advance(std::chrono::milliseconds(7));
  dispatcher_.complete(0, allow_policy("arn:aws:execute-api:*:*:RestApi/*/GET/items/*", {{"user", "u"}, {"n", 1}}));
  ASSERT_FALSE(answer_);
  ASSERT_EQ(dispatcher_.dispatched.size(), 2u);
  EXPECT_EQ(dispatcher_.dispatched[1]->function_name, "Items");
  const auto event = dispatcher_.event(1);
  EXPECT_EQ(event["requestContext"]["authorizer"],
            json({{"user", "u"}, {"n", "1"}, {"principalId", "user-1"}, {"integrationLatency", 7}}));
  EXPECT_EQ(event["pathParameters"], json({{"id", "7"}}));
  dispatcher_.complete(1, R"({"statusCode":200,"body":"ok"})");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 200u);
  EXPECT_EQ(answer_->body, "ok");
}

TEST_F(FrontAuthorizerTest, RestMissingTokenIs401WithoutInvokingTheAuthorizer) {
  send("/items/7");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 401u);
  EXPECT_EQ(answer_->body, R"({"message":"Unauthorized"})");
  EXPECT_EQ(answer_->headers.get("x-amzn-ErrorType"), "UnauthorizedException");
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(FrontAuthorizerTest, RestDenyAndNotAllowedAre403WithTheirMessages) {
  send("/items/7", {{"Authorization", "deny"}});
  dispatcher_.complete(0, allow_policy(kItemArn, nullptr, "Deny"));
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 403u);
  EXPECT_EQ(answer_->body, R"({"Message":"User is not authorized to access this resource with an explicit deny"})");
  EXPECT_EQ(dispatcher_.dispatched.size(), 1u);

  send("/items/7", {{"Authorization", "elsewhere"}});
  dispatcher_.complete(1, allow_policy("arn:aws:execute-api:*:*:OtherApi/*"));
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 403u);
  EXPECT_EQ(answer_->body, R"({"Message":"User is not authorized to access this resource"})");
  EXPECT_EQ(dispatcher_.dispatched.size(), 2u);
}

TEST_F(FrontAuthorizerTest, RestTokenFailingTheValidationExpressionIs401WithoutInvoking) {
  auto apis = FrontAuthorizerTest::apis();
  apis.apis[0].authorizers[0].validation_expression = "Bearer [a-z0-9]+";
  front_.set_routes(apis);
  send("/items/7", {{"Authorization", "Basic abc"}});
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 401u);
  EXPECT_TRUE(dispatcher_.dispatched.empty());
  send("/items/7", {{"Authorization", "Bearer abc1"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.event(0)["authorizationToken"], "Bearer abc1");
}

TEST_F(FrontAuthorizerTest, RestAuthorizerErrors) {
  send("/items/7", {{"Authorization", "a"}});
  dispatcher_.complete(0, R"({"errorMessage":"Unauthorized","errorType":"Exception"})",
                       invocation::Outcome::kFunctionError);
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 401u);

  send("/items/7", {{"Authorization", "b"}});
  dispatcher_.complete(1, R"({"errorMessage":"boom","errorType":"Exception"})", invocation::Outcome::kFunctionError);
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 500u);
  EXPECT_EQ(answer_->body, R"({"message":null})");
  EXPECT_EQ(answer_->headers.get("x-amzn-ErrorType"), "AuthorizerConfigurationException");

  send("/items/7", {{"Authorization", "c"}});
  dispatcher_.complete(2, R"({"principalId":"p"})");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 500u);
  EXPECT_EQ(dispatcher_.dispatched.size(), 3u);

  // An authorizer function the dispatcher does not know.
  auto apis = apis_with_authorizer_function("Missing");
  front_.set_routes(apis);
  send("/items/7", {{"Authorization", "d"}});
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 500u);
  EXPECT_EQ(dispatcher_.dispatched.size(), 3u);
}

TEST_F(FrontAuthorizerTest, ResultsAreCachedByTokenForTheTtlAndEvaluatedPerMethodArn) {
  send("/items/7", {{"Authorization", "t"}});
  dispatcher_.complete(0, allow_policy(kItemArn));
  dispatcher_.complete(1, R"({"statusCode":200})");
  ASSERT_EQ(answer_->status, 200u);

  send("/items/7", {{"Authorization", "t"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 3u) << "the cached result is used";
  EXPECT_EQ(dispatcher_.dispatched[2]->function_name, "Items");
  EXPECT_EQ(dispatcher_.event(2)["requestContext"]["authorizer"]["integrationLatency"], 0);
  dispatcher_.complete(2, R"({"statusCode":200})");

  // The cached policy allows only /items/7.
  send("/items/8", {{"Authorization", "t"}});
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 403u);
  EXPECT_EQ(dispatcher_.dispatched.size(), 3u);

  // Another token is another key.
  send("/items/7", {{"Authorization", "u"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 4u);
  EXPECT_EQ(dispatcher_.dispatched[3]->function_name, "Auth");
  dispatcher_.complete(3, allow_policy(kItemArn, nullptr, "Deny"));

  time_.advance(std::chrono::seconds(300));
  send("/items/7", {{"Authorization", "t"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 5u);
  EXPECT_EQ(dispatcher_.dispatched[4]->function_name, "Auth") << "past the TTL the authorizer runs again";
}

TEST_F(FrontAuthorizerTest, RestRequestAuthorizerEventAndNoCacheWithTtlZero) {
  send("/req?key=k1&x=1", {{"X-Trace", "a"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  const auto event = dispatcher_.event(0);
  EXPECT_EQ(event["type"], "REQUEST");
  EXPECT_EQ(event["methodArn"], "arn:aws:execute-api:us-east-1:123456789012:RestApi/Prod/GET/req");
  EXPECT_EQ(event["resource"], "/req");
  EXPECT_EQ(event["httpMethod"], "GET");
  EXPECT_EQ(event["headers"]["X-Trace"], "a");
  EXPECT_EQ(event["queryStringParameters"], json({{"key", "k1"}, {"x", "1"}}));
  EXPECT_EQ(event["multiValueQueryStringParameters"]["key"], json({"k1"}));
  EXPECT_FALSE(event.contains("body"));
  dispatcher_.complete(0, allow_policy("*"));
  EXPECT_EQ(dispatcher_.event(1)["requestContext"]["requestId"], event["requestContext"]["requestId"]);
  dispatcher_.complete(1, R"({"statusCode":200})");
  send("/req?key=k1");
  EXPECT_EQ(dispatcher_.dispatched.size(), 3u) << "TTL 0: invoked again";
  send("/req?other=1");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 401u);
}

TEST_F(FrontAuthorizerTest, UnknownAuthorizerNameServesTheRouteUnchecked) {
  send("/broken");
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.dispatched[0]->function_name, "Items");
}

TEST_F(FrontAuthorizerTest, HttpApiSimpleResponses) {
  send("/hello");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 401u);
  EXPECT_EQ(answer_->body, R"({"message":"Unauthorized"})");

  send("/hello?q=1", {{"X-Key", "no"}, {"Cookie", "c=1"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  const auto event = dispatcher_.event(0);
  EXPECT_EQ(event["version"], "2.0");
  EXPECT_EQ(event["type"], "REQUEST");
  EXPECT_EQ(event["routeArn"], "arn:aws:execute-api:us-east-1:123456789012:HttpApi/$default/GET/hello");
  EXPECT_EQ(event["identitySource"], json({"no"}));
  EXPECT_EQ(event["routeKey"], "GET /hello");
  EXPECT_EQ(event["rawQueryString"], "q=1");
  EXPECT_EQ(event["cookies"], json({"c=1"}));
  EXPECT_EQ(event["headers"]["x-key"], "no");
  dispatcher_.complete(0, R"({"isAuthorized":false})");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 403u);
  EXPECT_EQ(answer_->body, R"({"message":"Forbidden"})");

  send("/hello", {{"X-Key", "yes"}});
  dispatcher_.complete(1, R"({"isAuthorized":true,"context":{"user":"u","n":1,"list":[1]}})");
  ASSERT_EQ(dispatcher_.dispatched.size(), 3u);
  EXPECT_EQ(dispatcher_.event(2)["requestContext"]["authorizer"],
            json({{"lambda", {{"user", "u"}, {"n", 1}, {"list", {1}}}}}));
  dispatcher_.complete(2, R"({"ok":true})");
  EXPECT_EQ(answer_->status, 200u);

  // Cached by X-Key for 60 s: the denial too.
  send("/hello", {{"X-Key", "no"}});
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 403u);
  EXPECT_EQ(dispatcher_.dispatched.size(), 3u);

  send("/hello", {{"X-Key", "yes"}});
  EXPECT_EQ(dispatcher_.dispatched.size(), 4u);
  EXPECT_EQ(dispatcher_.dispatched[3]->function_name, "Hello");
}

TEST_F(FrontAuthorizerTest, HttpApiAuthorizerWithoutIdentitySourcesIsNeverCachedAndFailsAs500) {
  send("/legacy");
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  const auto event = dispatcher_.event(0);
  EXPECT_EQ(event["version"], "1.0");
  EXPECT_EQ(event["type"], "REQUEST");
  EXPECT_EQ(event["identitySource"], "");
  EXPECT_EQ(event["methodArn"], "arn:aws:execute-api:us-east-1:123456789012:HttpApi/$default/GET/legacy");
  dispatcher_.complete(0, allow_policy("*", {{"n", 1}}));
  ASSERT_EQ(dispatcher_.dispatched.size(), 2u);
  EXPECT_EQ(dispatcher_.event(1)["requestContext"]["authorizer"],
            json({{"n", 1}, {"principalId", "user-1"}, {"integrationLatency", 0}}));
  dispatcher_.complete(1, R"({"statusCode":204})");
  EXPECT_EQ(answer_->status, 204u);

  send("/legacy");
  ASSERT_EQ(dispatcher_.dispatched.size(), 3u);
  EXPECT_EQ(dispatcher_.dispatched[2]->function_name, "Auth");
  dispatcher_.complete(2, R"({"errorMessage":"Unauthorized"})", invocation::Outcome::kFunctionError);
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 500u);
  EXPECT_EQ(answer_->body, R"({"message":"Internal Server Error"})");
}

TEST_F(FrontAuthorizerTest, IdentitySourcesReadTheStageVariablesAndTheRequestContext) {
  auto a = apis();
  a.apis[1].stage_variables = {{"tenant", "acme"}};
  a.apis[1].authorizers[0].identity_headers.clear();
  a.apis[1].authorizers[0].identity_stage_variables = {"tenant"};
  a.apis[1].authorizers[0].identity_context = {"identity.sourceIp"};
  front_.set_routes(a);
  send("/hello");
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.event(0)["identitySource"], json({"acme", "127.0.0.1"}));

  a.apis[1].stage_variables.clear();  // the source is missing: 401 without an invoke
  front_.set_routes(a);
  send("/hello");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 401u);
  EXPECT_EQ(dispatcher_.dispatched.size(), 1u);
}

}  // namespace
}  // namespace lambdad::http_front
