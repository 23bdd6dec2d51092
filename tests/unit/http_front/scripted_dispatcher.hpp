// A Dispatcher for the fronts' unit tests: it knows the functions it is given (with none, every
// name but "Missing"), each at $LATEST; it records what is dispatched and admits it as `admission`
// says; a test answers an invocation with complete().
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::http_front {

class ScriptedDispatcher final : public invocation::Dispatcher {
 public:
  explicit ScriptedDispatcher(std::set<std::string> known = {}) : functions(std::move(known)) {}

  std::set<std::string> functions;
  invocation::Admission admission = invocation::Admission::kAccepted;
  std::vector<invocation::InvocationPtr> dispatched;

  bool has_function(const std::string& name) const override {
    return functions.empty() ? name != "Missing" : functions.count(name) != 0;
  }
  std::optional<std::string> resolve(const std::string& name, const std::string&) const override {
    if (!has_function(name)) return std::nullopt;
    return std::string("$LATEST");
  }
  invocation::Admission dispatch(invocation::InvocationPtr inv) override {
    dispatched.push_back(std::move(inv));
    return admission;
  }
  std::optional<std::size_t> evict(const std::string&) override { return std::nullopt; }
  void status(nlohmann::json&) const override {}

  nlohmann::json event(std::size_t i) const { return nlohmann::json::parse(dispatched.at(i)->payload); }
  nlohmann::json last_event() const { return event(dispatched.size() - 1); }
  // Answers invocation `i`; a function error without a type is "Runtime.ExitError".
  void complete(std::size_t i, std::string payload, invocation::Outcome outcome = invocation::Outcome::kSuccess,
                std::string error_type = {}) {
    invocation::InvocationResult r;
    r.outcome = outcome;
    r.payload = std::move(payload);
    if (error_type.empty() && outcome == invocation::Outcome::kFunctionError) error_type = "Runtime.ExitError";
    r.error_type = std::move(error_type);
    dispatched.at(i)->on_complete(std::move(r));
  }
  // Answers the last invocation.
  void complete(std::string payload, invocation::Outcome outcome = invocation::Outcome::kSuccess,
                std::string error_type = {}) {
    complete(dispatched.size() - 1, std::move(payload), outcome, std::move(error_type));
  }
};

}  // namespace lambdad::http_front
