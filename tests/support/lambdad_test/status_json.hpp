// Test support: one function's entry of a /_lambdad/status document.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace lambdad::test {

// The entry of `functions` named `name`, or null when there is none.
inline nlohmann::json function_status(const nlohmann::json& all, const std::string& name) {
  for (const auto& f : all.value("functions", nlohmann::json::array())) {
    if (f.value("name", "") == name) return f;
  }
  return {};
}

}  // namespace lambdad::test
