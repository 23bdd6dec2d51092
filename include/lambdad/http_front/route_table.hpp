// http_front: the routes of the REST and HTTP APIs and how a request finds one (decision 020).
// Built from plain values; a reload builds a new table.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lambdad::http_front {

enum class PayloadVersion { kV1, kV2 };

// What a route invokes. `index` is the caller's own reference (e.g. into its route list).
struct RouteTarget {
  std::string function_name;
  PayloadVersion payload = PayloadVersion::kV2;
  std::size_t index = 0;
};

struct Route {
  std::string api_id;
  std::string method;  // "GET", ... or "ANY"
  std::string path;    // "/items/{id}", "/{proxy+}", or "$default" (HTTP APIs)
  RouteTarget target;
};

struct RouteMatch {
  const Route* route = nullptr;
  // Values as API Gateway gives them: percent-decoded ({proxy+} keeps its '/'s).
  std::map<std::string, std::string> path_parameters;
  std::string route_key;      // "GET /items/{id}", "ANY /{proxy+}" or "$default"
  std::string resource_path;  // "/items/{id}" or "$default"
};

// Whether `a` is a more specific match of one path than `b` by the order match() uses (a route
// beats "$default"); false when they rank alike. The front uses it between routes of different APIs.
bool outranks(const RouteMatch& a, const RouteMatch& b);

class RouteTable {
 public:
  void add(Route route);
  // The route of `api_id` for `method` and the raw (undecoded) `path`. Among the routes whose
  // method matches (the same method, or ANY) and whose template matches the path, the most
  // specific wins: segment by segment a literal beats a {param}, which beats {proxy+}; then the
  // longer template; then an exact method beats ANY. "$default" only when nothing else matches.
  // An empty `method` matches routes of every method (the path's resource, whatever its methods).
  std::optional<RouteMatch> match(std::string_view api_id, std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace lambdad::http_front
