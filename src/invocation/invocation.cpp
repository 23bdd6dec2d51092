#include "lambdad/invocation/invocation.hpp"

namespace lambdad::invocation {

std::string function_arn(const std::string& region, const std::string& account,
                         const std::string& name, const std::string& qualifier) {
  std::string arn = "arn:aws:lambda:" + region + ":" + account + ":function:" + name;
  if (!qualifier.empty()) arn += ":" + qualifier;
  return arn;
}

}  // namespace lambdad::invocation
