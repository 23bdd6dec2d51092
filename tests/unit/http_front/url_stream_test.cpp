// read_stream_head: a RESPONSE_STREAM URL's head from the function's stream (lambda-spec §1.9, §13.1).
#include "lambdad/http_front/url_stream.hpp"

#include <gtest/gtest.h>

namespace lambdad::http_front {
namespace {

const std::string kNuls(8, '\0');

TEST(UrlStreamTest, ThePreludeGivesStatusHeadersAndCookiesAndTheRestIsBody) {
  const std::string stream =
      R"({"statusCode":201,"headers":{"x-a":"1","Content-Type":"text/html"},"cookies":["c=1","d=2"]})" + kNuls + "<p>";
  auto head = read_stream_head(kHttpIntegrationResponse, stream, false);
  ASSERT_TRUE(head);
  const auto& a = std::get<HttpAnswer>(*head);
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.headers, (Headers{{"Content-Type", "text/html"}, {"x-a", "1"}, {"Set-Cookie", "c=1"}, {"Set-Cookie", "d=2"}}));
  EXPECT_EQ(a.body, "<p>");
}

TEST(UrlStreamTest, MoreBytesAreNeededUntilTheEightNuls) {
  const std::string prelude = R"({"statusCode":200})";
  EXPECT_FALSE(read_stream_head(kHttpIntegrationResponse, prelude, false));
  EXPECT_FALSE(read_stream_head(kHttpIntegrationResponse, prelude + std::string(7, '\0'), false));
  auto head = read_stream_head(std::string(kHttpIntegrationResponse) + "; charset=utf-8", prelude + kNuls, false);
  ASSERT_TRUE(head);
  const auto& a = std::get<HttpAnswer>(*head);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.headers, (Headers{{"Content-Type", "application/octet-stream"}}));
  EXPECT_EQ(a.body, "");
}

TEST(UrlStreamTest, AnotherContentTypeIsTheBodyAnswered200) {
  auto head = read_stream_head("text/plain", "hello", false);
  ASSERT_TRUE(head);
  EXPECT_EQ(std::get<HttpAnswer>(*head).status, 200);
  EXPECT_EQ(std::get<HttpAnswer>(*head).headers, (Headers{{"Content-Type", "text/plain"}}));
  EXPECT_EQ(std::get<HttpAnswer>(*head).body, "hello");
  auto none = read_stream_head("", "", false);
  ASSERT_TRUE(none);
  EXPECT_EQ(std::get<HttpAnswer>(*none).headers, (Headers{{"Content-Type", "application/octet-stream"}}));
}

TEST(UrlStreamTest, MalformedPreludesAreErrors) {
  for (const std::string& stream : {std::string("not json") + kNuls, std::string("[1]") + kNuls,
                                    std::string(R"({"statusCode":"abc"})") + kNuls,
                                    std::string(R"({"headers":[1]})") + kNuls, std::string(R"({"cookies":[1]})") + kNuls}) {
    auto head = read_stream_head(kHttpIntegrationResponse, stream, false);
    ASSERT_TRUE(head) << stream;
    EXPECT_EQ(std::get<FrontError>(*head).kind, FrontErrorKind::kMalformedResponse) << stream;
  }
  // A stream that ends, or grows past the limit, without the eight NULs.
  auto ended = read_stream_head(kHttpIntegrationResponse, R"({"statusCode":200})", true);
  ASSERT_TRUE(ended);
  EXPECT_TRUE(std::holds_alternative<FrontError>(*ended));
  auto long_one = read_stream_head(kHttpIntegrationResponse, std::string(kMaxPrelude + 1, ' '), false);
  ASSERT_TRUE(long_one);
  EXPECT_TRUE(std::holds_alternative<FrontError>(*long_one));
}

}  // namespace
}  // namespace lambdad::http_front
