// The delivery of telemetry batches (docs/decisions/025) to a subscriber's listener inside its
// environment, bounded in time so a subscriber that never answers holds nothing for long: HTTP,
// one HTTP/1.1 POST per batch on a connection of its own; TCP, the batch's lines written on one
// connection per destination, kept open (a subscriber reads one stream), opened again after a
// failure or once the subscriber has closed it.
#include "lambdad/runtime_api/telemetry_post.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <map>
#include <memory>

namespace lambdad::runtime_api {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A POST not answered in this time has failed (the batch is tried again, then dropped).
constexpr std::chrono::seconds kPostTimeout{5};

class PostOp : public std::enable_shared_from_this<PostOp> {
 public:
  PostOp(const Executor& executor, std::function<void(bool)> done) : stream_(executor), done_(std::move(done)) {}

  void start(const sandbox::TelemetryDestination& to, std::string body) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(to.host, ec);
    if (ec) {
      return asio::post(stream_.get_executor(), [self = shared_from_this()] { self->finish(false); });
    }
    request_.method(bhttp::verb::post);
    request_.target(to.target);
    request_.version(11);
    request_.set(bhttp::field::host, to.host + ":" + std::to_string(to.port));
    request_.set(bhttp::field::content_type, "application/json");
    request_.set(bhttp::field::connection, "close");
    request_.body() = std::move(body);
    request_.prepare_payload();
    parser_.body_limit(64 * 1024);
    stream_.expires_after(kPostTimeout);
    stream_.async_connect(tcp::endpoint(address, to.port), [self = shared_from_this()](beast::error_code e) {
      if (e) return self->finish(false);
      bhttp::async_write(self->stream_, self->request_, [self](beast::error_code e2, std::size_t) {
        if (e2) return self->finish(false);
        bhttp::async_read(self->stream_, self->buffer_, self->parser_, [self](beast::error_code e3, std::size_t) {
          self->finish(!e3 && self->parser_.get().result_int() / 100 == 2);
        });
      });
    });
  }

 private:
  void finish(bool ok) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (auto done = std::move(done_)) done(ok);
  }

  beast::tcp_stream stream_;
  bhttp::request<bhttp::string_body> request_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::string_body> parser_;
  std::function<void(bool)> done_;
};

}  // namespace

// One TCP destination's connection. Batches are written one after the other (Telemetry sends the
// next only once the last is done); a read that ends tells that the subscriber has gone.
class TelemetryPost::TcpChannel : public std::enable_shared_from_this<TcpChannel> {
 public:
  TcpChannel(const Executor& executor, TelemetryPost& owner, std::string key)
      : stream_(executor), owner_(owner), key_(std::move(key)), owner_alive_(owner.alive_) {}

  void write(const sandbox::TelemetryDestination& to, std::string body, std::function<void(bool)> done) {
    body_ = std::move(body);
    done_ = std::move(done);
    stream_.expires_after(kPostTimeout);
    if (connected_) return send();
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(to.host, ec);
    if (ec) return asio::post(stream_.get_executor(), [self = shared_from_this()] { self->fail(); });
    stream_.async_connect(tcp::endpoint(address, to.port), [self = shared_from_this()](beast::error_code e) {
      if (e) return self->fail();
      self->connected_ = true;
      self->watch();
      self->send();
    });
  }

 private:
  void send() {
    asio::async_write(stream_, asio::buffer(body_), [self = shared_from_this()](beast::error_code e, std::size_t) {
      if (e) return self->fail();
      self->stream_.expires_never();
      self->body_.clear();
      if (auto done = std::move(self->done_)) done(true);
    });
  }
  // Reads (and ignores) what the subscriber sends until it closes the connection.
  void watch() {
    stream_.socket().async_read_some(asio::buffer(scratch_), [self = shared_from_this()](beast::error_code e, std::size_t) {
      if (e) return self->fail();
      self->watch();
    });
  }
  void fail() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    connected_ = false;
    if (auto alive = owner_alive_.lock()) {
      auto it = owner_.tcp_.find(key_);
      if (it != owner_.tcp_.end() && it->second.get() == this) owner_.tcp_.erase(it);
    }
    if (auto done = std::move(done_)) done(false);
  }

  beast::tcp_stream stream_;
  TelemetryPost& owner_;
  std::string key_;
  std::weak_ptr<char> owner_alive_;
  bool connected_ = false;
  std::string body_;
  std::array<char, 512> scratch_{};
  std::function<void(bool)> done_;
};

TelemetryPost::TelemetryPost(Executor executor) : executor_(std::move(executor)) {}

TelemetryPost::~TelemetryPost() = default;

void TelemetryPost::post(const sandbox::TelemetryDestination& to, std::string body, std::function<void(bool)> done) {
  if (to.protocol == sandbox::TelemetryDestination::Protocol::kTcp) {
    const std::string key = to.host + ":" + std::to_string(to.port);
    auto& channel = tcp_[key];
    if (!channel) channel = std::make_shared<TcpChannel>(executor_, *this, key);
    auto keep = channel;  // fail() may drop it from the map during the call
    return keep->write(to, std::move(body), std::move(done));
  }
  std::make_shared<PostOp>(executor_, std::move(done))->start(to, std::move(body));
}

}  // namespace lambdad::runtime_api
