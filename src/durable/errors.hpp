// durable (internal): the one error shape of refused requests, InvalidParameterValueException.
#pragma once

#include <string>

#include "lambdad/common/result.hpp"

namespace lambdad::durable {

inline Error invalid_parameter(std::string message) {
  return Error{ErrorKind::kInvalidInput, "InvalidParameterValueException", std::move(message)};
}

}  // namespace lambdad::durable
