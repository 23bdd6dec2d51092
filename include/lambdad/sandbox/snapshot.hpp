// sandbox: a SnapStart snapshot (docs/decisions/023): a runtime that has run its init and its
// before-snapshot hooks and waits on a socket of the daemon's to fork copies of itself into new
// environments. The daemon side of that socket: an abstract SOCK_SEQPACKET listener whose one
// accepted peer must be the expected runtime's pid; `ready` from it makes the snapshot ready
// (`inPlace`, with a reason, says it will not be one);
// each restore() is one message (JSON and the new environment's descriptors), answered in order
// with the copy's pid or an error.
//
// Everything runs on the domain's executor; callbacks are never called after destruction.
#pragma once

#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lambdad/common/executor.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/result.hpp"
#include "lambdad/process/unique_fd.hpp"

namespace lambdad::sandbox {

class ExecutionEnvironment;

// What a copy is forked into: descriptors it takes over, and where it starts.
struct RestoreTarget {
  process::UniqueFd output;        // write end of its stdout+stderr pipe
  process::UniqueFd go;            // read end of the go pipe: one byte once the daemon has adopted it
  process::UniqueFd mount_ns;      // the new environment's mount namespace; invalid: keep the snapshot's
  std::vector<process::UniqueFd> cgroup_procs;  // cgroup.procs of each hierarchy, opened for writing
  std::string working_directory;
  std::vector<std::pair<std::string, std::string>> environment;  // variables that change (the Runtime API)
  // Made ahead of its cold start: the copy has time to copy the snapshot's pages it will write
  // before it is restored, instead of one fault at a time in its first invoke.
  bool ahead = false;
};

class Snapshot {
 public:
  // Opens the listener. `on_ready` once the runtime has said it is ready; `on_lost` when the
  // connection ends or misbehaves after that (the snapshot is then useless).
  static Result<std::unique_ptr<Snapshot>> open(const Executor& executor, std::function<void()> on_ready,
                                                std::function<void(const std::string&)> on_lost);
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // The abstract name (without its leading NUL) for _LAMBDAD_SNAPSHOT_SOCKET.
  const std::string& name() const { return name_; }
  // Only a connection from this pid is accepted (the runtime of the environment being snapshot).
  void expect(pid_t pid) { expected_pid_ = pid; }
  bool ready() const { return ready_; }
  // The runtime said it cannot become a snapshot and restores in place (the reason went to on_lost).
  bool in_place() const { return in_place_; }

  // The environment whose runtime is the snapshot, once ready (the pool hands it over).
  void keep(std::unique_ptr<ExecutionEnvironment> env);
  const ExecutionEnvironment* environment() const { return env_.get(); }

  // Asks for a copy in `target`; `done` gets its pid, or why there is none. An Error at once when
  // the request cannot even be sent.
  using Restored = std::function<void(Result<pid_t>)>;
  Status restore(RestoreTarget target, Restored done);

 private:
  Snapshot(const Executor& executor, process::UniqueFd listener, std::string name);
  void accept_next();
  void read_next();
  void on_message(const std::string& message);
  void lose(const std::string& why);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
  pid_t expected_pid_ = 0;
  bool ready_ = false;
  bool lost_ = false;
  bool in_place_ = false;
  std::function<void()> on_ready_;
  std::function<void(const std::string&)> on_lost_;
  std::deque<Restored> pending_;
  std::unique_ptr<ExecutionEnvironment> env_;
  Lifetime lifetime_;
};

}  // namespace lambdad::sandbox
