// sandbox: the Telemetry API (2022-07-01) and the Logs API (2020-08-15) of one execution
// environment (lambda-spec §2.5, docs/decisions/025): its extensions' subscriptions, and the
// delivery of the environment's platform events, function log lines and extension log lines to
// each subscriber, in batches, by HTTP POST to the subscriber's own listener.
//
// What is buffered is bounded: per subscription one batch waits while one is on its way; what
// arrives beyond that is dropped, counted, and reported to the subscriber as platform.logsDropped
// with its next batch. Delivery is asynchronous (TelemetryTransport): a slow or broken subscriber
// delays nothing but its own batches.
//
// Events from the environment's start until its init ends are kept (bounded as a batch is), so a
// subscription made during init receives them, as on Lambda; subscriptions close when init ends.
//
// No HTTP server and no processes here; the clock, timers and transport are injected, so the
// rules are unit-tested (tests/unit/sandbox/telemetry_test.cpp). Runs on the environment's
// executor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/common/clock.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/timer.hpp"

namespace lambdad::sandbox {

enum class TelemetryApi { kTelemetry, kLogs };  // PUT /2022-07-01/telemetry, PUT /2020-08-15/logs

// Where a subscriber listens: http://HOST:PORT/PATH of its subscription (HTTP: a POST of a JSON
// array per batch), or HOST:PORT (TCP: one connection, each event a line of JSON).
struct TelemetryDestination {
  enum class Protocol { kHttp, kTcp };
  Protocol protocol = Protocol::kHttp;
  std::string host;
  std::uint16_t port = 0;
  std::string target = "/";
};

class TelemetryTransport {
 public:
  virtual ~TelemetryTransport() = default;
  // Delivers one batch: HTTP, a POST of `body` (a JSON array), `done(true)` for a 2xx answer; TCP,
  // `body` (lines of JSON) written on the destination's connection (opened at its first batch,
  // again after a failure), `done(true)` once written. `done(false)` when it was refused, failed
  // or not done in time. `done` is called once, later, on the caller's executor.
  virtual void post(const TelemetryDestination& to, std::string body, std::function<void(bool)> done) = 0;
};

// The answer to a subscription: 200 "OK", 400 ValidationError, 403 SubscriptionClosed.
struct TelemetryReply {
  int status = 200;
  std::string body;
};

// The three streams an extension can subscribe to.
enum class TelemetryStream { kPlatform, kFunction, kExtension };

class Telemetry {
 public:
  struct Limits {
    std::size_t min_items = 1000, max_items = 10000, default_items = 1000;
    std::size_t min_bytes = 262144, max_bytes = 1048576, default_bytes = 262144;
    int min_timeout_ms = 25, max_timeout_ms = 30000, default_timeout_ms = 1000;
  };
  // `function_logs_json`: the function's LogFormat is JSON (its log lines are JSON objects, which
  // schema 2022-12-13 and later deliver as objects). `sandbox_address`: the environment's own
  // loopback address, which sandbox.localdomain names inside it. `transport` nullptr: batches
  // are dropped (and reported so).
  Telemetry(const Clock& clock, Timers& timers, TelemetryTransport* transport, bool function_logs_json,
            std::string sandbox_address);
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // PUT on either API by the registered extension `extension` with the request's body. A second
  // subscription of an extension on the same API replaces its first.
  TelemetryReply subscribe(TelemetryApi api, const std::string& extension, std::string_view body);

  // Whether an event would go anywhere (a subscriber, or the init's keep): callers build records
  // only then, so an environment without subscribers pays nothing per invoke.
  bool wanted() const { return keeping_ || !subscriptions_.empty(); }
  // A platform event, in the Telemetry API's shape (`type` "platform.start", ...); the Logs API's
  // subscribers get its older shape, or nothing where it has none.
  void platform(std::string_view type, nlohmann::ordered_json record);
  // One log line of the function (its runtime's output) or of an extension.
  void log_line(TelemetryStream stream, std::string_view line);
  // Init has ended: no subscription from now on, and the events kept for late subscribers go.
  void close_subscriptions();
  bool open() const { return open_; }
  // Sends what is buffered now, without waiting for the batch's timeout (the environment shuts
  // down: the subscribers get the last events during their shutdown budget).
  void flush();
  std::size_t subscriptions() const { return subscriptions_.size(); }

  // "2022-10-12T00:00:15.064Z"
  static std::string timestamp(std::int64_t epoch_ms);

 private:
  struct Event {
    std::int64_t time_ms = 0;
    TelemetryStream stream = TelemetryStream::kPlatform;
    std::string type;               // platform events: "platform.start", ...
    nlohmann::ordered_json record;  // platform events
    std::string line;               // log lines
  };
  struct Subscription;
  void deliver(Subscription& sub, const Event& event);
  // The event as this subscription receives it (its API and schema); nullopt when it gets none.
  std::optional<std::string> render(const Subscription& sub, const Event& event) const;
  void enqueue(Subscription& sub, std::string item);
  void send(Subscription& sub);
  void arm_batch(Subscription& sub);  // the batch goes `timeoutMs` from now, unless it goes sooner
  void sent(Subscription& sub, std::vector<std::string> batch, bool ok);
  void distribute(Event event);

  const Clock& clock_;
  Timers& timers_;
  TelemetryTransport* transport_;
  bool function_logs_json_;
  std::string sandbox_address_;
  Limits limits_;
  bool open_ = true;
  bool keeping_ = true;  // until init ends: the events so far, for subscriptions made later in it
  std::vector<Event> kept_;
  std::size_t kept_bytes_ = 0;
  std::uint64_t kept_dropped_ = 0;
  std::uint64_t kept_dropped_bytes_ = 0;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;  // shared: a batch on its way holds a weak one
  Lifetime lifetime_;
};

}  // namespace lambdad::sandbox
