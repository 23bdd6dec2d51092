// process (internal): errno as Go prints it ("no such file or directory"), which is what Lambda
// shows in its fork/exec and chdir errors.
#pragma once

#include <cstring>
#include <string>

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

}  // namespace lambdad::process
