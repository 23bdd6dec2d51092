// The Invoke API's handlers against a scripted Dispatcher, called through the router without a
// socket: what each answer is made of (status, headers, body byte for byte) for RequestResponse,
// Event and DryRun, unknown functions and qualifiers, Pending functions, throttles, payloads over
// the limits, function errors and the log tail. The answers are those the end-to-end suites
// expect from the daemon (tests/e2e/test_boto3.py, test_pools.py, test_async.py, js/sdk.test.mjs).
#include "lambdad/invoke_api/invoke_api.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "lambdad/async/event_queue.hpp"
#include "lambdad/common/base64.hpp"
#include "lambdad_test/blocking_work.hpp"
#include "lambdad_test/manual_time.hpp"

namespace lambdad::invoke_api {
namespace {

namespace fs = std::filesystem;
using invocation::Admission;
// Lambda's error bodies keep their members in the order it writes them.
using json = nlohmann::ordered_json;

constexpr const char* kArn = "arn:aws:lambda:us-east-1:123456789012:function:";

// Resolves what it is told and keeps every dispatched invocation; admits or throttles as told.
class ScriptedDispatcher final : public invocation::Dispatcher {
 public:
  struct Function {
    std::map<std::string, std::string> qualifiers{{"$LATEST", "$LATEST"}};  // qualifier -> version
    std::optional<std::string> unavailable;
    bool tracing = false;
  };
  std::map<std::string, Function> functions;
  std::map<std::string, std::string> other_names;  // logical id or short name -> deployed name
  Admission admission = Admission::kAccepted;
  std::vector<invocation::InvocationPtr> dispatched;

  bool has_function(const std::string& name) const override { return functions.count(name) != 0; }
  std::string function_for(const std::string& requested) const override {
    auto it = other_names.find(requested);
    return it == other_names.end() ? requested : it->second;
  }
  std::optional<std::string> resolve(const std::string& name, const std::string& qualifier) const override {
    auto fn = functions.find(name);
    if (fn == functions.end()) return std::nullopt;
    auto v = fn->second.qualifiers.find(qualifier.empty() ? "$LATEST" : qualifier);
    if (v == fn->second.qualifiers.end()) return std::nullopt;
    return v->second;
  }
  std::optional<std::string> unavailable(const std::string& name) const override {
    auto fn = functions.find(name);
    return fn == functions.end() ? std::nullopt : fn->second.unavailable;
  }
  bool tracing_active(const std::string& name, const std::string&) const override {
    auto fn = functions.find(name);
    return fn != functions.end() && fn->second.tracing;
  }
  Admission dispatch(invocation::InvocationPtr inv) override {
    dispatched.push_back(std::move(inv));
    return admission;
  }
  std::optional<std::size_t> evict(const std::string& name) override {
    return has_function(name) ? std::optional<std::size_t>(0) : std::nullopt;
  }
  // One entry per function and a member of its own, as the scheduler's document has.
  void status(nlohmann::json& out) const override {
    out["functions"] = nlohmann::json::array();
    for (const auto& [name, fn] : functions) out["functions"].push_back({{"name", name}, {"inFlight", 0}});
    out["accountConcurrency"] = 1000;
  }

  // Answers the last dispatched invocation, as its pool would.
  void complete(invocation::Outcome outcome, std::string payload, std::string log = {}) {
    ASSERT_FALSE(dispatched.empty());
    auto inv = dispatched.back();
    invocation::InvocationResult r;
    r.outcome = outcome;
    r.payload = std::move(payload);
    r.executed_version = inv->version;
    r.log = std::move(log);
    if (outcome == invocation::Outcome::kFunctionError) r.error_type = "Unhandled";
    inv->on_complete(std::move(r));
  }
};

class InvokeApiTest : public ::testing::Test {
 protected:
  InvokeApiTest() {
    dispatcher_.functions["F"].qualifiers = {{"$LATEST", "$LATEST"}, {"1", "1"}, {"live", "1"}};
    dispatcher_.functions["orders-prod"];
    dispatcher_.other_names["OrdersFunction"] = "orders-prod";
  }

  // A router over the dispatcher (and, with_events, an Event queue over it too).
  http::Router& router(bool with_events = false) {
    if (with_events && !events_) {
      std::string pattern = (fs::temp_directory_path() / "lambdad-invoke-api-XXXXXX").string();
      EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
      state_ = pattern;
      fs::create_directories(state_ / "events");
      fs::create_directories(state_ / "destinations");
      async::EventQueueOptions options;
      options.events_dir = state_ / "events";
      options.destinations_dir = state_ / "destinations";
      options.durable = false;
      events_ = std::make_unique<async::EventQueue>(dispatcher_, time_, time_, blocking_, options);
      for (const auto& [name, fn] : dispatcher_.functions) events_->set_function(name, {});
      events_->start();
      router_.reset();
    }
    if (!router_) router_ = std::make_unique<http::Router>(make_router(dispatcher_, time_, {}, events_.get()));
    return *router_;
  }
  ~InvokeApiTest() override {
    router_.reset();
    events_.reset();
    if (!state_.empty()) fs::remove_all(state_);
  }

  using Headers = std::vector<std::pair<std::string, std::string>>;
  struct Call {
    Call(std::string name_, std::string query_ = {}, Headers headers_ = {}, std::string body_ = "{}",
         bool too_large_ = false)
        : name(std::move(name_)), query(std::move(query_)), headers(std::move(headers_)), body(std::move(body_)),
          too_large(too_large_) {}
    std::string name;   // the {name} path segment, as sent (percent-encoded)
    std::string query;  // "Qualifier=live"
    Headers headers;
    std::string body;
    bool too_large;  // the server found the body over the route's limit
  };

  // Sends one Invoke; returns the answers given so far (an invoke that runs answers later). With
  // events, the Event queue's spool writes run first (unless settle_events_ is off).
  std::vector<http::Response>& invoke(Call call, bool with_events = false) {
    http::Request req;
    req.method = http::Method::kPost;
    req.path = "/2015-03-31/functions/" + call.name + "/invocations";
    req.query = call.query;
    req.target = req.path + (call.query.empty() ? "" : "?" + call.query);
    for (auto& [k, v] : call.headers) req.headers.add(k, v);
    req.body = call.too_large ? "" : std::move(call.body);
    req.body_too_large = call.too_large;
    auto& r = router(with_events);
    auto match = r.match(req.method, req.path);
    EXPECT_NE(match.route, nullptr) << req.path;
    req.path_params = match.params;
    answers_.clear();
    match.route->handler(std::move(req), [this](http::Response response) { answers_.push_back(std::move(response)); });
    if (events_ && settle_events_) settle();
    return answers_;
  }

  // Sends one GET; returns its answers.
  std::vector<http::Response>& get(const std::string& path, bool with_events = false) {
    http::Request req;
    req.method = http::Method::kGet;
    req.path = req.target = path;
    auto& r = router(with_events);
    auto match = r.match(req.method, req.path);
    EXPECT_NE(match.route, nullptr) << req.path;
    req.path_params = match.params;
    answers_.clear();
    match.route->handler(std::move(req), [this](http::Response response) { answers_.push_back(std::move(response)); });
    return answers_;
  }

  // The one answer given, checked to be the AWS error `type` with `status` and `body`.
  void expect_error(unsigned status, const std::string& type, const json& body) {
    ASSERT_EQ(answers_.size(), 1u);
    const auto& r = answers_.front();
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.headers.get("X-Amzn-ErrorType").value_or(""), type);
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
    EXPECT_FALSE(r.headers.get("x-amzn-RequestId").value_or("").empty());
    EXPECT_EQ(r.body, body.dump()) << "byte for byte, members in Lambda's order";
  }

  // The body most of Lambda's errors have (some spell the member "message").
  static json user(const std::string& message, const char* member = "Message") {
    return json{{"Type", "User"}, {member, message}};
  }

  static std::string header(const http::Response& r, std::string_view name) {
    return std::string(r.headers.get(name).value_or("<absent>"));
  }

  void settle() { test::settle(blocking_, io_); }

  ScriptedDispatcher dispatcher_;
  test::ManualTime time_;
  boost::asio::io_context io_;
  BlockingPool blocking_{io_, {.threads = 1, .capacity = 64}};
  bool settle_events_ = true;
  fs::path state_;
  std::unique_ptr<async::EventQueue> events_;
  std::unique_ptr<http::Router> router_;
  std::vector<http::Response> answers_;
};

// --- RequestResponse ----------------------------------------------------------------------------

TEST_F(InvokeApiTest, RequestResponseAnswersWithTheFunctionsResultOnceItIsDone) {
  invoke({"F", "", {}, R"({"name":"Ada"})"});
  EXPECT_TRUE(answers_.empty()) << "no answer before the function's";
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  const auto inv = dispatcher_.dispatched.front();
  EXPECT_EQ(inv->function_name, "F");
  EXPECT_EQ(inv->qualifier, "$LATEST");
  EXPECT_EQ(inv->version, "$LATEST");
  EXPECT_EQ(inv->invoked_function_arn, std::string(kArn) + "F");
  EXPECT_EQ(inv->payload, R"({"name":"Ada"})");
  EXPECT_FALSE(inv->request_id.empty());
  EXPECT_EQ(inv->trace_id.rfind("Root=1-", 0), 0u) << inv->trace_id;

  dispatcher_.complete(invocation::Outcome::kSuccess, R"({"greeting":"hello"})");
  ASSERT_EQ(answers_.size(), 1u);
  const auto& r = answers_.front();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"greeting":"hello"})");
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  EXPECT_EQ(header(r, "x-amzn-RequestId"), inv->request_id) << "the id the function saw";
  EXPECT_EQ(header(r, "X-Amz-Executed-Version"), "$LATEST");
  EXPECT_EQ(header(r, "X-Amzn-Trace-Id"), inv->trace_id);
  EXPECT_EQ(header(r, "x-amzn-Remapped-Content-Length"), "0");
  EXPECT_EQ(header(r, "X-Amz-Function-Error"), "<absent>");
  EXPECT_EQ(header(r, "X-Amz-Log-Result"), "<absent>") << "only asked for with X-Amz-Log-Type: Tail";
}

TEST_F(InvokeApiTest, AnEmptyPayloadReachesTheFunctionAsAnEmptyObject) {
  invoke({"F", "", {}, ""});
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.dispatched.front()->payload, "{}");
}

TEST_F(InvokeApiTest, QualifiersAliasesAndArnsReachTheVersionTheyName) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {"F", "Qualifier=live", "live"},
      {"F:live", "", "live"},
      {"F:1", "Qualifier=1", "1"},
      {std::string(kArn) + "F:live", "", "live"},
      {"arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3AF%3Alive", "", "live"}};
  for (const auto& [name, query, qualifier] : cases) {
    dispatcher_.dispatched.clear();
    invoke({name, query});
    ASSERT_EQ(dispatcher_.dispatched.size(), 1u) << name << "?" << query;
    const auto inv = dispatcher_.dispatched.front();
    EXPECT_EQ(inv->function_name, "F") << name;
    EXPECT_EQ(inv->qualifier, qualifier) << name;
    EXPECT_EQ(inv->version, "1") << name;
    EXPECT_EQ(inv->invoked_function_arn, std::string(kArn) + "F:" + qualifier) << name;
    dispatcher_.complete(invocation::Outcome::kSuccess, "1");
    ASSERT_EQ(answers_.size(), 1u);
    EXPECT_EQ(header(answers_.front(), "X-Amz-Executed-Version"), "1") << name;
  }
}

TEST_F(InvokeApiTest, ALogicalIdRunsTheFunctionUnderItsDeployedName) {
  invoke({"OrdersFunction"});
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  EXPECT_EQ(dispatcher_.dispatched.front()->function_name, "orders-prod");
  EXPECT_EQ(dispatcher_.dispatched.front()->invoked_function_arn, std::string(kArn) + "orders-prod");
}

TEST_F(InvokeApiTest, AFunctionErrorIsUnhandledWithTheErrorAsTheBody) {
  invoke({"F"});
  const std::string error = R"({"errorMessage":"python says no to Grace","errorType":"ValueError"})";
  dispatcher_.complete(invocation::Outcome::kFunctionError, error);
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_.front().status, 200u) << "a function error is still a 200";
  EXPECT_EQ(header(answers_.front(), "X-Amz-Function-Error"), "Unhandled");
  EXPECT_EQ(header(answers_.front(), "X-Amz-Executed-Version"), "$LATEST");
  EXPECT_EQ(answers_.front().body, error);
}

TEST_F(InvokeApiTest, TheLogTailIsTheLastFourKilobytesInBase64) {
  invoke({"F", "", {{"X-Amz-Log-Type", "Tail"}}});
  dispatcher_.complete(invocation::Outcome::kSuccess, "{}", "START RequestId: x\nhello\nEND RequestId: x\n");
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(base64::decode(header(answers_.front(), "X-Amz-Log-Result")).value_or("<not base64>"),
            "START RequestId: x\nhello\nEND RequestId: x\n");

  const std::string log = std::string(100, 'a') + std::string(4096, 'b');
  invoke({"F", "", {{"X-Amz-Log-Type", "Tail"}}});
  dispatcher_.complete(invocation::Outcome::kSuccess, "{}", log);
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(base64::decode(header(answers_.front(), "X-Amz-Log-Result")).value_or("<not base64>"),
            std::string(4096, 'b'));

  invoke({"F", "", {{"X-Amz-Log-Type", "None"}}});
  dispatcher_.complete(invocation::Outcome::kSuccess, "{}", log);
  EXPECT_EQ(header(answers_.front(), "X-Amz-Log-Result"), "<absent>");
}

TEST_F(InvokeApiTest, AnActiveTracingConfigSamplesACallWithoutADecision) {
  dispatcher_.functions["F"].tracing = true;
  invoke({"F"});
  invoke({"F", "", {{"X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"}}});
  ASSERT_EQ(dispatcher_.dispatched.size(), 2u);
  EXPECT_NE(dispatcher_.dispatched[0]->trace_id.find(";Sampled=1"), std::string::npos)
      << dispatcher_.dispatched[0]->trace_id;
  EXPECT_EQ(dispatcher_.dispatched[1]->trace_id.rfind("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=", 0), 0u);
  EXPECT_NE(dispatcher_.dispatched[1]->trace_id.find(";Sampled=0"), std::string::npos) << "the caller's decision";
}

// --- Event and DryRun ---------------------------------------------------------------------------

TEST_F(InvokeApiTest, DryRunIs204AndRunsNothing) {
  invoke({"F", "", {{"X-Amz-Invocation-Type", "DryRun"}}});
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_.front().status, 204u);
  EXPECT_FALSE(header(answers_.front(), "x-amzn-RequestId").empty());
  EXPECT_EQ(answers_.front().body, "");
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(InvokeApiTest, AnEventIs202OnceQueuedAndRunsLaterUnderTheSameRequestId) {
  invoke({"F", "Qualifier=live", {{"X-Amz-Invocation-Type", "Event"}}, R"({"n":1})"}, true);
  ASSERT_EQ(answers_.size(), 1u);
  const auto& r = answers_.front();
  EXPECT_EQ(r.status, 202u);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(header(r, "x-amzn-Remapped-Content-Length"), "0");
  const std::string request_id = header(r, "x-amzn-RequestId");
  EXPECT_EQ(header(r, "X-Amzn-Trace-Id").rfind("Root=1-", 0), 0u);
  EXPECT_TRUE(dispatcher_.dispatched.empty()) << "admitted when the queue runs it, not before the 202";
  EXPECT_EQ(events_->counters("F")->accepted, 1u);

  time_.advance(std::chrono::milliseconds(0));
  ASSERT_EQ(dispatcher_.dispatched.size(), 1u);
  const auto inv = dispatcher_.dispatched.front();
  EXPECT_EQ(inv->request_id, request_id);
  EXPECT_EQ(inv->version, "1");
  EXPECT_EQ(inv->payload, R"({"n":1})");
  EXPECT_EQ(inv->trace_id, header(r, "X-Amzn-Trace-Id"));
}

TEST_F(InvokeApiTest, AnEventIsAnsweredOnlyOnceItsSpoolWriteHasRun) {
  router(true);
  test::Gate gate;
  blocking_.run(gate.job());
  gate.wait_started();  // the write waits behind it
  settle_events_ = false;
  invoke({"F", "", {{"X-Amz-Invocation-Type", "Event"}}, R"({"n":1})"}, true);
  EXPECT_TRUE(answers_.empty()) << "no 202 before the event is durable";
  EXPECT_TRUE(fs::is_empty(state_ / "events"));
  gate.open();
  settle();
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_.front().status, 202u);
  EXPECT_TRUE(fs::exists(state_ / "events" / (header(answers_.front(), "x-amzn-RequestId") + ".event")));
}

TEST_F(InvokeApiTest, AnEventThatCannotBeSpooledIsAServiceException) {
  router(true);
  fs::remove_all(state_ / "events");  // nowhere to write it
  invoke({"F", "", {{"X-Amz-Invocation-Type", "Event"}}, R"({"n":1})"}, true);
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_.front().status, 500u);
  EXPECT_EQ(header(answers_.front(), "X-Amzn-ErrorType"), "ServiceException");
  EXPECT_NE(json::parse(answers_.front().body)["Message"].get<std::string>().find("The event could not be queued: "),
            std::string::npos);
  EXPECT_EQ(events_->counters("F")->accepted, 0u);
  time_.advance(std::chrono::milliseconds(0));
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(InvokeApiTest, AnEventWithoutAQueueIsAServiceException) {
  invoke({"F", "", {{"X-Amz-Invocation-Type", "Event"}}});
  expect_error(500, "ServiceException",
               user("The event could not be queued: asynchronous invocation is not available"));
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

// --- refusals -----------------------------------------------------------------------------------

TEST_F(InvokeApiTest, AnUnknownFunctionIsResourceNotFound) {
  invoke({"NoSuchFunction"});
  expect_error(404, "ResourceNotFoundException",
               user(std::string("Function not found: ") + kArn + "NoSuchFunction:$LATEST"));
  invoke({std::string(kArn) + "Ghost"});
  expect_error(404, "ResourceNotFoundException",
               user(std::string("Function not found: ") + kArn + "Ghost:$LATEST"));
  invoke({"ordersfunction"});
  expect_error(404, "ResourceNotFoundException",
               user(std::string("Function not found: ") + kArn + "ordersfunction:$LATEST"));
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(InvokeApiTest, AnUnknownQualifierIsResourceNotFoundNamingIt) {
  invoke({"F", "Qualifier=nope"});
  expect_error(404, "ResourceNotFoundException",
               user(std::string("Function not found: ") + kArn + "F:nope"));
  invoke({"F:2"});
  expect_error(404, "ResourceNotFoundException",
               user(std::string("Function not found: ") + kArn + "F:2"));
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(InvokeApiTest, AFunctionThatIsNotActiveIsAConflict) {
  dispatcher_.functions["F"].unavailable = "Pending";
  invoke({"F"});
  expect_error(409, "ResourceConflictException",
               user("The operation cannot be performed at this time. The function is currently in the following "
                    "state: Pending",
                    "message"));
  dispatcher_.functions["F"].unavailable = "Failed";
  invoke({"F", "", {{"X-Amz-Invocation-Type", "Event"}}}, true);
  expect_error(409, "ResourceConflictException",
               user("The operation cannot be performed at this time. The function is currently in the following "
                    "state: Failed",
                    "message"));
  time_.advance(std::chrono::milliseconds(0));
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

TEST_F(InvokeApiTest, ThrottlesAreTooManyRequestsWithLambdasReason) {
  dispatcher_.admission = Admission::kThrottledReserved;
  invoke({"F"});
  expect_error(429, "TooManyRequestsException",
               json::parse(R"({"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User",)"
                           R"("message":"Rate Exceeded."})"));
  EXPECT_EQ(answers_.front().body, R"({"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User",)"
                                   R"("message":"Rate Exceeded."})");

  dispatcher_.admission = Admission::kThrottledAccount;
  invoke({"F"});
  expect_error(429, "TooManyRequestsException",
               json::parse(R"({"Reason":"ConcurrentInvocationLimitExceeded","Type":"User",)"
                           R"("message":"Rate Exceeded."})"));
  EXPECT_EQ(answers_.front().body,
            R"({"Reason":"ConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."})");
}

TEST_F(InvokeApiTest, PayloadsOverTheLimitsAreRequestEntityTooLarge) {
  invoke({"F", "", {}, "", true});
  expect_error(413, "RequestEntityTooLargeException",
               user("Request must be smaller than 6291456 bytes for the InvokeFunction operation"));

  const std::string over_event_limit = R"({"d":")" + std::string(1048577 - 8, 'a') + R"("})";
  ASSERT_EQ(over_event_limit.size(), 1048577u);
  invoke({"F", "", {{"X-Amz-Invocation-Type", "Event"}}, over_event_limit}, true);
  expect_error(413, "RequestEntityTooLargeException",
               user("1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"));
  EXPECT_EQ(events_->counters("F")->accepted, 0u);

  // At the Event limit, and a synchronous payload over it, are taken.
  const std::string at_event_limit = R"({"d":")" + std::string(1048576 - 8, 'a') + R"("})";
  invoke({"F", "", {{"X-Amz-Invocation-Type", "Event"}}, at_event_limit}, true);
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_.front().status, 202u);
  invoke({"F", "", {}, over_event_limit});
  EXPECT_TRUE(answers_.empty());
  EXPECT_EQ(dispatcher_.dispatched.size(), 1u);
}

// --- /_lambdad/status --------------------------------------------------------------------------

TEST_F(InvokeApiTest, StatusIsTheDispatchersDocument) {
  const auto& answers = get("/_lambdad/status");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers.front().status, 200u);
  EXPECT_EQ(header(answers.front(), "Content-Type"), "application/json");
  EXPECT_EQ(answers.front().body, R"({"accountConcurrency":1000,"functions":[)"
                                  R"({"inFlight":0,"name":"F"},{"inFlight":0,"name":"orders-prod"}]})");
}

TEST_F(InvokeApiTest, StatusAddsTheEventQueuesCountersToEachFunctionAndTheSpoolsTimings) {
  invoke({"F", "", {{"X-Amz-Invocation-Type", "Event"}}}, true);
  ASSERT_EQ(answers_.size(), 1u);
  ASSERT_EQ(answers_.front().status, 202u);
  const auto& answers = get("/_lambdad/status", true);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers.front().status, 200u);
  EXPECT_EQ(header(answers.front(), "Content-Type"), "application/json");
  // The spool's timings are measured; the document is otherwise known byte for byte.
  const auto& t = events_->spool_timings();
  EXPECT_EQ(t.writes, 1u);
  const auto spool = nlohmann::json{{"spoolWrites", t.writes},
                                    {"spoolBatches", t.batches},
                                    {"spoolWriteMsTotal", t.total_ms},
                                    {"spoolWriteMsMax", t.max_ms}}
                         .dump();
  EXPECT_EQ(answers.front().body,
            R"({"accountConcurrency":1000,"eventSpool":)" + spool +
                R"(,"functions":[)"
                R"({"async":{"accepted":1,"expired":0,"failed":0,"inFlight":0,"queued":1,"retries":0,"succeeded":0,)"
                R"("throttles":0},"inFlight":0,"name":"F"},)"
                R"({"async":{"accepted":0,"expired":0,"failed":0,"inFlight":0,"queued":0,"retries":0,"succeeded":0,)"
                R"("throttles":0},"inFlight":0,"name":"orders-prod"}]})");
}

TEST_F(InvokeApiTest, AnUnknownInvocationTypeIsAValidationError) {
  invoke({"F", "", {{"X-Amz-Invocation-Type", "Later"}}});
  expect_error(400, "ValidationException",
               json{{"message",
                     "1 validation error detected: Value 'Later' at 'invocationType' failed to satisfy constraint: "
                     "Member must satisfy enum value set: [Event, RequestResponse, DryRun]"}});
  EXPECT_TRUE(dispatcher_.dispatched.empty());
}

}  // namespace
}  // namespace lambdad::invoke_api
