// events (private): what the sample event engine (event_template.cpp) and its helpers share. A helper is a
// function a template calls as {"$name": ARG}; these are the plumbing and the helpers that know
// the shapes of AWS's events (event_helpers.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"

namespace lambdad::events::template_helpers {

using Json = nlohmann::ordered_json;
using Args = std::vector<Json>;  // evaluated, every one present

// A fault of the template itself (an unknown name, an argument of the wrong type): a bug that the
// unit tests, which render every template, find. Option values the template rejects are Errors.
struct TemplateFault : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Source;  // the event's ids and clock (event_template.cpp)
using Function = Result<Json> (*)(Args& args, Source& source);

struct Helper {
  std::string_view name;  // with its $
  std::size_t min_args;
  std::size_t max_args;  // 1: the argument as written; otherwise an array of them
  Function function;
};

// The helpers for HTTP requests, DynamoDB items and JSON options.
std::span<const Helper> aws_helpers();

inline Json absent() { return Json(Json::value_t::discarded); }
inline Error invalid(std::string message) { return invalid_input(std::move(message)); }

std::string text_of(const Json& value);  // a string as it is, an integer in decimal
std::string lower(std::string text);
std::string upper(std::string text);
std::string to_hex(std::string_view bytes);
// Percent-encoding of all but the unreserved characters and those in `keep`.
std::string url_encode(std::string_view text, std::string_view keep);

}  // namespace lambdad::events::template_helpers
