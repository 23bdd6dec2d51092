#include "lambdad/invoke_api/function_name.hpp"

#include <gtest/gtest.h>

#include "lambdad/invoke_api/service_error.hpp"

namespace lambdad::invoke_api {
namespace {

TEST(FunctionNameTest, AcceptsEveryFormInvokeAccepts) {
  auto bare = parse_function_name("my-function");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->name, "my-function");
  EXPECT_FALSE(bare->qualifier);

  auto q = parse_function_name("my-function:$LATEST");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->qualifier.value_or(""), "$LATEST");

  auto partial = parse_function_name("123456789012:function:my-function:7");
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->account.value_or(""), "123456789012");
  EXPECT_EQ(partial->name, "my-function");
  EXPECT_EQ(partial->qualifier.value_or(""), "7");

  auto arn = parse_function_name("arn:aws:lambda:eu-west-1:123456789012:function:f.n_1");
  ASSERT_TRUE(arn);
  EXPECT_EQ(arn->region.value_or(""), "eu-west-1");
  EXPECT_EQ(arn->name, "f.n_1");

  auto gov = parse_function_name("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:prod");
  ASSERT_TRUE(gov);
  EXPECT_EQ(gov->region.value_or(""), "us-gov-west-1");
  EXPECT_EQ(gov->qualifier.value_or(""), "prod");
}

TEST(FunctionNameTest, RejectsWhatThePatternRejects) {
  EXPECT_FALSE(parse_function_name(""));
  EXPECT_FALSE(parse_function_name("has space"));
  EXPECT_FALSE(parse_function_name("a:b:c:d"));
  EXPECT_FALSE(parse_function_name("f:bad.qualifier"));
  EXPECT_FALSE(parse_function_name(std::string(65, 'a')));
  EXPECT_FALSE(parse_function_name("arn:aws:s3:::bucket"));
}

TEST(FunctionNameTest, Qualifiers) {
  EXPECT_TRUE(valid_qualifier("$LATEST"));
  EXPECT_TRUE(valid_qualifier("12"));
  EXPECT_TRUE(valid_qualifier("live-alias_1"));
  EXPECT_FALSE(valid_qualifier(""));
  EXPECT_FALSE(valid_qualifier("a.b"));
  EXPECT_FALSE(valid_qualifier(std::string(129, 'a')));
}

TEST(ServiceErrorTest, BodyCasingFollowsTheModel) {
  auto nf = render(ServiceError::not_found("Function not found: x"), "rid");
  EXPECT_EQ(nf.status, 404u);
  EXPECT_EQ(nf.headers.get("X-Amzn-ErrorType").value_or(""), "ResourceNotFoundException");
  EXPECT_EQ(nf.headers.get("x-amzn-RequestId").value_or(""), "rid");
  EXPECT_EQ(nf.body, R"({"Type":"User","Message":"Function not found: x"})");

  auto ip = render(ServiceError::invalid_parameter("bad"), "rid");
  EXPECT_EQ(ip.status, 400u);
  EXPECT_EQ(ip.body, R"({"Type":"User","message":"bad"})");

  auto v = render(ServiceError::validation("1 validation error detected"), "rid");
  EXPECT_EQ(v.body, R"({"message":"1 validation error detected"})");

  auto big = render(ServiceError::entity_too_large("Request must be smaller than 6291456 bytes for the InvokeFunction operation"), "r");
  EXPECT_EQ(big.status, 413u);
  EXPECT_EQ(big.headers.get("X-Amzn-ErrorType").value_or(""), "RequestEntityTooLargeException");

  ServiceError throttle{429, "TooManyRequestsException", "", "ReservedFunctionConcurrentInvocationLimitExceeded"};
  EXPECT_EQ(render(throttle, "r").body,
            R"({"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."})");
}

}  // namespace
}  // namespace lambdad::invoke_api
