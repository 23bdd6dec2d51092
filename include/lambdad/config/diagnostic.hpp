// config: a problem found in a configuration file, named by file, line and property.
#pragma once

#include <string>
#include <vector>

namespace lambdad::config {

struct Diagnostic {
  enum class Severity { kWarning, kError };
  Severity severity = Severity::kError;
  std::string file;
  int line = 0;           // 1-based; 0 when unknown
  std::string resource;   // logical id, or "" for template-level problems
  std::string property;   // dotted path, e.g. "Properties.MemorySize"
  std::string message;

  // "template.yaml:12: HelloFunction.Properties.MemorySize: must be an integer between 128 and 10240"
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace lambdad::config
