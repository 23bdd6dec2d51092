// The small HTTP/1.1 client of `lambdad evict` and `lambdad test --endpoint`, against a scripted
// server on a real loopback socket: keep-alive reuse, chunked bodies, a connection the server
// closed while idle, refused connections and timeouts, and endpoint URLs.
#include "lambdad/client/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace lambdad::client {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Accepts connections one after another; for each request (read up to the blank line and its
// Content-Length body) writes the next scripted answer. An answer of "" closes the connection
// without a word; `close_after` closes it after answering.
class ScriptedServer {
 public:
  struct Answer {
    std::string bytes;
    bool close_after = false;
  };

  explicit ScriptedServer(std::vector<Answer> answers) : answers_(std::move(answers)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    join();
    ::close(fd_);
  }
  // Waits until every answer was given; `requests` may be read after.
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  HttpEndpoint endpoint() const { return parse_endpoint("http://127.0.0.1:" + std::to_string(port_)).value(); }
  int connections() const { return connections_; }
  std::vector<std::string> requests;  // as received; read after join()

 private:
  void serve() {
    std::size_t next = 0;
    while (next < answers_.size()) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      ++connections_;
      std::string buffer;
      bool open = true;
      while (open && next < answers_.size()) {
        std::size_t end;
        char buf[4096];
        while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
          const auto n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) {
            open = false;
            break;
          }
          buffer.append(buf, static_cast<std::size_t>(n));
        }
        if (!open) break;
        std::size_t length = 0;
        if (auto at = buffer.find("Content-Length: "); at != std::string::npos && at < end) {
          length = std::stoul(buffer.substr(at + 16));
        }
        while (buffer.size() < end + 4 + length) {
          const auto n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          buffer.append(buf, static_cast<std::size_t>(n));
        }
        requests.push_back(buffer.substr(0, end + 4 + length));
        buffer.erase(0, end + 4 + length);
        const Answer& a = answers_[next++];
        if (a.bytes.empty()) break;
        ::send(c, a.bytes.data(), a.bytes.size(), MSG_NOSIGNAL);
        if (a.close_after) break;
      }
      ::close(c);
    }
  }

  std::vector<Answer> answers_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

std::string ok(const std::string& body, const std::string& extra = {}) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

TEST(HttpClient, KeepsOneConnectionForManyRequests) {
  ScriptedServer server({{ok("one", "X-Amz-Function-Error: Unhandled\r\n")}, {ok("two")}, {ok("")}});
  HttpClient client(server.endpoint());
  auto first = client.request("POST", "/a", {{"X-Amz-Log-Type", "Tail"}}, R"({"n":1})", 5s);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "one");
  EXPECT_EQ(first->header("x-amz-function-error"), "Unhandled");
  auto second = client.request("GET", "/b", {}, {}, 5s);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->body, "two");
  auto third = client.request("GET", "/c", {}, {}, 5s);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->body, "");
  server.join();
  EXPECT_EQ(server.connections(), 1);
  EXPECT_THAT(server.requests.at(0), HasSubstr("POST /a HTTP/1.1\r\n"));
  EXPECT_THAT(server.requests.at(0), HasSubstr("X-Amz-Log-Type: Tail\r\n"));
  EXPECT_THAT(server.requests.at(0), HasSubstr("\r\n\r\n{\"n\":1}"));
}

TEST(HttpClient, ReadsChunkedBodiesAndBodiesThatEndWithTheConnection) {
  ScriptedServer server({{"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"},
                         {"HTTP/1.0 200 OK\r\n\r\nuntil the end", true}});
  HttpClient client(server.endpoint());
  auto chunked = client.request("POST", "/", {}, {}, 5s);
  ASSERT_TRUE(chunked.ok()) << chunked.error().message;
  EXPECT_EQ(chunked->status, 429);
  EXPECT_EQ(chunked->body, "hello, world");
  auto rest = client.request("POST", "/", {}, {}, 5s);
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  EXPECT_EQ(rest->body, "until the end");
}

TEST(HttpClient, ReconnectsOnceWhenTheServerClosedAnIdleConnection) {
  // The server answers, then drops the connection without saying so; the next request finds it
  // closed, and is sent again on a new one.
  ScriptedServer server({{ok("first"), true}, {ok("second")}});
  HttpClient client(server.endpoint());
  ASSERT_TRUE(client.request("GET", "/", {}, {}, 5s).ok());
  auto again = client.request("GET", "/", {}, {}, 5s);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->body, "second");
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClient, AConnectionClosedWithoutAnAnswerOnAFreshConnectionIsAnError) {
  ScriptedServer server({{""}});
  HttpClient client(server.endpoint());
  auto r = client.request("GET", "/", {}, {}, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("the connection closed without a response"));
}

TEST(HttpClient, RefusedAndSilentServersAreErrorsWithTheReason) {
  HttpEndpoint nobody;
  {
    ScriptedServer gone({});
    nobody = gone.endpoint();
  }
  HttpClient refused(nobody);
  auto r = refused.request("GET", "/", {}, {}, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("cannot connect to http://127.0.0.1:"));
  EXPECT_THAT(r.error().message, HasSubstr("refused"));

  // Accepts (the kernel's backlog) but never answers.
  int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(silent, 1);
  socklen_t len = sizeof addr;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len);
  HttpClient waiting(parse_endpoint("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))).value());
  auto late = waiting.request("GET", "/", {}, {}, 100ms);
  ::close(silent);
  ASSERT_FALSE(late.ok());
  EXPECT_THAT(late.error().message, HasSubstr("no response in time"));
}

TEST(HttpClient, EndpointsAndPathSegments) {
  auto e = parse_endpoint("http://localhost:3001/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, "3001");
  EXPECT_EQ(e->url, "http://localhost:3001");
  EXPECT_EQ(parse_endpoint("http://example")->port, "80");
  EXPECT_FALSE(parse_endpoint("localhost:3001").ok());
  EXPECT_FALSE(parse_endpoint("https://localhost:3001").ok());
  EXPECT_THAT(parse_endpoint("ftp://x").error().message, HasSubstr("is not http://HOST:PORT"));
  EXPECT_EQ(encode_path_segment("my-fn_1.a~"), "my-fn_1.a~");
  EXPECT_EQ(encode_path_segment("arn:aws/x y"), "arn%3Aaws%2Fx%20y");
}

}  // namespace
}  // namespace lambdad::client
