// Process unit tests: the spawn of a /bin/sh script, with a minimal environment.
#pragma once

#include <string>
#include <utility>

#include "lambdad/process/child_process.hpp"

namespace lambdad::process {

inline SpawnSpec shell(std::string script) {
  return SpawnSpec{"/bin/sh", {"-c", std::move(script)}, {"PATH=/usr/bin:/bin"}, "/"};
}

}  // namespace lambdad::process
