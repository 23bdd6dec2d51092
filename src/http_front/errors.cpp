#include "lambdad/http_front/errors.hpp"

#include <fmt/format.h>

namespace lambdad::http_front {
namespace {

HttpAnswer json_answer(int status, std::string body, std::string error_type = {}) {
  HttpAnswer a;
  a.status = status;
  a.headers.push_back({"Content-Type", "application/json"});
  if (!error_type.empty()) a.headers.push_back({"x-amzn-ErrorType", std::move(error_type)});
  a.body = std::move(body);
  return a;
}

}  // namespace

HttpAnswer render_error(FrontKind front, FrontErrorKind kind) {
  const bool url = front == FrontKind::kFunctionUrl;
  const bool rest = front == FrontKind::kRestApi;
  switch (kind) {
    case FrontErrorKind::kFunctionError:
    case FrontErrorKind::kMalformedResponse:
      break;
    case FrontErrorKind::kTimeout:
      if (url) break;
      return json_answer(504, R"({"message":"Endpoint request timed out"})");
    case FrontErrorKind::kNoRoute:
      if (rest) {
        return json_answer(403, R"({"message":"Missing Authentication Token"})", "MissingAuthenticationTokenException");
      }
      return json_answer(404, R"({"message":"Not Found"})");
    case FrontErrorKind::kThrottled:
      return json_answer(429, R"({"message":"Too Many Requests"})");
    case FrontErrorKind::kTooLarge:
      return json_answer(413, R"({"message":"Request Entity Too Large"})");
    case FrontErrorKind::kUnauthorized:
      return json_answer(401, R"({"message":"Unauthorized"})", rest ? "UnauthorizedException" : "");
    case FrontErrorKind::kForbidden:
    case FrontErrorKind::kExplicitDeny:
      if (url) {
        return json_answer(403,
                           R"({"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: )"
                           R"(https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"})");
      }
      if (rest && kind == FrontErrorKind::kExplicitDeny) {
        return json_answer(403, R"({"Message":"User is not authorized to access this resource with an explicit deny"})",
                           "AccessDeniedException");
      }
      if (rest) return json_answer(403, R"({"Message":"User is not authorized to access this resource"})", "AccessDeniedException");
      return json_answer(403, R"({"message":"Forbidden"})");
    case FrontErrorKind::kAuthorizerFailure:
      if (rest) return json_answer(500, R"({"message":null})", "AuthorizerConfigurationException");
      return json_answer(500, R"({"message":"Internal Server Error"})");
  }
  if (url) {
    HttpAnswer a;
    a.status = 502;
    a.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
    a.body = "Internal Server Error";
    return a;
  }
  return json_answer(502, R"({"message":"Internal server error"})");
}

std::string render_websocket_error(FrontErrorKind kind, std::string_view connection_id, std::string_view request_id) {
  std::string_view message = "Internal server error";
  switch (kind) {
    case FrontErrorKind::kNoRoute: message = "Forbidden"; break;
    case FrontErrorKind::kTimeout: message = "Endpoint request timed out"; break;
    case FrontErrorKind::kThrottled: message = "Too Many Requests"; break;
    case FrontErrorKind::kTooLarge: message = "Request Entity Too Large"; break;
    case FrontErrorKind::kUnauthorized: message = "Unauthorized"; break;
    case FrontErrorKind::kForbidden:
    case FrontErrorKind::kExplicitDeny: message = "Forbidden"; break;
    case FrontErrorKind::kAuthorizerFailure:
    case FrontErrorKind::kFunctionError:
    case FrontErrorKind::kMalformedResponse: break;
  }
  // Ids are API Gateway's base64 ids, which need no JSON escaping.
  return fmt::format(R"({{"message": "{}", "connectionId":"{}", "requestId":"{}"}})", message, connection_id,
                     request_id);
}

HttpAnswer render_management_error(ManagementErrorKind kind) {
  switch (kind) {
    case ManagementErrorKind::kGone: return json_answer(410, "{}", "GoneException");
    case ManagementErrorKind::kForbidden: return json_answer(403, R"({"message":"Forbidden"})", "ForbiddenException");
    case ManagementErrorKind::kPayloadTooLarge:
      return json_answer(413, R"({"message":"Message too long"})", "PayloadTooLargeException");
    case ManagementErrorKind::kNotFound: break;
  }
  return json_answer(404, R"({"message":"Not Found"})");
}

}  // namespace lambdad::http_front
