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

}  // namespace
}  // namespace lambdad
