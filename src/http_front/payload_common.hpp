// http_front: pieces both payload formats use. Private to src/http_front.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/request_view.hpp"

namespace lambdad::http_front {

// A Cookie header's pairs, split on ";" with the spaces around each trimmed; empty ones dropped.
std::vector<std::string> split_cookie_header(std::string_view value);
// x-forwarded-for, -proto and -port, each when `headers` (lower-case names) lacks it.
void add_forwarded_headers(nlohmann::json& headers, const RequestView& request);
// The host's first label ("abc" of "abc.lambda-url.localhost").
std::string domain_prefix(std::string_view host);
// JSON text as the function's result would be written: compact, invalid UTF-8 replaced.
std::string dump_json(const nlohmann::json& value);
// statusCode: an integer, or a string of digits, within 100..599.
std::optional<int> status_code(const nlohmann::json& value);
// A response header value: a string, or a number or boolean written as JSON.
std::optional<std::string> header_text(const nlohmann::json& value);
// A payload 2.0 result's (or a streaming URL's prelude's) `headers` object and `cookies` array
// (each a Set-Cookie header), added to `answer`; absent or null are none. `what` names the
// document in the errors ("" or "the prelude's ").
std::optional<FrontError> read_headers_and_cookies(const nlohmann::json& doc, std::string_view what,
                                                   HttpAnswer& answer);
// The result's body: absent or null is empty; a string is itself; anything else is written as JSON.
std::optional<std::string> body_text(const nlohmann::json& result);
// Whether isBase64Encoded is true.
bool base64_flag(const nlohmann::json& result);
// The value at a dotted path of objects ("a.b.c") in `root`, or nullptr where the path leads
// nowhere (a missing key, a value that is not an object on the way).
const nlohmann::json* find_path(const nlohmann::json& root, std::string_view path);
// Whether `content_type` is one of `types` (as API Gateway's binaryMediaTypes: "image/png",
// "image/*", "*/*"); parameters after ';' are ignored.
bool matches_media_type(std::string_view content_type, const std::vector<std::string>& types);

}  // namespace lambdad::http_front
