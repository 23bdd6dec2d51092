// What a template says of its HTTP APIs' stages beyond their names (decision 020): stage variables
// (REST Variables, HTTP API StageVariables, a WebSocket Stage's StageVariables) and the identity
// sources that read them, and the Lambda authorizers of WebSocket APIs (AWS::ApiGatewayV2::Authorizer
// on the $connect route).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lambdad/config/http_apis.hpp"
#include "lambdad/config/sam_template.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::load_text;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Two functions, Hello (hello-fn) and Auth, then `resources` (indented 2).
std::string stages_template(const std::string& resources, const std::string& hello_events = "") {
  return test::hello_and_auth(hello_events, resources);
}

int line_at(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

// A WebSocket API Chat whose $connect and $default routes invoke hello-fn; `extra` adds to it.
std::string websocket_template(const std::string& connect_extra, const std::string& extra = "") {
  return stages_template(R"(  Chat:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: chat, ProtocolType: WEBSOCKET}
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Chat
      RouteKey: $connect
      Target: !Sub integrations/${HelloIntegration}
)" + connect_extra + R"(  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Chat, RouteKey: $default, Target: !Sub "integrations/${HelloIntegration}"}
  HelloIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Chat, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Hello.Arn}
)" + extra);
}

TEST(HttpStages, RestVariablesAndHttpApiStageVariables) {
  const auto load = load_text(stages_template(R"(  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Variables: {TABLE: items-dev, LIMIT: 10}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageVariables:
        bucket: !Sub "${AWS::Region}-assets"
  Plain:
    Type: AWS::Serverless::HttpApi
)",
                                             R"(        Rest:
          Type: Api
          Properties: {Path: /r, Method: get, RestApiId: !Ref Rest}
        Http:
          Type: HttpApi
          Properties: {Path: /h, Method: get, ApiId: !Ref Http}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.http.find_api("Rest")->stage_variables,
              UnorderedElementsAre(Pair("TABLE", "items-dev"), Pair("LIMIT", "10")));
  EXPECT_THAT(load.http.find_api("Http")->stage_variables, UnorderedElementsAre(Pair("bucket", "us-east-1-assets")));
  EXPECT_TRUE(load.http.find_api("Plain")->stage_variables.empty());
}

TEST(HttpStages, GlobalsGiveVariablesToTheImplicitApis) {
  const auto load = load_text(stages_template(R"(Globals:
  Api:
    Variables: {MODE: global}
  HttpApi:
    StageVariables: {MODE: http}
)",
                                             R"(        Rest:
          Type: Api
          Properties: {Path: /r, Method: get}
        Http:
          Type: HttpApi
          Properties: {Path: /h, Method: get}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_THAT(load.http.find_api("ServerlessRestApi")->stage_variables, UnorderedElementsAre(Pair("MODE", "global")));
  EXPECT_THAT(load.http.find_api("ServerlessHttpApi")->stage_variables, UnorderedElementsAre(Pair("MODE", "http")));
}

TEST(HttpStages, AWebSocketStageGivesItsVariables) {
  const auto load = load_text(websocket_template("", R"(  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Chat, StageName: prod, StageVariables: {greeting: hi}}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const HttpApi* chat = load.http.find_api("Chat");
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(chat->stage, "prod");
  EXPECT_THAT(chat->stage_variables, UnorderedElementsAre(Pair("greeting", "hi")));
}

TEST(HttpStages, MalformedVariablesAreErrorsOnTheirLine) {
  const std::string text = stages_template(R"(  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Variables:
        bad-name: x
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageVariables: [a, b]
)");
  const auto load = load_text(text);
  ASSERT_EQ(load.errors.size(), 2U) << describe(load);
  EXPECT_EQ(load.errors[0].resource, "Rest");
  EXPECT_EQ(load.errors[0].property, "Properties.Variables.bad-name");
  EXPECT_EQ(load.errors[0].line, line_at(text, "bad-name"));
  EXPECT_THAT(load.errors[0].message, HasSubstr("letters, digits and underscores"));
  EXPECT_EQ(load.errors[1].resource, "Http");
  EXPECT_EQ(load.errors[1].property, "Properties.StageVariables");
  EXPECT_EQ(load.errors[1].line, line_at(text, "StageVariables:"));
}

TEST(HttpStages, LambdaAuthorizersReadStageVariablesAndContextAsIdentitySources) {
  const auto load = load_text(stages_template(R"(  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageVariables: {tenant: acme}
      Auth:
        Authorizers:
          Lambda:
            FunctionArn: !GetAtt Auth.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            Identity: {StageVariables: [tenant], Context: [identity.sourceIp]}
)"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const HttpAuthorizer& a = load.http.find_api("Http")->authorizers.at(0);
  EXPECT_EQ(a.identity_stage_variables, std::vector<std::string>{"tenant"});
  EXPECT_EQ(a.identity_context, std::vector<std::string>{"identity.sourceIp"});
  EXPECT_EQ(a.ttl_seconds, 300);  // something to key the cache on
}

TEST(HttpStages, AWebSocketConnectRouteWithACustomAuthorizer) {
  const std::string text = websocket_template(R"(      AuthorizationType: CUSTOM
      AuthorizerId: !Ref ConnectAuth
)",
                                     R"(  ConnectAuth:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Chat
      Name: connect-auth
      AuthorizerType: REQUEST
      AuthorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Auth.Arn}/invocations
      IdentitySource: [route.request.header.Auth, route.request.querystring.token, stageVariables.mode]
)");
  const auto load = load_text(text);
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_TRUE(load.warnings.empty()) << describe(load);
  const HttpApi* chat = load.http.find_api("Chat");
  ASSERT_NE(chat, nullptr);
  ASSERT_EQ(chat->authorizers.size(), 1U);
  const HttpAuthorizer& a = chat->authorizers[0];
  EXPECT_EQ(a.name, "ConnectAuth");
  EXPECT_EQ(a.function_name, "Auth");
  EXPECT_EQ(a.type, HttpAuthorizer::Type::kRequest);
  EXPECT_EQ(a.identity_headers, std::vector<std::string>{"Auth"});
  EXPECT_EQ(a.identity_query_strings, std::vector<std::string>{"token"});
  EXPECT_EQ(a.identity_stage_variables, std::vector<std::string>{"mode"});
  EXPECT_EQ(a.ttl_seconds, 0);
  for (const auto& r : load.http.routes) EXPECT_EQ(r.authorizer, r.path == "$connect" ? "ConnectAuth" : "") << r.path;
}

TEST(HttpStages, WebSocketAuthorizerProblems) {
  // CUSTOM on a route other than $connect; an AuthorizerId naming nothing; a JWT authorizer.
  const std::string text = stages_template(R"(  Chat:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: chat, ProtocolType: WEBSOCKET}
  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Chat
      RouteKey: $connect
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Jwt
      Target: !Sub integrations/${HelloIntegration}
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Chat
      RouteKey: $default
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Jwt
      Target: !Sub integrations/${HelloIntegration}
  OtherRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Chat
      RouteKey: other
      AuthorizationType: CUSTOM
      AuthorizerId: nothing
      Target: !Sub integrations/${HelloIntegration}
  HelloIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Chat, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Hello.Arn}
  Jwt:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties: {ApiId: !Ref Chat, Name: jwt, AuthorizerType: JWT, IdentitySource: [route.request.header.Auth]}
)");
  const auto load = load_text(text);
  // A JWT authorizer is refused as API Gateway refuses it: WebSocket APIs take Lambda REQUEST ones.
  ASSERT_EQ(load.errors.size(), 3U) << describe(load);
  EXPECT_EQ(load.errors[0].resource, "Jwt");
  EXPECT_EQ(load.errors[0].line, line_at(text, "AuthorizerType: JWT"));
  EXPECT_THAT(load.errors[0].message, HasSubstr("only REQUEST (Lambda) authorizers (got JWT)"));
  EXPECT_EQ(load.errors[1].resource, "DefaultRoute");
  EXPECT_EQ(load.errors[1].property, "Properties.AuthorizationType");
  EXPECT_THAT(load.errors[1].message, HasSubstr("only the $connect route"));
  EXPECT_EQ(load.errors[2].resource, "OtherRoute");
  EXPECT_TRUE(load.warnings.empty()) << describe(load);
  ASSERT_EQ(load.http.routes.size(), 1U);
  EXPECT_EQ(load.http.routes[0].path, "$connect");
  EXPECT_EQ(load.http.routes[0].authorizer, "");
}

}  // namespace
}  // namespace lambdad::config
