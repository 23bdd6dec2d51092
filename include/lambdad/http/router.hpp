// http: route table. Each route has its own body limit on purpose: Beast's 1 MB default would
// reject legal 6 MB Invoke payloads, while the Runtime API's error routes need a different cap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/http/message.hpp"

namespace lambdad::http {

using Handler = std::function<void(Request&&, Responder)>;

struct Route {
  Method method;
  std::string pattern;  // "/2018-06-01/runtime/invocation/{id}/response"; {x} captures one segment
  std::size_t body_limit;
  Handler handler;
};

class Router {
 public:
  void add(Method method, std::string pattern, std::size_t body_limit, Handler handler);
  // Used when no route matches the path (status 404) or the method (405 is not AWS-like; the
  // fallback decides). Body limit for unmatched requests is kUnmatchedBodyLimit.
  void set_fallback(Handler handler) { fallback_ = std::move(handler); }

  static constexpr std::size_t kUnmatchedBodyLimit = 1 << 20;

  struct Match {
    const Route* route = nullptr;  // nullptr: use fallback()
    std::vector<std::pair<std::string, std::string>> params;
  };
  Match match(Method method, std::string_view path) const;
  const Handler& fallback() const { return fallback_; }

 private:
  struct Compiled {
    Route route;
    std::vector<std::string> segments;  // "{name}" or a literal
  };
  std::vector<Compiled> routes_;
  Handler fallback_;
};

}  // namespace lambdad::http
