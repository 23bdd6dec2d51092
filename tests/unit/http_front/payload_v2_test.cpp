#include "lambdad/http_front/payload_v2.hpp"

#include <gtest/gtest.h>

#include "mapped_answer.hpp"

namespace lambdad::http_front {
namespace {

using nlohmann::json;

RequestView url_request(std::string_view body) {
  RequestView r;
  r.method = "POST";
  r.target = "/my/path?parameter1=value1&parameter1=value2&parameter2=value";
  r.headers = {{"Host", "abc123.lambda-url.localhost"},
               {"Content-Type", "text/plain"},
               {"Cookie", "cookie1=value1; cookie2=value2"},
               {"User-Agent", "agent"},
               {"X-Multi", "a"},
               {"x-multi", "b"}};
  r.body = body;
  r.peer_ip = "123.123.123.123";
  r.host = "abc123.lambda-url.localhost";
  r.port = 3000;
  r.request_id = "id";
  r.epoch_ms = 1583348638390;
  return r;
}

TEST(PayloadV2, FunctionUrlEventFieldByField) {
  const auto r = url_request("Hello from client!");
  const auto event = build_event_v2(r, V2Settings{FrontKind::kFunctionUrl, "anonymous", "abc123", "$default", {}}, nullptr);
  const auto expected = json::parse(R"({
    "version": "2.0", "routeKey": "$default", "rawPath": "/my/path",
    "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
    "cookies": ["cookie1=value1", "cookie2=value2"],
    "headers": {"host": "abc123.lambda-url.localhost", "content-type": "text/plain", "user-agent": "agent",
                "x-multi": "a,b", "x-forwarded-for": "123.123.123.123", "x-forwarded-proto": "http",
                "x-forwarded-port": "3000"},
    "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
    "requestContext": {"accountId": "anonymous", "apiId": "abc123", "domainName": "abc123.lambda-url.localhost",
      "domainPrefix": "abc123",
      "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1", "sourceIp": "123.123.123.123",
               "userAgent": "agent"},
      "requestId": "id", "routeKey": "$default", "stage": "$default", "time": "04/Mar/2020:19:03:58 +0000",
      "timeEpoch": 1583348638390},
    "body": "Hello from client!", "pathParameters": null, "isBase64Encoded": false, "stageVariables": null})");
  EXPECT_EQ(event, expected) << event.dump(2);
}

TEST(PayloadV2, HttpApiEventHasTheRouteAndOmitsWhatIsEmpty) {
  RequestView r;
  r.method = "GET";
  r.target = "/items/a%20b";
  r.headers = {{"host", "localhost"}};
  r.peer_ip = "127.0.0.1";
  r.host = "localhost";
  r.request_id = "rid";
  r.epoch_ms = 0;
  RouteMatch m;
  m.route_key = "GET /items/{id}";
  m.path_parameters = {{"id", "a b"}};
  const auto event = build_event_v2(r, V2Settings{FrontKind::kHttpApi, "123456789012", "api1", "$default", {}}, &m);
  EXPECT_EQ(event["routeKey"], "GET /items/{id}");
  EXPECT_EQ(event["requestContext"]["routeKey"], "GET /items/{id}");
  EXPECT_EQ(event["rawPath"], "/items/a%20b");
  EXPECT_EQ(event["requestContext"]["http"]["path"], "/items/a b");
  EXPECT_EQ(event["pathParameters"], json({{"id", "a b"}}));
  EXPECT_EQ(event["isBase64Encoded"], false);
  for (const char* absent : {"body", "cookies", "queryStringParameters", "stageVariables"}) {
    EXPECT_FALSE(event.contains(absent)) << absent;
  }
  EXPECT_EQ(event["requestContext"]["http"]["userAgent"], "");
  EXPECT_EQ(event["headers"].count("x-forwarded-port"), 0u);
}

TEST(PayloadV2, StageVariablesWhenTheStageHasThem) {
  RouteMatch m;
  m.route_key = "$default";
  const auto event = build_event_v2(url_request(""), V2Settings{FrontKind::kHttpApi, "1", "a", "dev", {{"k", "v"}}}, &m);
  EXPECT_EQ(event["stageVariables"], json({{"k", "v"}}));
  EXPECT_EQ(event["requestContext"]["stage"], "dev");
  EXPECT_FALSE(event.contains("pathParameters"));
}

TEST(PayloadV2, BinaryBodiesAreBase64) {
  auto r = url_request(std::string_view("\x89PNG\xff", 5));
  const auto event = build_event_v2(r, V2Settings{FrontKind::kFunctionUrl, "anonymous", "u", "$default", {}}, nullptr);
  EXPECT_EQ(event["isBase64Encoded"], true);
  EXPECT_EQ(event["body"], "iVBOR/8=");
  r = url_request("text but image");
  r.headers[1].value = "image/png";
  EXPECT_EQ(build_event_v2(r, V2Settings{FrontKind::kFunctionUrl, "", "u", "$default", {}}, nullptr)["isBase64Encoded"],
            true);
}

TEST(PayloadV2, ResponseWithStatusCode) {
  const auto a = answer(map_response_v2(R"({"statusCode":201,"headers":{"X-A":"1","X-N":2},"cookies":["a=1","b=2; Path=/"],"body":"body123"})"));
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.body, "body123");
  EXPECT_EQ(a.headers, (Headers{{"X-A", "1"}, {"X-N", "2"}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2; Path=/"},
                                {"Content-Type", "application/json"}}));
}

TEST(PayloadV2, StatusCodeAsNumericString) {
  EXPECT_EQ(answer(map_response_v2(R"({"statusCode":"418"})")).status, 418);
  const auto a = answer(map_response_v2(R"({"statusCode":200,"headers":{"content-type":"text/html"}})"));
  EXPECT_EQ(a.headers, (Headers{{"content-type", "text/html"}}));
  EXPECT_EQ(a.body, "");
}

TEST(PayloadV2, Base64BodyIsDecoded) {
  EXPECT_EQ(answer(map_response_v2(R"({"statusCode":200,"body":"aGVsbG8=","isBase64Encoded":true})")).body, "hello");
}

TEST(PayloadV2, ObjectWithoutStatusCodeIsJson) {
  const auto a = answer(map_response_v2(R"({ "hello" : "world" })"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"({"hello":"world"})");
  EXPECT_EQ(a.headers, (Headers{{"Content-Type", "application/json"}}));
}

TEST(PayloadV2, StringIsItsUnquotedText) {
  const auto a = answer(map_response_v2(R"("hello")"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "hello");
}

TEST(PayloadV2, OtherJsonValuesAreTheirText) {
  for (const char* v : {"3", "3.1", "true", R"(["hello",3,true])"}) {
    const auto a = answer(map_response_v2(v));
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, v);
    EXPECT_EQ(a.headers, (Headers{{"Content-Type", "application/json"}}));
  }
}

TEST(PayloadV2, MalformedResultsAreErrors) {
  for (const char* v : {"not json", R"({"statusCode":"abc"})", R"({"statusCode":99})", R"({"statusCode":1000})",
                        R"({"statusCode":true})", R"({"statusCode":200,"headers":[]})",
                        R"({"statusCode":200,"headers":{"a":{}}})", R"({"statusCode":200,"cookies":"a=1"})",
                        R"({"statusCode":200,"cookies":[1]})", R"({"statusCode":200,"body":"!!","isBase64Encoded":true})"}) {
    const auto m = map_response_v2(v);
    ASSERT_TRUE(std::holds_alternative<FrontError>(m)) << v;
    EXPECT_EQ(std::get<FrontError>(m).kind, FrontErrorKind::kMalformedResponse) << v;
  }
}

}  // namespace
}  // namespace lambdad::http_front
