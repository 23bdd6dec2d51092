// The Telemetry and Logs APIs' rules (docs/decisions/025): validation of a subscription, the
// events kept from the start of init for a subscription made during it, batching by count and
// by timeout, one batch on its way at a time, what a slow subscriber loses reported as
// platform.logsDropped, retries of a failed batch, and the Logs API's older shapes. Time and
// delivery are injected: a batch is "delivered" when the test answers it.
#include "lambdad/sandbox/telemetry.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lambdad_test/manual_time.hpp"

namespace lambdad::sandbox {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class FakeTransport final : public TelemetryTransport {
 public:
  struct Post {
    TelemetryDestination to;
    json batch;
    std::function<void(bool)> done;
    std::string raw;
  };
  void post(const TelemetryDestination& to, std::string body, std::function<void(bool)> done) override {
    if (post_raw != nullptr) {  // the body as it is (TCP: lines of JSON)
      *post_raw = Post{to, json(), std::move(done), std::move(body)};
      return;
    }
    posts.push_back(Post{to, json::parse(body), std::move(done), {}});
  }
  Post* post_raw = nullptr;
  // Answers the oldest unanswered post; returns its batch.
  json answer(bool ok = true) {
    auto p = std::move(posts.front());
    posts.erase(posts.begin());
    p.done(ok);
    return p.batch;
  }
  std::vector<Post> posts;
};

std::string subscription(const std::string& types = R"(["platform","function"])", const std::string& extra = "") {
  return R"({"schemaVersion":"2022-12-13","types":)" + types +
         R"(,"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:4243/t"})" + extra + "}";
}

std::vector<std::string> types_of(const json& batch) {
  std::vector<std::string> out;
  for (const auto& e : batch) out.push_back(e["type"]);
  return out;
}

class TelemetryTest : public ::testing::Test {
 protected:
  test::ManualTime time;
  FakeTransport transport;
  Telemetry telemetry{time, time, &transport, false, "127.77.0.9"};
};

TEST_F(TelemetryTest, RefusesWhatLambdaRefusesWithAValidationError) {
  auto expect_400 = [&](const std::string& body, const std::string& message) {
    auto r = telemetry.subscribe(TelemetryApi::kTelemetry, "x", body);
    EXPECT_EQ(r.status, 400) << body;
    auto j = json::parse(r.body);
    EXPECT_EQ(j["errorType"], "ValidationError");
    EXPECT_EQ(j["errorMessage"], message) << body;
  };
  expect_400("nope", "The request body is not a JSON object");
  expect_400(R"({"types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox:1"}})",
             "schemaVersion is required");
  expect_400(subscription(R"([])"), R"(types must be a non-empty array of "platform", "function", "extension")");
  expect_400(subscription(R"(["platform","metrics"])"), R"(types: metrics is not one of "platform", "function", "extension")");
  expect_400(subscription("[\"platform\"]", R"(,"buffering":{"maxItems":999})"),
             "buffering.maxItems must be an integer between 1000 and 10000");
  expect_400(subscription("[\"platform\"]", R"(,"buffering":{"maxBytes":2000000})"),
             "buffering.maxBytes must be an integer between 262144 and 1048576");
  expect_400(subscription("[\"platform\"]", R"(,"buffering":{"timeoutMs":24})"),
             "buffering.timeoutMs must be an integer between 25 and 30000");
  expect_400(R"({"schemaVersion":"2022-07-01","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://example.com:80"}})",
             "destination.URI must name the execution environment (http://sandbox.localdomain:PORT)");
  EXPECT_EQ(telemetry.subscriptions(), 0u);
}

TEST_F(TelemetryTest, ASubscriptionDuringInitGetsWhatHappenedSinceTheStartThenClosesWithIt) {
  telemetry.platform("platform.initStart", {{"phase", "init"}});
  telemetry.log_line(TelemetryStream::kFunction, "imported");
  telemetry.log_line(TelemetryStream::kExtension, "not subscribed to");
  auto r = telemetry.subscribe(TelemetryApi::kTelemetry, "agent", subscription());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
  telemetry.platform("platform.initReport", {{"status", "success"}});
  telemetry.close_subscriptions();
  EXPECT_EQ(telemetry.subscribe(TelemetryApi::kTelemetry, "agent", subscription()).status, 403);
  EXPECT_TRUE(transport.posts.empty());  // the batch waits for its timeout (1,000 ms by default)
  time.advance(999ms);
  EXPECT_TRUE(transport.posts.empty());
  time.advance(1ms);
  ASSERT_EQ(transport.posts.size(), 1u);
  // sandbox.localdomain is the environment's own address.
  EXPECT_EQ(transport.posts[0].to.host, "127.77.0.9");
  EXPECT_EQ(transport.posts[0].to.port, 4243);
  EXPECT_EQ(transport.posts[0].to.target, "/t");
  auto batch = transport.answer();
  EXPECT_EQ(types_of(batch), (std::vector<std::string>{"platform.initStart", "function",
                                                       "platform.telemetrySubscription", "platform.initReport"}));
  EXPECT_EQ(batch[1]["record"], "imported");
  EXPECT_EQ(batch[0]["time"], Telemetry::timestamp(time.epoch_ms() - 1000));
  EXPECT_EQ(Telemetry::timestamp(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(batch[2]["record"], json::parse(R"({"name":"agent","state":"Subscribed","types":["platform","function"]})"));
  // Without subscribers, after init, nothing is wanted (no record is built per invoke).
  Telemetry idle{time, time, &transport, false, "127.77.0.10"};
  idle.close_subscriptions();
  EXPECT_FALSE(idle.wanted());
}

TEST_F(TelemetryTest, AFullBatchGoesAtOnceAndOnlyOneIsOnItsWay) {
  ASSERT_EQ(telemetry.subscribe(TelemetryApi::kTelemetry, "a", subscription(R"(["function"])")).status, 200);
  telemetry.close_subscriptions();
  for (int i = 0; i < 1000; ++i) telemetry.log_line(TelemetryStream::kFunction, "line " + std::to_string(i));
  ASSERT_EQ(transport.posts.size(), 1u);  // maxItems reached: no wait for the timeout
  EXPECT_EQ(transport.posts[0].batch.size(), 1000u);
  for (int i = 0; i < 10; ++i) telemetry.log_line(TelemetryStream::kFunction, "more");
  time.advance(5s);
  EXPECT_EQ(transport.posts.size(), 1u);  // the next waits until the first is answered
  transport.answer();
  ASSERT_EQ(transport.posts.size(), 0u);
  time.advance(1s);
  ASSERT_EQ(transport.posts.size(), 1u);
  EXPECT_EQ(transport.answer().size(), 10u);
}

TEST_F(TelemetryTest, ASlowSubscriberLosesWhatDoesNotFitAndIsToldSo) {
  ASSERT_EQ(telemetry.subscribe(TelemetryApi::kTelemetry, "a", subscription()).status, 200);
  telemetry.close_subscriptions();
  // The subscription's own event and 999 "x" are on their way; one "x" and 999 "y" wait; 501 "y" are lost.
  for (int i = 0; i < 1000; ++i) telemetry.log_line(TelemetryStream::kFunction, "x");
  for (int i = 0; i < 1500; ++i) telemetry.log_line(TelemetryStream::kFunction, "y");
  ASSERT_EQ(transport.posts.size(), 1u);
  transport.answer();
  ASSERT_EQ(transport.posts.size(), 1u);  // the waiting batch is full: it goes at once
  auto batch = transport.answer();
  ASSERT_EQ(batch.size(), 1000u);  // the report counts as one of the batch's items
  EXPECT_EQ(batch[0]["type"], "platform.logsDropped");
  EXPECT_EQ(batch[0]["record"]["droppedRecords"], 501);
  EXPECT_GT(batch[0]["record"]["droppedBytes"].get<int>(), 501 * 30);
  EXPECT_EQ(batch[1]["record"], "x");
  EXPECT_EQ(batch[2]["record"], "y");
  time.advance(1s);
  EXPECT_EQ(transport.answer().size(), 1u);  // the last "y"
}

TEST_F(TelemetryTest, AFailedBatchIsTriedAgainThenDroppedAndReported) {
  ASSERT_EQ(telemetry.subscribe(TelemetryApi::kTelemetry, "a", subscription(R"(["platform"])",
                                                                             R"(,"buffering":{"timeoutMs":25})")).status, 200);
  telemetry.close_subscriptions();
  telemetry.platform("platform.start", {{"requestId", "r1"}});
  time.advance(25ms);
  ASSERT_EQ(transport.answer(false).size(), 2u);  // refused: the subscriber's server is not up yet
  time.advance(25ms);
  EXPECT_EQ(types_of(transport.answer(false)), (std::vector<std::string>{"platform.telemetrySubscription", "platform.start"}));
  time.advance(25ms);
  transport.answer(false);  // the third failure drops it
  telemetry.platform("platform.report", {{"requestId", "r1"}});
  time.advance(25ms);
  auto batch = transport.answer();
  EXPECT_EQ(types_of(batch), (std::vector<std::string>{"platform.logsDropped", "platform.report"}));
  EXPECT_EQ(batch[0]["record"]["droppedRecords"], 2);
  EXPECT_EQ(time.armed(), 0u);
}

TEST_F(TelemetryTest, TheLogsApiGetsItsOlderShapesAndJsonLinesStayStrings) {
  Telemetry json_logs{time, time, &transport, true, "127.77.0.11"};
  ASSERT_EQ(json_logs.subscribe(TelemetryApi::kLogs, "old",
                                R"({"types":["platform","function"],"buffering":{"timeoutMs":25},)"
                                R"("destination":{"protocol":"HTTP","URI":"http://sandbox:9000"}})").status, 200);
  ASSERT_EQ(json_logs.subscribe(TelemetryApi::kTelemetry, "new", subscription()).status, 200);
  json_logs.close_subscriptions();
  json_logs.platform("platform.initReport", {{"status", "success"}});
  json_logs.platform("platform.start", {{"requestId", "r"}, {"version", "$LATEST"}, {"tracing", {{"type", "X"}}}});
  json_logs.log_line(TelemetryStream::kFunction, R"({"level":"INFO","message":"hi"})");
  json_logs.platform("platform.runtimeDone", {{"requestId", "r"}, {"status", "success"}});
  json_logs.platform("platform.report", {{"requestId", "r"}, {"status", "success"}, {"metrics", {{"durationMs", 1.5}}}});
  json_logs.platform("platform.fault", "RequestId: r Process exited before completing request");
  time.advance(1s);
  ASSERT_EQ(transport.posts.size(), 2u);
  auto old = transport.posts[0].batch;
  std::vector<std::string> expected_old{"platform.logsSubscription", "platform.start", "function", "platform.end",
                                        "platform.report", "platform.fault"};
  EXPECT_EQ(types_of(old), expected_old);
  EXPECT_EQ(old[1]["record"], json::parse(R"({"requestId":"r","version":"$LATEST"})"));
  EXPECT_EQ(old[2]["record"], R"({"level":"INFO","message":"hi"})");  // always a string here
  EXPECT_EQ(old[4]["record"], json::parse(R"({"requestId":"r","metrics":{"durationMs":1.5}})"));
  auto now = transport.posts[1].batch;
  std::vector<std::string> expected_new{"platform.telemetrySubscription", "platform.initReport", "platform.start",
                                        "function", "platform.runtimeDone", "platform.report"};
  EXPECT_EQ(types_of(now), expected_new);
  EXPECT_EQ(now[3]["record"]["message"], "hi");  // schema 2022-12-13, JSON log format: an object
}

TEST_F(TelemetryTest, ATcpSubscriberGetsALineOfJsonPerEvent) {
  EXPECT_EQ(telemetry.subscribe(TelemetryApi::kTelemetry, "a",
                                R"({"schemaVersion":"2022-12-13","types":["function"],"destination":{"protocol":"TCP","port":0}})")
                .status,
            400);
  ASSERT_EQ(telemetry.subscribe(TelemetryApi::kTelemetry, "a",
                                R"({"schemaVersion":"2022-12-13","types":["function"],)"
                                R"("buffering":{"timeoutMs":25},"destination":{"protocol":"TCP","port":4245}})")
                .status,
            200);
  telemetry.close_subscriptions();
  telemetry.log_line(TelemetryStream::kFunction, "one");
  telemetry.log_line(TelemetryStream::kFunction, "two");
  FakeTransport::Post post;
  transport.post_raw = &post;
  time.advance(25ms);
  EXPECT_EQ(post.to.protocol, TelemetryDestination::Protocol::kTcp);
  EXPECT_EQ(post.to.host, "127.77.0.9");
  EXPECT_EQ(post.to.port, 4245);
  const auto newline = post.raw.find('\n');
  ASSERT_NE(newline, std::string::npos);
  EXPECT_EQ(json::parse(post.raw.substr(0, newline))["record"], "one");
  EXPECT_EQ(json::parse(post.raw.substr(newline + 1))["record"], "two");
  EXPECT_EQ(post.raw.back(), '\n');
}

}  // namespace
}  // namespace lambdad::sandbox
