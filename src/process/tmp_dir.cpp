// TmpDir: an environment's /tmp, a plain directory (mode 01777 like /tmp: the runtime may run as
// another user). It is deliberately not a tmpfs: tmpfs pages are charged to the memory cgroup of
// the process that writes them, so a 128 MB function writing 300 MB to /tmp would be OOM-killed,
// while on Lambda /tmp is disk and does not count against MemorySize (docs/decisions/005). Its
// size is measured instead (used_bytes), by allocated blocks as a filesystem counts them.
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/error_types.hpp"
#include "errno_text.hpp"
#include "lambdad/process/resource_limits.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;

class TmpDirImpl final : public TmpDir {
 public:
  TmpDirImpl(fs::path path, std::shared_ptr<PoolLink> removal) : path_(std::move(path)), removal_(std::move(removal)) {}
  ~TmpDirImpl() override {
    auto remove = [path = std::move(path_)] {
      std::error_code ec;
      fs::remove_all(path, ec);
    };
    if (removal_) {
      removal_->run(std::move(remove));
    } else {
      remove();
    }
  }
  TmpDirImpl(const TmpDirImpl&) = delete;
  TmpDirImpl& operator=(const TmpDirImpl&) = delete;

  const fs::path& path() const override { return path_; }
  bool private_mount() const override { return ::geteuid() == 0; }
  std::uint64_t used_bytes() const override { return allocated_bytes(path_); }

 private:
  fs::path path_;
  std::shared_ptr<PoolLink> removal_;
};

}  // namespace

std::uint64_t allocated_bytes(const fs::path& dir) {
  // Allocated blocks, as a tmpfs counts them: a sparse file costs only what was written.
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
  }
  return total;
}

Result<std::unique_ptr<TmpDir>> make_tmp_dir(const fs::path& root, const std::string& name,
                                             std::shared_ptr<PoolLink> removal) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return Error{ErrorKind::kInvalidInput, std::string(error_types::kSandboxFailure),
                 "invalid /tmp directory name \"" + name + "\""};
  }
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return sandbox_failure("mkdir " + root.string(), ec.value());
  const fs::path path = root / name;
  if (::mkdir(path.c_str(), 0700) != 0) return sandbox_failure("mkdir " + path.string(), errno);
  // Owned from here: a failure below removes it.
  auto dir = std::make_unique<TmpDirImpl>(path, std::move(removal));
  if (::chmod(path.c_str(), 01777) != 0) return sandbox_failure("chmod " + path.string(), errno);
  return std::unique_ptr<TmpDir>(std::move(dir));
}

std::optional<pid_t> daemon_pid(std::string_view name) {
  constexpr std::string_view kPrefix = "lambdad-";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  if (name.empty() || name.size() > 10 || name.front() == '0') return std::nullopt;
  long long v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > std::numeric_limits<pid_t>::max()) return std::nullopt;
  return static_cast<pid_t>(v);
}

bool pid_running(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

std::vector<fs::path> remove_stale_tmp_roots(const fs::path& base) {
  std::vector<fs::path> removed;
  std::error_code ec;
  for (auto it = fs::directory_iterator(base, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const auto pid = daemon_pid(it->path().filename().string());
    if (!pid || *pid == ::getpid()) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) continue;
    if (pid_running(*pid)) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (!rm) removed.push_back(it->path());
  }
  return removed;
}

bool on_tmpfs(const fs::path& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
}

}  // namespace lambdad::process
