// ExecutionEnvironment: a response the runtime streams (Lambda-Runtime-Function-Response-Mode:
// streaming, docs/decisions/007), piece by piece to the invoker.
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "environment_internal.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/sandbox/execution_environment.hpp"

namespace lambdad::sandbox {

using detail::platform_error;

bool ExecutionEnvironment::streaming(std::string_view request_id) const {
  for (const auto& cur : slots_) {
    if (cur.inv->request_id == request_id) return cur.stream.has_value();
  }
  return false;
}

RuntimeReply ExecutionEnvironment::stream_begin(std::string_view request_id, std::string content_type) {
  if (auto refused = validate_post(request_id, RuntimeEvent::kResponse)) return *refused;
  Current& cur = *slot(request_id);
  cur.stream.emplace(Current::Stream{});
  cur.stream->content_type = std::move(content_type);
  const auto& inv = *cur.inv;
  if (inv.on_chunk && inv.on_stream_start) inv.on_stream_start(cur.stream->content_type);
  return RuntimeReply::accepted();
}

RuntimeReply ExecutionEnvironment::stream_chunk(std::string_view request_id, std::string data,
                                                std::function<void()> ready) {
  if (!streaming(request_id)) return RuntimeReply::invalid_request_id();
  Current& cur = *slot(request_id);
  auto& stream = *cur.stream;
  auto& inv = *cur.inv;
  const bool to_sink = static_cast<bool>(inv.on_chunk);
  const std::size_t limit = to_sink ? kStreamedResponseLimit : limits::kBufferedResponse;
  stream.bytes += data.size();
  if (stream.bytes > limit) {
    if (!managed()) state_ = RuntimeState::kResponseSent;
    invocation::InvocationResult r;
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = std::string(error_types::kFunctionResponseSizeTooLarge);
    r.payload = nlohmann::ordered_json{{"errorMessage", fmt::format("Response payload size exceeded maximum allowed "
                                                                    "payload size ({} bytes).", limit)},
                                       {"errorType", error_types::kFunctionResponseSizeTooLarge}}
                    .dump();
    r.streamed = to_sink;
    finish(cur, std::move(r), "error");
    offer();
    return RuntimeReply{to_sink ? RuntimeReply::Code::kStreamTooLarge : RuntimeReply::Code::kPayloadTooLarge, state_,
                        RuntimeEvent::kResponse};
  }
  // `ready` belongs to the Runtime API connection: never call it once this environment is gone.
  auto resume = lifetime_.guard(std::move(ready));
  if (to_sink) {
    inv.on_chunk(std::move(data), std::move(resume));
  } else {
    stream.buffer.append(data);
    boost::asio::post(executor_, std::move(resume));
  }
  return RuntimeReply::accepted();
}

RuntimeReply ExecutionEnvironment::stream_end(std::string_view request_id, StreamEnd end) {
  if (!streaming(request_id)) return RuntimeReply::invalid_request_id();
  Current& cur = *slot(request_id);
  Current::Stream stream = std::move(*cur.stream);
  const bool to_sink = static_cast<bool>(cur.inv->on_chunk);
  if (!managed()) state_ = RuntimeState::kResponseSent;
  invocation::InvocationResult r;
  r.streamed = to_sink;
  if (!stream.content_type.empty()) r.content_type = stream.content_type;
  std::string status;
  if (end.kind == StreamEnd::Kind::kTruncated) {
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = std::string(error_types::kRuntimeTruncatedResponse);
    r.payload = platform_error(error_types::kRuntimeTruncatedResponse, request_id, "Response stream was truncated");
    r.content_type = "application/json";
    status = "error";
  } else if (!end.error_type.empty()) {
    // Declared in the trailers: the bytes streamed so far stand, the invocation failed.
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = std::move(end.error_type);
    r.payload = end.error_body.empty()
                    ? nlohmann::ordered_json{{"errorMessage", ""}, {"errorType", r.error_type}}.dump()
                    : std::move(end.error_body);
    r.content_type = "application/json";
    status = "error";
  } else {
    r.outcome = invocation::Outcome::kSuccess;
    if (!to_sink) r.payload = std::move(stream.buffer);
  }
  finish(cur, std::move(r), status);
  offer();
  return RuntimeReply::accepted();
}

}  // namespace lambdad::sandbox
