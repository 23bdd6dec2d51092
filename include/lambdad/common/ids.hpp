// common: identifiers Lambda users recognise (request ids, trace ids, log stream names).
#pragma once

#include <cstdint>
#include <string>

namespace lambdad::ids {

// Lowercase UUID v4, e.g. "8476a536-e9f4-11e8-9739-2dfe598c3fcd".
std::string request_id();
// X-Ray trace header: "Root=1-<8 hex epoch s>-<24 hex>;Parent=<16 hex>;Sampled=0".
std::string trace_header(std::int64_t epoch_seconds);
// 32 lowercase hex chars, as in a log stream name's suffix.
std::string hex_id(std::size_t chars);

}  // namespace lambdad::ids
