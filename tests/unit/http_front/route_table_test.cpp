#include "lambdad/http_front/route_table.hpp"

#include <gtest/gtest.h>

namespace lambdad::http_front {
namespace {

RouteTable table(std::initializer_list<std::pair<const char*, const char*>> routes, const char* api = "api") {
  RouteTable t;
  std::size_t i = 0;
  for (const auto& [method, path] : routes) t.add(Route{api, method, path, RouteTarget{"fn", PayloadVersion::kV2, i++}});
  return t;
}

std::size_t matched(const RouteTable& t, std::string_view method, std::string_view path) {
  auto m = t.match("api", method, path);
  return m ? m->route->target.index : 999;
}

TEST(RouteTable, LiteralBeatsParamBeatsGreedy) {
  const auto t = table({{"GET", "/{proxy+}"}, {"GET", "/items/{id}"}, {"GET", "/items/new"}});
  EXPECT_EQ(matched(t, "GET", "/items/new"), 2u);
  EXPECT_EQ(matched(t, "GET", "/items/7"), 1u);
  EXPECT_EQ(matched(t, "GET", "/items/7/parts"), 0u);
  EXPECT_EQ(matched(t, "GET", "/other"), 0u);
}

TEST(RouteTable, TheFirstDifferingSegmentDecidesThenLength) {
  const auto t = table({{"GET", "/{a}/x"}, {"GET", "/items/{proxy+}"}, {"GET", "/items/{b}/{c}"}});
  // "/items/x": literal "items" first beats "{a}".
  EXPECT_EQ(matched(t, "GET", "/items/x"), 1u);
  EXPECT_EQ(matched(t, "GET", "/items/x/y"), 2u);
  EXPECT_EQ(matched(t, "GET", "/other/x"), 0u);
}

TEST(RouteTable, ExactMethodBeatsAnyOnTheSamePath) {
  const auto t = table({{"ANY", "/items"}, {"POST", "/items"}});
  EXPECT_EQ(matched(t, "POST", "/items"), 1u);
  EXPECT_EQ(matched(t, "DELETE", "/items"), 0u);
}

TEST(RouteTable, AMoreSpecificPathBeatsAnExactMethod) {
  const auto t = table({{"GET", "/{proxy+}"}, {"ANY", "/items"}});
  EXPECT_EQ(matched(t, "GET", "/items"), 1u);
}

TEST(RouteTable, MethodMustMatch) {
  const auto t = table({{"GET", "/items"}});
  EXPECT_EQ(matched(t, "POST", "/items"), 999u);
}

TEST(RouteTable, GreedyTakesAtLeastOneSegment) {
  const auto t = table({{"ANY", "/{proxy+}"}, {"GET", "/a/{proxy+}"}});
  EXPECT_EQ(matched(t, "GET", "/"), 999u);
  EXPECT_EQ(matched(t, "GET", "/a"), 0u);
  auto m = t.match("api", "GET", "/a/b%20c/d");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->route->target.index, 1u);
  EXPECT_EQ(m->path_parameters.at("proxy"), "b c/d");
  EXPECT_EQ(m->route_key, "GET /a/{proxy+}");
  EXPECT_EQ(m->resource_path, "/a/{proxy+}");
}

TEST(RouteTable, ExtractsDecodedPathParameters) {
  const auto t = table({{"GET", "/users/{user}/items/{id}"}});
  auto m = t.match("api", "GET", "/users/j%C3%A9/items/a%2Fb");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->path_parameters, (std::map<std::string, std::string>{{"user", "j\xc3\xa9"}, {"id", "a/b"}}));
  EXPECT_EQ(m->route_key, "GET /users/{user}/items/{id}");
  EXPECT_EQ(matched(t, "GET", "/users//items/1"), 999u);
  EXPECT_EQ(matched(t, "GET", "/users/u/items"), 999u);
}

TEST(RouteTable, RootRouteMatchesOnlyTheRoot) {
  const auto t = table({{"GET", "/"}});
  EXPECT_EQ(matched(t, "GET", "/"), 0u);
  EXPECT_EQ(matched(t, "GET", "/x"), 999u);
}

TEST(RouteTable, DefaultOnlyWhenNothingElseMatches) {
  const auto t = table({{"ANY", "$default"}, {"GET", "/items"}});
  EXPECT_EQ(matched(t, "GET", "/items"), 1u);
  auto m = t.match("api", "POST", "/items");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->route->target.index, 0u);
  EXPECT_EQ(m->route_key, "$default");
  EXPECT_TRUE(m->path_parameters.empty());
}

TEST(RouteTable, RoutesBelongToTheirApi) {
  RouteTable t;
  t.add(Route{"one", "GET", "/x", {"f1", PayloadVersion::kV1, 0}});
  t.add(Route{"two", "GET", "/x", {"f2", PayloadVersion::kV2, 1}});
  EXPECT_EQ(t.match("two", "GET", "/x")->route->target.function_name, "f2");
  EXPECT_FALSE(t.match("three", "GET", "/x"));
}

}  // namespace
}  // namespace lambdad::http_front
