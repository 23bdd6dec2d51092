#include "server_session.hpp"

namespace lambdad::http {

void Server::Impl::accept() {
  acceptor.async_accept(connection_executor(), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (!ec && self->options.admit) {
      beast::error_code ec1, ec2;
      const auto remote = socket.remote_endpoint(ec1);
      const auto local = socket.local_endpoint(ec2);
      if (ec1 || ec2) {
        self->open(std::move(socket), false);  // already gone
      } else {
        auto held = std::make_shared<tcp::socket>(std::move(socket));
        self->options.admit(
            TcpPeer{remote.address().to_string(), remote.port(), local.address().to_string(), local.port()},
            [self, held](bool admitted) {
              if (!self->stopped) self->open(std::move(*held), admitted);
            });
      }
    } else if (!ec) {
      self->open(std::move(socket), true);
    }
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    self->accept();
  });
}

void Server::Impl::open(tcp::socket socket, bool admitted) {
  beast::error_code ec;
  if (!admitted) {
    socket.set_option(asio::socket_base::linger(true, 0), ec);  // RST: nothing was read
    socket.close(ec);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  auto session = std::make_shared<Session>(shared_from_this(), std::move(socket));
  // Forget sessions that have gone away, then remember this one for stop().
  sessions.remove_if([](const auto& w) { return w.expired(); });
  sessions.push_back(session);
  session->start();
}

void Server::Impl::close_all() {
  for (auto& w : sessions) {
    if (auto s = w.lock()) s->shut();
  }
  sessions.clear();
  for (auto& w : websockets) {
    if (auto ws = w.lock()) ws->abort();
  }
  websockets.clear();
}

Server::Server(asio::io_context& io, Router router, ServerOptions options)
    : Server(io, io.get_executor(), std::move(router), std::move(options)) {}

Server::Server(asio::io_context& io, Executor executor, Router router, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(executor), std::move(router), std::move(options))) {}

Server::~Server() { stop(); }

Status Server::listen(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{ErrorKind::kInvalidInput, "InvalidAddress", fmt::format("invalid address '{}': {}", host, ec.message())};
  tcp::endpoint endpoint(address, port);
  auto& acceptor = impl_->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Error{ErrorKind::kInternal, "ListenFailed", fmt::format("socket: {}", ec.message())};
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  // Closing takes its own error code: the one that says why binding failed is the message.
  beast::error_code ignored;
  if (acceptor.bind(endpoint, ec); ec) {
    acceptor.close(ignored);
    return Error{ErrorKind::kInternal, "ListenFailed", fmt::format("cannot bind {}:{}: {}", host, port, ec.message())};
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    acceptor.close(ignored);
    return Error{ErrorKind::kInternal, "ListenFailed", fmt::format("listen {}:{}: {}", host, port, ec.message())};
  }
  impl_->accept();
  return Ok{};
}

std::uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::stop_accepting(Response refusal) {
  if (!impl_ || impl_->stopped) return;
  {
    std::lock_guard lock(impl_->refusal_mu);
    impl_->refusal_response = std::move(refusal);
  }
  impl_->refusing = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  // Connections waiting for a next request close now; a request that raced with this gets the
  // refusal.
  for (auto& w : impl_->sessions) {
    if (auto s = w.lock(); s && !s->handling()) s->shut();
  }
  for (auto& w : impl_->websockets) {
    if (auto ws = w.lock()) ws->close(1001, "Going away");
  }
}

std::size_t Server::busy_connections() const {
  std::size_t n = 0;
  for (auto& w : impl_->sessions) {
    if (auto s = w.lock(); s && s->handling()) ++n;
  }
  return n;
}

void Server::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  impl_->close_all();
}

}  // namespace lambdad::http
