// http_front: payload format 1.0 (lambda-spec §13.2), the event of REST APIs and of HTTP API
// integrations with PayloadFormatVersion 1.0, and the mapping of a function's result back.
//
// Choices where AWS's documentation is silent:
// - headers / queryStringParameters hold the last value of a repeated name; the multiValue
//   members hold every value in order; names keep their case. Each is null when empty.
// - pathParameters, stageVariables: null when empty.
// - path is the path as sent; requestContext.path adds "/<stage>" in front unless the stage is
//   "$default".
// - body: null when empty. REST: base64 when the Content-Type matches the API's binary media
//   types, text otherwise; HTTP APIs: the 2.0 rule (`is_text_body`).
// - REST results without statusCode answer 200 (SAM's behaviour); HTTP API 1.0 requires it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/http_front/errors.hpp"
#include "lambdad/http_front/request_view.hpp"
#include "lambdad/http_front/route_table.hpp"

namespace lambdad::http_front {

struct V1Settings {
  FrontKind front = FrontKind::kRestApi;  // kRestApi, or kHttpApi for a 1.0 integration
  std::string account_id;
  std::string api_id;
  std::string stage;        // REST "Prod" by default
  std::string resource_id;  // requestContext.resourceId
  std::map<std::string, std::string> stage_variables;
  std::vector<std::string> binary_media_types;  // REST BinaryMediaTypes
};

nlohmann::json build_event_v1(const RequestView& request, const V1Settings& settings, const RouteMatch& match);

// The function's result bytes as the HTTP answer, or kMalformedResponse. REST: only statusCode,
// headers, multiValueHeaders, body and isBase64Encoded are allowed; a status must be positive;
// a base64 body is decoded when the request's Accept or the answer's Content-Type matches the
// binary media types. HTTP API 1.0: statusCode is required, other keys are ignored, a base64
// body is always decoded. headers and multiValueHeaders are merged without repeating a value.
Mapped map_response_v1(std::string_view result, const V1Settings& settings, const RequestView& request);

}  // namespace lambdad::http_front
