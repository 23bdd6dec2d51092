// sandbox: what the Runtime API asks of an execution environment, in domain terms (no HTTP).
// runtime_api renders RuntimeReply into the exact bodies of lambda-spec §1.7.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lambdad/common/result.hpp"
#include "lambdad/common/tcp_peer.hpp"
#include "lambdad/sandbox/runtime_state.hpp"

namespace lambdad::sandbox {

class Extensions;
class Telemetry;
class TelemetryTransport;

// What GET /next returns.
struct Delivery {
  std::string request_id;
  std::string payload;
  std::int64_t deadline_epoch_ms = 0;
  std::string invoked_function_arn;
  std::string trace_id;
  std::optional<std::string> client_context;
  std::optional<std::string> cognito_identity;
  std::optional<std::string> tenant_id;
};

struct RuntimeReply {
  enum class Code {
    kAccepted,                // 202 {"status":"OK"}
    kInvalidRequestId,        // 400
    kInvalidStateTransition,  // 403, with from/event
    kPayloadTooLarge,         // 413
    kStreamTooLarge,          // 413, over the streamed response limit
    kInvokeTimeout,           // 410, a post for an invocation that has timed out
    kInternal,                // 500
  };
  Code code = Code::kAccepted;
  RuntimeState from = RuntimeState::kStarted;
  RuntimeEvent event = RuntimeEvent::kNext;

  static RuntimeReply accepted() { return {}; }
  static RuntimeReply invalid_request_id() { return {Code::kInvalidRequestId, {}, {}}; }
  static RuntimeReply invoke_timeout() { return {Code::kInvokeTimeout, {}, {}}; }
  static RuntimeReply refused(RuntimeState from, RuntimeEvent event) {
    return {Code::kInvalidStateTransition, from, event};
  }
};

// A posted result or error, already read in full.
struct RuntimePost {
  std::string body;
  std::string content_type;
  bool too_large = false;  // the body exceeded the limit and was discarded
  std::string error_type;  // Lambda-Runtime-Function-Error-Type (for /error and /init/error)
};

// A streamed response is limited to 200 MB (lambda-spec §1.9); without a streaming invoker it is
// buffered and the buffered limit applies.
inline constexpr std::size_t kStreamedResponseLimit = 200u * 1024 * 1024;

// How a streamed /response (Lambda-Runtime-Function-Response-Mode: streaming) ended.
struct StreamEnd {
  enum class Kind {
    kComplete,   // the body ended; an error may still be declared in the trailers
    kTruncated,  // the runtime's connection failed mid-body (Runtime.TruncatedResponse)
  };
  Kind kind = Kind::kComplete;
  std::string error_type;  // Lambda-Runtime-Function-Error-Type trailer, normalised; empty: success
  std::string error_body;  // Lambda-Runtime-Function-Error-Body trailer, base64-decoded
};

// The answer to GET /next: a Delivery, or a refusal (reply code) that ends the request.
struct NextOutcome {
  std::optional<Delivery> delivery;
  RuntimeReply refusal;
};
using NextCallback = std::function<void(NextOutcome)>;

class RuntimeApiTarget {
 public:
  virtual ~RuntimeApiTarget() = default;
  // Parks `done` until an invocation is available (or answers at once).
  virtual void next(NextCallback done) = 0;
  virtual RuntimeReply response(std::string_view request_id, RuntimePost post) = 0;
  virtual RuntimeReply error(std::string_view request_id, RuntimePost post) = 0;
  virtual RuntimeReply init_error(RuntimePost post) = 0;
  // SnapStart (lambda-spec §14): GET /runtime/restore/next, answered (kAccepted: 200, no body)
  // once the environment is restored, which may be later; POST /runtime/restore/error. The
  // defaults refuse both, as for a function without SnapStart.
  virtual void restore_next(std::function<void(RuntimeReply)> done);
  virtual RuntimeReply restore_error(RuntimePost post);
  // Asked once per new connection, before anything is read: `decide(false)` refuses it (one
  // environment must not act for another). `decide` is called on the io thread, at once or once a
  // check off the io thread has answered; not at all when the target is gone by then (the
  // connection is then closed). The default admits every connection.
  virtual void admit(const TcpPeer& client, std::function<void(bool)> decide);

  // A streamed response, piece by piece as the runtime uploads it. stream_begin when the headers
  // arrive (validated like response()); then stream_chunk per piece: kAccepted means `ready` will
  // be called once the invoker has taken the piece (read the next one only then); any other
  // reply ends the upload (kPayloadTooLarge or kStreamTooLarge: over the limit, and the
  // invocation has failed); stream_end after the last piece. The defaults refuse streaming.
  virtual RuntimeReply stream_begin(std::string_view request_id, std::string content_type);
  virtual RuntimeReply stream_chunk(std::string_view request_id, std::string data, std::function<void()> ready);
  virtual RuntimeReply stream_end(std::string_view request_id, StreamEnd end);
  // The Extensions API (lambda-spec §2, docs/decisions/024) on the same address: this
  // environment's extensions, called on the domain. nullptr: the API is not served here.
  virtual Extensions* extensions() { return nullptr; }
  // The Telemetry and Logs APIs of the environment (docs/decisions/025); nullptr: none.
  virtual Telemetry* telemetry() { return nullptr; }
};

inline void RuntimeApiTarget::admit(const TcpPeer&, std::function<void(bool)> decide) { decide(true); }
inline void RuntimeApiTarget::restore_next(std::function<void(RuntimeReply)> done) {
  done(RuntimeReply::refused(RuntimeState::kStarted, RuntimeEvent::kRestoreNext));
}
inline RuntimeReply RuntimeApiTarget::restore_error(RuntimePost) {
  return RuntimeReply::refused(RuntimeState::kStarted, RuntimeEvent::kRestoreError);
}
inline RuntimeReply RuntimeApiTarget::stream_begin(std::string_view, std::string) {
  return RuntimeReply{RuntimeReply::Code::kInternal, {}, {}};
}
inline RuntimeReply RuntimeApiTarget::stream_chunk(std::string_view, std::string, std::function<void()>) {
  return RuntimeReply{RuntimeReply::Code::kInternal, {}, {}};
}
inline RuntimeReply RuntimeApiTarget::stream_end(std::string_view, StreamEnd) {
  return RuntimeReply{RuntimeReply::Code::kInternal, {}, {}};
}

// The listener that serves one environment's Runtime API. Destroying it stops serving.
class RuntimeEndpoint {
 public:
  virtual ~RuntimeEndpoint() = default;
  virtual std::uint16_t port() const = 0;
};

class RuntimeEndpointFactory {
 public:
  virtual ~RuntimeEndpointFactory() = default;
  virtual Result<std::unique_ptr<RuntimeEndpoint>> open(RuntimeApiTarget& target) = 0;
  // What delivers the environments' telemetry to their subscribers (docs/decisions/025), on the
  // environments' executor; nullptr: none (a subscription's batches are then dropped).
  virtual TelemetryTransport* telemetry_transport() { return nullptr; }
};

}  // namespace lambdad::sandbox
