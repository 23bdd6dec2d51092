// Test helpers for the config module: fixture paths and readable diagnostics in failures.
#pragma once

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>

#include "lambdad/config/function_names.hpp"
#include "lambdad/config/sam_template.hpp"

namespace lambdad::config::test {

inline std::filesystem::path templates_dir() {
  return std::filesystem::path(LAMBDAD_SOURCE_DIR) / "tests" / "unit" / "config" / "templates";
}

inline std::filesystem::path code_dir(const std::string& name) {
  return std::filesystem::weakly_canonical(templates_dir() / "code" / name);
}

// Inline templates live "in" the fixture directory so CodeUri: code/hello resolves.
// A SAM template with the functions Hello (named hello-fn) and Auth, then `resources` (indented
// 2); Hello gets `hello_extra` (properties, indented 6) and `events` (indented 8 under Events:).
inline std::string hello_and_auth(const std::string& events, const std::string& resources = "",
                                  const std::string& hello_extra = "") {
  return "Transform: AWS::Serverless-2016-10-31\n"
         "Resources:\n"
         "  Hello:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties:\n"
         "      FunctionName: hello-fn\n"
         "      Runtime: python3.12\n"
         "      Handler: app.lambda_handler\n"
         "      CodeUri: code/hello\n" +
         hello_extra + (events.empty() ? "" : "      Events:\n" + events) +
         "  Auth:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties: {Runtime: python3.12, Handler: app.auth, CodeUri: code/hello}\n" +
         resources;
}

inline TemplateLoad load_text(const std::string& yaml, const TemplateOptions& options = {}) {
  return load_sam_template_text(yaml, templates_dir() / "inline.yaml", options);
}

inline TemplateLoad load_file(const std::string& name, const TemplateOptions& options = {}) {
  return load_sam_template(templates_dir() / name, options);
}

inline std::string describe(const Diagnostics& list) {
  std::string out;
  for (const auto& d : list) out += "  " + d.to_string() + "\n";
  return out.empty() ? "  (none)\n" : out;
}

inline std::string describe(const TemplateLoad& load) {
  return "errors:\n" + describe(load.errors) + "warnings:\n" + describe(load.warnings);
}

// The function `name` reaches (its deployed name, logical id or serverless.yml short name).
inline const FunctionConfig* find_function(const TemplateLoad& load, const std::string& name) {
  return config::find_function(load.functions, name);
}

// The diagnostic about `property` of `resource` (property is the dotted path after the resource).
inline const Diagnostic* find_diagnostic(const Diagnostics& list, const std::string& resource,
                                         const std::string& property) {
  auto it = std::find_if(list.begin(), list.end(), [&](const Diagnostic& d) {
    return d.resource == resource && d.property == property;
  });
  return it == list.end() ? nullptr : &*it;
}

// A minimal valid function around the given extra property lines (indented 6 spaces).
inline std::string one_function(const std::string& extra_properties, const std::string& prelude = "") {
  return prelude +
         "Transform: AWS::Serverless-2016-10-31\n"
         "Resources:\n"
         "  HelloFunction:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties:\n"
         "      Runtime: python3.12\n"
         "      Handler: app.lambda_handler\n"
         "      CodeUri: code/hello\n" +
         extra_properties;
}

}  // namespace lambdad::config::test
