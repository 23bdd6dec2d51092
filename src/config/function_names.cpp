// config: the one rule that turns a requested name into a function (function_names.hpp).
#include "lambdad/config/function_names.hpp"

#include <fmt/format.h>

#include <cctype>
#include <map>

namespace lambdad::config {

std::string_view name_of(const FunctionConfig& fn, NameKind kind) {
  switch (kind) {
    case NameKind::kDeployed: return fn.name;
    case NameKind::kLogicalId: return fn.logical_id;
    case NameKind::kShortName: return fn.short_name;
  }
  return {};
}

std::string_view describe_kind(NameKind kind) {
  switch (kind) {
    case NameKind::kDeployed: return "deployed name";
    case NameKind::kLogicalId: return "logical id";
    case NameKind::kShortName: return "short name";
  }
  return {};
}

const FunctionConfig* find_function(const std::vector<const FunctionConfig*>& functions, std::string_view requested) {
  if (requested.empty()) return nullptr;
  for (NameKind kind : kNameKinds) {
    for (const FunctionConfig* fn : functions) {
      if (name_of(*fn, kind) == requested) return fn;
    }
  }
  return nullptr;
}

const FunctionConfig* find_function(const std::vector<FunctionConfig>& functions, std::string_view requested) {
  std::vector<const FunctionConfig*> all;
  all.reserve(functions.size());
  for (const auto& fn : functions) all.push_back(&fn);
  return find_function(all, requested);
}

NameCheck check_function_names(const std::vector<FunctionConfig>& functions) {
  NameCheck out;
  // Each name's first holder (kind, function), in the order the rule tries them.
  std::map<std::string, std::pair<NameKind, const FunctionConfig*>> holder;
  for (NameKind kind : kNameKinds) {
    for (const auto& fn : functions) {
      const std::string name(name_of(fn, kind));
      if (name.empty()) continue;
      auto [it, inserted] = holder.emplace(name, std::pair{kind, &fn});
      if (inserted) continue;
      const auto& [first_kind, first] = it->second;
      if (first == &fn) continue;  // a function's own names may coincide (no FunctionName: name = logical id)
      if (first_kind == kind) {
        out.errors.push_back(fmt::format("the {} {} is ambiguous: both {} and {} have it", describe_kind(kind), name,
                                         first->logical_id, fn.logical_id));
      } else {
        out.warnings.push_back(fmt::format("{} is the {} of {} and the {} of {}: it names {} ({}s are tried first)",
                                           name, describe_kind(first_kind), first->logical_id, describe_kind(kind),
                                           fn.logical_id, first->logical_id, describe_kind(first_kind)));
      }
    }
  }
  return out;
}

std::string describe_names(const FunctionConfig& fn) {
  std::vector<std::string> others;
  if (fn.name != fn.logical_id) others.push_back(fn.name);
  if (!fn.short_name.empty() && fn.short_name != fn.logical_id) others.push_back("short: " + fn.short_name);
  if (others.empty()) return fn.logical_id;
  return fmt::format("{} ({})", fn.logical_id, fmt::join(others, ", "));
}

std::string serverless_logical_id(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '-') out += "Dash";
    else if (c == '_') out += "Underscore";
    else out += c;
  }
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out + "LambdaFunction";
}

}  // namespace lambdad::config
