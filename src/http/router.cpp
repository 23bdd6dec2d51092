#include "lambdad/http/router.hpp"

namespace lambdad::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  if (!path.empty() && path.front() == '/') start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      break;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool is_capture(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

Handler Router::wrapped(const Handler& handler) const {
  if (!handler) return handler;
  Handler out = handler;
  if (guard_) {
    out = [guard = guard_, handler = std::move(out)](Request&& req, Responder respond) {
      if (auto refused = (*guard)(req)) return respond(std::move(*refused));
      handler(std::move(req), std::move(respond));
    };
  }
  if (observer_) {
    out = [observer = observer_, handler = std::move(out)](Request&& req, Responder respond) {
      Responder observed = (*observer)(req, std::move(respond));
      handler(std::move(req), std::move(observed));
    };
  }
  return out;
}

void Router::compose(Compiled& c) const {
  c.route.handler = wrapped(c.handler);
  if (guard_ || !c.streaming_handler) {  // the guard needs the whole body
    c.route.streams = {};
    c.route.streaming_handler = {};
    return;
  }
  c.route.streams = c.streams;
  c.route.streaming_handler = c.streaming_handler;
  if (observer_) {
    c.route.streaming_handler = [observer = observer_, handler = c.streaming_handler](
                                    Request&& req, std::shared_ptr<BodyReader> body, Responder respond) {
      Responder observed = (*observer)(req, std::move(respond));
      handler(std::move(req), std::move(body), std::move(observed));
    };
  }
}

void Router::set_guard(Guard guard) {
  guard_ = std::make_shared<const Guard>(std::move(guard));
  for (auto& c : routes_) compose(c);
  fallback_ = wrapped(raw_fallback_);
}

void Router::set_observer(Observer observer) {
  observer_ = std::make_shared<const Observer>(std::move(observer));
  for (auto& c : routes_) compose(c);
  fallback_ = wrapped(raw_fallback_);
}

void Router::set_fallback(Handler handler) {
  raw_fallback_ = std::move(handler);
  fallback_ = wrapped(raw_fallback_);
}

void Router::set_fallback(Handler handler, std::size_t body_limit) {
  set_fallback(std::move(handler));
  fallback_body_limit_ = body_limit;
}

void Router::add(Method method, std::string pattern, std::size_t body_limit, Handler handler) {
  Compiled c{Route{method, std::move(pattern), body_limit, {}, {}, {}}, {}, std::move(handler), {}, {}};
  for (auto seg : split_path(c.route.pattern)) c.segments.emplace_back(seg);
  compose(c);
  routes_.push_back(std::move(c));
}

void Router::add_streaming(Method method, std::string pattern, std::size_t body_limit, Handler buffered,
                           StreamPredicate streams, StreamingHandler streaming) {
  add(method, std::move(pattern), body_limit, std::move(buffered));
  routes_.back().streams = std::move(streams);
  routes_.back().streaming_handler = std::move(streaming);
  compose(routes_.back());
}

Router::Match Router::match(Method method, std::string_view path) const {
  auto segments = split_path(path);
  for (const auto& c : routes_) {
    if (c.route.method != method || c.segments.size() != segments.size()) continue;
    Match m;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      const auto& want = c.segments[i];
      if (is_capture(want)) {
        if (segments[i].empty()) ok = false;
        else m.params.emplace_back(want.substr(1, want.size() - 2), percent_decode(segments[i]));
      } else {
        ok = want == segments[i];
      }
    }
    if (ok) {
      m.route = &c.route;
      return m;
    }
  }
  return {};
}

}  // namespace lambdad::http
