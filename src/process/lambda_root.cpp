#include "lambda_root.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "errno_text.hpp"
#include "lambdad/common/error_types.hpp"

namespace lambdad::process {
namespace fs = std::filesystem;
namespace {

// Host directories every root shows (the interpreters, the libraries they load, /etc's
// certificates and resolver files). On a merged-/usr host /bin, /lib, ... are links into /usr and
// are recreated as links.
constexpr const char* kSystemDirs[] = {"usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32"};
// Shown as the host has them (devices, processes, the cgroup tree).
constexpr const char* kKernelDirs[] = {"dev", "proc", "sys"};
// Paths the root lays out itself: nothing of the host can be shown under them.
constexpr const char* kOwnPaths[] = {"/var/task", "/var/runtime", "/tmp", "/dev", "/proc", "/sys", "/"};
constexpr const char* kOldRoot = "/.host";

bool is_under(std::string_view path, std::string_view dir) {
  if (dir == "/") return path == "/";
  return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

Error plan_error(std::string message) {
  return Error{ErrorKind::kInvalidInput, std::string(error_types::kSandboxFailure), std::move(message)};
}

}  // namespace

void RootPlan::add(RootOp op, std::string a, std::string b, std::string data, unsigned long flags) {
  auto keep = [this](std::string s) -> const char* {
    if (s.empty()) return nullptr;
    strings_.push_back(std::make_unique<std::string>(std::move(s)));
    return strings_.back()->c_str();
  };
  const char* pa = keep(std::move(a));
  const char* pb = keep(std::move(b));
  const char* pd = keep(std::move(data));
  steps_.push_back(RootStep{op, pa, pb, pd, flags});
}

// A bind mount keeps the flags of the mount it copies; in a user namespace those flags are locked
// (a remount that would drop nosuid, nodev, noexec or change the atime mode is EPERM), so the
// read-only remount repeats them.
void RootPlan::read_only(const std::string& at, const std::string& host) {
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
  struct statvfs vfs {};
  if (::statvfs(host.c_str(), &vfs) == 0) {
    if ((vfs.f_flag & ST_NOSUID) != 0) flags |= MS_NOSUID;
    if ((vfs.f_flag & ST_NODEV) != 0) flags |= MS_NODEV;
    if ((vfs.f_flag & ST_NOEXEC) != 0) flags |= MS_NOEXEC;
    if ((vfs.f_flag & ST_NOATIME) != 0) flags |= MS_NOATIME;
    if ((vfs.f_flag & ST_NODIRATIME) != 0) flags |= MS_NODIRATIME;
    if ((vfs.f_flag & ST_RELATIME) != 0) flags |= MS_RELATIME;
    if ((vfs.f_flag & (ST_NOATIME | ST_RELATIME)) == 0) flags |= MS_STRICTATIME;
  }
  add(RootOp::kReadOnly, at, {}, {}, flags);
}

void RootPlan::show_host_dir(const std::string& host, const std::string& inside, bool read_only) {
  const std::string at = root_.mount_point.string() + inside;
  add(RootOp::kMkdir, at);
  add(RootOp::kBind, host, at);
  if (read_only) this->read_only(at, host);
}

Result<RootPlan> RootPlan::make(const LambdaRoot& root, const fs::path& private_tmp) {
  RootPlan plan;
  plan.root_ = root;
  plan.private_tmp_ = private_tmp.string();
  const std::string s = root.mount_point.string();
  if (s.empty() || s.front() != '/') return plan_error("the root's mount point must be an absolute path");

  if (const uid_t uid = ::geteuid(); uid != 0 || root.user_namespace) {
    const gid_t gid = ::getegid();
    plan.add(RootOp::kUserNs, std::to_string(uid) + " " + std::to_string(uid) + " 1\n",
             std::to_string(gid) + " " + std::to_string(gid) + " 1\n");
  }
  plan.add(RootOp::kUnshare, {});
  plan.add(RootOp::kPrivate, {});
  plan.add(RootOp::kTmpfs, s, {}, "mode=0755,size=1m");
  for (const char* dir : kSystemDirs) {
    const std::string host = std::string("/") + dir;
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(host, ec);
      if (!ec) plan.add(RootOp::kSymlink, target.string(), s + host);
    } else if (S_ISDIR(st.st_mode)) {
      plan.show_host_dir(host, host, true);
    }
  }
  for (const char* dir : kKernelDirs) {
    const std::string host = std::string("/") + dir;
    if (fs::is_directory(host)) plan.show_host_dir(host, host, false);
  }
  plan.add(RootOp::kMkdir, s + "/var");
  plan.show_host_dir(root.task.string(), "/var/task", true);
  if (root.runtime.empty()) {
    plan.add(RootOp::kMkdir, s + "/var/runtime");
  } else {
    plan.show_host_dir(root.runtime.string(), "/var/runtime", true);
  }
  plan.add(RootOp::kMkdir, s + "/opt");
  if (root.layers.size() == 1) {
    plan.add(RootOp::kBind, root.layers.front().string(), s + "/opt");
    plan.read_only(s + "/opt", root.layers.front().string());
  } else if (root.layers.size() > 1) {
    // Overlay lists its top layer first; the last layer of a function is on top.
    std::string options = "lowerdir=";
    for (auto it = root.layers.rbegin(); it != root.layers.rend(); ++it) {
      const std::string dir = it->string();
      if (dir.find_first_of(":,\\") != std::string::npos) {
        return plan_error("layer path " + dir + " holds ':', ',' or '\\', which an overlay mount cannot name");
      }
      if (it != root.layers.rbegin()) options += ':';
      options += dir;
    }
    if (options.size() > 4000) return plan_error("the layer paths are too long for an overlay mount");
    plan.add(RootOp::kOverlay, s + "/opt", {}, std::move(options));
  }
  if (plan.private_tmp_.empty()) {
    plan.add(RootOp::kMkdir, s + "/tmp");
    plan.add(RootOp::kTmpfs, s + "/tmp", {}, "mode=1777");
  } else {
    plan.show_host_dir(plan.private_tmp_, "/tmp", false);
  }
  std::vector<std::pair<fs::path, bool>> shown;  // (host path, read-only)
  for (const auto& p : root.host_paths) shown.emplace_back(p, true);
  for (const auto& p : root.shared) shown.emplace_back(p, false);
  for (const auto& [p, read_only] : shown) {
    const std::string path = p.lexically_normal().string();
    if (path.empty() || path.front() != '/') return plan_error(path + " cannot be shown in the function's root: not an absolute path");
    for (const char* own : kOwnPaths) {
      if (is_under(path, own)) return plan_error(path + " cannot be shown in the function's root: " + own + " is the root's own");
    }
    if (is_under(path, "/opt") && !root.layers.empty()) {
      return plan_error(path + " cannot be shown in the function's root: its layers are at /opt");
    }
    bool system = false;
    for (const char* dir : kSystemDirs) system = system || is_under(path, std::string("/") + dir);
    if (system && read_only) continue;
    if (system) return plan_error(path + " cannot be shared with the function: the root shows the host's " + path.substr(0, path.find('/', 1)) + " read-only");
    std::string made;
    for (const auto& part : fs::path(path).parent_path().relative_path()) {
      made += "/" + part.string();
      if (made != "/var" && made != "/opt") plan.add(RootOp::kMkdir, s + made);
    }
    plan.show_host_dir(path, path, read_only);
  }
  // The environment's own /etc/hosts: the host's, and sandbox.localdomain at the environment's
  // address (docs/decisions/025). Written in the root's tmpfs, bound over the host's file, and
  // unlinked from where it was written (the bind keeps it).
  if (!root.hosts.empty() && fs::is_regular_file("/etc/hosts")) {
    const std::string written = s + "/.hosts";
    plan.add(RootOp::kFile, written, {}, root.hosts);
    plan.add(RootOp::kBind, written, s + "/etc/hosts");
    plan.add(RootOp::kReadOnly, s + "/etc/hosts", {}, {}, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV);
    plan.add(RootOp::kUnlink, written);
  }
  plan.add(RootOp::kMkdir, s + kOldRoot);
  plan.add(RootOp::kPivot, s, s + kOldRoot);
  plan.add(RootOp::kDetach, kOldRoot);
  plan.add(RootOp::kRootReadOnly, {});
  return plan;
}

std::string RootPlan::host_path(std::string_view inside) const {
  auto rest_of = [&](std::string_view dir) { return std::string(inside.substr(dir.size())); };
  if (is_under(inside, "/var/task")) return root_.task.string() + rest_of("/var/task");
  if (is_under(inside, "/var/runtime")) return root_.runtime.empty() ? std::string() : root_.runtime.string() + rest_of("/var/runtime");
  if (is_under(inside, "/tmp")) return private_tmp_.empty() ? std::string() : private_tmp_ + rest_of("/tmp");
  if (is_under(inside, "/opt") && !root_.layers.empty()) {
    const std::string rest = rest_of("/opt");
    for (auto it = root_.layers.rbegin(); it != root_.layers.rend(); ++it) {
      std::error_code ec;
      if (fs::exists(it->string() + rest, ec)) return it->string() + rest;
    }
    return root_.layers.back().string() + rest;
  }
  return std::string(inside);
}

std::string RootPlan::describe_failure(std::size_t step, int err) const {
  if (step >= steps_.size()) return "lay out the function's root: " + errno_text(err);
  const RootStep& st = steps_[step];
  const std::string s = root_.mount_point.string();
  auto inside = [&](const char* p) {
    std::string_view v = p != nullptr ? p : "";
    return v.starts_with(s) ? std::string(v.substr(s.size())) : std::string(v);
  };
  std::string what;
  switch (st.op) {
    case RootOp::kUserNs: what = "make a user namespace"; break;
    case RootOp::kUnshare: what = "unshare mount namespace"; break;
    case RootOp::kPrivate: what = "make mounts private"; break;
    case RootOp::kTmpfs: what = "mount tmpfs on " + std::string(st.a); break;
    case RootOp::kMkdir: what = "mkdir " + inside(st.a); break;
    case RootOp::kSymlink: what = "symlink " + inside(st.b); break;
    case RootOp::kBind: what = "bind " + std::string(st.a) + " on " + inside(st.b); break;
    case RootOp::kReadOnly: what = "make " + inside(st.a) + " read-only"; break;
    case RootOp::kOverlay: what = "mount the layers' overlay on /opt"; break;
    case RootOp::kPivot: what = "pivot_root"; break;
    case RootOp::kDetach: what = "detach the host's root"; break;
    case RootOp::kRootReadOnly: what = "make / read-only"; break;
    case RootOp::kFile: what = "write " + inside(st.a); break;
    case RootOp::kUnlink: what = "remove " + inside(st.a); break;
  }
  return what + ": " + errno_text(err);
}

namespace {

// Writes all of `text` to `file` (one write: /proc/self/*_map take a map in a single write).
bool write_file(const char* file, const char* text) noexcept {
  const int fd = ::open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::size_t len = std::strlen(text);
  const ssize_t n = ::write(fd, text, len);
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(len)) {
    errno = n < 0 ? err : EIO;
    return false;
  }
  return true;
}

int enter_user_namespace(const char* uid_map, const char* gid_map) noexcept {
  if (::unshare(CLONE_NEWUSER) != 0) return -1;
  // gid_map may be written by an unprivileged process only once setgroups is denied.
  if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", uid_map) ||
      !write_file("/proc/self/gid_map", gid_map)) {
    return -1;
  }
  return 0;
}

// A new file holding `data` (a C string), with system calls only.
int write_new_file(const char* path, const char* data) noexcept {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  std::size_t left = data != nullptr ? std::strlen(data) : 0;
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      return -1;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  return ::close(fd);
}

}  // namespace

bool lay_out_root(const RootStep* steps, std::size_t count, std::size_t& failed) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    const RootStep& st = steps[i];
    int rc = 0;
    switch (st.op) {
      case RootOp::kUserNs: rc = enter_user_namespace(st.a, st.b); break;
      case RootOp::kUnshare: rc = ::unshare(CLONE_NEWNS); break;
      case RootOp::kPrivate: rc = ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr); break;
      case RootOp::kTmpfs: rc = ::mount("tmpfs", st.a, "tmpfs", MS_NOSUID | MS_NODEV, st.data); break;
      case RootOp::kMkdir:
        rc = ::mkdir(st.a, 0755);
        if (rc != 0 && errno == EEXIST) rc = 0;
        break;
      case RootOp::kSymlink: rc = ::symlink(st.a, st.b); break;
      case RootOp::kBind: rc = ::mount(st.a, st.b, nullptr, MS_BIND | MS_REC, nullptr); break;
      case RootOp::kReadOnly: rc = ::mount(nullptr, st.a, nullptr, st.flags, nullptr); break;
      case RootOp::kOverlay: rc = ::mount("overlay", st.a, "overlay", MS_RDONLY, st.data); break;
      case RootOp::kPivot:
        rc = static_cast<int>(::syscall(SYS_pivot_root, st.a, st.b));
        if (rc == 0) rc = ::chdir("/");
        break;
      case RootOp::kDetach:
        rc = ::umount2(st.a, MNT_DETACH);
        if (rc == 0) rc = ::rmdir(st.a);
        break;
      case RootOp::kRootReadOnly:
        rc = ::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr);
        break;
      case RootOp::kFile: rc = write_new_file(st.a, st.data); break;
      case RootOp::kUnlink: rc = ::unlink(st.a); break;
    }
    if (rc != 0) {
      failed = i;
      return false;
    }
  }
  return true;
}

}  // namespace lambdad::process
