// process (internal): errno as Go prints it ("no such file or directory"), which is what Lambda
// shows in its fork/exec and chdir errors; and the Sandbox.Failure a failed system call makes.
#pragma once

#include <cstring>
#include <string>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/result.hpp"

namespace lambdad::process {

inline std::string errno_text(int err) {
  const char* desc = ::strerrordesc_np(err);
  if (desc == nullptr) return "errno " + std::to_string(err);
  std::string s(desc);
  // Go lower-cases the first letter unless it starts an acronym ("I/O error" stays).
  if (s.size() >= 2 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z')) {
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  }
  return s;
}

// A Sandbox.Failure: what failed and the C library's text of errno `err`.
inline Error sandbox_failure(const std::string& what, int err) {
  return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure), what + ": " + std::strerror(err)};
}

}  // namespace lambdad::process
