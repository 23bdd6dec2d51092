// SpoolWriter: the Event queue's writes on the BlockingPool, in the order they were handed over;
// what waits while a batch runs goes as the next batch, whose new events share one directory
// fsync; an outcome's records come before its event leaves the spool; flush() leaves nothing
// unwritten.
#include "lambdad/async/spool_writer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <thread>
#include <vector>

#include "async_test_support.hpp"
#include "lambdad_test/blocking_work.hpp"

namespace lambdad::async {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using test::files_in;
using test::read_lines;

SpooledEvent writer_event(const std::string& id) {
  SpooledEvent e;
  e.request_id = id;
  e.function_name = "fn";
  e.payload = R"({"n":1})";
  e.received_epoch_ms = 1000;
  return e;
}

class SpoolWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(events_dir());
    std::filesystem::create_directories(destinations_dir());
  }

  std::filesystem::path events_dir() const { return dir_.path() / "events"; }
  std::filesystem::path destinations_dir() const { return dir_.path() / "destinations"; }

  // The writer, with the pool's one thread held until the gate opens (and the gate job started).
  SpoolWriter& gated_writer() {
    blocking_.run(gate_.job());
    gate_.wait_started();
    return writer_;
  }
  void settle() { lambdad::test::settle(blocking_, io_); }

  test::TempDir dir_;
  boost::asio::io_context io_;
  BlockingPool blocking_{io_, {.threads = 1, .capacity = 64}};
  lambdad::test::Gate gate_;
  SpoolWriter writer_{blocking_, EventSpool(events_dir(), true), RecordLog(destinations_dir(), true)};
};

TEST_F(SpoolWriterTest, APutReportsTheEventBackOnceItIsOnDisk) {
  std::optional<Result<SpooledEvent>> got;
  bool on_disk_when_reported = false;
  gated_writer().put(writer_event("req-1"), [&](Result<SpooledEvent> r) {
    on_disk_when_reported = std::filesystem::exists(events_dir() / "req-1.event");
    got = std::move(r);
  });
  io_.poll();
  EXPECT_FALSE(got.has_value()) << "the write waits for the pool";
  EXPECT_THAT(files_in(events_dir()), IsEmpty());
  gate_.open();
  settle();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok());
  EXPECT_EQ((*got)->request_id, "req-1");
  EXPECT_EQ((*got)->payload, R"({"n":1})");
  EXPECT_TRUE(on_disk_when_reported);
  EXPECT_EQ(writer_.timings().writes, 1U);
  EXPECT_GT(writer_.timings().total_ms, 0.0);
}

TEST_F(SpoolWriterTest, WhatIsHandedOverDuringABatchIsTheNextBatchWithOneDirectoryFsync) {
  auto& writer = gated_writer();
  std::vector<std::string> reported;
  auto put = [&](const std::string& id) {
    writer.put(writer_event(id), [&reported, id](Result<SpooledEvent> r) {
      EXPECT_TRUE(r.ok());
      reported.push_back(id);
    });
  };
  put("req-1");  // the first batch, alone: it waits behind the gate
  for (const char* id : {"req-2", "req-3", "req-4", "req-5"}) put(id);
  gate_.open();
  settle();
  EXPECT_THAT(reported, ElementsAre("req-1", "req-2", "req-3", "req-4", "req-5"));
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-1.event", "req-2.event", "req-3.event", "req-4.event",
                                                  "req-5.event"));
  EXPECT_EQ(writer.timings().writes, 5U);
  EXPECT_EQ(writer.timings().batches, 2U);
  EXPECT_EQ(writer.timings().directory_syncs, 2U) << "one per batch, not one per event";
}

TEST_F(SpoolWriterTest, WritesOfOneEventHappenInTheOrderTheyWereHandedOver) {
  auto& writer = gated_writer();
  std::vector<std::string> reported;
  writer.put(writer_event("req-1"), [&](Result<SpooledEvent> r) { reported.push_back(r.ok() ? "put" : "put failed"); });
  auto retried = writer_event("req-1");
  retried.attempts = 1;
  writer.replace(retried, [&](Status st) { reported.push_back(st.ok() ? "replace" : "replace failed"); });
  writer.deliver(Delivery{"req-1", std::nullopt, RecordLine{"q.jsonl", R"({"record":1})"}, std::nullopt},
                 [&](Delivered d) { reported.push_back(d.complete ? "delivered" : "not delivered"); });
  gate_.open();
  settle();
  EXPECT_THAT(reported, ElementsAre("put", "replace", "delivered"));
  EXPECT_EQ(writer.timings().batches, 2U);
  EXPECT_THAT(files_in(events_dir()), IsEmpty()) << "the retry's state was not renamed over a removed event";
  EXPECT_THAT(read_lines(destinations_dir() / "q.jsonl"), ElementsAre(R"({"record":1})"));
}

TEST_F(SpoolWriterTest, ADeliveryThatCannotWriteARecordLeavesTheEventInTheSpool) {
  ASSERT_TRUE(EventSpool(events_dir(), true).put(writer_event("req-1")).ok());
  std::filesystem::remove_all(destinations_dir());
  std::optional<Delivered> got;
  writer_.deliver(Delivery{"req-1", std::nullopt, RecordLine{"q.jsonl", "{}"}, RecordLine{"dlq.jsonl", "{}"}},
                  [&](Delivered d) { got = std::move(d); });
  settle();
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->complete);
  ASSERT_TRUE(got->record.has_value());
  EXPECT_FALSE(got->record->ok());
  ASSERT_TRUE(got->dead_letter.has_value());
  EXPECT_FALSE(got->dead_letter->ok());
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-1.event"));
}

TEST_F(SpoolWriterTest, ALambdaDestinationsEventIsSpooledBeforeTheEventItReportsOnLeaves) {
  ASSERT_TRUE(EventSpool(events_dir(), true).put(writer_event("req-1")).ok());
  std::optional<Delivered> got;
  writer_.deliver(Delivery{"req-1", writer_event("req-dest"), RecordLine{"lambda.jsonl", "{}"}, std::nullopt},
                  [&](Delivered d) { got = std::move(d); });
  settle();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->complete);
  ASSERT_TRUE(got->function_event.has_value());
  ASSERT_TRUE(got->function_event->ok());
  EXPECT_EQ((*got->function_event)->request_id, "req-dest");
  EXPECT_FALSE(got->record.has_value()) << "the file is only the fallback";
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-dest.event"));
  EXPECT_THAT(files_in(destinations_dir()), IsEmpty());
}

TEST_F(SpoolWriterTest, ALambdaDestinationsEventThatCannotBeSpooledGoesToTheFile) {
  ASSERT_TRUE(EventSpool(events_dir(), true).put(writer_event("req-1")).ok());
  std::optional<Delivered> got;
  writer_.deliver(Delivery{"req-1", writer_event("../not-a-name"), RecordLine{"lambda.jsonl", R"({"r":1})"},
                           std::nullopt},
                  [&](Delivered d) { got = std::move(d); });
  settle();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->function_event.has_value());
  EXPECT_FALSE(got->function_event->ok());
  ASSERT_TRUE(got->record.has_value());
  EXPECT_TRUE(got->record->ok());
  EXPECT_TRUE(got->complete);
  EXPECT_THAT(read_lines(destinations_dir() / "lambda.jsonl"), ElementsAre(R"({"r":1})"));
  EXPECT_THAT(files_in(events_dir()), IsEmpty());
}

TEST_F(SpoolWriterTest, FlushWaitsForTheBatchOnThePool) {
  auto& writer = gated_writer();
  bool reported = false;
  writer.put(writer_event("req-1"), [&](Result<SpooledEvent>) { reported = true; });
  std::thread opener([this] { gate_.open(); });
  writer.flush();  // returns only once the gated batch has run
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-1.event"));
  opener.join();
  EXPECT_FALSE(reported) << "its completion runs on the loop, should the loop run again";
  settle();
  EXPECT_TRUE(reported);
}

TEST_F(SpoolWriterTest, FlushWritesWhatWaitsAndLaterWritesAtOnceWithoutReporting) {
  auto& writer = gated_writer();
  std::vector<std::string> reported;
  writer.put(writer_event("req-1"), [&](Result<SpooledEvent>) { reported.push_back("req-1"); });  // on the pool
  writer.put(writer_event("req-2"), [&](Result<SpooledEvent>) { reported.push_back("req-2"); });  // waiting
  std::thread opener([this] { gate_.open(); });
  writer.flush();
  opener.join();
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-1.event", "req-2.event"));
  writer.put(writer_event("req-3"), [&](Result<SpooledEvent>) { reported.push_back("req-3"); });
  EXPECT_THAT(files_in(events_dir()), ElementsAre("req-1.event", "req-2.event", "req-3.event"))
      << "after a flush, writes are done at once";
  settle();
  EXPECT_THAT(reported, ElementsAre("req-1")) << "only the batch that was on the pool reports";
  EXPECT_EQ(writer.timings().writes, 3U);
}

}  // namespace
}  // namespace lambdad::async
