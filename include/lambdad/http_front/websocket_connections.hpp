// http_front: the open connections of the WebSocket APIs (decision 020): each one's record for
// the @connections API and its events, and when API Gateway's limits end it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lambdad/common/clock.hpp"
#include "lambdad/common/timer.hpp"
#include "lambdad/http/websocket.hpp"
#include "lambdad/http_front/websocket_event.hpp"

namespace lambdad::http_front {

// API Gateway's limits on a connection.
inline constexpr std::chrono::minutes kWebSocketIdleTimeout{10};
inline constexpr std::chrono::hours kWebSocketMaxDuration{2};
inline constexpr std::size_t kWebSocketFrameLimit = 32 * 1024;
inline constexpr std::size_t kWebSocketMessageLimit = 128 * 1024;

// When a connection is ended: 10 minutes after the client's last frame, or 2 hours after it
// connected, whichever comes first.
struct ConnectionExpiry {
  Clock::Steady::time_point at;
  bool idle = false;  // true: the idle timeout; false: the connection's 2 hours
};
ConnectionExpiry connection_expiry(Clock::Steady::time_point connected, Clock::Steady::time_point last_active);

// One open connection.
struct WebSocketConnection {
  WebSocketContext context;       // what its events say of it (its id, API, stage, domain, source)
  std::string user_agent;         // of the upgrade request (@connections GET)
  std::int64_t last_active_at = 0;  // epoch ms of the client's last message
  Clock::Steady::time_point connected{};
  Clock::Steady::time_point last_active{};
  std::shared_ptr<http::WebSocket> socket;
  std::unique_ptr<Timer> expiry;  // armed at connection_expiry
};

// The open connections by id.
class ConnectionTable {
 public:
  // false (and nothing changes) when the id is taken.
  bool add(std::shared_ptr<WebSocketConnection> connection);
  std::shared_ptr<WebSocketConnection> find(const std::string& id) const;
  // The connection, removed; nullptr when it was not there.
  std::shared_ptr<WebSocketConnection> remove(const std::string& id);
  std::size_t size() const { return connections_.size(); }
  std::vector<std::shared_ptr<WebSocketConnection>> all() const;

 private:
  std::map<std::string, std::shared_ptr<WebSocketConnection>> connections_;
};

}  // namespace lambdad::http_front
