#include "lambdad/config/diagnostic.hpp"

#include <gtest/gtest.h>

namespace lambdad::config {
namespace {

Diagnostic make(std::string file, int line, std::string resource, std::string property, std::string message) {
  return Diagnostic{Diagnostic::Severity::kError, std::move(file), line, std::move(resource), std::move(property),
                    std::move(message)};
}

TEST(Diagnostic, RendersEveryPartLikeACompiler) {
  EXPECT_EQ(make("template.yaml", 12, "HelloFunction", "Properties.MemorySize", "must be an integer").to_string(),
            "template.yaml:12: HelloFunction.Properties.MemorySize: must be an integer");
}

TEST(Diagnostic, OmitsEmptyParts) {
  EXPECT_EQ(make("template.yaml", 0, "", "", "no functions").to_string(), "template.yaml: no functions");
  EXPECT_EQ(make("template.yaml", 3, "", "", "syntax").to_string(), "template.yaml:3: syntax");
  EXPECT_EQ(make("template.yaml", 3, "Fn", "", "bad").to_string(), "template.yaml:3: Fn: bad");
  EXPECT_EQ(make("template.yaml", 3, "", "Stage", "bad").to_string(), "template.yaml:3: Stage: bad");
  EXPECT_EQ(make("", 7, "Fn", "Properties.Timeout", "bad").to_string(), "line 7: Fn.Properties.Timeout: bad");
  EXPECT_EQ(make("", 0, "", "", "bad").to_string(), "bad");
}

}  // namespace
}  // namespace lambdad::config
