// process (internal): checks a SpawnSpec and starts the child; the watching is child_process.cpp's.
#pragma once

#include <sys/types.h>

#include <string>

#include "lambdad/common/result.hpp"
#include "lambdad/process/child_process.hpp"
#include "lambdad/process/unique_fd.hpp"

namespace lambdad::process {

struct ForkedChild {
  pid_t pid = -1;
  UniqueFd output;  // read end of the child's stdout+stderr pipe (close-on-exec, non-blocking)
};

// Validates the working directory and the executable (resolved against PATH), then forks and
// execs. On success the child has exec'd (or is about to: its close-on-exec error pipe closed)
// and the caller owns the pid: it must reap it. On failure no child is left behind.
Result<ForkedChild> fork_exec(const SpawnSpec& spec);

}  // namespace lambdad::process
