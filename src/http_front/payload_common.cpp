#include "payload_common.hpp"

namespace lambdad::http_front {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string> split_cookie_header(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    const auto semi = value.find(';');
    const auto piece = trim(value.substr(0, semi));
    if (!piece.empty()) out.emplace_back(piece);
    if (semi == std::string_view::npos) break;
    value.remove_prefix(semi + 1);
  }
  return out;
}

void add_forwarded_headers(nlohmann::json& headers, const RequestView& request) {
  if (!headers.contains("x-forwarded-for") && !request.peer_ip.empty()) headers["x-forwarded-for"] = request.peer_ip;
  if (!headers.contains("x-forwarded-proto")) headers["x-forwarded-proto"] = "http";
  if (!headers.contains("x-forwarded-port") && request.port != 0) headers["x-forwarded-port"] = std::to_string(request.port);
}

std::string domain_prefix(std::string_view host) { return std::string(host.substr(0, host.find('.'))); }

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<int> status_code(const nlohmann::json& value) {
  long long code = 0;
  if (value.is_number_integer()) {
    code = value.get<long long>();
  } else if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (s.empty() || s.size() > 3) return std::nullopt;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    code = std::stoll(s);
  } else {
    return std::nullopt;
  }
  if (code < 100 || code > 599) return std::nullopt;
  return static_cast<int>(code);
}

std::optional<std::string> header_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  return std::nullopt;
}

std::optional<FrontError> read_headers_and_cookies(const nlohmann::json& doc, std::string_view what,
                                                   HttpAnswer& answer) {
  if (auto it = doc.find("headers"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return FrontError{FrontErrorKind::kMalformedResponse, std::string(what) + "headers is not an object"};
    for (const auto& [name, value] : it->items()) {
      auto text = header_text(value);
      if (!text) return FrontError{FrontErrorKind::kMalformedResponse, "header " + name + " is not a string"};
      answer.headers.push_back({name, std::move(*text)});
    }
  }
  if (auto it = doc.find("cookies"); it != doc.end() && !it->is_null()) {
    if (!it->is_array()) return FrontError{FrontErrorKind::kMalformedResponse, std::string(what) + "cookies is not an array"};
    for (const auto& c : *it) {
      if (!c.is_string()) return FrontError{FrontErrorKind::kMalformedResponse, "a cookie is not a string"};
      answer.headers.push_back({"Set-Cookie", c.get<std::string>()});
    }
  }
  return std::nullopt;
}

std::optional<std::string> body_text(const nlohmann::json& result) {
  const auto it = result.find("body");
  if (it == result.end() || it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  return dump_json(*it);
}

bool base64_flag(const nlohmann::json& result) {
  const auto it = result.find("isBase64Encoded");
  return it != result.end() && it->is_boolean() && it->get<bool>();
}

bool matches_media_type(std::string_view content_type, const std::vector<std::string>& types) {
  auto type = to_lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type.empty()) return false;
  const auto slash = type.find('/');
  for (const auto& t : types) {
    const auto want = to_lower(t);
    if (want == "*/*" || want == type) return true;
    if (want.ends_with("/*") && slash != std::string::npos && type.compare(0, slash + 1, want, 0, want.size() - 1) == 0) {
      return true;
    }
  }
  return false;
}

const nlohmann::json* find_path(const nlohmann::json& root, std::string_view path) {
  const nlohmann::json* at = &root;
  while (true) {
    if (!at->is_object()) return nullptr;
    const auto dot = path.find('.');
    const auto it = at->find(std::string(path.substr(0, dot)));
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string_view::npos) return at;
    path.remove_prefix(dot + 1);
  }
}

}  // namespace lambdad::http_front
