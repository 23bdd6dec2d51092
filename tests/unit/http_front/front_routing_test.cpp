// The front's choices between the APIs of one template (decision 020): the most specific route
// across APIs (declaration order between alike routes), the stage variables each API's events
// carry, and a REST API's CORS preflight yielding to an OPTIONS route the path declares.
#include "lambdad/http_front/front.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "lambdad_test/manual_time.hpp"
#include "front_request.hpp"
#include "scripted_dispatcher.hpp"

namespace lambdad::http_front {
namespace {

using nlohmann::json;

config::HttpApi make_api(const char* id, config::HttpApiKind kind, const char* stage) {
  config::HttpApi a;
  a.id = id;
  a.kind = kind;
  a.stage = stage;
  return a;
}

config::HttpRoute make_route(const char* api_id, const char* method, const char* path, const char* function,
                        const char* payload = "1.0") {
  return {api_id, method, path, function, payload, 29000, "", "", 0};
}

class FrontRoutingTest : public ::testing::Test {
 protected:
  std::optional<http::Response>& send(const std::string& method, const std::string& target,
                                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    answer_.reset();
    front_.handle(front_request(method, target, headers), [this](http::Response r) { answer_ = std::move(r); });
    return answer_;
  }
  std::string last_function() const { return dispatcher_.dispatched.back()->function_name; }

  ScriptedDispatcher dispatcher_;
  test::ManualTime time_;
  Front front_{dispatcher_, time_, time_, FrontOptions{}};
  std::optional<http::Response> answer_;
};

TEST_F(FrontRoutingTest, TheMostSpecificRouteAcrossApisWinsAndAlikeTheFirstDeclared) {
  config::HttpApis apis;
  apis.apis = {make_api("Proxy", config::HttpApiKind::kRest, "Prod"), make_api("Items", config::HttpApiKind::kHttp, "$default"),
               make_api("Twin", config::HttpApiKind::kRest, "Prod")};
  apis.routes = {make_route("Proxy", "ANY", "/{proxy+}", "ProxyFn"), make_route("Items", "GET", "/items/{id}", "ItemsFn", "2.0"),
                 make_route("Items", "ANY", "$default", "DefaultFn", "2.0"), make_route("Twin", "GET", "/items/{id}", "TwinFn"),
                 make_route("Proxy", "ANY", "/items/{id}", "ProxyAnyFn")};
  front_.set_routes(apis);

  send("GET", "/items/7");  // Items' GET /items/{id} beats Proxy's ANY on the same path and {proxy+}
  EXPECT_EQ(last_function(), "ItemsFn");
  send("DELETE", "/items/7");  // only ANY routes take DELETE: Proxy's /items/{id} beats /{proxy+}
  EXPECT_EQ(last_function(), "ProxyAnyFn");
  send("GET", "/other/path");  // a route of a later API beats the first API's $default
  EXPECT_EQ(last_function(), "ProxyFn");

  // Alike routes: the API declared first (Items before Twin).
  std::swap(apis.apis[1], apis.apis[2]);
  front_.set_routes(apis);
  send("GET", "/items/7");
  EXPECT_EQ(last_function(), "TwinFn");
}

TEST_F(FrontRoutingTest, EachApiGivesItsStageVariables) {
  config::HttpApis apis;
  apis.apis = {make_api("Rest", config::HttpApiKind::kRest, "dev"), make_api("Http", config::HttpApiKind::kHttp, "$default"),
               make_api("Bare", config::HttpApiKind::kHttp, "$default")};
  apis.apis[0].stage_variables = {{"TABLE", "items-dev"}};
  apis.apis[1].stage_variables = {{"mode", "v2"}};
  apis.routes = {make_route("Rest", "GET", "/r", "Fn"), make_route("Http", "GET", "/h", "Fn", "2.0"),
                 make_route("Http", "GET", "/h1", "Fn", "1.0"), make_route("Bare", "GET", "/b", "Fn", "2.0"),
                 make_route("Bare", "GET", "/b1", "Fn", "1.0")};
  front_.set_routes(apis);
  send("GET", "/r");
  EXPECT_EQ(dispatcher_.last_event()["stageVariables"], json({{"TABLE", "items-dev"}}));
  send("GET", "/h");
  EXPECT_EQ(dispatcher_.last_event()["stageVariables"], json({{"mode", "v2"}}));
  send("GET", "/h1");
  EXPECT_EQ(dispatcher_.last_event()["stageVariables"], json({{"mode", "v2"}}));
  send("GET", "/b");  // payload 2.0 leaves out what is empty
  EXPECT_FALSE(dispatcher_.last_event().contains("stageVariables"));
  send("GET", "/b1");  // payload 1.0 says null
  EXPECT_TRUE(dispatcher_.last_event()["stageVariables"].is_null());
}

TEST_F(FrontRoutingTest, ARestOptionsRouteIsServedInsteadOfTheCorsPreflight) {
  config::HttpApis apis;
  apis.apis = {make_api("Rest", config::HttpApiKind::kRest, "Prod")};
  config::HttpCors cors;
  cors.allow_origins = {"'*'"};
  apis.apis[0].cors = cors;
  apis.routes = {make_route("Rest", "GET", "/items/{id}", "GetFn"), make_route("Rest", "OPTIONS", "/items/{id}", "OptionsFn"),
                 make_route("Rest", "OPTIONS", "/{proxy+}", "ProxyOptionsFn"), make_route("Rest", "ANY", "/any", "AnyFn")};
  front_.set_routes(apis);

  send("OPTIONS", "/items/7", {{"Origin", "http://page"}, {"Access-Control-Request-Method", "GET"}});
  ASSERT_FALSE(answer_);  // the function answers
  EXPECT_EQ(last_function(), "OptionsFn");
  dispatcher_.complete(R"({"statusCode":204,"headers":{"Access-Control-Allow-Origin":"http://page"}})");
  EXPECT_EQ(answer_->status, 204u);
  EXPECT_EQ(answer_->headers.get("Access-Control-Allow-Origin"), "http://page");

  // /any's resource has ANY, not OPTIONS: SAM's mock answers there, without an invoke.
  const auto invoked = dispatcher_.dispatched.size();
  send("OPTIONS", "/any");
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 200u);
  EXPECT_EQ(answer_->headers.get("Access-Control-Allow-Methods"), "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
  EXPECT_EQ(dispatcher_.dispatched.size(), invoked);

  send("OPTIONS", "/elsewhere/x");  // only /{proxy+} has the path, and it declares OPTIONS
  EXPECT_EQ(last_function(), "ProxyOptionsFn");
}

}  // namespace
}  // namespace lambdad::http_front
