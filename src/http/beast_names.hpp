// http (internal): the module's short names for Boost.Asio and Boost.Beast, in one place.
#pragma once

#include <boost/asio/ip/tcp.hpp>

namespace boost::beast::http {}
namespace boost::beast::websocket {}

namespace lambdad::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace bws = boost::beast::websocket;
using tcp = asio::ip::tcp;

}  // namespace lambdad::http
