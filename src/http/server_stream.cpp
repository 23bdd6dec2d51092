// The bodies a connection streams: a request body read piece by piece (BodyReader) and a
// chunked response written as the handler produces it (ResponseStream).
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include <sstream>

#include "server_session.hpp"

namespace lambdad::http {

void Server::Impl::Session::read_piece(std::function<void(Result<BodyReader::Piece>)> done) {
  if (server_->stopped) return;
  auto fail_later = [this](std::function<void(Result<BodyReader::Piece>)> d, std::string why) {
    asio::post(exec_, [self = shared_from_this(), d = std::move(d), why = std::move(why)] {
      if (!self->server_->stopped) d(Error{ErrorKind::kInvalidInput, "TruncatedHTTPRequest", why});
    });
  };
  if (streamed_request_ && body_complete_ && !end_delivered_) {
    // The body was complete with the headers (e.g. Content-Length: 0): just its end.
    end_delivered_ = true;
    asio::post(exec_, [self = shared_from_this(), done = std::move(done)] {
      if (!self->server_->stopped) done(BodyReader::Piece{{}, true, {}});
    });
    return;
  }
  if (!streamed_request_ || body_complete_ || !parser_) return fail_later(std::move(done), "no body left to read");
  if (reading_) return fail_later(std::move(done), "a read is already pending");
  if (responded_) return fail_later(std::move(done), "the request was already answered");
  reading_ = true;
  if (continue_pending_) {
    continue_pending_ = false;
    continue_.emplace(bhttp::status::continue_, version_);
    stream_.expires_after(options().write_timeout);
    bhttp::async_write(stream_, *continue_,
                       [self = shared_from_this(), done = std::move(done)](beast::error_code ec, std::size_t) mutable {
                         if (ec || self->server_->stopped) return self->on_piece(ec, std::move(done));
                         self->read_step(std::move(done));
                       });
    return;
  }
  read_step(std::move(done));
}

std::shared_ptr<ResponseStream> Server::Impl::Session::start_stream(Response head) {
  auto stream = std::make_shared<StreamImpl>(shared_from_this());
  on_strand([self = shared_from_this(), head = std::move(head)]() mutable { self->begin_stream(std::move(head)); });
  return stream;
}

// The head of a streamed response, on the strand; a stream whose exchange was answered or whose
// server stopped meanwhile is broken from the start.
void Server::Impl::Session::begin_stream(Response head) {
  if (responded_ || server_->stopped) {
    out_broken_ = true;
    return;
  }
  responded_ = true;
  bhttp::response<bhttp::empty_body> res(static_cast<bhttp::status>(head.status), version_);
  for (const auto& f : head.headers.fields()) res.insert(f.name, f.value);
  if (!options().server_name.empty()) res.set(bhttp::field::server, options().server_name);
  // HTTP/1.0 has no chunked encoding: the body is raw and ends with the connection.
  out_chunked_ = version_ >= 11;
  out_keep_alive_ = out_chunked_ && keep_alive_ && !head.close && !head_ && !server_->refusing;
  res.keep_alive(out_keep_alive_);
  if (out_chunked_ && !head_) res.chunked(true);
  std::ostringstream os;
  os << res.base();
  out_broken_ = false;
  out_ended_ = false;
  out_.push_back(Out{os.str(), {}, {}, {}, false});
  pump();
}

void Server::Impl::Session::stream_write(std::string data, std::function<void(bool)> written) {
  if (out_broken_ || out_ended_ || data.empty() || head_) {
    if (written) {
      const bool ok = !out_broken_ && !out_ended_;
      asio::post(exec_, [written = std::move(written), ok] { written(ok); });
    }
    return;
  }
  Out o;
  if (out_chunked_) {
    o.head = fmt::format("{:x}\r\n", data.size());
    o.tail = "\r\n";
  }
  o.data = std::move(data);
  o.written = std::move(written);
  out_.push_back(std::move(o));
  pump();
}

void Server::Impl::Session::stream_end(const Headers& trailers) {
  if (out_broken_ || out_ended_) return;
  out_ended_ = true;
  Out o;
  o.last = true;
  if (out_chunked_ && !head_) {
    o.tail = "0\r\n";
    for (const auto& f : trailers.fields()) o.tail += f.name + ": " + f.value + "\r\n";
    o.tail += "\r\n";
  }
  out_.push_back(std::move(o));
  pump();
}

void Server::Impl::Session::stream_abort() {
  if (out_ended_ || out_broken_) return;
  out_broken_ = true;
  close();
}

}  // namespace lambdad::http
