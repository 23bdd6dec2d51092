#include "websocket_session.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <utility>

#include "beast_names.hpp"

namespace lambdad::http {

namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(30);

// Follows the frame headers (RFC 6455 5.2) in the bytes the client sends, so that a data frame
// whose payload is over the limit is seen although Beast hands over whole messages.
class FrameScanner {
 public:
  explicit FrameScanner(std::size_t limit) : limit_(limit) {}

  void feed(const unsigned char* p, std::size_t n) {
    while (n > 0) {
      if (remaining_ > 0) {
        const auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n));
        remaining_ -= skip;
        p += skip;
        n -= skip;
        continue;
      }
      head_[have_++] = *p++;
      --n;
      if (have_ < 2) continue;
      const unsigned len7 = head_[1] & 0x7fU;
      const std::size_t extended = len7 == 126 ? 2U : len7 == 127 ? 8U : 0U;
      const std::size_t need = 2U + extended + ((head_[1] & 0x80U) != 0 ? 4U : 0U);
      if (have_ < need) continue;
      std::uint64_t payload = len7;
      if (len7 >= 126) {
        payload = 0;
        for (std::size_t i = 2; i < 2 + extended; ++i) payload = (payload << 8) | head_[i];
      }
      const bool data_frame = (head_[0] & 0x0fU) < 8;  // continuation, text, binary
      if (data_frame && limit_ > 0 && payload > limit_) exceeded_ = true;
      remaining_ = payload;
      have_ = 0;
    }
  }
  bool exceeded() const { return exceeded_; }

 private:
  std::size_t limit_;
  std::array<unsigned char, 14> head_{};
  std::size_t have_ = 0;
  std::uint64_t remaining_ = 0;  // payload bytes of the current frame still to come
  bool exceeded_ = false;
};

// The session's TCP stream with the FrameScanner watching what is read.
class WatchedStream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  using next_layer_type = beast::tcp_stream;

  WatchedStream(beast::tcp_stream stream, std::size_t frame_limit)
      : next_(std::move(stream)), scanner_(std::make_shared<FrameScanner>(frame_limit)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }
  bool frame_too_big() const { return scanner_->exceeded(); }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return asio::async_initiate<Handler, void(beast::error_code, std::size_t)>(
        [this](auto done, const MutableBuffers& b) {
          next_.async_read_some(b, [scanner = scanner_, b, done = std::move(done)](beast::error_code ec,
                                                                                   std::size_t n) mutable {
            for (const auto piece : beast::buffers_prefix(n, b)) {
              scanner->feed(static_cast<const unsigned char*>(piece.data()), piece.size());
            }
            std::move(done)(ec, n);
          });
        },
        handler, buffers);
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return next_.async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  beast::tcp_stream next_;
  std::shared_ptr<FrameScanner> scanner_;
};

// Found by Beast's websocket::stream (argument-dependent lookup) to close the connection.
template <class Handler>
void async_teardown(beast::role_type role, WatchedStream& stream, Handler&& handler) {
  using beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<Handler>(handler));
}

class Session final : public WebSocketSession, public std::enable_shared_from_this<Session> {
 public:
  Session(beast::tcp_stream stream, WebSocketSettings settings, WebSocketHandlers handlers)
      : ws_(std::move(stream), settings.frame_limit), settings_(std::move(settings)), handlers_(std::move(handlers)) {}

  void start(bhttp::request<bhttp::empty_body> handshake, const std::string& server_name) {
    handshake_ = std::move(handshake);
    // The front keeps its own idle and lifetime limits (on the injected clock): no timeout here
    // once the handshake is done.
    beast::get_lowest_layer(ws_).expires_never();
    bws::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = kHandshakeTimeout;
    timeouts.idle_timeout = bws::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(bws::stream_base::decorator(
        [headers = settings_.response_headers, server_name](bws::response_type& res) {
          if (!server_name.empty()) res.set(bhttp::field::server, server_name);
          for (const auto& f : headers.fields()) res.set(f.name, f.value);
        }));
    if (settings_.message_limit > 0) ws_.read_message_max(settings_.message_limit);
    ws_.auto_fragment(false);
    std::weak_ptr<Session> weak = shared_from_this();
    ws_.control_callback([weak](bws::frame_type kind, beast::string_view) {
      auto self = weak.lock();
      if (self && kind == bws::frame_type::ping && self->handlers_.on_ping) self->handlers_.on_ping();
    });
    ws_.async_accept(handshake_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void send(std::string data, bool binary) override {
    if (closing_ || ended_) return;
    out_.push_back(Out{std::move(data), binary, false});
    pump();
  }

  void close(std::uint16_t code, std::string reason) override {
    if (closing_ || ended_) return;
    closing_ = true;
    close_ = WebSocketClose{code, std::move(reason), true};
    out_.push_back(Out{{}, false, true});
    pump();
  }

  void abort() override {
    if (ended_) return;
    if (!closing_) close_ = WebSocketClose{1006, "", true};
    closing_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  struct Out {
    std::string data;
    bool binary = false;
    bool close = false;
  };

  void on_accept(beast::error_code ec) {
    if (ec) return end(WebSocketClose{1006, "", false});
    open_ = true;
    read();
    pump();
  }

  void read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (closing_ && close_.by_server) return end(close_);
      if (ec == bws::error::closed) {
        const auto& r = ws_.reason();
        // A close frame without a status code is reported as 1005 (RFC 6455 7.1.5).
        const auto code = r.code == bws::close_code::none ? std::uint16_t{1005} : static_cast<std::uint16_t>(r.code);
        return end(WebSocketClose{code, std::string(r.reason.c_str()), false});
      }
      if (ec == bws::error::message_too_big) return end(WebSocketClose{1009, "Message Too Big", true});
      return end(WebSocketClose{1006, "", false});
    }
    if (ws_.next_layer().frame_too_big()) {  // over API Gateway's frame size: not delivered
      in_.consume(in_.size());
      return close(1009, "Message Too Big");
    }
    std::string data = beast::buffers_to_string(in_.data());
    in_.consume(in_.size());
    const bool binary = ws_.got_binary();
    if (handlers_.on_message) handlers_.on_message(std::move(data), binary);
    if (!ended_) read();
  }

  void pump() {
    if (!open_ || writing_ || out_.empty() || ended_) return;
    writing_ = true;
    Out& o = out_.front();
    if (o.close) {
      ws_.async_close(bws::close_reason(static_cast<bws::close_code>(close_.code), close_.reason),
                      [self = shared_from_this()](beast::error_code) {
                        self->writing_ = false;
                        // The read loop sees the peer's answer (or the error) and ends the session.
                      });
      return;
    }
    ws_.text(!o.binary);
    ws_.async_write(asio::buffer(o.data), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (!self->out_.empty()) self->out_.pop_front();
      if (ec) return;  // the read loop reports the end
      self->pump();
    });
  }

  void end(WebSocketClose how) {
    if (ended_) return;
    ended_ = true;
    out_.clear();
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    auto on_closed = std::move(handlers_.on_closed);
    handlers_ = {};
    if (on_closed) on_closed(std::move(how));
  }

  bws::stream<WatchedStream> ws_;
  WebSocketSettings settings_;
  WebSocketHandlers handlers_;
  bhttp::request<bhttp::empty_body> handshake_;
  beast::flat_buffer in_;
  std::deque<Out> out_;
  WebSocketClose close_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool ended_ = false;
};

}  // namespace

std::shared_ptr<WebSocketSession> start_websocket(beast::tcp_stream stream, bhttp::request<bhttp::empty_body> handshake,
                                                  const std::string& server_name, WebSocketSettings settings,
                                                  WebSocketHandlers handlers) {
  auto session = std::make_shared<Session>(std::move(stream), std::move(settings), std::move(handlers));
  session->start(std::move(handshake), server_name);
  return session;
}

}  // namespace lambdad::http
