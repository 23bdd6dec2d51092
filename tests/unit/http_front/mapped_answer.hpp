// The answer a response mapper gave, failing the test when it gave a front error instead.
#pragma once

#include <gtest/gtest.h>

#include <variant>

#include "lambdad/http_front/errors.hpp"

namespace lambdad::http_front {

inline HttpAnswer answer(const Mapped& m) {
  EXPECT_TRUE(std::holds_alternative<HttpAnswer>(m));
  return std::holds_alternative<HttpAnswer>(m) ? std::get<HttpAnswer>(m) : HttpAnswer{};
}

}  // namespace lambdad::http_front
