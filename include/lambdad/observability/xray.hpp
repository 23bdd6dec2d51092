// observability: the local X-Ray daemon. A function's X-Ray SDK sends each segment or
// subsegment as one UDP datagram to AWS_XRAY_DAEMON_ADDRESS: a header line
// `{"format": "json", "version": 1}` and the JSON document. The listener receives them on
// 127.0.0.1, logs each, and keeps the last ones (GET /_lambdad/xray/segments), attributed to the
// function whose invocation started the trace when it is known.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lambdad/common/executor.hpp"
#include "lambdad/common/result.hpp"

namespace boost::asio {
class io_context;
}

namespace lambdad::observability {

// One segment or subsegment document as received.
struct XRayDocument {
  nlohmann::json document;
  std::string trace_id;         // "1-<8 hex>-<24 hex>"
  std::string name;             // "## index.handler", "my-function", ...
  bool subsegment = false;      // an independent subsegment ("type": "subsegment")
  std::size_t subsegments = 0;  // nested in it, at any depth
};

// A datagram's document, or nullopt when it is not one (no header line, a header other than
// format json version 1, a body that is not a JSON object with string name, id and trace_id).
std::optional<XRayDocument> parse_xray_datagram(std::string_view datagram);

// What was received: counts, and the last `capacity` documents.
class XRayRecorder {
 public:
  explicit XRayRecorder(std::size_t capacity = 1000) : capacity_(capacity) {}

  // An invocation of `function` runs with `trace_header`; when sampled, the documents of its
  // trace are that function's.
  void note_trace(std::string_view trace_header, const std::string& function);
  // Parses, logs and keeps one datagram; a malformed one is counted and dropped.
  void receive(std::string_view datagram);

  std::uint64_t received() const { return received_; }
  std::uint64_t malformed() const { return malformed_; }
  // {"received", "malformed", "kept", "segments": [{"function", "traceId", "name", "type", "document"}]},
  // oldest first; only those of `trace_id` when it is not empty.
  nlohmann::json to_json(std::string_view trace_id = {}) const;

 private:
  struct Kept {
    std::string function;  // empty when unknown
    XRayDocument doc;
  };
  std::size_t capacity_;
  std::uint64_t received_ = 0;
  std::uint64_t malformed_ = 0;
  std::deque<Kept> kept_;
  std::map<std::string, std::string, std::less<>> function_by_trace_;  // the last `capacity_` sampled traces
  std::deque<std::string> trace_order_;
};

// The UDP socket on the daemon's event loop; receives until destroyed, never blocking.
class XRayListener {
 public:
  // Binds 127.0.0.1:`port` (0: any free port).
  static Result<std::unique_ptr<XRayListener>> open(const Executor& executor, std::uint16_t port = 0);
  ~XRayListener();
  XRayListener(const XRayListener&) = delete;
  XRayListener& operator=(const XRayListener&) = delete;

  std::uint16_t port() const { return port_; }
  XRayRecorder& recorder();
  const XRayRecorder& recorder() const;

 private:
  struct State;
  explicit XRayListener(std::shared_ptr<State> state, std::uint16_t port) : state_(std::move(state)), port_(port) {}
  std::shared_ptr<State> state_;
  std::uint16_t port_;
};

}  // namespace lambdad::observability
