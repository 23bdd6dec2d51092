// cgroup v2: `<parent>/lambdad-<pid>/<environment>/` with memory.max, memory.swap.max = 0,
// pids.max and cpu.max. v2 forbids processes in a group whose subtree_control enables
// controllers, so `parent` must be free of processes (or the root): make_resource_controller()
// tries the daemon's own cgroup, then its ancestors, i.e. a sibling of the daemon's group.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <system_error>
#include <utility>

#include "cgroup_files.hpp"
#include "errno_text.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/process/unique_fd.hpp"
#include "resource_controllers.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kCpuPeriodUs = 100000;

Error problem(const std::string& what) {
  return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure), what};
}

bool listed(const std::string& words, std::string_view word) {
  std::size_t pos = 0;
  while (pos < words.size()) {
    while (pos < words.size() && (words[pos] == ' ' || words[pos] == '\n')) ++pos;
    std::size_t end = words.find_first_of(" \n", pos);
    if (end == std::string::npos) end = words.size();
    if (std::string_view(words).substr(pos, end - pos) == word) return true;
    pos = end;
  }
  return false;
}

class CgroupV2Group final : public ResourceGroup {
 public:
  CgroupV2Group(fs::path dir, std::shared_ptr<cgroup::GroupRemover> remover)
      : dir_(std::move(dir)), remover_(std::move(remover)) {
    std::error_code ec;
    has_peak_ = fs::exists(dir_ / "memory.peak", ec);
  }
  ~CgroupV2Group() override {
    peak_fd_.reset();  // nothing reads it any more
    remover_->remove({dir_});
  }
  CgroupV2Group(const CgroupV2Group&) = delete;
  CgroupV2Group& operator=(const CgroupV2Group&) = delete;

  std::vector<std::string> join_files() const override { return {(dir_ / "cgroup.procs").string()}; }
  void attach(pid_t /*pid*/) override {}
  std::uint64_t peak_memory_bytes() const override {
    std::lock_guard lock(mu_);
    if (peak_fd_.valid()) return cgroup::pread_u64(peak_fd_.get()).value_or(0);
    if (has_peak_) return cgroup::read_u64(dir_ / "memory.peak").value_or(0);
    // Before Linux 5.19 there is no memory.peak: the highest memory.current seen when asked,
    // a lower bound of the real peak.
    seen_max_ = std::max(seen_max_, current());
    return seen_max_;
  }
  void reset_peak() override {
    std::lock_guard lock(mu_);
    if (!peak_fd_.valid() && !fixed_peak_) open_peak();
    if (peak_fd_.valid()) {
      if (cgroup::write_fd(peak_fd_.get(), "reset\n") == 0) return;
      // Opened but not resettable (a kernel before 6.12 that let it open): the peak since creation.
      peak_fd_.reset();
      fixed_peak_ = true;
    }
    if (!has_peak_) seen_max_ = current();
  }
  bool per_invoke_peak() const override {
    std::lock_guard lock(mu_);
    return !fixed_peak_;
  }
  bool oom_killed() const override {
    const auto text = cgroup::read_file(dir_ / "memory.events");
    return text && cgroup::keyed_value(*text, "oom_kill").value_or(0) > 0;
  }

 private:
  std::uint64_t current() const { return cgroup::read_u64(dir_ / "memory.current").value_or(0); }

  // Since Linux 6.12 a write to memory.peak resets the peak seen through that open file only,
  // so the file stays open for the group's life. Without memory.peak (ENOENT) this is tried
  // again on each reset: one failed open.
  void open_peak() {
    const int fd = ::open((dir_ / "memory.peak").c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return;
    has_peak_ = true;
    if (fd < 0) fixed_peak_ = true;  // read-only before 6.12 (EACCES): the peak since creation
    peak_fd_.reset(fd);
  }

  fs::path dir_;
  std::shared_ptr<cgroup::GroupRemover> remover_;
  mutable std::mutex mu_;
  bool has_peak_ = false;              // guarded by mu_ (as all below): memory.peak exists
  bool fixed_peak_ = false;            // memory.peak cannot be reset: it counts from creation
  UniqueFd peak_fd_;                   // memory.peak, reset through this file (Linux >= 6.12)
  mutable std::uint64_t seen_max_ = 0;  // without memory.peak
};

class CgroupV2Controller final : public ResourceController {
 public:
  CgroupV2Controller(fs::path root, bool cpu, bool fake, BlockingPool* blocking)
      : root_(std::move(root)), cpu_(cpu), fake_(fake),
        remover_(std::make_shared<cgroup::GroupRemover>(blocking, fake)) {}
  ~CgroupV2Controller() override {
    remover_->detach();
    cgroup::destroy_group_dir(root_, fake_);
  }
  CgroupV2Controller(const CgroupV2Controller&) = delete;
  CgroupV2Controller& operator=(const CgroupV2Controller&) = delete;

  std::string describe() const override { return "cgroup v2 at " + root_.string(); }
  std::vector<fs::path> remove_stale_groups() override {
    return cgroup::remove_stale_groups(root_.parent_path(), root_.filename().string(), fake_);
  }
  MemoryEnforcement mode() const override { return MemoryEnforcement::kCgroup; }

  Result<std::unique_ptr<ResourceGroup>> create_group(const std::string& name,
                                                      const EnvironmentLimits& limits) override {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      return Error{ErrorKind::kInvalidInput, std::string(error_types::kSandboxFailure),
                   "invalid cgroup name \"" + name + "\""};
    }
    if (limits.cpus && !cpu_) return problem("a CPU cap needs the cpu controller, which is not available");
    const fs::path dir = root_ / name;
    if (::mkdir(dir.c_str(), 0755) != 0) {
      if (errno != EEXIST) return sandbox_failure("mkdir " + dir.string(), errno);
      cgroup::destroy_group_dir(dir, fake_);  // a leftover of the same name
      if (::mkdir(dir.c_str(), 0755) != 0) return sandbox_failure("mkdir " + dir.string(), errno);
    }
    // From here on the group owns the directory.
    auto group = std::make_unique<CgroupV2Group>(dir, remover_);
    auto set = [&](const char* file, const std::string& value) -> Status {
      if (int err = cgroup::write_file(dir / file, value, fake_); err != 0) {
        return sandbox_failure("write " + (dir / file).string(), err);
      }
      return Ok{};
    };
    if (auto st = set("memory.max", std::to_string(limits.memory_bytes)); !st) return st.error();
    std::error_code ec;
    if (fs::exists(dir / "memory.swap.max", ec)) {
      if (auto st = set("memory.swap.max", "0"); !st) return st.error();
    }
    if (auto st = set("pids.max", std::to_string(limits.max_pids)); !st) return st.error();
    if (limits.cpus) {
      const auto quota = std::max<std::uint64_t>(
          1000, static_cast<std::uint64_t>(std::llround(*limits.cpus * kCpuPeriodUs)));
      if (auto st = set("cpu.max", std::to_string(quota) + " " + std::to_string(kCpuPeriodUs)); !st) {
        return st.error();
      }
    }
    return std::unique_ptr<ResourceGroup>(std::move(group));
  }

 private:
  fs::path root_;  // <parent>/lambdad-<pid>
  bool cpu_;
  bool fake_;
  std::shared_ptr<cgroup::GroupRemover> remover_;  // shared with the groups, which may outlive this
};

}  // namespace

Result<std::unique_ptr<ResourceController>> make_cgroup_v2_controller(const fs::path& parent,
                                                                      const std::string& tag, bool fake,
                                                                      BlockingPool* blocking) {
  const auto controllers = cgroup::read_file(parent / "cgroup.controllers");
  if (!controllers) return sandbox_failure("read " + (parent / "cgroup.controllers").string(), errno);
  for (const char* needed : {"memory", "pids"}) {
    if (!listed(*controllers, needed)) {
      return problem(std::string("the ") + needed + " controller is not available in " + parent.string());
    }
  }
  const bool cpu = listed(*controllers, "cpu");
  const std::string enable = std::string("+memory +pids") + (cpu ? " +cpu" : "");
  // Enable the controllers for the parent's children (our directory) unless they already are.
  const auto active = cgroup::read_file(parent / "cgroup.subtree_control").value_or("");
  if (!listed(active, "memory") || !listed(active, "pids") || (cpu && !listed(active, "cpu"))) {
    if (int err = cgroup::write_file(parent / "cgroup.subtree_control", enable, fake); err != 0) {
      return sandbox_failure("enable controllers in " + (parent / "cgroup.subtree_control").string(), err);
    }
  }
  const fs::path root = parent / tag;
  if (::mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) return sandbox_failure("mkdir " + root.string(), errno);
  // ... and for our children (the environments); our directory holds no process itself.
  if (int err = cgroup::write_file(root / "cgroup.subtree_control", enable, fake); err != 0) {
    cgroup::destroy_group_dir(root, fake);
    return sandbox_failure("enable controllers in " + (root / "cgroup.subtree_control").string(), err);
  }
  return std::unique_ptr<ResourceController>(std::make_unique<CgroupV2Controller>(root, cpu, fake, blocking));
}

Result<fs::path> find_cgroup_v2(const std::string& proc_mounts, const std::string& proc_self_cgroup) {
  std::optional<fs::path> mount;
  for (const auto& m : cgroup::parse_mounts(proc_mounts)) {
    if (m.fs_type == "cgroup2") {
      mount = m.mount_point;
      break;
    }
  }
  if (!mount) return problem("no cgroup v2 hierarchy mounted");
  for (const auto& c : cgroup::parse_proc_cgroup(proc_self_cgroup)) {
    if (!c.controllers.empty()) continue;
    const fs::path rel = fs::path(c.path).relative_path();
    return rel.empty() ? *mount : *mount / rel;
  }
  return *mount;
}

}  // namespace lambdad::process
