#include "lambdad/observability/platform_log.hpp"

#include <gtest/gtest.h>

namespace lambdad::observability {
namespace {

TEST(PlatformLogTest, StartAndEndLines) {
  EXPECT_EQ(start_line("abc", "$LATEST"), "START RequestId: abc Version: $LATEST");
  EXPECT_EQ(end_line("abc"), "END RequestId: abc");
}

TEST(PlatformLogTest, InitStartNamesTheRuntimeInTheDaemonsRegion) {
  EXPECT_EQ(init_start_line("python3.12", "eu-west-1"),
            "INIT_START Runtime Version: python3.12\tRuntime Version ARN: " +
                runtime_version_arn("python3.12", "eu-west-1"));
}

TEST(PlatformLogTest, RuntimeVersionArnEndsInSixtyFourHexDigitsOneValuePerRuntime) {
  const std::string arn = runtime_version_arn("python3.12", "eu-west-1");
  const std::string prefix = "arn:aws:lambda:eu-west-1::runtime:";
  ASSERT_EQ(arn.rfind(prefix, 0), 0u) << arn;
  const std::string hash = arn.substr(prefix.size());
  EXPECT_EQ(hash.size(), 64u) << arn;
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos) << arn;
  EXPECT_EQ(runtime_version_arn("python3.12", "eu-west-1"), arn);
  EXPECT_NE(runtime_version_arn("nodejs20.x", "eu-west-1").substr(prefix.size()), hash);
  EXPECT_EQ(runtime_version_arn("python3.12", "us-east-1"), "arn:aws:lambda:us-east-1::runtime:" + hash);
}

TEST(PlatformLogTest, WarmReportHasNoInitDuration) {
  ReportFields f;
  f.request_id = "abc";
  f.duration_ms = 3.011;
  f.memory_size_mb = 128;
  f.max_memory_used_mb = 36;
  EXPECT_EQ(report_line(f),
            "REPORT RequestId: abc\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 36 MB\t");
}

TEST(PlatformLogTest, ColdReportBillsInitAndEndsWithTab) {
  ReportFields f;
  f.request_id = "abc";
  f.duration_ms = 1233.96;
  f.init_duration_ms = 463.512;
  f.memory_size_mb = 256;
  f.max_memory_used_mb = 123;
  EXPECT_EQ(report_line(f),
            "REPORT RequestId: abc\tDuration: 1233.96 ms\tBilled Duration: 1698 ms\tMemory Size: 256 MB\t"
            "Max Memory Used: 123 MB\tInit Duration: 463.51 ms\t");
}

TEST(PlatformLogTest, AbnormalEndingsAppendStatus) {
  ReportFields f;
  f.request_id = "x";
  f.duration_ms = 1000;
  f.status = "error";
  f.error_type = "Runtime.ExitError";
  auto line = report_line(f);
  EXPECT_NE(line.find("\tStatus: error\tError Type: Runtime.ExitError\t"), std::string::npos) << line;
  f.status = "timeout";
  f.error_type.clear();
  EXPECT_NE(report_line(f).find("\tStatus: timeout\t"), std::string::npos);
}

TEST(PlatformLogTest, BilledDurationIsCeilingAndAtLeastOne) {
  EXPECT_EQ(billed_duration_ms(0.01, std::nullopt), 1);
  EXPECT_EQ(billed_duration_ms(3.0, std::nullopt), 3);
  EXPECT_EQ(billed_duration_ms(3.01, std::nullopt), 4);
}

}  // namespace
}  // namespace lambdad::observability
