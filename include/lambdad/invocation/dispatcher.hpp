// invocation: where the APIs hand invocations over. The sandbox implements it; the Invoke API
// and `lambdad invoke` only see this.
#pragma once

#include <string>

#include "lambdad/invocation/invocation.hpp"

namespace lambdad::invocation {

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual bool has_function(const std::string& name) const = 0;
  // Runs the invocation; its on_complete is called exactly once. The function must exist.
  virtual void dispatch(InvocationPtr inv) = 0;
};

}  // namespace lambdad::invocation
