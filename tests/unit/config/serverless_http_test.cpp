// The HTTP fronts of serverless.yml (events http, httpApi, websocket; provider.httpApi) as the
// same config::HttpApis a template gives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "lambdad/config/http_apis.hpp"
#include "lambdad/config/serverless.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TemplateLoad load_http(const std::string& yaml) {
  return load_serverless_text(yaml, test::templates_dir() / "serverless" / "serverless.yml", {});
}

// A service with function `hello` whose events are `events` (indented 6), and `provider_extra`
// (indented 2).
std::string http_service(const std::string& events, const std::string& provider_extra = "") {
  return "service: demo\n"
         "provider:\n"
         "  name: aws\n"
         "  runtime: python3.12\n"
         "  stage: test\n" +
         provider_extra +
         "functions:\n"
         "  hello:\n"
         "    handler: handler.hello\n"
         "    events:\n" +
         events;
}

const HttpRoute* route(const TemplateLoad& load, const std::string& api, const std::string& method,
                       const std::string& path) {
  for (const auto& r : load.http.routes) {
    if (r.api_id == api && r.method == method && r.path == path) return &r;
  }
  return nullptr;
}

TEST(ServerlessHttp, HttpEventsMakeTheRestApi) {
  const auto result = load_http(http_service(R"(      - http: {path: 'users/{id}', method: get}
      - http: 'POST /users'
      - http:
          path: /open
          method: any
          cors: true
      - sqs: {arn: 'arn:aws:sqs:us-east-1:1:q'}
)"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_THAT(result.warnings, IsEmpty()) << describe(result);
  ASSERT_EQ(result.http.apis.size(), 1U);
  const HttpApi& api = result.http.apis[0];
  EXPECT_EQ(api.id, "ApiGatewayRestApi");
  EXPECT_EQ(api.kind, HttpApiKind::kRest);
  EXPECT_EQ(api.stage, "test");
  ASSERT_TRUE(api.cors.has_value());
  EXPECT_THAT(api.cors->allow_origins, ElementsAre("*"));
  EXPECT_THAT(api.cors->allow_headers, ::testing::Contains("Authorization"));
  ASSERT_EQ(result.http.routes.size(), 3U);
  const HttpRoute* get = route(result, "ApiGatewayRestApi", "GET", "/users/{id}");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->function_name, "demo-test-hello");
  EXPECT_EQ(get->payload_format_version, "1.0");
  EXPECT_EQ(get->line, 10);
  EXPECT_NE(route(result, "ApiGatewayRestApi", "POST", "/users"), nullptr);
  EXPECT_NE(route(result, "ApiGatewayRestApi", "ANY", "/open"), nullptr);
}

TEST(ServerlessHttp, HttpApiEventsWithProviderCorsAndPayload) {
  const auto result = load_http(http_service(R"(      - httpApi: '*'
      - httpApi: 'GET /items/{id}'
      - httpApi: {method: POST, path: /items}
)",
                                   R"(  httpApi:
    payload: '1.0'
    cors:
      allowedOrigins: [https://app.example]
      allowedHeaders: [Content-Type]
      allowedMethods: [GET, post]
      allowCredentials: true
      exposedResponseHeaders: [X-Total]
      maxAge: 6000
)"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  ASSERT_EQ(result.http.apis.size(), 1U);
  const HttpApi& api = result.http.apis[0];
  EXPECT_EQ(api.id, "HttpApi");
  EXPECT_EQ(api.kind, HttpApiKind::kHttp);
  EXPECT_EQ(api.stage, "$default");
  ASSERT_TRUE(api.cors.has_value());
  EXPECT_THAT(api.cors->allow_origins, ElementsAre("https://app.example"));
  EXPECT_THAT(api.cors->allow_methods, ElementsAre("GET", "POST"));
  EXPECT_THAT(api.cors->expose_headers, ElementsAre("X-Total"));
  EXPECT_EQ(api.cors->max_age_seconds, 6000);
  EXPECT_TRUE(api.cors->allow_credentials);
  const HttpRoute* all = route(result, "HttpApi", "ANY", "$default");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->payload_format_version, "1.0");
  EXPECT_EQ(all->timeout_ms, 30000);
  EXPECT_NE(route(result, "HttpApi", "GET", "/items/{id}"), nullptr);
  EXPECT_NE(route(result, "HttpApi", "POST", "/items"), nullptr);
}

TEST(ServerlessHttp, WebsocketEvents) {
  const auto result = load_http(http_service(R"(      - websocket: $connect
      - websocket: {route: sendMessage, routeResponseSelectionExpression: $default}
)",
                                   "  websocketsApiRouteSelectionExpression: $request.body.type\n"));
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  ASSERT_EQ(result.http.apis.size(), 1U);
  EXPECT_EQ(result.http.apis[0].id, "WebsocketsApi");
  EXPECT_EQ(result.http.apis[0].kind, HttpApiKind::kWebSocket);
  EXPECT_EQ(result.http.apis[0].stage, "test");
  EXPECT_EQ(result.http.apis[0].route_selection_expression, "$request.body.type");
  EXPECT_NE(route(result, "WebsocketsApi", "ANY", "$connect"), nullptr);
  ASSERT_NE(route(result, "WebsocketsApi", "ANY", "sendMessage"), nullptr);
  EXPECT_TRUE(route(result, "WebsocketsApi", "ANY", "sendMessage")->route_response);
  EXPECT_FALSE(route(result, "WebsocketsApi", "ANY", "$connect")->route_response);
}

TEST(ServerlessHttp, VariablesInEventsAreResolved) {
  const auto result = load_http(http_service("      - http: {path: '${self:custom.base}/x', method: get}\n") +
                           "custom:\n  base: api\n");
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  EXPECT_NE(route(result, "ApiGatewayRestApi", "GET", "/api/x"), nullptr) << describe(result);
}

TEST(ServerlessHttp, AuthorizerFunctionsOfTheService) {
  const auto result = load_http(http_service(R"(      - http: {path: /token, method: get, authorizer: auth}
      - http:
          path: /request
          method: get
          authorizer:
            name: auth
            type: request
            resultTtlInSeconds: 0
            identitySource: method.request.header.X-User, method.request.querystring.token
      - http: {path: /elsewhere, method: get, authorizer: {arn: 'arn:aws:lambda:us-east-1:1:function:x'}}
      - httpApi: {path: /h, method: get, authorizer: {name: custom}}
)",
                                   R"(  httpApi:
    authorizers:
      custom:
        type: request
        functionName: auth
        enableSimpleResponses: true
        identitySource: [$request.header.Authorization, $context.identity.sourceIp, $stageVariables.tenant]
        resultTtlInSeconds: 60
)") + "  auth:\n    handler: handler.auth\n");
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  ASSERT_EQ(result.warnings.size(), 1U) << describe(result);
  EXPECT_EQ(result.warnings[0].property, "events.2.http.authorizer");
  const HttpApi* rest = result.http.find_api("ApiGatewayRestApi");
  ASSERT_NE(rest, nullptr);
  ASSERT_EQ(rest->authorizers.size(), 1U);  // one authorizer per function, as the Framework makes it
  EXPECT_EQ(rest->authorizers[0].name, "auth");
  EXPECT_EQ(rest->authorizers[0].function_name, "demo-test-auth");
  EXPECT_EQ(rest->authorizers[0].type, HttpAuthorizer::Type::kToken);
  EXPECT_THAT(rest->authorizers[0].identity_headers, ElementsAre("Authorization"));
  EXPECT_EQ(route(result, "ApiGatewayRestApi", "GET", "/token")->authorizer, "auth");
  EXPECT_EQ(route(result, "ApiGatewayRestApi", "GET", "/request")->authorizer, "auth");
  EXPECT_EQ(route(result, "ApiGatewayRestApi", "GET", "/elsewhere")->authorizer, "");
  const HttpApi* http = result.http.find_api("HttpApi");
  ASSERT_NE(http, nullptr);
  ASSERT_EQ(http->authorizers.size(), 1U);
  EXPECT_EQ(http->authorizers[0].function_name, "demo-test-auth");
  EXPECT_TRUE(http->authorizers[0].simple_responses);
  EXPECT_THAT(http->authorizers[0].identity_headers, ElementsAre("Authorization"));
  EXPECT_THAT(http->authorizers[0].identity_context, ElementsAre("identity.sourceIp"));
  EXPECT_THAT(http->authorizers[0].identity_stage_variables, ElementsAre("tenant"));
  EXPECT_EQ(http->authorizers[0].ttl_seconds, 60);
  EXPECT_EQ(route(result, "HttpApi", "GET", "/h")->authorizer, "custom");
}

TEST(ServerlessHttp, TokenAuthorizersTakeTheirIdentityValidationExpression) {
  const auto result = load_http(http_service(R"(      - http:
          path: /token
          method: get
          authorizer: {name: auth, identityValidationExpression: '^Bearer [a-z]+$'}
)") + "  auth:\n    handler: handler.auth\n");
  ASSERT_TRUE(result.errors.empty()) << describe(result);
  const HttpApi* rest = result.http.find_api("ApiGatewayRestApi");
  ASSERT_NE(rest, nullptr);
  ASSERT_EQ(rest->authorizers.size(), 1U);
  EXPECT_EQ(rest->authorizers[0].validation_expression, "^Bearer [a-z]+$");
}

TEST(ServerlessHttp, WebsocketConnectAuthorizers) {
  const auto result = load_http(http_service(R"(      - websocket:
          route: $connect
          authorizer:
            name: auth
            identitySource: [route.request.header.Auth, route.request.querystring.token, route.request.context.x]
      - websocket: $default
)") + "  auth:\n    handler: handler.auth\n" +
                                "  other:\n    handler: handler.other\n    events:\n"
                                "      - websocket: {route: $disconnect, authorizer: auth}\n");
  ASSERT_EQ(result.errors.size(), 1U) << describe(result);
  EXPECT_EQ(result.errors[0].resource, "other");
  EXPECT_EQ(result.errors[0].property, "events.0.websocket.authorizer");
  EXPECT_THAT(result.errors[0].message, HasSubstr("only the $connect route"));
  ASSERT_EQ(result.warnings.size(), 1U) << describe(result);
  EXPECT_THAT(result.warnings[0].message, HasSubstr("route.request.context.x is not checked locally"));
  const HttpApi* ws = result.http.find_api("WebsocketsApi");
  ASSERT_NE(ws, nullptr);
  ASSERT_EQ(ws->authorizers.size(), 1U);
  const HttpAuthorizer& a = ws->authorizers[0];
  EXPECT_EQ(a.function_name, "demo-test-auth");
  EXPECT_EQ(a.type, HttpAuthorizer::Type::kRequest);
  EXPECT_THAT(a.identity_headers, ElementsAre("Auth"));
  EXPECT_THAT(a.identity_query_strings, ElementsAre("token"));
  EXPECT_EQ(a.ttl_seconds, 0);
  EXPECT_EQ(route(result, "WebsocketsApi", "ANY", "$connect")->authorizer, "auth");
  EXPECT_EQ(route(result, "WebsocketsApi", "ANY", "$default")->authorizer, "");
  EXPECT_EQ(route(result, "WebsocketsApi", "ANY", "$disconnect"), nullptr);

  // A bare function name: the Framework's default identity source, the Auth header.
  const auto bare = load_http(http_service("      - websocket: {route: $connect, authorizer: auth}\n") +
                              "  auth:\n    handler: handler.auth\n");
  ASSERT_TRUE(bare.errors.empty()) << describe(bare);
  EXPECT_THAT(bare.http.find_api("WebsocketsApi")->authorizers.at(0).identity_headers, ElementsAre("Auth"));
}

TEST(ServerlessHttp, ErrorsAreReportedOnTheirLine) {
  const auto result = load_http(http_service(R"(      - http: {path: '/a/{proxy+}/b', method: get}
      - http: {path: /b, method: fetch}
      - httpApi: 'nothing'
      - http: {path: /c}
      - http: {path: /d, method: get, cors: {maxAge: -1}}
      - httpApi: {path: /e, method: get}
      - httpApi: 'GET /e'
)"));
  auto at = [&](const std::string& property) {
    for (const auto& d : result.errors) {
      if (d.resource == "hello" && d.property == property) return d.line;
    }
    ADD_FAILURE() << property << "\n" << describe(result);
    return 0;
  };
  EXPECT_EQ(result.errors.size(), 6U) << describe(result);
  EXPECT_EQ(at("events.0.http.path"), 10);
  EXPECT_EQ(at("events.1.http.method"), 11);
  EXPECT_EQ(at("events.2.httpApi"), 12);
  EXPECT_EQ(at("events.3.http.method"), 13);
  EXPECT_EQ(at("events.4.http.cors.maxAge"), 14);
  EXPECT_EQ(at("events.6.httpApi"), 16);
  EXPECT_EQ(result.http.routes.size(), 1U);
}

}  // namespace
}  // namespace lambdad::config
