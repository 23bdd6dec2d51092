// The spool's file format and its crash consistency: only complete events are ever loaded.
#include "lambdad/async/event_spool.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "async_test_support.hpp"

namespace lambdad::async {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using test::files_in;
using test::read_text;

SpooledEvent sample(const std::string& id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd", std::int64_t received = 1000) {
  SpooledEvent e;
  e.request_id = id;
  e.function_name = "fn";
  e.qualifier = "live";
  e.version = "1";
  e.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn:live";
  e.payload = "{\"text\":\"line one\\nline two\",\n \"raw\": \"\xc3\xa9\"}";
  e.trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
  e.client_context = std::string("{\"custom\":{\"k\":\"v\"}}") + '\x01' + '\xff';  // bytes, not text
  e.tenant_id = "tenant-7";
  e.received_epoch_ms = received;
  e.attempts = 2;
  e.next_attempt_epoch_ms = 121000;
  e.last_response = AttemptResponse{"{\"errorMessage\":\"boom\"}\n", "1"};
  return e;
}

void write(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

TEST(SpoolFormat, RoundTripsEveryField) {
  const auto e = sample();
  const std::string bytes = encode(e);
  EXPECT_EQ(std::count(bytes.begin(), bytes.begin() + static_cast<long>(bytes.find('\n') + 1), '\n'), 1)
      << "the header is one line";
  auto back = decode(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->request_id, e.request_id);
  EXPECT_EQ(back->function_name, "fn");
  EXPECT_EQ(back->qualifier, "live");
  EXPECT_EQ(back->version, "1");
  EXPECT_EQ(back->invoked_function_arn, e.invoked_function_arn);
  EXPECT_EQ(back->payload, e.payload);
  EXPECT_EQ(back->trace_id, e.trace_id);
  EXPECT_EQ(back->client_context, e.client_context);
  EXPECT_EQ(back->tenant_id, e.tenant_id);
  EXPECT_EQ(back->received_epoch_ms, 1000);
  EXPECT_EQ(back->attempts, 2);
  EXPECT_EQ(back->next_attempt_epoch_ms, 121000);
  ASSERT_TRUE(back->last_response.has_value());
  EXPECT_EQ(back->last_response->payload, e.last_response->payload);
  EXPECT_EQ(back->last_response->executed_version, "1");
}

TEST(SpoolFormat, RefusesTruncatedAndForeignBytes) {
  const std::string bytes = encode(sample());
  EXPECT_THAT(decode(bytes.substr(0, bytes.size() - 1)).error().message, HasSubstr("expected"));
  EXPECT_THAT(decode(bytes + "x").error().message, HasSubstr("expected"));
  EXPECT_FALSE(decode(bytes.substr(0, 20)).ok());
  EXPECT_FALSE(decode("").ok());
  EXPECT_FALSE(decode("{\"format\":2}\n").ok());
  EXPECT_FALSE(decode("[1,2]\n").ok());
}

TEST(EventSpool, PutLeavesOneCompleteFileAndNoTemporary) {
  test::TempDir dir;
  EventSpool spool(dir.path(), true);
  ASSERT_TRUE(spool.put(sample("req-1")).ok());
  EXPECT_THAT(files_in(dir.path()), ElementsAre("req-1.event"));
  EXPECT_EQ(read_text(dir.path() / "req-1.event"), encode(sample("req-1")));
}

TEST(EventSpool, PutAllWritesEventsTogetherAndAnswersForEachWithOneDirectoryFsync) {
  test::TempDir dir;
  EventSpool spool(dir.path(), true);
  std::vector<SpooledEvent> events;
  for (int i = 0; i < 70; ++i) events.push_back(sample("req-" + std::to_string(i)));  // more than one group
  events[3].request_id = "../escape";
  std::vector<const SpooledEvent*> all;
  for (const auto& e : events) all.push_back(&e);
  const auto puts = spool.put_all(all);
  ASSERT_EQ(puts.statuses.size(), 70U);
  for (std::size_t i = 0; i < 70; ++i) EXPECT_EQ(puts.statuses[i].ok(), i != 3) << i;
  EXPECT_TRUE(puts.directory_synced);
  EXPECT_EQ(files_in(dir.path()).size(), 69U) << "complete events only, no temporary file";
  EXPECT_EQ(read_text(dir.path() / "req-69.event"), encode(events[69]));
  EXPECT_EQ(spool.load().events.size(), 69U);
  EXPECT_FALSE(EventSpool(dir.path(), false).put_all({&events[0]}).directory_synced) << "nothing to fsync for";
}

TEST(EventSpool, ReplaceSwapsTheWholeFileAndRemoveDeletesIt) {
  test::TempDir dir;
  EventSpool spool(dir.path(), false);
  auto e = sample("req-1");
  ASSERT_TRUE(spool.put(e).ok());
  e.attempts = 3;
  ASSERT_TRUE(spool.replace(e).ok());
  EXPECT_THAT(files_in(dir.path()), ElementsAre("req-1.event"));
  EXPECT_EQ(spool.load().events.at(0).attempts, 3);
  spool.remove("req-1");
  EXPECT_THAT(files_in(dir.path()), IsEmpty());
}

TEST(EventSpool, RefusesRequestIdsThatAreNotFileNames) {
  test::TempDir dir;
  EventSpool spool(dir.path(), false);
  EXPECT_FALSE(spool.put(sample("../escape")).ok());
  EXPECT_FALSE(spool.put(sample("")).ok());
  EXPECT_THAT(files_in(dir.path()), IsEmpty());
}

TEST(EventSpool, LoadDeletesTornTemporaryFilesAndKeepsCompleteEvents) {
  // A kill between write and rename leaves a .tmp: that event never got its 202.
  test::TempDir dir;
  EventSpool spool(dir.path(), true);
  ASSERT_TRUE(spool.put(sample("req-1")).ok());
  const std::string torn = encode(sample("req-2"));
  write(dir.path() / "req-2.tmp", torn.substr(0, torn.size() / 2));
  write(dir.path() / "req-3.tmp", "");
  const auto load = spool.load();
  ASSERT_EQ(load.events.size(), 1U);
  EXPECT_EQ(load.events[0].request_id, "req-1");
  EXPECT_THAT(load.problems, IsEmpty());
  EXPECT_THAT(files_in(dir.path()), ElementsAre("req-1.event"));
}

TEST(EventSpool, LoadSetsAsideEventsItCannotRead) {
  test::TempDir dir;
  EventSpool spool(dir.path(), true);
  const std::string bytes = encode(sample("req-1"));
  write(dir.path() / "req-1.event", bytes.substr(0, bytes.size() - 5));  // truncated
  write(dir.path() / "req-2.event", encode(sample("req-9")));            // name and id disagree
  write(dir.path() / "notes.txt", "not an event");
  const auto load = spool.load();
  EXPECT_THAT(load.events, IsEmpty());
  ASSERT_EQ(load.problems.size(), 2U);
  EXPECT_THAT(files_in(dir.path()), ElementsAre("notes.txt", "req-1.event.corrupt", "req-2.event.corrupt"));
  EXPECT_THAT(spool.load().problems, IsEmpty()) << "set aside once, then left alone";
}

TEST(EventSpool, LoadReturnsOldestFirst) {
  test::TempDir dir;
  EventSpool spool(dir.path(), false);
  ASSERT_TRUE(spool.put(sample("b", 300)).ok());
  ASSERT_TRUE(spool.put(sample("a", 300)).ok());
  ASSERT_TRUE(spool.put(sample("c", 100)).ok());
  const auto load = spool.load();
  ASSERT_EQ(load.events.size(), 3U);
  EXPECT_EQ(load.events[0].request_id, "c");
  EXPECT_EQ(load.events[1].request_id, "a");
  EXPECT_EQ(load.events[2].request_id, "b");
}

}  // namespace
}  // namespace lambdad::async
