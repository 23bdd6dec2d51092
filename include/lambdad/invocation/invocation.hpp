// invocation: one call of a function, as a value that travels from the Invoke API through the
// sandbox to a runtime and back. No HTTP types, no processes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace lambdad::invocation {

enum class Outcome {
  kSuccess,        // the runtime posted /response
  kFunctionError,  // the runtime posted /error, or the platform failed the invoke (timeout, exit...)
};

struct InvocationResult {
  Outcome outcome = Outcome::kSuccess;
  std::string payload;                         // bytes for the invoker
  std::string content_type = "application/json";
  // For function errors: the platform's error type for REPORT and X-Amz-Function-Error
  // bookkeeping ("Runtime.ExitError", or what the runtime declared, "Function.Unknown" if unknown).
  std::string error_type;
  std::string executed_version = "$LATEST";
  std::string log;  // this invoke's log, START through REPORT (for X-Amz-Log-Result)
  // The runtime streamed its response and every byte of it went to Invocation::on_chunk:
  // `payload` holds none of it (for a function error it holds the error body, as usual).
  bool streamed = false;
  // Set: the invoke failed in the service before the function could run it (a SnapStart restore:
  // SnapStartException, SnapStartTimeoutException): the Invoke API answers with this exception and
  // `payload` as its message. Everything else sees a function error, which it also is.
  std::string service_error;
};

struct Invocation {
  std::string request_id;
  std::string function_name;
  std::string qualifier = "$LATEST";  // as invoked: "$LATEST", a version number or an alias
  std::string version = "$LATEST";    // the version it names: START's Version, X-Amz-Executed-Version
  std::string invoked_function_arn;  // as invoked: unqualified unless a qualifier was given
  std::string payload;               // "{}" when the invoker sent nothing
  std::string trace_id;              // X-Ray header for Lambda-Runtime-Trace-Id
  std::optional<std::string> client_context;    // decoded JSON
  std::optional<std::string> cognito_identity;  // JSON
  std::optional<std::string> tenant_id;
  std::chrono::steady_clock::time_point received;
  // Moved once to a new environment because its first one died before delivering it (never
  // moved twice: docs/decisions/004).
  bool rerouted = false;

  // Called exactly once with the outcome, on the daemon's io thread.
  std::function<void(InvocationResult)> on_complete;

  // Optional streaming sink (InvokeWithResponseStream). When set and the runtime streams its
  // response (Lambda-Runtime-Function-Response-Mode: streaming), each piece is handed here as it
  // arrives; the sink calls `resume` once it can take the next one (backpressure: the runtime's
  // upload waits meanwhile). on_complete still ends the invocation. Without a sink a streamed
  // response is buffered into InvocationResult::payload, under the buffered 6 MB limit.
  std::function<void(std::string chunk, std::function<void()> resume)> on_chunk;
  // Optional, with on_chunk: told once, before the first piece, that the runtime streams, with
  // the Content-Type it declared for the stream (empty when none): a Function URL reads its
  // answer's head from the stream by it.
  std::function<void(const std::string& content_type)> on_stream_start;
};

using InvocationPtr = std::shared_ptr<Invocation>;

// The request's own fields, which every hand-off of an invocation carries on as they came (the
// Event spool's record, the Runtime API's delivery): copied into `to` in one place.
template <class To>
void copy_request_fields(const Invocation& inv, To& to) {
  to.request_id = inv.request_id;
  to.invoked_function_arn = inv.invoked_function_arn;
  to.payload = inv.payload;
  to.trace_id = inv.trace_id;
  to.client_context = inv.client_context;
  to.tenant_id = inv.tenant_id;
}

// Builds "arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]".
std::string function_arn(const std::string& region, const std::string& account,
                         const std::string& name, const std::string& qualifier = {});

}  // namespace lambdad::invocation
