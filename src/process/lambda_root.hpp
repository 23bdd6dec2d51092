// process (internal): the Lambda-shaped root of docs/decisions/014. The parent turns a LambdaRoot
// into a list of steps with every path built before fork; the child runs the list with system
// calls only (no allocation), then pivots into the root.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"
#include "lambdad/process/child_process.hpp"

namespace lambdad::process {

enum class RootOp : int {
  kUserNs,      // not root: a user namespace mapping only our uid and gid (a = uid_map, b = gid_map)
  kUnshare,     // a mount namespace of our own
  kPrivate,     // every mount private, so nothing propagates back to the host
  kTmpfs,       // a = mount point, data = options
  kMkdir,       // a
  kSymlink,     // a = target, b = link
  kBind,        // a on b (recursive)
  kReadOnly,    // a, remounted read-only keeping its other flags (a user namespace may not drop them)
  kOverlay,     // on a, data = options (read-only)
  kPivot,       // a = new root, b = where the old one goes
  kDetach,      // a = the old root inside the new one: unmounted and removed
  kRootReadOnly,
  kFile,        // a = path, data = its content (a new file, mode 0644)
  kUnlink,      // a
};

// What the child reads: pointers into the plan's strings.
struct RootStep {
  RootOp op;
  const char* a;
  const char* b;
  const char* data;
  unsigned long flags;  // kReadOnly: the mount flags to remount with
};

class RootPlan {
 public:
  // Without root (geteuid() != 0), or with root.user_namespace, the plan starts in a user
  // namespace of its own, where only the daemon's uid and gid are mapped, to themselves: the
  // function runs as the daemon's user and keeps no capability past execve.
  // Errors (kInvalidInput, Sandbox.Failure): a host path the root cannot show where it lives
  // (under /opt with layers, under /var/task, ...), layer paths an overlay cannot name.
  static Result<RootPlan> make(const LambdaRoot& root, const std::filesystem::path& private_tmp);

  RootPlan() = default;
  RootPlan(RootPlan&&) = default;
  RootPlan& operator=(RootPlan&&) = default;
  RootPlan(const RootPlan&) = delete;
  RootPlan& operator=(const RootPlan&) = delete;

  const RootStep* steps() const { return steps_.data(); }
  std::size_t size() const { return steps_.size(); }
  // The host file behind `inside` (an absolute path in the root), for the checks made before
  // fork; `inside` itself for paths the root shows at the same place.
  std::string host_path(std::string_view inside) const;
  // "bind /srv/app on /var/task: no such file or directory"
  std::string describe_failure(std::size_t step, int err) const;

 private:
  void add(RootOp op, std::string a, std::string b = {}, std::string data = {}, unsigned long flags = 0);
  void read_only(const std::string& at, const std::string& host);
  void show_host_dir(const std::string& host, const std::string& inside, bool read_only);

  LambdaRoot root_;
  std::string private_tmp_;
  // Strings are kept in a list of their own so the pointers of earlier steps stay valid.
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<RootStep> steps_;
};

// Child side, async-signal-safe: runs the steps in order. False at the first failure, with its
// index in `failed` and errno set.
bool lay_out_root(const RootStep* steps, std::size_t count, std::size_t& failed) noexcept;

}  // namespace lambdad::process
