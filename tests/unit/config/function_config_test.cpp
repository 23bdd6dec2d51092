#include "lambdad/config/function_config.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lambdad::config {
namespace {

TEST(RuntimeFamily, KnownRuntimes) {
  for (int minor = 8; minor <= 14; ++minor) {
    EXPECT_EQ(runtime_family("python3." + std::to_string(minor)), RuntimeFamily::kPython) << minor;
  }
  for (const char* node : {"nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"}) {
    EXPECT_EQ(runtime_family(node), RuntimeFamily::kNode) << node;
  }
  for (const char* provided : {"provided", "provided.al2", "provided.al2023"}) {
    EXPECT_EQ(runtime_family(provided), RuntimeFamily::kProvided) << provided;
  }
}

TEST(RuntimeFamily, EverythingElseIsUnsupported) {
  for (const char* other :
       {"", "python", "python3", "python3.", "python3.7", "python3.15", "python3.08", "python3.12.1", "python2.7",
        "Python3.12", "python3.x", "nodejs", "nodejs.x", "nodejs20", "nodejs19.x", "nodejs14.x", "nodejs26.x",
        "nodejs020.x", "nodejs-20.x", "java21", "dotnet8", "ruby3.3", "go1.x", "provided.al2024", "provided.al",
        "provided "}) {
    EXPECT_EQ(runtime_family(other), RuntimeFamily::kUnsupported) << '"' << other << '"';
  }
}

TEST(FunctionName, LambdaPattern) {
  EXPECT_TRUE(is_valid_function_name("a"));
  EXPECT_TRUE(is_valid_function_name("Hello-World_42"));
  EXPECT_TRUE(is_valid_function_name(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_function_name(""));
  EXPECT_FALSE(is_valid_function_name(std::string(65, 'x')));
  EXPECT_FALSE(is_valid_function_name("has space"));
  EXPECT_FALSE(is_valid_function_name("a.b"));
  EXPECT_FALSE(is_valid_function_name("arn:aws:lambda:us-east-1:123456789012:function:f"));
}

}  // namespace
}  // namespace lambdad::config
