// JSON-lines destination files: names, appends, and a line torn by a kill.
#include "lambdad/async/record_log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "async_test_support.hpp"

namespace lambdad::async {
namespace {

using ::testing::ElementsAre;
using test::read_lines;
using test::read_text;

TEST(RecordLog, FileNamesComeFromTypeAndArn) {
  EXPECT_EQ(destination_file_name("SQS", "arn:aws:sqs:us-east-1:123456789012:my-queue"),
            "sqs-arn_aws_sqs_us-east-1_123456789012_my-queue.jsonl");
  EXPECT_EQ(destination_file_name("EventBridge", "arn:aws:events:us-east-1:1:event-bus/default"),
            "eventbridge-arn_aws_events_us-east-1_1_event-bus_default.jsonl");
  EXPECT_EQ(destination_file_name("dlq-SNS", "../../etc/passwd"), "dlq-sns-.._.._etc_passwd.jsonl");
  EXPECT_EQ(destination_file_name("S3", std::string(400, 'a')).size(), 206U);
}

TEST(RecordLog, AppendsOneLineEach) {
  test::TempDir dir;
  RecordLog log(dir.path(), true);
  ASSERT_TRUE(log.append("q.jsonl", R"({"a":1})").ok());
  ASSERT_TRUE(log.append("q.jsonl", R"({"a":2})").ok());
  EXPECT_EQ(read_text(dir.path() / "q.jsonl"), "{\"a\":1}\n{\"a\":2}\n");
}

TEST(RecordLog, LineTornByAKillDoesNotSwallowTheNextRecord) {
  test::TempDir dir;
  { std::ofstream(dir.path() / "q.jsonl") << "{\"a\":1}\n{\"a\":"; }
  RecordLog log(dir.path(), false);
  ASSERT_TRUE(log.append("q.jsonl", R"({"a":3})").ok());
  ASSERT_TRUE(log.append("q.jsonl", R"({"a":4})").ok());
  EXPECT_THAT(read_lines(dir.path() / "q.jsonl"), ElementsAre(R"({"a":1})", R"({"a":)", R"({"a":3})", R"({"a":4})"));
}

TEST(RecordLog, ReportsWhatItCannotWrite) {
  test::TempDir dir;
  RecordLog log(dir.path() / "missing", false);
  auto st = log.append("q.jsonl", "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, ::testing::HasSubstr("q.jsonl"));
}

}  // namespace
}  // namespace lambdad::async
