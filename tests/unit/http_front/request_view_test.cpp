#include "lambdad/http_front/request_view.hpp"

#include <gtest/gtest.h>

namespace lambdad::http_front {
namespace {

TEST(RequestView, SplitsTheTargetAtTheFirstQuestionMark) {
  EXPECT_EQ(split_target("/a/b?x=1?y"), (std::pair<std::string_view, std::string_view>{"/a/b", "x=1?y"}));
  EXPECT_EQ(split_target("/a"), (std::pair<std::string_view, std::string_view>{"/a", ""}));
}

TEST(RequestView, PercentDecodesAndRejectsBrokenEscapes) {
  EXPECT_EQ(percent_decode("a%20b%2Fc+d"), "a b/c+d");
  EXPECT_EQ(percent_decode("a%2"), std::nullopt);
  EXPECT_EQ(percent_decode("a%zz"), std::nullopt);
}

TEST(RequestView, ParsesTheQueryInOrderWithRepeats) {
  const auto q = parse_query("a=1&a=2&&b=x+y&c&d=%41");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(q[1], (std::pair<std::string, std::string>{"a", "2"}));
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"b", "x y"}));
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"c", ""}));
  EXPECT_EQ(q[4], (std::pair<std::string, std::string>{"d", "A"}));
}

TEST(RequestView, FormatsApiGatewaysRequestTime) {
  EXPECT_EQ(format_request_time(1583348638390), "04/Mar/2020:19:03:58 +0000");
  EXPECT_EQ(format_request_time(0), "01/Jan/1970:00:00:00 +0000");
}

TEST(RequestView, ValidatesUtf8) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // surrogate
}

TEST(RequestView, TextBodiesAreUtf8WithATextLikeType) {
  EXPECT_TRUE(is_text_body("", "hello"));
  EXPECT_TRUE(is_text_body("application/json; charset=utf-8", "{}"));
  EXPECT_TRUE(is_text_body("text/plain", "hi"));
  EXPECT_TRUE(is_text_body("application/vnd.api+json", "{}"));
  EXPECT_FALSE(is_text_body("image/png", "hi"));
  EXPECT_FALSE(is_text_body("multipart/form-data; boundary=x", "hi"));
  EXPECT_FALSE(is_text_body("text/plain", "\xff\xfe"));
}

TEST(RequestView, FindsHeadersWhateverTheirCase) {
  const Headers h{{"Accept", "a"}, {"X-Y", "1"}, {"x-y", "2"}};
  EXPECT_EQ(header_values(h, "X-y"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(first_header(h, "accept"), "a");
  EXPECT_EQ(first_header(h, "missing"), std::nullopt);
}

}  // namespace
}  // namespace lambdad::http_front
