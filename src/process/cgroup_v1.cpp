// cgroup v1: one directory per environment in each of the memory and pids hierarchies (and cpu
// when a CPU cap is asked for), under `<daemon's own cgroup>/lambdad-<pid>/`. Swap is capped with
// the memory limit when the kernel accounts it (memory.memsw.*), as Lambda has no swap.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>
#include <utility>

#include "cgroup_files.hpp"
#include "errno_text.hpp"
#include "lambdad/common/error_types.hpp"
#include "resource_controllers.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kCfsPeriodUs = 100000;

// mkdir that also accepts a leftover directory of the same name (emptied and recreated).
int make_dir(const fs::path& dir, bool fake) {
  if (::mkdir(dir.c_str(), 0755) == 0) return 0;
  if (errno != EEXIST) return errno;
  cgroup::destroy_group_dir(dir, fake);
  return ::mkdir(dir.c_str(), 0755) == 0 ? 0 : errno;
}

bool valid_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

class CgroupV1Group final : public ResourceGroup {
 public:
  explicit CgroupV1Group(std::shared_ptr<cgroup::GroupRemover> remover)
      : fake_(remover->fake()), remover_(std::move(remover)) {}
  ~CgroupV1Group() override {
    if (peak_fd_ >= 0) ::close(peak_fd_);
    // pids first: killing through it reaches every task; memory last so the peak stays readable.
    std::vector<fs::path> dirs;
    for (const fs::path* dir : {&pids_, &cpu_, &memory_}) {
      if (!dir->empty()) dirs.push_back(*dir);
    }
    remover_->remove(std::move(dirs));
  }
  CgroupV1Group(const CgroupV1Group&) = delete;
  CgroupV1Group& operator=(const CgroupV1Group&) = delete;

  std::vector<std::string> join_files() const override {
    std::vector<std::string> files;
    for (const fs::path* dir : {&memory_, &pids_, &cpu_}) {
      if (!dir->empty()) files.push_back((*dir / "cgroup.procs").string());
    }
    return files;
  }
  void attach(pid_t /*pid*/) override {}
  // Read and reset once per invoke each: through one descriptor kept open (one syscall each
  // instead of open/read/close).
  std::uint64_t peak_memory_bytes() const override {
    if (int fd = peak_fd(); fd >= 0) {
      if (auto v = cgroup::pread_u64(fd)) return *v;
    }
    return cgroup::read_u64(memory_ / "memory.max_usage_in_bytes").value_or(0);
  }
  // Writing to max_usage_in_bytes ("0", as documented) makes it the current usage. The fake
  // tree's regular file needs truncating, which pwrite would not do.
  void reset_peak() override {
    if (int fd = fake_ ? -1 : peak_fd(); fd >= 0 && ::pwrite(fd, "0", 1, 0) == 1) return;
    resettable_ = cgroup::write_file(memory_ / "memory.max_usage_in_bytes", "0", fake_) == 0;
  }
  bool per_invoke_peak() const override { return resettable_.load(); }
  bool oom_killed() const override {
    const auto text = cgroup::read_file(memory_ / "memory.oom_control");
    if (!text) return false;
    // "oom_kill" exists since Linux 4.13; before that the best hint is a group still under OOM.
    if (auto kills = cgroup::keyed_value(*text, "oom_kill")) return *kills > 0;
    return cgroup::keyed_value(*text, "under_oom").value_or(0) > 0;
  }

  // Tracks directories as they are created, so a failed create_group cleans up after itself.
  fs::path& memory() { return memory_; }
  fs::path& pids() { return pids_; }
  fs::path& cpu() { return cpu_; }

 private:
  int peak_fd() const {
    if (peak_fd_ == kNotOpened) {
      peak_fd_ = ::open((memory_ / "memory.max_usage_in_bytes").c_str(), O_RDWR | O_CLOEXEC);
      if (peak_fd_ < 0) peak_fd_ = kUnavailable;
    }
    return peak_fd_;
  }

  static constexpr int kNotOpened = -2;
  static constexpr int kUnavailable = -1;
  fs::path memory_;
  fs::path pids_;
  fs::path cpu_;
  bool fake_;
  std::shared_ptr<cgroup::GroupRemover> remover_;
  std::atomic<bool> resettable_{true};
  mutable int peak_fd_ = kNotOpened;  // the io thread's only
};

class CgroupV1Controller final : public ResourceController {
 public:
  CgroupV1Controller(CgroupV1Parents roots, bool fake, BlockingPool* blocking)
      : roots_(std::move(roots)), fake_(fake), remover_(std::make_shared<cgroup::GroupRemover>(blocking, fake)) {}
  ~CgroupV1Controller() override {
    remover_->detach();
    for (const fs::path* dir : {&roots_.pids, &roots_.cpu, &roots_.memory}) {
      if (!dir->empty()) cgroup::destroy_group_dir(*dir, fake_);
    }
  }
  CgroupV1Controller(const CgroupV1Controller&) = delete;
  CgroupV1Controller& operator=(const CgroupV1Controller&) = delete;

  std::string describe() const override {
    return std::string("cgroup v1 (memory, pids") + (roots_.cpu.empty() ? "" : ", cpu") + ") at " +
           roots_.memory.string();
  }
  MemoryEnforcement mode() const override { return MemoryEnforcement::kCgroup; }
  // pids first: killing through it reaches every task of a stale group.
  std::vector<fs::path> remove_stale_groups() override {
    std::vector<fs::path> removed;
    for (const fs::path* dir : {&roots_.pids, &roots_.cpu, &roots_.memory}) {
      if (dir->empty()) continue;
      auto gone = cgroup::remove_stale_groups(dir->parent_path(), dir->filename().string(), fake_);
      removed.insert(removed.end(), gone.begin(), gone.end());
    }
    return removed;
  }

  Result<std::unique_ptr<ResourceGroup>> create_group(const std::string& name,
                                                      const EnvironmentLimits& limits) override {
    if (!valid_name(name)) {
      return Error{ErrorKind::kInvalidInput, std::string(error_types::kSandboxFailure),
                   "invalid cgroup name \"" + name + "\""};
    }
    auto group = std::make_unique<CgroupV1Group>(remover_);
    auto make = [&](const fs::path& root, fs::path& slot) -> int {
      const fs::path dir = root / name;
      if (int err = make_dir(dir, fake_); err != 0) return err;
      slot = dir;
      return 0;
    };
    auto set = [&](const fs::path& file, const std::string& value) -> int {
      return cgroup::write_file(file, value, fake_);
    };
    if (int err = make(roots_.memory, group->memory()); err != 0) {
      return sandbox_failure("mkdir " + (roots_.memory / name).string(), err);
    }
    const std::string bytes = std::to_string(limits.memory_bytes);
    if (int err = set(group->memory() / "memory.limit_in_bytes", bytes); err != 0) {
      return sandbox_failure("write " + (group->memory() / "memory.limit_in_bytes").string(), err);
    }
    // Only where swap is accounted (kernel built with it, swapaccount=1).
    const fs::path memsw = group->memory() / "memory.memsw.limit_in_bytes";
    std::error_code ec;
    if (fs::exists(memsw, ec)) {
      if (int err = set(memsw, bytes); err != 0) return sandbox_failure("write " + memsw.string(), err);
    }
    if (int err = make(roots_.pids, group->pids()); err != 0) {
      return sandbox_failure("mkdir " + (roots_.pids / name).string(), err);
    }
    if (int err = set(group->pids() / "pids.max", std::to_string(limits.max_pids)); err != 0) {
      return sandbox_failure("write " + (group->pids() / "pids.max").string(), err);
    }
    if (limits.cpus) {
      if (roots_.cpu.empty()) {
        return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                     "a CPU cap needs the cpu controller, which is not mounted"};
      }
      if (int err = make(roots_.cpu, group->cpu()); err != 0) {
        return sandbox_failure("mkdir " + (roots_.cpu / name).string(), err);
      }
      const auto quota = static_cast<std::uint64_t>(std::llround(*limits.cpus * kCfsPeriodUs));
      if (int err = set(group->cpu() / "cpu.cfs_period_us", std::to_string(kCfsPeriodUs)); err != 0) {
        return sandbox_failure("write " + (group->cpu() / "cpu.cfs_period_us").string(), err);
      }
      if (int err = set(group->cpu() / "cpu.cfs_quota_us", std::to_string(std::max<std::uint64_t>(quota, 1000)));
          err != 0) {
        return sandbox_failure("write " + (group->cpu() / "cpu.cfs_quota_us").string(), err);
      }
    }
    return std::unique_ptr<ResourceGroup>(std::move(group));
  }

 private:
  CgroupV1Parents roots_;  // the daemon's directories: <parent>/<tag> in each hierarchy
  bool fake_;
  std::shared_ptr<cgroup::GroupRemover> remover_;  // shared with the groups, which may outlive this
};

}  // namespace

Result<std::unique_ptr<ResourceController>> make_cgroup_v1_controller(const CgroupV1Parents& parents,
                                                                      const std::string& tag, bool fake,
                                                                      BlockingPool* blocking) {
  CgroupV1Parents roots;
  // Each directory is owned by the controller as soon as it exists (its destructor removes it).
  auto controller_roots = [&]() -> Result<Ok> {
    for (auto [parent, slot] : {std::pair{&parents.memory, &roots.memory},
                                std::pair{&parents.pids, &roots.pids}, std::pair{&parents.cpu, &roots.cpu}}) {
      if (parent->empty()) continue;
      const fs::path dir = *parent / tag;
      if (int err = make_dir(dir, fake); err != 0) {
        // The cpu hierarchy is optional: without it only CPU caps are unavailable.
        if (slot == &roots.cpu) continue;
        return sandbox_failure("mkdir " + dir.string(), err);
      }
      *slot = dir;
    }
    return Ok{};
  };
  auto made = controller_roots();
  if (!made) {
    for (const fs::path* dir : {&roots.pids, &roots.cpu, &roots.memory}) {
      if (!dir->empty()) cgroup::destroy_group_dir(*dir, fake);
    }
    return made.error();
  }
  if (roots.memory.empty() || roots.pids.empty()) {
    for (const fs::path* dir : {&roots.pids, &roots.cpu, &roots.memory}) {
      if (!dir->empty()) cgroup::destroy_group_dir(*dir, fake);
    }
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                 "cgroup v1 needs both the memory and the pids hierarchy"};
  }
  return std::unique_ptr<ResourceController>(std::make_unique<CgroupV1Controller>(std::move(roots), fake, blocking));
}

Result<CgroupV1Parents> find_cgroup_v1(const std::string& proc_mounts, const std::string& proc_self_cgroup) {
  const auto mounts = cgroup::parse_mounts(proc_mounts);
  const auto memberships = cgroup::parse_proc_cgroup(proc_self_cgroup);
  auto has = [](const std::vector<std::string>& list, std::string_view item) {
    for (const auto& s : list) {
      if (s == item) return true;
    }
    return false;
  };
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      out.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  };
  // The daemon's own cgroup in the hierarchy of `controller`: nested groups stay inside any
  // limit the daemon itself runs under (a container, a systemd unit).
  auto own_dir = [&](std::string_view controller) -> std::optional<fs::path> {
    for (const auto& m : mounts) {
      if (m.fs_type != "cgroup" || !has(m.options, controller)) continue;
      std::string path = "/";
      for (const auto& c : memberships) {
        if (has(split(c.controllers), controller)) path = c.path;
      }
      const fs::path rel = fs::path(path).relative_path();
      return rel.empty() ? fs::path(m.mount_point) : fs::path(m.mount_point) / rel;
    }
    return std::nullopt;
  };
  auto memory = own_dir("memory");
  auto pids = own_dir("pids");
  if (!memory || !pids) {
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                 std::string("no cgroup v1 ") + (!memory ? "memory" : "pids") + " hierarchy mounted"};
  }
  CgroupV1Parents parents{*memory, *pids, own_dir("cpu").value_or(fs::path())};
  for (const fs::path* dir : {&parents.memory, &parents.pids}) {
    if (::access(dir->c_str(), W_OK) != 0) {
      return sandbox_failure("cgroup v1 directory " + dir->string() + " is not writable", errno);
    }
  }
  return parents;
}

}  // namespace lambdad::process
