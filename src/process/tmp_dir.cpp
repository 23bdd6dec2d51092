// TmpDir: an environment's /tmp. As root, a tmpfs of the EphemeralStorage size (the kernel
// enforces the size: writes fail with ENOSPC, as on Lambda); otherwise a plain directory whose
// use is measured on demand. Mode 01777 like /tmp: the runtime may run as another user.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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
  TmpDirImpl(fs::path path, bool mounted) : path_(std::move(path)), mounted_(mounted) {}
  ~TmpDirImpl() override {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TmpDirImpl(const TmpDirImpl&) = delete;
  TmpDirImpl& operator=(const TmpDirImpl&) = delete;

  void mark_mounted() { mounted_ = true; }
  const fs::path& path() const override { return path_; }
  bool private_mount() const override { return mounted_; }
  std::uint64_t used_bytes() const override {
    if (mounted_) {
      struct statvfs st {};
      if (::statvfs(path_.c_str(), &st) != 0) return 0;
      return static_cast<std::uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;
    }
    std::uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path_, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code sec;
      if (it->is_regular_file(sec)) total += it->file_size(sec);
    }
    return total;
  }

 private:
  fs::path path_;
  bool mounted_;
};

Error failure(const std::string& what, int err) {
  return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
               what + ": " + std::strerror(err)};
}

}  // namespace

Result<std::unique_ptr<TmpDir>> make_tmp_dir(const fs::path& root, const std::string& name,
                                             std::uint64_t size_bytes) {
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
  auto dir = std::make_unique<TmpDirImpl>(path, false);
  if (::chmod(path.c_str(), 01777) != 0) return failure("chmod " + path.string(), errno);
  if (::geteuid() == 0) {
    const std::string options = "size=" + std::to_string(size_bytes) + ",mode=1777";
    if (::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0) {
      dir->mark_mounted();
    }
    // Otherwise (no CAP_SYS_ADMIN in a container): a plain directory, like a non-root daemon.
  }
  return std::unique_ptr<TmpDir>(std::move(dir));
}

}  // namespace lambdad::process
