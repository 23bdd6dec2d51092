// The requests the fronts' unit tests send: what the API port received from 127.0.0.1 on port
// 3000, with `Host: 127.0.0.1:3000` unless the test gives a Host of its own.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lambdad/http_front/front.hpp"

namespace lambdad::http_front {

inline http::Request front_request(const std::string& method, const std::string& target,
                                   const std::vector<std::pair<std::string, std::string>>& headers = {},
                                   std::string body = {}) {
  http::Request req;
  req.method_text = method;
  req.method = method == "GET" ? http::Method::kGet : method == "POST" ? http::Method::kPost : http::Method::kOther;
  req.target = target;
  req.path = target.substr(0, target.find('?'));
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    has_host = has_host || name == "Host";
    req.headers.add(name, value);
  }
  if (!has_host) req.headers.add("Host", "127.0.0.1:3000");
  req.body = std::move(body);
  req.peer_address = "127.0.0.1";
  req.local_port = 3000;
  return req;
}

}  // namespace lambdad::http_front
