// config (internal): SAM's Globals merge, shared by functions (Globals.Function) and APIs
// (Globals.Api, Globals.HttpApi).
#pragma once

#include <algorithm>
#include <utility>

#include "template_value.hpp"

namespace lambdad::config {

// SAM's Globals merge: maps merge key by key (the resource's keys win), lists concatenate
// (Globals first), and anything else, intrinsic functions included, is taken from the resource.
inline TemplateValue merge_globals(const TemplateValue& global, TemplateValue local) {
  using Kind = TemplateValue::Kind;
  auto token = [](const TemplateValue& v) {
    if (v.intrinsic) return Kind::kString;
    return v.is(Kind::kMap) || v.is(Kind::kList) ? v.kind : Kind::kString;
  };
  if (token(global) != token(local) || token(local) == Kind::kString) return local;
  if (local.is(Kind::kList)) {
    TemplateValue merged = global;
    merged.from_globals = false;
    merged.line = local.line;
    for (auto& item : local.items) merged.items.push_back(std::move(item));
    return merged;
  }
  TemplateValue merged = global;
  merged.from_globals = false;
  merged.line = local.line;
  for (auto& entry : local.entries) {
    auto it = std::find_if(merged.entries.begin(), merged.entries.end(),
                           [&](const TemplateEntry& e) { return e.key == entry.key; });
    if (it == merged.entries.end()) {
      merged.entries.push_back(std::move(entry));
    } else {
      it->value = merge_globals(it->value, std::move(entry.value));
    }
  }
  return merged;
}

}  // namespace lambdad::config
