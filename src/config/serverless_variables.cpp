// config (internal): the Serverless Framework's variables, resolved locally.
#include "serverless_variables.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <sstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace lambdad::config {
namespace {

constexpr std::string_view kDefaultStage = "dev";
// Frames of variable resolution (nesting plus references to references); keeps the stack bounded.
constexpr int kMaxResolveDepth = 256;

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }


// Whole numbers in [-2^53, 2^53]: what a JavaScript number holds exactly.
std::optional<std::string> integer_text(std::string_view digits, int base, bool negative) {
  constexpr long long kMaxExact = 9007199254740992LL;
  long long value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
  if (digits.empty() || ec != std::errc{} || ptr != end || value > kMaxExact) return std::nullopt;
  if (value == 0) return "0";
  // Written with to_chars: GCC 12 at -O3 reports a false -Wrestrict for "-" + std::string.
  char text[24];
  text[0] = '-';
  const auto written = std::to_chars(text + 1, text + sizeof text, value).ptr;
  return std::string(negative ? text : text + 1, written);
}

std::string display(const YamlPath& path) {
  std::string out;
  for (const auto& part : path) {
    if (!out.empty()) out += '.';
    out += part;
  }
  return out;
}

// Where a diagnostic about `path` is attributed: functions.KEY.rest -> (KEY, rest).
std::pair<std::string, std::string> locate(const YamlPath& path) {
  if (path.size() >= 2 && path[0] == "functions") {
    return {path[1], display(YamlPath(path.begin() + 2, path.end()))};
  }
  return {"", display(path)};
}

struct Span {
  std::size_t begin = 0;  // at '$'
  std::size_t end = 0;    // one past the matching '}'
};

// The top-level ${...} spans of `text`; an unclosed one ends the scan (the rest is literal).
std::vector<Span> find_spans(std::string_view text) {
  std::vector<Span> spans;
  std::size_t pos = 0;
  while ((pos = text.find("${", pos)) != std::string_view::npos) {
    int depth = 0;
    std::size_t end = std::string_view::npos;
    for (std::size_t i = pos + 1; i < text.size(); ++i) {
      if (text[i] == '{') {
        ++depth;
      } else if (text[i] == '}' && --depth == 0) {
        end = i + 1;
        break;
      }
    }
    if (end == std::string_view::npos) break;
    spans.push_back(Span{pos, end});
    pos = end;
  }
  return spans;
}

std::string_view span_body(std::string_view text, const Span& span) {
  return text.substr(span.begin + 2, span.end - span.begin - 3);
}

// The Framework's test for a variable: `source:` (not `::`, so CloudFormation's ${AWS::Region}
// in Fn::Sub stays literal) or `source(`. Anything else in ${} is left alone.
bool is_variable(std::string_view body) {
  body = trim(body);
  std::size_t i = 0;
  while (i < body.size() && (is_letter(body[i]) || is_digit(body[i]) || body[i] == '_' || body[i] == '-')) ++i;
  if (i == 0 || i == body.size()) return false;
  if (body[i] == '(') return true;
  return body[i] == ':' && (i + 1 == body.size() || body[i + 1] != ':');
}

// "a, ${b, 'c,d'}, 'e'" -> ["a", " ${b, 'c,d'}", " 'e'"]: commas inside quotes or ${} do not split.
std::vector<std::string_view> split_arguments(std::string_view body) {
  std::vector<std::string_view> parts;
  int depth = 0;
  char quote = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(body.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(body.substr(start));
  return parts;
}

bool is_number_literal(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  const auto dot = s.find('.');
  const auto whole = s.substr(0, dot);
  const auto fraction = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  return !whole.empty() && std::all_of(whole.begin(), whole.end(), is_digit) &&
         (dot == std::string_view::npos || (!fraction.empty() && std::all_of(fraction.begin(), fraction.end(), is_digit)));
}

}  // namespace

std::string_view kind_name(const YamlValue& v) {
  if (!v.tag.empty()) return "a CloudFormation intrinsic function";
  switch (v.kind) {
    case YamlValue::Kind::kList:
      return "a list";
    case YamlValue::Kind::kMap:
      return "a mapping";
    case YamlValue::Kind::kNull:
      return "null";
    case YamlValue::Kind::kScalar:
      break;
  }
  return "a string";
}

bool is_intrinsic(const YamlValue& v) {
  if (!v.tag.empty()) return true;
  if (!v.is(YamlValue::Kind::kMap) || v.entries.size() != 1) return false;
  const std::string& key = v.entries.front().key;
  return key == "Ref" || key == "Condition" || key.starts_with("Fn::");
}

std::string describe_intrinsic(const YamlValue& v) {
  if (!v.tag.empty()) return v.is(YamlValue::Kind::kScalar) ? v.tag + " " + v.text : v.tag;
  return v.entries.front().key;
}

// The text of a scalar as the Framework hands it on: js-yaml reads unquoted numbers and booleans
// (YAML 1.2 core schema) and JavaScript's String() prints them, so `1.50` becomes "1.5", `0x1F`
// "31" and `True` "true". Quoted scalars are kept as written.
std::string js_text(const YamlValue& v) {
  if (!v.is(YamlValue::Kind::kScalar) || v.quoted || !v.tag.empty()) return v.text;
  const std::string& t = v.text;
  if (t == "true" || t == "True" || t == "TRUE") return "true";
  if (t == "false" || t == "False" || t == "FALSE") return "false";
  std::string_view s = t;
  const bool negative = !s.empty() && s.front() == '-';
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  if (s.starts_with("0x") || s.starts_with("0o")) {
    if (t.front() == '-' || t.front() == '+') return t;  // not a YAML 1.2 number
    return integer_text(s.substr(2), s[1] == 'x' ? 16 : 8, false).value_or(t);
  }
  if (!s.empty() && std::all_of(s.begin(), s.end(), is_digit)) {
    const auto first = s.find_first_not_of('0');
    if (first == std::string_view::npos) return "0";
    if (s.size() - first > 15) return t;  // beyond exact doubles: keep the digits as written
    return integer_text(s.substr(first), 10, negative).value_or(t);
  }
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  std::size_t i = 0;
  std::size_t mantissa_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return t;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t exponent_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == exponent_start) return t;
  }
  if (i != s.size()) return t;
  double value = 0;
  const std::string unsigned_text(s);
  auto [ptr, ec] = std::from_chars(unsigned_text.data(), unsigned_text.data() + unsigned_text.size(), value);
  if (ec != std::errc{} || ptr != unsigned_text.data() + unsigned_text.size()) return t;
  // JavaScript prints fixed notation in [1e-6, 1e21); outside it keep the text as written.
  if (value != 0.0 && (value < 1e-6 || value >= 1e21)) return t;
  // The sign goes in the buffer: GCC 12 at -O3 reports a false -Wrestrict for a string insert.
  std::array<char, 65> buffer{};
  buffer[0] = '-';
  auto [out, out_ec] = std::to_chars(buffer.data() + 1, buffer.data() + buffer.size(), value, std::chars_format::fixed);
  if (out_ec != std::errc{}) return t;
  return std::string(negative && value != 0.0 ? buffer.data() : buffer.data() + 1, out);
}

YamlValue unresolved_empty(int line) {
  YamlValue v = YamlValue::scalar("", true, line);
  v.unresolved = true;
  return v;
}

void VariableResolver::error(int line, const YamlPath& where, std::string message) {
  auto [resource, property] = locate(where);
  sink_.error(line, std::move(resource), std::move(property), std::move(message));
}

void VariableResolver::warning(int line, const YamlPath& where, std::string message) {
  auto [resource, property] = locate(where);
  sink_.warning(line, std::move(resource), std::move(property), std::move(message));
}

bool VariableResolver::charge(std::size_t nodes, int line) {
  if (exhausted_) return false;
  if (nodes <= budget_) {
    budget_ -= nodes;
    return true;
  }
  exhausted_ = true;
  sink_.error(line, "", "", "the file is too large once its variables are expanded");
  return false;
}

std::optional<YamlValue> VariableResolver::get(const YamlPath& path) {
  Lookup result = lookup_path(path, 0);
  switch (result.status) {
    case Lookup::Status::kFound:
      return std::move(result.value);
    case Lookup::Status::kFailed:
      return unresolved_empty(0);
    case Lookup::Status::kMissing:
    case Lookup::Status::kUnsupported:
      break;
  }
  return std::nullopt;
}

const YamlValue* child_of(const YamlValue& v, const std::string& key) {
  if (v.is(YamlValue::Kind::kMap)) return v.find(key);
  if (!v.is(YamlValue::Kind::kList) || key.empty() || !std::all_of(key.begin(), key.end(), is_digit)) return nullptr;
  std::size_t index = 0;
  auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
  if (ec != std::errc{} || ptr != key.data() + key.size() || index >= v.items.size()) return nullptr;
  return &v.items[index];
}

VariableResolver::Lookup VariableResolver::lookup_path(const YamlPath& path, int depth) {
  const YamlValue* node = &root_;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (node->is(YamlValue::Kind::kScalar) && node->text.find("${") != std::string::npos) {
      // A variable stands for the mapping the path walks through (custom: ${self:other}): resolve
      // it, then walk the rest in what it gave.
      const YamlPath prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(i));
      auto resolved = resolve_at(prefix, *node, depth + 1, true);
      if (!resolved) return Lookup::failed();
      const YamlValue* current = &*resolved;
      for (std::size_t j = i; j < path.size() && current != nullptr; ++j) current = child_of(*current, path[j]);
      if (current == nullptr) return Lookup::missing(fmt::format("{} has no value", display(path)));
      if (!charge(count_nodes(*current), current->line)) return Lookup::failed();
      return Lookup::found(*current);
    }
    node = child_of(*node, path[i]);
    if (node == nullptr) return Lookup::missing(fmt::format("{} has no value", display(path)));
  }
  auto resolved = resolve_at(path, *node, depth + 1, true);
  if (!resolved) return Lookup::failed();
  return Lookup::found(std::move(*resolved));
}

std::optional<YamlValue> VariableResolver::resolve_at(const YamlPath& path, const YamlValue& raw, int depth, bool remember) {
  if (exhausted_) return std::nullopt;
  const std::string key = display(path);
  if (auto it = memo_.find(key); it != memo_.end()) {
    if (!charge(count_nodes(it->second), raw.line)) return std::nullopt;
    return it->second;
  }
  if (depth > kMaxResolveDepth) {
    error(raw.line, path, "variables refer to variables too deeply");
    return std::nullopt;
  }
  if (auto it = std::find(stack_.begin(), stack_.end(), key); it != stack_.end()) {
    std::string chain;
    for (; it != stack_.end(); ++it) chain += (it->empty() ? "(the whole file)" : *it) + " -> ";
    error(raw.line, path,
          fmt::format("variables refer to themselves in a cycle: {}{}", chain, path.empty() ? "(the whole file)" : key));
    return std::nullopt;
  }
  if (!charge(1, raw.line)) return std::nullopt;
  stack_.push_back(key);

  YamlValue out;
  if (raw.is(YamlValue::Kind::kScalar) && raw.text.find("${") != std::string::npos) {
    out = resolve_string(raw.text, raw.line, path, depth + 1);
  } else {
    out.kind = raw.kind;
    out.text = raw.text;
    out.quoted = raw.quoted;
    out.tag = raw.tag;
    out.line = raw.line;
    YamlPath child = path;
    child.emplace_back();
    for (std::size_t i = 0; i < raw.items.size(); ++i) {
      child.back() = std::to_string(i);
      auto item = resolve_at(child, raw.items[i], depth + 1, false);
      out.items.push_back(item ? std::move(*item) : unresolved_empty(raw.items[i].line));
    }
    for (const auto& entry : raw.entries) {
      child.back() = entry.key;
      auto value = resolve_at(child, entry.value, depth + 1, false);
      out.entries.push_back(YamlEntry{entry.key, entry.key_line, {}, value ? std::move(*value) : unresolved_empty(entry.value.line)});
    }
  }
  stack_.pop_back();
  if (exhausted_) return std::nullopt;
  if (remember) memo_[key] = out;
  return out;
}

YamlValue VariableResolver::resolve_string(const std::string& text, int line, const YamlPath& where, int depth) {
  const std::vector<Span> spans = find_spans(text);
  if (spans.size() == 1 && spans[0].begin == 0 && spans[0].end == text.size() &&
      is_variable(span_body(text, spans[0]))) {
    // A whole-value variable keeps the type of what it refers to (a number, a mapping, ...).
    YamlValue v = evaluate(span_body(text, spans[0]), line, where, depth);
    v.line = line;
    return v;
  }
  std::string out;
  bool unresolved = false;
  std::size_t pos = 0;
  for (const Span& span : spans) {
    out.append(text, pos, span.begin - pos);
    pos = span.end;
    const std::string_view body = span_body(text, span);
    if (!is_variable(body)) {
      out.append(text, span.begin, span.end - span.begin);
      continue;
    }
    const YamlValue v = evaluate(body, line, where, depth);
    unresolved = unresolved || v.unresolved;
    if (v.is(YamlValue::Kind::kScalar) && v.tag.empty()) {
      out += js_text(v);
    } else if (!v.is(YamlValue::Kind::kNull)) {
      error(line, where, fmt::format("${{{}}} is {}, which cannot be part of a string", body, kind_name(v)));
      unresolved = true;
    }
  }
  out.append(text, pos);
  YamlValue result = YamlValue::scalar(std::move(out), true, line);
  result.unresolved = unresolved;
  return result;
}

YamlValue VariableResolver::evaluate(std::string_view body, int line, const YamlPath& where, int depth) {
  const std::vector<std::string_view> arguments = split_arguments(body);
  const Lookup first = lookup(arguments[0], arguments.size() > 1, line, where, depth);
  if (first.status == Lookup::Status::kFound) return first.value;
  if (first.status == Lookup::Status::kFailed) return unresolved_empty(line);
  for (std::size_t i = 1; i < arguments.size(); ++i) {
    Lookup alternative = fallback(arguments[i], i + 1 < arguments.size(), line, where, depth);
    if (alternative.status == Lookup::Status::kFailed) return unresolved_empty(line);
    if (alternative.status != Lookup::Status::kFound) continue;
    if (first.status == Lookup::Status::kUnsupported) {
      // The deployed function may well see something else: say so.
      warning(line, where, fmt::format("${{{}}}: {}; the fallback is used", body, first.reason));
    }
    return std::move(alternative.value);
  }
  warning(line, where, fmt::format("variable ${{{}}} cannot be resolved ({}); the value is left empty", body,
                                   first.reason));
  return unresolved_empty(line);
}

VariableResolver::Lookup VariableResolver::fallback(std::string_view argument, bool more_follow, int line,
                                                    const YamlPath& where, int depth) {
  const std::string_view a = trim(argument);
  if (a.size() >= 2 && (a.front() == '\'' || a.front() == '"') && a.back() == a.front()) {
    return Lookup::found(YamlValue::scalar(std::string(a.substr(1, a.size() - 2)), true, line));
  }
  if (is_number_literal(a) || a == "true" || a == "false") {
    return Lookup::found(YamlValue::scalar(std::string(a), false, line));
  }
  if (a == "null") return Lookup::found(YamlValue{});
  if (a.find("${") != std::string_view::npos) {
    YamlValue v = resolve_string(std::string(a), line, where, depth + 1);
    if (v.unresolved) return Lookup::missing("");  // reported where it was resolved
    return Lookup::found(std::move(v));
  }
  if (is_variable(a)) {
    Lookup found = lookup(a, more_follow, line, where, depth);
    if (found.status == Lookup::Status::kUnsupported) found.status = Lookup::Status::kMissing;
    return found;
  }
  error(line, where,
        fmt::format("fallback {} must be a quoted string, a number, true, false or a variable", a.empty() ? "''" : a));
  return Lookup::failed();
}

VariableResolver::Lookup VariableResolver::lookup(std::string_view reference, bool has_fallback, int line,
                                                  const YamlPath& where, int depth) {
  if (depth > kMaxResolveDepth) {
    error(line, where, "variables refer to variables too deeply");
    return Lookup::failed();
  }
  std::string ref(trim(reference));
  if (ref.find("${") != std::string::npos) {
    // ${self:custom.${opt:stage}.memory}: the inner variables make the address.
    const YamlValue inner = resolve_string(ref, line, where, depth + 1);
    if (inner.unresolved) return Lookup::missing(fmt::format("{} cannot be completed", ref));
    ref = inner.text;
  }
  const auto colon = ref.find(':');
  const auto paren = ref.find('(');
  if (paren != std::string::npos && (colon == std::string::npos || paren < colon)) {
    return Lookup::unsupported(fmt::format("the {} source is not read locally", ref.substr(0, paren)));
  }
  if (colon == std::string::npos) return Lookup::missing(fmt::format("{} is not a variable", ref));
  const std::string source = ref.substr(0, colon);
  const std::string address(trim(std::string_view(ref).substr(colon + 1)));

  if (source == "self") {
    YamlPath path;
    if (!address.empty()) {
      std::stringstream in(address);
      std::string part;
      while (std::getline(in, part, '.')) path.push_back(part);
    }
    Lookup found = lookup_path(path, depth + 1);
    if (found.status == Lookup::Status::kFound && found.value.unresolved) {
      return Lookup::missing(fmt::format("{} could not be resolved", address));
    }
    if (found.status == Lookup::Status::kFound && found.value.is(YamlValue::Kind::kNull)) {
      return Lookup::missing(fmt::format("{} is null", address));
    }
    return found;
  }
  if (source == "env") {
    if (auto it = options_.environment.find(address); it != options_.environment.end()) {
      return Lookup::found(YamlValue::scalar(it->second, true, line));
    }
    return Lookup::missing(fmt::format("environment variable {} is not set", address));
  }
  if (source == "opt" || source == "sls" || source == "aws") {
    const bool is_stage = address == "stage" && source != "aws";
    const bool is_region = address == "region" && source != "sls";
    if (is_stage || is_region) {
      const bool given = is_stage ? options_.stage_given : options_.region_given;
      if (given && source == "opt") {
        return Lookup::found(YamlValue::scalar(is_stage ? options_.stage : options_.region, true, line));
      }
      // Without the option the Framework has no ${opt:...} value, so a fallback is used; with
      // none, lambdad takes the resolved stage or region rather than leave it empty.
      if (source == "opt" && has_fallback) return Lookup::missing(fmt::format("--{} was not given", address));
      if (is_stage ? stage_.resolving : region_.resolving) {
        if (source == "opt") return Lookup::missing(fmt::format("--{} was not given", address));
        error(line, where, fmt::format("${{{}}} is used to define the {} itself", ref, address));
        return Lookup::failed();
      }
      return Lookup::found(YamlValue::scalar(is_stage ? stage() : region(), true, line));
    }
    if (source == "aws" && address == "accountId") return Lookup::found(YamlValue::scalar(options_.account_id, true, line));
    if (source == "opt") return Lookup::missing(fmt::format("option --{} was not given", address));
    return Lookup::unsupported(fmt::format("${{{}:{}}} is not known locally", source, address));
  }
  if (source == "param") return lookup_param(address, line, where, depth);
  return Lookup::unsupported(fmt::format("the {} source is not read locally", source));
}

// Stage parameters (Framework v3 `params`): params.<stage>.<name>, else params.default.<name>.
// Dashboard parameters live outside the file and are not read.
VariableResolver::Lookup VariableResolver::lookup_param(std::string_view name, int line, const YamlPath& where,
                                                        int depth) {
  if (stage_.resolving) {
    error(line, where, fmt::format("${{param:{}}} is used to define the stage itself", name));
    return Lookup::failed();
  }
  const std::string stage_name = stage();
  for (const std::string& section : {stage_name, std::string("default")}) {
    Lookup found = lookup_path(YamlPath{"params", section, std::string(name)}, depth + 1);
    if (found.status == Lookup::Status::kFound && !found.value.is(YamlValue::Kind::kNull)) return found;
    if (found.status == Lookup::Status::kFailed) return found;
  }
  return Lookup::missing(fmt::format("params.{}.{} and params.default.{} are not set", stage_name, name, name));
}

std::string VariableResolver::stage() {
  return setting("stage", stage_, options_.stage_given, options_.stage, kDefaultStage);
}

std::string VariableResolver::region() {
  return setting("region", region_, options_.region_given, options_.region, options_.region);
}

std::string VariableResolver::setting(const std::string& key, Setting& setting, bool given, const std::string& option,
                                      std::string_view fallback) {
  if (setting.value) return *setting.value;
  if (given) return *(setting.value = option);
  setting.resolving = true;
  const std::optional<YamlValue> v = get(YamlPath{"provider", key});
  setting.resolving = false;
  std::string s;
  if (v && v->is(YamlValue::Kind::kScalar) && v->tag.empty()) {
    s = js_text(*v);
  } else if (v && !v->is(YamlValue::Kind::kNull)) {
    error(v->line, YamlPath{"provider", key}, fmt::format("must be a string, not {}", kind_name(*v)));
  }
  return *(setting.value = s.empty() ? std::string(fallback) : s);
}

}  // namespace lambdad::config
