// guard_process_groups(): a helper process that outlives the daemon. The daemon tells it, through
// a pipe, each environment's process group as it starts and ends; when the pipe closes without
// the daemon's "stopped cleanly" word (the daemon was killed with SIGKILL, or crashed), it kills
// every process group still listed: the functions' background processes die with the daemon,
// not only the runtimes (PR_SET_PDEATHSIG). Processes that left their group are found by the
// next start, through the cgroups (docs/decisions/011).
//
// The helper is forked without exec, so it makes async-signal-safe calls only (the daemon may
// have threads): no allocation, no locks, no logging.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "lambdad/process/resource_limits.hpp"
#include "lambdad/process/unique_fd.hpp"

namespace lambdad::process {
namespace {

// Words on the pipe: +pgid (an environment started), -pgid (it ended), 0 (the daemon stops
// cleanly: nothing to kill).
using Word = std::int32_t;
constexpr Word kStopped = 0;
// More environments than a daemon can run at once (account concurrency is at most a few
// thousand); a group past this is not guarded.
constexpr int kMaxGroups = 16384;
constexpr int kPipeFd = 3;

[[noreturn]] void run_guardian(int pipe_fd, int null_fd) noexcept {
  ::setsid();  // out of the daemon's process group and session: a signal to those misses us
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Hold none of the daemon's descriptors: not its stdout (a reader would wait for our exit),
  // not its sockets or locks. The pipe moves out of the way of stdio first.
  const int high = ::fcntl(pipe_fd, F_DUPFD, kPipeFd + 1);
  if (high < 0) ::_exit(1);
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(null_fd, STDOUT_FILENO);
  ::dup2(null_fd, STDERR_FILENO);
  ::dup2(high, kPipeFd);
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, kPipeFd + 1U, ~0U, 0U) != 0)
#endif
  {
    for (int fd = kPipeFd + 1; fd < 65536; ++fd) ::close(fd);
  }

  static pid_t groups[kMaxGroups];
  int count = 0;
  for (;;) {
    Word w = 0;
    const ssize_t n = ::read(kPipeFd, &w, sizeof w);
    if (n < 0 && errno == EINTR) continue;
    if (n == static_cast<ssize_t>(sizeof w)) {
      if (w == kStopped) ::_exit(0);
      if (w > 0) {
        if (count < kMaxGroups) groups[count++] = w;
      } else {
        for (int i = 0; i < count; ++i) {
          if (groups[i] == -w) {
            groups[i] = groups[--count];
            break;
          }
        }
      }
      continue;
    }
    break;  // end of file (or an error): the daemon is gone
  }
  for (int i = 0; i < count; ++i) ::kill(-groups[i], SIGKILL);
  ::_exit(0);
}

class Guardian {
 public:
  Guardian(pid_t pid, UniqueFd pipe) : pid_(pid), pipe_(std::move(pipe)) {}
  ~Guardian() {
    tell(kStopped);
    pipe_.reset();
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  Guardian(const Guardian&) = delete;
  Guardian& operator=(const Guardian&) = delete;

  // Never blocks the daemon: a word that does not fit in the pipe is dropped (the helper is
  // then not reading, and could not act on it either).
  void tell(Word w) {
    [[maybe_unused]] const ssize_t n = ::write(pipe_.get(), &w, sizeof w);
  }

 private:
  pid_t pid_;
  UniqueFd pipe_;
};

class GuardedGroup final : public ResourceGroup {
 public:
  GuardedGroup(std::unique_ptr<ResourceGroup> inner, std::shared_ptr<Guardian> guardian)
      : inner_(std::move(inner)), guardian_(std::move(guardian)) {}
  ~GuardedGroup() override {
    inner_.reset();  // kills what is left; then the group id is nothing to guard any more
    if (pgid_ > 0) guardian_->tell(-pgid_);
  }
  GuardedGroup(const GuardedGroup&) = delete;
  GuardedGroup& operator=(const GuardedGroup&) = delete;

  std::vector<std::string> join_files() const override { return inner_->join_files(); }
  // The environment's process leads its own process group (spawn()).
  void attach(pid_t pid) override {
    if (pgid_ > 0) guardian_->tell(-pgid_);
    pgid_ = pid;
    guardian_->tell(pid);
    inner_->attach(pid);
  }
  std::uint64_t peak_memory_bytes() const override { return inner_->peak_memory_bytes(); }
  void reset_peak() override { inner_->reset_peak(); }
  bool per_invoke_peak() const override { return inner_->per_invoke_peak(); }
  bool oom_killed() const override { return inner_->oom_killed(); }
  void set_idle(bool idle) override { inner_->set_idle(idle); }

 private:
  std::unique_ptr<ResourceGroup> inner_;
  // Shared: an environment's group can outlive the controller at shutdown (the last reference
  // to an environment may sit in a handler the io_context destroys after the daemon's parts).
  std::shared_ptr<Guardian> guardian_;
  pid_t pgid_ = 0;
};

class GuardedController final : public ResourceController {
 public:
  GuardedController(std::unique_ptr<ResourceController> inner, pid_t pid, UniqueFd pipe)
      : guardian_(std::make_shared<Guardian>(pid, std::move(pipe))), inner_(std::move(inner)) {}

  std::string describe() const override { return inner_->describe(); }
  MemoryEnforcement mode() const override { return inner_->mode(); }
  Result<std::unique_ptr<ResourceGroup>> create_group(const std::string& name,
                                                      const EnvironmentLimits& limits) override {
    auto group = inner_->create_group(name, limits);
    if (!group) return group.error();
    return std::unique_ptr<ResourceGroup>(std::make_unique<GuardedGroup>(std::move(group).value(), guardian_));
  }
  std::vector<std::filesystem::path> remove_stale_groups() override { return inner_->remove_stale_groups(); }

 private:
  std::shared_ptr<Guardian> guardian_;  // kept by each group too
  std::unique_ptr<ResourceController> inner_;
};

}  // namespace

std::unique_ptr<ResourceController> guard_process_groups(std::unique_ptr<ResourceController> controller,
                                                         std::string* why_not) {
  auto fail = [&](const char* what) {
    if (why_not) *why_not = std::string(what) + ": " + std::strerror(errno);
    return std::move(controller);
  };
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail("pipe");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd.valid()) return fail("open /dev/null");
  const int flags = ::fcntl(write_end.get(), F_GETFL);
  if (flags < 0 || ::fcntl(write_end.get(), F_SETFL, flags | O_NONBLOCK) != 0) return fail("fcntl");
  const pid_t pid = ::fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) {
    ::close(write_end.get());
    run_guardian(read_end.get(), null_fd.get());
  }
  return std::make_unique<GuardedController>(std::move(controller), pid, std::move(write_end));
}

}  // namespace lambdad::process
