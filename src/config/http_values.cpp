// config (internal): the small values of the HTTP fronts: scalars, paths, methods, function ARNs,
// the three CORS forms and FunctionUrlConfig.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "http_reader.hpp"
#include "key_lists.hpp"

namespace lambdad::config {
namespace {

using Kind = TemplateValue::Kind;

constexpr int kMaxCorsAgeSeconds = 86400;
constexpr std::size_t kMaxUrlCorsItems = 100;
constexpr std::size_t kMaxUrlCorsMethods = 6;
constexpr std::size_t kMaxUrlCorsHeader = 1024;
constexpr std::size_t kMaxUrlCorsOrigin = 253;

constexpr std::array<std::string_view, 4> kUrlConfigKeys = {"AuthType", "InvokeMode", "Cors", "Qualifier"};
constexpr std::array<std::string_view, 6> kUrlCorsKeys = {"AllowCredentials", "AllowHeaders",  "AllowMethods",
                                                          "AllowOrigins",     "ExposeHeaders", "MaxAge"};
constexpr std::array<std::string_view, 5> kRestCorsKeys = {"AllowOrigin", "AllowMethods", "AllowHeaders", "MaxAge",
                                                           "AllowCredentials"};

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string unresolved_message(const TemplateValue& v) {
  std::string message = v.text + " cannot be resolved locally";
  if (!v.hint.empty()) message += " (" + v.hint + ")";
  return message + "; a local value is required";
}

bool is_param_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '-' || c == '.';
  });
}

// SAM's REST Cors values are API Gateway header mappings: a string literal in single quotes.
std::optional<std::string> unquote(HttpValueReader& reader, const TemplateValue& v, std::string_view path) {
  auto s = reader.text(v, path);
  if (!s) return std::nullopt;
  if (s->size() < 2 || s->front() != '\'' || s->back() != '\'') {
    reader.error(v, path, fmt::format("must be a quoted string such as \"'{}'\" (got {})", *s, *s));
    return std::nullopt;
  }
  return s->substr(1, s->size() - 2);
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t comma = std::min(s.find(',', pos), s.size());
    std::string_view item = s.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

// Method names in a CORS list: upper-case, "*" allowed.
bool cors_methods(HttpValueReader& reader, const TemplateValue& at, std::string_view path,
                  std::vector<std::string>& methods) {
  for (auto& m : methods) {
    if (m == "*") continue;
    auto method = http_method(m);
    if (!method || *method == "ANY") {
      reader.error(at, path, fmt::format("{} is not an HTTP method", m));
      return false;
    }
    m = *method;
  }
  return true;
}

}  // namespace

std::optional<std::string> HttpValueReader::text(const TemplateValue& v, std::string_view path) {
  if (v.is(Kind::kString)) return v.text;
  error(v, path, v.is(Kind::kUnresolved) ? unresolved_message(v) : not_text_message(v));
  return std::nullopt;
}

std::optional<bool> HttpValueReader::boolean(const TemplateValue& v, std::string_view path) {
  auto s = text(v, path);
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "True" || *s == "TRUE") return true;
  if (*s == "false" || *s == "False" || *s == "FALSE") return false;
  error(v, path, fmt::format("must be true or false (got {})", *s));
  return std::nullopt;
}

std::optional<int> HttpValueReader::integer(const TemplateValue& v, std::string_view path, int min, int max) {
  auto s = text(v, path);
  if (!s) return std::nullopt;
  int value = 0;
  const char* end = s->data() + s->size();
  auto [ptr, ec] = std::from_chars(s->data(), end, value);
  if (s->empty() || ec != std::errc{} || ptr != end || value < min || value > max) {
    error(v, path, fmt::format("must be an integer between {} and {} (got {})", min, max, s->empty() ? "''" : *s));
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> HttpValueReader::text_list(const TemplateValue& v, std::string_view path,
                                                                   bool single) {
  if (single && v.is(Kind::kString)) return std::vector<std::string>{v.text};
  if (!v.is(Kind::kList)) {
    if (v.failed() || v.is(Kind::kNull)) {
      text(v, path);
    } else {
      error(v, path, "must be a list of strings");
    }
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : v.items) {
    auto s = text(item, path);
    if (s) out.push_back(std::move(*s));
    ok = ok && s.has_value();
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> HttpValueReader::stage_variables(const TemplateValue& v,
                                                                                  std::string_view path) {
  if (!mapping(v, path)) return std::nullopt;
  std::map<std::string, std::string> out;
  bool ok = true;
  for (const auto& entry : v.entries) {
    const std::string at = fmt::format("{}.{}", path, entry.key);
    const bool name_ok = !entry.key.empty() && std::all_of(entry.key.begin(), entry.key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!name_ok) {
      error(entry.value, at, "a stage variable's name may hold only letters, digits and underscores");
      ok = false;
      continue;
    }
    auto value = text(entry.value, at);
    if (value) out[entry.key] = std::move(*value);
    ok = ok && value.has_value();
  }
  if (!ok) return std::nullopt;
  return out;
}

bool HttpValueReader::mapping(const TemplateValue& v, std::string_view path) {
  if (v.is(Kind::kMap)) return true;
  if (v.failed() || v.is(Kind::kNull)) {
    text(v, path);
  } else {
    error(v, path, "must be a mapping");
  }
  return false;
}

void HttpValueReader::warn_unknown_keys(const TemplateValue& v, std::string_view path,
                                        std::span<const std::string_view> known, std::string_view what) {
  for (const auto& entry : v.entries) {
    if (contains(known, entry.key)) continue;
    warning(entry.value, fmt::format("{}.{}", path, entry.key), fmt::format("unknown property of {}; ignored", what));
  }
}

bool add_websocket_identity_source(std::string_view source, HttpAuthorizer& authorizer) {
  constexpr std::string_view kHeader = "route.request.header.";
  constexpr std::string_view kQuery = "route.request.querystring.";
  constexpr std::string_view kStage = "stageVariables.";
  constexpr std::string_view kContext = "context.";
  if (source.starts_with(kHeader) && source.size() > kHeader.size()) {
    authorizer.identity_headers.emplace_back(source.substr(kHeader.size()));
  } else if (source.starts_with(kQuery) && source.size() > kQuery.size()) {
    authorizer.identity_query_strings.emplace_back(source.substr(kQuery.size()));
  } else if (source.starts_with(kStage) && source.size() > kStage.size()) {
    authorizer.identity_stage_variables.emplace_back(source.substr(kStage.size()));
  } else if (source.starts_with(kContext) && source.size() > kContext.size()) {
    authorizer.identity_context.emplace_back(source.substr(kContext.size()));
  } else {
    return false;
  }
  return true;
}

std::optional<std::string> normalise_http_path(std::string_view path, std::string& problem) {
  if (path.empty()) {
    problem = "must not be empty";
    return std::nullopt;
  }
  std::string out = path.front() == '/' ? std::string(path) : "/" + std::string(path);
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out == "/") return out;
  std::size_t pos = 1;
  while (pos <= out.size()) {
    const std::size_t slash = std::min(out.find('/', pos), out.size());
    const std::string_view segment = std::string_view(out).substr(pos, slash - pos);
    const bool last = slash == out.size();
    if (segment.empty()) {
      problem = fmt::format("{} has an empty segment", path);
      return std::nullopt;
    }
    if (segment.find_first_of("{}") != std::string_view::npos) {
      const bool whole = segment.front() == '{' && segment.back() == '}' && segment.size() > 2;
      std::string_view name = whole ? segment.substr(1, segment.size() - 2) : std::string_view{};
      const bool greedy = name.ends_with('+');
      if (greedy) name.remove_suffix(1);
      if (!whole || !is_param_name(name)) {
        problem = fmt::format("{}: a path parameter must be a whole segment, {{name}} or {{name+}} (got {})", path,
                              segment);
        return std::nullopt;
      }
      if (greedy && !last) {
        problem = fmt::format("{}: a greedy parameter {} must be the last segment", path, segment);
        return std::nullopt;
      }
    }
    pos = slash + 1;
  }
  return out;
}

std::optional<std::string> http_method(std::string_view method) {
  static constexpr std::array<std::string_view, 8> kMethods = {"GET",   "POST", "PUT",     "DELETE",
                                                               "PATCH", "HEAD", "OPTIONS", "ANY"};
  std::string m = upper(method);
  if (m == "X-AMAZON-APIGATEWAY-ANY-METHOD" || m == "*") m = "ANY";
  if (!contains(kMethods, m)) return std::nullopt;
  return m;
}

std::optional<std::string> function_of_arn(std::string_view arn, const std::set<std::string>& functions) {
  // An invocation URI wraps the function ARN: .../functions/<arn>/invocations
  if (auto at = arn.find(":lambda:path/"); at != std::string_view::npos) {
    const auto begin = arn.find("/functions/", at);
    const auto end = arn.rfind("/invocations");
    if (begin == std::string_view::npos || end == std::string_view::npos || end < begin + 11) return std::nullopt;
    arn = arn.substr(begin + 11, end - begin - 11);
  }
  std::string_view name = arn;
  if (arn.starts_with("arn:")) {
    const auto at = arn.find(":function:");
    if (at == std::string_view::npos) return std::nullopt;
    name = arn.substr(at + 10);
    name = name.substr(0, name.find(':'));  // a qualifier (:alias, :3) serves the same function locally
  }
  if (!functions.contains(std::string(name))) return std::nullopt;
  return std::string(name);
}

namespace {

// A Cors mapping's MaxAge and AllowCredentials, when given; false when one is wrong (reported).
// REST's MaxAge may be quoted, as SAM documents it ("'600'"); a bare 600 is taken too.
enum class QuotedAge { kNo, kAllowed };
bool read_cors_age_and_credentials(HttpValueReader& reader, const TemplateValue& v, std::string_view path,
                                   HttpCors& cors, QuotedAge quoted) {
  bool ok = true;
  if (const TemplateValue* age = v.find("MaxAge")) {
    TemplateValue plain = *age;
    if (quoted == QuotedAge::kAllowed && plain.is(Kind::kString) && plain.text.size() >= 2 &&
        plain.text.front() == '\'' && plain.text.back() == '\'') {
      plain.text = plain.text.substr(1, plain.text.size() - 2);
    }
    cors.max_age_seconds = reader.integer(plain, fmt::format("{}.MaxAge", path), 0, kMaxCorsAgeSeconds);
    ok = cors.max_age_seconds.has_value();
  }
  if (const TemplateValue* credentials = v.find("AllowCredentials")) {
    auto b = reader.boolean(*credentials, fmt::format("{}.AllowCredentials", path));
    cors.allow_credentials = b.value_or(false);
    ok = b.has_value() && ok;
  }
  return ok;
}

}  // namespace

std::optional<HttpCors> read_url_cors(HttpValueReader& reader, const TemplateValue& v, std::string_view path) {
  if (!reader.mapping(v, path)) return std::nullopt;
  reader.warn_unknown_keys(v, path, kUrlCorsKeys, "Cors");
  HttpCors cors;
  bool ok = true;
  auto list = [&](std::string_view key, std::vector<std::string>& out, std::size_t max_items, std::size_t max_len) {
    const TemplateValue* item = v.find(key);
    if (item == nullptr) return;
    const std::string p = fmt::format("{}.{}", path, key);
    auto values = reader.text_list(*item, p);
    if (!values) {
      ok = false;
      return;
    }
    if (values->size() > max_items) {
      reader.error(*item, p, fmt::format("has {} items; at most {} are allowed", values->size(), max_items));
      ok = false;
      return;
    }
    for (const auto& s : *values) {
      if (s.empty() || s.size() > max_len) {
        reader.error(*item, p, fmt::format("each item must be 1 to {} characters (got '{}')", max_len, s));
        ok = false;
        return;
      }
    }
    out = std::move(*values);
  };
  list("AllowOrigins", cors.allow_origins, kMaxUrlCorsItems, kMaxUrlCorsOrigin);
  list("AllowHeaders", cors.allow_headers, kMaxUrlCorsItems, kMaxUrlCorsHeader);
  list("ExposeHeaders", cors.expose_headers, kMaxUrlCorsItems, kMaxUrlCorsHeader);
  list("AllowMethods", cors.allow_methods, kMaxUrlCorsMethods, 7);
  if (const TemplateValue* m = v.find("AllowMethods"); m != nullptr && ok) {
    ok = cors_methods(reader, *m, fmt::format("{}.AllowMethods", path), cors.allow_methods);
  }
  ok = read_cors_age_and_credentials(reader, v, path, cors, QuotedAge::kNo) && ok;
  if (!ok) return std::nullopt;
  return cors;
}

std::optional<HttpCors> read_rest_cors(HttpValueReader& reader, const TemplateValue& v, std::string_view path) {
  HttpCors cors;
  if (v.is(Kind::kString) || v.failed()) {
    // Cors: "'*'" is AllowOrigin alone.
    auto origin = unquote(reader, v, path);
    if (!origin) return std::nullopt;
    cors.allow_origins = split_commas(*origin);
    return cors;
  }
  if (!reader.mapping(v, path)) return std::nullopt;
  reader.warn_unknown_keys(v, path, kRestCorsKeys, "Cors");
  bool ok = true;
  const TemplateValue* origin = v.find("AllowOrigin");
  if (origin == nullptr) {
    reader.error(v, fmt::format("{}.AllowOrigin", path), "required property is missing");
    ok = false;
  } else if (auto s = unquote(reader, *origin, fmt::format("{}.AllowOrigin", path))) {
    cors.allow_origins = split_commas(*s);
  } else {
    ok = false;
  }
  if (const TemplateValue* methods = v.find("AllowMethods")) {
    const std::string p = fmt::format("{}.AllowMethods", path);
    auto s = unquote(reader, *methods, p);
    if (s) {
      cors.allow_methods = split_commas(*s);
      ok = cors_methods(reader, *methods, p, cors.allow_methods) && ok;
    } else {
      ok = false;
    }
  }
  if (const TemplateValue* headers = v.find("AllowHeaders")) {
    auto s = unquote(reader, *headers, fmt::format("{}.AllowHeaders", path));
    if (s) cors.allow_headers = split_commas(*s);
    ok = ok && s.has_value();
  }
  ok = read_cors_age_and_credentials(reader, v, path, cors, QuotedAge::kAllowed) && ok;
  if (!ok) return std::nullopt;
  return cors;
}

std::optional<HttpCors> read_http_api_cors(HttpValueReader& reader, const TemplateValue& v, std::string_view path) {
  if (v.is(Kind::kString) || v.failed()) {
    auto enabled = reader.boolean(v, path);
    if (!enabled) return std::nullopt;
    if (!*enabled) return HttpCors{};  // an empty configuration: no origin is allowed
    // CorsConfiguration: true allows every origin, header and method.
    HttpCors all;
    all.allow_origins = {"*"};
    all.allow_headers = {"*"};
    all.allow_methods = {"*"};
    return all;
  }
  return read_url_cors(reader, v, path);
}

std::optional<FunctionUrl> read_function_url(HttpValueReader& reader, const TemplateValue& v,
                                             const std::string& function_name) {
  constexpr std::string_view kPath = "Properties.FunctionUrlConfig";
  if (!reader.mapping(v, kPath)) return std::nullopt;
  reader.warn_unknown_keys(v, kPath, kUrlConfigKeys, "FunctionUrlConfig");
  FunctionUrl url;
  url.function_name = function_name;
  url.line = v.line;
  bool ok = true;
  const TemplateValue* auth = v.find("AuthType");
  if (auth == nullptr) {
    reader.error(v, fmt::format("{}.AuthType", kPath), "required property is missing (NONE or AWS_IAM)");
    ok = false;
  } else if (auto s = reader.text(*auth, fmt::format("{}.AuthType", kPath))) {
    if (*s == "NONE") {
      url.auth_type = FunctionUrl::AuthType::kNone;
    } else if (*s == "AWS_IAM") {
      url.auth_type = FunctionUrl::AuthType::kAwsIam;
    } else {
      reader.error(*auth, fmt::format("{}.AuthType", kPath), fmt::format("must be NONE or AWS_IAM (got {})", *s));
      ok = false;
    }
  } else {
    ok = false;
  }
  if (const TemplateValue* mode = v.find("InvokeMode")) {
    const std::string p = fmt::format("{}.InvokeMode", kPath);
    if (auto s = reader.text(*mode, p)) {
      if (*s == "BUFFERED") {
        url.invoke_mode = FunctionUrl::InvokeMode::kBuffered;
      } else if (*s == "RESPONSE_STREAM") {
        url.invoke_mode = FunctionUrl::InvokeMode::kResponseStream;
      } else {
        reader.error(*mode, p, fmt::format("must be BUFFERED or RESPONSE_STREAM (got {})", *s));
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (const TemplateValue* cors = v.find("Cors")) {
    url.cors = read_url_cors(reader, *cors, fmt::format("{}.Cors", kPath));
    ok = ok && url.cors.has_value();
  }
  if (!ok) return std::nullopt;
  return url;
}

}  // namespace lambdad::config
