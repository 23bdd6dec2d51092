// http (internal): the server's state (Server::Impl) and its connections (Session), shared by
// server.cpp (accepting, the public calls) and server_stream.cpp (bodies streamed both ways).
#pragma once

#include "lambdad/http/server.hpp"

#include <boost/asio/defer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>

#include "beast_names.hpp"
#include "limited_body.hpp"
#include "websocket_session.hpp"

namespace lambdad::http {

inline Method to_method(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::put: return Method::kPut;
    case bhttp::verb::delete_: return Method::kDelete;
    case bhttp::verb::head: return Method::kHead;
    case bhttp::verb::patch: return Method::kPatch;
    default: return Method::kOther;
  }
}

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  class Session;

  Impl(asio::io_context& io_in, Executor executor_in, Router router_in, ServerOptions options_in)
      : io(io_in),
        executor(std::move(executor_in)),
        acceptor(executor),
        router(std::move(router_in)),
        options(std::move(options_in)) {
    if (router.upgrade_handler()) options.own_strands = false;
  }

  // Where a new connection runs: a strand of its own, or the server's executor.
  Executor connection_executor() { return options.own_strands ? Executor(asio::make_strand(io)) : executor; }

  // What stop_accepting() answers, when it has been called (read from connections' strands).
  std::optional<Response> refusal() const {
    if (!refusing.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard lock(refusal_mu);
    return refusal_response;
  }

  asio::io_context& io;
  Executor executor;  // the server's: accepting, handlers, the public calls
  tcp::acceptor acceptor;
  Router router;
  ServerOptions options;
  std::list<std::weak_ptr<Session>> sessions;             // on the server's executor
  std::list<std::weak_ptr<WebSocketSession>> websockets;  // upgraded connections
  std::atomic<bool> stopped{false};
  std::atomic<bool> refusing{false};
  mutable std::mutex refusal_mu;
  std::optional<Response> refusal_response;  // set by stop_accepting(), under refusal_mu

  void accept();
  // Starts serving `socket`, or refuses it (a reset) when `admitted` is false.
  void open(tcp::socket socket, bool admitted);
  void close_all();
};

class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Impl> server, tcp::socket socket)
      : server_(std::move(server)), exec_(socket.get_executor()), stream_(std::move(socket)) {
    beast::error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_address_ = remote.address().to_string();
    const auto local = stream_.socket().local_endpoint(ec);
    if (!ec) local_port_ = local.port();
  }

  void start() {
    on_strand([self = shared_from_this()] { self->read_header(); });
  }

  // From the server's executor: closes the connection on its strand.
  void shut() {
    on_strand([self = shared_from_this()] { self->close(); });
  }

  void close() {
    closed_ = true;
    if (upgraded_) return;  // the stream belongs to the WebSocket now
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  // BodyReader::read of the current (streamed) request.
  void read_piece(std::function<void(Result<BodyReader::Piece>)> done);
  // Responder::stream and ResponseStream.
  std::shared_ptr<ResponseStream> start_stream(Response head);  // on the server's executor
  void begin_stream(Response head);
  void stream_write(std::string data, std::function<void(bool)> written);
  void stream_end(const Headers& trailers);
  void stream_abort();
  bool stream_broken() const { return out_broken_; }
  // Between a request's first bytes and its response's last (stop_accepting() keeps these).
  bool handling() const { return !upgraded_ && in_request_ && !closed_; }

  // Runs `f` on this connection's strand: from the server's executor, after the caller's
  // handler (deferred, so the domain is not held while this connection writes); inline when
  // the connection runs on the server's executor itself.
  template <class F>
  void on_strand(F&& f) {
    if (server_->options.own_strands) {
      asio::defer(exec_, std::forward<F>(f));
    } else {
      asio::dispatch(exec_, std::forward<F>(f));
    }
  }
  // Runs `f` on the server's executor (inline when it is free), unless the server has stopped.
  template <class F>
  void on_server(F&& f) {
    on_server(server_, std::forward<F>(f));
  }
  // The same for a callback the connection keeps (a written chunk's): it holds the server, never
  // the connection, which would then hold itself.
  template <class F>
  static void on_server(const std::shared_ptr<Impl>& server, F&& f) {
    asio::dispatch(server->executor, [server, f = std::forward<F>(f)]() mutable {
      if (!server->stopped) f();
    });
  }

 private:
  const ServerOptions& options() const { return server_->options; }

  void read_header() {
    in_request_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().header_limit));
    parser_->body_limit(boost::none);  // LimitedBody and drain_limit bound it, see read_body()
    streamed_request_ = false;
    body_complete_ = false;
    continue_pending_ = false;
    if (buffer_.size() > 0) return read_header_rest();  // pipelined: the request has started
    // Idle until the request's first byte, then the header deadline.
    if (options().idle_timeout.count() > 0) {
      stream_.expires_after(options().idle_timeout);
    } else {
      stream_.expires_never();
    }
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->on_header(ec);
                              self->read_header_rest();
                            });
  }

  void read_header_rest() {
    if (parse_buffered_header()) return;
    stream_.expires_after(options().header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    in_request_ = true;
    if (server_->stopped) return close();
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        Response r;
        r.status = 431;
        r.body = "Request Header Fields Too Large";
        r.close = true;
        write(std::move(r));
      } else if (ec != bhttp::error::end_of_stream && ec != asio::error::operation_aborted &&
                 ec != beast::error::timeout && ec != asio::error::eof) {
        Response r;
        r.status = 400;
        r.body = "Bad Request";
        r.close = true;
        write(std::move(r));
      } else {
        close();
      }
      return;
    }
    if (auto refusal = server_->refusal()) {
      Response r = std::move(*refusal);
      r.close = true;
      body_complete_ = false;  // the body is not read: the connection closes after the answer
      version_ = parser_->get().version();
      head_ = false;
      return write(std::move(r));
    }
    auto& msg = parser_->get();
    if (static_cast<std::size_t>(std::distance(msg.begin(), msg.end())) > options().max_header_fields) {
      Response r;
      r.status = 431;
      r.body = "Request Header Fields Too Large";
      r.close = true;
      write(std::move(r));
      return;
    }
    method_ = to_method(msg.method());
    if (server_->router.upgrade_handler() && beast::websocket::is_upgrade(msg)) return dispatch_upgrade();
    std::string_view target(msg.target().data(), msg.target().size());
    auto q = target.find('?');
    path_ = std::string(target.substr(0, q));
    match_ = server_->router.match(method_, path_);

    if (match_.route && match_.route->streams && match_.route->streaming_handler) {
      Request head = make_request();
      if (match_.route->streams(head)) return dispatch_streamed(std::move(head));
    }

    std::size_t limit = match_.route ? match_.route->body_limit : server_->router.fallback_body_limit();
    msg.body().limit = limit;
    parser_->body_limit(limit > std::numeric_limits<std::uint64_t>::max() - options().drain_limit
                            ? std::numeric_limits<std::uint64_t>::max()
                            : limit + options().drain_limit);

    if (parser_->is_done()) {
      dispatch();
      return;
    }
    auto expect = msg[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      continue_.emplace(bhttp::status::continue_, msg.version());
      stream_.expires_after(options().write_timeout);
      bhttp::async_write(stream_, *continue_,
                         [self = shared_from_this()](beast::error_code wec, std::size_t) {
                           if (wec) return self->close();
                           self->read_body();
                         });
      return;
    }
    read_body();
  }

  // What was read already often holds the whole header (and body): parsed here, the request
  // goes on without a read operation and its turn of the loop. True when it went on.
  bool parse_buffered_header() {
    beast::error_code ec;
    buffer_.consume(parser_->put(buffer_.data(), ec));
    if (ec == bhttp::error::need_more) return false;
    on_header(ec);
    return true;
  }
  bool parse_buffered_body() {
    beast::error_code ec;
    while (!ec && buffer_.size() > 0 && !parser_->is_done()) {
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (used == 0 && !ec) break;
    }
    if (ec == bhttp::error::need_more) ec = {};
    if (!ec && !parser_->is_done()) return false;
    on_body(ec);
    return true;
  }

  void read_body() {
    if (parse_buffered_body()) return;
    stream_.expires_after(options().read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_body(ec);
                      });
  }

  void on_body(beast::error_code ec) {
    if (server_->stopped) return close();
    if (ec == bhttp::error::body_limit) {
      // Past the drain limit: answer from what we have and drop the connection.
      force_close_ = true;
      parser_->get().body().exceeded = true;
    } else if (ec == beast::error::timeout || ec == asio::error::eof || ec == bhttp::error::partial_message ||
               ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      close();  // the client is gone or too slow: nobody to answer
      return;
    } else if (ec) {
      Response r;  // a malformed body (e.g. a bad chunk size)
      r.status = 400;
      r.body = "Bad Request";
      r.close = true;
      write(std::move(r));
      return;
    }
    dispatch();
  }

  // The request line and headers of the message being parsed (no body).
  Request make_request() {
    auto& msg = parser_->get();
    Request req;
    req.method = method_;
    req.method_text = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.peer_address = peer_address_;
    req.local_port = local_port_;
    auto q = req.target.find('?');
    req.path = path_;
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : msg) {
      req.headers.add(std::string(f.name_string()), std::string(f.value()));
    }
    return req;
  }

  // Called on the server's executor. `answered` (there too) makes the first answer the only one
  // before it reaches the strand, so that stream() can say at once whether it may stream.
  Responder make_responder() {
    responded_ = false;
    auto self = shared_from_this();
    auto answered = std::make_shared<bool>(false);
    return Responder(
        [self, answered](Response r) {
          if (*answered) return;
          *answered = true;
          self->on_strand([self, r = std::move(r)]() mutable {
            if (self->responded_) return;
            self->responded_ = true;
            self->write(std::move(r));
          });
        },
        [self, answered](Response head) -> std::shared_ptr<ResponseStream> {
          if (*answered || self->server_->stopped) return nullptr;
          *answered = true;
          return self->start_stream(std::move(head));
        });
  }

  void dispatch() {
    stream_.expires_never();
    auto& msg = parser_->get();
    Request req = make_request();
    auto& body = msg.body();
    req.body_too_large = body.exceeded;
    req.body_size = body.total;
    if (!body.exceeded) req.body = std::move(body.data);
    req.path_params = std::move(match_.params);
    keep_alive_ = msg.keep_alive() && !body.exceeded && !force_close_;
    version_ = msg.version();
    head_ = method_ == Method::kHead;
    body_complete_ = true;
    parser_.reset();

    const Handler* handler = match_.route ? &match_.route->handler : &server_->router.fallback();
    match_ = {};
    if (!*handler) {
      Response r;
      r.status = 404;
      responded_ = true;
      write(std::move(r));
      return;
    }
    on_server([handler, req = std::move(req), respond = make_responder()]() mutable {
      (*handler)(std::move(req), std::move(respond));
    });
  }

  // A WebSocket upgrade: the handler accepts it (the stream becomes the WebSocket's) or answers it.
  void dispatch_upgrade() {
    stream_.expires_never();
    auto& msg = parser_->get();
    path_ = std::string(msg.target().substr(0, msg.target().find('?')));
    Request req = make_request();
    version_ = msg.version();
    head_ = false;
    body_complete_ = false;  // not read: the connection closes after a refusal
    auto handshake = std::make_shared<bhttp::request<bhttp::empty_body>>(bhttp::request_header<>(msg.base()));
    parser_.reset();
    auto self = shared_from_this();
    Upgrade upgrade(
        [self, handshake](WebSocketSettings settings, WebSocketHandlers handlers) -> std::shared_ptr<WebSocket> {
          if (self->responded_ || self->server_->stopped || !self->stream_.socket().is_open()) return nullptr;
          self->responded_ = true;
          self->upgraded_ = true;
          auto ws = start_websocket(std::move(self->stream_), std::move(*handshake), self->options().server_name,
                                    std::move(settings), std::move(handlers));
          auto& list = self->server_->websockets;
          list.remove_if([](const auto& w) { return w.expired(); });
          list.push_back(ws);
          return ws;
        },
        make_responder());
    server_->router.upgrade_handler()(std::move(req), std::move(upgrade));
  }

  // The route streams this request's body: hand it over now, the body follows on demand.
  void dispatch_streamed(Request req) {
    stream_.expires_never();
    auto& msg = parser_->get();
    msg.body().streamed = true;
    parser_->body_limit(boost::none);  // the handler enforces its own limit
    header_fields_ = static_cast<std::size_t>(std::distance(msg.begin(), msg.end()));
    streamed_request_ = true;
    body_complete_ = parser_->is_done();
    end_delivered_ = false;
    continue_pending_ = !body_complete_ && beast::iequals(msg[bhttp::field::expect], "100-continue");
    chunk_done_ = false;
    on_chunk_body_ = [this](std::uint64_t remain, beast::string_view data, beast::error_code& ec) {
      ec = {};
      // read_step() starts only with room in the piece; what does not fit comes again next step.
      const std::size_t room = BodyReader::kMaxPiece > piece_.size() ? BodyReader::kMaxPiece - piece_.size() : 0;
      const std::size_t take = std::min(room, data.size());
      piece_.append(data.data(), take);
      if (take == remain) chunk_done_ = true;
      return take;
    };
    parser_->on_chunk_body(on_chunk_body_);
    req.path_params = std::move(match_.params);
    keep_alive_ = msg.keep_alive() && !force_close_;
    version_ = msg.version();
    head_ = method_ == Method::kHead;

    const StreamingHandler* handler = &match_.route->streaming_handler;
    match_ = {};
    on_server([handler, req = std::move(req), reader = std::make_shared<Reader>(shared_from_this()),
               respond = make_responder()]() mutable { (*handler)(std::move(req), std::move(reader), std::move(respond)); });
  }

  // Used on the server's executor: the read runs on the connection's strand and its result comes
  // back to the server's executor.
  class Reader final : public BodyReader {
   public:
    explicit Reader(std::shared_ptr<Session> s) : s_(std::move(s)) {}
    void read(std::function<void(Result<Piece>)> done) override {
      s_->on_strand([s = s_, done = std::move(done)]() mutable {
        s->read_piece([server = s->server_, done = std::move(done)](Result<Piece> piece) mutable {
          on_server(server, [done = std::move(done), piece = std::move(piece)]() mutable { done(std::move(piece)); });
        });
      });
    }

   private:
    std::shared_ptr<Session> s_;
  };

  class StreamImpl final : public ResponseStream {
   public:
    explicit StreamImpl(std::shared_ptr<Session> s) : s_(std::move(s)) {}
    ~StreamImpl() override {
      if (!ended_) s_->on_strand([s = s_] { s->stream_abort(); });
    }
    StreamImpl(const StreamImpl&) = delete;
    StreamImpl& operator=(const StreamImpl&) = delete;

    // On the server's executor; the strand writes, and `written` comes back here.
    void write(std::string data, std::function<void(bool)> written) override {
      std::function<void(bool)> back;
      if (written) {
        back = [server = s_->server_, written = std::move(written)](bool ok) mutable {
          on_server(server, [written = std::move(written), ok] { written(ok); });
        };
      }
      s_->on_strand([s = s_, data = std::move(data), back = std::move(back)]() mutable {
        s->stream_write(std::move(data), std::move(back));
      });
    }
    void end(Headers trailers) override {
      if (ended_) return;
      ended_ = true;
      s_->on_strand([s = s_, trailers = std::move(trailers)] { s->stream_end(trailers); });
    }
    bool broken() const override { return s_->stream_broken(); }

   private:
    std::shared_ptr<Session> s_;
    bool ended_ = false;
  };

  using ReadDone = std::function<void(Result<BodyReader::Piece>)>;

  // The reader's callback travels inside the pending operation, never in a member: it holds the
  // handler, which holds this session (through its reader and responder), so a member would be a
  // cycle that leaks when the io_context goes away with the read pending.
  void read_step(ReadDone done) {
    parser_->get().body().limit = BodyReader::kMaxPiece - piece_.size();  // room for put_piece
    if (options().idle_timeout.count() > 0) {
      stream_.expires_after(options().idle_timeout);
    } else {
      stream_.expires_never();
    }
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = shared_from_this(), done = std::move(done)](beast::error_code ec, std::size_t) mutable {
                             self->on_piece(ec, std::move(done));
                           });
  }

  void on_piece(beast::error_code ec, ReadDone done) {
    reading_ = false;
    if (server_->stopped) return close();
    if (ec) {
      force_close_ = true;
      piece_.clear();
      done(Error{ErrorKind::kInvalidInput, "TruncatedHTTPRequest", fmt::format("reading the body: {}", ec.message())});
      return;
    }
    auto& body = parser_->get().body();
    if (!body.data.empty()) {  // bytes of a body with a Content-Length
      piece_.append(body.data);
      body.data.clear();
    }
    BodyReader::Piece piece;
    if (parser_->is_done()) {
      body_complete_ = true;
      end_delivered_ = true;
      auto& msg = parser_->get();
      std::size_t i = 0;
      for (const auto& f : msg) {
        if (i++ >= header_fields_) piece.trailers.add(std::string(f.name_string()), std::string(f.value()));
      }
      piece.end = true;
    } else if (!(chunk_done_ || piece_.size() >= BodyReader::kMaxPiece || (!parser_->chunked() && !piece_.empty()))) {
      reading_ = true;
      read_step(std::move(done));
      return;
    }
    chunk_done_ = false;
    piece.data = std::move(piece_);
    piece_.clear();
    done(std::move(piece));
  }

  void write(Response r) {
    const bool keep = keep_alive_ && !r.close && body_complete_ && !server_->refusing;
    if (!plain_head(r.headers)) return write_by_beast(std::move(r), keep);
    out_head_ = response_head(r.status, version_, r.headers, options().server_name, keep, r.body.size());
    out_body_ = head_ ? std::string() : std::move(r.body);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_), asio::buffer(out_body_)};
    std::size_t sent = 0;
    if (options().own_strands) {
      // On the connection's own strand nothing waits for this write: try it now, and go on to the
      // next request without a turn of the loop when the socket took all of it.
      beast::error_code ec;
      auto& socket = stream_.socket();
      if (!socket.non_blocking()) socket.non_blocking(true, ec);
      if (!ec) sent = socket.write_some(buffers, ec);
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return close();
      if (sent == out_head_.size() + out_body_.size()) return written({}, keep);
    }
    auto rest = buffers;
    for (auto& b : rest) {
      const std::size_t n = std::min(sent, b.size());
      b += n;
      sent -= n;
    }
    stream_.expires_after(options().write_timeout);
    asio::async_write(stream_, rest, [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
      self->written(ec, keep);
    });
  }

  // A response whose head sets no field the server derives (Content-Length, Transfer-Encoding,
  // Connection, Server): response_head() writes it; any other goes through Beast's serializer.
  static bool plain_head(const Headers& headers) {
    for (const auto& f : headers.fields()) {
      if (beast::iequals(f.name, "content-length") || beast::iequals(f.name, "transfer-encoding") ||
          beast::iequals(f.name, "connection") || beast::iequals(f.name, "server")) {
        return false;
      }
    }
    return true;
  }

  // The head Beast would serialize for `status` with `headers`, Server, keep-alive as `keep`
  // and a payload of `size` bytes (no Content-Length for 1xx, 204 and 304).
  static std::string response_head(unsigned status, unsigned version, const Headers& headers,
                                   const std::string& server_name, bool keep, std::size_t size) {
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    std::string head = fmt::format("HTTP/{}.{} {} ", version / 10, version % 10, status);
    head.append(reason.data(), reason.size());
    head += "\r\n";
    for (const auto& f : headers.fields()) {
      head += f.name;
      head += ": ";
      head += f.value;
      head += "\r\n";
    }
    if (!server_name.empty()) {
      head += "Server: ";
      head += server_name;
      head += "\r\n";
    }
    if (version >= 11 && !keep) head += "Connection: close\r\n";
    if (version < 11 && keep) head += "Connection: keep-alive\r\n";
    if (status >= 200 && status != 204 && status != 304) head += fmt::format("Content-Length: {}\r\n", size);
    head += "\r\n";
    return head;
  }

  void write_by_beast(Response r, bool keep) {
    res_.emplace(static_cast<bhttp::status>(r.status), version_);
    for (const auto& f : r.headers.fields()) res_->insert(f.name, f.value);
    if (!options().server_name.empty()) res_->set(bhttp::field::server, options().server_name);
    res_->body() = std::move(r.body);
    res_->keep_alive(keep);
    res_->prepare_payload();
    if (head_) res_->body().clear();
    stream_.expires_after(options().write_timeout);
    bhttp::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      const bool keep_res = self->res_->keep_alive();
      self->res_.reset();
      self->written(ec, keep_res);
    });
  }

  // A response was written (or failed): the next request, or the end of the connection.
  void written(beast::error_code ec, bool keep) {
    out_head_.clear();
    out_body_.clear();
    if (ec || !keep || server_->stopped) return close();
    read_header();
  }

  struct Out {
    std::string head;  // chunk size line, or the response header
    std::string data;
    std::string tail;  // CRLF after a chunk, or the last chunk and trailers
    std::function<void(bool)> written;
    bool last = false;
  };

  void pump() {
    if (out_busy_ || out_.empty()) return;
    out_busy_ = true;
    const Out& o = out_.front();
    std::array<asio::const_buffer, 3> buffers{asio::buffer(o.head), asio::buffer(o.data), asio::buffer(o.tail)};
    stream_.expires_after(options().write_timeout);
    asio::async_write(stream_, buffers,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_out(ec); });
  }

  void on_out(beast::error_code ec) {
    out_busy_ = false;
    Out o = std::move(out_.front());
    out_.pop_front();
    if (ec || server_->stopped) {
      out_broken_ = true;
      auto pending = std::move(out_);
      out_.clear();
      close();
      if (o.written) o.written(false);
      for (auto& p : pending) {
        if (p.written) p.written(false);
      }
      return;
    }
    if (o.written) o.written(true);
    if (o.last) {
      if (out_keep_alive_ && body_complete_ && !server_->stopped) {
        read_header();
      } else {
        close();
      }
      return;
    }
    pump();
  }

  static constexpr std::size_t kFirstRead = 4096;

  std::shared_ptr<Impl> server_;
  Executor exec_;  // the connection's (stream_ goes to a WebSocket on an upgrade)
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<LimitedBody>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<bhttp::response<bhttp::string_body>> res_;  // a response written by Beast
  std::string out_head_, out_body_;                         // one written as response_head()
  Router::Match match_;
  Method method_ = Method::kOther;
  std::string path_;
  std::string peer_address_;
  std::uint16_t local_port_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool force_close_ = false;
  std::atomic<bool> in_request_{false};  // these three are read by handling(), from the server's executor
  std::atomic<bool> closed_{false};
  std::atomic<bool> upgraded_{false};  // stream_ was handed to a WebSocket
  bool head_ = false;
  bool responded_ = false;

  // A request whose body is read through a BodyReader.
  bool streamed_request_ = false;
  bool body_complete_ = false;     // the request body has been read to its end
  bool continue_pending_ = false;  // "Expect: 100-continue" not answered yet
  bool chunk_done_ = false;        // the last parse step ended a chunk
  bool end_delivered_ = false;     // the reader has reported the end of the body
  std::size_t header_fields_ = 0;  // fields before the trailers
  std::string piece_;
  bool reading_ = false;  // a BodyReader::read is in progress
  std::function<std::size_t(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_body_;

  // A streamed response.
  std::deque<Out> out_;
  bool out_busy_ = false;
  std::atomic<bool> out_broken_{false};  // read by ResponseStream::broken() on the server's executor
  bool out_ended_ = false;
  bool out_chunked_ = true;
  bool out_keep_alive_ = false;
};

}  // namespace lambdad::http
