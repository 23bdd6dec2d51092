// control_plane (private): the errors the catalogue and its code packages answer with, and the
// small checks its files share.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/result.hpp"

namespace lambdad::control_plane {

// 400 InvalidParameterValueException with Lambda's message.
inline Error invalid(std::string message) {
  return Error{ErrorKind::kInvalidInput, std::string(error_types::kInvalidParameterValueException), std::move(message)};
}

inline Error not_found(std::string message) {
  return Error{ErrorKind::kNotFound, std::string(error_types::kResourceNotFoundException), std::move(message)};
}
inline Error conflict(std::string message) {
  return Error{ErrorKind::kConflict, std::string(error_types::kResourceConflictException), std::move(message)};
}
// 412: a RevisionId that is not the function's (or the alias's) latest.
inline Error precondition_failed() {
  return Error{ErrorKind::kConflict, std::string(error_types::kPreconditionFailedException),
               "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API "
               "to retrieve the latest Revision Id"};
}

// A version number's form: digits only, at least one.
inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace lambdad::control_plane
