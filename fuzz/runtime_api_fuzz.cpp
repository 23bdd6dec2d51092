// fuzz target: Runtime API request handling. Raw bytes (pipelined requests, Content-Length and
// chunked bodies, trailers, streamed responses) go over a loopback connection into the real HTTP
// server (src/http) serving the real Runtime API route table (src/runtime_api), in front of a fake
// environment (RuntimeApiTarget) that always has an invocation ready and accepts what request
// id "id-1" posts. Nothing may crash, hang or leak, and every response must be well-formed HTTP.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "lambdad/runtime_api/runtime_api.hpp"
#include "loopback_http.hpp"

namespace {

using namespace lambdad;
using sandbox::RuntimeReply;

class FakeTarget final : public sandbox::RuntimeApiTarget {
 public:
  explicit FakeTarget(boost::asio::io_context& io) : io_(io) {}

  void next(sandbox::NextCallback done) override {
    sandbox::Delivery d;
    d.request_id = "id-1";
    d.payload = R"({"key":"value"})";
    d.deadline_epoch_ms = 1700000000000;
    d.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn";
    d.trace_id = "Root=1-00000000-000000000000000000000000";
    boost::asio::post(io_, [done = std::move(done), d = std::move(d)] { done({d, {}}); });
  }
  RuntimeReply response(std::string_view id, sandbox::RuntimePost post) override { return reply(id, post); }
  RuntimeReply error(std::string_view id, sandbox::RuntimePost post) override { return reply(id, post); }
  RuntimeReply init_error(sandbox::RuntimePost post) override { return reply("id-1", post); }

  RuntimeReply stream_begin(std::string_view id, std::string) override {
    if (id != "id-1") return RuntimeReply::invalid_request_id();
    streamed_ = 0;
    return RuntimeReply::accepted();
  }
  RuntimeReply stream_chunk(std::string_view, std::string data, std::function<void()> ready) override {
    streamed_ += data.size();
    if (streamed_ > 64 * 1024) return RuntimeReply{RuntimeReply::Code::kStreamTooLarge, {}, {}};
    boost::asio::post(io_, std::move(ready));
    return RuntimeReply::accepted();
  }
  RuntimeReply stream_end(std::string_view, sandbox::StreamEnd) override { return RuntimeReply::accepted(); }

 private:
  static RuntimeReply reply(std::string_view id, const sandbox::RuntimePost& post) {
    if (id != "id-1") return RuntimeReply::invalid_request_id();
    if (post.too_large) return RuntimeReply{RuntimeReply::Code::kPayloadTooLarge, {}, {}};
    if (post.body == "again") return RuntimeReply::refused(sandbox::RuntimeState::kStarted, sandbox::RuntimeEvent::kResponse);
    return RuntimeReply::accepted();
  }

  boost::asio::io_context& io_;
  std::size_t streamed_ = 0;
};

struct Harness {
  boost::asio::io_context io;
  FakeTarget target{io};
  fuzz::LoopbackHttp http{io, runtime_api::make_router(target), options()};

  static http::ServerOptions options() {
    http::ServerOptions o;
    o.idle_timeout = std::chrono::seconds(5);
    o.read_timeout = std::chrono::seconds(5);
    o.write_timeout = std::chrono::seconds(5);
    o.header_limit = 2 * 1024 * 1024;  // as the Runtime API's endpoints
    return o;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto* harness = new Harness();
  harness->http.exchange(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
