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

#include "lambdad/common/executor.hpp"
#include "lambdad/common/result.hpp"

namespace boost::asio {
class io_context;
}

namespace lambdad::process {

// The root of docs/decisions/014, in host paths.
struct LambdaRoot {
  std::filesystem::path mount_point;              // an empty host directory; the root's tmpfs goes on it, in the child's namespace only
  std::filesystem::path task;                     // shown read-only at /var/task
  std::filesystem::path runtime;                  // shown read-only at /var/runtime; empty: an empty directory
  std::vector<std::filesystem::path> layers;      // shown read-only at /opt, in order (a later layer's file wins)
  std::vector<std::filesystem::path> host_paths;  // shown read-only at the same path (an interpreter's prefix)
  std::vector<std::filesystem::path> shared;      // shown read-write at the same path (serve --share)
  // Lay the root out in a user namespace mapping only the daemon's uid and gid, to themselves. A
  // daemon that is not root always does; root only when asked (tests of that path).
  bool user_namespace = false;
  std::string hosts{};  // non-empty: /etc/hosts holds this instead of the host's
};

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
  // warning-free.) Non-empty and the daemon is root: /tmp of the child is this directory. Without
  // `root`, the child gets its own mount namespace (mounts made private) with it bind-mounted on
  // the host's /tmp; otherwise (not root, or unshare/mount fail) nothing happens in the child and
  // callers point TMPDIR at it. The working directory is entered before /tmp is covered; the
  // executable is exec'd after, so without `root` it must not live under the host's /tmp.
  std::filesystem::path private_tmp{};
  // Set: the child runs in a Lambda-shaped root of its own (docs/decisions/014), and `executable`,
  // `args`, `working_directory` and `environment` are paths inside it (/var/task, /var/runtime,
  // /opt). A step that fails fails the spawn with Sandbox.Failure naming it; probe_lambda_root()
  // tells at startup whether this host allows it at all.
  std::optional<LambdaRoot> root{};
  // Set (the holder, lambdad-hold): spawn() returns once the child is forked; it sets up (joins,
  // limits, root, working directory) and waits in the holder until ChildProcess::release(),
  // which execs `executable` then (docs/decisions/022). What failed in its setup is told by
  // release().
  std::filesystem::path hold{};
  // > 0: the child joins this process group (an environment's, whose leader is another child)
  // instead of leading one of its own. Its ChildProcess then signals the child alone, and its
  // exit ends nothing else (an extension, docs/decisions/024).
  pid_t process_group = 0;
};

// Whether a Lambda-shaped root can be laid out here: a throwaway child lays one out for an empty
// function on `mount_point` and runs /bin/true in it. Blocks for the child (a few ms).
Status probe_lambda_root(const std::filesystem::path& mount_point);


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
  // SIGTERM to the child alone.
  virtual void terminate() = 0;
  // The child's exit no longer kills the rest of its process group (an environment whose
  // extensions have their shutdown budget after the runtime is gone, docs/decisions/024); the
  // owner ends them.
  virtual void spare_group_at_exit() = 0;
  // True from the moment on_exit is called (the child is reaped and its output delivered).
  virtual bool exited() const = 0;
  // Delivers now, through on_output_line, what the child has written so far: the lines in the
  // pipe that the watch has not read yet, then the unterminated rest as a line of its own (an
  // invoke's END must not overtake its output, nor a `print` without a newline wait for the next
  // one). Bounded by what is in the pipe when called. Does nothing when called from inside a
  // callback of this child, or once the output has ended.
  virtual void sync_output() = 0;
  // A held child (SpawnSpec::hold): lets it exec its executable and waits until it has, or until
  // it tells why it could not (its setup or the exec: the errors spawn() gives). Ok at once for a
  // child that was not held, or when called again.
  virtual Status release() = 0;
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
// The same with the callbacks on a strand of `executor` (the daemon's domain, itself a strand:
// they are then serialized with everything else there, docs/decisions/021).
Result<std::unique_ptr<ChildProcess>> spawn(const Executor& executor, const SpawnSpec& spec, ChildCallbacks callbacks);
// A child of the daemon that spawn() did not make: a runtime forked from a SnapStart snapshot
// with CLONE_PARENT (docs/decisions/023), already the leader of its own process group. Watched
// and owned as a spawned child is; `output` is the read end of the pipe its stdout and stderr
// write to (closed on failure).
Result<std::unique_ptr<ChildProcess>> adopt(const Executor& executor, pid_t pid, int output, ChildCallbacks callbacks);

// Peak resident set size of one process in bytes (VmHWM from /proc/<pid>/status), 0 if unknown.
std::size_t peak_rss_bytes(pid_t pid);
// Starts a new peak for peak_rss_bytes(pid): VmHWM becomes the current RSS (e.g. before each
// invoke when there is no ResourceGroup). kInternal "write /proc/<pid>/clear_refs: <strerror>"
// when the process is gone or not ours.
Status reset_peak_rss(pid_t pid);

}  // namespace lambdad::process
