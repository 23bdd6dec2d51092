// `lambdad evict NAME --endpoint URL`: one POST to a running daemon. A plain blocking socket is
// enough for a one-shot command and keeps Beast's client code out of the build.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>

#include "lambdad/app/commands.hpp"
#include "lambdad/http/message.hpp"

namespace lambdad::app {

int run_evict(const EvictOptions& options) {
  static const std::regex kUrl(R"(http://([^/:]+)(?::(\d+))?/?)");
  std::smatch m;
  if (!std::regex_match(options.endpoint, m, kUrl)) {
    std::fprintf(stderr, "lambdad: --endpoint must look like http://HOST:PORT, not %s\n", options.endpoint.c_str());
    return 2;
  }
  const std::string host = m[1];
  const std::string port = m[2].matched ? m[2].str() : "80";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    std::fprintf(stderr, "lambdad: cannot resolve %s\n", host.c_str());
    return 2;
  }
  int fd = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0 || ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    std::fprintf(stderr, "lambdad: cannot connect to %s: %s\n", options.endpoint.c_str(), std::strerror(errno));
    ::freeaddrinfo(found);
    if (fd >= 0) ::close(fd);
    return 1;
  }
  ::freeaddrinfo(found);
  std::string encoded;
  for (char ch : options.function) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      encoded.push_back(ch);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      encoded += buf;
    }
  }
  std::string request = "POST /_lambdad/functions/" + encoded + "/evict HTTP/1.1\r\nHost: " + host +
                        "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  auto body_at = response.find("\r\n\r\n");
  int status = 0;
  std::sscanf(response.c_str(), "HTTP/1.%*d %d", &status);
  std::string body = body_at == std::string::npos ? std::string() : response.substr(body_at + 4);
  std::printf("%s\n", body.c_str());
  if (status != 200) {
    std::fprintf(stderr, "lambdad: the daemon answered %d\n", status);
    return 1;
  }
  return 0;
}

}  // namespace lambdad::app
