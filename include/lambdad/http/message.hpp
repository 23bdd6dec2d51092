// http: plain request/response values. Beast stays inside src/http/*.cpp so that handlers (and
// everything that includes them) compile without it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambdad::http {

enum class Method { kGet, kPost, kPut, kDelete, kHead, kPatch, kOther };

std::string_view method_name(Method m);

// Ordered, case-insensitive multimap of header fields (trailers of chunked bodies included).
class Headers {
 public:
  struct Field {
    std::string name;
    std::string value;
  };

  void add(std::string name, std::string value) { fields_.push_back({std::move(name), std::move(value)}); }
  // First value of a field, compared case-insensitively; nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  const std::vector<Field>& fields() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

struct Request {
  Method method = Method::kOther;
  std::string target;  // as sent: path and query
  std::string path;    // raw (still percent-encoded) path
  std::string query;   // after '?', raw
  Headers headers;
  std::string body;
  // The body was longer than the route's limit: `body` is empty, `body_size` says how long it was
  // (when the whole body was read) and the connection is closed after the response.
  bool body_too_large = false;
  std::size_t body_size = 0;
  std::vector<std::pair<std::string, std::string>> path_params;  // {name} captures, decoded

  std::string_view param(std::string_view name) const;
  // Decoded value of a query parameter; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  Headers headers;
  std::string body;
  bool close = false;  // close the connection after writing
};

// Completes an exchange. Call it exactly once, from the thread of the server's io_context;
// later calls are ignored.
using Responder = std::function<void(Response)>;

// Percent-decoding of one path segment or query value ('+' stays '+' in paths).
std::string percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace lambdad::http
