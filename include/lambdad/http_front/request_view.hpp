// http_front: what the event builders need from an HTTP request (decision 020), and the answer a
// front gives. No Beast types: the front fills a RequestView from whatever parsed the request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambdad::http_front {

// The front a request came through; it decides the event's shape and the error answers.
enum class FrontKind {
  kFunctionUrl,  // a Lambda Function URL: payload 2.0 with the URL's fixed values
  kHttpApi,      // an API Gateway HTTP API (payload 2.0, or 1.0 where the integration says so)
  kRestApi,      // an API Gateway REST API: payload 1.0
};

struct Header {
  std::string name;  // as it arrived (original case)
  std::string value;
  friend bool operator==(const Header&, const Header&) = default;
};
using Headers = std::vector<Header>;

struct RequestView {
  std::string method;                // "GET"
  std::string target;                // path and query as sent, undecoded: "/items/a%20b?x=1&x=2"
  Headers headers;                   // in arrival order, repeats kept
  std::string_view body;             // the bytes; the caller keeps them alive
  std::string peer_ip;               // "127.0.0.1"
  std::string host;                  // the Host the client used, without the port
  std::string protocol = "HTTP/1.1";
  std::uint16_t port = 0;            // the port the client connected to (x-forwarded-port)
  std::string request_id;            // the front's request id (requestContext.requestId)
  std::int64_t epoch_ms = 0;         // when the request arrived
};

// The answer a front gives: status, headers in order (repeats kept), body.
struct HttpAnswer {
  int status = 200;
  Headers headers;
  std::string body;
};

// The target split at the first '?': the raw path and the raw query (without '?').
std::pair<std::string_view, std::string_view> split_target(std::string_view target);
// %XX decoded; '+' kept (paths). nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text);
// The query's name=value pairs in order, each side decoded ('+' is a space); a name without '='
// has an empty value; empty pieces are skipped; undecodable pieces are kept as sent.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
// The values of header `name` (case-insensitive), in order.
std::vector<std::string> header_values(const Headers& headers, std::string_view name);
std::optional<std::string> first_header(const Headers& headers, std::string_view name);
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view text);
// API Gateway's request time: "12/Mar/2020:19:03:58 +0000".
std::string format_request_time(std::int64_t epoch_ms);
bool is_valid_utf8(std::string_view bytes);
// The payload 2.0 body rule: a body is sent as text when it is valid UTF-8 and its content type is
// absent or text-like (text/*, JSON, XML, JavaScript, form-urlencoded, and +json / +xml types);
// otherwise base64 with isBase64Encoded true.
bool is_text_body(std::string_view content_type, std::string_view body);

}  // namespace lambdad::http_front
