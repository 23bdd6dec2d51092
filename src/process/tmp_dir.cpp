// TmpDir: an environment's /tmp, a plain directory (mode 01777 like /tmp: the runtime may run as
// another user). It is deliberately not a tmpfs: tmpfs pages are charged to the memory cgroup of
// the process that writes them, so a 128 MB function writing 300 MB to /tmp would be OOM-killed,
// while on Lambda /tmp is disk and does not count against MemorySize (docs/decisions/005). Its
// size is measured instead (used_bytes), by allocated blocks as a filesystem counts them.
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "lambdad/common/error_types.hpp"
#include "lambdad/process/resource_limits.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;

class TmpDirImpl final : public TmpDir {
 public:
  explicit TmpDirImpl(fs::path path) : path_(std::move(path)) {}
  ~TmpDirImpl() override {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TmpDirImpl(const TmpDirImpl&) = delete;
  TmpDirImpl& operator=(const TmpDirImpl&) = delete;

  const fs::path& path() const override { return path_; }
  bool private_mount() const override { return ::geteuid() == 0; }
  std::uint64_t used_bytes() const override {
    // Allocated blocks, as a tmpfs counts them: a sparse file costs only what was written.
    std::uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path_, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
        total += static_cast<std::uint64_t>(st.st_blocks) * 512;
      }
    }
    return total;
  }

 private:
  fs::path path_;
};

Error failure(const std::string& what, int err) {
  return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
               what + ": " + std::strerror(err)};
}

}  // namespace

Result<std::unique_ptr<TmpDir>> make_tmp_dir(const fs::path& root, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return Error{ErrorKind::kInvalidInput, std::string(error_types::kSandboxFailure),
                 "invalid /tmp directory name \"" + name + "\""};
  }
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return failure("mkdir " + root.string(), ec.value());
  const fs::path path = root / name;
  if (::mkdir(path.c_str(), 0700) != 0) return failure("mkdir " + path.string(), errno);
  // Owned from here: a failure below removes it.
  auto dir = std::make_unique<TmpDirImpl>(path);
  if (::chmod(path.c_str(), 01777) != 0) return failure("chmod " + path.string(), errno);
  return std::unique_ptr<TmpDir>(std::move(dir));
}

bool on_tmpfs(const fs::path& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
}

}  // namespace lambdad::process
