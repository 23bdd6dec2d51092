// http_front: the answers a front gives of its own (decision 020, lambda-spec §13): where a
// function's failure, a missing route, a throttle or an authorizer becomes HTTP. One place.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "lambdad/http_front/request_view.hpp"

namespace lambdad::http_front {

enum class FrontErrorKind {
  kFunctionError,      // the function failed (an error response, a crash)
  kMalformedResponse,  // the function's result is not one the front can map
  kTimeout,            // past the integration timeout
  kNoRoute,            // no route matches
  kThrottled,          // the dispatcher refused for concurrency
  kUnauthorized,       // a Lambda authorizer's identity source is missing, or it said Unauthorized
  kForbidden,          // no authorizer statement allows the request, or a Function URL's AWS_IAM check failed
  kExplicitDeny,       // an authorizer's Deny statement matches the request
  kAuthorizerFailure,  // the authorizer function failed, or its result is malformed
  kTooLarge,           // the request body (or the event made of it) is past Lambda's 6 MB invoke limit
};

struct FrontError {
  FrontErrorKind kind = FrontErrorKind::kMalformedResponse;
  std::string cause;  // for the front's log line; never sent to the client
};

// A response mapper's outcome: the answer, or the error the front renders.
using Mapped = std::variant<HttpAnswer, FrontError>;

// The answer `front` gives for `kind`:
// - function error, malformed result: 502; Function URLs `Internal Server Error` (text/plain),
//   APIs `{"message":"Internal server error"}`.
// - timeout: APIs 504 `{"message":"Endpoint request timed out"}`; a Function URL answers a
//   timeout as any function error (502).
// - no route: REST 403 `{"message":"Missing Authentication Token"}`; HTTP APIs and URLs 404
//   `{"message":"Not Found"}`.
// - throttled: 429 `{"message":"Too Many Requests"}`.
// - unauthorized: 401 `{"message":"Unauthorized"}` (REST with x-amzn-ErrorType UnauthorizedException).
// - forbidden: REST 403 `{"Message":"User is not authorized to access this resource"}`, and for an
//   explicit deny `{"Message":"User is not authorized to access this resource with an explicit
//   deny"}` (x-amzn-ErrorType AccessDeniedException); HTTP APIs 403 `{"message":"Forbidden"}`;
//   Function URLs 403 with Lambda's AWS_IAM message.
// - authorizer failure: REST 500 `{"message":null}` (x-amzn-ErrorType
//   AuthorizerConfigurationException); HTTP APIs 500 `{"message":"Internal Server Error"}`.
// - too large: 413 `{"message":"Request Entity Too Large"}`.
HttpAnswer render_error(FrontKind front, FrontErrorKind kind);

// The frame a WebSocket API sends its client when a message fails, API Gateway's JSON with the
// connection's and the request's ids: no route (and no $default) is "Forbidden", a timeout
// "Endpoint request timed out", a throttle "Too Many Requests", a function error or a malformed
// result "Internal server error".
std::string render_websocket_error(FrontErrorKind kind, std::string_view connection_id, std::string_view request_id);

// The @connections management API's errors (restJson1: x-amzn-ErrorType names the exception).
enum class ManagementErrorKind {
  kGone,             // 410 GoneException: no such connection (never, or no longer, open)
  kForbidden,        // 403 ForbiddenException: the signature is refused (with --credentials)
  kPayloadTooLarge,  // 413 PayloadTooLargeException: PostToConnection data over 128 KB
  kNotFound,         // 404: not a method of @connections/{id}
};
HttpAnswer render_management_error(ManagementErrorKind kind);

}  // namespace lambdad::http_front
