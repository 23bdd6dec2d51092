// config (private): the fixed lists of names the loaders check keys against (top-level sections,
// properties a format takes or ignores, tags).
#pragma once

#include <algorithm>
#include <span>
#include <string_view>

namespace lambdad::config {

inline bool contains(std::span<const std::string_view> list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace lambdad::config
