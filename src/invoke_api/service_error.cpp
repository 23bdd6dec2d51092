#include "lambdad/invoke_api/service_error.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "lambdad/common/error_types.hpp"

namespace lambdad::invoke_api {

namespace et = error_types;

ServiceError ServiceError::not_found(std::string message) {
  return {404, std::string(et::kResourceNotFoundException), std::move(message), {}};
}
ServiceError ServiceError::validation(std::string message) {
  return {400, std::string(et::kValidationException), std::move(message), {}};
}
ServiceError ServiceError::invalid_member(std::string_view member, std::string_view value,
                                          const std::vector<std::string>& constraints) {
  std::vector<std::string> errors;
  for (const auto& c : constraints) {
    errors.push_back(fmt::format("Value '{}' at '{}' failed to satisfy constraint: {}", value, member, c));
  }
  return validation(fmt::format("{} validation error{} detected: {}", errors.size(), errors.size() == 1 ? "" : "s",
                                fmt::join(errors, "; ")));
}
ServiceError ServiceError::invalid_parameter(std::string message) {
  return {400, std::string(et::kInvalidParameterValueException), std::move(message), {}};
}
ServiceError ServiceError::invalid_request_content(std::string message) {
  return {400, std::string(et::kInvalidRequestContentException), std::move(message), {}};
}
ServiceError ServiceError::entity_too_large(std::string message) {
  return {413, std::string(et::kRequestEntityTooLargeException), std::move(message), {}};
}
ServiceError ServiceError::throttled(std::string reason) {
  return {429, std::string(et::kTooManyRequestsException), "Rate Exceeded.", std::move(reason)};
}
ServiceError ServiceError::access_denied() { return {403, "AccessDeniedException", {}, {}}; }
ServiceError ServiceError::unknown_operation() {
  return {404, std::string(et::kUnknownOperationException), "Unknown operation", {}};
}

ServiceError ServiceError::conflict(std::string message) {
  return {409, std::string(et::kResourceConflictException), std::move(message), {}};
}

ServiceError ServiceError::from(const Error& error) {
  const auto& t = error.type;
  unsigned status = 400;
  if (t == et::kResourceNotFoundException) status = 404;
  else if (t == et::kResourceConflictException || t == "DurableExecutionAlreadyStartedException") status = 409;
  else if (t == et::kPreconditionFailedException) status = 412;
  else if (t == et::kRequestEntityTooLargeException) status = 413;
  else if (t == et::kTooManyRequestsException) status = 429;
  else if (t == et::kSnapStartTimeoutException) status = 408;
  else if (t.empty() || t == et::kServiceException || error.kind == ErrorKind::kInternal) status = 500;
  ServiceError out{status, t.empty() ? std::string(et::kServiceException) : t, error.message, {}};
  return out;
}

http::Response render(const ServiceError& error, const std::string& request_id) {
  nlohmann::ordered_json body;
  const auto& t = error.type;
  if (t == et::kResourceNotFoundException || t == et::kServiceException) {
    body = {{"Type", "User"}, {"Message", error.message}};
  } else if (t == et::kTooManyRequestsException) {
    body = {{"Reason", error.reason}, {"Type", "User"}, {"message", "Rate Exceeded."}};
  } else if (t == et::kValidationException) {
    body = {{"message", error.message}};
  } else if (t == et::kRequestEntityTooLargeException || t == et::kSnapStartException ||
             t == et::kSnapStartTimeoutException || t == "DurableExecutionAlreadyStartedException" ||
             t == "CallbackTimeoutException") {
    body = {{"Type", "User"}, {"Message", error.message}};
  } else if (t == "AccessDeniedException") {
    body = nlohmann::ordered_json::object();
  } else {
    body = {{"Type", "User"}, {"message", error.message}};
  }
  http::Response r;
  r.status = error.status;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("X-Amzn-ErrorType", error.type);
  r.headers.add("x-amzn-RequestId", request_id);
  // Messages quote what the request said (a function name from the path may be any bytes):
  // invalid UTF-8 becomes U+FFFD instead of an exception.
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}

}  // namespace lambdad::invoke_api
