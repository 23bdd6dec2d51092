#include "lambdad/invoke_api/sigv4.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

namespace lambdad::invoke_api::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kMissingToken = "MissingAuthenticationTokenException";
constexpr std::string_view kIncomplete = "IncompleteSignatureException";
constexpr std::string_view kUnrecognized = "UnrecognizedClientException";
constexpr std::string_view kInvalid = "InvalidSignatureException";

ServiceError rejection(std::string_view type, std::string message) {
  return ServiceError{403, std::string(type), std::move(message), {}};
}

Error invalid_input(std::string message) {
  return Error{ErrorKind::kInvalidInput, std::string(kIncomplete), std::move(message)};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

std::string hmac_raw(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// Percent-encodes every byte but the unreserved ones (and '/' when `keep_slash`), upper-case hex.
std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
  return out;
}

// `Credential=AKID/20150830/us-east-1/lambda/aws4_request` and its siblings.
std::optional<std::string_view> component(std::string_view params, std::string_view name) {
  std::size_t start = 0;
  while (start <= params.size()) {
    auto comma = params.find(',', start);
    auto part = trim(params.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (part.size() > name.size() && part.substr(0, name.size()) == name && part[name.size()] == '=') {
      return trim(part.substr(name.size() + 1));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return std::nullopt;
}

Result<SigningKeys> parse_json_keys(std::string_view text, std::string_view origin) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return invalid_input(fmt::format("{}: not a JSON object of access key id -> secret access key", origin));
  }
  SigningKeys keys;
  for (const auto& [akid, secret] : doc.items()) {
    if (akid.empty()) return invalid_input(fmt::format("{}: an access key id is empty", origin));
    if (!secret.is_string() || secret.get_ref<const std::string&>().empty()) {
      return invalid_input(fmt::format("{}: key '{}': the secret access key must be a non-empty string", origin, akid));
    }
    keys.secrets.emplace(akid, secret.get<std::string>());
  }
  return keys;
}

Result<SigningKeys> parse_ini_keys(std::string_view text, std::string_view origin) {
  struct Profile {
    std::string name;
    std::size_t line = 0;
    std::optional<std::string> akid, secret;
    std::size_t akid_line = 0;
  };
  std::vector<Profile> profiles;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return invalid_input(fmt::format("{}:{}: a section header must end with ']'", origin, line_no));
      profiles.push_back({std::string(trim(line.substr(1, line.size() - 2))), line_no, {}, {}, 0});
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      return invalid_input(fmt::format("{}:{}: expected 'key = value' or '[profile]', got '{}'", origin, line_no, line));
    }
    if (profiles.empty()) {
      return invalid_input(fmt::format("{}:{}: '{}' comes before any [profile] section", origin, line_no, trim(line.substr(0, eq))));
    }
    const auto key = lower(trim(line.substr(0, eq)));
    const auto value = std::string(trim(line.substr(eq + 1)));
    auto& p = profiles.back();
    if (key == "aws_access_key_id") {
      p.akid = value;
      p.akid_line = line_no;
    } else if (key == "aws_secret_access_key") {
      p.secret = value;
    }
  }
  SigningKeys keys;
  for (const auto& p : profiles) {
    if (!p.akid && !p.secret) continue;  // e.g. a profile with only a region or a role
    if (!p.akid || p.akid->empty()) {
      return invalid_input(fmt::format("{}:{}: [{}] has aws_secret_access_key but no aws_access_key_id", origin, p.line, p.name));
    }
    if (!p.secret || p.secret->empty()) {
      return invalid_input(fmt::format("{}:{}: [{}] has aws_access_key_id but no aws_secret_access_key", origin, p.line, p.name));
    }
    auto [it, added] = keys.secrets.emplace(*p.akid, *p.secret);
    if (!added && it->second != *p.secret) {
      return invalid_input(fmt::format("{}:{}: access key id {} is listed twice with different secrets", origin,
                                       p.akid_line, *p.akid));
    }
  }
  return keys;
}

}  // namespace

Result<SigningKeys> parse_signing_keys(std::string_view text, std::string_view origin) {
  auto first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && text[first] == '{';
  auto keys = json ? parse_json_keys(text, origin) : parse_ini_keys(text, origin);
  if (keys && keys->secrets.empty()) {
    return invalid_input(fmt::format(
        "{}: no keys (expected {{\"AKID\": \"secret\"}} or [profile] sections with aws_access_key_id and "
        "aws_secret_access_key)",
        origin));
  }
  return keys;
}

Result<SigningKeys> load_signing_keys(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return invalid_input(fmt::format("{}: cannot be read", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  return parse_signing_keys(text.str(), file.string());
}

Result<Authorization> parse_authorization(std::string_view header) {
  header = trim(header);
  auto space = header.find(' ');
  const auto algorithm = header.substr(0, space);
  if (algorithm != kAlgorithm) {
    return invalid_input(fmt::format("Unsupported AWS 'algorithm': '{}' (only {} is accepted)", algorithm, kAlgorithm));
  }
  const auto params = space == std::string_view::npos ? std::string_view{} : header.substr(space + 1);
  auto credential = component(params, "Credential");
  auto signed_headers = component(params, "SignedHeaders");
  auto signature = component(params, "Signature");
  std::string missing;
  for (auto [value, name] : {std::pair{credential, "Credential"}, {signature, "Signature"}, {signed_headers, "SignedHeaders"}}) {
    if (!value || value->empty()) missing += fmt::format("Authorization header requires '{}' parameter. ", name);
  }
  if (!missing.empty()) return invalid_input(fmt::format("{}Authorization={}", missing, header));

  Authorization out;
  std::vector<std::string_view> scope;
  for (std::size_t start = 0;;) {
    auto slash = credential->find('/', start);
    scope.push_back(credential->substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (scope.size() != 5 || scope[0].empty()) {
    return invalid_input(fmt::format(
        "Credential should be AKID/YYYYMMDD/region/service/aws4_request, not '{}'. Authorization={}", *credential, header));
  }
  out.access_key_id = std::string(scope[0]);
  out.date = std::string(scope[1]);
  out.region = std::string(scope[2]);
  out.service = std::string(scope[3]);
  out.terminator = std::string(scope[4]);
  for (std::size_t start = 0;;) {
    auto semi = signed_headers->find(';', start);
    auto name = signed_headers->substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start);
    if (!name.empty()) out.signed_headers.push_back(lower(name));
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  out.signature = std::string(*signature);
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return hex(digest.data(), digest.size());
}

std::string canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  std::vector<std::string_view> segments;
  for (std::size_t start = 0;;) {
    auto slash = raw_path.find('/', start);
    auto seg = raw_path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string path = raw_path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i) path += '/';
    path += segments[i];
  }
  if (raw_path.back() == '/' && !segments.empty()) path += '/';
  return uri_encode(path, true);
}

std::string canonical_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t start = 0; start < raw_query.size();) {
    auto amp = raw_query.find('&', start);
    auto pair = raw_query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    start = amp == std::string_view::npos ? raw_query.size() : amp + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto name = pair.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    params.emplace_back(uri_encode(http::percent_decode(name), false), uri_encode(http::percent_decode(value), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string canonical_headers(const http::Headers& headers, const std::vector<std::string>& signed_headers) {
  std::string out;
  for (const auto& name : signed_headers) {
    std::string joined;
    bool first = true;
    for (const auto& field : headers.fields()) {
      if (lower(field.name) != name) continue;
      if (!first) joined += ',';
      first = false;
      // Trimmed, and each run of blanks inside the value made a single space.
      bool blank = false;
      for (char c : trim(field.value)) {
        if (c == ' ' || c == '\t') {
          blank = true;
          continue;
        }
        if (blank) joined += ' ';
        blank = false;
        joined += c;
      }
    }
    out += name;
    out += ':';
    out += joined;
    out += '\n';
  }
  return out;
}

std::string canonical_request(const http::Request& request, const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash) {
  std::string names;
  for (const auto& n : signed_headers) {
    if (!names.empty()) names += ';';
    names += n;
  }
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", http::method_name(request.method), canonical_uri(request.path),
                     canonical_query(request.query), canonical_headers(request.headers, signed_headers), names,
                     payload_hash);
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope, sha256_hex(canonical_request));
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  auto k = hmac_raw("AWS4" + std::string(secret), date);
  k = hmac_raw(k, region);
  k = hmac_raw(k, service);
  return hmac_raw(k, "aws4_request");
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  auto raw = hmac_raw(key, data);
  return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::int64_t> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto year = digits(0, 4), month = digits(4, 2), day = digits(6, 2);
  auto hour = digits(9, 2), minute = digits(11, 2), second = digits(13, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string format_amz_date(std::int64_t epoch_seconds) {
  const auto t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  const auto n = std::strftime(buf.data(), buf.size(), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf.data(), n);
}

std::optional<ServiceError> verify(const http::Request& request, const SigningKeys& keys, std::int64_t now,
                                   const VerifyOptions& options) {
  auto header = request.headers.get("Authorization");
  if (!header || trim(*header).empty()) return rejection(kMissingToken, "Missing Authentication Token");
  auto auth = parse_authorization(*header);
  if (!auth) return rejection(kIncomplete, auth.error().message);

  auto amz_date = request.headers.get("X-Amz-Date");
  if (!amz_date) {
    return rejection(kIncomplete, fmt::format("Authorization header requires existence of a 'X-Amz-Date' header. "
                                              "Authorization={}",
                                              trim(*header)));
  }
  const auto when = parse_amz_date(trim(*amz_date));
  if (!when) {
    return rejection(kIncomplete, fmt::format("Date must be in ISO-8601 'basic format'. Got '{}'. See "
                                              "http://en.wikipedia.org/wiki/ISO_8601",
                                              trim(*amz_date)));
  }

  auto key = keys.secrets.find(auth->access_key_id);
  if (key == keys.secrets.end()) {
    return rejection(kUnrecognized, "The security token included in the request is invalid.");
  }

  if (auth->terminator != "aws4_request") {
    return rejection(kInvalid, fmt::format("Credential should be scoped with a valid terminator: 'aws4_request', "
                                           "not '{}'.",
                                           auth->terminator));
  }
  if (auth->service != options.service) {
    return rejection(kInvalid, fmt::format("Credential should be scoped to correct service: '{}'. ", options.service));
  }
  if (auth->region != options.region) {
    return rejection(kInvalid, fmt::format("Credential should be scoped to a valid region, not '{}'. This endpoint "
                                           "serves '{}'.",
                                           auth->region, options.region));
  }
  const auto date_header = std::string(trim(*amz_date));
  if (auth->date != date_header.substr(0, 8)) {
    return rejection(kInvalid, fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                                           "of date from HTTP: '{}' != '{}', from 'X-Amz-Date'.",
                                           auth->date, date_header.substr(0, 8)));
  }
  const auto& signed_headers = auth->signed_headers;
  auto is_signed = [&](std::string_view name) {
    return std::find(signed_headers.begin(), signed_headers.end(), name) != signed_headers.end();
  };
  if (!is_signed("host")) {
    return rejection(kInvalid, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  // An unsigned date could be replaced to replay a captured request outside its window.
  if (!is_signed("x-amz-date")) {
    return rejection(kInvalid, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }

  if (*when < now - options.max_skew_seconds) {
    return rejection(kInvalid, fmt::format("Signature expired: {} is now earlier than {} ({} - {} min.)", date_header,
                                           format_amz_date(now - options.max_skew_seconds), format_amz_date(now),
                                           options.max_skew_seconds / 60));
  }
  if (*when > now + options.max_skew_seconds) {
    return rejection(kInvalid, fmt::format("Signature not yet current: {} is still later than {} ({} + {} min.)",
                                           date_header, format_amz_date(now + options.max_skew_seconds),
                                           format_amz_date(now), options.max_skew_seconds / 60));
  }

  // Without the body there is nothing to sign against; the route refuses it as too large.
  if (request.body_too_large) return std::nullopt;

  std::string payload_hash = sha256_hex(request.body);
  if (auto claimed = request.headers.get("X-Amz-Content-Sha256")) {
    if (!equal_constant_time(lower(trim(*claimed)), payload_hash)) {
      return rejection(kInvalid, "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    payload_hash = std::string(trim(*claimed));
  }

  const auto canonical = canonical_request(request, signed_headers, payload_hash);
  const auto scope = fmt::format("{}/{}/{}/{}", auth->date, auth->region, auth->service, auth->terminator);
  const auto to_sign = string_to_sign(date_header, scope, canonical);
  const auto expected = hmac_sha256_hex(signing_key(key->second, auth->date, auth->region, auth->service), to_sign);
  if (!equal_constant_time(expected, lower(auth->signature))) {
    return rejection(kInvalid, fmt::format("The request signature we calculated does not match the signature you "
                                           "provided. Check your AWS Secret Access Key and signing method. Consult "
                                           "the service documentation for details.\n\nThe Canonical String for this "
                                           "request should have been\n'{}'\n\nThe String-to-Sign should have "
                                           "been\n'{}'\n",
                                           canonical, to_sign));
  }
  return std::nullopt;
}

http::Response render_rejection(const ServiceError& error, const std::string& request_id) {
  http::Response r;
  r.status = error.status;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("X-Amzn-ErrorType", error.type);
  r.headers.add("x-amzn-RequestId", request_id);
  r.body = nlohmann::json{{"message", error.message}}.dump();
  return r;
}

}  // namespace lambdad::invoke_api::sigv4
