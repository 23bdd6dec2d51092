// process (internal): checks a SpawnSpec and starts the child; the watching is child_process.cpp's.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lambda_root.hpp"
#include "lambdad/common/result.hpp"
#include "lambdad/process/child_process.hpp"
#include "lambdad/process/unique_fd.hpp"

namespace lambdad::process {

// The read end of a spawn's error pipe and what its failure records are told with: the pipe
// closes when the child execs the executable, or carries why it could not.
struct ExecWait {
  UniqueFd error;
  std::string cwd;
  std::string path;
  std::vector<std::string> join_files;
  std::optional<RootPlan> root;

  // Blocks until the pipe closes (Ok) or a failure record arrives (its Error). `reap`: a failed
  // child is reaped here (nothing watches it yet); otherwise its watch does.
  Status wait(pid_t pid, bool reap);
};

// A child set up and waiting in the holder (SpawnSpec::hold, docs/decisions/022).
struct HeldExec {
  UniqueFd go;  // the daemon's end of the go socket; closing it unused makes the holder exit
  ExecWait wait;
};

struct ForkedChild {
  pid_t pid = -1;
  UniqueFd output;  // read end of the child's stdout+stderr pipe (close-on-exec, non-blocking)
  std::unique_ptr<HeldExec> held;  // SpawnSpec::hold: released by ChildProcess::release()
};

// Validates the working directory and the executable (resolved against PATH), then forks and
// execs. On success the child has exec'd (or is about to: its close-on-exec error pipe closed)
// and the caller owns the pid: it must reap it. On failure no child is left behind. With
// SpawnSpec::hold it returns at once: the child sets up, execs the holder and waits for `held`'s
// go byte; a failure of its setup is told when it is released.
Result<ForkedChild> fork_exec(const SpawnSpec& spec);

}  // namespace lambdad::process
