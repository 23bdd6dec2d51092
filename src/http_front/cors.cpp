#include "lambdad/http_front/cors.hpp"

#include <algorithm>

namespace lambdad::http_front {
namespace {

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ',';
    out += v;
  }
  return out;
}

// The Access-Control-Allow-Origin value for the request's Origin, or nullopt when not allowed.
std::optional<std::string> allowed_origin(FrontKind front, const Cors& cors, const RequestView& request) {
  if (front == FrontKind::kRestApi) {
    if (cors.allow_origins.empty()) return std::nullopt;
    return join(cors.allow_origins);
  }
  const auto origin = first_header(request.headers, "origin");
  if (!origin) return std::nullopt;
  const bool any = std::find(cors.allow_origins.begin(), cors.allow_origins.end(), "*") != cors.allow_origins.end();
  if (any && !cors.allow_credentials) return std::string("*");
  if (any || std::find(cors.allow_origins.begin(), cors.allow_origins.end(), *origin) != cors.allow_origins.end()) {
    return *origin;
  }
  return std::nullopt;
}

void add_origin_headers(Headers& out, FrontKind front, const Cors& cors, const RequestView& request, bool& allowed) {
  const auto origin = allowed_origin(front, cors, request);
  allowed = origin.has_value();
  if (!origin) return;
  out.push_back({"Access-Control-Allow-Origin", *origin});
  if (front != FrontKind::kRestApi && *origin != "*") out.push_back({"Vary", "Origin"});
  if (cors.allow_credentials) out.push_back({"Access-Control-Allow-Credentials", "true"});
}

}  // namespace

bool is_preflight(FrontKind front, const RequestView& request) {
  if (request.method != "OPTIONS") return false;
  if (front == FrontKind::kRestApi) return true;
  return first_header(request.headers, "origin") && first_header(request.headers, "access-control-request-method");
}

HttpAnswer preflight_answer(FrontKind front, const Cors& cors, const RequestView& request) {
  HttpAnswer a;
  a.status = front == FrontKind::kHttpApi ? 204 : 200;
  bool allowed = false;
  add_origin_headers(a.headers, front, cors, request, allowed);
  if (!allowed) return a;
  if (!cors.allow_methods.empty()) a.headers.push_back({"Access-Control-Allow-Methods", join(cors.allow_methods)});
  if (!cors.allow_headers.empty()) a.headers.push_back({"Access-Control-Allow-Headers", join(cors.allow_headers)});
  if (cors.max_age_seconds) a.headers.push_back({"Access-Control-Max-Age", std::to_string(*cors.max_age_seconds)});
  return a;
}

Headers cors_headers(FrontKind front, const Cors& cors, const RequestView& request) {
  Headers out;
  bool allowed = false;
  add_origin_headers(out, front, cors, request, allowed);
  if (allowed && !cors.expose_headers.empty()) out.push_back({"Access-Control-Expose-Headers", join(cors.expose_headers)});
  return out;
}

}  // namespace lambdad::http_front
