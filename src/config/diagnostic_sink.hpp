// config (internal): collects the diagnostics of one template load, all attributed to one file.
#pragma once

#include <algorithm>
#include <string>
#include <utility>

#include "lambdad/config/diagnostic.hpp"

namespace lambdad::config {

class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}

  void error(int line, std::string resource, std::string property, std::string message) {
    add(errors_, Diagnostic::Severity::kError, line, std::move(resource), std::move(property), std::move(message));
  }
  void warning(int line, std::string resource, std::string property, std::string message) {
    add(warnings_, Diagnostic::Severity::kWarning, line, std::move(resource), std::move(property),
        std::move(message));
  }

  std::size_t error_count() const { return errors_.size(); }
  Diagnostics take_errors() { return std::move(errors_); }
  Diagnostics take_warnings() { return std::move(warnings_); }

 private:
  void add(Diagnostics& list, Diagnostic::Severity severity, int line, std::string resource, std::string property,
           std::string message) {
    Diagnostic d{severity, file_, line, std::move(resource), std::move(property), std::move(message)};
    // A Globals value is checked once per function that inherits it; report it once.
    const bool seen = std::any_of(list.begin(), list.end(), [&](const Diagnostic& o) {
      return o.line == d.line && o.resource == d.resource && o.property == d.property && o.message == d.message;
    });
    if (!seen) list.push_back(std::move(d));
  }

  std::string file_;
  Diagnostics errors_;
  Diagnostics warnings_;
};

}  // namespace lambdad::config
