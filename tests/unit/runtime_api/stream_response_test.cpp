// POST /runtime/invocation/{id}/response with Lambda-Runtime-Function-Response-Mode: streaming,
// over a real socket against the real route table, with a recording RuntimeApiTarget: pieces go
// to the environment as they arrive, the next one is read only when the environment is ready,
// trailers end the stream, and the exact replies of lambda-spec §1.7.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "lambdad/http/server.hpp"
#include "lambdad/runtime_api/runtime_api.hpp"

#include "lambdad_test/loopback_client.hpp"
#include "lambdad_test/server_on_thread.hpp"

namespace lambdad::runtime_api {
namespace {

using namespace std::chrono_literals;
using sandbox::RuntimeReply;

// Every test here needs the connection: a refused one fails where it is made.
class Client : public test::LoopbackClient {
 public:
  explicit Client(std::uint16_t port) : LoopbackClient(port) { EXPECT_TRUE(connected()); }
  // These tests send into servers that may refuse the rest of a body.
  void send(const std::string& data) { send_unchecked(data); }
};

// Records the streaming calls; holds each chunk's `ready` until the test releases it.
class RecordingTarget final : public sandbox::RuntimeApiTarget {
 public:
  void next(sandbox::NextCallback) override {}
  RuntimeReply response(std::string_view, sandbox::RuntimePost) override { return RuntimeReply::accepted(); }
  RuntimeReply error(std::string_view, sandbox::RuntimePost) override { return RuntimeReply::accepted(); }
  RuntimeReply init_error(sandbox::RuntimePost) override { return RuntimeReply::accepted(); }

  RuntimeReply stream_begin(std::string_view id, std::string type) override {
    std::lock_guard lock(m);
    if (id != "id-1") return RuntimeReply::invalid_request_id();
    begun = true;
    content_type = std::move(type);
    cv.notify_all();
    return RuntimeReply::accepted();
  }
  RuntimeReply stream_chunk(std::string_view, std::string data, std::function<void()> ready) override {
    std::lock_guard lock(m);
    chunks.push_back(data);
    pending_ready = std::move(ready);
    cv.notify_all();
    if (refuse_chunks) return RuntimeReply{RuntimeReply::Code::kStreamTooLarge, {}, {}};
    return RuntimeReply::accepted();
  }
  RuntimeReply stream_end(std::string_view, sandbox::StreamEnd e) override {
    std::lock_guard lock(m);
    end = std::move(e);
    cv.notify_all();
    return RuntimeReply::accepted();
  }

  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 5s, pred);
  }

  std::mutex m;
  std::condition_variable cv;
  bool begun = false;
  bool refuse_chunks = false;
  std::string content_type;
  std::vector<std::string> chunks;
  std::function<void()> pending_ready;
  std::optional<sandbox::StreamEnd> end;
};

class StreamResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(served_.start(make_router(target_)));
  }
  void TearDown() override { served_.stop(); }
  // Calls the held `ready` on the io thread, as the environment would.
  void release() {
    std::function<void()> ready;
    {
      std::lock_guard lock(target_.m);
      ready = std::move(target_.pending_ready);
    }
    ASSERT_TRUE(ready);
    boost::asio::post(served_.io(), ready);
  }

  static constexpr const char* kHead =
      "POST /2018-06-01/runtime/invocation/id-1/response HTTP/1.1\r\nHost: x\r\n"
      "Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Type: text/plain\r\n"
      "Transfer-Encoding: chunked\r\n"
      "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n";

  // Declared first, so destroyed last: target_ may still hold a `ready` that keeps a session of
  // its io_context alive, and that session must go while the io_context is there.
  test::ServerOnThread served_;
  RecordingTarget target_;
};

TEST_F(StreamResponseTest, PiecesFlowOneAtATimeAsTheEnvironmentTakesThem) {
  Client c(served_.port());
  c.send(std::string(kHead) + "5\r\nfirst\r\n");
  ASSERT_TRUE(target_.wait([&] { return target_.chunks.size() == 1; }));
  EXPECT_EQ(target_.content_type, "text/plain");
  c.send("6\r\nsecond\r\n");
  // Not read while the environment has not taken "first" (a wrongly eager reader would have
  // delivered it within this grace period).
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard lock(target_.m);
    EXPECT_EQ(target_.chunks.size(), 1u);
  }
  release();
  ASSERT_TRUE(target_.wait([&] { return target_.chunks.size() == 2; }));
  c.send("0\r\n\r\n");
  release();
  auto reply = c.read_until("{\"status\":\"OK\"}\n");
  EXPECT_NE(reply.find("HTTP/1.1 202"), std::string::npos) << reply;
  std::lock_guard lock(target_.m);
  EXPECT_EQ(target_.chunks, (std::vector<std::string>{"first", "second"}));
  ASSERT_TRUE(target_.end);
  EXPECT_EQ(target_.end->kind, sandbox::StreamEnd::Kind::kComplete);
  EXPECT_EQ(target_.end->error_type, "");
}

TEST_F(StreamResponseTest, ErrorTrailersEndTheStreamWithTheDecodedError) {
  Client c(served_.port());
  // base64 of {"errorType":"Error","errorMessage":"boom"}
  c.send(std::string(kHead) + "4\r\npart\r\n");
  ASSERT_TRUE(target_.wait([&] { return target_.chunks.size() == 1; }));
  c.send("0\r\nLambda-Runtime-Function-Error-Type: Function.Boom\r\n"
         "Lambda-Runtime-Function-Error-Body: eyJlcnJvclR5cGUiOiJFcnJvciIsImVycm9yTWVzc2FnZSI6ImJvb20ifQ==\r\n\r\n");
  release();
  auto reply = c.read_until("{\"status\":\"OK\"}\n");
  EXPECT_NE(reply.find("HTTP/1.1 202"), std::string::npos) << reply;
  std::lock_guard lock(target_.m);
  ASSERT_TRUE(target_.end);
  EXPECT_EQ(target_.end->error_type, "Function.Boom");
  EXPECT_EQ(target_.end->error_body, R"({"errorType":"Error","errorMessage":"boom"})");
}

TEST_F(StreamResponseTest, UnknownRequestIdIsRefusedAndTheConnectionClosed) {
  Client c(served_.port());
  std::string head(kHead);
  head.replace(head.find("id-1"), 4, "id-9");
  c.send(head + "5\r\nfirst\r\n");
  auto reply = c.read_until("\"errorType\":\"InvalidRequestID\"}\n");
  EXPECT_NE(reply.find("HTTP/1.1 400"), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"({"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"})"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer());
  std::lock_guard lock(target_.m);
  EXPECT_TRUE(target_.chunks.empty());
}

TEST_F(StreamResponseTest, OverTheLimitIs413AndTheUploadStops) {
  {
    std::lock_guard lock(target_.m);
    target_.refuse_chunks = true;
  }
  Client c(served_.port());
  c.send(std::string(kHead) + "5\r\nfirst\r\n");
  auto reply = c.read_until("\"errorType\":\"RequestEntityTooLarge\"}\n");
  EXPECT_NE(reply.find("HTTP/1.1 413"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Exceeded maximum allowed payload size (209715200 bytes)."), std::string::npos) << reply;
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(StreamResponseTest, OtherResponseModesAreRefused) {
  Client c(served_.port());
  c.send("POST /2018-06-01/runtime/invocation/id-1/response HTTP/1.1\r\nHost: x\r\n"
         "Lambda-Runtime-Function-Response-Mode: buffered\r\nContent-Length: 2\r\n\r\nok");
  auto reply = c.read_until("InvalidFunctionResponseMode\"}\n");
  EXPECT_NE(reply.find("HTTP/1.1 400"), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"({"errorMessage":"Invalid function response mode","errorType":"InvalidFunctionResponseMode"})"),
            std::string::npos);
}

TEST(RenderReplyStreamTest, StreamTooLargeNamesTheStreamedLimit) {
  auto r = render_reply(RuntimeReply{RuntimeReply::Code::kStreamTooLarge, {}, {}});
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(r.body,
            "{\"errorMessage\":\"Exceeded maximum allowed payload size (209715200 bytes).\",\"errorType\":"
            "\"RequestEntityTooLarge\"}\n");
  EXPECT_TRUE(r.close);
}

}  // namespace
}  // namespace lambdad::runtime_api
