// http_front: the head of a RESPONSE_STREAM Function URL's answer, read from the start of the
// function's stream (decision 020, lambda-spec §1.9 and §13.1). A stream whose content type is
// application/vnd.awslambda.http-integration-response begins with a JSON prelude
// ({"statusCode", "headers", "cookies"}) ended by eight NUL bytes; the rest is the body. Any other
// stream is the body itself, answered 200 with the stream's own content type.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "lambdad/http_front/errors.hpp"

namespace lambdad::http_front {

inline constexpr std::string_view kHttpIntegrationResponse = "application/vnd.awslambda.http-integration-response";
// A prelude longer than this without its eight NUL bytes is malformed (the answer is 502).
inline constexpr std::size_t kMaxPrelude = 64 * 1024;

// `buffer` holds the stream's first bytes (all of it when `ended`). Returns the answer's head with
// the body bytes after the prelude in `body`; nullopt while more bytes are needed; kMalformedResponse
// for a prelude that is not JSON, not an object, has a bad status or header, or never ends.
// Without a Content-Type of its own the answer gets application/octet-stream (the runtime's default).
std::optional<Mapped> read_stream_head(std::string_view content_type, std::string_view buffer, bool ended);

}  // namespace lambdad::http_front
