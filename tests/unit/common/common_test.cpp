#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "lambdad/common/base64.hpp"
#include "lambdad/common/ids.hpp"

namespace lambdad {
namespace {

TEST(Base64Test, RoundTripsAndMatchesRfc4648Vectors) {
  EXPECT_EQ(base64::encode(""), "");
  EXPECT_EQ(base64::encode("f"), "Zg==");
  EXPECT_EQ(base64::encode("fo"), "Zm8=");
  EXPECT_EQ(base64::encode("foo"), "Zm9v");
  EXPECT_EQ(base64::encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64::decode("Zm9vYg==").value_or("x"), "foob");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(base64::decode(base64::encode(bytes)).value_or(""), bytes);
}

TEST(Base64Test, RejectsInvalidText) {
  EXPECT_FALSE(base64::decode("Zm9"));
  EXPECT_FALSE(base64::decode("Zm9v!==="));
  EXPECT_FALSE(base64::decode("Z=9v"));
}

TEST(IdsTest, RequestIdsAreLowercaseUuidV4AndUnique) {
  static const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = ids::request_id();
    ASSERT_TRUE(std::regex_match(id, kUuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdsTest, TraceHeaderHasXRayShape) {
  static const std::regex kTrace("Root=1-0000002a-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0");
  EXPECT_TRUE(std::regex_match(ids::trace_header(42), kTrace)) << ids::trace_header(42);
}

TEST(IdsTest, SampledTraceHeaderSaysSo) {
  static const std::regex kTrace("Root=1-5f84c7a1-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1");
  EXPECT_TRUE(std::regex_match(ids::trace_header(0x5f84c7a1, true), kTrace)) << ids::trace_header(0x5f84c7a1, true);
}

TEST(IdsTest, WithoutACallersRootActiveTracingStartsASampledTraceAndPassThroughAnUnsampledOne) {
  static const std::regex kActive("Root=1-0000002a-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1");
  static const std::regex kPassThrough("Root=1-0000002a-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0");
  for (const char* incoming : {"", "Self=1-abc", "garbage"}) {
    EXPECT_TRUE(std::regex_match(ids::invocation_trace_header(incoming, true, 42), kActive)) << incoming;
    EXPECT_TRUE(std::regex_match(ids::invocation_trace_header(incoming, false, 42), kPassThrough)) << incoming;
  }
  EXPECT_NE(ids::invocation_trace_header("", true, 42), ids::invocation_trace_header("", true, 42));
}

TEST(IdsTest, ACallersTraceIsContinuedWithItsSamplingDecision) {
  constexpr const char* kRoot = "1-5759e988-bd862e3fe1be46a994272793";
  // Its decision stands, whatever the mode.
  for (bool active : {true, false}) {
    EXPECT_EQ(ids::invocation_trace_header("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
                                           active, 42),
              "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0");
    EXPECT_EQ(ids::invocation_trace_header("root=1-5759e988-bd862e3fe1be46a994272793; parent=53995c3f42cd8ad8; "
                                           "sampled=1;lineage=a87bd80c:0",
                                           active, 42),
              "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;lineage=a87bd80c:0");
  }
  // None (or "?"): Active samples, PassThrough does not; a missing Parent is made up.
  EXPECT_EQ(ids::invocation_trace_header("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?",
                                         true, 42),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
  const std::string passthrough = ids::invocation_trace_header(std::string("Root=") + kRoot, false, 42);
  EXPECT_TRUE(std::regex_match(passthrough, std::regex("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};"
                                                       "Sampled=0")))
      << passthrough;
  EXPECT_EQ(ids::trace_field(passthrough, "root"), kRoot);
  EXPECT_EQ(ids::trace_field(passthrough, "Lineage"), "");
}

}  // namespace
}  // namespace lambdad
