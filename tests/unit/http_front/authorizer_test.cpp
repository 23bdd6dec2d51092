// Lambda authorizers, the pure parts: identity sources, method ARNs, the events, results and
// policies as API Gateway reads them, what the function sees, and the cache on the manual clock.
#include "lambdad/http_front/authorizer.hpp"

#include <gtest/gtest.h>

#include <map>

#include "lambdad_test/manual_time.hpp"

namespace lambdad::http_front {
namespace {

using nlohmann::json;

constexpr const char* kArn = "arn:aws:execute-api:us-east-1:123456789012:RestApi/Prod/GET/items/7";

RequestView request(std::string target, Headers headers) {
  RequestView v;
  v.method = "GET";
  v.target = std::move(target);
  v.headers = std::move(headers);
  return v;
}

config::HttpAuthorizer token_authorizer() {
  config::HttpAuthorizer a;
  a.name = "TokenAuth";
  a.function_name = "Auth";
  a.type = config::HttpAuthorizer::Type::kToken;
  a.identity_headers = {"Authorization"};
  return a;
}

AuthorizerResult parse_ok(const std::string& text, AuthorizerStyle style) {
  auto parsed = parse_authorizer_result(text, style);
  if (auto* error = std::get_if<FrontError>(&parsed)) ADD_FAILURE() << error->cause;
  return std::holds_alternative<AuthorizerResult>(parsed) ? std::get<AuthorizerResult>(parsed) : AuthorizerResult{};
}

std::string parse_error(const std::string& text, AuthorizerStyle style) {
  auto parsed = parse_authorizer_result(text, style);
  auto* error = std::get_if<FrontError>(&parsed);
  if (error == nullptr) return "parsed";
  EXPECT_EQ(error->kind, FrontErrorKind::kAuthorizerFailure);
  return error->cause;
}

std::string policy(const std::string& effect, const json& resource, const json& action = "execute-api:Invoke") {
  return json{{"principalId", "user-1"},
              {"policyDocument",
               {{"Version", "2012-10-17"},
                {"Statement", json::array({{{"Action", action}, {"Effect", effect}, {"Resource", resource}}})}}}}
      .dump();
}

TEST(AuthorizerIdentity, TokenIsTheHeadersLastValueAndMissingOrEmptyIsNone) {
  const auto a = token_authorizer();
  EXPECT_EQ(identity_values(a, request("/", {{"authorization", "abc"}})), std::vector<std::string>{"abc"});
  EXPECT_EQ(identity_values(a, request("/", {{"Authorization", "one"}, {"Authorization", "two"}})),
            std::vector<std::string>{"two"});
  EXPECT_EQ(identity_values(a, request("/", {{"X-Other", "abc"}})), std::nullopt);
  EXPECT_EQ(identity_values(a, request("/", {{"Authorization", ""}})), std::nullopt);
}

TEST(AuthorizerIdentity, RequestSourcesAreHeadersThenQueryStrings) {
  config::HttpAuthorizer a;
  a.type = config::HttpAuthorizer::Type::kRequest;
  a.identity_headers = {"X-User", "X-Tenant"};
  a.identity_query_strings = {"key"};
  EXPECT_EQ(identity_values(a, request("/?key=k1&key=k2", {{"x-tenant", "t"}, {"X-User", "u1"}, {"X-User", "u2"}})),
            (std::vector<std::string>{"u1,u2", "t", "k2"}));
  EXPECT_EQ(identity_values(a, request("/?Key=k", {{"X-User", "u"}, {"X-Tenant", "t"}})), std::nullopt)
      << "query string names are compared with case";
  EXPECT_EQ(identity_values(a, request("/?key=", {{"X-User", "u"}, {"X-Tenant", "t"}})), std::nullopt);
  config::HttpAuthorizer none;
  none.type = config::HttpAuthorizer::Type::kRequest;
  EXPECT_EQ(identity_values(none, request("/", {})), std::vector<std::string>{});
}

TEST(AuthorizerIdentity, StageVariablesAndContextVariablesComeLast) {
  config::HttpAuthorizer a;
  a.type = config::HttpAuthorizer::Type::kRequest;
  a.identity_headers = {"X-User"};
  a.identity_stage_variables = {"tenant"};
  a.identity_context = {"identity.sourceIp", "requestTimeEpoch"};
  const std::map<std::string, std::string> stage = {{"tenant", "acme"}};
  const json v1 = {{"identity", {{"sourceIp", "10.0.0.1"}}}, {"requestTimeEpoch", 1700000000000}};
  const auto req = request("/", {{"X-User", "u"}});
  EXPECT_EQ(identity_values(a, req, {&stage, &v1}),
            (std::vector<std::string>{"u", "acme", "10.0.0.1", "1700000000000"}));
  const std::map<std::string, std::string> other = {{"mode", "x"}};
  EXPECT_EQ(identity_values(a, req, {&other, &v1}), std::nullopt);  // no such stage variable
  EXPECT_EQ(identity_values(a, req), std::nullopt);                  // nothing to read them from
  const json without_time = {{"identity", {{"sourceIp", "10.0.0.1"}}}};
  EXPECT_EQ(identity_values(a, req, {&stage, &without_time}), std::nullopt);

  // Payload 2.0 keeps the request's own values under requestContext.http.
  const json v2 = {{"http", {{"sourceIp", "10.0.0.2"}, {"method", "GET"}}}, {"requestId", "r-1"}};
  EXPECT_EQ(context_variable(v2, "identity.sourceIp"), "10.0.0.2");
  EXPECT_EQ(context_variable(v2, "httpMethod"), "GET");
  EXPECT_EQ(context_variable(v2, "requestId"), "r-1");
  EXPECT_EQ(context_variable(v2, "identity"), std::nullopt);  // not a value
  EXPECT_EQ(context_variable(v1, "identity.sourceIp"), "10.0.0.1");
}

TEST(AuthorizerIdentity, ValidationExpressionMatchesTheWholeToken) {
  EXPECT_TRUE(token_matches("", "anything"));
  EXPECT_TRUE(token_matches("^Bearer [-0-9a-zA-Z._]*$", "Bearer abc.def"));
  EXPECT_TRUE(token_matches("Bearer .+", "Bearer x"));
  EXPECT_FALSE(token_matches("Bearer .+", "xBearer x"));
  EXPECT_FALSE(token_matches("Bearer", "Bearer x"));
  EXPECT_FALSE(token_matches("(", "("));
}

TEST(AuthorizerEvents, MethodArnAndTokenEvent) {
  EXPECT_EQ(execute_api_arn("us-east-1", "123456789012", "RestApi", "Prod", "GET", "/items/7"), kArn);
  EXPECT_EQ(execute_api_arn("eu-west-1", "1", "Api", "$default", "POST", "/"),
            "arn:aws:execute-api:eu-west-1:1:Api/$default/POST/");
  EXPECT_EQ(token_event("tok", kArn), json({{"type", "TOKEN"}, {"authorizationToken", "tok"}, {"methodArn", kArn}}));
}

TEST(AuthorizerEvents, RequestEventV1TakesTheRouteEventsRequestMembers) {
  json route = {{"resource", "/items/{id}"}, {"path", "/items/7"}, {"httpMethod", "GET"},
                {"headers", {{"A", "1"}}}, {"multiValueHeaders", {{"A", {"1"}}}},
                {"queryStringParameters", nullptr}, {"multiValueQueryStringParameters", nullptr},
                {"pathParameters", nullptr}, {"stageVariables", nullptr},
                {"requestContext", {{"requestId", "r"}}}, {"body", "secret"}, {"isBase64Encoded", false}};
  const auto rest = request_event_v1(route, kArn, {"x"}, false);
  EXPECT_EQ(rest["type"], "REQUEST");
  EXPECT_EQ(rest["methodArn"], kArn);
  EXPECT_EQ(rest["resource"], "/items/{id}");
  EXPECT_EQ(rest["multiValueHeaders"], json({{"A", {"1"}}}));
  EXPECT_EQ(rest["pathParameters"], json::object());
  EXPECT_EQ(rest["requestContext"]["requestId"], "r");
  EXPECT_FALSE(rest.contains("body"));
  EXPECT_FALSE(rest.contains("version"));
  EXPECT_FALSE(rest.contains("identitySource"));
  const auto http = request_event_v1(route, kArn, {"u", "1"}, true);
  EXPECT_EQ(http["version"], "1.0");
  EXPECT_EQ(http["identitySource"], "u,1");
  EXPECT_EQ(http["authorizationToken"], "u,1");
}

TEST(AuthorizerEvents, RequestEventV2HasRouteArnAndIdentitySourceAndNoBody) {
  json route = {{"version", "2.0"}, {"routeKey", "GET /x"}, {"rawPath", "/x"}, {"rawQueryString", ""},
                {"headers", {{"a", "1"}}}, {"requestContext", {{"routeKey", "GET /x"}}},
                {"body", "secret"}, {"isBase64Encoded", false}};
  const auto event = request_event_v2(route, kArn, {"u", "1"});
  EXPECT_EQ(event["version"], "2.0");
  EXPECT_EQ(event["type"], "REQUEST");
  EXPECT_EQ(event["routeArn"], kArn);
  EXPECT_EQ(event["identitySource"], json({"u", "1"}));
  EXPECT_EQ(event["routeKey"], "GET /x");
  EXPECT_EQ(event["headers"], json({{"a", "1"}}));
  EXPECT_FALSE(event.contains("body"));
  EXPECT_FALSE(event.contains("isBase64Encoded"));
}

TEST(AuthorizerPolicy, WildcardsMatchAsIamDoes) {
  EXPECT_TRUE(wildcard_match("arn:aws:execute-api:*", kArn));
  EXPECT_TRUE(wildcard_match("*", kArn));
  EXPECT_TRUE(wildcard_match("arn:aws:execute-api:us-east-1:123456789012:RestApi/*/GET/*", kArn));
  EXPECT_TRUE(wildcard_match("arn:aws:execute-api:us-east-1:123456789012:RestApi/Prod/GET/items/?", kArn));
  EXPECT_FALSE(wildcard_match("arn:aws:execute-api:us-east-1:123456789012:RestApi/Prod/GET/items/??", kArn));
  EXPECT_FALSE(wildcard_match("arn:aws:execute-api:us-east-1:123456789012:RestApi/*/POST/*", kArn));
  EXPECT_FALSE(wildcard_match("arn:aws:execute-api:us-east-1:123456789012:restapi/*", kArn)) << "resources keep case";
  EXPECT_TRUE(wildcard_match("EXECUTE-API:*", "execute-api:Invoke", /*ignore_case=*/true));
  EXPECT_TRUE(wildcard_match("a*b*c", "aXXbYYbc"));
  EXPECT_FALSE(wildcard_match("a*b*c", "aXXbYYb"));
  EXPECT_TRUE(wildcard_match("", ""));
  EXPECT_FALSE(wildcard_match("", "a"));
}

TEST(AuthorizerPolicy, ExplicitDenyWinsThenAllowElseNotAllowed) {
  const auto allow = parse_ok(policy("Allow", "arn:aws:execute-api:*:*:RestApi/*/GET/*"), AuthorizerStyle::kRestPolicy);
  EXPECT_EQ(decide(allow, kArn), Decision::kAllow);
  EXPECT_EQ(decide(allow, "arn:aws:execute-api:us-east-1:123456789012:RestApi/Prod/POST/items/7"),
            Decision::kNotAllowed);
  EXPECT_EQ(decide(parse_ok(policy("Deny", kArn), AuthorizerStyle::kRestPolicy), kArn), Decision::kExplicitDeny);
  EXPECT_EQ(decide(parse_ok(policy("Allow", kArn, "s3:GetObject"), AuthorizerStyle::kRestPolicy), kArn),
            Decision::kNotAllowed)
      << "an action other than execute-api:Invoke allows nothing";
  EXPECT_EQ(decide(parse_ok(policy("Allow", json::array({"x", kArn}), json::array({"execute-api:*"})),
                            AuthorizerStyle::kRestPolicy),
                   kArn),
            Decision::kAllow);

  const json both = {{"principalId", "p"},
                     {"policyDocument",
                      {{"Statement",
                        {{{"Effect", "Allow"}, {"Action", "*"}, {"Resource", "*"}},
                         {{"Effect", "Deny"}, {"Action", "execute-api:Invoke"}, {"Resource", kArn}}}}}}};
  EXPECT_EQ(decide(parse_ok(both.dump(), AuthorizerStyle::kRestPolicy), kArn), Decision::kExplicitDeny);
  // A single statement object, not a list.
  const json single = {{"principalId", "p"},
                       {"policyDocument", {{"Statement", {{"Effect", "Allow"}, {"Action", "*"}, {"Resource", "*"}}}}}};
  EXPECT_EQ(decide(parse_ok(single.dump(), AuthorizerStyle::kRestPolicy), kArn), Decision::kAllow);
}

TEST(AuthorizerResultParsing, RestContextIsStringifiedAndUsageKeyRead) {
  json doc = json::parse(policy("Allow", "*"));
  doc["context"] = {{"s", "v"}, {"n", 1}, {"f", 1.5}, {"b", true}, {"nothing", nullptr}};
  doc["usageIdentifierKey"] = "key-1";
  const auto r = parse_ok(doc.dump(), AuthorizerStyle::kRestPolicy);
  EXPECT_EQ(r.principal_id, "user-1");
  EXPECT_EQ(r.context, json({{"s", "v"}, {"n", "1"}, {"f", "1.5"}, {"b", "true"}}));
  EXPECT_EQ(r.usage_identifier_key, "key-1");
  doc["context"] = {{"o", {{"a", 1}}}};
  EXPECT_NE(parse_error(doc.dump(), AuthorizerStyle::kRestPolicy).find("context.o"), std::string::npos);
  // HTTP APIs pass context values as they are.
  doc["context"] = {{"o", {{"a", 1}}}, {"n", 2}};
  EXPECT_EQ(parse_ok(doc.dump(), AuthorizerStyle::kHttpPolicy).context, json({{"o", {{"a", 1}}}, {"n", 2}}));
}

TEST(AuthorizerResultParsing, MalformedResultsAreFailures) {
  EXPECT_EQ(parse_error("not json", AuthorizerStyle::kRestPolicy), "the result is not JSON");
  EXPECT_EQ(parse_error("[1]", AuthorizerStyle::kRestPolicy), "the result is not a JSON object");
  EXPECT_NE(parse_error(R"({"policyDocument":{"Statement":[]}})", AuthorizerStyle::kRestPolicy), "parsed");
  EXPECT_NE(parse_error(R"({"principalId":"p"})", AuthorizerStyle::kRestPolicy), "parsed");
  EXPECT_NE(parse_error(policy("allow", "*"), AuthorizerStyle::kRestPolicy), "parsed");
  EXPECT_NE(parse_error(policy("Allow", 3), AuthorizerStyle::kRestPolicy), "parsed");
  EXPECT_NE(parse_error(R"({"principalId":"p","policyDocument":{"Statement":[{"Effect":"Allow","Resource":"*"}]}})",
                        AuthorizerStyle::kRestPolicy),
            "parsed");
  json doc = json::parse(policy("Allow", "*"));
  doc["context"] = "x";
  EXPECT_EQ(parse_error(doc.dump(), AuthorizerStyle::kHttpPolicy), "context is not an object");
  doc.erase("context");
  doc["usageIdentifierKey"] = 1;
  EXPECT_EQ(parse_error(doc.dump(), AuthorizerStyle::kRestPolicy), "usageIdentifierKey is not a string");
}

TEST(AuthorizerResultParsing, SimpleResponses) {
  const auto yes = parse_ok(R"({"isAuthorized":true,"context":{"user":"u","n":1}})", AuthorizerStyle::kHttpSimple);
  EXPECT_EQ(decide(yes, kArn), Decision::kAllow);
  EXPECT_EQ(yes.context, json({{"user", "u"}, {"n", 1}}));
  EXPECT_EQ(decide(parse_ok(R"({"isAuthorized":false})", AuthorizerStyle::kHttpSimple), kArn), Decision::kNotAllowed);
  EXPECT_EQ(parse_error(R"({"isAuthorized":"true"})", AuthorizerStyle::kHttpSimple),
            "isAuthorized is missing or not a boolean");
  EXPECT_NE(parse_error(R"({"isAuthorized":true})", AuthorizerStyle::kHttpPolicy), "parsed")
      << "without simple responses a policy is required";
}

TEST(AuthorizerContext, WhatTheFunctionSees) {
  json doc = json::parse(policy("Allow", "*"));
  doc["context"] = {{"user", "u"}, {"n", 1}};
  const auto rest = parse_ok(doc.dump(), AuthorizerStyle::kRestPolicy);
  EXPECT_EQ(authorizer_context(rest, PayloadVersion::kV1, 12),
            json({{"user", "u"}, {"n", "1"}, {"principalId", "user-1"}, {"integrationLatency", 12}}));
  const auto http = parse_ok(doc.dump(), AuthorizerStyle::kHttpPolicy);
  EXPECT_EQ(authorizer_context(http, PayloadVersion::kV2, 12), json({{"lambda", {{"user", "u"}, {"n", 1}}}}));
  const auto simple = parse_ok(R"({"isAuthorized":true})", AuthorizerStyle::kHttpSimple);
  EXPECT_EQ(authorizer_context(simple, PayloadVersion::kV2, 0), json({{"lambda", nullptr}}));
  EXPECT_EQ(authorizer_context(simple, PayloadVersion::kV1, 3), json({{"integrationLatency", 3}}));
}

TEST(AuthorizerErrors, RestAnswersUnauthorizedTo401AndTheRestIsAFailure) {
  EXPECT_EQ(authorizer_error_kind(FrontKind::kRestApi, R"({"errorMessage":"Unauthorized","errorType":"Exception"})"),
            FrontErrorKind::kUnauthorized);
  EXPECT_EQ(authorizer_error_kind(FrontKind::kRestApi, R"({"errorMessage":"unauthorized"})"),
            FrontErrorKind::kAuthorizerFailure);
  EXPECT_EQ(authorizer_error_kind(FrontKind::kRestApi, "crash"), FrontErrorKind::kAuthorizerFailure);
  EXPECT_EQ(authorizer_error_kind(FrontKind::kHttpApi, R"({"errorMessage":"Unauthorized"})"),
            FrontErrorKind::kAuthorizerFailure);
}

TEST(AuthorizerCacheTest, ResultsLiveForTheirTtlOnTheClock) {
  test::ManualTime time;
  AuthorizerCache cache(time);
  const auto key = AuthorizerCache::key("Api", "Auth", {"tok"});
  EXPECT_EQ(cache.find(key), nullptr);
  AuthorizerResult r;
  r.principal_id = "p";
  cache.store(key, r, 300);
  ASSERT_NE(cache.find(key), nullptr);
  EXPECT_EQ(cache.find(key)->principal_id, "p");
  EXPECT_EQ(cache.find(AuthorizerCache::key("Api", "Auth", {"other"})), nullptr);
  EXPECT_EQ(cache.find(AuthorizerCache::key("Api", "Other", {"tok"})), nullptr);
  time.advance(std::chrono::milliseconds(299'999));
  EXPECT_NE(cache.find(key), nullptr);
  time.advance(std::chrono::milliseconds(1));
  EXPECT_EQ(cache.find(key), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  cache.store(key, r, 0);
  EXPECT_EQ(cache.find(key), nullptr) << "TTL 0 caches nothing";
}

TEST(AuthorizerCacheTest, KeysDoNotCollideAndAFullCacheDropsTheOldest) {
  EXPECT_NE(AuthorizerCache::key("A", "B", {"c,d"}), AuthorizerCache::key("A", "B", {"c", "d"}));
  EXPECT_NE(AuthorizerCache::key("A", "B", {"1:x"}), AuthorizerCache::key("A", "B", {"1", "x"}));
  test::ManualTime time;
  AuthorizerCache cache(time, 2);
  cache.store("a", {}, 10);
  cache.store("b", {}, 20);
  cache.store("c", {}, 30);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("a"), nullptr);
  EXPECT_NE(cache.find("b"), nullptr);
  EXPECT_NE(cache.find("c"), nullptr);
}

}  // namespace
}  // namespace lambdad::http_front
