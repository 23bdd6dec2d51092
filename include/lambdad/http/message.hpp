// http: plain request/response values. Beast stays inside src/http/*.cpp so that handlers (and
// everything that includes them) compile without it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lambdad/common/result.hpp"

namespace lambdad::http {

enum class Method { kGet, kPost, kPut, kDelete, kHead, kPatch, kOther };

std::string_view method_name(Method m);

// Ordered, case-insensitive multimap of header fields (trailers of chunked bodies included).
class Headers {
 public:
  struct Field {
    std::string name;
    std::string value;
  };

  void add(std::string name, std::string value) { fields_.push_back({std::move(name), std::move(value)}); }
  // First value of a field, compared case-insensitively; nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  const std::vector<Field>& fields() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

struct Request {
  Method method = Method::kOther;
  std::string method_text;  // the method as sent ("OPTIONS"), whatever `method` is
  std::string target;  // as sent: path and query
  std::string path;    // raw (still percent-encoded) path
  std::string query;   // after '?', raw
  Headers headers;
  std::string body;
  // The body was longer than the route's limit: `body` is empty, `body_size` says how long it was
  // (when the whole body was read) and the connection is closed after the response.
  bool body_too_large = false;
  std::size_t body_size = 0;
  std::vector<std::pair<std::string, std::string>> path_params;  // {name} captures, decoded
  std::string peer_address;      // the client's address ("127.0.0.1"); empty when unknown
  std::uint16_t local_port = 0;  // the port the client connected to

  std::string_view param(std::string_view name) const;
  // Decoded value of a query parameter; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  Headers headers;
  std::string body;
  bool close = false;  // close the connection after writing
};

// The body of a streamed response (Responder::stream): chunked transfer encoding, each write()
// one chunk flushed to the socket on its own. Use it on the server's io thread only.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Queues `data` as one chunk (empty data is ignored). `written` (optional) is called once the
  // chunk has been handed to the socket (true), or when it never will be (false: the peer went
  // away or stopped reading); it is the sender's backpressure signal. It is never called from
  // inside write() itself.
  virtual void write(std::string data, std::function<void(bool written)> written = {}) = 0;
  // Ends the body: the last chunk, with `trailers` when given. Writes after end() are dropped.
  // A stream destroyed without end() aborts the connection (the client sees a truncated body).
  virtual void end(Headers trailers = {}) = 0;
  // The connection failed or was closed: writes are dropped from now on.
  virtual bool broken() const = 0;
};

// Completes an exchange: call it exactly once, from the thread of the server's io_context; later
// calls are ignored. Either with a whole Response, or with stream(): the status and headers go
// out at once and the body follows in chunks as the handler produces them.
class Responder {
 public:
  using Send = std::function<void(Response)>;
  using Start = std::function<std::shared_ptr<ResponseStream>(Response)>;

  Responder() = default;
  Responder(Send send, Start start) : send_(std::move(send)), start_(std::move(start)) {}
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, Responder> && std::is_invocable_v<F&, Response>)
  Responder(F f) : send_(std::move(f)) {}  // NOLINT(google-explicit-constructor)

  void operator()(Response r) const {
    if (send_) send_(std::move(r));
  }
  // Sends `head` (status and headers; its body is ignored) and returns the stream for the body;
  // nullptr if the exchange was already answered or this responder cannot stream.
  std::shared_ptr<ResponseStream> stream(Response head) const {
    return start_ ? start_(std::move(head)) : nullptr;
  }
  explicit operator bool() const { return static_cast<bool>(send_); }

 private:
  Send send_;
  Start start_;
};

// The body of a request on a route that streams request bodies (Router::add_streaming): read
// piece by piece as it arrives, so that a consumer that does not ask for more slows the sender
// down (TCP backpressure) instead of the body piling up in memory.
class BodyReader {
 public:
  struct Piece {
    std::string data;   // the next bytes of the body (may be empty, e.g. with `end`)
    bool end = false;   // the body is complete
    Headers trailers;   // with `end`: the trailer fields of a chunked body
  };
  virtual ~BodyReader() = default;
  // Reads the next piece and calls `done` once, asynchronously, on the server's io thread: a
  // piece ends at the end of a chunk of a chunked body (so a sender's flushes are kept), when
  // kMaxPiece bytes have gathered, or, for a body with a Content-Length, with whatever arrived.
  // An Error when the connection failed, timed out or the framing is invalid (kInvalidInput).
  // One read at a time; nothing is called after the server stopped.
  virtual void read(std::function<void(Result<Piece>)> done) = 0;

  static constexpr std::size_t kMaxPiece = 1 << 20;
};

// Percent-decoding of one path segment or query value ('+' stays '+' in paths).
std::string percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace lambdad::http
