// EventQueue with simulated time and a scripted Dispatcher: retries and their delays, the age
// limit, throttles, reserved concurrency 0, destination records byte for byte, the spool
// across a restart. Its writes run on a real BlockingPool: the helpers below settle them (the
// pool's jobs, then their completions on the test's thread) around each step.
#include "lambdad/async/event_queue.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <thread>
#include <vector>

#include "async_test_support.hpp"
#include "lambdad_test/blocking_work.hpp"
#include "lambdad_test/manual_time.hpp"

namespace lambdad::async {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using test::FakeDispatcher;
using test::files_in;
using test::read_lines;

constexpr const char* kArn = "arn:aws:lambda:us-east-1:123456789012:function:";
constexpr const char* kQueueArn = "arn:aws:sqs:us-east-1:123456789012:failures";
constexpr const char* kQueueFile = "sqs-arn_aws_sqs_us-east-1_123456789012_failures.jsonl";

config::EventInvokeConfig on_failure_to_queue(int retries = 2, int max_age = 21600) {
  config::EventInvokeConfig c;
  c.maximum_retry_attempts = retries;
  c.maximum_event_age_seconds = max_age;
  c.on_failure = config::EventDestination{"SQS", kQueueArn};
  return c;
}

class EventQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(events_dir());
    std::filesystem::create_directories(destinations_dir());
  }

  std::filesystem::path events_dir() const { return dir_.path() / "events"; }
  std::filesystem::path destinations_dir() const { return dir_.path() / "destinations"; }
  std::filesystem::path queue_file() const { return destinations_dir() / kQueueFile; }

  EventQueueOptions options(std::chrono::milliseconds base = 60s) const {
    EventQueueOptions o;
    o.events_dir = events_dir();
    o.destinations_dir = destinations_dir();
    o.retry_base = base;
    return o;
  }

  // A started queue with "fn" configured by `settings` (and "other", "dest" by default).
  EventQueue& start(FunctionSettings settings = {}, std::chrono::milliseconds base = 60s) {
    queue_ = std::make_unique<EventQueue>(dispatcher_, time_, time_, blocking_, options(base));
    queue_->set_function("fn", std::move(settings));
    queue_->set_function("other", {});
    queue_->set_function("dest", {});
    queue_->start();
    return *queue_;
  }

  static invocation::Invocation event(const std::string& id, const std::string& fn = "fn",
                                      const std::string& payload = R"({"n":1})") {
    invocation::Invocation inv;
    inv.request_id = id;
    inv.function_name = fn;
    inv.invoked_function_arn = std::string(kArn) + fn;
    inv.payload = payload;
    inv.trace_id = "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0";
    return inv;
  }

  // Hands the event to the queue and returns its answer once the spool write is done.
  Status submit(const invocation::Invocation& inv) {
    std::optional<Status> answer;
    queue_->accept(inv, [&](Status st) { answer = std::move(st); });
    settle();
    if (!answer) return Error{ErrorKind::kInternal, {}, "no answer"};
    return *answer;
  }
  void accept(const std::string& id, const std::string& fn = "fn", const std::string& payload = R"({"n":1})") {
    ASSERT_TRUE(submit(event(id, fn, payload)).ok());
  }

  // The pool's writes and their completions, until nothing is left.
  void settle() { lambdad::test::settle(blocking_, io_); }
  void advance(std::chrono::milliseconds d) {
    settle();
    time_.advance(d);
    settle();
  }
  void succeed(std::string payload = R"({"ok":true})", const std::string& who = {}) {
    dispatcher_.succeed(std::move(payload), who);
    settle();
  }
  void fail(const std::string& who = {}) {
    dispatcher_.fail(who);
    settle();
  }

  std::size_t attempts() const { return dispatcher_.admitted.size(); }
  AsyncCounters counters(const std::string& fn = "fn") const { return queue_->counters(fn).value(); }
  std::string now_iso() const { return iso8601_ms(time_.epoch_ms()); }

  test::TempDir dir_;
  lambdad::test::ManualTime time_;
  FakeDispatcher dispatcher_;
  boost::asio::io_context io_;
  BlockingPool blocking_{io_, {.threads = 1, .capacity = 64}};
  std::unique_ptr<EventQueue> queue_;
};

TEST_F(EventQueueTest, AcceptedEventIsInTheSpoolBeforeItRuns) {
  start();
  accept("req-1");
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-1.event"));
  EXPECT_EQ(attempts(), 0U) << "dispatch happens on the next turn of the loop, not inside the request";

  advance(0ms);
  ASSERT_EQ(attempts(), 1U);
  EXPECT_EQ(dispatcher_.admitted[0]->request_id, "req-1");
  EXPECT_EQ(dispatcher_.admitted[0]->payload, R"({"n":1})");
  EXPECT_EQ(dispatcher_.admitted[0]->invoked_function_arn, std::string(kArn) + "fn");
  succeed();
  EXPECT_THAT(files_in(events_dir()), IsEmpty());
  EXPECT_EQ(counters().accepted, 1U);
  EXPECT_EQ(counters().succeeded, 1U);
  EXPECT_EQ(counters().queued, 0U);
}

TEST_F(EventQueueTest, AnEventIsAnsweredAndRunOnlyOnceItsWriteIsDurable) {
  start();
  lambdad::test::Gate gate;
  blocking_.run(gate.job());
  gate.wait_started();  // the pool's one thread is busy: the write waits behind it
  std::optional<Status> answer;
  bool on_disk_when_answered = false;
  queue_->accept(event("req-1"), [&](Status st) {
    on_disk_when_answered = std::filesystem::exists(events_dir() / "req-1.event");
    answer = std::move(st);
  });
  io_.poll();
  time_.advance(1s);
  EXPECT_FALSE(answer.has_value()) << "no answer before the write";
  EXPECT_THAT(files_in(events_dir()), IsEmpty());
  EXPECT_EQ(attempts(), 0U) << "nothing runs before it is durable";
  EXPECT_EQ(counters().accepted, 0U);
  gate.open();
  settle();
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->ok());
  EXPECT_TRUE(on_disk_when_answered);
  EXPECT_EQ(counters().accepted, 1U);
  EXPECT_EQ(attempts(), 0U) << "dispatch happens on the next turn of the loop";
  advance(0ms);
  ASSERT_EQ(attempts(), 1U);
  EXPECT_EQ(dispatcher_.admitted[0]->request_id, "req-1");
}

TEST_F(EventQueueTest, EventsAcceptedWhileAWriteRunsShareTheNextDirectoryFsync) {
  start();
  lambdad::test::Gate gate;
  blocking_.run(gate.job());
  gate.wait_started();
  std::vector<std::string> answered;
  for (const char* id : {"req-1", "req-2", "req-3", "req-4", "req-5"}) {
    queue_->accept(event(id), [&answered, id](Status st) {
      EXPECT_TRUE(st.ok());
      answered.push_back(id);
    });
  }
  gate.open();
  settle();
  EXPECT_THAT(answered, ElementsAre("req-1", "req-2", "req-3", "req-4", "req-5"));
  EXPECT_EQ(queue_->spool_timings().writes, 5U);
  EXPECT_EQ(queue_->spool_timings().batches, 2U) << "the first alone, the four that came meanwhile together";
  EXPECT_EQ(queue_->spool_timings().directory_syncs, 2U);
  advance(0ms);
  ASSERT_EQ(attempts(), 5U);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(dispatcher_.admitted[i]->request_id, answered[i]) << "in order";
}

TEST_F(EventQueueTest, FlushAfterShutdownLeavesEveryAcceptedEventOnDisk) {
  start();
  lambdad::test::Gate gate;
  blocking_.run(gate.job());
  gate.wait_started();
  std::vector<std::string> answered;
  for (const char* id : {"req-1", "req-2"}) {
    queue_->accept(event(id), [&answered, id](Status st) { answered.push_back(st.ok() ? id : "error"); });
  }
  queue_->shutdown();
  std::thread opener([&gate] { gate.open(); });
  queue_->flush();  // req-1's batch is on the pool, req-2 waits for the next
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-1.event", "req-2.event"));
  opener.join();
  settle();
  EXPECT_THAT(answered, ElementsAre("req-1")) << "the write that was on the pool is still answered: it is durable";
  advance(1s);
  EXPECT_EQ(attempts(), 0U);

  // The next daemon on the directory runs both.
  queue_.reset();
  queue_ = std::make_unique<EventQueue>(dispatcher_, time_, time_, blocking_, options());
  queue_->set_function("fn", {});
  EXPECT_EQ(queue_->start(), 2U);
}

TEST_F(EventQueueTest, FunctionErrorIsRetriedAfterBaseThenTwiceBaseWithTheSameRequestId) {
  start();
  accept("req-1");
  advance(0ms);
  fail();
  EXPECT_EQ(counters().queued, 1U);
  advance(59999ms);
  EXPECT_EQ(attempts(), 1U);
  advance(1ms);
  ASSERT_EQ(attempts(), 2U);
  fail();
  advance(119999ms);
  EXPECT_EQ(attempts(), 2U);
  advance(1ms);
  ASSERT_EQ(attempts(), 3U);
  succeed();
  for (const auto& inv : dispatcher_.admitted) EXPECT_EQ(inv->request_id, "req-1");
  EXPECT_EQ(counters().retries, 2U);
  EXPECT_EQ(counters().succeeded, 1U);
  EXPECT_THAT(files_in(events_dir()), IsEmpty());
}

TEST_F(EventQueueTest, SuccessAfterTwoFailuresSendsOneSuccessRecordToTheLambdaDestination) {
  config::EventInvokeConfig c;
  c.on_success = config::EventDestination{"Lambda", std::string(kArn) + "dest"};
  start(FunctionSettings{c, {}, {}}, 10ms);
  accept("req-1");
  advance(0ms);
  fail();
  advance(10ms);
  fail();
  advance(20ms);
  ASSERT_EQ(attempts(), 3U);
  const std::string at = now_iso();
  succeed(R"({"answer":42})");

  advance(0ms);
  ASSERT_EQ(attempts(), 4U);
  const auto& delivered = *dispatcher_.admitted.back();
  EXPECT_EQ(delivered.function_name, "dest");
  EXPECT_NE(delivered.request_id, "req-1") << "the destination's invocation is an event of its own";
  EXPECT_EQ(delivered.invoked_function_arn, std::string(kArn) + "dest");
  EXPECT_EQ(delivered.payload,
            R"({"version":"1.0","timestamp":")" + at +
                R"(","requestContext":{"requestId":"req-1","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST","condition":"Success","approximateInvokeCount":3},"requestPayload":{"n":1},"responseContext":{"statusCode":200,"executedVersion":"$LATEST"},"responsePayload":{"answer":42}})");
  EXPECT_THAT(files_in(events_dir()), ElementsAre(delivered.request_id + ".event"))
      << "only the destination's own event is left, durable like any other";
  EXPECT_EQ(counters("dest").accepted, 1U);
}

TEST_F(EventQueueTest, AlwaysFailingEventEndsInOnFailureAndTheDeadLetterQueue) {
  FunctionSettings s{on_failure_to_queue(), config::DeadLetterConfig{"SQS", "arn:aws:sqs:us-east-1:123456789012:dlq"}, {}};
  start(s, 10ms);
  accept("req-1");
  advance(0ms);
  fail();
  advance(10ms);
  fail();
  advance(20ms);
  const std::string at = now_iso();
  fail();

  EXPECT_EQ(attempts(), 3U);
  EXPECT_THAT(read_lines(queue_file()),
              ElementsAre(R"({"version":"1.0","timestamp":")" + at +
                          R"(","requestContext":{"requestId":"req-1","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST","condition":"RetriesExhausted","approximateInvokeCount":3},"requestPayload":{"n":1},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":{"errorMessage":"boom","errorType":"Exception"}})"));
  EXPECT_THAT(read_lines(destinations_dir() / "dlq-sqs-arn_aws_sqs_us-east-1_123456789012_dlq.jsonl"),
              ElementsAre(R"({"Body":"{\"n\":1}","MessageAttributes":{"RequestID":{"DataType":"String","StringValue":"req-1"},"ErrorCode":{"DataType":"Number","StringValue":"200"},"ErrorMessage":{"DataType":"String","StringValue":"boom"}}})"));
  EXPECT_THAT(files_in(events_dir()), IsEmpty());
  EXPECT_EQ(counters().failed, 1U);
  EXPECT_EQ(counters().retries, 2U);
}

TEST_F(EventQueueTest, MaximumRetryAttemptsZeroMeansOneAttempt) {
  start(FunctionSettings{on_failure_to_queue(0), {}, {}});
  accept("req-1");
  advance(0ms);
  fail();
  advance(10min);
  EXPECT_EQ(attempts(), 1U);
  auto record = nlohmann::json::parse(read_lines(queue_file()).at(0));
  EXPECT_EQ(record["requestContext"]["condition"], "RetriesExhausted");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 1);
}

TEST_F(EventQueueTest, RetryThatWouldEndAtTheAgeLimitIsNotWaitedFor) {
  // As Lambda does with MaximumEventAgeInSeconds 60: the 1 min retry would come too late.
  start(FunctionSettings{on_failure_to_queue(2, 60), {}, {}});
  accept("req-1");
  advance(0ms);
  fail();
  auto record = nlohmann::json::parse(read_lines(queue_file()).at(0));
  EXPECT_EQ(record["requestContext"]["condition"], "EventAgeExceeded");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 1);
  EXPECT_EQ(record["responseContext"]["functionError"], "Unhandled");
  EXPECT_EQ(counters().expired, 1U);
  EXPECT_EQ(counters().failed, 1U);
}

TEST_F(EventQueueTest, AgeLimitAllowsTheRetriesThatFit) {
  // 180 s: the 1 min retry fits, the 2 min one after it would end at 180 s.
  start(FunctionSettings{on_failure_to_queue(2, 180), {}, {}});
  accept("req-1");
  advance(0ms);
  fail();
  advance(60s);
  ASSERT_EQ(attempts(), 2U);
  fail();
  auto record = nlohmann::json::parse(read_lines(queue_file()).at(0));
  EXPECT_EQ(record["requestContext"]["condition"], "EventAgeExceeded");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 2);
}

TEST_F(EventQueueTest, ThrottledEventIsRequeuedWithBackoffNeverDropped) {
  dispatcher_.script = {invocation::Admission::kThrottledReserved, invocation::Admission::kThrottledReserved,
                        invocation::Admission::kThrottledReserved};
  start();
  accept("req-1");
  advance(0ms);
  EXPECT_EQ(dispatcher_.throttled, 1);
  advance(999ms);
  EXPECT_EQ(dispatcher_.throttled, 1);
  advance(1ms);  // 1 s (Lambda's first backoff for a 1 min base)
  EXPECT_EQ(dispatcher_.throttled, 2);
  advance(1999ms);
  EXPECT_EQ(dispatcher_.throttled, 2);
  advance(1ms);  // then 2 s
  EXPECT_EQ(dispatcher_.throttled, 3);
  advance(4s);  // then 4 s, and admitted
  ASSERT_EQ(attempts(), 1U);
  EXPECT_EQ(dispatcher_.admitted[0]->request_id, "req-1");
  EXPECT_EQ(counters().throttles, 3U);
  succeed();
  EXPECT_EQ(counters().succeeded, 1U);
}

TEST_F(EventQueueTest, ThrottledQueueKeepsItsOrder) {
  dispatcher_.script = {invocation::Admission::kThrottledReserved};
  start();
  accept("req-1");
  accept("req-2");
  advance(0ms);
  accept("req-3");  // arrives while the queue backs off: it waits behind the others
  advance(0ms);
  EXPECT_EQ(attempts(), 0U);
  advance(1s);
  ASSERT_EQ(attempts(), 3U);
  EXPECT_EQ(dispatcher_.admitted[0]->request_id, "req-1");
  EXPECT_EQ(dispatcher_.admitted[1]->request_id, "req-2");
  EXPECT_EQ(dispatcher_.admitted[2]->request_id, "req-3");
}

TEST_F(EventQueueTest, CompletionEndsAnAccountThrottleBackoffAtOnce) {
  start();
  accept("req-other", "other");
  advance(0ms);
  ASSERT_EQ(attempts(), 1U);
  dispatcher_.script = {invocation::Admission::kThrottledAccount};
  accept("req-1");
  advance(0ms);
  EXPECT_EQ(dispatcher_.throttled, 1);
  succeed(R"({})", "other");  // frees account capacity
  advance(0ms);
  ASSERT_EQ(attempts(), 2U);
  EXPECT_EQ(dispatcher_.admitted[1]->request_id, "req-1");
}

TEST_F(EventQueueTest, EventThrottledPastItsAgeLimitFailsWithoutAResponse) {
  dispatcher_.script.assign(1000, invocation::Admission::kThrottledAccount);
  start(FunctionSettings{on_failure_to_queue(2, 60), {}, {}});
  accept("req-1");
  advance(60s);  // backoff never sleeps past the age limit
  EXPECT_EQ(attempts(), 0U);
  const auto lines = read_lines(queue_file());
  ASSERT_EQ(lines.size(), 1U);
  auto record = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(record["requestContext"]["condition"], "EventAgeExceeded");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 0);
  EXPECT_FALSE(record.contains("responseContext"));
  EXPECT_FALSE(record.contains("responsePayload"));
  EXPECT_EQ(counters().expired, 1U);
  EXPECT_GT(counters().throttles, 3U);
}

TEST_F(EventQueueTest, ReservedConcurrencyZeroFailsWithoutAnAttempt) {
  start(FunctionSettings{on_failure_to_queue(), {}, 0});
  accept("req-1");
  const std::string at = now_iso();
  advance(0ms);
  EXPECT_EQ(attempts(), 0U);
  EXPECT_EQ(dispatcher_.throttled, 0);
  EXPECT_THAT(read_lines(queue_file()),
              ElementsAre(R"({"version":"1.0","timestamp":")" + at +
                          R"(","requestContext":{"requestId":"req-1","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST","condition":"ZeroReservedConcurrency","approximateInvokeCount":0},"requestPayload":{"n":1}})"));
  EXPECT_THAT(files_in(events_dir()), IsEmpty());
}

TEST_F(EventQueueTest, SettingsCanBeReplacedAtRuntime) {
  auto& queue = start();
  queue.set_function("fn", FunctionSettings{on_failure_to_queue(0), {}, {}});
  accept("req-1");
  advance(0ms);
  fail();
  EXPECT_EQ(read_lines(queue_file()).size(), 1U);

  queue.set_function("fn", FunctionSettings{on_failure_to_queue(0), {}, 0});
  accept("req-2");
  advance(0ms);
  EXPECT_EQ(attempts(), 1U);
  EXPECT_EQ(read_lines(queue_file()).size(), 2U);
}

TEST_F(EventQueueTest, FollowsTheCataloguesEventSettingsAndIgnoresItsOtherChanges) {
  auto& queue = start();
  config::FunctionConfig other;
  other.name = "fn";
  const std::string version = "$LATEST";
  queue.follow(control_plane::VersionPut{other, version});  // the pools' business
  const std::optional<config::EventInvokeConfig> no_retries = on_failure_to_queue(0);
  const std::optional<config::DeadLetterConfig> no_dlq;
  const std::string name = "fn";
  queue.follow(control_plane::EventSettingsChanged{name, no_retries, no_dlq, std::nullopt});
  accept("req-1");
  advance(0ms);
  fail();  // no retry: the failure goes to the destination at once
  EXPECT_EQ(read_lines(queue_file()).size(), 1U);
  EXPECT_EQ(counters().retries, 0U);
}

TEST_F(EventQueueTest, AChangedReservationWakesAThrottledQueueAtOnce) {
  dispatcher_.script = {invocation::Admission::kThrottledReserved};
  auto& queue = start(FunctionSettings{{}, {}, 1});
  accept("req-1");
  advance(0ms);
  ASSERT_EQ(dispatcher_.throttled, 1);
  queue.set_function("fn", FunctionSettings{{}, {}, 1});  // the same reservation: the backoff stands
  advance(0ms);
  EXPECT_EQ(attempts(), 0U);
  queue.set_function("fn", FunctionSettings{{}, {}, 5});
  advance(0ms);
  ASSERT_EQ(attempts(), 1U);
  EXPECT_EQ(dispatcher_.admitted[0]->request_id, "req-1");
}

TEST_F(EventQueueTest, VersionAndQualifierTravelWithTheEvent) {
  config::EventInvokeConfig c;
  c.on_success = config::EventDestination{"SQS", kQueueArn};
  start(FunctionSettings{c, {}, {}});
  auto inv = event("req-1");
  inv.qualifier = "live";
  inv.version = "1";
  inv.invoked_function_arn = std::string(kArn) + "fn:live";
  ASSERT_TRUE(submit(inv).ok());
  advance(0ms);
  ASSERT_EQ(attempts(), 1U);
  EXPECT_EQ(dispatcher_.admitted[0]->qualifier, "live");
  EXPECT_EQ(dispatcher_.admitted[0]->version, "1");
  EXPECT_EQ(dispatcher_.admitted[0]->invoked_function_arn, std::string(kArn) + "fn:live");
  succeed();
  auto record = nlohmann::json::parse(read_lines(queue_file()).at(0));
  EXPECT_EQ(record["requestContext"]["functionArn"], std::string(kArn) + "fn:1");
  EXPECT_EQ(record["responseContext"]["executedVersion"], "1");
}

TEST_F(EventQueueTest, EventThatCannotBeSpooledIsNotAccepted) {
  std::filesystem::remove_all(events_dir());
  { std::ofstream(events_dir()) << "a file where the spool should be"; }
  start();
  auto st = submit(event("req-1"));
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, ::testing::HasSubstr("cannot create"));
  advance(1s);
  EXPECT_EQ(attempts(), 0U);
  EXPECT_EQ(counters().accepted, 0U);
}

TEST_F(EventQueueTest, ShutdownLeavesRunningEventsInTheSpool) {
  start();
  accept("req-1");
  advance(0ms);
  queue_->shutdown();
  fail();  // the pool failing what it still ran, as it does when the daemon stops
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-1.event"));
  EXPECT_FALSE(submit(event("req-2")).ok());
}

TEST_F(EventQueueTest, RestartReplaysEventsWithTheirRequestIdsAttemptsAndRetryTimes) {
  start(FunctionSettings{on_failure_to_queue(), {}, {}});
  accept("req-1");
  advance(1ms);
  accept("req-2");
  advance(0ms);
  ASSERT_EQ(attempts(), 2U);
  fail("req-1");  // retry in 60 s, recorded in the spool
  // The daemon is killed: req-2's attempt never reports back.
  queue_.reset();
  dispatcher_.running.clear();
  dispatcher_.admitted.clear();

  queue_ = std::make_unique<EventQueue>(dispatcher_, time_, time_, blocking_, options());
  queue_->set_function("fn", FunctionSettings{on_failure_to_queue(), {}, {}});
  EXPECT_EQ(queue_->start(), 2U);
  advance(0ms);
  ASSERT_EQ(attempts(), 1U);
  EXPECT_EQ(dispatcher_.admitted[0]->request_id, "req-2");  // ran again: at least once
  advance(59999ms);
  EXPECT_EQ(attempts(), 1U);
  advance(1ms);
  ASSERT_EQ(attempts(), 2U);
  EXPECT_EQ(dispatcher_.admitted[1]->request_id, "req-1");
  fail("req-2");
  fail("req-1");  // its second attempt: the next retry waits 2 min
  advance(60s);
  EXPECT_EQ(attempts(), 3U);  // only req-2's first retry
  advance(60s);
  ASSERT_EQ(attempts(), 4U);
  EXPECT_EQ(dispatcher_.admitted[3]->request_id, "req-1");
  fail("req-1");
  auto record = nlohmann::json::parse(read_lines(queue_file()).at(0));
  EXPECT_EQ(record["requestContext"]["requestId"], "req-1");
  EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 3);
}

TEST_F(EventQueueTest, ReplayLeavesEventsOfUnknownFunctionsInTheSpool) {
  SpooledEvent orphan;
  orphan.request_id = "req-gone";
  orphan.function_name = "gone";
  orphan.payload = "{}";
  ASSERT_TRUE(EventSpool(events_dir(), true).put(orphan).ok());
  EXPECT_EQ(start().start(), 0U);
  advance(1s);
  EXPECT_EQ(attempts(), 0U);
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-gone.event"));
}

TEST_F(EventQueueTest, LambdaDestinationThatIsNotLocalIsWrittenToAFile) {
  config::EventInvokeConfig c;
  c.on_success = config::EventDestination{"Lambda", std::string(kArn) + "missing"};
  start(FunctionSettings{c, {}, {}});
  accept("req-1");
  advance(0ms);
  succeed();
  const auto lines = read_lines(destinations_dir() / "lambda-arn_aws_lambda_us-east-1_123456789012_function_missing.jsonl");
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["requestContext"]["condition"], "Success");
}

TEST_F(EventQueueTest, LambdaDestinationByNameAndQualifier) {
  config::EventInvokeConfig c;
  c.on_failure = config::EventDestination{"Lambda", "dest:live"};
  start(FunctionSettings{c, {}, {}});
  queue_->set_function("fn", FunctionSettings{[&] {
                                                auto copy = c;
                                                copy.maximum_retry_attempts = 0;
                                                return copy;
                                              }(),
                                              {},
                                              {}});
  accept("req-1");
  advance(0ms);
  fail();
  advance(0ms);
  ASSERT_EQ(attempts(), 2U);
  EXPECT_EQ(dispatcher_.admitted[1]->function_name, "dest");
  EXPECT_EQ(dispatcher_.admitted[1]->version, "1");
  EXPECT_EQ(dispatcher_.admitted[1]->invoked_function_arn, std::string(kArn) + "dest:live");
}

TEST_F(EventQueueTest, EventBridgeDestinationGetsTheEventLambdaPutsOnTheBus) {
  config::EventInvokeConfig c;
  c.on_success = config::EventDestination{"EventBridge", "arn:aws:events:us-east-1:123456789012:event-bus/default"};
  start(FunctionSettings{c, {}, {}});
  accept("req-1");
  advance(0ms);
  succeed();
  const auto lines =
      read_lines(destinations_dir() / "eventbridge-arn_aws_events_us-east-1_123456789012_event-bus_default.jsonl");
  ASSERT_EQ(lines.size(), 1U);
  auto event = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(event["detail-type"], "Lambda Function Invocation Result - Success");
  EXPECT_EQ(event["source"], "lambda");
  EXPECT_EQ(event["detail"]["requestContext"]["requestId"], "req-1");
}

TEST_F(EventQueueTest, CountersShowWhatIsQueuedAndRunning) {
  dispatcher_.script = {invocation::Admission::kAccepted, invocation::Admission::kThrottledReserved};
  start();
  accept("req-1");
  accept("req-2");
  advance(0ms);
  const auto c = counters();
  EXPECT_EQ(c.accepted, 2U);
  EXPECT_EQ(c.in_flight, 1U);
  EXPECT_EQ(c.queued, 1U);
  EXPECT_EQ(c.throttles, 1U);
  EXPECT_FALSE(queue_->counters("nope").has_value());
  EXPECT_GE(queue_->spool_timings().writes, 2U);
}

TEST_F(EventQueueTest, ObserverSeesEachFinalOutcomeWithTheDestinationItWentTo) {
  config::EventInvokeConfig c = on_failure_to_queue(1);
  start(FunctionSettings{c, {}, {}}, 10ms);
  std::vector<FinalOutcome> seen;
  queue_->set_outcome_observer([&](const FinalOutcome& o) { seen.push_back(o); });
  accept("req-ok");
  accept("req-bad");
  advance(0ms);
  succeed(R"({"answer":42})", "req-ok");
  fail("req-bad");
  ASSERT_EQ(seen.size(), 1U) << "a retry is not an outcome";
  EXPECT_EQ(seen[0].request_id, "req-ok");
  EXPECT_TRUE(seen[0].success);
  EXPECT_FALSE(seen[0].destination.has_value()) << "no OnSuccess configured: the record went nowhere";
  EXPECT_EQ(nlohmann::json::parse(seen[0].record)["responsePayload"]["answer"], 42);
  advance(10ms);
  fail("req-bad");
  ASSERT_EQ(seen.size(), 2U);
  const auto& failed = seen[1];
  EXPECT_EQ(failed.request_id, "req-bad");
  EXPECT_EQ(failed.function_name, "fn");
  EXPECT_FALSE(failed.success);
  EXPECT_EQ(failed.condition, Condition::kRetriesExhausted);
  EXPECT_EQ(failed.approximate_invoke_count, 2);
  ASSERT_TRUE(failed.destination.has_value());
  EXPECT_EQ(failed.destination->type, "SQS");
  EXPECT_EQ(failed.destination->destination, kQueueArn);
  EXPECT_TRUE(failed.delivered);
  EXPECT_THAT(read_lines(queue_file()), ElementsAre(failed.record)) << "the observer sees what the destination got";
}

}  // namespace
}  // namespace lambdad::async
