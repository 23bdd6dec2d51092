// The HTTP server against misbehaving clients, over real sockets: header field count and size
// caps, malformed bodies, and the header and body read deadlines that cut off a slow-loris
// client while an idle kept-alive connection waits as long as the idle timeout allows; and a
// connection's admission decided later (a check off the event loop) while others are served.
#include "lambdad/http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "lambdad_test/loopback_client.hpp"
#include "lambdad_test/server_on_thread.hpp"

namespace lambdad::http {
namespace {

using namespace std::chrono_literals;
using Client = test::LoopbackClient;

class ServerLimitsTest : public ::testing::Test {
 protected:
  void start(ServerOptions options) {
    Router router;
    router.add(Method::kPost, "/echo", 1024, [](Request&& req, Responder respond) {
      Response r;
      r.status = 200;
      r.body = "echo:" + req.body;
      respond(std::move(r));
    });
    start_with(std::move(router), std::move(options));
  }
  void start_with(Router router, ServerOptions options) {
    ASSERT_TRUE(served_.start(std::move(router), std::move(options)));
  }
  // Before any member of a derived fixture goes: the server's thread may still call into them.
  void TearDown() override { served_.stop(); }

  test::ServerOnThread served_;
};

std::string fields(int n, const std::string& each) {
  std::string out;
  for (int i = 0; i < n; ++i) out += each;
  return out;
}

TEST_F(ServerLimitsTest, TooManySmallHeaderFieldsAre431) {
  start({});
  Client c(served_.port());
  // 10,000 fields of 5 bytes: 50 KB, under the 64 KB size limit, over the field count cap.
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\n" + fields(10'000, "a:b\r\n") + "Content-Length: 0\r\n\r\n");
  auto reply = c.read_until("\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 431 ", 0), 0u) << reply;
  EXPECT_TRUE(c.closed_by_peer());
}

// A front that routes every path itself (http_front::Front) takes bodies up to its own limit, and
// sees the method as sent, the client's address and the port it connected to.
TEST_F(ServerLimitsTest, AFallbackWithItsOwnBodyLimitSeesTheRequestAsSent) {
  Router router;
  router.set_fallback(
      [](Request&& req, Responder respond) {
        Response r;
        r.body = req.method_text + " " + req.peer_address + " " + std::to_string(req.local_port) + " " +
                 std::to_string(req.body.size()) + (req.body_too_large ? " too large" : "") + "|end";
        respond(std::move(r));
      },
      2 * 1024 * 1024);
  start_with(std::move(router), {});
  const std::string port = std::to_string(served_.port());
  {
    Client c(served_.port());
    c.send("OPTIONS /any/path HTTP/1.1\r\nHost: x\r\nContent-Length: 1500000\r\n\r\n" + std::string(1500000, 'a'));
    EXPECT_NE(c.read_until("|end").find("OPTIONS 127.0.0.1 " + port + " 1500000|end"), std::string::npos);
  }
  Client c(served_.port());
  c.send("PURGE /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2100000\r\n\r\n" + std::string(2100000, 'a'));
  EXPECT_NE(c.read_until("|end").find("PURGE 127.0.0.1 " + port + " 0 too large|end"), std::string::npos);
}

TEST_F(ServerLimitsTest, FieldsUpToTheCapAreServed) {
  ServerOptions options;
  options.max_header_fields = 50;
  start(options);
  Client c(served_.port());
  c.send("POST /echo HTTP/1.1\r\n" + fields(48, "a:b\r\n") + "Content-Length: 2\r\n\r\nhi");
  EXPECT_NE(c.read_until("echo:hi").find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(ServerLimitsTest, OversizedHeaderIs431) {
  start({});
  Client c(served_.port());
  c.send("POST /echo HTTP/1.1\r\nX-Big: " + std::string(70 * 1024, 'x') + "\r\n\r\n");
  EXPECT_EQ(c.read_until("\r\n\r\n").rfind("HTTP/1.1 431 ", 0), 0u);
}

TEST_F(ServerLimitsTest, MalformedChunkedBodyIs400AndClosed) {
  start({});
  Client c(served_.port());
  c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  auto reply = c.read_until("\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerLimitsTest, HeadersTrickledPastTheHeaderDeadlineAreCutOff) {
  ServerOptions options;
  options.header_timeout = 300ms;
  start(options);
  Client c(served_.port());
  const auto started = std::chrono::steady_clock::now();
  c.send("POST /echo HTTP/1.1\r\n");
  // One field every 50 ms keeps bytes coming, but the header never ends.
  bool sent = true;
  for (int i = 0; i < 40 && sent; ++i) {
    sent = c.send_unchecked("X-Slow: 1\r\n");
    std::this_thread::sleep_for(50ms);
    if (std::chrono::steady_clock::now() - started > 1s) break;
  }
  EXPECT_TRUE(c.closed_by_peer());
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(ServerLimitsTest, BodyTrickledPastTheBodyDeadlineIsCutOff) {
  ServerOptions options;
  options.read_timeout = 300ms;
  start(options);
  Client c(served_.port());
  const auto started = std::chrono::steady_clock::now();
  c.send("POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
  for (int i = 0; i < 20; ++i) {
    if (!c.send_unchecked("x")) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(c.closed_by_peer());
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(ServerLimitsTest, AnIdleConnectionWaitsForTheIdleTimeoutNotTheHeaderDeadline) {
  ServerOptions options;
  options.header_timeout = 200ms;
  options.idle_timeout = 10s;
  start(options);
  Client c(served_.port());
  std::this_thread::sleep_for(600ms);  // idle, longer than the header deadline
  c.send("POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_NE(c.read_until("echo:ok").find("HTTP/1.1 200"), std::string::npos);
}

// Admission decided later, as the Runtime API's check on the blocking pool does it: the connection
// waits, unread, and others are accepted meanwhile.
class ServerAdmissionTest : public ServerLimitsTest {
 protected:
  // Every connection waits for decide(); the admit call is reported through asked().
  void start_deciding_later() {
    ServerOptions options;
    options.admit = [this](const TcpPeer& peer, ServerOptions::Decide decide) {
      std::lock_guard lock(mu_);
      peers_.push_back(peer);
      decisions_.push_back(std::move(decide));
      if (waiting_ && decisions_.size() >= wanted_) {
        waiting_->set_value();
        waiting_.reset();
      }
    };
    start(options);
  }
  // Blocks until `n` connections have been asked about.
  void asked(std::size_t n) {
    std::future<void> done;
    {
      std::lock_guard lock(mu_);
      if (decisions_.size() >= n) return;
      waiting_.emplace();
      wanted_ = n;
      done = waiting_->get_future();
    }
    ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  }
  // The `i`th connection's decision, made on the server's event loop.
  void decide(std::size_t i, bool admitted) {
    boost::asio::post(served_.io(), [this, i, admitted] {
      ServerOptions::Decide d;
      {
        std::lock_guard lock(mu_);
        d = decisions_.at(i);
      }
      d(admitted);
    });
  }
  TcpPeer peer(std::size_t i) {
    std::lock_guard lock(mu_);
    return peers_.at(i);
  }

  std::mutex mu_;
  std::vector<TcpPeer> peers_;
  std::vector<ServerOptions::Decide> decisions_;
  std::optional<std::promise<void>> waiting_;
  std::size_t wanted_ = 0;
};

TEST_F(ServerAdmissionTest, AConnectionAdmittedLaterIsServedThenAndOthersAreNotHeldUp) {
  start_deciding_later();
  Client first(served_.port());
  first.send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nfirst");
  asked(1);
  Client second(served_.port());
  second.send("POST /echo HTTP/1.1\r\nContent-Length: 6\r\n\r\nsecond");
  asked(2);  // accepted while the first waits
  EXPECT_EQ(peer(0).peer_address, "127.0.0.1");
  EXPECT_EQ(peer(0).local_port, served_.port());
  decide(1, true);
  EXPECT_NE(second.read_until("echo:second").find("HTTP/1.1 200"), std::string::npos);
  decide(0, true);
  EXPECT_NE(first.read_until("echo:first").find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(ServerAdmissionTest, AConnectionRefusedLaterIsClosedUnread) {
  start_deciding_later();
  Client c(served_.port());
  c.send("POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
  asked(1);
  decide(0, false);
  EXPECT_EQ(c.read_until("HTTP/1.1"), "") << "nothing is answered to a refused connection";
}

}  // namespace
}  // namespace lambdad::http
