// fuzz: raw bytes into the real HTTP server (src/http) over a loopback connection, served by the
// real route table of one of our APIs, and a check that what came back is well-formed HTTP.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lambdad/http/server.hpp"

namespace boost::asio {
class io_context;
}

namespace lambdad::fuzz {

class LoopbackHttp {
 public:
  LoopbackHttp(boost::asio::io_context& io, http::Router router, http::ServerOptions options);
  ~LoopbackHttp();

  // Sends `bytes` on a fresh connection, then closes the sending side and runs the io_context
  // until the server has closed the connection; returns what the server wrote. Aborts if the
  // server has not closed it within a few seconds (a hang).
  std::string exchange(std::string_view bytes);

 private:
  boost::asio::io_context& io_;
  std::unique_ptr<http::Server> server_;
};

// Aborts unless `wire` is a sequence of complete HTTP/1.x responses (the last one may be cut
// short only when the connection was reset). With `head_sent` only the first is checked (a
// response to HEAD has a Content-Length but no body, which a parser cannot know).
void check_responses(std::string_view wire, bool reset, bool head_sent);

}  // namespace lambdad::fuzz
