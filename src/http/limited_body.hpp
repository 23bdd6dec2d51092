// http (internal): the Beast body type of a request whose stored size is capped (server.cpp).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace lambdad::http {

// A request body that stores at most `limit` bytes and, past that, keeps reading (so the
// connection stays in sync and the client sees our 413 instead of a reset) but discards.
struct LimitedBody {
  struct value_type {
    std::string data;
    std::size_t limit = std::numeric_limits<std::size_t>::max();
    std::size_t total = 0;
    bool exceeded = false;
    bool streamed = false;  // read through a BodyReader: `data` only holds what was not taken yet
  };

  class reader {
   public:
    template <bool IsRequest, class Fields>
    reader(boost::beast::http::header<IsRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::beast::error_code& ec) {
      ec = {};
      if (length && !body_.streamed) {
        if (*length > body_.limit) {
          body_.exceeded = true;
        } else {
          body_.data.reserve(static_cast<std::size_t>(*length));
        }
      }
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      ec = {};
      if (body_.streamed) return put_piece(buffers);
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
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

    void finish(boost::beast::error_code& ec) { ec = {}; }

    // Streamed: take at most what fits in the current piece (`limit` is the room left); the
    // parser presents the rest again in the next step.
    template <class ConstBufferSequence>
    std::size_t put_piece(const ConstBufferSequence& buffers) {
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        const std::size_t room = body_.limit > body_.data.size() ? body_.limit - body_.data.size() : 0;
        const std::size_t take = std::min(room, b.size());
        body_.data.append(static_cast<const char*>(b.data()), take);
        n += take;
        if (take < b.size()) break;
      }
      body_.total += n;
      return n;
    }

   private:
    value_type& body_;
  };
};

}  // namespace lambdad::http
