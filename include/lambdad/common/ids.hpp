// common: identifiers Lambda users recognise (request ids, trace ids, log stream names).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lambdad::ids {

// Lowercase UUID v4, e.g. "8476a536-e9f4-11e8-9739-2dfe598c3fcd".
std::string request_id();
// X-Ray trace header: "Root=1-<8 hex epoch s>-<24 hex>;Parent=<16 hex>;Sampled=0" (1 when sampled).
std::string trace_header(std::int64_t epoch_seconds, bool sampled = false);
// The header an invocation runs with (Lambda-Runtime-Trace-Id, _X_AMZN_TRACE_ID), from the
// caller's X-Amzn-Trace-Id (empty when none). A caller's Root is kept: Lambda continues the
// caller's trace, and honours its sampling decision; without one ("Sampled=?" or none), a
// function whose tracing is Active samples, one in PassThrough does not. A missing Parent is
// made up, other fields (Lineage...) are kept. Without a Root the trace is new.
std::string invocation_trace_header(std::string_view incoming, bool active, std::int64_t epoch_seconds);
// One field of a trace header ("Root", "Parent", "Sampled"; names match without case), or empty.
std::string_view trace_field(std::string_view header, std::string_view name);
// 32 lowercase hex chars, as in a log stream name's suffix.
std::string hex_id(std::size_t chars);

}  // namespace lambdad::ids
