// Test support: a dispatcher's /_lambdad/status document, and one function's entry of one.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::test {

// The document `dispatcher` reports (the Invoke API adds the Event queue's members to it).
inline nlohmann::json dispatcher_status(const invocation::Dispatcher& dispatcher) {
  auto out = nlohmann::json::object();
  dispatcher.status(out);
  return out;
}

// The entry of `functions` named `name`, or null when there is none.
inline nlohmann::json function_status(const nlohmann::json& all, const std::string& name) {
  for (const auto& f : all.value("functions", nlohmann::json::array())) {
    if (f.value("name", "") == name) return f;
  }
  return {};
}

}  // namespace lambdad::test
