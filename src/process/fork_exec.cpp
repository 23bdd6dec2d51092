// fork_exec(): everything that can be checked is checked before the child is made, and
// everything the child needs (argv, envp, paths, descriptors) is built before too, so the child
// only makes async-signal-safe system calls: no allocation, no locks, no logging. (It is made
// with vfork: it shares the daemon's memory until it execs, so that is a must, not a courtesy.)
#include "fork_exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/error_types.hpp"
#include "errno_text.hpp"
#include "hold/child_failure.h"
#include "lambda_root.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace lambdad::process {
namespace {

constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

// What the child writes to the error pipe when a step before (or the) execve fails: the layout
// of hold/child_failure.h, which the holder writes too.
enum class ChildStep : int {
  kSetup = LAMBDAD_STEP_SETUP,
  kChdir = LAMBDAD_STEP_CHDIR,
  kExec = LAMBDAD_STEP_EXEC,
  kJoin = LAMBDAD_STEP_JOIN,
  kRlimit = LAMBDAD_STEP_RLIMIT,
  kRoot = LAMBDAD_STEP_ROOT
};
struct ChildFailure {
  ChildStep step;
  int error;
  int index;  // kJoin: which join file; kRoot: which step of the root's plan
};
static_assert(sizeof(ChildFailure) == sizeof(lambdad_child_failure));

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
  const char* private_tmp;  // without a root: bind-mounted on the host's /tmp; nullptr: keep it
  const RootStep* root_steps;  // the Lambda-shaped root (docs/decisions/014); root_count 0: none
  std::size_t root_count;
  // Held (SpawnSpec::hold): the holder to exec once set up, its argv, and the go socket's read end.
  int holder_fd = -1;
  char* const* holder_argv = nullptr;
  int go_fd = -1;
  pid_t process_group = 0;  // SpawnSpec::process_group; 0: a group of its own
};

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

// Paths as the child sees them, checked where they are on the host.
struct HostView {
  const RootPlan* root = nullptr;  // nullptr: the child sees the host's paths
  std::string operator()(const std::string& inside) const { return root != nullptr ? root->host_path(inside) : inside; }
};

// Like execvp's search, but against the child's PATH and done before fork. A name containing
// '/' is taken as a path (relative ones against the working directory).
Result<std::string> resolve_executable(const SpawnSpec& spec, const std::string& cwd, const HostView& host) {
  const std::string& exe = spec.executable;
  if (exe.empty()) return entrypoint_error(exe, ENOENT);
  if (exe.find('/') != std::string::npos) {
    std::string path = relative_to(cwd, exe);
    if (int err = check_executable(host(path)); err != 0) return entrypoint_error(path, err);
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
    const int err = check_executable(host(candidate));
    if (err == 0) return candidate;
    denied = denied || err == EACCES;
  }
  return Error{
      ErrorKind::kInvalidInput, std::string(error_types::kRuntimeInvalidEntrypoint),
      "exec: \"" + exe + "\": " +
          (denied ? errno_text(EACCES) : std::string("executable file not found in $PATH"))};
}

Status check_working_dir(const std::string& cwd, const HostView& host) {
  if (cwd.empty()) return Ok{};
  const std::string on_host = host(cwd);
  struct stat st {};
  if (::stat(on_host.c_str(), &st) != 0) return working_dir_error(cwd, errno);
  if (!S_ISDIR(st.st_mode)) return working_dir_error(cwd, ENOTDIR);
  if (::access(on_host.c_str(), X_OK) != 0) return working_dir_error(cwd, errno);
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
// execve itself closes it, and a held child's holder and go socket (`keep2`, `keep3`; -1: none)
// until it execs the holder.
void close_inherited_fds(int keep, int keep2, int keep3) noexcept {
#ifdef SYS_close_range
  // Linux >= 5.11: mark everything close-on-exec in one call; the error pipe already is.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Linux 5.9/5.10: close around `keep`.
  const auto k = static_cast<unsigned>(keep);
  if (keep2 < 0 && keep3 < 0 && (k == 3U || ::syscall(SYS_close_range, 3U, k - 1U, 0U) == 0) &&
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
    if (fd != keep && fd != keep2 && fd != keep3) ::close(fd);
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

// Without a root: a mount namespace of our own (mounts private, so nothing propagates back to the
// host) with the private /tmp on the host's. Best effort: the child's TMPDIR names the directory.
void cover_tmp(const ChildPlan& plan) noexcept {
  if (plan.private_tmp == nullptr) return;
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return;
  ::mount(plan.private_tmp, "/tmp", nullptr, MS_BIND, nullptr);
}

[[noreturn]] void run_child(const ChildPlan& plan) noexcept {
  // Own process group, so the whole environment (background processes too) can be signalled; or
  // the environment's, for a process that joins one (an extension).
  if (::setpgid(0, plan.process_group) != 0) child_fail(plan, ChildStep::kSetup, errno);
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
  close_inherited_fds(plan.error_fd, plan.holder_fd, plan.go_fd);
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
  if (plan.root_count > 0) {
    std::size_t failed = 0;
    if (!lay_out_root(plan.root_steps, plan.root_count, failed)) {
      child_fail(plan, ChildStep::kRoot, errno, static_cast<int>(failed));
    }
    if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) child_fail(plan, ChildStep::kChdir, errno);
  } else {
    if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) child_fail(plan, ChildStep::kChdir, errno);
    cover_tmp(plan);
  }
  if (plan.holder_fd >= 0) {
    // Held: set up, wait in the holder, which keeps nothing of the daemon's memory; the error
    // pipe stays open across that exec (the holder closes it with the real one).
    if (::fcntl(plan.error_fd, F_SETFD, 0) != 0 || ::fcntl(plan.go_fd, F_SETFD, 0) != 0) {
      child_fail(plan, ChildStep::kSetup, errno);
    }
    ::syscall(SYS_execveat, plan.holder_fd, "", plan.holder_argv, plan.envp, AT_EMPTY_PATH);
    child_fail(plan, ChildStep::kSetup, errno);
  }
  ::execve(plan.path, plan.argv, plan.envp);
  child_fail(plan, ChildStep::kExec, errno);
}

// The vfork on its own, so that nothing of fork_exec's is live in a register across it (the child
// returns to no caller, and the parent's frame here holds only `plan`).
[[gnu::noinline]] pid_t vfork_child(const ChildPlan& plan) {
  const pid_t pid = ::vfork();
  if (pid == 0) run_child(plan);
  return pid;
}

void reap_blocking(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<ForkedChild> fork_exec(const SpawnSpec& spec) {
  const std::string cwd = spec.working_directory.string();
  const std::string private_tmp = spec.private_tmp.string();
  std::optional<RootPlan> root;
  if (spec.root) {
    auto made = RootPlan::make(*spec.root, private_tmp);
    if (!made) return made.error();
    root.emplace(std::move(made).value());
  }
  const HostView host{root ? &*root : nullptr};
  if (auto st = check_working_dir(cwd, host); !st) return st.error();
  auto resolved = resolve_executable(spec, cwd, host);
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

  // Held: the holder (opened here, exec'd through its descriptor once the root hides the host's
  // paths), the go socket, and the holder's argv: GO_FD ERROR_FD PATH ARGV0 ARGS...
  UniqueFd holder, go_read, go_write;
  std::vector<std::string> holder_strings;
  std::vector<char*> holder_argv;
  if (!spec.hold.empty()) {
    holder.reset(::open(spec.hold.c_str(), O_RDONLY | O_CLOEXEC));
    if (!holder.valid()) return internal_error("open " + spec.hold.string(), errno);
    // A socket, not a pipe: release() sends with MSG_NOSIGNAL, so a holder already gone is an
    // error it reports (EPIPE), never a SIGPIPE in a process that did not ignore it.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return internal_error("socketpair", errno);
    go_read.reset(fds[0]);
    go_write.reset(fds[1]);
    if (!move_above_stdio(go_read) || !move_above_stdio(holder)) return internal_error("fcntl", errno);
    holder_strings = {spec.hold.filename().string(), std::to_string(go_read.get()), std::to_string(error_write.get()),
                      path};
    for (auto& str : holder_strings) holder_argv.push_back(str.data());
    holder_argv.insert(holder_argv.end(), argv.begin(), argv.end());  // ends with its nullptr
  }

  std::vector<const char*> join;
  join.reserve(spec.join_files.size());
  for (const auto& f : spec.join_files) join.push_back(f.c_str());
  const bool tmp_mount = !private_tmp.empty() && ::geteuid() == 0;
  const ChildPlan plan{path.c_str(),
                 argv.data(),
                 envp.data(),
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
                 tmp_mount ? private_tmp.c_str() : nullptr,
                 root ? root->steps() : nullptr,
                 root ? root->size() : 0,
                 holder.valid() ? holder.get() : -1,
                 holder.valid() ? holder_argv.data() : nullptr,
                 holder.valid() ? go_read.get() : -1,
                 spec.process_group};

  // Block every signal across the spawn so no daemon handler runs in the child before it resets
  // the dispositions.
  sigset_t all;
  sigset_t saved;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  // vfork: the child runs in the daemon's memory, on this thread's stack, while this thread
  // waits until it has exec'd (the runtime, or the holder) or exited; the daemon's other threads
  // go on. A fork would copy the daemon's page tables and leave every page it then writes to be
  // copied while the child sets up: at a burst of cold starts that was the most of the daemon's
  // time. The child only reads `plan` and makes system calls (no allocation, no locks), and
  // never returns from run_child; it has its own descriptors, signal dispositions, filesystem
  // context and namespaces (no CLONE_FILES, CLONE_SIGHAND, CLONE_FS).
  const pid_t pid = vfork_child(plan);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0) return internal_error("fork", fork_errno);

  // The child does this too; doing it here as well means kill(-pid) works as soon as we
  // return. EACCES once the child has exec'd is fine: it set its group before exec.
  ::setpgid(pid, spec.process_group > 0 ? spec.process_group : pid);

  output_write.reset();
  error_write.reset();
  dev_null.reset();

  ExecWait wait{std::move(error_read), cwd, path, spec.join_files, std::move(root)};
  if (holder.valid()) {
    return ForkedChild{pid, std::move(output_read), std::make_unique<HeldExec>(HeldExec{std::move(go_write), std::move(wait)})};
  }
  // Blocks only until the child execs (the pipe closes) or reports a failure.
  if (auto st = wait.wait(pid, true); !st) return st.error();
  return ForkedChild{pid, std::move(output_read), nullptr};
}

Status ExecWait::wait(pid_t pid, bool reap) {
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(error.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return Ok{};

  const int read_errno = errno;
  if (reap) {
    if (n < 0) ::kill(pid, SIGKILL);  // cannot tell whether it exec'd: do not leave it running
    reap_blocking(pid);               // otherwise it has _exit'ed (or is about to)
  }
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
      if (failure.index >= 0 && static_cast<std::size_t>(failure.index) < join_files.size()) {
        return internal_error(
            "cannot join cgroup " + join_files[static_cast<std::size_t>(failure.index)],
            failure.error);
      }
      break;
    case ChildStep::kRlimit:
      return internal_error("setrlimit", failure.error);
    case ChildStep::kRoot:
      if (root) {
        return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                     "the function's root: " +
                         root->describe_failure(static_cast<std::size_t>(failure.index), failure.error)};
      }
      break;
    case ChildStep::kSetup:
      break;
  }
  return internal_error("child setup", failure.error);
}

Status probe_lambda_root(const std::filesystem::path& mount_point) {
  // An empty function: the mount point's parent (a directory the daemon owns) as its code.
  SpawnSpec spec{"/bin/true", {}, {"PATH=/usr/bin:/bin"}, "/var/task"};
  // With an /etc/hosts of its own, as every environment has (docs/decisions/025).
  spec.root = LambdaRoot{mount_point, mount_point.parent_path(), {}, {}, {}, {}};
  spec.root->hosts = "127.0.0.1\tlocalhost\n";
  auto child = fork_exec(spec);
  if (!child) return child.error();
  int status = 0;
  while (::waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                 "/bin/true did not succeed in the function's root (wait status " + std::to_string(status) + ")"};
  }
  return Ok{};
}

}  // namespace lambdad::process
