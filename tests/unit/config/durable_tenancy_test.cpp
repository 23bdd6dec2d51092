// DurableConfig (docs/decisions/026) and TenancyConfig (docs/decisions/027) in SAM templates:
// read, defaulted, and refused where Lambda refuses them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/config/sam_template.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::load_text;
using test::one_function;
using ::testing::HasSubstr;

TEST(DurableConfig, ReadWithItsRetentionDefault) {
  auto load = load_text(one_function(""));
  ASSERT_EQ(load.functions.size(), 1U) << describe(load);
  EXPECT_FALSE(load.functions[0].durable);
  load = load_text(one_function("      DurableConfig:\n        ExecutionTimeout: 3600\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  ASSERT_TRUE(load.functions[0].durable);
  EXPECT_EQ(load.functions[0].durable->execution_timeout_s, 3600);
  EXPECT_EQ(load.functions[0].durable->retention_days, 14);
  load = load_text(one_function("      DurableConfig:\n        ExecutionTimeout: 60\n        RetentionPeriodInDays: 3\n"));
  ASSERT_TRUE(load.functions[0].durable);
  EXPECT_EQ(load.functions[0].durable->retention_days, 3);
}

TEST(DurableConfig, OutOfRangeOrWithoutItsTimeoutIsATemplateError) {
  auto load = load_text(one_function("      DurableConfig:\n        RetentionPeriodInDays: 3\n"));
  auto* d = find_diagnostic(load.errors, "HelloFunction", "Properties.DurableConfig.ExecutionTimeout");
  ASSERT_NE(d, nullptr) << describe(load);
  EXPECT_THAT(d->message, HasSubstr("is required"));
  load = load_text(one_function("      DurableConfig:\n        ExecutionTimeout: 31622401\n"));
  ASSERT_NE(find_diagnostic(load.errors, "HelloFunction", "Properties.DurableConfig.ExecutionTimeout"), nullptr)
      << describe(load);
  load = load_text(one_function("      DurableConfig:\n        ExecutionTimeout: 60\n        RetentionPeriodInDays: 91\n"));
  ASSERT_NE(find_diagnostic(load.errors, "HelloFunction", "Properties.DurableConfig.RetentionPeriodInDays"), nullptr)
      << describe(load);
}

TEST(TenancyConfig, PerTenantIsItsOnlyMode) {
  auto load = load_text(one_function("      TenancyConfig:\n        TenantIsolationMode: PER_TENANT\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_TRUE(load.functions[0].tenant_isolation);
  load = load_text(one_function("      TenancyConfig:\n        TenantIsolationMode: SHARED\n"));
  auto* d = find_diagnostic(load.errors, "HelloFunction", "Properties.TenancyConfig.TenantIsolationMode");
  ASSERT_NE(d, nullptr) << describe(load);
  EXPECT_THAT(d->message, HasSubstr("must be PER_TENANT (got SHARED)"));
}

TEST(TenancyConfig, NotWithAFunctionUrl) {
  auto load = load_text(one_function("      TenancyConfig:\n        TenantIsolationMode: PER_TENANT\n"
                                     "      FunctionUrlConfig:\n        AuthType: NONE\n"));
  auto* d = find_diagnostic(load.errors, "HelloFunction", "Properties.TenancyConfig");
  ASSERT_NE(d, nullptr) << describe(load);
  EXPECT_THAT(d->message, HasSubstr("cannot have a Function URL"));
}

}  // namespace
}  // namespace lambdad::config
