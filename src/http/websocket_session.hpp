// http (internal): a WebSocket connection taken over from a Server session once its upgrade is
// accepted: Beast's websocket::stream over the session's TCP stream.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <memory>
#include <string>

#include "lambdad/http/websocket.hpp"

namespace lambdad::http {

class WebSocketSession : public WebSocket {
 public:
  // Closes the socket at once (the server is stopping); on_closed follows with 1006.
  virtual void abort() = 0;
};

// Answers `handshake` with 101 on `stream` and serves the connection from then on.
std::shared_ptr<WebSocketSession> start_websocket(boost::beast::tcp_stream stream,
                                                  boost::beast::http::request<boost::beast::http::empty_body> handshake,
                                                  const std::string& server_name, WebSocketSettings settings,
                                                  WebSocketHandlers handlers);

}  // namespace lambdad::http
