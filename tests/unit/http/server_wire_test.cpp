// The bytes the HTTP server writes, over real sockets, with connections on the server's executor
// and on strands of their own: the head written without Beast's serializer is the one Beast
// writes (status line, fields in order, Server, Connection, Content-Length), a response that sets
// a field the server derives still goes through Beast, requests sent back to back on one
// connection (parsed from what one read brought) are answered in order, and a body larger than
// the socket takes at once arrives whole.
#include "lambdad/http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <thread>

#include "lambdad_test/loopback_client.hpp"
#include "lambdad_test/server_on_thread.hpp"

namespace lambdad::http {
namespace {

using Client = test::LoopbackClient;

class ServerWireTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    Router router;
    router.add(Method::kPost, "/echo", 1024, [](Request&& req, Responder respond) {
      Response r;
      r.headers.add("Content-Type", "text/plain");
      r.headers.add("X-Seen", req.body);
      r.body = "echo:" + req.body;
      respond(std::move(r));
    });
    router.add(Method::kGet, "/empty", 0, [](Request&&, Responder respond) {
      Response r;
      r.status = 204;
      respond(std::move(r));
    });
    router.add(Method::kHead, "/echo", 0, [](Request&&, Responder respond) {
      Response r;
      r.body = "twelve bytes";
      respond(std::move(r));
    });
    router.add(Method::kGet, "/own-length", 0, [](Request&&, Responder respond) {
      Response r;
      r.headers.add("Content-Length", "2");
      r.body = "ok";
      respond(std::move(r));
    });
    router.add(Method::kGet, "/big", 0, [](Request&&, Responder respond) {
      Response r;
      r.body = std::string(8 << 20, 'b') + "|end";
      respond(std::move(r));
    });
    ServerOptions options;
    options.server_name = "lambdad-test";
    options.own_strands = GetParam();
    ASSERT_TRUE(served_.start(std::move(router), std::move(options)));
  }
  void TearDown() override { served_.stop(); }

  test::ServerOnThread served_;
};

TEST_P(ServerWireTest, TheHeadIsWrittenAsBeastWritesIt) {
  Client c(served_.port());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(c.read_until("echo:hi"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Seen: hi\r\nServer: lambdad-test\r\n"
            "Content-Length: 7\r\n\r\necho:hi");
}

TEST_P(ServerWireTest, Http10KeepAliveAndAClosingRequestSayWhatTheConnectionDoes) {
  {
    Client c(served_.port());
    c.send("POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na");
    EXPECT_EQ(c.read_until("echo:a"),
              "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nX-Seen: a\r\nServer: lambdad-test\r\n"
              "Connection: keep-alive\r\nContent-Length: 6\r\n\r\necho:a");
  }
  Client c(served_.port());
  c.send("POST /echo HTTP/1.1\r\nConnection: close\r\nContent-Length: 1\r\n\r\nb");
  EXPECT_EQ(c.read_until("echo:b"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Seen: b\r\nServer: lambdad-test\r\n"
            "Connection: close\r\nContent-Length: 6\r\n\r\necho:b");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_P(ServerWireTest, NoContentHasNoLengthAndHeadHasTheLengthWithoutTheBody) {
  Client c(served_.port());
  c.send("GET /empty HTTP/1.1\r\n\r\nHEAD /echo HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.read_until("Content-Length: 12\r\n\r\n"),
            "HTTP/1.1 204 No Content\r\nServer: lambdad-test\r\n\r\n"
            "HTTP/1.1 200 OK\r\nServer: lambdad-test\r\nContent-Length: 12\r\n\r\n");
}

TEST_P(ServerWireTest, AResponseThatSetsItsOwnLengthGoesThroughBeast) {
  Client c(served_.port());
  c.send("GET /own-length HTTP/1.1\r\n\r\n");
  // Beast sets the length it computes in place of the handler's, after the other fields.
  EXPECT_EQ(c.read_until("\r\n\r\nok"), "HTTP/1.1 200 OK\r\nServer: lambdad-test\r\nContent-Length: 2\r\n\r\nok");
}

TEST_P(ServerWireTest, RequestsSentBackToBackAreAnsweredInOrder) {
  Client c(served_.port());
  std::string requests;
  for (int i = 0; i < 5; ++i) requests += "POST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\n" + std::to_string(i);
  requests += "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n5\r\n0\r\n\r\n";
  c.send(requests);
  const std::string got = c.read_until("echo:5");
  std::size_t at = 0;
  for (int i = 0; i <= 5; ++i) {
    const auto next = got.find("echo:" + std::to_string(i), at);
    ASSERT_NE(next, std::string::npos) << i << " in " << got;
    at = next;
  }
}

TEST_P(ServerWireTest, ABodyLargerThanTheSocketTakesAtOnceArrivesWhole) {
  Client c(served_.port());
  c.send("GET /big HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nafter");
  const std::string got = c.read_until("echo:after");
  const auto body = got.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_NE(got.find("Content-Length: " + std::to_string((8 << 20) + 4)), std::string::npos);
  EXPECT_EQ(got.find("|end"), body + 4 + (8 << 20));
  EXPECT_NE(got.find("echo:after"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Connections, ServerWireTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "OnOwnStrands" : "OnTheServerExecutor"; });

}  // namespace
}  // namespace lambdad::http
