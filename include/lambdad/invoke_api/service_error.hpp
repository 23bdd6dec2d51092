// invoke_api: AWS service errors (lambda-spec §3.5, §4.1) and the one place they become HTTP.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"
#include "lambdad/http/message.hpp"

namespace lambdad::invoke_api {

struct ServiceError {
  unsigned status = 500;
  std::string type;     // X-Amzn-ErrorType
  std::string message;
  std::string reason;   // TooManyRequestsException only

  static ServiceError not_found(std::string message);
  static ServiceError validation(std::string message);
  // The ValidationException of a request member that fails `constraints` (each "Member must
  // ..."): "1 validation error detected: Value '<value>' at '<member>' failed to satisfy
  // constraint: <c>", and "2 validation errors detected: Value ...: <c1>; Value ...: <c2>".
  static ServiceError invalid_member(std::string_view member, std::string_view value,
                                     const std::vector<std::string>& constraints);
  static ServiceError invalid_parameter(std::string message);
  static ServiceError invalid_request_content(std::string message);
  static ServiceError entity_too_large(std::string message);
  static ServiceError access_denied();
  static ServiceError throttled(std::string reason);  // 429 TooManyRequestsException
  static ServiceError unknown_operation();
  static ServiceError conflict(std::string message);  // 409 ResourceConflictException
  // An Error whose type names an AWS exception (the control plane's), with that exception's status.
  static ServiceError from(const Error& error);
};

// Status, X-Amzn-ErrorType, x-amzn-RequestId and the body casing each exception uses.
http::Response render(const ServiceError& error, const std::string& request_id);

}  // namespace lambdad::invoke_api
