#include "lambdad/http_front/errors.hpp"

#include <gtest/gtest.h>

namespace lambdad::http_front {
namespace {

TEST(FrontErrors, FunctionErrorsAre502) {
  const auto url = render_error(FrontKind::kFunctionUrl, FrontErrorKind::kFunctionError);
  EXPECT_EQ(url.status, 502);
  EXPECT_EQ(url.body, "Internal Server Error");
  for (auto front : {FrontKind::kRestApi, FrontKind::kHttpApi}) {
    const auto a = render_error(front, FrontErrorKind::kMalformedResponse);
    EXPECT_EQ(a.status, 502);
    EXPECT_EQ(a.body, R"({"message":"Internal server error"})");
    EXPECT_EQ(first_header(a.headers, "content-type"), "application/json");
  }
}

TEST(FrontErrors, TimeoutsAre504OnApisAnd502OnUrls) {
  EXPECT_EQ(render_error(FrontKind::kRestApi, FrontErrorKind::kTimeout).status, 504);
  EXPECT_EQ(render_error(FrontKind::kHttpApi, FrontErrorKind::kTimeout).body, R"({"message":"Endpoint request timed out"})");
  EXPECT_EQ(render_error(FrontKind::kFunctionUrl, FrontErrorKind::kTimeout).status, 502);
}

TEST(FrontErrors, NoRoute) {
  const auto rest = render_error(FrontKind::kRestApi, FrontErrorKind::kNoRoute);
  EXPECT_EQ(rest.status, 403);
  EXPECT_EQ(rest.body, R"({"message":"Missing Authentication Token"})");
  const auto http = render_error(FrontKind::kHttpApi, FrontErrorKind::kNoRoute);
  EXPECT_EQ(http.status, 404);
  EXPECT_EQ(http.body, R"({"message":"Not Found"})");
}

TEST(FrontErrors, ThrottleAndAuthorizers) {
  EXPECT_EQ(render_error(FrontKind::kHttpApi, FrontErrorKind::kThrottled).status, 429);
  EXPECT_EQ(render_error(FrontKind::kHttpApi, FrontErrorKind::kThrottled).body, R"({"message":"Too Many Requests"})");
  EXPECT_EQ(render_error(FrontKind::kRestApi, FrontErrorKind::kUnauthorized).body, R"({"message":"Unauthorized"})");
  EXPECT_EQ(render_error(FrontKind::kRestApi, FrontErrorKind::kUnauthorized).status, 401);
  const auto denied = render_error(FrontKind::kRestApi, FrontErrorKind::kForbidden);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body, R"({"Message":"User is not authorized to access this resource"})");
  EXPECT_EQ(first_header(denied.headers, "x-amzn-ErrorType"), "AccessDeniedException");
  const auto explicit_deny = render_error(FrontKind::kRestApi, FrontErrorKind::kExplicitDeny);
  EXPECT_EQ(explicit_deny.status, 403);
  EXPECT_EQ(explicit_deny.body, R"({"Message":"User is not authorized to access this resource with an explicit deny"})");
  EXPECT_EQ(render_error(FrontKind::kHttpApi, FrontErrorKind::kForbidden).body, R"({"message":"Forbidden"})");
  EXPECT_EQ(render_error(FrontKind::kHttpApi, FrontErrorKind::kExplicitDeny).body, R"({"message":"Forbidden"})");
  EXPECT_EQ(render_error(FrontKind::kFunctionUrl, FrontErrorKind::kForbidden).status, 403);
}

TEST(FrontErrors, AuthorizerFailuresAre500) {
  const auto rest = render_error(FrontKind::kRestApi, FrontErrorKind::kAuthorizerFailure);
  EXPECT_EQ(rest.status, 500);
  EXPECT_EQ(rest.body, R"({"message":null})");
  EXPECT_EQ(first_header(rest.headers, "x-amzn-ErrorType"), "AuthorizerConfigurationException");
  const auto http = render_error(FrontKind::kHttpApi, FrontErrorKind::kAuthorizerFailure);
  EXPECT_EQ(http.status, 500);
  EXPECT_EQ(http.body, R"({"message":"Internal Server Error"})");
  EXPECT_EQ(first_header(render_error(FrontKind::kRestApi, FrontErrorKind::kUnauthorized).headers, "x-amzn-ErrorType"),
            "UnauthorizedException");
}

TEST(FrontErrors, TooLarge) {
  for (auto front : {FrontKind::kFunctionUrl, FrontKind::kHttpApi, FrontKind::kRestApi}) {
    const auto a = render_error(front, FrontErrorKind::kTooLarge);
    EXPECT_EQ(a.status, 413);
    EXPECT_EQ(a.body, R"({"message":"Request Entity Too Large"})");
  }
}

}  // namespace
}  // namespace lambdad::http_front
