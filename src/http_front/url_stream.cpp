#include "lambdad/http_front/url_stream.hpp"

#include <nlohmann/json.hpp>

#include "payload_common.hpp"

namespace lambdad::http_front {
namespace {

constexpr std::string_view kDelimiter("\0\0\0\0\0\0\0\0", 8);
constexpr std::string_view kStreamDefault = "application/octet-stream";

// The type without parameters, in lower case ("Application/JSON; charset=x" -> "application/json").
std::string media_type(std::string_view content_type) {
  std::string out(content_type.substr(0, content_type.find(';')));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

Mapped head_from_prelude(std::string_view prelude, std::string_view rest) {
  auto doc = nlohmann::json::parse(prelude, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return FrontError{FrontErrorKind::kMalformedResponse, "the stream's prelude is not a JSON object"};
  }
  HttpAnswer answer;
  if (auto it = doc.find("statusCode"); it != doc.end() && !it->is_null()) {
    const auto status = status_code(*it);
    if (!status) return FrontError{FrontErrorKind::kMalformedResponse, "the prelude's statusCode is not an HTTP status"};
    answer.status = *status;
  }
  if (auto problem = read_headers_and_cookies(doc, "the prelude's ", answer)) return *problem;
  if (!first_header(answer.headers, "content-type")) answer.headers.push_back({"Content-Type", std::string(kStreamDefault)});
  answer.body = std::string(rest);
  return answer;
}

}  // namespace

std::optional<Mapped> read_stream_head(std::string_view content_type, std::string_view buffer, bool ended) {
  if (media_type(content_type) != kHttpIntegrationResponse) {
    HttpAnswer answer;
    answer.headers.push_back({"Content-Type", content_type.empty() ? std::string(kStreamDefault) : std::string(content_type)});
    answer.body = std::string(buffer);
    return answer;
  }
  const auto end = buffer.find(kDelimiter);
  if (end == std::string_view::npos) {
    if (!ended && buffer.size() <= kMaxPrelude) return std::nullopt;
    return FrontError{FrontErrorKind::kMalformedResponse, "the stream's prelude does not end with eight NUL bytes"};
  }
  return head_from_prelude(buffer.substr(0, end), buffer.substr(end + kDelimiter.size()));
}

}  // namespace lambdad::http_front
