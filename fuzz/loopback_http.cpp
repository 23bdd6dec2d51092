#include "loopback_http.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lambdad::fuzz {
namespace bhttp = boost::beast::http;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz: %s\n", what);
  std::abort();
}

}  // namespace

LoopbackHttp::LoopbackHttp(boost::asio::io_context& io, http::Router router, http::ServerOptions options)
    : io_(io), server_(std::make_unique<http::Server>(io, std::move(router), std::move(options))) {
  if (!server_->listen("127.0.0.1", 0)) fail("cannot listen on 127.0.0.1");
}

LoopbackHttp::~LoopbackHttp() {
  server_->stop();
  io_.restart();
  io_.poll();
}

std::string LoopbackHttp::exchange(std::string_view bytes) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = -1;
  // Thousands of connections a minute can run the host out of local ports for a moment
  // (EADDRNOTAVAIL while old ones sit in TIME_WAIT): that is the harness, not the server.
  for (int attempt = 0;; ++attempt) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) fail("socket() failed");
    int err = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
    if (err == EINPROGRESS || err == EINTR) {  // non-blocking (and libFuzzer's timer interrupts)
      for (;;) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 0) > 0) break;
        io_.restart();
        io_.run_for(std::chrono::milliseconds(1));
      }
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err == 0) break;
    ::close(fd);
    if (attempt >= 500 || (err != EADDRNOTAVAIL && err != EAGAIN)) {
      std::fprintf(stderr, "fuzz: connect() failed: %s\n", std::strerror(err));
      std::abort();
    }
    io_.restart();
    io_.run_for(std::chrono::milliseconds(10));
  }

  std::string received;
  std::size_t sent = 0;
  bool shut = false;
  bool reset = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  io_.restart();
  for (;;) {
    bool progress = false;
    if (!shut) {
      if (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
          sent += static_cast<std::size_t>(n);
          progress = true;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          sent = bytes.size();  // the server closed early: what it answered still counts
        }
      }
      if (sent == bytes.size()) {
        ::shutdown(fd, SHUT_WR);
        shut = true;
      }
    }
    char buf[16384];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      received.append(buf, static_cast<std::size_t>(n));
      progress = true;
    } else if (n == 0) {
      break;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      reset = true;
      break;
    }
    if (io_.poll() > 0) progress = true;
    if (!progress) {
      if (std::chrono::steady_clock::now() > deadline) fail("the server did not close the connection within 10 s");
      io_.run_one_for(std::chrono::milliseconds(1));
    }
  }
  ::close(fd);
  io_.poll();  // let the session see the close and go away
  check_responses(received, reset, bytes.find("HEAD") != std::string_view::npos);
  return received;
}

void check_responses(std::string_view wire, bool reset, bool head_sent) {
  while (!wire.empty()) {
    if (!(wire.starts_with("HTTP/1.1 ") || wire.starts_with("HTTP/1.0 "))) {
      if (reset && wire.size() < 9) return;
      fail("the server wrote something that is not an HTTP/1.x response");
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(1 << 20);
    parser.body_limit(64u << 20);
    parser.eager(true);
    if (head_sent) parser.skip(true);  // checked up to the end of its header only
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done()) {
      const std::size_t n = parser.put(boost::asio::buffer(wire.data() + used, wire.size() - used), ec);
      used += n;
      if (ec == bhttp::error::need_more) {
        if (used >= wire.size()) break;
        ec = {};
        continue;
      }
      if (ec) break;
      if (n == 0 && used >= wire.size()) break;
    }
    if (!parser.is_done() && !ec) {
      // Out of bytes: a body that ends with the connection is complete at EOF.
      if (!reset) parser.put_eof(ec);
      if (reset) return;  // cut short by the reset
    }
    if (ec && !(reset && ec == bhttp::error::partial_message)) {
      std::fprintf(stderr, "fuzz: malformed response (%s):\n%.*s\n", ec.message().c_str(),
                   static_cast<int>(std::min<std::size_t>(wire.size(), 2000)), wire.data());
      std::abort();
    }
    const unsigned status = parser.get().result_int();
    if (status < 100 || status > 599) fail("response status out of range");
    if (head_sent) return;
    wire.remove_prefix(used);
  }
}

}  // namespace lambdad::fuzz
