#include "lambdad/config/function_names.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lambdad::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

FunctionConfig fn(std::string name, std::string logical_id, std::string short_name = "") {
  FunctionConfig f;
  f.name = std::move(name);
  f.logical_id = std::move(logical_id);
  f.short_name = std::move(short_name);
  return f;
}

TEST(FunctionNames, EachOfTheThreeNamesFindsTheFunction) {
  const std::vector<FunctionConfig> functions{fn("orders-prod", "OrdersFunction"),
                                              fn("shop-prod-refund", "RefundLambdaFunction", "refund")};
  for (const char* name : {"orders-prod", "OrdersFunction"}) {
    ASSERT_NE(find_function(functions, name), nullptr) << name;
    EXPECT_EQ(find_function(functions, name)->name, "orders-prod") << name;
  }
  for (const char* name : {"shop-prod-refund", "RefundLambdaFunction", "refund"}) {
    ASSERT_NE(find_function(functions, name), nullptr) << name;
    EXPECT_EQ(find_function(functions, name)->name, "shop-prod-refund") << name;
  }
  EXPECT_EQ(find_function(functions, "orders"), nullptr);
  EXPECT_EQ(find_function(functions, "ordersfunction"), nullptr);  // names are case-sensitive, as Lambda's
  EXPECT_EQ(find_function(functions, ""), nullptr);  // a SAM function's empty short name matches nothing
}

TEST(FunctionNames, DeployedNamesWinOverLogicalIdsWhichWinOverShortNames) {
  // "Orders" is A's FunctionName and B's logical id; "api" is B's deployed name and C's short name.
  const std::vector<FunctionConfig> functions{fn("api", "Orders", "b"), fn("Orders", "A"),
                                              fn("svc-dev-api", "ApiLambdaFunction", "api")};
  EXPECT_EQ(find_function(functions, "Orders")->logical_id, "A");
  EXPECT_EQ(find_function(functions, "api")->logical_id, "Orders");
  EXPECT_EQ(find_function(functions, "b")->logical_id, "Orders");
  const NameCheck check = check_function_names(functions);
  EXPECT_THAT(check.errors, IsEmpty());
  ASSERT_EQ(check.warnings.size(), 2U);
  EXPECT_EQ(check.warnings[0],
            "Orders is the deployed name of A and the logical id of Orders: it names A (deployed names are tried "
            "first)");
  EXPECT_EQ(check.warnings[1],
            "api is the deployed name of Orders and the short name of ApiLambdaFunction: it names Orders (deployed "
            "names are tried first)");
}

TEST(FunctionNames, TheSameNameOfTheSameKindIsAmbiguous) {
  const NameCheck check = check_function_names(
      {fn("a-dev-x", "HelloDashworldLambdaFunction", "hello-world"),
       fn("a-dev-y", "HelloDashworldLambdaFunction", "Hello-world")});
  EXPECT_THAT(check.errors, ElementsAre("the logical id HelloDashworldLambdaFunction is ambiguous: both "
                                        "HelloDashworldLambdaFunction and HelloDashworldLambdaFunction have it"));
  const NameCheck deployed = check_function_names({fn("same", "A"), fn("same", "B")});
  ASSERT_EQ(deployed.errors.size(), 1U);
  EXPECT_THAT(deployed.errors[0], HasSubstr("both A and B"));
}

TEST(FunctionNames, AFunctionsOwnNamesMayCoincide) {
  const NameCheck check = check_function_names({fn("Hello", "Hello"), fn("svc-dev-x", "X", "X")});
  EXPECT_THAT(check.errors, IsEmpty());
  EXPECT_THAT(check.warnings, IsEmpty());
}

TEST(FunctionNames, DescribeListsTheNamesThatDiffer) {
  EXPECT_EQ(describe_names(fn("orders-prod", "OrdersFunction")), "OrdersFunction (orders-prod)");
  EXPECT_EQ(describe_names(fn("Hello", "Hello")), "Hello");
  EXPECT_EQ(describe_names(fn("shop-prod-orders", "OrdersLambdaFunction", "orders")),
            "OrdersLambdaFunction (shop-prod-orders, short: orders)");
}

TEST(FunctionNames, ServerlessLogicalIdsFollowTheFramework) {
  EXPECT_EQ(serverless_logical_id("hello"), "HelloLambdaFunction");
  EXPECT_EQ(serverless_logical_id("hello-world"), "HelloDashworldLambdaFunction");
  EXPECT_EQ(serverless_logical_id("send_mail"), "SendUnderscoremailLambdaFunction");
  EXPECT_EQ(serverless_logical_id("Orders2"), "Orders2LambdaFunction");
}

TEST(BlockedRuntimes, LambdaRefusesCreatingFunctionsWithThem) {
  EXPECT_EQ(blocked_runtime_message("python3.8").value_or(""),
            "The runtime parameter of python3.8 is no longer supported for creating or updating AWS Lambda "
            "functions. We recommend you use the new runtime (python3.13) while creating or updating functions.");
  EXPECT_THAT(blocked_runtime_message("nodejs16.x").value_or(""), HasSubstr("new runtime (nodejs22.x)"));
  for (const char* blocked : {"python2.7", "python3.6", "python3.7", "nodejs", "nodejs4.3", "nodejs10.x",
                              "nodejs12.x", "nodejs14.x", "java8", "dotnetcore3.1", "dotnet6", "ruby2.7", "go1.x"}) {
    EXPECT_TRUE(blocked_runtime_message(blocked).has_value()) << blocked;
  }
  for (const char* allowed : {"python3.9", "python3.13", "python3.14", "nodejs18.x", "nodejs20.x", "nodejs24.x",
                              "java8.al2", "java21", "dotnet8", "provided", "provided.al2", "provided.al2023",
                              "python3.80", "Python3.8", ""}) {
    EXPECT_FALSE(blocked_runtime_message(allowed).has_value()) << allowed;
  }
}

}  // namespace
}  // namespace lambdad::config
