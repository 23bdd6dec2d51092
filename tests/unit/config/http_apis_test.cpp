// The HTTP fronts a SAM template declares (decision 020): Api / HttpApi events, the APIs they
// belong to, FunctionUrlConfig and ApiGatewayV2 WebSocket APIs, as config::HttpApis.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "lambdad/config/http_apis.hpp"
#include "lambdad/config/sam_template.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::load_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The 1-based line of the first line of `text` containing `needle`.
int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

// A template with the functions Hello (named hello-fn) and Auth, plus `resources` (indented 2)
// and Hello's `events` (indented 8 under Events:).
std::string with_events(const std::string& events, const std::string& resources = "",
                        const std::string& hello_extra = "") {
  return test::hello_and_auth(events, resources, hello_extra);
}

const HttpRoute* route(const TemplateLoad& load, const std::string& api, const std::string& method,
                       const std::string& path) {
  for (const auto& r : load.http.routes) {
    if (r.api_id == api && r.method == method && r.path == path) return &r;
  }
  return nullptr;
}

// The only error, checked to sit at `line` on `property` of `resource`; its message.
std::string only_error(const TemplateLoad& load, int line, const std::string& resource, const std::string& property) {
  EXPECT_EQ(load.errors.size(), 1U) << describe(load);
  if (load.errors.empty()) return {};
  const Diagnostic& d = load.errors.front();
  EXPECT_EQ(d.line, line) << describe(load);
  EXPECT_EQ(d.resource, resource) << describe(load);
  EXPECT_EQ(d.property, property) << describe(load);
  return d.message;
}

TEST(HttpApis, ATemplateWithoutHttpEventsHasNoFronts) {
  const auto load = load_text(with_events(""));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_TRUE(load.http.empty());
}

TEST(HttpApis, ApiEventsWithoutRestApiIdShareTheImplicitRestApi) {
  const auto load = load_text(with_events(R"(        Get:
          Type: Api
          Properties: {Path: "/items/{id}", Method: get}
        Any:
          Type: Api
          Properties: {Path: "proxy/{proxy+}/", Method: ANY, TimeoutInMillis: 5000}
        Queue:
          Type: SQS
          Properties: {Queue: !GetAtt Q.Arn}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  ASSERT_EQ(load.http.apis.size(), 1U);
  const HttpApi& api = load.http.apis[0];
  EXPECT_EQ(api.id, "ServerlessRestApi");
  EXPECT_EQ(api.kind, HttpApiKind::kRest);
  EXPECT_TRUE(api.implicit);
  EXPECT_EQ(api.stage, "Prod");
  EXPECT_FALSE(api.cors.has_value());
  ASSERT_EQ(load.http.routes.size(), 2U);
  const HttpRoute* get = route(load, "ServerlessRestApi", "GET", "/items/{id}");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->function_name, "hello-fn");
  EXPECT_EQ(get->payload_format_version, "1.0");
  EXPECT_EQ(get->timeout_ms, 29000);
  EXPECT_EQ(get->authorizer, "");
  EXPECT_EQ(get->source, "Hello.Properties.Events.Get");
  const HttpRoute* any = route(load, "ServerlessRestApi", "ANY", "/proxy/{proxy+}");
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->timeout_ms, 5000);
  EXPECT_TRUE(load.http.urls.empty());
}

TEST(HttpApis, HttpApiEventsDefaultToTheDefaultRouteAndPayloadTwo) {
  const auto load = load_text(with_events(R"(        Everything:
          Type: HttpApi
        Old:
          Type: HttpApi
          Properties: {Path: /old, Method: post, PayloadFormatVersion: "1.0", TimeoutInMillis: 100}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.http.apis.size(), 1U);
  EXPECT_EQ(load.http.apis[0].id, "ServerlessHttpApi");
  EXPECT_EQ(load.http.apis[0].kind, HttpApiKind::kHttp);
  EXPECT_EQ(load.http.apis[0].stage, "$default");
  const HttpRoute* all = route(load, "ServerlessHttpApi", "ANY", "$default");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->payload_format_version, "2.0");
  EXPECT_EQ(all->timeout_ms, 30000);
  const HttpRoute* old = route(load, "ServerlessHttpApi", "POST", "/old");
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->payload_format_version, "1.0");
  EXPECT_EQ(old->timeout_ms, 100);
}

TEST(HttpApis, ExplicitRestApiWithCorsBinaryTypesAndLambdaAuthorizers) {
  const std::string text = with_events(R"(        Open:
          Type: Api
          Properties:
            Path: /open
            Method: get
            RestApiId: !Ref MyApi
            Auth: {Authorizer: NONE}
        ByDefault:
          Type: Api
          Properties: {Path: /mine, Method: get, RestApiId: !Ref MyApi}
        ByRequest:
          Type: Api
          Properties: {Path: /req, Method: post, RestApiId: !Ref MyApi, Auth: {Authorizer: ReqAuth}}
)",
                                       R"(  MyApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      BinaryMediaTypes: ["image~1png", "*/*"]
      Cors:
        AllowOrigin: "'https://example.com'"
        AllowMethods: "'get, POST'"
        AllowHeaders: "'Content-Type,X-Api-Key'"
        MaxAge: "'600'"
        AllowCredentials: true
      Auth:
        DefaultAuthorizer: TokenAuth
        Authorizers:
          TokenAuth:
            FunctionArn: !GetAtt Auth.Arn
          ReqAuth:
            FunctionArn: !GetAtt Auth.Arn
            FunctionPayloadType: REQUEST
            Identity: {Headers: [X-User], QueryStrings: [token], ReauthorizeEvery: 0}
)");
  const auto load = load_text(text);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  const HttpApi* api = load.http.find_api("MyApi");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(load.http.apis.size(), 1U);  // no implicit API
  EXPECT_EQ(api->kind, HttpApiKind::kRest);
  EXPECT_FALSE(api->implicit);
  EXPECT_EQ(api->stage, "dev");
  EXPECT_EQ(api->line, line_of(text, "  MyApi:"));
  EXPECT_THAT(api->binary_media_types, ElementsAre("image/png", "*/*"));
  ASSERT_TRUE(api->cors.has_value());
  EXPECT_THAT(api->cors->allow_origins, ElementsAre("https://example.com"));
  EXPECT_THAT(api->cors->allow_methods, ElementsAre("GET", "POST"));
  EXPECT_THAT(api->cors->allow_headers, ElementsAre("Content-Type", "X-Api-Key"));
  EXPECT_EQ(api->cors->max_age_seconds, 600);
  EXPECT_TRUE(api->cors->allow_credentials);
  EXPECT_EQ(api->default_authorizer, "TokenAuth");
  ASSERT_EQ(api->authorizers.size(), 2U);
  const HttpAuthorizer& token = api->authorizers[0];
  EXPECT_EQ(token.name, "TokenAuth");
  EXPECT_EQ(token.function_name, "Auth");
  EXPECT_EQ(token.type, HttpAuthorizer::Type::kToken);
  EXPECT_THAT(token.identity_headers, ElementsAre("Authorization"));
  EXPECT_EQ(token.ttl_seconds, 300);
  const HttpAuthorizer& request = api->authorizers[1];
  EXPECT_EQ(request.type, HttpAuthorizer::Type::kRequest);
  EXPECT_THAT(request.identity_headers, ElementsAre("X-User"));
  EXPECT_THAT(request.identity_query_strings, ElementsAre("token"));
  EXPECT_EQ(request.ttl_seconds, 0);

  ASSERT_NE(route(load, "MyApi", "GET", "/open"), nullptr);
  EXPECT_EQ(route(load, "MyApi", "GET", "/open")->authorizer, "");
  ASSERT_NE(route(load, "MyApi", "GET", "/mine"), nullptr);
  EXPECT_EQ(route(load, "MyApi", "GET", "/mine")->authorizer, "TokenAuth");
  ASSERT_NE(route(load, "MyApi", "POST", "/req"), nullptr);
  EXPECT_EQ(route(load, "MyApi", "POST", "/req")->authorizer, "ReqAuth");
}

TEST(HttpApis, RestCorsStringFormIsTheOriginAlone) {
  const auto load = load_text(with_events(R"(        Get:
          Type: Api
          Properties: {Path: /, Method: get, RestApiId: !Ref MyApi}
)",
                                          "  MyApi:\n    Type: AWS::Serverless::Api\n"
                                          "    Properties: {StageName: Prod, Cors: \"'*'\"}\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const HttpApi* api = load.http.find_api("MyApi");
  ASSERT_NE(api, nullptr);
  ASSERT_TRUE(api->cors.has_value());
  EXPECT_THAT(api->cors->allow_origins, ElementsAre("*"));
  EXPECT_THAT(api->cors->allow_methods, IsEmpty());
  EXPECT_FALSE(api->cors->max_age_seconds.has_value());
  EXPECT_NE(route(load, "MyApi", "GET", "/"), nullptr);
}

TEST(HttpApis, ExplicitHttpApiWithCorsConfigurationAndAuthorizer) {
  const auto load = load_text(with_events(R"(        Get:
          Type: HttpApi
          Properties: {Path: /items, Method: GET, ApiId: !Ref Front}
        Public:
          Type: HttpApi
          Properties: {Path: /public, Method: GET, ApiId: !Ref Front, Auth: {Authorizer: NONE}}
)",
                                          R"(  Front:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: v1
      CorsConfiguration:
        AllowOrigins: [https://a.example, https://b.example]
        AllowMethods: [GET, post]
        AllowHeaders: [authorization]
        ExposeHeaders: [x-total]
        MaxAge: 300
        AllowCredentials: false
      Auth:
        DefaultAuthorizer: Lambda
        Authorizers:
          Lambda:
            FunctionArn: !GetAtt Auth.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization]}
  All:
    Type: AWS::Serverless::HttpApi
    Properties: {CorsConfiguration: true}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  const HttpApi* api = load.http.find_api("Front");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->kind, HttpApiKind::kHttp);
  EXPECT_EQ(api->stage, "v1");
  ASSERT_TRUE(api->cors.has_value());
  EXPECT_THAT(api->cors->allow_origins, ElementsAre("https://a.example", "https://b.example"));
  EXPECT_THAT(api->cors->allow_methods, ElementsAre("GET", "POST"));
  EXPECT_THAT(api->cors->expose_headers, ElementsAre("x-total"));
  EXPECT_EQ(api->cors->max_age_seconds, 300);
  EXPECT_FALSE(api->cors->allow_credentials);
  ASSERT_EQ(api->authorizers.size(), 1U);
  EXPECT_EQ(api->authorizers[0].type, HttpAuthorizer::Type::kRequest);
  EXPECT_EQ(api->authorizers[0].payload_format_version, "2.0");
  EXPECT_TRUE(api->authorizers[0].simple_responses);
  EXPECT_EQ(api->authorizers[0].ttl_seconds, 300);
  EXPECT_EQ(route(load, "Front", "GET", "/items")->authorizer, "Lambda");
  EXPECT_EQ(route(load, "Front", "GET", "/public")->authorizer, "");

  const HttpApi* all = load.http.find_api("All");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->stage, "$default");
  ASSERT_TRUE(all->cors.has_value());
  EXPECT_THAT(all->cors->allow_origins, ElementsAre("*"));
  EXPECT_THAT(all->cors->allow_methods, ElementsAre("*"));
  EXPECT_THAT(all->cors->allow_headers, ElementsAre("*"));
}

TEST(HttpApis, GlobalsShapeImplicitAndExplicitApis) {
  const auto load = load_text(with_events(R"(        Rest:
          Type: Api
          Properties: {Path: /r, Method: get}
        Http:
          Type: HttpApi
          Properties: {Path: /h, Method: get, ApiId: !Ref Front}
)",
                                          R"(  Front:
    Type: AWS::Serverless::HttpApi
    Properties: {CorsConfiguration: {AllowOrigins: [https://mine.example]}}
Globals:
  Api:
    Cors: "'*'"
    Auth:
      DefaultAuthorizer: Token
      Authorizers: {Token: {FunctionArn: !GetAtt Auth.Arn}}
  HttpApi:
    CorsConfiguration: {AllowOrigins: [https://global.example], MaxAge: 60}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const HttpApi* rest = load.http.find_api("ServerlessRestApi");
  ASSERT_NE(rest, nullptr);
  ASSERT_TRUE(rest->cors.has_value());
  EXPECT_THAT(rest->cors->allow_origins, ElementsAre("*"));
  EXPECT_EQ(rest->default_authorizer, "Token");
  EXPECT_EQ(route(load, "ServerlessRestApi", "GET", "/r")->authorizer, "Token");
  const HttpApi* front = load.http.find_api("Front");
  ASSERT_NE(front, nullptr);
  ASSERT_TRUE(front->cors.has_value());
  // Lists concatenate (Globals first) and maps merge, as for functions.
  EXPECT_THAT(front->cors->allow_origins, ElementsAre("https://global.example", "https://mine.example"));
  EXPECT_EQ(front->cors->max_age_seconds, 60);
}

TEST(HttpApis, AnErrorInGlobalsApiIsReportedThere) {
  const std::string text = with_events(R"(        Rest:
          Type: Api
          Properties: {Path: /r, Method: get}
)") + "Globals:\n  Api:\n    Cors: {AllowOrigin: '*'}\n";
  const auto load = load_text(text);
  only_error(load, line_of(text, "{AllowOrigin"), "Globals", "Api.Cors.AllowOrigin");
  EXPECT_TRUE(load.http.routes.empty());
}

TEST(HttpApis, AnApiWhoseConditionIsFalseDoesNotExist) {
  const std::string text = "Conditions:\n  Never: !Equals [a, b]\n" + with_events(R"(        Get:
          Type: Api
          Properties: {Path: /x, Method: get, RestApiId: !Ref Gone}
)",
                                                                                 R"(  Gone:
    Type: AWS::Serverless::Api
    Condition: Never
    Properties: {StageName: Prod}
  Here:
    Type: AWS::Serverless::HttpApi
    Properties: {}
)");
  const auto load = load_text(text);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(load.http.find_api("Gone"), nullptr);
  EXPECT_NE(load.http.find_api("Here"), nullptr);
  EXPECT_TRUE(load.http.routes.empty());
  EXPECT_NE(find_diagnostic(load.warnings, "Hello", "Properties.Events.Get.Properties.RestApiId"), nullptr)
      << describe(load);
}

TEST(HttpApis, FunctionUrlConfig) {
  const auto load = load_text(with_events("", "",
                                          R"(      FunctionUrlConfig:
        AuthType: AWS_IAM
        InvokeMode: RESPONSE_STREAM
        Cors:
          AllowOrigins: ["*"]
          AllowMethods: [GET, "*"]
          AllowHeaders: [content-type]
          ExposeHeaders: [x-id]
          MaxAge: 86400
          AllowCredentials: true
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  ASSERT_EQ(load.http.urls.size(), 1U);
  const FunctionUrl& url = load.http.urls[0];
  EXPECT_EQ(url.function_name, "hello-fn");
  EXPECT_EQ(url.auth_type, FunctionUrl::AuthType::kAwsIam);
  EXPECT_EQ(url.invoke_mode, FunctionUrl::InvokeMode::kResponseStream);
  ASSERT_TRUE(url.cors.has_value());
  EXPECT_THAT(url.cors->allow_methods, ElementsAre("GET", "*"));
  EXPECT_EQ(url.cors->max_age_seconds, 86400);
  EXPECT_TRUE(url.cors->allow_credentials);
  EXPECT_TRUE(load.http.apis.empty());
}

TEST(HttpApis, FunctionUrlDefaultsAndGlobals) {
  const auto load = load_text(with_events("") + "Globals:\n  Function:\n    FunctionUrlConfig: {AuthType: NONE}\n");
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_EQ(load.http.urls.size(), 2U);  // both functions inherit it
  EXPECT_EQ(load.http.urls[0].auth_type, FunctionUrl::AuthType::kNone);
  EXPECT_EQ(load.http.urls[0].invoke_mode, FunctionUrl::InvokeMode::kBuffered);
  EXPECT_FALSE(load.http.urls[0].cors.has_value());
  EXPECT_EQ(load.http.urls[1].function_name, "Auth");
}

// A WebSocket API named Chat, as template resources (indented 2).
constexpr std::string_view kChatApi = R"(  Chat:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: chat, ProtocolType: WEBSOCKET}
)";

TEST(HttpApis, WebSocketApiFromApiGatewayV2Resources) {
  const std::string text = with_events("", std::string(kChatApi) + R"(  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Chat
      RouteKey: $connect
      Target: !Join ['/', [integrations, !Ref HelloIntegration]]
  SendRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Chat
      RouteKey: sendMessage
      RouteResponseSelectionExpression: $default
      Target: !Sub integrations/${HelloIntegration}
  SendResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: {ApiId: !Ref Chat, RouteId: !Ref SendRoute, RouteResponseKey: $default}
  AuthRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Chat, RouteKey: $default, Target: !Sub "integrations/${AuthIntegration}"}
  HelloIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Chat
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Hello.Arn}/invocations
  AuthIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Chat, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Auth.Arn}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Chat, StageName: production}
)");
  const auto load = load_text(text);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.warnings, IsEmpty()) << describe(load);
  const HttpApi* api = load.http.find_api("Chat");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->kind, HttpApiKind::kWebSocket);
  EXPECT_EQ(api->stage, "production");
  EXPECT_EQ(api->route_selection_expression, "$request.body.action");
  ASSERT_EQ(load.http.routes.size(), 3U);
  const HttpRoute* connect = route(load, "Chat", "ANY", "$connect");
  ASSERT_NE(connect, nullptr);
  EXPECT_EQ(connect->function_name, "hello-fn");
  EXPECT_EQ(connect->line, line_of(text, "  ConnectRoute:"));
  EXPECT_EQ(route(load, "Chat", "ANY", "sendMessage")->function_name, "hello-fn");
  EXPECT_TRUE(route(load, "Chat", "ANY", "sendMessage")->route_response);
  EXPECT_FALSE(connect->route_response);
  EXPECT_EQ(route(load, "Chat", "ANY", "$default")->function_name, "Auth");
}

TEST(HttpApis, AWebSocketRouteIsTwoWayOnlyWithItsExpressionAndARouteResponse) {
  const std::string text = with_events("", std::string(kChatApi) + R"(  Expression:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Chat, RouteKey: a, RouteResponseSelectionExpression: $default, Target: !Sub "integrations/${I}"}
  Response:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Chat, RouteKey: b, Target: !Sub "integrations/${I}"}
  BResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: {ApiId: !Ref Chat, RouteId: !Ref Response, RouteResponseKey: $default}
  I:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Chat, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Auth.Arn}
)");
  const auto load = load_text(text);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_FALSE(route(load, "Chat", "ANY", "a")->route_response);
  EXPECT_FALSE(route(load, "Chat", "ANY", "b")->route_response);
  ASSERT_EQ(load.warnings.size(), 2U) << describe(load);
  EXPECT_THAT(load.warnings[0].to_string(), HasSubstr("no AWS::ApiGatewayV2::RouteResponse"));
  EXPECT_THAT(load.warnings[1].to_string(), HasSubstr("has a RouteResponse but no RouteResponseSelectionExpression"));

  const std::string other = text + R"(  AResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: {ApiId: !Ref Chat, RouteId: !Ref Expression, RouteResponseKey: $other}
)";
  EXPECT_THAT(only_error(load_text(other), line_of(other, "RouteResponseKey: $other"), "AResponse",
                         "Properties.RouteResponseKey"),
              HasSubstr("only the $default route response (got $other)"));
}

// --- errors, each with its line -------------------------------------------------------------

struct BadEvent {
  std::string event;     // the event's Properties line (flow mapping)
  std::string property;  // the property reported, after Properties.Events.E.Properties
  std::string message;   // part of the message
  std::string type = "Api";
};

class HttpEventErrors : public ::testing::TestWithParam<BadEvent> {};

TEST_P(HttpEventErrors, AreReportedOnTheirLine) {
  const BadEvent& bad = GetParam();
  const std::string text = with_events("        E:\n          Type: " + bad.type + "\n          Properties: " +
                                       bad.event + "\n");
  const auto load = load_text(text);
  const std::string message = only_error(load, line_of(text, "          Properties: {"), "Hello",
                                         "Properties.Events.E.Properties" + bad.property);
  EXPECT_THAT(message, HasSubstr(bad.message));
  EXPECT_TRUE(load.http.routes.empty());
}

INSTANTIATE_TEST_SUITE_P(
    All, HttpEventErrors,
    ::testing::Values(BadEvent{"{Path: \"/a/{proxy+}/b\", Method: get}", ".Path", "must be the last segment"},
                      BadEvent{"{Path: \"/a/x{id}\", Method: get}", ".Path", "must be a whole segment"},
                      BadEvent{"{Path: \"/a/{}\", Method: get}", ".Path", "must be a whole segment"},
                      BadEvent{"{Path: /a//b, Method: get}", ".Path", "empty segment"},
                      BadEvent{"{Path: /a, Method: fetch}", ".Method", "fetch is not a method"},
                      BadEvent{"{Method: get}", ".Path", "required property is missing"},
                      BadEvent{"{Path: /a, Method: get, TimeoutInMillis: 29001}", ".TimeoutInMillis",
                               "between 50 and 29000"},
                      BadEvent{"{Path: /a, Method: get, Auth: {Authorizer: Nope}}", ".Auth.Authorizer",
                               "Nope is not an authorizer of ServerlessRestApi"},
                      BadEvent{"{PayloadFormatVersion: '3.0'}", ".PayloadFormatVersion", "must be \"1.0\" or \"2.0\"",
                               "HttpApi"},
                      BadEvent{"{TimeoutInMillis: 30001}", ".TimeoutInMillis", "between 50 and 30000", "HttpApi"},
                      BadEvent{"{Method: get}", ".Method", "the $default route takes every method", "HttpApi"}));

TEST(HttpApis, ARouteDeclaredTwiceIsAnError) {
  const std::string text = with_events(R"(        A:
          Type: Api
          Properties: {Path: /x, Method: get}
        B:
          Type: Api
          Properties: {Path: x/, Method: GET}
)");
  const auto load = load_text(text);
  const std::string message = only_error(load, line_of(text, "        B:"), "Hello", "Properties.Events.B");
  EXPECT_THAT(message, HasSubstr("already routed by Hello.Properties.Events.A"));
  EXPECT_EQ(load.http.routes.size(), 1U);
}

TEST(HttpApis, AnEventNamingNoApiOfTheTemplateIsNotServed) {
  const std::string text = with_events(R"(        Api:
          Type: Api
          Properties: {Path: /hello, Method: get, RestApiId: !Ref MissingApi}
)");
  const auto load = load_text(text);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const Diagnostic* w = find_diagnostic(load.warnings, "Hello", "Properties.Events.Api.Properties.RestApiId");
  ASSERT_NE(w, nullptr) << describe(load);
  EXPECT_EQ(w->line, line_of(text, "Properties: {Path: /hello"));
  EXPECT_THAT(w->message, HasSubstr("MissingApi names no AWS::Serverless::Api"));
  EXPECT_TRUE(load.http.routes.empty());
}

TEST(HttpApis, ApiResourceErrors) {
  const std::string text = with_events("", R"(  NoStage:
    Type: AWS::Serverless::Api
    Properties: {Cors: {AllowOrigin: "*"}}
  BadAuth:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Missing
        Authorizers:
          NotLocal:
            FunctionArn: arn:aws:lambda:us-east-1:123456789012:function:elsewhere
            AuthorizerPayloadFormatVersion: "2.0"
          Old:
            FunctionArn: !GetAtt Auth.Arn
            AuthorizerPayloadFormatVersion: "1.0"
            EnableSimpleResponses: true
)");
  const auto load = load_text(text);
  ASSERT_EQ(load.errors.size(), 5U) << describe(load);
  auto at = [&](const std::string& resource, const std::string& property) {
    const Diagnostic* d = find_diagnostic(load.errors, resource, property);
    EXPECT_NE(d, nullptr) << resource << " " << property << "\n" << describe(load);
    return d == nullptr ? 0 : d->line;
  };
  EXPECT_EQ(at("NoStage", "Properties.StageName"), line_of(text, "{Cors: {AllowOrigin"));
  EXPECT_EQ(at("NoStage", "Properties.Cors.AllowOrigin"), line_of(text, "{Cors: {AllowOrigin"));
  EXPECT_EQ(at("BadAuth", "Properties.Auth.Authorizers.NotLocal.FunctionArn"),
            line_of(text, "function:elsewhere"));
  EXPECT_EQ(at("BadAuth", "Properties.Auth.Authorizers.Old.EnableSimpleResponses"),
            line_of(text, "EnableSimpleResponses"));
  EXPECT_EQ(at("BadAuth", "Properties.Auth.DefaultAuthorizer"), line_of(text, "DefaultAuthorizer: Missing"));
}

TEST(HttpApis, FunctionUrlErrors) {
  const std::string text = with_events("", "",
                                       R"(      FunctionUrlConfig:
        InvokeMode: STREAM
        Cors:
          AllowMethods: [GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS]
          MaxAge: 86401
)");
  const auto load = load_text(text);
  ASSERT_EQ(load.errors.size(), 4U) << describe(load);
  auto at = [&](const std::string& property) {
    const Diagnostic* d = find_diagnostic(load.errors, "Hello", "Properties.FunctionUrlConfig" + property);
    EXPECT_NE(d, nullptr) << property << "\n" << describe(load);
    return d == nullptr ? 0 : d->line;
  };
  EXPECT_EQ(at(".AuthType"), line_of(text, "FunctionUrlConfig:"));
  EXPECT_EQ(at(".InvokeMode"), line_of(text, "InvokeMode: STREAM"));
  EXPECT_EQ(at(".Cors.AllowMethods"), line_of(text, "AllowMethods:"));
  EXPECT_EQ(at(".Cors.MaxAge"), line_of(text, "MaxAge: 86401"));
  EXPECT_TRUE(load.http.urls.empty());
}

TEST(HttpApis, WebSocketErrors) {
  const std::string text = with_events("", R"(  Chat:
    Type: AWS::ApiGatewayV2::Api
    Properties: {ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.header.x}
  Chat2:
    Type: AWS::ApiGatewayV2::Api
    Properties: {ProtocolType: WEBSOCKET}
  BadTarget:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Chat2, RouteKey: $connect, Target: !Ref Integ}
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Chat2, RouteKey: $default, Target: !Sub "integrations/${Integ}"}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Chat2, IntegrationType: AWS_PROXY, IntegrationUri: arn:aws:lambda:us-east-1:1:function:x}
)");
  const auto load = load_text(text);
  ASSERT_EQ(load.errors.size(), 3U) << describe(load);
  auto at = [&](const std::string& resource, const std::string& property) {
    const Diagnostic* d = find_diagnostic(load.errors, resource, property);
    EXPECT_NE(d, nullptr) << resource << " " << property << "\n" << describe(load);
    return d == nullptr ? 0 : d->line;
  };
  EXPECT_EQ(at("Chat", "Properties.RouteSelectionExpression"), line_of(text, "RouteSelectionExpression:"));
  EXPECT_EQ(at("BadTarget", "Properties.Target"), line_of(text, "Target: !Ref Integ"));
  EXPECT_EQ(at("Integ", "Properties.IntegrationUri"), line_of(text, "function:x"));
  EXPECT_TRUE(load.http.routes.empty());
}

TEST(HttpApis, TokenAuthorizerValidationExpression) {
  const auto api = [](const std::string& expression) {
    return with_events(R"(        Get:
          Type: Api
          Properties: {Path: /x, Method: get, RestApiId: !Ref Gate}
)",
                       R"(  Gate:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: Token
        Authorizers:
          Token:
            FunctionArn: !GetAtt Auth.Arn
            Identity: {Header: X-Token, ValidationExpression: ")" + expression + R"("}
)");
  };
  const auto load = load_text(api("^Bearer [a-z]+$"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const HttpApi* gate = load.http.find_api("Gate");
  ASSERT_NE(gate, nullptr);
  ASSERT_EQ(gate->authorizers.size(), 1U);
  EXPECT_EQ(gate->authorizers[0].validation_expression, "^Bearer [a-z]+$");
  EXPECT_THAT(gate->authorizers[0].identity_headers, ElementsAre("X-Token"));

  const std::string bad = api("Bearer (");
  only_error(load_text(bad), line_of(bad, "ValidationExpression"), "Gate",
             "Properties.Auth.Authorizers.Token.Identity.ValidationExpression");
}

}  // namespace
}  // namespace lambdad::config
