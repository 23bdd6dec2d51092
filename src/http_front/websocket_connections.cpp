#include "lambdad/http_front/websocket_connections.hpp"

namespace lambdad::http_front {

ConnectionExpiry connection_expiry(Clock::Steady::time_point connected, Clock::Steady::time_point last_active) {
  const auto idle_at = last_active + kWebSocketIdleTimeout;
  const auto end_at = connected + kWebSocketMaxDuration;
  if (idle_at < end_at) return {idle_at, true};
  return {end_at, false};
}

bool ConnectionTable::add(std::shared_ptr<WebSocketConnection> connection) {
  const std::string id = connection->context.connection_id;
  return connections_.emplace(id, std::move(connection)).second;
}

std::shared_ptr<WebSocketConnection> ConnectionTable::find(const std::string& id) const {
  const auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

std::shared_ptr<WebSocketConnection> ConnectionTable::remove(const std::string& id) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return nullptr;
  auto connection = std::move(it->second);
  connections_.erase(it);
  return connection;
}

std::vector<std::shared_ptr<WebSocketConnection>> ConnectionTable::all() const {
  std::vector<std::shared_ptr<WebSocketConnection>> out;
  out.reserve(connections_.size());
  for (const auto& [id, c] : connections_) out.push_back(c);
  return out;
}

}  // namespace lambdad::http_front
