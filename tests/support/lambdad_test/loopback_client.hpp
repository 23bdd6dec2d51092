// A blocking HTTP/1.1 client over a raw loopback socket, for tests that must see the exact bytes
// a server writes (chunk framing, trailers, early closes). Receives time out after 5 s.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace lambdad::test {

class LoopbackClient {
 public:
  explicit LoopbackClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~LoopbackClient() { ::close(fd_); }
  LoopbackClient(const LoopbackClient&) = delete;
  LoopbackClient& operator=(const LoopbackClient&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& data) { ASSERT_TRUE(send_unchecked(data)); }
  // For a peer that may close mid-request (an oversized body): true when everything went out.
  bool send_unchecked(const std::string& data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads until `marker` is in what was received (or timeout/EOF); returns everything so far.
  std::string read_until(const std::string& marker) {
    while (received_.find(marker) == std::string::npos) {
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      received_.append(buf, static_cast<std::size_t>(n));
    }
    return received_;
  }
  // True when the server closed the connection (EOF) within the receive timeout.
  bool closed_by_peer() {
    char buf[256];
    while (true) {
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return false;
      received_.append(buf, static_cast<std::size_t>(n));
    }
  }
  void clear() { received_.clear(); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

}  // namespace lambdad::test
