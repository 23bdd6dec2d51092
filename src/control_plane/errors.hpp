// control_plane (private): the errors the catalogue and its code packages answer with.
#pragma once

#include <string>
#include <utility>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/result.hpp"

namespace lambdad::control_plane {

// 400 InvalidParameterValueException with Lambda's message.
inline Error invalid(std::string message) {
  return Error{ErrorKind::kInvalidInput, std::string(error_types::kInvalidParameterValueException), std::move(message)};
}

}  // namespace lambdad::control_plane
