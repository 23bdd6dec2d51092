// http: WebSocket connections upgraded from a request on a Server (RFC 6455; Beast underneath,
// hidden in src/http). A router's upgrade handler gets the upgrade request with an Upgrade, and
// either completes the handshake (accept) or answers it with an HTTP response (refuse), at once or
// later. Everything here is used on the server's io thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lambdad/http/message.hpp"

namespace lambdad::http {

// How a WebSocket connection ended.
struct WebSocketClose {
  // The close frame's status: the peer's (1005 when its close frame had none), what close() sent,
  // 1009 for a message or frame over the limits, 1006 when the connection ended without a close
  // frame.
  std::uint16_t code = 1006;
  std::string reason;
  bool by_server = false;  // close() was called, or a limit was exceeded
};

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queues one message (a text or a binary frame); messages go out in order, after the
  // handshake's answer. Dropped once the connection is closing.
  virtual void send(std::string data, bool binary) = 0;
  // Sends a close frame with `code` and `reason` after the queued messages, then ends the
  // connection. The handlers' on_closed follows. Idempotent.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

struct WebSocketHandlers {
  // A whole message (its frames joined).
  std::function<void(std::string data, bool binary)> on_message;
  // A ping from the peer (answered with a pong already).
  std::function<void()> on_ping;
  // Once, when the connection has ended (never for a connection whose handshake was refused).
  std::function<void(WebSocketClose)> on_closed;
};

struct WebSocketSettings {
  // A message longer than this, or a frame whose payload is longer than frame_limit, closes the
  // connection with 1009 (Message Too Big); 0: no limit.
  std::size_t message_limit = 0;
  std::size_t frame_limit = 0;
  Headers response_headers;  // added to the handshake's 101 answer (e.g. Sec-WebSocket-Protocol)
};

class Upgrade {
 public:
  using Accept = std::function<std::shared_ptr<WebSocket>(WebSocketSettings, WebSocketHandlers)>;
  Upgrade(Accept accept, Responder refuse) : accept_(std::move(accept)), refuse_(std::move(refuse)) {}

  // Answers 101 and serves the connection; nullptr when the request was already answered or the
  // server has stopped.
  std::shared_ptr<WebSocket> accept(WebSocketSettings settings, WebSocketHandlers handlers) const {
    return accept_ ? accept_(std::move(settings), std::move(handlers)) : nullptr;
  }
  // Answers the upgrade request with `response` instead; the connection closes after it.
  const Responder& refuse() const { return refuse_; }

 private:
  Accept accept_;
  Responder refuse_;
};

// Gets a WebSocket upgrade request (its headers; an upgrade request's body is not read).
using UpgradeHandler = std::function<void(Request&&, Upgrade)>;

}  // namespace lambdad::http
