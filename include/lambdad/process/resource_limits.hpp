// process: per-environment resource limits (Lambda's MemorySize, 1024 processes/threads,
// RLIMIT_NOFILE 1024, a private /tmp of EphemeralStorage size) behind one interface, whatever
// the host offers: cgroup v2, cgroup v1, or neither; in every mode but "off" a sampler of the
// environment's resident memory (RSS of all its processes) kills over the limit too.
//
// A ResourceController is made once per daemon (it detects the mode and owns the daemon's parent
// cgroup); each execution environment gets a ResourceGroup before its process is spawned. The
// child joins the group between fork and exec (SpawnSpec::join_files), so nothing the runtime
// does escapes it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"

namespace boost::asio {
class io_context;
}
namespace lambdad {
class BlockingPool;
class PoolLink;
}

namespace lambdad::process {

enum class MemoryEnforcement { kAuto, kCgroup, kSample, kOff };

struct EnvironmentLimits {
  std::uint64_t memory_bytes = 128ull << 20;
  // Processes + threads in the environment. cgroups: pids.max (fork/clone fails with EAGAIN).
  // Sampling mode: counted each period and the process group is killed when over (not an OOM).
  int max_pids = 1024;
  std::optional<double> cpus;                   // e.g. 0.5 = half a CPU (cpu.max / cfs quota); nullopt = no cap
};

class ResourceGroup {
 public:
  // Kills what is left inside and removes the group; destroy it after the ChildProcess. cgroups:
  // the directories wait for the killed processes to exit (normally a few ms, up to ~500 ms per
  // hierarchy) on the controller's blocking pool, or here when it has none.
  virtual ~ResourceGroup() = default;
  // Files the child writes its own pid into before exec (cgroup.procs / tasks of each hierarchy).
  virtual std::vector<std::string> join_files() const = 0;
  // After spawn: the environment's main pid (the sampler watches its process tree).
  virtual void attach(pid_t pid) = 0;
  // Highest memory use of the group, in bytes, since the last reset_peak() or, before any, since
  // the group was created: the cgroup's peak or the resident memory of all the group's processes
  // (file-backed pages included, as a microVM's guest counts them; docs/decisions/013), whichever
  // is higher, with a last reading taken now. May exceed the limit when the reading now does (the
  // caller then treats the environment as out of memory).
  virtual std::uint64_t peak_memory_bytes() const = 0;
  // Starts a new peak, e.g. before each invoke (Lambda's "Max Memory Used" is the invoke's own):
  // afterwards peak_memory_bytes() is the highest use since this call, which is at least the use
  // at the time of the call. Where the host cannot reset it the peak keeps counting from creation
  // and per_invoke_peak() turns false.
  virtual void reset_peak() = 0;
  // False when reset_peak() has no effect here (cgroup v2 before Linux 6.12, "off"): known once
  // reset_peak() has been called. Reporting can then say the peak is the environment's.
  virtual bool per_invoke_peak() const = 0;
  // True once something in the group was killed for exceeding the memory limit.
  virtual bool oom_killed() const = 0;
  // The runtime waits on /next with nothing to do (Lambda freezes it then): the group's resident
  // memory is not sampled until this turns false again. Groups start busy.
  virtual void set_idle(bool /*idle*/) {}
};

class ResourceController {
 public:
  virtual ~ResourceController() = default;
  // "cgroup v2 at /sys/fs/cgroup/lambdad-1234, RSS sampled every 10 ms", "cgroup v1 (memory, pids,
  // cpu) at ..., RSS sampled ...", "sampling RSS every 50 ms (no writable cgroup: <reason>)", "off" —
  // logged at startup.
  virtual std::string describe() const = 0;
  virtual MemoryEnforcement mode() const = 0;
  virtual Result<std::unique_ptr<ResourceGroup>> create_group(const std::string& name,
                                                              const EnvironmentLimits& limits) = 0;
  // The groups of daemons that died without removing them (killed with SIGKILL): siblings of
  // this daemon's own group named lambdad-<pid> whose pid no longer runs. What still runs in them
  // (a function's background processes) is killed and the groups are removed; returns them.
  virtual std::vector<std::filesystem::path> remove_stale_groups() { return {}; }
};

// `controller`, with a helper process that outlives the daemon: when the daemon dies without
// destroying its groups (SIGKILL, a crash), the helper kills each group's process group, so what
// a function left running in the background dies with the daemon (docs/decisions/011). When the
// helper cannot be started, `controller` itself and the reason in `why_not`.
std::unique_ptr<ResourceController> guard_process_groups(std::unique_ptr<ResourceController> controller,
                                                         std::string* why_not);

// kAuto: cgroup v2, else v1, else sampling. kCgroup fails (with the reason) when no cgroup is
// writable. The io_context runs the sampler's timer. `blocking` removes the cgroups of destroyed
// groups off the caller's thread (it must outlive the controller; whoever destroys the controller
// waits for it first, so that the daemon's own group is empty); without it, a group's destructor
// waits for its removal.
Result<std::unique_ptr<ResourceController>> make_resource_controller(boost::asio::io_context& io,
                                                                     MemoryEnforcement requested,
                                                                     BlockingPool* blocking = nullptr);

// A private /tmp for one environment: a plain directory under `root` (not a tmpfs: its pages
// would count against the function's memory limit, see docs/decisions/005), whose size is
// measured on demand. It outlives a runtime process so that /tmp survives a reset, as on Lambda;
// destroying it removes it: through `removal` (the blocking pool, docs/decisions/001) when given,
// otherwise in place.
class TmpDir {
 public:
  virtual ~TmpDir() = default;
  virtual const std::filesystem::path& path() const = 0;
  // True where it can be bind-mounted over /tmp in the child's own mount namespace (root);
  // otherwise the runtime gets it as TMPDIR only.
  virtual bool private_mount() const = 0;
  virtual std::uint64_t used_bytes() const = 0;  // allocated blocks, in bytes
};
Result<std::unique_ptr<TmpDir>> make_tmp_dir(const std::filesystem::path& root, const std::string& name,
                                             std::shared_ptr<PoolLink> removal = nullptr);
// What the files below `dir` take on disk: their allocated blocks, in bytes (TmpDir::used_bytes;
// a walk of the tree, for the blocking pool).
std::uint64_t allocated_bytes(const std::filesystem::path& dir);
// The pid in a daemon directory's name, "lambdad-<pid>" (the /tmp root and the cgroup of the
// daemon with that pid), or nullopt for any other name.
std::optional<pid_t> daemon_pid(std::string_view name);
// False only when no process has this pid (kill(pid, 0) fails with ESRCH).
bool pid_running(pid_t pid);
// /tmp roots (LAMBDAD_TMP_ROOT or /var/tmp) of daemons that are gone: directories in `base`
// named lambdad-<pid>, owned by this user, not symbolic links, whose pid no longer runs (a
// running daemon's is never touched), removed with what they hold. Returns them.
std::vector<std::filesystem::path> remove_stale_tmp_roots(const std::filesystem::path& base);
// True when `path` lies on a tmpfs (whose pages a writer's memory cgroup is charged for).
bool on_tmpfs(const std::filesystem::path& path);

}  // namespace lambdad::process
