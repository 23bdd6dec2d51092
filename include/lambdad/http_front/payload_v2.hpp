// http_front: payload format 2.0 (lambda-spec §13.1, §13.2), the event of HTTP APIs and Function
// URLs, and the mapping of a function's result back to HTTP.
//
// Choices where AWS's documentation is silent or the fronts differ:
// - headers: names lower-cased, repeats joined with ","; the Cookie header is not among them
//   (its pairs are `cookies`, each Cookie header split on "; "). x-forwarded-for (the peer),
//   x-forwarded-proto ("http") and x-forwarded-port (the port connected to) are added when the
//   client did not send them.
// - cookies, queryStringParameters (repeats joined with ","): present only when non-empty.
// - pathParameters, stageVariables: Function URLs always null; HTTP APIs only when non-empty.
// - body: absent when the request has none; otherwise text or base64 by `is_text_body`.
// - rawPath is the path as sent; requestContext.http.path is it percent-decoded.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/request_view.hpp"
#include "lambdad/http_front/route_table.hpp"

namespace lambdad::http_front {

struct V2Settings {
  FrontKind front = FrontKind::kHttpApi;  // kHttpApi or kFunctionUrl
  std::string account_id;                 // URLs with AuthType NONE: "anonymous"
  std::string api_id;                     // the API's id, or the URL's id
  std::string stage = "$default";         // URLs: "$default"
  std::map<std::string, std::string> stage_variables;
};

// The event for `request`. `match` is the route of an HTTP API; nullptr for a Function URL
// (routeKey "$default").
nlohmann::json build_event_v2(const RequestView& request, const V2Settings& settings, const RouteMatch* match);

// The function's result bytes as the HTTP answer (the §13.1 table), or kMalformedResponse.
Mapped map_response_v2(std::string_view result);

}  // namespace lambdad::http_front
