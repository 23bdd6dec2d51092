// process (internal): spawn() with the exit-watching mechanism chosen, so that the polling
// fallback (kernels without pidfd_open) can be tested on kernels that have it.
#pragma once

#include "lambdad/process/child_process.hpp"

namespace lambdad::process {

enum class ExitWatch {
  kPidfd,    // pidfd_open + async wait; falls back to kPolling on ENOSYS/EPERM
  kPolling,  // waitid(WNOHANG) every 10 ms
};

Result<std::unique_ptr<ChildProcess>> spawn_with(const Executor& executor, const SpawnSpec& spec,
                                                 ChildCallbacks callbacks, ExitWatch watch);

}  // namespace lambdad::process
