#include "lambdad/http/router.hpp"

#include <gtest/gtest.h>

namespace lambdad::http {
namespace {

Router make() {
  Router r;
  auto noop = [](Request&&, Responder) {};
  r.add(Method::kGet, "/2018-06-01/runtime/invocation/next", 0, noop);
  r.add(Method::kPost, "/2018-06-01/runtime/invocation/{id}/response", 100, noop);
  r.add(Method::kPost, "/2015-03-31/functions/{name}/invocations", 6291456, noop);
  return r;
}

TEST(RouterTest, MatchesLiteralAndCaptures) {
  auto r = make();
  auto m = r.match(Method::kPost, "/2018-06-01/runtime/invocation/abc-123/response");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->body_limit, 100u);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "abc-123");
}

TEST(RouterTest, CapturesArePercentDecoded) {
  auto r = make();
  auto m = r.match(Method::kPost, "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params[0].second, "arn:aws:lambda:us-east-1:123456789012:function:f");
}

TEST(RouterTest, MethodAndShapeMustMatch) {
  auto r = make();
  EXPECT_EQ(r.match(Method::kGet, "/2015-03-31/functions/f/invocations").route, nullptr);
  EXPECT_EQ(r.match(Method::kPost, "/2015-03-31/functions//invocations").route, nullptr);
  EXPECT_EQ(r.match(Method::kPost, "/2015-03-31/functions/a/b/invocations").route, nullptr);
  EXPECT_EQ(r.match(Method::kGet, "/2018-06-01/runtime/invocation/next/").route, nullptr);
  EXPECT_NE(r.match(Method::kGet, "/2018-06-01/runtime/invocation/next").route, nullptr);
}

TEST(MessageTest, HeadersAreCaseInsensitive) {
  Headers h;
  h.add("Lambda-Runtime-Function-Error-Type", "Runtime.X");
  EXPECT_EQ(h.get("lambda-runtime-function-error-type").value_or(""), "Runtime.X");
  EXPECT_FALSE(h.get("Content-Type").has_value());
}

TEST(MessageTest, QueryParamsAreDecoded) {
  Request req;
  req.query = "Qualifier=%24LATEST&x=a+b&flag";
  EXPECT_EQ(req.query_param("Qualifier").value_or(""), "$LATEST");
  EXPECT_EQ(req.query_param("x").value_or(""), "a b");
  EXPECT_EQ(req.query_param("flag").value_or("missing"), "");
  EXPECT_FALSE(req.query_param("nope").has_value());
}

TEST(MessageTest, PercentDecodeLeavesBrokenEscapes) {
  EXPECT_EQ(percent_decode("a%2"), "a%2");
  EXPECT_EQ(percent_decode("%zz%41"), "%zzA");
}

}  // namespace
}  // namespace lambdad::http
