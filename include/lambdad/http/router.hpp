// http: route table. Each route has its own body limit on purpose: Beast's 1 MB default would
// reject legal 6 MB Invoke payloads, while the Runtime API's error routes need a different cap.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/http/message.hpp"
#include "lambdad/http/websocket.hpp"

namespace lambdad::http {

using Handler = std::function<void(Request&&, Responder)>;
// A handler that gets the request as soon as its headers are read; the body follows through the
// BodyReader (request.body stays empty). If it answers before reading the body to its end, the
// connection is closed after the answer.
using StreamingHandler = std::function<void(Request&&, std::shared_ptr<BodyReader>, Responder)>;
// Decides, from the headers (the body is not read yet), whether a request goes to the streaming
// handler.
using StreamPredicate = std::function<bool(const Request&)>;
// Decides, with the whole request, whether it reaches its handler: nullopt lets it through, a
// Response answers it instead (e.g. a refused signature).
using Guard = std::function<std::optional<Response>(const Request&)>;
// Sees every request before its handler (and its guard) and gives the handler the responder it
// answers through: `respond` wrapped, e.g. to log the exchange's status and duration.
using Observer = std::function<Responder(const Request&, Responder respond)>;

struct Route {
  Method method;
  std::string pattern;  // "/2018-06-01/runtime/invocation/{id}/response"; {x} captures one segment
  std::size_t body_limit;  // for `handler`; a streaming handler enforces its own
  Handler handler;
  StreamPredicate streams;            // empty: never streamed
  StreamingHandler streaming_handler;
};

class Router {
 public:
  void add(Method method, std::string pattern, std::size_t body_limit, Handler handler);
  // A route whose requests go to `streaming` when `streams` says so (e.g. on a header), and to
  // `buffered` with the whole body (at most body_limit bytes) otherwise.
  void add_streaming(Method method, std::string pattern, std::size_t body_limit, Handler buffered,
                     StreamPredicate streams, StreamingHandler streaming);
  // Used when no route matches the path (status 404) or the method (405 is not AWS-like; the
  // fallback decides). Body limit for unmatched requests is kUnmatchedBodyLimit.
  void set_fallback(Handler handler);
  // The same, for a router whose fallback takes bodies of up to `body_limit` bytes (a front that
  // routes every path itself).
  void set_fallback(Handler handler, std::size_t body_limit);
  // Every request, matched or not, passes `guard` before its handler: the routes added so far and
  // those added later. Guarded routes never stream their request bodies (the guard sees the whole
  // body, at most the route's body_limit). One guard per router.
  void set_guard(Guard guard);
  // Every request, matched or not, refused by the guard or not, passes `observer` first: the
  // routes added so far and those added later. One observer per router.
  void set_observer(Observer observer);
  // WebSocket upgrade requests (GET with Upgrade: websocket, any path) go to `handler` instead of
  // the routes; neither the guard nor the observer sees them. Unset: they are routed as any other.
  void set_upgrade(UpgradeHandler handler) { upgrade_ = std::move(handler); }
  const UpgradeHandler& upgrade_handler() const { return upgrade_; }

  static constexpr std::size_t kUnmatchedBodyLimit = 1 << 20;

  struct Match {
    const Route* route = nullptr;  // nullptr: use fallback()
    std::vector<std::pair<std::string, std::string>> params;
  };
  Match match(Method method, std::string_view path) const;
  const Handler& fallback() const { return fallback_; }
  std::size_t fallback_body_limit() const { return fallback_body_limit_; }

 private:
  struct Compiled {
    Route route;                        // its handlers wrapped by the guard and the observer
    std::vector<std::string> segments;  // "{name}" or a literal
    Handler handler;                    // as added
    StreamPredicate streams;
    StreamingHandler streaming_handler;
  };
  // Sets c.route's handlers from those added, the guard and the observer.
  void compose(Compiled& c) const;
  Handler wrapped(const Handler& handler) const;

  std::vector<Compiled> routes_;
  Handler fallback_;      // wrapped
  Handler raw_fallback_;  // as set
  std::size_t fallback_body_limit_ = kUnmatchedBodyLimit;
  std::shared_ptr<const Guard> guard_;
  std::shared_ptr<const Observer> observer_;
  UpgradeHandler upgrade_;
};

}  // namespace lambdad::http
