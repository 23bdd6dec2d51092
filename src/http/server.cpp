#include "lambdad/http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <limits>
#include <list>
#include <optional>

namespace lambdad::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// A request body that stores at most `limit` bytes and, past that, keeps reading (so the
// connection stays in sync and the client sees our 413 instead of a reset) but discards.
struct LimitedBody {
  struct value_type {
    std::string data;
    std::size_t limit = std::numeric_limits<std::size_t>::max();
    std::size_t total = 0;
    bool exceeded = false;
  };

  class reader {
   public:
    template <bool IsRequest, class Fields>
    reader(bhttp::header<IsRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
      ec = {};
      if (length) {
        if (*length > body_.limit) {
          body_.exceeded = true;
        } else {
          body_.data.reserve(static_cast<std::size_t>(*length));
        }
      }
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
        asio::const_buffer b = *it;
        n += b.size();
        if (!body_.exceeded && body_.data.size() + b.size() <= body_.limit) {
          body_.data.append(static_cast<const char*>(b.data()), b.size());
        } else if (!body_.exceeded) {
          body_.exceeded = true;
          std::string().swap(body_.data);
        }
      }
      body_.total += n;
      return n;
    }

    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

Method to_method(bhttp::verb v) {
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

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  class Session;

  Impl(asio::io_context& io_in, Router router_in, ServerOptions options_in)
      : io(io_in), acceptor(io_in), router(std::move(router_in)), options(std::move(options_in)) {}

  asio::io_context& io;
  tcp::acceptor acceptor;
  Router router;
  ServerOptions options;
  std::list<std::weak_ptr<Session>> sessions;
  bool stopped = false;

  void accept();
  void close_all();
};

class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Impl> server, tcp::socket socket)
      : server_(std::move(server)), stream_(std::move(socket)) {}

  void start() { read_header(); }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  const ServerOptions& options() const { return server_->options; }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().header_limit));
    parser_->body_limit(boost::none);  // LimitedBody and drain_limit bound it, see read_body()
    if (options().idle_timeout.count() > 0) {
      stream_.expires_after(options().idle_timeout);
    } else {
      stream_.expires_never();
    }
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
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
    auto& msg = parser_->get();
    method_ = to_method(msg.method());
    std::string_view target(msg.target().data(), msg.target().size());
    auto q = target.find('?');
    path_ = std::string(target.substr(0, q));
    match_ = server_->router.match(method_, path_);
    std::size_t limit = match_.route ? match_.route->body_limit : Router::kUnmatchedBodyLimit;
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

  void read_body() {
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
    } else if (ec) {
      close();
      return;
    }
    dispatch();
  }

  void dispatch() {
    stream_.expires_never();
    auto& msg = parser_->get();
    Request req;
    req.method = method_;
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.path = path_;
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : msg) {
      req.headers.add(std::string(f.name_string()), std::string(f.value()));
    }
    auto& body = msg.body();
    req.body_too_large = body.exceeded;
    req.body_size = body.total;
    if (!body.exceeded) req.body = std::move(body.data);
    req.path_params = std::move(match_.params);
    keep_alive_ = msg.keep_alive() && !body.exceeded && !force_close_;
    version_ = msg.version();
    head_ = method_ == Method::kHead;
    parser_.reset();

    const Handler& handler = match_.route ? match_.route->handler : server_->router.fallback();
    match_ = {};
    responded_ = false;
    auto self = shared_from_this();
    Responder respond = [self](Response r) {
      asio::dispatch(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
        if (self->responded_) return;
        self->responded_ = true;
        self->write(std::move(r));
      });
    };
    if (!handler) {
      Response r;
      r.status = 404;
      respond(std::move(r));
      return;
    }
    handler(std::move(req), std::move(respond));
  }

  void write(Response r) {
    res_.emplace(static_cast<bhttp::status>(r.status), version_);
    for (const auto& f : r.headers.fields()) res_->insert(f.name, f.value);
    if (!options().server_name.empty()) res_->set(bhttp::field::server, options().server_name);
    res_->body() = std::move(r.body);
    res_->keep_alive(keep_alive_ && !r.close);
    res_->prepare_payload();
    if (head_) res_->body().clear();
    stream_.expires_after(options().write_timeout);
    bhttp::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      bool keep = self->res_->keep_alive();
      self->res_.reset();
      if (ec || !keep || self->server_->stopped) return self->close();
      self->read_header();
    });
  }

  std::shared_ptr<Impl> server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<LimitedBody>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  Router::Match match_;
  Method method_ = Method::kOther;
  std::string path_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool force_close_ = false;
  bool head_ = false;
  bool responded_ = false;
};

void Server::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec,
                                                                           tcp::socket socket) {
    if (self->stopped) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(self, std::move(socket));
      // Forget sessions that have gone away, then remember this one for stop().
      self->sessions.remove_if([](const auto& w) { return w.expired(); });
      self->sessions.push_back(session);
      session->start();
    }
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    self->accept();
  });
}

void Server::Impl::close_all() {
  for (auto& w : sessions) {
    if (auto s = w.lock()) s->close();
  }
  sessions.clear();
}

Server::Server(asio::io_context& io, Router router, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(router), std::move(options))) {}

Server::~Server() { stop(); }

Status Server::listen(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{ErrorKind::kInvalidInput, "InvalidAddress", fmt::format("invalid address '{}': {}", host, ec.message())};
  tcp::endpoint endpoint(address, port);
  auto& acceptor = impl_->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Error{ErrorKind::kInternal, "ListenFailed", fmt::format("socket: {}", ec.message())};
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) {
    acceptor.close(ec);
    return Error{ErrorKind::kInternal, "ListenFailed", fmt::format("cannot bind {}:{}: {}", host, port, ec.message())};
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    acceptor.close(ec);
    return Error{ErrorKind::kInternal, "ListenFailed", fmt::format("listen {}:{}: {}", host, port, ec.message())};
  }
  impl_->accept();
  return Ok{};
}

std::uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  impl_->close_all();
}

}  // namespace lambdad::http
