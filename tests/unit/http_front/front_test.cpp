// The front on --api-port against a scripted Dispatcher and the manual clock: which front a request
// reaches (Function URL by host and by path prefix, REST and HTTP API routes), the event it
// dispatches, CORS preflights answered without an invoke, the answer mapped from the result, and
// the fronts' own answers (no route, throttle, function error, integration timeout, AWS_IAM, 413).
#include "lambdad/http_front/front.hpp"
#include "lambdad/http_front/url_stream.hpp"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "lambdad_test/manual_time.hpp"
#include "front_request.hpp"
#include "scripted_dispatcher.hpp"

namespace lambdad::http_front {
namespace {

using invocation::Admission;
using nlohmann::json;


config::HttpCors cors_any() {
  config::HttpCors c;
  c.allow_origins = {"*"};
  c.allow_methods = {"GET", "POST"};
  c.allow_headers = {"content-type"};
  return c;
}

class FrontTest : public ::testing::Test {
 protected:
  FrontTest() {
    const auto apis = template_apis();
    front_.set_routes(apis);
    for (const auto& url : apis.urls) front_.put_url(url);  // as the catalogue publishes them
  }

  static config::HttpApis template_apis() {
    config::HttpApis apis;
    config::HttpApi rest;
    rest.id = "ServerlessRestApi";
    rest.kind = config::HttpApiKind::kRest;
    rest.stage = "Prod";
    config::HttpApi http;
    http.id = "ServerlessHttpApi";
    http.kind = config::HttpApiKind::kHttp;
    http.stage = "$default";
    http.cors = cors_any();
    apis.apis = {rest, http};
    apis.routes.push_back({"ServerlessRestApi", "GET", "/items/{id}", "Items", "1.0", 29000, "", "", 0});
    apis.routes.push_back({"ServerlessRestApi", "ANY", "/files/{proxy+}", "Items", "1.0", 29000, "", "", 0});
    apis.routes.push_back({"ServerlessHttpApi", "GET", "/hello", "Hello", "2.0", 30000, "", "", 0});
    apis.routes.push_back({"ServerlessHttpApi", "POST", "/legacy", "Hello", "1.0", 30000, "", "", 0});
    config::FunctionUrl url;
    url.function_name = "Url";
    url.cors = cors_any();
    apis.urls.push_back(url);
    return apis;
  }

  std::optional<http::Response>& send(const std::string& method, const std::string& target,
                                      std::vector<std::pair<std::string, std::string>> headers = {},
                                      std::string body = {}) {
    answer_.reset();
    front_.handle(front_request(method, target, headers, std::move(body)), [this](http::Response r) { answer_ = std::move(r); });
    return answer_;
  }

  ScriptedDispatcher dispatcher_{{"Hello", "Items", "Url"}};
  test::ManualTime time_;
  http_front::FrontOptions options_;
  Front front_{dispatcher_, time_, time_, options_};
  std::optional<http::Response> answer_;
};

TEST_F(FrontTest, HttpApiRouteDispatchesAPayload2EventAndMapsTheResult) {
  send("GET", "/hello?a=1&a=2", {{"Cookie", "c1=v1; c2=v2"}, {"User-Agent", "curl/8"}});
  ASSERT_FALSE(answer_);
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.dispatched[0]->function_name, "Hello");
  EXPECT_EQ(dispatcher_.dispatched[0]->invoked_function_arn, "arn:aws:lambda:us-east-1:123456789012:function:Hello");
  const auto event = dispatcher_.last_event();
  EXPECT_EQ(event["version"], "2.0");
  EXPECT_EQ(event["routeKey"], "GET /hello");
  EXPECT_EQ(event["rawQueryString"], "a=1&a=2");
  EXPECT_EQ(event["queryStringParameters"]["a"], "1,2");
  EXPECT_EQ(event["cookies"], json({"c1=v1", "c2=v2"}));
  EXPECT_EQ(event["requestContext"]["apiId"], "ServerlessHttpApi");
  EXPECT_EQ(event["requestContext"]["http"]["sourceIp"], "127.0.0.1");
  EXPECT_EQ(event["requestContext"]["timeEpoch"], time_.epoch_ms());
  EXPECT_EQ(event["headers"]["x-forwarded-port"], "3000");

  dispatcher_.complete(R"({"statusCode":201,"body":"made","cookies":["s=1"],"headers":{"X-A":"b"}})");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 201u);
  EXPECT_EQ(answer_->body, "made");
  EXPECT_EQ(answer_->headers.get("Set-Cookie"), "s=1");
  EXPECT_EQ(answer_->headers.get("X-A"), "b");
  EXPECT_EQ(answer_->headers.get("x-amzn-RequestId"), event["requestContext"]["requestId"].get<std::string>());
}

TEST_F(FrontTest, RestRoutesGetPayload1WithPathParameters) {
  send("GET", "/items/a%20b");
  auto event = dispatcher_.last_event();
  EXPECT_EQ(event["resource"], "/items/{id}");
  EXPECT_EQ(event["pathParameters"]["id"], "a b");
  EXPECT_EQ(event["requestContext"]["stage"], "Prod");
  EXPECT_EQ(event["requestContext"]["path"], "/Prod/items/a%20b");
  dispatcher_.complete(R"({"statusCode":200,"body":"ok"})");
  EXPECT_EQ(answer_->status, 200u);
  EXPECT_EQ(answer_->body, "ok");

  send("DELETE", "/files/a/b/c");
  event = dispatcher_.last_event();
  EXPECT_EQ(event["pathParameters"]["proxy"], "a/b/c");
  EXPECT_EQ(event["httpMethod"], "DELETE");

  send("POST", "/legacy", {}, "x=1");
  event = dispatcher_.last_event();
  EXPECT_EQ(event["version"], "1.0");
  EXPECT_EQ(event["body"], "x=1");
  dispatcher_.complete(R"({"statusCode":202})");
  EXPECT_EQ(answer_->status, 202u);
}

TEST_F(FrontTest, NoRouteIs404WithHttpApisAnd403WithOnlyRestApis) {
  send("GET", "/nothing");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 404u);
  EXPECT_EQ(answer_->body, R"({"message":"Not Found"})");
  auto rest_only = template_apis();
  rest_only.apis.pop_back();
  front_.set_routes(rest_only);
  send("GET", "/nothing");
  EXPECT_EQ(answer_->status, 403u);
  EXPECT_EQ(answer_->body, R"({"message":"Missing Authentication Token"})");
  send("GET", "/hello");  // its API is gone with the reload
  EXPECT_EQ(answer_->status, 403u);
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(FrontTest, FunctionErrorsThrottlesAndTimeouts) {
  send("GET", "/hello");
  dispatcher_.complete(R"({"errorMessage":"boom"})", invocation::Outcome::kFunctionError, "Error");
  EXPECT_EQ(answer_->status, 502u);
  EXPECT_EQ(answer_->body, R"({"message":"Internal server error"})");

  send("GET", "/hello");
  dispatcher_.complete("not json");
  EXPECT_EQ(answer_->status, 502u);

  send("GET", "/hello");
  dispatcher_.complete(R"({"errorType":"Sandbox.Timedout"})", invocation::Outcome::kFunctionError, "Sandbox.Timedout");
  EXPECT_EQ(answer_->status, 504u);

  dispatcher_.admission = Admission::kThrottledReserved;
  send("GET", "/hello");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 429u);
  EXPECT_EQ(answer_->body, R"({"message":"Too Many Requests"})");
}

TEST_F(FrontTest, PastTheIntegrationTimeoutIs504AndTheLateResultIsDropped) {
  send("GET", "/items/1");
  time_.advance(std::chrono::milliseconds(28999));
  EXPECT_FALSE(answer_);
  time_.advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 504u);
  answer_.reset();
  dispatcher_.complete(R"({"statusCode":200})");
  EXPECT_FALSE(answer_);

  send("GET", "/hello");
  dispatcher_.complete(R"({"statusCode":200})");
  EXPECT_EQ(time_.armed(), 0u);  // answered: its timer is gone
}

TEST_F(FrontTest, FunctionUrlsByHostAndByPathPrefix) {
  send("POST", "/some/path?q=1", {{"Host", "url.lambda-url.localhost:3000"}}, "hi");
  auto event = dispatcher_.last_event();
  EXPECT_EQ(dispatcher_.dispatched.back()->function_name, "Url");
  EXPECT_EQ(event["rawPath"], "/some/path");
  EXPECT_EQ(event["routeKey"], "$default");
  EXPECT_EQ(event["requestContext"]["domainName"], "url.lambda-url.localhost");
  EXPECT_EQ(event["requestContext"]["accountId"], "anonymous");
  EXPECT_EQ(event["body"], "hi");
  EXPECT_EQ(dispatcher_.dispatched.back()->request_id, event["requestContext"]["requestId"]);
  dispatcher_.complete(R"({"hello":"world"})");
  EXPECT_EQ(answer_->status, 200u);
  EXPECT_EQ(answer_->headers.get("Content-Type"), "application/json");
  EXPECT_EQ(answer_->body, R"({"hello":"world"})");

  send("GET", "/_lambda-url/Url/x/y?z=2");
  event = dispatcher_.last_event();
  EXPECT_EQ(event["rawPath"], "/x/y");
  EXPECT_EQ(event["rawQueryString"], "z=2");
  send("GET", "/_lambda-url/Url");
  EXPECT_EQ(dispatcher_.last_event()["rawPath"], "/");

  const auto before = dispatcher_.dispatched.size();
  send("GET", "/", {{"Host", "other.lambda-url.localhost"}});
  EXPECT_EQ(answer_->status, 404u);
  EXPECT_EQ(dispatcher_.dispatched.size(), before);
}

TEST_F(FrontTest, PreflightsAreAnsweredWithoutAnInvoke) {
  send("OPTIONS", "/anything", {{"Origin", "http://page"}, {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 204u);  // the HTTP API's CorsConfiguration
  EXPECT_EQ(answer_->headers.get("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(answer_->headers.get("Access-Control-Allow-Methods"), "GET,POST");

  send("OPTIONS", "/", {{"Host", "url.lambda-url.localhost"}, {"Origin", "http://page"},
                        {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(answer_->status, 200u);
  EXPECT_EQ(answer_->headers.get("Access-Control-Allow-Origin"), "*");
  EXPECT_TRUE(dispatcher_.dispatched.empty());

  send("GET", "/hello", {{"Origin", "http://page"}});
  dispatcher_.complete("{}");
  EXPECT_EQ(answer_->headers.get("Access-Control-Allow-Origin"), "*");
}

TEST_F(FrontTest, RestCorsWithoutAllowMethodsAnswersThePathsMethods) {
  auto apis = template_apis();
  config::HttpCors cors;
  cors.allow_origins = {"'*'"};
  apis.apis[0].cors = cors;
  apis.apis.pop_back();
  front_.set_routes(apis);
  send("OPTIONS", "/items/7");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 200u);
  EXPECT_EQ(answer_->headers.get("Access-Control-Allow-Methods"), "GET,OPTIONS");
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(FrontTest, AwsIamUrlsNeedASignatureWhenTheDaemonChecksThem) {
  auto apis = template_apis();
  apis.urls[0].auth_type = config::FunctionUrl::AuthType::kAwsIam;
  options_.verify_signature = [](const http::Request& req) { return req.headers.has("Authorization"); };
  Front checked(dispatcher_, time_, time_, options_);
  checked.set_routes(apis);
  checked.put_url(apis.urls[0]);
  std::optional<http::Response> got;
  http::Request req;
  req.method_text = "GET";
  req.target = req.path = "/_lambda-url/Url/";
  checked.handle(http::Request(req), [&](http::Response r) { got = std::move(r); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 403u);
  EXPECT_TRUE(dispatcher_.dispatched.empty());
  req.headers.add("Authorization", "AWS4-HMAC-SHA256 ...");
  checked.handle(http::Request(req), [&](http::Response r) { got = std::move(r); });
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.last_event()["requestContext"]["accountId"], "123456789012");
}

TEST_F(FrontTest, BodiesPastTheInvokeLimitAre413) {
  http::Request req;
  req.method_text = "GET";
  req.target = req.path = "/hello";
  req.body_too_large = true;
  front_.handle(std::move(req), [this](http::Response r) { answer_ = std::move(r); });
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 413u);
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(FrontTest, DescribeListsRoutesAndUrls) {
  const auto lines = front_.describe("http://127.0.0.1:3000", 3000);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "  GET /items/{id} -> Items (RestApi ServerlessRestApi, payload 1.0)");
  EXPECT_EQ(lines[2], "  GET /hello -> Hello (HttpApi ServerlessHttpApi, payload 2.0)");
  EXPECT_EQ(lines[4],
            "  URL http://url.lambda-url.localhost:3000/ -> Url (also http://127.0.0.1:3000/_lambda-url/url/)");
}


// A stream the test reads: what was written, whether it ended.
struct RecordedStream final : http::ResponseStream {
  std::vector<std::string> chunks;
  bool ended = false;
  void write(std::string data, std::function<void(bool)> written) override {
    chunks.push_back(std::move(data));
    if (written) written(true);
  }
  void end(http::Headers) override { ended = true; }
  bool broken() const override { return false; }
};

TEST_F(FrontTest, UrlsFollowPutAndRemoveAndAnAliasHasItsOwnHost) {
  config::FunctionUrl alias;
  alias.function_name = "Url";
  alias.qualifier = "live";
  front_.put_url(alias);
  send("GET", "/", {{"Host", "LIVE--url.lambda-url.localhost:3000"}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.dispatched[0]->qualifier, "live");
  EXPECT_EQ(dispatcher_.dispatched[0]->invoked_function_arn, "arn:aws:lambda:us-east-1:123456789012:function:Url:live");
  EXPECT_EQ(dispatcher_.last_event()["requestContext"]["apiId"], "live--url");
  front_.remove_url("Url", "live");
  send("GET", "/", {{"Host", "live--url.lambda-url.localhost:3000"}});
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 404u);
  front_.remove_urls("Url");
  send("GET", "/_lambda-url/Url/");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 404u);
  EXPECT_EQ(dispatcher_.dispatched.size(), 1u);
}

TEST_F(FrontTest, AResponseStreamUrlWritesTheHeadThenEachPieceAsItArrives) {
  config::FunctionUrl url;
  url.function_name = "Url";
  url.invoke_mode = config::FunctionUrl::InvokeMode::kResponseStream;
  front_.put_url(url);
  std::optional<http::Response> head;
  auto stream = std::make_shared<RecordedStream>();
  http::Request req;
  req.method_text = "GET";
  req.target = req.path = "/_lambda-url/Url/";
  front_.handle(std::move(req), http::Responder([](http::Response) {}, [&](http::Response h) {
                  head = std::move(h);
                  return stream;
                }));
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  auto& inv = *dispatcher_.dispatched[0];
  ASSERT_TRUE(inv.on_chunk && inv.on_stream_start);
  inv.on_stream_start(std::string(kHttpIntegrationResponse));
  int resumed = 0;
  inv.on_chunk(R"({"statusCode":203,"cookies":["a=1"]})", [&] { ++resumed; });
  EXPECT_FALSE(head) << "the prelude has not ended yet";
  inv.on_chunk(std::string(8, '\0') + "first", [&] { ++resumed; });
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 203u);
  EXPECT_EQ(head->headers.get("Set-Cookie"), "a=1");
  EXPECT_TRUE(head->headers.get("x-amzn-RequestId"));
  inv.on_chunk("second", [&] { ++resumed; });
  EXPECT_EQ(resumed, 3);
  EXPECT_EQ(stream->chunks, (std::vector<std::string>{"first", "second"}));
  invocation::InvocationResult done;
  done.streamed = true;
  inv.on_complete(std::move(done));
  EXPECT_TRUE(stream->ended);
}

TEST_F(FrontTest, AResponseStreamUrlOfAFunctionThatFailsFirstIs502) {
  config::FunctionUrl url;
  url.function_name = "Url";
  url.invoke_mode = config::FunctionUrl::InvokeMode::kResponseStream;
  front_.put_url(url);
  send("GET", "/_lambda-url/Url/");
  dispatcher_.complete(R"({"errorType":"Error"})", invocation::Outcome::kFunctionError, "Error");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 502u);
  // A function that does not stream: its payload is the body, as it is.
  send("GET", "/_lambda-url/Url/");
  dispatcher_.complete(R"({"statusCode":404})");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 200u);
  EXPECT_EQ(answer_->body, R"({"statusCode":404})");
}

}  // namespace
}  // namespace lambdad::http_front
