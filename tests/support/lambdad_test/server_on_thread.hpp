// Tests: an http::Server on 127.0.0.1 (an ephemeral port), its io_context run by a thread of its
// own, for tests that talk to it over loopback. Stopped and joined on destruction.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstdint>
#include <memory>
#include <thread>

#include "lambdad/http/server.hpp"

namespace lambdad::test {

class ServerOnThread {
 public:
  ServerOnThread() = default;
  ~ServerOnThread() { stop(); }
  ServerOnThread(const ServerOnThread&) = delete;
  ServerOnThread& operator=(const ServerOnThread&) = delete;

  // False when it cannot listen.
  bool start(http::Router router, http::ServerOptions options = {}) {
    server_ = std::make_unique<http::Server>(io_, std::move(router), std::move(options));
    if (!server_->listen("127.0.0.1", 0).ok()) return false;
    thread_ = std::thread([this] { io_.run(); });
    return true;
  }
  void stop() {
    if (server_) boost::asio::post(io_, [this] { server_->stop(); });
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  std::uint16_t port() const { return server_->port(); }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

}  // namespace lambdad::test
