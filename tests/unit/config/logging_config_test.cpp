// LoggingConfig of SAM and Lambda function resources: what loads (GetFunctionConfiguration shows
// it), and the combinations Lambda refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lambdad/config/sam_template.hpp"
#include "template_test_support.hpp"

namespace lambdad::config {
namespace {

using test::describe;
using test::find_diagnostic;
using test::find_function;
using test::load_text;
using test::one_function;
using ::testing::HasSubstr;

TEST(LoggingConfig, AbsentIsText) {
  const auto load = load_text(one_function(""));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(find_function(load, "HelloFunction")->logging, LoggingConfig{});
  EXPECT_EQ(LoggingConfig{}.log_format, "Text");
}

TEST(LoggingConfig, ReadsFormatLevelsAndLogGroup) {
  const auto load = load_text(one_function(
      "      LoggingConfig:\n"
      "        LogFormat: JSON\n"
      "        ApplicationLogLevel: DEBUG\n"
      "        SystemLogLevel: WARN\n"
      "        LogGroup: /custom/hello\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  const auto& l = find_function(load, "HelloFunction")->logging;
  EXPECT_EQ(l, (LoggingConfig{"JSON", "DEBUG", "WARN", "/custom/hello"}));
}

TEST(LoggingConfig, ComesFromGlobalsToo) {
  const auto load = load_text(one_function("      LoggingConfig:\n        ApplicationLogLevel: ERROR\n",
                                           "Globals:\n"
                                           "  Function:\n"
                                           "    LoggingConfig:\n"
                                           "      LogFormat: JSON\n"));
  ASSERT_TRUE(load.errors.empty()) << describe(load);
  EXPECT_EQ(find_function(load, "HelloFunction")->logging, (LoggingConfig{"JSON", "ERROR", "", ""}));
}

TEST(LoggingConfig, RefusesUnknownValuesAndLevelsWithText) {
  const auto bad_format = load_text(one_function("      LoggingConfig:\n        LogFormat: XML\n"));
  const auto* d = find_diagnostic(bad_format.errors, "HelloFunction", "Properties.LoggingConfig.LogFormat");
  ASSERT_NE(d, nullptr) << describe(bad_format);
  EXPECT_THAT(d->message, HasSubstr("Text, JSON"));

  const auto bad_level = load_text(
      one_function("      LoggingConfig:\n        LogFormat: JSON\n        SystemLogLevel: TRACE\n"));
  EXPECT_NE(find_diagnostic(bad_level.errors, "HelloFunction", "Properties.LoggingConfig.SystemLogLevel"), nullptr)
      << describe(bad_level);

  const auto text_level = load_text(one_function("      LoggingConfig:\n        ApplicationLogLevel: INFO\n"));
  d = find_diagnostic(text_level.errors, "HelloFunction", "Properties.LoggingConfig");
  ASSERT_NE(d, nullptr) << describe(text_level);
  EXPECT_THAT(d->message, HasSubstr("LogLevel is not supported when LogFormat is set to \"Text\""));
}

}  // namespace
}  // namespace lambdad::config
