// http: an HTTP/1.1 server (Boost.Beast underneath, hidden here). One listener, one session per
// connection, one request at a time per connection, a fresh parser per request with the route's
// body limit, a deadline on every read once a request has begun.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lambdad/common/executor.hpp"
#include "lambdad/common/result.hpp"
#include "lambdad/common/tcp_peer.hpp"
#include "lambdad/http/router.hpp"

namespace boost::asio {
class io_context;
}

namespace lambdad::http {

struct ServerOptions {
  std::size_t header_limit = 64 * 1024;
  // More header fields than this is answered 431, whatever their size (10,000 one-byte fields
  // fit in header_limit).
  std::size_t max_header_fields = 1000;
  // How long a kept-alive connection may sit idle before its next request; zero = forever
  // (the Runtime API: a runtime's connection is idle for as long as its handler runs).
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  // From a request's first byte, how long its request line and headers may take to arrive (a
  // slow-loris client that trickles header lines is cut off here), then how long its body may.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(60)};
  // Bytes read past a route's limit before giving up on draining an oversized body.
  std::size_t drain_limit = 16 * 1024 * 1024;
  std::string server_name;  // "Server" header; empty = none
  // Asked once per accepted connection, before anything is read from it: it calls `decide` on
  // the server's io_context, at once or later (a check that reads /proc runs on the blocking
  // pool); false closes the connection unread (the client sees it reset, as if nothing
  // listened). Until then the connection waits; if `decide` is never called (its owner died), the
  // connection is closed when the last copy of it goes. Other connections are accepted meanwhile.
  using Decide = std::function<void(bool admitted)>;
  std::function<void(const TcpPeer&, Decide)> admit;
  // Each connection is read, parsed and answered on a strand of its own, on whichever thread of
  // the io_context is free; only the handlers, the admission and the callbacks of streamed bodies
  // run on the server's executor (the domain, docs/decisions/021). Off: connections run on the
  // server's executor too. A router with an upgrade handler keeps it off (its WebSockets stay
  // on the server's executor).
  bool own_strands = false;
};

// Everything but what ServerOptions::own_strands moves off runs on the server's executor (by
// default the io_context's own); so do its public calls.
class Server {
 public:
  Server(boost::asio::io_context& io, Router router, ServerOptions options = {});
  Server(boost::asio::io_context& io, Executor executor, Router router, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Port 0 picks a free port; port() tells which.
  Status listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  // Stops accepting and closes every open connection. Idempotent.
  void stop();
  // Graceful stop, first step: the listener closes (new connections are refused), requests
  // already being handled finish and their connection closes after the response, and a new
  // request on a kept-alive connection gets `refusal` and the connection closes.
  // Connections waiting for a next request are closed at once.
  void stop_accepting(Response refusal);
  // Connections with a request being handled or a response being written.
  std::size_t busy_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace lambdad::http
