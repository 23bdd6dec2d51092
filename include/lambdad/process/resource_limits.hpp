// process: per-environment resource limits (Lambda's MemorySize, 1024 processes/threads,
// RLIMIT_NOFILE 1024, a private /tmp of EphemeralStorage size) behind one interface, whatever
// the host offers: cgroup v2, cgroup v1, or — where no cgroup can be written — a sampler of
// the process tree's RSS that kills over the limit.
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
#include <vector>

#include "lambdad/common/result.hpp"

namespace boost::asio {
class io_context;
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
  // Kills what is left inside and removes the group. cgroups: may block up to ~500 ms per
  // hierarchy while killed processes exit (normally a few ms); destroy it after the ChildProcess.
  virtual ~ResourceGroup() = default;
  // Files the child writes its own pid into before exec (cgroup.procs / tasks of each hierarchy).
  virtual std::vector<std::string> join_files() const = 0;
  // After spawn: the environment's main pid (the sampler watches its process tree).
  virtual void attach(pid_t pid) = 0;
  // Highest memory use of the group so far, in bytes (cgroup peak, or the sampler's maximum).
  virtual std::uint64_t peak_memory_bytes() const = 0;
  // True once something in the group was killed for exceeding the memory limit.
  virtual bool oom_killed() const = 0;
};

class ResourceController {
 public:
  virtual ~ResourceController() = default;
  // "cgroup v2 at /sys/fs/cgroup/lambdad-1234", "cgroup v1 (memory, pids, cpu)", "sampling RSS every 50 ms
  // (no writable cgroup: <reason>)", "off" — logged at startup.
  virtual std::string describe() const = 0;
  virtual MemoryEnforcement mode() const = 0;
  virtual Result<std::unique_ptr<ResourceGroup>> create_group(const std::string& name,
                                                              const EnvironmentLimits& limits) = 0;
};

// kAuto: cgroup v2, else v1, else sampling. kCgroup fails (with the reason) when no cgroup is
// writable. The io_context runs the sampler's timer.
Result<std::unique_ptr<ResourceController>> make_resource_controller(boost::asio::io_context& io,
                                                                     MemoryEnforcement requested);

// A private /tmp for one environment: a directory (on a tmpfs of `size_bytes` when the daemon
// runs as root, else a plain directory under TMPDIR whose size is checked on demand). It
// outlives a runtime process so that /tmp survives a reset, as on Lambda; destroying it removes it.
class TmpDir {
 public:
  virtual ~TmpDir() = default;
  virtual const std::filesystem::path& path() const = 0;
  virtual bool private_mount() const = 0;  // true: bind-mounted over /tmp in the child's mount namespace
  virtual std::uint64_t used_bytes() const = 0;
};
Result<std::unique_ptr<TmpDir>> make_tmp_dir(const std::filesystem::path& root, const std::string& name,
                                             std::uint64_t size_bytes);

}  // namespace lambdad::process
