// http_front: CORS as the fronts apply it (decision 020): a Function URL's Cors, a REST API's
// Cors, an HTTP API's CorsConfiguration.
//
// Per front:
// - Function URLs and HTTP APIs: a preflight is OPTIONS with Origin and
//   Access-Control-Request-Method; the front answers it itself (URLs 200, HTTP APIs 204, empty
//   body). Access-Control-Allow-Origin is sent only when the request's Origin is allowed: the
//   origin itself (with Vary: Origin), or "*" when "*" is allowed without credentials.
// - REST APIs (SAM's Cors): every OPTIONS is answered 200 with an empty body, and the configured
//   values are sent as written, whatever the Origin.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lambdad/http_front/request_view.hpp"

namespace lambdad::http_front {

struct Cors {
  std::vector<std::string> allow_origins;   // "*" or origins
  std::vector<std::string> allow_methods;   // upper-case, or "*"
  std::vector<std::string> allow_headers;
  std::vector<std::string> expose_headers;
  std::optional<int> max_age_seconds;       // nullopt: no Access-Control-Max-Age
  bool allow_credentials = false;
};

bool is_preflight(FrontKind front, const RequestView& request);
HttpAnswer preflight_answer(FrontKind front, const Cors& cors, const RequestView& request);
// The headers added to a normal answer (Allow-Origin, Expose-Headers, Allow-Credentials, Vary).
Headers cors_headers(FrontKind front, const Cors& cors, const RequestView& request);

}  // namespace lambdad::http_front
