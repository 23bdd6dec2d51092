#include "lambdad/http_front/payload_v1.hpp"

#include <gtest/gtest.h>

#include "mapped_answer.hpp"

namespace lambdad::http_front {
namespace {

using nlohmann::json;

RequestView request(std::string_view body = {}) {
  RequestView r;
  r.method = "GET";
  r.target = "/my/path/7?parameter1=value1&parameter1=value2&parameter2=value";
  r.headers = {{"Header1", "value1"}, {"Header2", "value1"}, {"Header2", "value2"}, {"User-Agent", "agent"}};
  r.body = body;
  r.peer_ip = "192.0.2.1";
  r.host = "id.execute-api.localhost";
  r.request_id = "id=";
  r.epoch_ms = 1583348638390;
  return r;
}

RouteMatch route() {
  RouteMatch m;
  m.resource_path = "/my/path/{n}";
  m.route_key = "GET /my/path/{n}";
  m.path_parameters = {{"n", "7"}};
  return m;
}

V1Settings rest() { return V1Settings{FrontKind::kRestApi, "123456789012", "id", "Prod", "abc123", {}, {"image/png"}}; }

V1Settings http10() { return V1Settings{FrontKind::kHttpApi, "123456789012", "id", "$default", "", {}, {}}; }

TEST(PayloadV1, RestEventFieldByField) {
  const auto event = build_event_v1(request(), rest(), route());
  const auto expected = json::parse(R"({
    "resource": "/my/path/{n}", "path": "/my/path/7", "httpMethod": "GET",
    "headers": {"Header1": "value1", "Header2": "value2", "User-Agent": "agent"},
    "multiValueHeaders": {"Header1": ["value1"], "Header2": ["value1", "value2"], "User-Agent": ["agent"]},
    "queryStringParameters": {"parameter1": "value2", "parameter2": "value"},
    "multiValueQueryStringParameters": {"parameter1": ["value1", "value2"], "parameter2": ["value"]},
    "pathParameters": {"n": "7"}, "stageVariables": null,
    "requestContext": {"resourceId": "abc123", "resourcePath": "/my/path/{n}", "httpMethod": "GET", "requestId": "id=",
      "requestTime": "04/Mar/2020:19:03:58 +0000", "requestTimeEpoch": 1583348638390, "path": "/Prod/my/path/7",
      "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": "Prod", "domainName": "id.execute-api.localhost",
      "domainPrefix": "id",
      "identity": {"cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null, "caller": null,
        "accessKey": null, "sourceIp": "192.0.2.1", "cognitoAuthenticationType": null,
        "cognitoAuthenticationProvider": null, "userArn": null, "userAgent": "agent", "user": null},
      "apiId": "id"},
    "body": null, "isBase64Encoded": false})");
  EXPECT_EQ(event, expected) << event.dump(2);
}

TEST(PayloadV1, EmptyQueryAndParametersAreNull) {
  auto r = request("{\"a\":1}");
  r.target = "/x";
  RouteMatch m;
  m.resource_path = "/x";
  const auto event = build_event_v1(r, rest(), m);
  EXPECT_TRUE(event["queryStringParameters"].is_null());
  EXPECT_TRUE(event["multiValueQueryStringParameters"].is_null());
  EXPECT_TRUE(event["pathParameters"].is_null());
  EXPECT_EQ(event["body"], "{\"a\":1}");
  EXPECT_EQ(event["isBase64Encoded"], false);
}

TEST(PayloadV1, RestBinaryMediaTypesDecideBase64) {
  auto r = request("png");
  r.headers.push_back({"Content-Type", "image/png"});
  auto event = build_event_v1(r, rest(), route());
  EXPECT_EQ(event["body"], "cG5n");
  EXPECT_EQ(event["isBase64Encoded"], true);
  r.headers.back().value = "application/octet-stream";
  EXPECT_EQ(build_event_v1(r, rest(), route())["isBase64Encoded"], false);
  // An HTTP API 1.0 integration uses the 2.0 rule instead.
  EXPECT_EQ(build_event_v1(r, http10(), route())["isBase64Encoded"], true);
}

TEST(PayloadV1, HttpApiEventHasVersionAndRouteKey) {
  const auto event = build_event_v1(request(), http10(), route());
  EXPECT_EQ(event["version"], "1.0");
  EXPECT_EQ(event["requestContext"]["routeKey"], "GET /my/path/{n}");
  EXPECT_EQ(event["requestContext"]["path"], "/my/path/7");
  EXPECT_FALSE(build_event_v1(request(), rest(), route()).contains("version"));
}

TEST(PayloadV1, RestResponseMergesHeaders) {
  const auto a = answer(map_response_v1(
      R"({"statusCode":200,"headers":{"X-A":"1","X-B":"b"},"multiValueHeaders":{"X-A":["1","2"]},"body":"hi"})", rest(),
      request()));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "hi");
  EXPECT_EQ(a.headers, (Headers{{"X-A", "1"}, {"X-A", "2"}, {"X-B", "b"}, {"Content-Type", "application/json"}}));
}

TEST(PayloadV1, RestBase64BodyDecodedOnlyForBinaryTypes) {
  const char* result = R"({"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"cG5n","isBase64Encoded":true})";
  EXPECT_EQ(answer(map_response_v1(result, rest(), request())).body, "png");
  auto settings = rest();
  settings.binary_media_types.clear();
  EXPECT_EQ(answer(map_response_v1(result, settings, request())).body, "cG5n");
  EXPECT_EQ(answer(map_response_v1(result, http10(), request())).body, "png");
}

TEST(PayloadV1, RestMalformedResultsAre502) {
  for (const char* v : {"not json", "\"text\"", "[1]", "3", R"({"statusCode":200,"extra":1})", R"({"statusCode":0})",
                        R"({"statusCode":-1})", R"({"statusCode":"x"})", R"({"statusCode":200,"headers":[1]})",
                        R"({"statusCode":200,"multiValueHeaders":{"a":"b"}})", R"({"statusCode":200,"body":{}})",
                        R"({"statusCode":200,"isBase64Encoded":"yes"})"}) {
    const auto m = map_response_v1(v, rest(), request());
    ASSERT_TRUE(std::holds_alternative<FrontError>(m)) << v;
    EXPECT_EQ(std::get<FrontError>(m).kind, FrontErrorKind::kMalformedResponse) << v;
    EXPECT_EQ(render_error(FrontKind::kRestApi, std::get<FrontError>(m).kind).status, 502);
  }
}

TEST(PayloadV1, RestWithoutStatusCodeIs200) {
  EXPECT_EQ(answer(map_response_v1(R"({"body":"x"})", rest(), request())).status, 200);
}

TEST(PayloadV1, HttpApiRequiresStatusCodeAndIgnoresUnknownKeys) {
  EXPECT_TRUE(std::holds_alternative<FrontError>(map_response_v1(R"({"body":"x"})", http10(), request())));
  const auto a = answer(map_response_v1(R"({"statusCode":"201","extra":1,"body":"x"})", http10(), request()));
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.body, "x");
}

}  // namespace
}  // namespace lambdad::http_front
