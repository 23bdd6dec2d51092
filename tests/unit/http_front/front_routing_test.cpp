// The front's choices between the APIs of one template (decision 020): the stage variables each
// API's events carry.
#include "lambdad/http_front/front.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "lambdad_test/manual_time.hpp"
#include "scripted_dispatcher.hpp"

namespace lambdad::http_front {
namespace {

using nlohmann::json;

config::HttpApi api(const char* id, config::HttpApiKind kind, const char* stage) {
  config::HttpApi a;
  a.id = id;
  a.kind = kind;
  a.stage = stage;
  return a;
}

config::HttpRoute route(const char* api_id, const char* method, const char* path, const char* function,
                        const char* payload = "1.0") {
  return {api_id, method, path, function, payload, 29000, "", "", 0};
}

class FrontRoutingTest : public ::testing::Test {
 protected:
  std::optional<http::Response>& send(const std::string& method, const std::string& target,
                                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method_text = method;
    req.method = method == "GET" ? http::Method::kGet : http::Method::kOther;
    req.target = target;
    req.path = target.substr(0, target.find('?'));
    req.headers.add("Host", "127.0.0.1:3000");
    for (auto& [name, value] : headers) req.headers.add(name, value);
    req.peer_address = "127.0.0.1";
    req.local_port = 3000;
    answer_.reset();
    front_.handle(std::move(req), [this](http::Response r) { answer_ = std::move(r); });
    return answer_;
  }
  std::string last_function() const { return dispatcher_.dispatched.back()->function_name; }

  ScriptedDispatcher dispatcher_;
  test::ManualTime time_;
  Front front_{dispatcher_, time_, time_, FrontOptions{}};
  std::optional<http::Response> answer_;
};

TEST_F(FrontRoutingTest, EachApiGivesItsStageVariables) {
  config::HttpApis apis;
  apis.apis = {api("Rest", config::HttpApiKind::kRest, "dev"), api("Http", config::HttpApiKind::kHttp, "$default"),
               api("Bare", config::HttpApiKind::kHttp, "$default")};
  apis.apis[0].stage_variables = {{"TABLE", "items-dev"}};
  apis.apis[1].stage_variables = {{"mode", "v2"}};
  apis.routes = {route("Rest", "GET", "/r", "Fn"), route("Http", "GET", "/h", "Fn", "2.0"),
                 route("Http", "GET", "/h1", "Fn", "1.0"), route("Bare", "GET", "/b", "Fn", "2.0"),
                 route("Bare", "GET", "/b1", "Fn", "1.0")};
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

}  // namespace
}  // namespace lambdad::http_front
