// The HTTP server's streaming on both sides, over real sockets: a request body read piece by
// piece as the client sends it (with trailers), and a chunked response flushed chunk by chunk.
// The server runs on its io_context in a background thread; the test is the client, with
// blocking sockets and receive timeouts as the deadlock guard.
#include "lambdad/http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "lambdad_test/loopback_client.hpp"

namespace lambdad::http {
namespace {

using namespace std::chrono_literals;

using Client = test::LoopbackClient;

// What the streaming handler saw, shared between the io thread and the test.
struct Seen {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> pieces;
  Headers trailers;
  bool ended = false;
  bool failed = false;

  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 5s, pred);
  }
};

// Each test runs twice: the server's connections on its io_context's one thread, and (the
// daemon's --io-threads, docs/decisions/021) connections on strands of their own over three
// threads with the handlers on a strand standing for the domain.
class ServerStreamTest : public ::testing::TestWithParam<bool> {
 protected:
  void start(Router router) {
    ServerOptions options;
    if (GetParam()) {
      domain_ = boost::asio::make_strand(io_);
      options.own_strands = true;
    }
    server_ = std::make_unique<Server>(io_, domain_, std::move(router), options);
    ASSERT_TRUE(server_->listen("127.0.0.1", 0).ok());
    for (int i = 0; i < (GetParam() ? 3 : 1); ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) on_io_sync([this] { server_->stop(); });
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    server_.reset();
  }
  void on_io(std::function<void()> fn) { boost::asio::post(domain_, std::move(fn)); }
  // Runs `fn` on the server's executor and waits for it: after this, nothing queued earlier is pending.
  void on_io_sync(std::function<void()> fn) {
    if (threads_.empty()) return fn();
    std::promise<void> done;
    boost::asio::post(domain_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  Seen seen_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  Executor domain_ = io_.get_executor();
  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;
};

INSTANTIATE_TEST_SUITE_P(Threads, ServerStreamTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "OwnStrands" : "OneThread"; });

// Reads the body to its end, recording each piece; then answers 202 with the pieces joined by '|'.
struct PieceReader : std::enable_shared_from_this<PieceReader> {
  PieceReader(std::shared_ptr<BodyReader> b, Responder r, Seen& s) : body(std::move(b)), respond(std::move(r)), seen(s) {}
  void next() {
    body->read([self = shared_from_this()](Result<BodyReader::Piece> p) {
      std::lock_guard lock(self->seen.m);
      if (!p) {
        self->seen.failed = true;
        self->seen.cv.notify_all();
        return;
      }
      if (!p->data.empty()) self->seen.pieces.push_back(p->data);
      if (p->end) {
        self->seen.ended = true;
        self->seen.trailers = p->trailers;
        Response r;
        r.status = 202;
        for (const auto& piece : self->seen.pieces) r.body += piece + "|";
        self->respond(std::move(r));
      } else {
        self->next();
      }
      self->seen.cv.notify_all();
    });
  }
  std::shared_ptr<BodyReader> body;
  Responder respond;
  Seen& seen;
};

Router streaming_router(Seen& seen) {
  Router router;
  router.add_streaming(
      Method::kPost, "/upload", 16,
      [](Request&& req, Responder respond) {
        Response r;
        r.status = 200;
        r.body = "buffered:" + req.body;
        respond(std::move(r));
      },
      [](const Request& req) { return req.headers.has("X-Stream"); },
      [&seen](Request&&, std::shared_ptr<BodyReader> body, Responder respond) {
        std::make_shared<PieceReader>(std::move(body), std::move(respond), seen)->next();
      });
  return router;
}

TEST_P(ServerStreamTest, ChunkedBodyIsDeliveredPieceByPieceAsItArrivesWithTrailers) {
  Seen& seen = seen_;  // outlives the io thread (joined in TearDown)
  start(streaming_router(seen));
  Client c(server_->port());
  ASSERT_TRUE(c.connected());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Stream: 1\r\nTransfer-Encoding: chunked\r\n"
         "Trailer: X-Error\r\n\r\n3\r\nabc\r\n");
  // The first chunk reaches the handler while the rest of the body has not been sent.
  ASSERT_TRUE(seen.wait([&] { return !seen.pieces.empty(); }));
  {
    std::lock_guard lock(seen.m);
    EXPECT_EQ(seen.pieces, std::vector<std::string>{"abc"});
    EXPECT_FALSE(seen.ended);
  }
  c.send("4\r\ndefg\r\n0\r\nX-Error: boom\r\n\r\n");
  auto reply = c.read_until("abc|defg|");
  EXPECT_NE(reply.find("HTTP/1.1 202"), std::string::npos) << reply;
  std::lock_guard lock(seen.m);
  EXPECT_EQ(seen.pieces, (std::vector<std::string>{"abc", "defg"}));
  EXPECT_TRUE(seen.ended);
  EXPECT_EQ(seen.trailers.get("X-Error").value_or(""), "boom");
  EXPECT_FALSE(seen.trailers.has("Host")) << "only trailer fields";
}

TEST_P(ServerStreamTest, ConnectionIsReusedAfterAStreamedBodyWasReadToTheEnd) {
  Seen& seen = seen_;  // outlives the io thread (joined in TearDown)
  start(streaming_router(seen));
  Client c(server_->port());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Stream: 1\r\nContent-Length: 5\r\n\r\nhello");
  auto first = c.read_until("hello|");
  EXPECT_NE(first.find("HTTP/1.1 202"), std::string::npos) << first;
  c.clear();
  // Not streamed (no X-Stream): the buffered handler, on the same connection.
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  auto second = c.read_until("buffered:hi");
  EXPECT_NE(second.find("HTTP/1.1 200"), std::string::npos) << second;
}

TEST_P(ServerStreamTest, AnEmptyStreamedBodyEndsAtOnce) {
  Seen& seen = seen_;  // outlives the io thread (joined in TearDown)
  start(streaming_router(seen));
  Client c(server_->port());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Stream: 1\r\nContent-Length: 0\r\n\r\n");
  auto reply = c.read_until("\r\n\r\n");
  EXPECT_NE(reply.find("HTTP/1.1 202"), std::string::npos) << reply;
  ASSERT_TRUE(seen.wait([&] { return seen.ended; }));
  std::lock_guard lock(seen.m);
  EXPECT_TRUE(seen.pieces.empty());
}

TEST_P(ServerStreamTest, ExpectContinueIsAnsweredWhenTheHandlerFirstReads) {
  Seen& seen = seen_;  // outlives the io thread (joined in TearDown)
  start(streaming_router(seen));
  Client c(server_->port());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Stream: 1\r\nExpect: 100-continue\r\n"
         "Transfer-Encoding: chunked\r\n\r\n");
  EXPECT_NE(c.read_until("100 Continue\r\n\r\n").find("HTTP/1.1 100 Continue"), std::string::npos);
  c.send("2\r\nok\r\n0\r\n\r\n");
  EXPECT_NE(c.read_until("ok|").find("HTTP/1.1 202"), std::string::npos);
}

TEST_P(ServerStreamTest, LargeChunkIsSplitIntoBoundedPieces) {
  Seen& seen = seen_;  // outlives the io thread (joined in TearDown)
  start(streaming_router(seen));
  Client c(server_->port());
  const std::size_t size = BodyReader::kMaxPiece * 2 + 10;
  std::string chunk(size, 'x');
  char head[64];
  std::snprintf(head, sizeof head, "%zx\r\n", size);
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Stream: 1\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(head) +
         chunk + "\r\n0\r\n\r\n");
  ASSERT_TRUE(seen.wait([&] { return seen.ended; }));
  std::lock_guard lock(seen.m);
  std::size_t total = 0;
  for (const auto& p : seen.pieces) {
    EXPECT_LE(p.size(), BodyReader::kMaxPiece);
    total += p.size();
  }
  EXPECT_EQ(total, size);
  EXPECT_GE(seen.pieces.size(), 3u);
}

TEST_P(ServerStreamTest, AnswerBeforeTheBodyEndsClosesTheConnection) {
  Router router;
  router.add_streaming(
      Method::kPost, "/upload", 16, [](Request&&, Responder) {}, [](const Request&) { return true; },
      [](Request&&, std::shared_ptr<BodyReader>, Responder respond) {
        Response r;
        r.status = 413;
        r.body = "too big";
        respond(std::move(r));
      });
  start(std::move(router));
  Client c(server_->port());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  auto reply = c.read_until("too big");
  EXPECT_NE(reply.find("HTTP/1.1 413"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_P(ServerStreamTest, ResponseStreamSendsEachChunkAtOnceThenTrailersAndKeepsTheConnection) {
  std::shared_ptr<ResponseStream> stream;
  std::vector<bool> written;
  Router router;
  router.add(Method::kGet, "/events", 0, [&](Request&&, Responder respond) {
    Response head;
    head.status = 200;
    head.headers.add("Content-Type", "application/x-test");
    stream = respond.stream(std::move(head));
    ASSERT_TRUE(stream);
    EXPECT_FALSE(respond.stream(Response{})) << "one answer per exchange";
    stream->write("one", [&](bool ok) { written.push_back(ok); });
  });
  router.add(Method::kGet, "/plain", 0, [](Request&&, Responder respond) {
    Response r;
    r.body = "plain";
    respond(std::move(r));
  });
  start(std::move(router));
  Client c(server_->port());
  c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  // "one" arrives while the handler has not finished its response.
  auto got = c.read_until("3\r\none\r\n");
  EXPECT_NE(got.find("HTTP/1.1 200"), std::string::npos) << got;
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  EXPECT_NE(got.find("Content-Type: application/x-test"), std::string::npos) << got;
  ASSERT_NE(got.find("3\r\none\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("0\r\n\r\n"), std::string::npos) << "not ended yet";
  on_io([&] {
    stream->write("second");
    Headers trailers;
    trailers.add("X-Done", "yes");
    stream->end(trailers);
    stream.reset();
  });
  got = c.read_until("0\r\nX-Done: yes\r\n\r\n");
  EXPECT_NE(got.find("6\r\nsecond\r\n0\r\nX-Done: yes\r\n\r\n"), std::string::npos) << got;
  c.clear();
  c.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.read_until("plain").find("HTTP/1.1 200"), std::string::npos);
  std::vector<bool> result;
  on_io_sync([&] { result = written; });
  EXPECT_EQ(result, std::vector<bool>{true});
}

TEST_P(ServerStreamTest, WritesAfterTheClientLeftReportFailure) {
  std::shared_ptr<ResponseStream> stream;
  Router router;
  router.add(Method::kGet, "/events", 0, [&](Request&&, Responder respond) {
    Response head;
    stream = respond.stream(std::move(head));
  });
  start(std::move(router));
  {
    Client c(server_->port());
    c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until("\r\n\r\n");
  }  // the client disconnects
  std::promise<bool> failed;
  auto sent = std::make_shared<int>(0);
  // Keep writing until a write reports failure (the first writes may still be accepted by the
  // kernel before the reset is noticed).
  std::function<void()> write_more = [&, sent] {
    stream->write(std::string(64 * 1024, 'z'), [&, sent](bool ok) {
      if (!ok) {
        EXPECT_TRUE(stream->broken());
        failed.set_value(true);
      } else if (++*sent < 1000) {
        write_more();
      }
    });
  };
  on_io(write_more);
  auto f = failed.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  on_io_sync([&] { stream.reset(); });
}

}  // namespace
}  // namespace lambdad::http
