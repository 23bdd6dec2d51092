#include "lambdad/http_front/route_table.hpp"

#include <utility>

#include "lambdad/http_front/request_view.hpp"

namespace lambdad::http_front {
namespace {

constexpr std::string_view kDefaultRoute = "$default";

// A template segment's rank: lower is more specific.
enum class SegmentKind { kLiteral = 0, kParam = 1, kGreedy = 2 };

struct Segment {
  SegmentKind kind = SegmentKind::kLiteral;
  std::string_view text;  // the literal, or the parameter's name
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.empty()) return out;
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::vector<Segment> compile(std::string_view path) {
  std::vector<Segment> out;
  for (const auto part : split_path(path)) {
    if (part.size() > 3 && part.starts_with('{') && part.ends_with("+}")) {
      out.push_back({SegmentKind::kGreedy, part.substr(1, part.size() - 3)});
    } else if (part.size() > 2 && part.starts_with('{') && part.ends_with('}')) {
      out.push_back({SegmentKind::kParam, part.substr(1, part.size() - 2)});
    } else {
      out.push_back({SegmentKind::kLiteral, part});
    }
  }
  return out;
}

std::string decoded(std::string_view raw) {
  auto value = percent_decode(raw);
  return value ? std::move(*value) : std::string(raw);
}

// The parameters when `segments` matches the raw path segments `parts`, else nullopt.
std::optional<std::map<std::string, std::string>> match_segments(const std::vector<Segment>& segments,
                                                                 const std::vector<std::string_view>& parts) {
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& seg = segments[i];
    if (seg.kind == SegmentKind::kGreedy) {
      // {proxy+} is last and takes at least one segment: "/{proxy+}" does not match "/".
      if (i + 1 != segments.size() || i >= parts.size()) return std::nullopt;
      std::string rest;
      for (std::size_t k = i; k < parts.size(); ++k) {
        if (k > i) rest += '/';
        rest += decoded(parts[k]);
      }
      params[std::string(seg.text)] = std::move(rest);
      return params;
    }
    if (i >= parts.size()) return std::nullopt;
    if (seg.kind == SegmentKind::kParam) {
      if (parts[i].empty()) return std::nullopt;
      params[std::string(seg.text)] = decoded(parts[i]);
    } else if (decoded(parts[i]) != seg.text) {
      return std::nullopt;
    }
  }
  if (segments.size() != parts.size()) return std::nullopt;
  return params;
}

// Whether `a` is more specific than `b` (both matched the same path).
bool more_specific(const std::vector<Segment>& a, bool a_any, const std::vector<Segment>& b, bool b_any) {
  const auto n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i].kind != b[i].kind) return a[i].kind < b[i].kind;
  }
  if (a.size() != b.size()) return a.size() > b.size();
  return !a_any && b_any;
}

}  // namespace

bool outranks(const RouteMatch& a, const RouteMatch& b) {
  const bool a_default = a.route->path == kDefaultRoute;
  const bool b_default = b.route->path == kDefaultRoute;
  if (a_default || b_default) return !a_default && b_default;
  return more_specific(compile(a.route->path), a.route->method == "ANY", compile(b.route->path),
                       b.route->method == "ANY");
}

void RouteTable::add(Route route) { routes_.push_back(std::move(route)); }

std::optional<RouteMatch> RouteTable::match(std::string_view api_id, std::string_view method,
                                            std::string_view path) const {
  const auto parts = split_path(path);
  const Route* best = nullptr;
  std::vector<Segment> best_segments;
  std::map<std::string, std::string> best_params;
  const Route* fallback = nullptr;
  for (const auto& route : routes_) {
    if (route.api_id != api_id) continue;
    if (route.path == kDefaultRoute) {
      if (fallback == nullptr) fallback = &route;
      continue;
    }
    const bool any = route.method == "ANY";
    if (!any && !method.empty() && route.method != method) continue;
    auto segments = compile(route.path);
    auto params = match_segments(segments, parts);
    if (!params) continue;
    if (best == nullptr || more_specific(segments, any, best_segments, best->method == "ANY")) {
      best = &route;
      best_segments = std::move(segments);
      best_params = std::move(*params);
    }
  }
  if (best != nullptr) {
    RouteMatch m;
    m.route = best;
    m.path_parameters = std::move(best_params);
    m.route_key = best->method + " " + best->path;
    m.resource_path = best->path;
    return m;
  }
  if (fallback != nullptr) {
    RouteMatch m;
    m.route = fallback;
    m.route_key = std::string(kDefaultRoute);
    m.resource_path = std::string(kDefaultRoute);
    return m;
  }
  return std::nullopt;
}

}  // namespace lambdad::http_front
