// config: loading functions from an AWS SAM / CloudFormation template.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "lambdad/config/diagnostic.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/config/http_apis.hpp"

namespace lambdad::config {

struct TemplateOptions {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  std::string stack_name = "lambdad";
  std::map<std::string, std::string> parameter_overrides;  // Parameters values by name
};

struct TemplateLoad {
  std::vector<FunctionConfig> functions;  // in template order
  HttpApis http;                          // the HTTP fronts routing to those functions (decision 020)
  Diagnostics warnings;                   // unresolvable values, ignored properties
  Diagnostics errors;                     // every problem at once; non-empty = template invalid
};

// Never throws for problems in the file: they are reported in errors (a missing or unreadable
// file, YAML syntax errors, invalid properties).
TemplateLoad load_sam_template(const std::filesystem::path& file, const TemplateOptions& options);
// Same, from text; `file` only names the source in diagnostics and anchors relative CodeUri paths.
TemplateLoad load_sam_template_text(const std::string& text, const std::filesystem::path& file,
                                    const TemplateOptions& options);

}  // namespace lambdad::config
