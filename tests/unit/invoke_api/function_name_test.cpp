#include "lambdad/invoke_api/function_name.hpp"

#include <fmt/format.h>
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
  EXPECT_FALSE(parse_function_name(std::string(257, 'a')));
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

// The ServiceError function_target answers `name` / `qualifier` with (it must answer one).
ServiceError target_error(std::string_view name, std::optional<std::string_view> qualifier = std::nullopt) {
  auto t = function_target(name, qualifier, "us-east-1", "123456789012");
  EXPECT_TRUE(std::holds_alternative<ServiceError>(t)) << name;
  return std::holds_alternative<ServiceError>(t) ? std::get<ServiceError>(t) : ServiceError{};
}

TEST(FunctionTargetTest, AQualifierLongerThan128IsALengthValidationError) {
  const std::string q(129, 'q');
  auto e = target_error("f", q);
  EXPECT_EQ(e.status, 400u);
  EXPECT_EQ(e.type, "ValidationException");
  EXPECT_EQ(e.message, "1 validation error detected: Value '" + q +
                           "' at 'qualifier' failed to satisfy constraint: Member must have length less than or "
                           "equal to 128");
  auto ok = function_target("f", std::string(128, 'q'), "us-east-1", "123456789012");
  ASSERT_TRUE(std::holds_alternative<FunctionTarget>(ok));
  EXPECT_EQ(std::get<FunctionTarget>(ok).qualifier, std::string(128, 'q'));
}

TEST(FunctionTargetTest, AQualifierOffThePatternIsAPatternValidationError) {
  EXPECT_EQ(target_error("f", "a.b").message,
            "1 validation error detected: Value 'a.b' at 'qualifier' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)");
  const std::string both = std::string(129, 'q') + ".";
  EXPECT_EQ(target_error("f", both).message,
            "2 validation errors detected: Value '" + both +
                "' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: "
                "(|[a-zA-Z0-9$_-]+); Value '" + both +
                "' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128");
}

TEST(FunctionTargetTest, APlainNameLongerThan64IsAFunctionNotFoundQualifiedWithLatest) {
  const std::string name(65, 'n');
  auto e = target_error(name);
  EXPECT_EQ(e.status, 404u);
  EXPECT_EQ(e.type, "ResourceNotFoundException");
  EXPECT_EQ(e.message, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:" + name + ":$LATEST");
  EXPECT_EQ(target_error(name + ":prod").message,
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:" + name + ":prod");
  EXPECT_EQ(target_error(name, "7").message,
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:" + name + ":7");
}

TEST(FunctionTargetTest, NamesOffThePatternOrTooLongForItStayValidationErrors) {
  for (const std::string& name : {std::string(257, 'n'), std::string("has space"),
                                 "arn:aws:lambda:us-east-1:123456789012:function:" + std::string(65, 'n')}) {
    auto e = target_error(name);
    EXPECT_EQ(e.status, 400u) << name;
    EXPECT_EQ(e.type, "ValidationException");
    EXPECT_EQ(e.message, fmt::format("1 validation error detected: Value '{}' at 'functionName' failed to satisfy "
                                     "constraint: Member must satisfy regular expression pattern: {}",
                                     name, kFunctionNamePattern));
  }
  auto ok = function_target(std::string(64, 'n'), std::nullopt, "us-east-1", "123456789012");
  ASSERT_TRUE(std::holds_alternative<FunctionTarget>(ok));
  EXPECT_EQ(std::get<FunctionTarget>(ok).name, std::string(64, 'n'));
}

TEST(FunctionTargetTest, OtherRegionsAccountsAndMismatchedQualifiersAreRefused) {
  EXPECT_EQ(target_error("f:1", "2").type, "InvalidParameterValueException");
  EXPECT_EQ(target_error("arn:aws:lambda:eu-west-1:123456789012:function:f").message,
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')");
  EXPECT_EQ(target_error("arn:aws:lambda:us-east-1:999999999999:function:f").type, "AccessDeniedException");
}

TEST(ServiceErrorTest, InvalidMemberCountsTheConstraintsItFails) {
  EXPECT_EQ(ServiceError::invalid_member("maxItems", "x", {"Member must be a number"}).message,
            "1 validation error detected: Value 'x' at 'maxItems' failed to satisfy constraint: Member must be a "
            "number");
  auto two = ServiceError::invalid_member("m", "v", {"A", "B"});
  EXPECT_EQ(two.type, "ValidationException");
  EXPECT_EQ(two.message,
            "2 validation errors detected: Value 'v' at 'm' failed to satisfy constraint: A; Value 'v' at 'm' failed "
            "to satisfy constraint: B");
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
