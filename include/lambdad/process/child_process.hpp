// process: starting a worker process (an execution environment's runtime) and watching it.
//
// spawn() builds argv/envp before fork; the child only makes async-signal-safe calls: it joins
// a new process group, asks to be killed when the daemon dies (PR_SET_PDEATHSIG), points
// stdout+stderr at one pipe (so ordering between them is kept, like a Lambda log stream),
// closes every other descriptor, changes to the working directory and execs. An exec failure
// (missing or non-executable file, bad cwd) is reported back through a close-on-exec pipe and
// returned as an Error, never as a half-started child.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"

namespace boost::asio {
class io_context;
}

namespace lambdad::process {

struct SpawnSpec {
  std::string executable;                    // absolute path, or a name looked up in PATH of `environment`
  std::vector<std::string> args;             // argv[1..]; argv[0] is executable
  std::vector<std::string> environment;      // "KEY=VALUE"; the child gets exactly these
  std::filesystem::path working_directory;  // empty: the daemon's own
  // Files the child opens O_WRONLY and writes its own pid into before exec (cgroup.procs of each
  // hierarchy of its ResourceGroup). A failure aborts the spawn with a Sandbox.Failure error
  // "cannot join cgroup <file>: <strerror>".
  std::vector<std::string> join_files{};
  std::optional<std::uint64_t> rlimit_nofile{};  // RLIMIT_NOFILE, soft = hard
  std::optional<std::uint64_t> rlimit_nproc{};   // RLIMIT_NPROC, soft = hard (per user: not with cgroups)
  // (Default member initializers keep aggregate initialisation with the first four fields
  // warning-free.) Non-empty and the daemon is root: the child gets its own mount namespace (mounts made
  // private) with this directory bind-mounted on /tmp. Otherwise (not root, or unshare/mount
  // fail) nothing happens in the child; callers also point TMPDIR at it. The working directory
  // is entered before /tmp is covered; the executable is exec'd after, so it must not live
  // under the host's /tmp.
  std::filesystem::path private_tmp{};
  // Layers to show at /opt, in order: Lambda extracts them there one after the other, so a later
  // layer's file wins. When the daemon is root, the child's mount namespace gets them on /opt,
  // read-only: one layer bind-mounted, several as the lower directories of an overlay. The
  // host's /opt is never touched. When that cannot be done (not root, a layer path an overlay
  // cannot name, something the child runs lives under /opt, unshare or mount fail) the child is
  // started with `environment_without_opt` instead, whose search paths name the layer
  // directories themselves; ChildProcess::opt_layers_fallback() says why.
  std::vector<std::filesystem::path> opt_layers{};
  std::vector<std::string> environment_without_opt{};
};

// How a process ended, in the words Lambda uses ("exit status 1", "signal: killed").
struct ExitStatus {
  bool signaled = false;
  int code = 0;    // exit code, or signal number when signaled
  std::string describe() const;  // "exit status N" / "signal: killed" / "signal: segmentation fault"
};

// A started child process, owned: destroying it kills the whole process group (SIGKILL) and
// reaps the child. Callbacks run on the io_context passed to spawn() (one at a time, on a strand
// of it). Members may be called, and the object destroyed, from any thread or from inside a
// callback; once the destructor returns no callback runs. It must not outlive the io_context.
// When the child exits, the rest of its process group is killed too (the environment is over).
class ChildProcess {
 public:
  virtual ~ChildProcess() = default;
  virtual pid_t pid() const = 0;
  // SIGKILL to the process group. Idempotent; on_exit still fires once the child is reaped.
  virtual void kill_group() = 0;
  // SIGTERM to the process group.
  virtual void terminate_group() = 0;
  // True from the moment on_exit is called (the child is reaped and its output delivered).
  virtual bool exited() const = 0;
  // Delivers now, through on_output_line, what the child has written so far: the lines in the
  // pipe that the watch has not read yet, then the unterminated rest as a line of its own (an
  // invoke's END must not overtake its output, nor a `print` without a newline wait for the next
  // one). Bounded by what is in the pipe when called. Does nothing when called from inside a
  // callback of this child, or once the output has ended.
  virtual void sync_output() = 0;
  // Empty when SpawnSpec::opt_layers are mounted on /opt (or none were asked for); else why not
  // ("not root", "mount overlay on /opt: operation not permitted"): the child then got
  // SpawnSpec::environment_without_opt.
  virtual const std::string& opt_layers_fallback() const = 0;
};

struct ChildCallbacks {
  // One call per complete output line (stdout and stderr merged), without the trailing '\n'.
  // An unterminated line is delivered on sync_output() or when the pipe closes. Very long lines
  // are split at 256 KiB so a line without a newline cannot grow memory without bound.
  std::function<void(std::string_view line)> on_output_line;
  // Called once, after the child has been reaped and its output pipe drained (or, if a process
  // that left the group still holds the pipe, 100 ms after reaping). Callbacks must not throw.
  std::function<void(ExitStatus)> on_exit;
};

// Errors: kind kInvalidInput with type "Runtime.InvalidEntrypoint" when the executable does not
// exist or is not executable; "Runtime.InvalidWorkingDir" when the cwd does not exist; kInternal
// for fork/pipe failures. The message names the path and strerror.
// Messages use Go's wording, as Lambda shows them: "fork/exec /var/task/bootstrap: no such file
// or directory", "chdir /var/task: not a directory", `exec: "node": executable file not found in
// $PATH`; kInternal errors have type "Sandbox.Failure".
Result<std::unique_ptr<ChildProcess>> spawn(boost::asio::io_context& io, const SpawnSpec& spec,
                                            ChildCallbacks callbacks);

// Peak resident set size of one process in bytes (VmHWM from /proc/<pid>/status), 0 if unknown.
std::size_t peak_rss_bytes(pid_t pid);
// Starts a new peak for peak_rss_bytes(pid): VmHWM becomes the current RSS (e.g. before each
// invoke when there is no ResourceGroup). kInternal "write /proc/<pid>/clear_refs: <strerror>"
// when the process is gone or not ours.
Status reset_peak_rss(pid_t pid);

}  // namespace lambdad::process
