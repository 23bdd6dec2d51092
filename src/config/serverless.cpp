// config: loading functions from a Serverless Framework service file (serverless.yml). This file
// owns the whole path: YAML -> a plain value tree, the Framework's variables resolved on demand
// (only what the functions use is resolved, so plugin sections and `resources` never warn), then
// provider defaults merged into each function and every property checked like the SAM loader does.
#include "source_file.hpp"
#include "lambdad/config/serverless.hpp"
#include "lambdad/config/function_names.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "diagnostic_sink.hpp"
#include "function_builder.hpp"
#include "lambdad/common/limits.hpp"

namespace lambdad::config {
namespace {

// The Framework's defaults, not Lambda's (128 MB, 3 s).
constexpr int kFrameworkMemoryMb = 1024;
constexpr int kFrameworkTimeoutSeconds = 6;
constexpr std::string_view kDefaultStage = "dev";
// For provisionedConcurrency the Framework publishes a version and points an alias named
// "provisioned" at it. lambdad's AutoPublishAlias model has the same shape (version 1 under one
// alias), so the sandbox provisions such a function exactly like a SAM one.
constexpr std::string_view kProvisionedAlias = "provisioned";
// Far above any real file (nodes after YAML aliases and variables are expanded); bounds the work
// of a hostile one.
constexpr std::size_t kMaxNodes = 1'000'000;
constexpr int kMaxYamlDepth = 128;
// Frames of variable resolution (nesting plus references to references); keeps the stack bounded.
constexpr int kMaxResolveDepth = 256;
constexpr std::size_t kMaxHandler = 128;
constexpr std::size_t kMaxDescription = 256;
constexpr std::size_t kMaxEnvironmentBytes = 4096;  // Lambda: "the total size ... doesn't exceed 4 KB"

constexpr std::string_view kUnsupportedRuntimeHint =
    "supported: python3.x, nodejsN.x, provided, provided.al2, provided.al2023";

constexpr std::array<std::string_view, 26> kTopLevelKeys = {
    "service",       "frameworkVersion",      "provider",          "functions",
    "custom",        "plugins",               "resources",         "package",
    "layers",        "useDotenv",             "variablesResolutionMode",
    "configValidationMode",                   "deprecationNotificationMode",
    "disabledDeprecations",                   "unresolvedVariablesNotificationMode",
    "params",        "org",                   "app",               "outputs",
    "stages",        "build",                 "license",           "console",
    "dashboard",     "enableLocalInstallationFallback",            "stepFunctions"};

// provider keys lambdad reads.
constexpr std::array<std::string_view, 12> kProviderKeysUsed = {
    "name",   "runtime",      "memorySize", "timeout", "environment",         "region",
    "stage",  "architecture", "layers",     "ephemeralStorageSize", "versionFunctions", "tracing"};

// provider keys that only matter when deploying; ignored without a word.
constexpr std::array<std::string_view, 51> kProviderKeysIgnored = {
    "profile",         "logRetentionInDays", "logDataProtectionPolicy",
    "iam",             "iamRoleStatements",  "iamManagedPolicies",
    "role",            "rolePermissionsBoundary", "cfnRole",
    "deploymentBucket", "deploymentPrefix",  "deploymentMethod",
    "stackName",       "stackTags",          "tags",
    "stackPolicy",     "stackParameters",    "apiName",
    "apiGateway",      "httpApi",            "websocket",
    "websocketsApiName", "websocketsApiRouteSelectionExpression", "websocketsDescription",
    "alb",             "vpc",                "vpcEndpointIds",
    "endpointType",    "logs",
    "lambdaHashingVersion", "kmsKeyArn",     "notificationArns",
    "rollbackConfiguration", "eventBridge",  "ecr",
    "s3",              "disableRollback",    "runtimeManagement",
    "timezone",        "usagePlan",          "resourcePolicy",
    "apiKeys",         "cloudFront",         "environmentVariables",
    "deploymentBucketObject", "shouldStartNameWithService", "tracingConfig",
    "architectureDefault", "resolvers",      "build",
    "memory"};

// function keys lambdad reads.
constexpr std::array<std::string_view, 21> kFunctionKeysUsed = {
    "name",         "description",         "handler",         "runtime",
    "memorySize",   "timeout",             "environment",     "reservedConcurrency",
    "provisionedConcurrency", "layers",    "ephemeralStorageSize", "architecture",
    "events",       "package",             "maximumEventAge", "maximumRetryAttempts",
    "onError",      "image",               "destinations",    "versionFunction",
    "tracing"};

// function keys that only matter when deploying; ignored without a word.
constexpr std::array<std::string_view, 18> kFunctionKeysIgnored = {
    "role",        "kmsKeyArn",    "awsKmsKeyArn", "disableLogs",      "logRetentionInDays",
    "logDataProtectionPolicy",     "fileSystemConfig", "tags",         "vpc",
    "url",          "condition",    "dependsOn",        "snapStart",
    "runtimeManagement",           "logs",         "iamRoleStatements", "iamRoleStatementsName",
    "timezone"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int node_line(const YAML::Node& node) {
  const int line = node.Mark().line;
  return line >= 0 ? line + 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// The document as plain values.

struct Entry;

struct Value {
  enum class Kind { kNull, kScalar, kList, kMap };

  Kind kind = Kind::kNull;
  std::string text;         // kScalar
  bool quoted = false;      // kScalar written in quotes (or built from text): a string, never a number
  std::string tag;          // a CloudFormation short form (!Ref, !GetAtt, ...): unresolvable locally
  bool unresolved = false;  // a variable in it could not be resolved (already reported)
  int line = 0;             // 1-based; of the key, for map entries
  std::vector<Value> items;
  std::vector<Entry> entries;  // in file order

  bool is(Kind k) const { return kind == k; }
  const Value* find(std::string_view key) const;

  // Defined after Entry: clang needs Entry complete to construct a Value.
  static Value scalar(std::string text, bool quoted, int line);
  // What an unresolvable variable leaves behind.
  static Value empty(int line);
};

// Defined after Value so that both are complete wherever a vector of them is used.
struct Entry {
  std::string key;
  Value value;
};

Value Value::scalar(std::string text, bool quoted, int line) {
  Value v;
  v.kind = Kind::kScalar;
  v.text = std::move(text);
  v.quoted = quoted;
  v.line = line;
  return v;
}

Value Value::empty(int line) {
  Value v = scalar("", true, line);
  v.unresolved = true;
  return v;
}

const Value* Value::find(std::string_view key) const {
  for (const auto& entry : entries) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

std::size_t count_nodes(const Value& v) {
  std::size_t n = 1;
  for (const auto& item : v.items) n += count_nodes(item);
  for (const auto& entry : v.entries) n += count_nodes(entry.value);
  return n;
}

std::string_view kind_name(const Value& v) {
  if (!v.tag.empty()) return "a CloudFormation intrinsic function";
  switch (v.kind) {
    case Value::Kind::kList:
      return "a list";
    case Value::Kind::kMap:
      return "a mapping";
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kScalar:
      break;
  }
  return "a string";
}

// A CloudFormation intrinsic in its long form ({Ref: X}, {"Fn::GetAtt": [...]}) or short form (!Ref X).
bool is_intrinsic(const Value& v) {
  if (!v.tag.empty()) return true;
  if (!v.is(Value::Kind::kMap) || v.entries.size() != 1) return false;
  const std::string& key = v.entries.front().key;
  return key == "Ref" || key == "Condition" || key.starts_with("Fn::");
}

std::string describe_intrinsic(const Value& v) {
  if (!v.tag.empty()) return v.is(Value::Kind::kScalar) ? v.tag + " " + v.text : v.tag;
  return v.entries.front().key;
}

// Whole numbers in [-2^53, 2^53]: what a JavaScript number holds exactly.
std::optional<std::string> integer_text(std::string_view digits, int base, bool negative) {
  constexpr long long kMaxExact = 9007199254740992LL;
  long long value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
  if (digits.empty() || ec != std::errc{} || ptr != end || value > kMaxExact) return std::nullopt;
  if (value == 0) return "0";
  return (negative ? "-" : "") + std::to_string(value);
}

// The text of a scalar as the Framework hands it on: js-yaml reads unquoted numbers and booleans
// (YAML 1.2 core schema) and JavaScript's String() prints them, so `1.50` becomes "1.5", `0x1F`
// "31" and `True` "true". Quoted scalars are kept as written.
std::string js_text(const Value& v) {
  if (!v.is(Value::Kind::kScalar) || v.quoted || !v.tag.empty()) return v.text;
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
  std::array<char, 64> buffer{};
  auto [out, out_ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
  if (out_ec != std::errc{}) return t;
  std::string result(buffer.data(), out);
  if (negative && value != 0.0) result.insert(0, "-");
  return result;
}

// YAML -> Value: bounds depth and size (YAML aliases can make the node graph cyclic or
// exponentially large), reports duplicate keys (js-yaml refuses them) and applies `<<` merge keys
// (js-yaml supports them, yaml-cpp does not).
class YamlReader {
 public:
  explicit YamlReader(DiagnosticSink& sink) : sink_(sink) {}

  std::optional<Value> read(const YAML::Node& node) { return convert(node, 0); }

 private:
  std::optional<Value> convert(const YAML::Node& node, int depth);
  bool merge(const Value& source, int line, std::vector<Entry>& merged);

  DiagnosticSink& sink_;
  std::size_t budget_ = kMaxNodes;
};

std::optional<Value> YamlReader::convert(const YAML::Node& node, int depth) {
  if (depth > kMaxYamlDepth || budget_ == 0) {
    sink_.error(node_line(node), "", "",
                depth > kMaxYamlDepth ? "the file nests too deeply (or a YAML alias refers to itself)"
                                      : "the file is too large once YAML aliases are expanded");
    return std::nullopt;
  }
  --budget_;
  Value v;
  v.line = node_line(node);
  const std::string& tag = node.Tag();
  if (tag.size() > 1 && tag.front() == '!' && tag[1] != '!') v.tag = tag;
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return v;
    case YAML::NodeType::Scalar:
      v.kind = Value::Kind::kScalar;
      v.text = node.Scalar();
      v.quoted = tag == "!" || tag == "tag:yaml.org,2002:str";
      return v;
    case YAML::NodeType::Sequence:
      v.kind = Value::Kind::kList;
      for (const auto& item : node) {
        auto converted = convert(item, depth + 1);
        if (!converted) return std::nullopt;
        v.items.push_back(std::move(*converted));
      }
      return v;
    case YAML::NodeType::Map:
      break;
  }
  v.kind = Value::Kind::kMap;
  std::vector<Entry> merged;
  std::map<std::string, int> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const int line = node_line(it->first);
    if (!it->first.IsScalar()) {
      sink_.error(line, "", "", "mapping keys must be strings");
      continue;
    }
    auto converted = convert(it->second, depth + 1);
    if (!converted) return std::nullopt;
    converted->line = line;
    const std::string& key = it->first.Scalar();
    if (key == "<<" && it->first.Tag() == "?") {
      if (!merge(*converted, line, merged)) return std::nullopt;
      continue;
    }
    if (auto [prev, inserted] = seen.emplace(key, line); !inserted) {
      sink_.error(line, "", "", fmt::format("duplicate key {} (first at line {})", key, prev->second));
      continue;
    }
    v.entries.push_back(Entry{key, std::move(*converted)});
  }
  // Explicit keys win over merged ones; among merged mappings the first wins (YAML merge key spec).
  for (auto& entry : merged) {
    if (seen.emplace(entry.key, entry.value.line).second) v.entries.push_back(std::move(entry));
  }
  return v;
}

bool YamlReader::merge(const Value& source, int line, std::vector<Entry>& merged) {
  if (source.is(Value::Kind::kList)) {
    for (const auto& item : source.items) {
      if (!merge(item, line, merged)) return false;
    }
    return true;
  }
  if (!source.is(Value::Kind::kMap)) {
    sink_.error(line, "", "<<", "a merge key needs a mapping or a list of mappings");
    return true;
  }
  for (const auto& entry : source.entries) {
    const bool present = std::any_of(merged.begin(), merged.end(), [&](const Entry& e) { return e.key == entry.key; });
    if (!present) merged.push_back(entry);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Variables.

using Path = std::vector<std::string>;

std::string display(const Path& path) {
  std::string out;
  for (const auto& part : path) {
    if (!out.empty()) out += '.';
    out += part;
  }
  return out;
}

// Where a diagnostic about `path` is attributed: functions.KEY.rest -> (KEY, rest).
std::pair<std::string, std::string> locate(const Path& path) {
  if (path.size() >= 2 && path[0] == "functions") {
    return {path[1], display(Path(path.begin() + 2, path.end()))};
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

class VariableResolver {
 public:
  VariableResolver(const Value& root, const ServerlessOptions& options, DiagnosticSink& sink)
      : root_(root), options_(options), sink_(sink) {}

  // The value at `path` with every variable in it resolved; nullopt when the file has none there.
  std::optional<Value> get(const Path& path);
  // The stage: --stage if given, else provider.stage, else "dev".
  std::string stage();
  // The region: --region if given, else provider.region, else the default region.
  std::string region();

 private:
  struct Lookup {
    enum class Status {
      kFound,
      kMissing,      // no value there; a fallback may supply one
      kUnsupported,  // a source only AWS (or a plugin) can answer; a fallback may supply one
      kFailed,       // an error was reported (a cycle); no fallback
    };
    Status status = Status::kMissing;
    Value value;
    std::string reason;

    static Lookup found(Value v) { return Lookup{Status::kFound, std::move(v), {}}; }
    static Lookup missing(std::string why) { return Lookup{Status::kMissing, {}, std::move(why)}; }
    static Lookup unsupported(std::string why) { return Lookup{Status::kUnsupported, {}, std::move(why)}; }
    static Lookup failed() { return Lookup{Status::kFailed, {}, {}}; }
  };

  Lookup lookup_path(const Path& path, int depth);
  std::optional<Value> resolve_at(const Path& path, const Value& raw, int depth, bool remember);
  Value resolve_string(const std::string& text, int line, const Path& where, int depth);
  Value evaluate(std::string_view body, int line, const Path& where, int depth);
  Lookup fallback(std::string_view argument, bool more_follow, int line, const Path& where, int depth);
  Lookup lookup(std::string_view reference, bool has_fallback, int line, const Path& where, int depth);
  Lookup lookup_param(std::string_view name, int line, const Path& where, int depth);
  // Consumes `nodes` of the expansion budget; false (reported once) when it is exhausted.
  bool charge(std::size_t nodes, int line);
  void error(int line, const Path& where, std::string message);
  void warning(int line, const Path& where, std::string message);

  const Value& root_;
  const ServerlessOptions& options_;
  DiagnosticSink& sink_;
  std::map<std::string, Value> memo_;  // resolved values by path, for paths that were referenced
  std::vector<std::string> stack_;     // paths being resolved, outermost first: a repeat is a cycle
  std::optional<std::string> stage_;
  std::optional<std::string> region_;
  bool resolving_stage_ = false;
  bool resolving_region_ = false;
  std::size_t budget_ = kMaxNodes;
  bool exhausted_ = false;
};

void VariableResolver::error(int line, const Path& where, std::string message) {
  auto [resource, property] = locate(where);
  sink_.error(line, std::move(resource), std::move(property), std::move(message));
}

void VariableResolver::warning(int line, const Path& where, std::string message) {
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

std::optional<Value> VariableResolver::get(const Path& path) {
  Lookup result = lookup_path(path, 0);
  switch (result.status) {
    case Lookup::Status::kFound:
      return std::move(result.value);
    case Lookup::Status::kFailed:
      return Value::empty(0);
    case Lookup::Status::kMissing:
    case Lookup::Status::kUnsupported:
      break;
  }
  return std::nullopt;
}

const Value* child_of(const Value& v, const std::string& key) {
  if (v.is(Value::Kind::kMap)) return v.find(key);
  if (!v.is(Value::Kind::kList) || key.empty() || !std::all_of(key.begin(), key.end(), is_digit)) return nullptr;
  std::size_t index = 0;
  auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
  if (ec != std::errc{} || ptr != key.data() + key.size() || index >= v.items.size()) return nullptr;
  return &v.items[index];
}

VariableResolver::Lookup VariableResolver::lookup_path(const Path& path, int depth) {
  const Value* node = &root_;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (node->is(Value::Kind::kScalar) && node->text.find("${") != std::string::npos) {
      // A variable stands for the mapping the path walks through (custom: ${self:other}): resolve
      // it, then walk the rest in what it gave.
      const Path prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(i));
      auto resolved = resolve_at(prefix, *node, depth + 1, true);
      if (!resolved) return Lookup::failed();
      const Value* current = &*resolved;
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

std::optional<Value> VariableResolver::resolve_at(const Path& path, const Value& raw, int depth, bool remember) {
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

  Value out;
  if (raw.is(Value::Kind::kScalar) && raw.text.find("${") != std::string::npos) {
    out = resolve_string(raw.text, raw.line, path, depth + 1);
  } else {
    out.kind = raw.kind;
    out.text = raw.text;
    out.quoted = raw.quoted;
    out.tag = raw.tag;
    out.line = raw.line;
    Path child = path;
    child.emplace_back();
    for (std::size_t i = 0; i < raw.items.size(); ++i) {
      child.back() = std::to_string(i);
      auto item = resolve_at(child, raw.items[i], depth + 1, false);
      out.items.push_back(item ? std::move(*item) : Value::empty(raw.items[i].line));
    }
    for (const auto& entry : raw.entries) {
      child.back() = entry.key;
      auto value = resolve_at(child, entry.value, depth + 1, false);
      out.entries.push_back(Entry{entry.key, value ? std::move(*value) : Value::empty(entry.value.line)});
    }
  }
  stack_.pop_back();
  if (exhausted_) return std::nullopt;
  if (remember) memo_[key] = out;
  return out;
}

Value VariableResolver::resolve_string(const std::string& text, int line, const Path& where, int depth) {
  const std::vector<Span> spans = find_spans(text);
  if (spans.size() == 1 && spans[0].begin == 0 && spans[0].end == text.size() &&
      is_variable(span_body(text, spans[0]))) {
    // A whole-value variable keeps the type of what it refers to (a number, a mapping, ...).
    Value v = evaluate(span_body(text, spans[0]), line, where, depth);
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
    const Value v = evaluate(body, line, where, depth);
    unresolved = unresolved || v.unresolved;
    if (v.is(Value::Kind::kScalar) && v.tag.empty()) {
      out += js_text(v);
    } else if (!v.is(Value::Kind::kNull)) {
      error(line, where, fmt::format("${{{}}} is {}, which cannot be part of a string", body, kind_name(v)));
      unresolved = true;
    }
  }
  out.append(text, pos);
  Value result = Value::scalar(std::move(out), true, line);
  result.unresolved = unresolved;
  return result;
}

Value VariableResolver::evaluate(std::string_view body, int line, const Path& where, int depth) {
  const std::vector<std::string_view> arguments = split_arguments(body);
  const Lookup first = lookup(arguments[0], arguments.size() > 1, line, where, depth);
  if (first.status == Lookup::Status::kFound) return first.value;
  if (first.status == Lookup::Status::kFailed) return Value::empty(line);
  for (std::size_t i = 1; i < arguments.size(); ++i) {
    Lookup alternative = fallback(arguments[i], i + 1 < arguments.size(), line, where, depth);
    if (alternative.status == Lookup::Status::kFailed) return Value::empty(line);
    if (alternative.status != Lookup::Status::kFound) continue;
    if (first.status == Lookup::Status::kUnsupported) {
      // The deployed function may well see something else: say so.
      warning(line, where, fmt::format("${{{}}}: {}; the fallback is used", body, first.reason));
    }
    return std::move(alternative.value);
  }
  warning(line, where, fmt::format("variable ${{{}}} cannot be resolved ({}); the value is left empty", body,
                                   first.reason));
  return Value::empty(line);
}

VariableResolver::Lookup VariableResolver::fallback(std::string_view argument, bool more_follow, int line,
                                                    const Path& where, int depth) {
  const std::string_view a = trim(argument);
  if (a.size() >= 2 && (a.front() == '\'' || a.front() == '"') && a.back() == a.front()) {
    return Lookup::found(Value::scalar(std::string(a.substr(1, a.size() - 2)), true, line));
  }
  if (is_number_literal(a) || a == "true" || a == "false") {
    return Lookup::found(Value::scalar(std::string(a), false, line));
  }
  if (a == "null") return Lookup::found(Value{});
  if (a.find("${") != std::string_view::npos) {
    Value v = resolve_string(std::string(a), line, where, depth + 1);
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
                                                  const Path& where, int depth) {
  if (depth > kMaxResolveDepth) {
    error(line, where, "variables refer to variables too deeply");
    return Lookup::failed();
  }
  std::string ref(trim(reference));
  if (ref.find("${") != std::string::npos) {
    // ${self:custom.${opt:stage}.memory}: the inner variables make the address.
    const Value inner = resolve_string(ref, line, where, depth + 1);
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
    Path path;
    if (!address.empty()) {
      std::stringstream in(address);
      std::string part;
      while (std::getline(in, part, '.')) path.push_back(part);
    }
    Lookup found = lookup_path(path, depth + 1);
    if (found.status == Lookup::Status::kFound && found.value.unresolved) {
      return Lookup::missing(fmt::format("{} could not be resolved", address));
    }
    if (found.status == Lookup::Status::kFound && found.value.is(Value::Kind::kNull)) {
      return Lookup::missing(fmt::format("{} is null", address));
    }
    return found;
  }
  if (source == "env") {
    if (auto it = options_.environment.find(address); it != options_.environment.end()) {
      return Lookup::found(Value::scalar(it->second, true, line));
    }
    return Lookup::missing(fmt::format("environment variable {} is not set", address));
  }
  if (source == "opt" || source == "sls" || source == "aws") {
    const bool is_stage = address == "stage" && source != "aws";
    const bool is_region = address == "region" && source != "sls";
    if (is_stage || is_region) {
      const bool given = is_stage ? options_.stage_given : options_.region_given;
      if (given && source == "opt") {
        return Lookup::found(Value::scalar(is_stage ? options_.stage : options_.region, true, line));
      }
      // Without the option the Framework has no ${opt:...} value, so a fallback is used; with
      // none, lambdad takes the resolved stage or region rather than leave it empty.
      if (source == "opt" && has_fallback) return Lookup::missing(fmt::format("--{} was not given", address));
      if (is_stage ? resolving_stage_ : resolving_region_) {
        if (source == "opt") return Lookup::missing(fmt::format("--{} was not given", address));
        error(line, where, fmt::format("${{{}}} is used to define the {} itself", ref, address));
        return Lookup::failed();
      }
      return Lookup::found(Value::scalar(is_stage ? stage() : region(), true, line));
    }
    if (source == "aws" && address == "accountId") return Lookup::found(Value::scalar(options_.account_id, true, line));
    if (source == "opt") return Lookup::missing(fmt::format("option --{} was not given", address));
    return Lookup::unsupported(fmt::format("${{{}:{}}} is not known locally", source, address));
  }
  if (source == "param") return lookup_param(address, line, where, depth);
  return Lookup::unsupported(fmt::format("the {} source is not read locally", source));
}

// Stage parameters (Framework v3 `params`): params.<stage>.<name>, else params.default.<name>.
// Dashboard parameters live outside the file and are not read.
VariableResolver::Lookup VariableResolver::lookup_param(std::string_view name, int line, const Path& where,
                                                        int depth) {
  if (resolving_stage_) {
    error(line, where, fmt::format("${{param:{}}} is used to define the stage itself", name));
    return Lookup::failed();
  }
  const std::string stage_name = stage();
  for (const std::string& section : {stage_name, std::string("default")}) {
    Lookup found = lookup_path(Path{"params", section, std::string(name)}, depth + 1);
    if (found.status == Lookup::Status::kFound && !found.value.is(Value::Kind::kNull)) return found;
    if (found.status == Lookup::Status::kFailed) return found;
  }
  return Lookup::missing(fmt::format("params.{}.{} and params.default.{} are not set", stage_name, name, name));
}

std::string VariableResolver::stage() {
  if (stage_) return *stage_;
  if (options_.stage_given) return *(stage_ = options_.stage);
  resolving_stage_ = true;
  const std::optional<Value> v = get(Path{"provider", "stage"});
  resolving_stage_ = false;
  std::string s;
  if (v && v->is(Value::Kind::kScalar) && v->tag.empty()) {
    s = js_text(*v);
  } else if (v && !v->is(Value::Kind::kNull)) {
    error(v->line, Path{"provider", "stage"}, fmt::format("must be a string, not {}", kind_name(*v)));
  }
  return *(stage_ = s.empty() ? std::string(kDefaultStage) : s);
}

std::string VariableResolver::region() {
  if (region_) return *region_;
  if (options_.region_given) return *(region_ = options_.region);
  resolving_region_ = true;
  const std::optional<Value> v = get(Path{"provider", "region"});
  resolving_region_ = false;
  std::string s;
  if (v && v->is(Value::Kind::kScalar) && v->tag.empty()) {
    s = js_text(*v);
  } else if (v && !v->is(Value::Kind::kNull)) {
    error(v->line, Path{"provider", "region"}, fmt::format("must be a string, not {}", kind_name(*v)));
  }
  return *(region_ = s.empty() ? options_.region : s);
}

// ---------------------------------------------------------------------------------------------
// Functions.

// Lambda's pattern for variable names: [a-zA-Z]([a-zA-Z0-9_])+
bool is_valid_environment_key(std::string_view key) {
  if (key.size() < 2 || !is_letter(key.front())) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return is_letter(c) || is_digit(c) || c == '_'; });
}

bool has_whitespace(std::string_view s) { return s.find_first_of(" \t\r\n\f\v") != std::string_view::npos; }


// A layer of the service's top-level `layers:` section, found by the logical id the Framework
// gives it (NameLambdaLayer, what `{Ref: ...}` names) or by the ARN that Ref gives.
struct ServiceLayer {
  std::string key;                  // its key under layers:
  std::string logical_id;
  std::string arn;
  std::filesystem::path dir;        // empty when it cannot be used
  std::string problem;              // why not
};
using ServiceLayers = std::vector<ServiceLayer>;

// The Framework's logical id of a layer: `my-deps` -> MyDashdepsLambdaLayer.
std::string framework_layer_logical_id(std::string_view key) {
  std::string id;
  for (char c : key) {
    if (c == '-') {
      id += "Dash";
    } else if (c == '_') {
      id += "Underscore";
    } else {
      id += c;
    }
  }
  if (!id.empty() && id.front() >= 'a' && id.front() <= 'z') id.front() = static_cast<char>(id.front() - 'a' + 'A');
  return id + "LambdaLayer";
}

// One property as found: on the function, or inherited from provider.
struct Field {
  const Value* value = nullptr;
  std::string resource;  // the function key, or "provider"
  std::string property;  // "memorySize", "environment.FOO", ...
};

class FunctionReader {
 public:
  FunctionReader(std::string key, const Value& function, const Value& provider, const ServiceLayers& layers,
                 DiagnosticSink& sink)
      : key_(std::move(key)), function_(function), provider_(provider), layers_(layers), sink_(sink) {}

  // The function, or nullopt when any of its properties is in error (all of them reported).
  std::optional<FunctionConfig> read(const std::string& service, const std::string& stage,
                                     const std::filesystem::path& code_dir);

 private:
  enum class Need { kRequired, kOptional };

  // The function's own value of `key`, else provider's when `inherited`; value nullptr when neither.
  Field field(std::string_view key, bool inherited) const;
  void error(const Field& at, std::string message);
  void error_missing(std::string_view property, std::string message);
  void warning(const Field& at, std::string message);
  std::optional<std::string> text(const Field& f, Need need);
  std::optional<int> integer(const Field& f, int min, int max, std::string_view range);

  void read_name(FunctionConfig& config, const std::string& service, const std::string& stage);
  void read_runtime_and_handler(FunctionConfig& config);
  void read_environment(FunctionConfig& config);
  void read_layers(FunctionConfig& config);
  void read_concurrency(FunctionConfig& config);
  void read_event_invoke(FunctionConfig& config);
  void read_tracing(FunctionConfig& config);
  void read_package();
  void warn_unknown_keys();

  std::string key_;
  const Value& function_;
  const Value& provider_;
  const ServiceLayers& layers_;
  DiagnosticSink& sink_;
  bool failed_ = false;
};

Field FunctionReader::field(std::string_view key, bool inherited) const {
  if (const Value* v = function_.find(key)) return Field{v, key_, std::string(key)};
  if (inherited) {
    if (const Value* v = provider_.find(key)) return Field{v, "provider", std::string(key)};
  }
  return Field{nullptr, key_, std::string(key)};
}

void FunctionReader::error(const Field& at, std::string message) {
  failed_ = true;
  sink_.error(at.value->line, at.resource, at.property, std::move(message));
}

void FunctionReader::error_missing(std::string_view property, std::string message) {
  failed_ = true;
  sink_.error(function_.line, key_, std::string(property), std::move(message));
}

void FunctionReader::warning(const Field& at, std::string message) {
  sink_.warning(at.value->line, at.resource, at.property, std::move(message));
}

std::optional<std::string> FunctionReader::text(const Field& f, Need need) {
  const Value& v = *f.value;
  if (is_intrinsic(v)) {
    const std::string message =
        fmt::format("{} is a CloudFormation intrinsic function, which cannot be resolved locally", describe_intrinsic(v));
    if (need == Need::kRequired) {
      error(f, message);
    } else {
      warning(f, message + "; it is left out");
    }
    return std::nullopt;
  }
  if (v.is(Value::Kind::kScalar)) {
    if (v.unresolved && v.text.empty()) {
      // The variable was reported; a required property cannot do without it.
      if (need == Need::kRequired) error(f, "is empty because its variable could not be resolved");
      return std::nullopt;
    }
    return js_text(v);
  }
  if (v.is(Value::Kind::kNull)) {
    if (need == Need::kRequired) error(f, "must not be empty");
    return std::nullopt;
  }
  error(f, fmt::format("must be a string, not {}", kind_name(v)));
  return std::nullopt;
}

std::optional<int> FunctionReader::integer(const Field& f, int min, int max, std::string_view range) {
  auto s = text(f, Need::kOptional);
  if (!s) return std::nullopt;
  int value = 0;
  const char* end = s->data() + s->size();
  auto [ptr, ec] = std::from_chars(s->data(), end, value);
  if (s->empty() || ec != std::errc{} || ptr != end || value < min || value > max) {
    error(f, fmt::format("must be {} (got {})", range, s->empty() ? "''" : *s));
    return std::nullopt;
  }
  return value;
}

std::optional<FunctionConfig> FunctionReader::read(const std::string& service, const std::string& stage,
                                                   const std::filesystem::path& code_dir) {
  FunctionConfig config;
  config.logical_id = serverless_logical_id(key_);
  config.short_name = key_;
  config.code_dir = code_dir;
  config.memory_mb = kFrameworkMemoryMb;
  config.timeout_seconds = kFrameworkTimeoutSeconds;

  if (const Field image = field("image", false); image.value != nullptr) {
    error(image, "container image functions are not supported");
    return std::nullopt;
  }
  read_name(config, service, stage);
  read_runtime_and_handler(config);
  read_package();

  if (const Field f = field("memorySize", true); f.value != nullptr) {
    const auto range = fmt::format("an integer between {} and {}", limits::kMinMemoryMb, limits::kMaxMemoryMb);
    if (auto mb = integer(f, limits::kMinMemoryMb, limits::kMaxMemoryMb, range)) config.memory_mb = *mb;
  }
  if (const Field f = field("timeout", true); f.value != nullptr) {
    const auto range =
        fmt::format("an integer between {} and {}", limits::kMinTimeoutSeconds, limits::kMaxTimeoutSeconds);
    if (auto seconds = integer(f, limits::kMinTimeoutSeconds, limits::kMaxTimeoutSeconds, range)) {
      config.timeout_seconds = *seconds;
    }
  }
  if (const Field f = field("ephemeralStorageSize", true); f.value != nullptr) {
    if (auto mb = integer(f, 512, 10240, "an integer between 512 and 10240")) config.ephemeral_storage_mb = *mb;
  }
  if (const Field f = field("architecture", true); f.value != nullptr) {
    if (auto architecture = text(f, Need::kOptional)) {
      if (*architecture != "x86_64" && *architecture != "arm64") {
        error(f, fmt::format("unknown architecture {} (x86_64 or arm64)", *architecture));
      } else {
        config.architectures = {std::move(*architecture)};
      }
    }
  }
  if (const Field f = field("description", false); f.value != nullptr) {
    if (auto description = text(f, Need::kOptional)) {
      if (description->size() > kMaxDescription) {
        error(f, fmt::format("must be at most {} characters", kMaxDescription));
      } else {
        config.description = std::move(*description);
      }
    }
  }
  read_environment(config);
  read_layers(config);
  read_concurrency(config);
  read_event_invoke(config);
  read_tracing(config);
  warn_unknown_keys();

  if (failed_) return std::nullopt;
  return config;
}

// The function's `tracing` (Active, PassThrough, true = Active, false = none), else provider's
// `tracing.lambda` (the same values).
void FunctionReader::read_tracing(FunctionConfig& config) {
  Field f = field("tracing", false);
  if (f.value == nullptr) {
    const Value* provider_tracing = provider_.find("tracing");
    if (provider_tracing == nullptr || !provider_tracing->is(Value::Kind::kMap)) return;
    f = Field{provider_tracing->find("lambda"), "provider", "tracing.lambda"};
    if (f.value == nullptr) return;
  }
  auto mode = text(f, Need::kOptional);
  if (!mode || *mode == "false") return;
  if (*mode == "true") {
    config.tracing = TracingMode::kActive;
  } else if (auto parsed = parse_tracing_mode(*mode)) {
    config.tracing = *parsed;
  } else {
    error(f, fmt::format("must be Active, PassThrough, true or false (got {})", mode->empty() ? "''" : *mode));
  }
}

void FunctionReader::read_name(FunctionConfig& config, const std::string& service, const std::string& stage) {
  if (const Field f = field("name", false); f.value != nullptr) {
    auto name = text(f, Need::kRequired);
    if (!name) return;
    if (!is_valid_function_name(*name)) {
      error(f, fmt::format("{} is not a valid function name (1 to 64 of a-z A-Z 0-9 - _)", *name));
      return;
    }
    config.name = std::move(*name);
    return;
  }
  // The Framework's deployed name.
  std::string name = fmt::format("{}-{}-{}", service, stage, key_);
  if (!is_valid_function_name(name)) {
    error_missing("name", fmt::format("the deployed name {} is not a valid function name (1 to 64 of a-z A-Z 0-9 "
                                      "- _); set name:",
                                      name));
    return;
  }
  config.name = std::move(name);
}

void FunctionReader::read_runtime_and_handler(FunctionConfig& config) {
  RuntimeFamily family = RuntimeFamily::kUnsupported;
  const Field runtime = field("runtime", true);
  if (runtime.value == nullptr) {
    error_missing("runtime", "required property is missing (set provider.runtime or the function's runtime)");
  } else if (auto id = text(runtime, Need::kRequired)) {
    family = runtime_family(*id);
    if (auto blocked = blocked_runtime_message(*id)) {
      error(runtime, std::move(*blocked));  // as Lambda refuses the deploy
    } else if (family == RuntimeFamily::kUnsupported) {
      error(runtime, fmt::format("runtime {} is not supported by lambdad ({})", *id, kUnsupportedRuntimeHint));
    }
    config.runtime = std::move(*id);
  }

  const Field handler = field("handler", false);
  const bool needed = family == RuntimeFamily::kPython || family == RuntimeFamily::kNode;
  if (handler.value == nullptr || handler.value->is(Value::Kind::kNull)) {
    // provided runtimes find their bootstrap themselves; the others need module.function.
    if (needed) {
      error_missing("handler", fmt::format("required property is missing ({} functions need one, e.g. {})",
                                           config.runtime,
                                           family == RuntimeFamily::kPython ? "handler.hello" : "index.handler"));
    }
    return;
  }
  auto value = text(handler, family == RuntimeFamily::kProvided ? Need::kOptional : Need::kRequired);
  if (!value) return;
  if (value->empty() || value->size() > kMaxHandler || has_whitespace(*value)) {
    error(handler, fmt::format("must be 1 to {} characters without whitespace", kMaxHandler));
    return;
  }
  config.handler = std::move(*value);
}

void FunctionReader::read_environment(FunctionConfig& config) {
  // The Framework merges key by key: provider.environment, then the function's (which wins).
  std::map<std::string, Field> merged;
  for (const auto& [owner, resource] : {std::pair{&provider_, std::string("provider")}, std::pair{&function_, key_}}) {
    const Value* environment = owner->find("environment");
    if (environment == nullptr || environment->is(Value::Kind::kNull)) continue;
    const Field whole{environment, resource, "environment"};
    if (environment->unresolved && environment->is(Value::Kind::kScalar)) continue;  // reported
    if (!environment->is(Value::Kind::kMap) || is_intrinsic(*environment)) {
      error(whole, fmt::format("must be a mapping of names to values, not {}", kind_name(*environment)));
      continue;
    }
    for (const auto& entry : environment->entries) {
      merged[entry.key] = Field{&entry.value, resource, "environment." + entry.key};
    }
  }
  std::size_t total_bytes = 0;
  for (const auto& [name, f] : merged) {
    if (!is_valid_environment_key(name)) {
      error(f, "names must start with a letter and contain only letters, digits and _ (at least 2 characters)");
      continue;
    }
    if (f.value->is(Value::Kind::kNull)) {
      warning(f, "has no value; the variable is left out");
      continue;
    }
    if (f.value->unresolved && f.value->text.empty()) {
      config.environment[name] = "";  // its variable was reported; the value is left empty
      continue;
    }
    auto value = text(f, Need::kOptional);
    if (!value) continue;
    total_bytes += name.size() + value->size();
    config.environment[name] = std::move(*value);
  }
  if (total_bytes > kMaxEnvironmentBytes) {
    error_missing("environment",
                  fmt::format("environment variables take {} bytes; Lambda allows at most 4 KB", total_bytes));
  }
}

void FunctionReader::read_layers(FunctionConfig& config) {
  // A function's layers replace provider.layers (they are not merged).
  const Field f = field("layers", true);
  if (f.value == nullptr || f.value->is(Value::Kind::kNull)) return;
  if (f.value->unresolved && f.value->is(Value::Kind::kScalar)) return;  // reported
  if (!f.value->is(Value::Kind::kList)) {
    error(f, fmt::format("must be a list of layers ({{Ref: NameLambdaLayer}}), not {}", kind_name(*f.value)));
    return;
  }
  if (f.value->items.size() > static_cast<std::size_t>(limits::kMaxLayers)) {
    error(f, "Cannot reference more than 5 layers.");  // Lambda's own words
    return;
  }
  // provider.layers are reported under provider, so they name the function in the message.
  const std::string of = f.resource == key_ ? "" : fmt::format(" (a layer of {})", key_);
  for (const auto& item : f.value->items) {
    const Field at{&item, f.resource, f.property};
    const ServiceLayer* found = nullptr;
    std::string named;
    // {Ref: NameLambdaLayer} or !Ref NameLambdaLayer: a layer of this service.
    const Value* ref = item.is(Value::Kind::kMap) && item.entries.size() == 1 ? item.find("Ref") : nullptr;
    if (ref != nullptr || item.tag == "!Ref") {
      const Value& target = ref != nullptr ? *ref : item;
      named = "Ref " + target.text;
      if (target.is(Value::Kind::kScalar)) {
        auto it = std::find_if(layers_.begin(), layers_.end(),
                               [&](const ServiceLayer& l) { return l.logical_id == target.text; });
        if (it != layers_.end()) found = &*it;
      }
    } else if (is_intrinsic(item)) {
      named = describe_intrinsic(item);
    } else {
      auto arn = text(at, Need::kRequired);
      if (!arn) continue;
      named = arn->empty() ? "''" : *arn;
      auto it = std::find_if(layers_.begin(), layers_.end(), [&](const ServiceLayer& l) { return l.arn == *arn; });
      if (it != layers_.end()) found = &*it;
    }
    if (found == nullptr) {
      error(at, fmt::format("{}{} is not a layer of this service: layer ARNs cannot be downloaded; define the layer "
                            "under the top-level layers: with a local path and use {{Ref: NameLambdaLayer}}",
                            named, of));
      continue;
    }
    if (!found->problem.empty()) {
      error(at, fmt::format("layer {}{} cannot be used locally: {}", found->key, of, found->problem));
      continue;
    }
    config.layers.push_back(found->arn);
    config.layer_dirs.push_back(found->dir);
  }
}

void FunctionReader::read_concurrency(FunctionConfig& config) {
  if (const Field f = field("reservedConcurrency", false); f.value != nullptr) {
    if (auto n = integer(f, 0, std::numeric_limits<int>::max(), "a non-negative integer")) {
      config.reserved_concurrency = *n;
    }
  }
  if (const Field f = field("provisionedConcurrency", false); f.value != nullptr) {
    if (auto n = integer(f, 0, std::numeric_limits<int>::max(), "a non-negative integer"); n && *n > 0) {
      config.provisioned_concurrency = *n;
      config.auto_publish_alias = std::string(kProvisionedAlias);
    }
  }
}

void FunctionReader::read_event_invoke(FunctionConfig& config) {
  const Field age = field("maximumEventAge", false);
  const Field retries = field("maximumRetryAttempts", false);
  if (age.value != nullptr || retries.value != nullptr) {
    EventInvokeConfig eic;
    if (age.value != nullptr) {
      if (auto n = integer(age, 60, 21600, "an integer between 60 and 21600")) eic.maximum_event_age_seconds = *n;
    }
    if (retries.value != nullptr) {
      if (auto n = integer(retries, 0, 2, "an integer between 0 and 2")) eic.maximum_retry_attempts = *n;
    }
    config.event_invoke_config = eic;
  }
  if (const Field f = field("destinations", false); f.value != nullptr) {
    warning(f, "destinations are not supported locally yet; ignored");
  }
  if (const Field f = field("onError", false); f.value != nullptr) {
    // onError: the ARN of an SNS topic (or SQS queue) receiving failed Event invocations.
    if (auto arn = text(f, Need::kOptional)) {
      const std::string_view service = arn_service(*arn);
      if (service != "sns" && service != "sqs") {
        error(f, fmt::format("must be the ARN of an SNS topic or SQS queue (got {})", arn->empty() ? "''" : *arn));
      } else {
        config.dead_letter = DeadLetterConfig{service == "sns" ? "SNS" : "SQS", *arn};
      }
    }
  }
}

void FunctionReader::read_package() {
  const Field f = field("package", false);
  if (f.value == nullptr || !f.value->is(Value::Kind::kMap)) return;
  if (const Value* artifact = f.value->find("artifact")) {
    error(Field{artifact, key_, "package.artifact"}, "zip artifacts are not supported; point at a directory");
  }
  // individually, patterns, include, exclude: only shape the zip the Framework would upload.
}

void FunctionReader::warn_unknown_keys() {
  for (const auto& entry : function_.entries) {
    if (contains(kFunctionKeysUsed, entry.key) || contains(kFunctionKeysIgnored, entry.key)) continue;
    sink_.warning(entry.value.line, key_, entry.key, "unknown function property; ignored");
  }
}

// ---------------------------------------------------------------------------------------------
// The service.

class ServerlessLoader {
 public:
  ServerlessLoader(const Value& root, const std::filesystem::path& file, const ServerlessOptions& options,
                   DiagnosticSink& sink)
      : root_(root), file_(file), account_id_(options.account_id), resolver_(root, options, sink), sink_(sink) {}

  std::vector<FunctionConfig> run();

 private:
  std::optional<std::string> service_name();
  std::optional<Value> read_provider();
  std::optional<std::filesystem::path> service_dir();
  ServiceLayers read_layers(const std::filesystem::path& dir);
  Value resolve_function(const std::string& key, const Value& raw);
  template <std::size_t N>
  Value resolve_keys(const Path& path, const Value& raw, const std::array<std::string_view, N>& keys);

  const Value& root_;
  std::filesystem::path file_;
  std::string account_id_;
  VariableResolver resolver_;
  DiagnosticSink& sink_;
};

std::vector<FunctionConfig> ServerlessLoader::run() {
  std::vector<FunctionConfig> functions;
  if (root_.is(Value::Kind::kNull)) {
    sink_.error(0, "", "", "the file is empty");
    return functions;
  }
  if (!root_.is(Value::Kind::kMap)) {
    sink_.error(root_.line, "", "", "serverless.yml must be a mapping (service, provider, functions)");
    return functions;
  }
  for (const auto& entry : root_.entries) {
    if (!contains(kTopLevelKeys, entry.key)) {
      sink_.warning(entry.value.line, "", entry.key, "unknown top-level property; ignored");
    }
  }

  const std::optional<std::string> service = service_name();
  const std::optional<Value> provider = read_provider();
  const std::string stage = resolver_.stage();
  const std::optional<std::filesystem::path> dir = service_dir();
  if (auto package = resolver_.get(Path{"package"}); package && package->is(Value::Kind::kMap)) {
    if (const Value* artifact = package->find("artifact")) {
      sink_.error(artifact->line, "", "package.artifact", "zip artifacts are not supported; point at a directory");
    }
  }

  const Value* section = root_.find("functions");
  std::optional<Value> resolved_section;
  if (section != nullptr && !section->is(Value::Kind::kMap)) {
    // functions: ${file(...)} and the like: the whole section is one variable.
    resolved_section = resolver_.get(Path{"functions"});
    section = &*resolved_section;
  }
  if (section == nullptr || section->is(Value::Kind::kNull) ||
      (section->is(Value::Kind::kMap) && section->entries.empty()) || section->unresolved) {
    sink_.error(section != nullptr ? section->line : 0, "", "functions",
                section != nullptr && section->unresolved ? "cannot be resolved; there is nothing to run"
                                                         : "no functions; there is nothing to run");
    return functions;
  }
  if (!section->is(Value::Kind::kMap)) {
    sink_.error(section->line, "", "functions", "must be a mapping of function names to definitions");
    return functions;
  }
  if (!service || !provider || !dir) return functions;
  const ServiceLayers layers = read_layers(*dir);

  std::map<std::string, std::string> owner_of_name;
  for (const auto& entry : section->entries) {
    const std::size_t errors_before = sink_.error_count();
    Value definition = resolved_section ? entry.value : resolve_function(entry.key, entry.value);
    if (sink_.error_count() != errors_before) continue;  // a variable of this function is in error
    if (definition.is(Value::Kind::kNull)) definition.kind = Value::Kind::kMap;  // `hello:` with nothing set
    if (!definition.is(Value::Kind::kMap)) {
      sink_.error(entry.value.line, entry.key, "", "a function must be a mapping (handler, runtime, ...)");
      continue;
    }
    FunctionReader reader(entry.key, definition, *provider, layers, sink_);
    auto config = reader.read(*service, stage, *dir);
    if (!config) continue;
    if (auto [it, inserted] = owner_of_name.emplace(config->name, entry.key); !inserted) {
      sink_.error(entry.value.line, entry.key, "name",
                  fmt::format("function name {} is already used by {}", config->name, it->second));
      continue;
    }
    functions.push_back(std::move(*config));
  }
  return functions;
}

// Only the keys lambdad reads are resolved: events, iam, vpc and the like often name things only
// AWS knows (${cf:...}, ${ssm:...}), and warning about what is never used would be noise.
template <std::size_t N>
Value ServerlessLoader::resolve_keys(const Path& path, const Value& raw, const std::array<std::string_view, N>& keys) {
  if (!raw.is(Value::Kind::kMap)) return resolver_.get(path).value_or(Value{});
  Value out;
  out.kind = Value::Kind::kMap;
  out.line = raw.line;
  Path child = path;
  child.emplace_back();
  for (const auto& entry : raw.entries) {
    child.back() = entry.key;
    Value placeholder;
    placeholder.line = entry.value.line;
    const bool used = contains(keys, entry.key) && entry.key != "events";
    out.entries.push_back(Entry{entry.key, used ? resolver_.get(child).value_or(placeholder) : placeholder});
  }
  return out;
}

Value ServerlessLoader::resolve_function(const std::string& key, const Value& raw) {
  return resolve_keys(Path{"functions", key}, raw, kFunctionKeysUsed);
}

std::optional<std::string> ServerlessLoader::service_name() {
  const std::size_t errors_before = sink_.error_count();
  std::optional<Value> service = resolver_.get(Path{"service"});
  if (sink_.error_count() != errors_before) return std::nullopt;  // its variable is in error
  if (service && service->is(Value::Kind::kMap)) {
    // Framework v1 wrote `service: {name: ...}`.
    const Value* name = service->find("name");
    service = name != nullptr ? std::optional<Value>(*name) : std::nullopt;
  }
  if (!service || service->is(Value::Kind::kNull)) {
    sink_.error(0, "", "service", "required property is missing (the service name)");
    return std::nullopt;
  }
  if (!service->is(Value::Kind::kScalar) || !service->tag.empty()) {
    sink_.error(service->line, "", "service", fmt::format("must be a string, not {}", kind_name(*service)));
    return std::nullopt;
  }
  std::string name = js_text(*service);
  if (name.empty()) {
    sink_.error(service->line, "", "service",
                service->unresolved ? "is empty because its variable could not be resolved" : "must not be empty");
    return std::nullopt;
  }
  return name;
}

std::optional<Value> ServerlessLoader::read_provider() {
  const Value* raw = root_.find("provider");
  std::optional<Value> provider;
  const std::size_t errors_before = sink_.error_count();
  if (raw != nullptr) provider = resolve_keys(Path{"provider"}, *raw, kProviderKeysUsed);
  bool ok = sink_.error_count() == errors_before;  // a variable of provider is in error
  if (!provider || provider->is(Value::Kind::kNull)) {
    sink_.error(0, "", "provider", "required property is missing (provider: {name: aws, runtime: ...})");
    return std::nullopt;
  }
  if (!provider->is(Value::Kind::kMap)) {
    sink_.error(provider->line, "", "provider", fmt::format("must be a mapping, not {}", kind_name(*provider)));
    return std::nullopt;
  }
  const Value* name = provider->find("name");
  if (name == nullptr) {
    sink_.error(provider->line, "provider", "name", "required property is missing (name: aws)");
    ok = false;
  } else if (!name->is(Value::Kind::kScalar) || name->text != "aws") {
    sink_.error(name->line, "provider", "name",
                fmt::format("provider {} is not supported; lambdad runs AWS Lambda functions (name: aws)",
                            name->is(Value::Kind::kScalar) ? name->text : std::string(kind_name(*name))));
    ok = false;
  }
  for (const auto& entry : provider->entries) {
    if (!contains(kProviderKeysUsed, entry.key) && !contains(kProviderKeysIgnored, entry.key)) {
      sink_.warning(entry.value.line, "provider", entry.key, "unknown provider property; ignored");
    }
  }
  if (!ok) return std::nullopt;
  return provider;
}

// The top-level `layers:` section: NAME: {path: dir, name: ..., compatibleRuntimes: [...], ...}.
ServiceLayers ServerlessLoader::read_layers(const std::filesystem::path& dir) {
  ServiceLayers layers;
  if (root_.find("layers") == nullptr) return layers;
  const std::optional<Value> section = resolver_.get(Path{"layers"});
  if (!section || section->is(Value::Kind::kNull)) return layers;
  if (!section->is(Value::Kind::kMap)) {
    sink_.error(section->line, "", "layers", "must be a mapping of layer names to definitions (path: ./dir)");
    return layers;
  }
  for (const auto& entry : section->entries) {
    ServiceLayer layer;
    layer.key = entry.key;
    layer.logical_id = framework_layer_logical_id(entry.key);
    const Value& definition = entry.value;
    std::string name = entry.key;
    if (!definition.is(Value::Kind::kMap)) {
      sink_.error(definition.line, "layers", entry.key, "a layer must be a mapping with a path");
      continue;
    }
    if (const Value* n = definition.find("name"); n != nullptr && n->is(Value::Kind::kScalar) && !n->text.empty()) {
      name = js_text(*n);
    }
    if (!is_valid_layer_name(name)) {
      sink_.error(definition.line, "layers", entry.key,
                  fmt::format("{} is not a valid layer name (1 to 140 of a-z A-Z 0-9 - _)", name));
      continue;
    }
    layer.arn = local_layer_arn(resolver_.region(), account_id_, name);
    const Value* path = definition.find("path");
    if (const Value* package = definition.find("package"); package != nullptr && package->find("artifact") != nullptr) {
      // Fine while no function uses it; a function that does is an error.
      layer.problem = "its package.artifact is a zip; lambdad needs a local directory (path: ./dir)";
    } else if (path == nullptr || !path->is(Value::Kind::kScalar) || path->text.empty()) {
      sink_.error(definition.line, "layers", entry.key + ".path",
                  "required property is missing; a local directory is required");
      layer.problem = "it has no path";
    } else {
      auto resolved = local_directory(dir, path->text);
      if (auto* problem = std::get_if<std::string>(&resolved)) {
        sink_.error(path->line, "layers", entry.key + ".path", *problem);
        layer.problem = fmt::format("its path is in error ({})", *problem);
      } else {
        layer.dir = std::get<std::filesystem::path>(std::move(resolved));
      }
    }
    layers.push_back(std::move(layer));
  }
  return layers;
}

std::optional<std::filesystem::path> ServerlessLoader::service_dir() {
  // The Framework packages the service directory: the one holding serverless.yml.
  std::error_code ec;
  std::filesystem::path dir = file_.parent_path();
  if (dir.empty()) dir = ".";
  auto absolute = std::filesystem::absolute(dir, ec);
  if (!ec) dir = absolute;
  const auto status = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::is_directory(status)) {
    sink_.error(0, "", "", fmt::format("the service directory {} does not exist", dir.lexically_normal().string()));
    return std::nullopt;
  }
  auto canonical = std::filesystem::weakly_canonical(dir, ec);
  if (ec) canonical = dir.lexically_normal();
  if (!canonical.has_filename() && canonical.has_parent_path()) canonical = canonical.parent_path();  // "dir/"
  return canonical;
}

}  // namespace

TemplateLoad load_serverless_text(const std::string& text, const std::filesystem::path& file,
                                  const ServerlessOptions& options) {
  const std::string file_name = file.string();
  auto parsed = parse_yaml(text, file);
  if (auto* failed = std::get_if<TemplateLoad>(&parsed)) return std::move(*failed);
  const YAML::Node root = std::get<YAML::Node>(std::move(parsed));
  try {
    DiagnosticSink sink(file_name);
    TemplateLoad load;
    if (std::optional<Value> document = YamlReader(sink).read(root); document && sink.error_count() == 0) {
      load.functions = ServerlessLoader(*document, file, options, sink).run();
    }
    load.errors = sink.take_errors();
    load.warnings = sink.take_warnings();
    return load;
  } catch (const YAML::Exception& e) {
    // Only a bug of ours lands here; say so rather than crash a daemon start.
    return single_error(file, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                        fmt::format("internal error while reading the file: {}", e.msg));
  } catch (const std::exception& e) {
    return single_error(file, 0, fmt::format("internal error while reading the file: {}", e.what()));
  }
}

TemplateLoad load_serverless(const std::filesystem::path& file, const ServerlessOptions& options) {
  auto text = read_source_file(file, "serverless.yml");
  if (auto* failed = std::get_if<TemplateLoad>(&text)) return std::move(*failed);
  return load_serverless_text(std::get<std::string>(text), file, options);
}

}  // namespace lambdad::config
