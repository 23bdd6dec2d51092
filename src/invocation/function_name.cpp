#include "lambdad/invocation/function_name.hpp"

#include <cctype>
#include <vector>

namespace lambdad::invocation {
namespace {

bool name_chars(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

bool qualifier_in_name(std::string_view s) {
  if (s == "$LATEST" || s == "$LATEST.PUBLISHED") return true;
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

bool all_digits(std::string_view s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// [a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}
bool region_like(std::string_view s) {
  auto lower = [](std::string_view t) {
    if (t.empty()) return false;
    for (char c : t) {
      if (c < 'a' || c > 'z') return false;
    }
    return true;
  };
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto dash = s.find('-', start);
    parts.push_back(s.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (parts.size() < 3 || parts.size() > 4) return false;
  if (parts[0].size() != 2 || !lower(parts[0])) return false;
  if (!all_digits(parts.back(), 1)) return false;
  if (parts.size() == 4) {
    bool gov_or_iso = parts[1] == "gov" || (parts[1].rfind("iso", 0) == 0 && parts[1].size() <= 4 && lower(parts[1]));
    if (!gov_or_iso || !lower(parts[2])) return false;
  } else if (!lower(parts[1])) {
    return false;
  }
  return true;
}

std::vector<std::string_view> split_colons(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto colon = s.find(':', start);
    if (colon == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, colon - start));
    start = colon + 1;
  }
}

}  // namespace

std::optional<FunctionName> parse_function_name(std::string_view value) {
  if (value.empty() || value.size() > 256) return std::nullopt;
  auto parts = split_colons(value);
  FunctionName out;
  std::size_t i = 0;
  if (parts.size() >= 3 && parts[0] == "arn") {
    // arn:<partition>:lambda:[region:][account:][function:]name[:qualifier]
    if (!(parts[1].empty() || parts[1].rfind("aws", 0) == 0) || parts[2] != "lambda") return std::nullopt;
    i = 3;
  }
  if (i < parts.size() && region_like(parts[i]) && i + 1 < parts.size()) {
    if (i == 0) return std::nullopt;  // a region needs the arn: prefix in the model's pattern
    out.region = std::string(parts[i++]);
  }
  if (i < parts.size() && all_digits(parts[i], 12) && i + 1 < parts.size()) out.account = std::string(parts[i++]);
  if (i < parts.size() && parts[i] == "function" && i + 1 < parts.size()) ++i;
  out.arn = i > 0;  // something stood before the name
  if (i >= parts.size() || !name_chars(parts[i])) return std::nullopt;
  out.name = std::string(parts[i++]);
  if (i < parts.size()) {
    if (!qualifier_in_name(parts[i])) return std::nullopt;
    out.qualifier = std::string(parts[i++]);
  }
  if (i != parts.size()) return std::nullopt;
  return out;
}

}  // namespace lambdad::invocation
