#include "lambdad/http_front/cors.hpp"

#include <gtest/gtest.h>

namespace lambdad::http_front {
namespace {

RequestView preflight(std::string origin) {
  RequestView r;
  r.method = "OPTIONS";
  r.target = "/items";
  r.headers = {{"Origin", std::move(origin)}, {"Access-Control-Request-Method", "POST"}};
  return r;
}

Cors cors() { return Cors{{"https://a.example", "https://b.example"}, {"GET", "POST"}, {"content-type", "x-api-key"}, {"x-id"}, 300, false}; }

TEST(Cors, PreflightNeedsOptionsOriginAndRequestMethod) {
  EXPECT_TRUE(is_preflight(FrontKind::kFunctionUrl, preflight("https://a.example")));
  auto r = preflight("https://a.example");
  r.headers.pop_back();
  EXPECT_FALSE(is_preflight(FrontKind::kHttpApi, r));
  EXPECT_TRUE(is_preflight(FrontKind::kRestApi, r));
  r.method = "GET";
  EXPECT_FALSE(is_preflight(FrontKind::kRestApi, r));
}

TEST(Cors, UrlPreflightForAnAllowedOrigin) {
  const auto a = preflight_answer(FrontKind::kFunctionUrl, cors(), preflight("https://b.example"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "");
  EXPECT_EQ(a.headers, (Headers{{"Access-Control-Allow-Origin", "https://b.example"},
                                {"Vary", "Origin"},
                                {"Access-Control-Allow-Methods", "GET,POST"},
                                {"Access-Control-Allow-Headers", "content-type,x-api-key"},
                                {"Access-Control-Max-Age", "300"}}));
}

TEST(Cors, HttpApiPreflightIs204AndAForeignOriginGetsNoHeaders) {
  const auto a = preflight_answer(FrontKind::kHttpApi, cors(), preflight("https://evil.example"));
  EXPECT_EQ(a.status, 204);
  EXPECT_TRUE(a.headers.empty());
}

TEST(Cors, WildcardOriginIsStarUnlessCredentials) {
  auto c = cors();
  c.allow_origins = {"*"};
  EXPECT_EQ(cors_headers(FrontKind::kHttpApi, c, preflight("https://x.example")),
            (Headers{{"Access-Control-Allow-Origin", "*"}, {"Access-Control-Expose-Headers", "x-id"}}));
  c.allow_credentials = true;
  EXPECT_EQ(cors_headers(FrontKind::kFunctionUrl, c, preflight("https://x.example")),
            (Headers{{"Access-Control-Allow-Origin", "https://x.example"},
                     {"Vary", "Origin"},
                     {"Access-Control-Allow-Credentials", "true"},
                     {"Access-Control-Expose-Headers", "x-id"}}));
}

TEST(Cors, NoOriginNoHeadersOnUrlsAndHttpApis) {
  RequestView r;
  r.method = "GET";
  EXPECT_TRUE(cors_headers(FrontKind::kFunctionUrl, cors(), r).empty());
}

TEST(Cors, RestSendsTheConfiguredValuesWhateverTheOrigin) {
  Cors c{{"*"}, {"GET", "OPTIONS"}, {"Content-Type"}, {}, std::nullopt, false};
  RequestView r;
  r.method = "OPTIONS";
  const auto a = preflight_answer(FrontKind::kRestApi, c, r);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.headers, (Headers{{"Access-Control-Allow-Origin", "*"},
                                {"Access-Control-Allow-Methods", "GET,OPTIONS"},
                                {"Access-Control-Allow-Headers", "Content-Type"}}));
  EXPECT_EQ(cors_headers(FrontKind::kRestApi, c, r), (Headers{{"Access-Control-Allow-Origin", "*"}}));
}

}  // namespace
}  // namespace lambdad::http_front
