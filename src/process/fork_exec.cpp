// fork_exec(): everything that can be checked is checked before fork, and everything the child
// needs (argv, envp, paths, descriptors) is built before fork too, so the child only makes
// async-signal-safe system calls: no allocation, no locks, no logging.
#include "fork_exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/error_types.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace lambdad::process {
namespace {

constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

// What the child writes to the error pipe when a step before (or the) execve fails.
// kOptFallback is a note, not a failure: the layers could not be mounted on /opt and the child
// goes on with the fallback environment.
enum class ChildStep : int { kSetup = 1, kChdir = 2, kExec = 3, kJoin = 4, kRlimit = 5, kOptFallback = 6 };
// Which call failed, for kOptFallback's index.
enum class OptStep : int { kUnshare = 0, kPrivate = 1, kBind = 2, kOverlay = 3 };
struct ChildFailure {
  ChildStep step;
  int error;
  int index;  // kJoin: which join file
};

// Everything the child reads, prepared by the parent.
struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // nullptr: keep the daemon's
  int stdin_fd;
  int output_fd;
  int error_fd;
  pid_t parent;
  const char* const* join_files;  // join_count entries
  std::size_t join_count;
  bool set_nofile;
  rlim_t nofile;
  bool set_nproc;
  rlim_t nproc;
  const char* private_tmp;  // nullptr: keep the host's /tmp
  const char* opt_source;   // one layer: bind-mounted on /opt; nullptr: none, or an overlay
  const char* opt_overlay;  // several layers: the overlay's mount options; nullptr: none
  char* const* fallback_envp;  // when the layers cannot be mounted on /opt
};

// errno text as Go prints it ("no such file or directory"), which is what Lambda shows.
std::string errno_text(int err) {
  const char* desc = ::strerrordesc_np(err);
  if (desc == nullptr) return "errno " + std::to_string(err);
  std::string s(desc);
  // Go lower-cases the first letter unless it starts an acronym ("I/O error" stays).
  if (s.size() >= 2 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z')) {
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  }
  return s;
}

Error entrypoint_error(const std::string& path, int err) {
  return Error{ErrorKind::kInvalidInput, std::string(error_types::kRuntimeInvalidEntrypoint),
               "fork/exec " + path + ": " + errno_text(err)};
}

Error working_dir_error(const std::string& dir, int err) {
  return Error{ErrorKind::kInvalidInput, std::string(error_types::kRuntimeInvalidWorkingDir),
               "chdir " + dir + ": " + errno_text(err)};
}

Error internal_error(std::string_view what, int err) {
  return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
               std::string(what) + ": " + errno_text(err)};
}

// 0 when `path` is something execve would accept, else the errno it would fail with.
int check_executable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EACCES;
  if (::access(path.c_str(), X_OK) != 0) return errno;
  return 0;
}

// `p` as the child will see it after chdir(cwd).
std::string relative_to(const std::string& cwd, std::string_view p) {
  if (p.starts_with('/') || cwd.empty()) return std::string(p);
  std::string out = cwd;
  if (!out.ends_with('/')) out += '/';
  out += p;
  return out;
}

std::string_view path_variable(const std::vector<std::string>& environment) {
  for (const auto& kv : environment) {
    if (std::string_view(kv).starts_with("PATH=")) return std::string_view(kv).substr(5);
  }
  const char* daemon_path = std::getenv("PATH");
  return daemon_path != nullptr ? std::string_view(daemon_path) : kDefaultPath;
}

// Like execvp's search, but against the child's PATH and done before fork. A name containing
// '/' is taken as a path (relative ones against the working directory).
Result<std::string> resolve_executable(const SpawnSpec& spec, const std::string& cwd) {
  const std::string& exe = spec.executable;
  if (exe.empty()) return entrypoint_error(exe, ENOENT);
  if (exe.find('/') != std::string::npos) {
    std::string path = relative_to(cwd, exe);
    if (int err = check_executable(path); err != 0) return entrypoint_error(path, err);
    return path;
  }
  const std::string_view search = path_variable(spec.environment);
  bool denied = false;
  std::size_t start = 0;
  while (start <= search.size()) {
    std::size_t colon = search.find(':', start);
    if (colon == std::string_view::npos) colon = search.size();
    std::string_view dir = search.substr(start, colon - start);
    start = colon + 1;
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate += '/';
    candidate += exe;
    candidate = relative_to(cwd, candidate);
    const int err = check_executable(candidate);
    if (err == 0) return candidate;
    denied = denied || err == EACCES;
  }
  return Error{
      ErrorKind::kInvalidInput, std::string(error_types::kRuntimeInvalidEntrypoint),
      "exec: \"" + exe + "\": " +
          (denied ? errno_text(EACCES) : std::string("executable file not found in $PATH"))};
}

Status check_working_dir(const std::string& cwd) {
  if (cwd.empty()) return Ok{};
  struct stat st {};
  if (::stat(cwd.c_str(), &st) != 0) return working_dir_error(cwd, errno);
  if (!S_ISDIR(st.st_mode)) return working_dir_error(cwd, ENOTDIR);
  if (::access(cwd.c_str(), X_OK) != 0) return working_dir_error(cwd, errno);
  return Ok{};
}

// The child uses its descriptors as dup2 sources, so none may sit on 0, 1 or 2 (possible when
// the daemon runs with a standard stream closed).
bool move_above_stdio(UniqueFd& fd) {
  if (fd.get() > STDERR_FILENO) return true;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (moved < 0) return false;
  fd.reset(moved);
  return true;
}

// --- child side: async-signal-safe calls only ---------------------------------------------

[[noreturn]] void child_fail(const ChildPlan& plan, ChildStep step, int err,
                             int index = 0) noexcept {
  const ChildFailure failure{step, err, index};
  // Best effort: if this write fails the parent still sees the pipe close and a dead child.
  [[maybe_unused]] const ssize_t n = ::write(plan.error_fd, &failure, sizeof failure);
  ::_exit(127);
}

// Closes (at exec) every descriptor from 3 up, except that the error pipe must stay open until
// execve itself closes it.
void close_inherited_fds(int keep) noexcept {
#ifdef SYS_close_range
  // Linux >= 5.11: mark everything close-on-exec in one call; the error pipe already is.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Linux 5.9/5.10: close around `keep`.
  const auto k = static_cast<unsigned>(keep);
  if ((k == 3U || ::syscall(SYS_close_range, 3U, k - 1U, 0U) == 0) &&
      ::syscall(SYS_close_range, k + 1U, ~0U, 0U) == 0) {
    return;
  }
#endif
  // Older kernels: one close per possible descriptor (no fd can be >= RLIMIT_NOFILE).
  constexpr int kMaxFds = 1 << 20;
  struct rlimit rl {};
  int max_fd = kMaxFds;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < static_cast<rlim_t>(kMaxFds)) {
    max_fd = static_cast<int>(rl.rlim_cur);
  }
  for (int fd = 3; fd < max_fd; ++fd) {
    if (fd != keep) ::close(fd);
  }
}

// Writes our pid (decimal) into `file`, e.g. a cgroup.procs. False with errno set on failure.
bool join_file(const char* file) noexcept {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  auto v = static_cast<unsigned long>(::getpid());
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  const int fd = ::open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = ::write(fd, p, static_cast<std::size_t>(end - p));
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (n != end - p) {
    errno = n < 0 ? err : EIO;
    return false;
  }
  return true;
}

// A mount namespace of our own, its mounts private: without that, a shared / would propagate
// what the child mounts back to the host.
bool enter_mount_namespace(OptStep& failed) noexcept {
  if (::unshare(CLONE_NEWNS) != 0) {
    failed = OptStep::kUnshare;
    return false;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    failed = OptStep::kPrivate;
    return false;
  }
  return true;
}

// The layers on /opt, read-only. False with errno set (and `failed`) when the mount fails.
bool mount_opt(const ChildPlan& plan, OptStep& failed) noexcept {
  if (plan.opt_source != nullptr) {
    if (::mount(plan.opt_source, "/opt", nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      failed = OptStep::kBind;
      return false;
    }
    // Best effort, as Lambda's /opt is read-only; a writable bind still shows the right files.
    ::mount(nullptr, "/opt", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr);
    return true;
  }
  if (::mount("overlay", "/opt", "overlay", MS_RDONLY, plan.opt_overlay) != 0) {
    failed = OptStep::kOverlay;
    return false;
  }
  return true;
}

// Private /tmp and layers on /opt, in one mount namespace. /tmp is best effort (the child's
// TMPDIR still points at the directory); the layers fall back to their environment. Returns
// the environment to exec with.
char* const* set_up_mounts(const ChildPlan& plan) noexcept {
  const bool want_opt = plan.opt_source != nullptr || plan.opt_overlay != nullptr;
  if (plan.private_tmp == nullptr && !want_opt) return plan.envp;
  OptStep failed = OptStep::kUnshare;
  bool ok = enter_mount_namespace(failed);
  if (ok && plan.private_tmp != nullptr) ::mount(plan.private_tmp, "/tmp", nullptr, MS_BIND, nullptr);
  if (!want_opt) return plan.envp;
  if (ok) ok = mount_opt(plan, failed);
  if (ok) return plan.envp;
  const ChildFailure note{ChildStep::kOptFallback, errno, static_cast<int>(failed)};
  [[maybe_unused]] const ssize_t n = ::write(plan.error_fd, &note, sizeof note);
  return plan.fallback_envp;
}

[[noreturn]] void run_child(const ChildPlan& plan) noexcept {
  // Own process group, so the whole environment (background processes too) can be signalled.
  if (::setpgid(0, 0) != 0) child_fail(plan, ChildStep::kSetup, errno);
  // Die with the daemon. If it already died before prctl took effect, we were re-parented.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(plan, ChildStep::kSetup, errno);
  if (::getppid() != plan.parent) ::_exit(127);

  // The daemon blocks or handles SIGINT/SIGTERM/SIGCHLD and ignores SIGPIPE; ignored
  // dispositions and the mask survive execve, so reset both. (Signals are all blocked since
  // before fork, so no handler of the daemon can run here.)
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP)
      ::sigaction(sig, &dfl, nullptr);  // EINVAL for glibc-internal ones: fine
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (::dup2(plan.stdin_fd, STDIN_FILENO) < 0 || ::dup2(plan.output_fd, STDOUT_FILENO) < 0 ||
      ::dup2(plan.output_fd, STDERR_FILENO) < 0) {
    child_fail(plan, ChildStep::kSetup, errno);
  }
  close_inherited_fds(plan.error_fd);
  for (std::size_t i = 0; i < plan.join_count; ++i) {
    if (!join_file(plan.join_files[i])) child_fail(plan, ChildStep::kJoin, errno, static_cast<int>(i));
  }
  if (plan.set_nofile) {
    const struct rlimit rl{plan.nofile, plan.nofile};
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) child_fail(plan, ChildStep::kRlimit, errno);
  }
  if (plan.set_nproc) {
    const struct rlimit rl{plan.nproc, plan.nproc};
    if (::setrlimit(RLIMIT_NPROC, &rl) != 0) child_fail(plan, ChildStep::kRlimit, errno);
  }
  if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) child_fail(plan, ChildStep::kChdir, errno);
  char* const* envp = set_up_mounts(plan);
  ::execve(plan.path, plan.argv, envp);
  child_fail(plan, ChildStep::kExec, errno);
}

bool under_opt(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return false;
  const std::string_view p(real);
  const bool under = p == "/opt" || p.starts_with("/opt/");
  std::free(real);
  return under;
}

// How the layers get on /opt: an empty reason and the mount's source or options, or the reason
// they cannot (then the child gets the fallback environment).
struct OptPlan {
  std::string source;   // one layer
  std::string overlay;  // several layers: "lowerdir=LAST:...:FIRST"
  std::string fallback;
};

OptPlan plan_opt(const SpawnSpec& spec, const std::string& cwd, const std::string& executable) {
  OptPlan plan;
  if (spec.opt_layers.empty()) return plan;
  if (::geteuid() != 0) {
    plan.fallback = "not root (no mount namespace)";
    return plan;
  }
  // Covering /opt would hide whatever the child needs from there.
  bool hidden = under_opt(executable) || (!cwd.empty() && under_opt(cwd));
  for (const auto& a : spec.args) hidden = hidden || (a.starts_with('/') && under_opt(a));
  if (hidden) {
    plan.fallback = "the runtime or the code lives under the host's /opt";
    return plan;
  }
  if (spec.opt_layers.size() == 1) {
    plan.source = spec.opt_layers.front().string();
    return plan;
  }
  // Overlay lists its top layer first; the last layer of a function is on top.
  plan.overlay = "lowerdir=";
  for (auto it = spec.opt_layers.rbegin(); it != spec.opt_layers.rend(); ++it) {
    const std::string dir = it->string();
    if (dir.find_first_of(":,\\") != std::string::npos) {
      plan.fallback = "layer path " + dir + " holds ':', ',' or '\\', which an overlay mount cannot name";
      return plan;
    }
    if (it != spec.opt_layers.rbegin()) plan.overlay += ':';
    plan.overlay += dir;
  }
  // Mount options are one page at most.
  constexpr std::size_t kMaxOptions = 4000;
  if (plan.overlay.size() > kMaxOptions) plan.fallback = "the layer paths are too long for an overlay mount";
  return plan;
}

std::string opt_failure_text(int step, int err) {
  switch (static_cast<OptStep>(step)) {
    case OptStep::kUnshare:
      return "unshare mount namespace: " + errno_text(err);
    case OptStep::kPrivate:
      return "make mounts private: " + errno_text(err);
    case OptStep::kBind:
      return "bind layer on /opt: " + errno_text(err);
    case OptStep::kOverlay:
      return "mount overlay on /opt: " + errno_text(err);
  }
  return "mount /opt: " + errno_text(err);
}

void reap_blocking(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<ForkedChild> fork_exec(const SpawnSpec& spec) {
  const std::string cwd = spec.working_directory.string();
  if (auto st = check_working_dir(cwd); !st) return st.error();
  auto resolved = resolve_executable(spec, cwd);
  if (!resolved) return resolved.error();
  const std::string& path = resolved.value();

  // argv/envp point into spec's strings, which outlive the fork.
  std::vector<char*> argv;
  argv.reserve(spec.args.size() + 2);
  argv.push_back(const_cast<char*>(spec.executable.c_str()));
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(spec.environment.size() + 1);
  for (const auto& e : spec.environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return internal_error("pipe", errno);
  UniqueFd output_read(fds[0]);
  UniqueFd output_write(fds[1]);
  if (::pipe2(fds, O_CLOEXEC) != 0) return internal_error("pipe", errno);
  UniqueFd error_read(fds[0]);
  UniqueFd error_write(fds[1]);
  UniqueFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null.valid()) return internal_error("open /dev/null", errno);
  if (!move_above_stdio(output_write) || !move_above_stdio(error_write) ||
      !move_above_stdio(dev_null)) {
    return internal_error("fcntl", errno);
  }
  const int fl = ::fcntl(output_read.get(), F_GETFL);
  if (fl < 0 || ::fcntl(output_read.get(), F_SETFL, fl | O_NONBLOCK) != 0) {
    return internal_error("fcntl", errno);
  }

  std::vector<const char*> join;
  join.reserve(spec.join_files.size());
  for (const auto& f : spec.join_files) join.push_back(f.c_str());
  const std::string private_tmp = spec.private_tmp.string();
  const bool cover_tmp = !private_tmp.empty() && ::geteuid() == 0;
  OptPlan opt = plan_opt(spec, cwd, path);
  std::vector<char*> fallback_envp;
  if (!spec.opt_layers.empty()) {
    fallback_envp.reserve(spec.environment_without_opt.size() + 1);
    for (const auto& e : spec.environment_without_opt) fallback_envp.push_back(const_cast<char*>(e.c_str()));
    fallback_envp.push_back(nullptr);
  }
  const bool mount_layers = !spec.opt_layers.empty() && opt.fallback.empty();
  // Layers that cannot go on /opt: the fallback environment from the start.
  char* const* const exec_envp = !spec.opt_layers.empty() && !mount_layers ? fallback_envp.data() : envp.data();

  const ChildPlan plan{path.c_str(),
                       argv.data(),
                       exec_envp,
                       cwd.empty() ? nullptr : cwd.c_str(),
                       dev_null.get(),
                       output_write.get(),
                       error_write.get(),
                       ::getpid(),
                       join.data(),
                       join.size(),
                       spec.rlimit_nofile.has_value(),
                       static_cast<rlim_t>(spec.rlimit_nofile.value_or(0)),
                       spec.rlimit_nproc.has_value(),
                       static_cast<rlim_t>(spec.rlimit_nproc.value_or(0)),
                       cover_tmp ? private_tmp.c_str() : nullptr,
                       mount_layers && !opt.source.empty() ? opt.source.c_str() : nullptr,
                       mount_layers && !opt.overlay.empty() ? opt.overlay.c_str() : nullptr,
                       mount_layers ? fallback_envp.data() : nullptr};

  // Block every signal across fork so no daemon handler runs in the child before it resets
  // the dispositions.
  sigset_t all;
  sigset_t saved;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  const pid_t pid = ::fork();
  if (pid == 0) run_child(plan);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0) return internal_error("fork", fork_errno);

  // The child does this too; doing it here as well means kill(-pid) works as soon as we
  // return. EACCES once the child has exec'd is fine: it set its group before exec.
  ::setpgid(pid, pid);

  output_write.reset();
  error_write.reset();
  dev_null.reset();

  // Blocks only until the child execs (the pipe closes) or reports a failure. A note that the
  // layers fell back may come first.
  ChildFailure failure{};
  ssize_t n;
  while (true) {
    do {
      n = ::read(error_read.get(), &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof failure) || failure.step != ChildStep::kOptFallback) break;
    opt.fallback = opt_failure_text(failure.index, failure.error);
  }
  if (n == 0) return ForkedChild{pid, std::move(output_read), std::move(opt.fallback)};

  const int read_errno = errno;
  if (n < 0) ::kill(pid, SIGKILL);  // cannot tell whether it exec'd: do not leave it running
  reap_blocking(pid);               // otherwise it has _exit'ed (or is about to)
  if (n != static_cast<ssize_t>(sizeof failure))
    return internal_error("read exec status", read_errno);
  switch (failure.step) {
    case ChildStep::kChdir:
      return working_dir_error(cwd, failure.error);
    case ChildStep::kExec:
      if (failure.error == ENOMEM || failure.error == EAGAIN)
        return internal_error("fork/exec " + path, failure.error);
      return entrypoint_error(path, failure.error);
    case ChildStep::kJoin:
      if (failure.index >= 0 && static_cast<std::size_t>(failure.index) < spec.join_files.size()) {
        return internal_error(
            "cannot join cgroup " + spec.join_files[static_cast<std::size_t>(failure.index)],
            failure.error);
      }
      break;
    case ChildStep::kRlimit:
      return internal_error("setrlimit", failure.error);
    case ChildStep::kSetup:
    case ChildStep::kOptFallback:
      break;
  }
  return internal_error("child setup", failure.error);
}

}  // namespace lambdad::process
