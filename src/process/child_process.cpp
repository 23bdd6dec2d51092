// ChildProcess: watches a started child with Asio: its output pipe (split into lines) and its
// exit (a pidfd). The watch state is shared with the pending handlers, so a handler that runs
// after the ChildProcess is gone finds `destroyed_` set and does nothing.
//
// Concurrency: all handlers run on one strand of the io_context, so they never overlap. The
// owner may call kill_group()/terminate_group() and destroy the ChildProcess from any thread
// (or from inside a callback); `mu_` orders those calls against the handlers, and the
// destructor waits for a callback running on another thread to return, so no callback runs
// after it. Callbacks are never called with `mu_` held. The output side (pipe reads and the
// line splitter) is also reached by sync_output() from outside the strand; `out_mu_` orders it.
#include "lambdad/process/child_process.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "cgroup_files.hpp"
#include "errno_text.hpp"
#include "fork_exec.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/process/line_splitter.hpp"
#include "lambdad/process/unique_fd.hpp"
#include "spawn_with.hpp"

namespace lambdad::process {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Strand = asio::strand<Executor>;

// After the child is reaped, how long the output pipe may stay open (held by a process that
// left the group) before we stop reading and report the exit anyway.
constexpr std::chrono::milliseconds kPipeGrace{100};
// Exit polling period when the kernel has no pidfd_open (Linux < 5.3) or seccomp denies it.
constexpr std::chrono::milliseconds kPollInterval{10};
// Output read per handler before other handlers get a turn (a flood cannot starve them).
constexpr std::size_t kBytesPerTurn = 4 * LineSplitter::kReadChunkBytes;

UniqueFd open_pidfd(pid_t pid, int& err) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0U);
  err = fd < 0 ? errno : 0;
  return UniqueFd(static_cast<int>(fd));
}

ExitStatus exit_status_of(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return ExitStatus{false, info.si_status};
  return ExitStatus{true, info.si_status};  // CLD_KILLED, CLD_DUMPED
}

class ChildWatch : public std::enable_shared_from_this<ChildWatch> {
 public:
  // `member`: the child joined another's process group (SpawnSpec::process_group): only it is
  // signalled, never that group.
  ChildWatch(const Executor& executor, pid_t pid, ChildCallbacks callbacks, bool member = false)
      : pid_(pid),
        group_(member ? pid : -pid),
        strand_(asio::make_strand(executor)),
        pipe_(strand_),
        pidfd_(strand_),
        timer_(strand_),
        callbacks_(std::move(callbacks)) {}

  pid_t pid() const { return pid_; }
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  // Takes the output pipe and the pidfd (invalid: poll instead) and starts watching.
  Status start(UniqueFd output, UniqueFd pidfd) {
    std::lock_guard lk(mu_);
    error_code ec;
    pipe_.assign(output.get(), ec);
    if (ec)
      return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                   "watch output: " + ec.message()};
    output.release();
    if (pidfd.valid()) {
      pidfd_.assign(pidfd.get(), ec);
      if (ec)
        return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                     "watch pidfd: " + ec.message()};
      pidfd.release();
    }
    pipe_.native_non_blocking(true, ec);
    if (ec)
      return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                   "watch output: " + ec.message()};
    wait_exit_locked();
    return Ok{};
  }

  // After start(), outside mu_ (the lock order is out_mu_ then mu_).
  void watch_output() {
    const std::lock_guard out(out_mu_);
    wait_output();
  }

  void signal_child(int sig) {
    std::lock_guard lk(mu_);
    if (!reaped_) ::kill(pid_, sig);
  }

  void spare_group_at_exit() {
    std::lock_guard lk(mu_);
    spare_group_ = true;
  }

  void signal_group(int sig) {
    std::lock_guard lk(mu_);
    // Once reaped, the pid may belong to someone else; and the group was killed at reaping.
    if (reaped_) return;
    ::kill(group_, sig);                    // ESRCH (nobody left in the group) is fine
    if (sig == SIGKILL) ::kill(pid_, sig);  // even if the child moved itself to another group
  }

  // The ChildProcess is going away: no callback may run from now on; the child must be gone.
  void destroy() {
    ChildCallbacks dropped;
    std::unique_lock lk(mu_);
    destroyed_.store(true, std::memory_order_release);
    const auto self = std::this_thread::get_id();
    callback_done_.wait(lk, [&] { return !in_callback_ || callback_thread_ == self; });
    if (!reaped_) {
      ::kill(group_, SIGKILL);
      ::kill(pid_, SIGKILL);
      // SIGKILL'ed: this wait is short.
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    error_code ignored;
    pipe_.close(ignored);
    pidfd_.close(ignored);
    timer_.cancel();
    // Release what the callbacks hold now, unless one of them is running (and destroying us).
    if (!in_callback_) dropped = std::move(callbacks_);
    lk.unlock();
  }

 private:
  // --- output -----------------------------------------------------------------------------
  //
  // The pipe is non-blocking and read with read(2) when Asio reports it readable: no
  // asynchronous read owns the splitter's buffer, so sync_output() can read it from outside a
  // handler. out_mu_ serialises everything that touches the splitter.

  enum class ReadState { kDrained, kMore, kEof, kGone };

  // out_mu_ held. Arms one wait for the pipe to become readable.
  void wait_output() {
    if (wait_pending_ || output_done_) return;
    std::lock_guard lk(mu_);
    if (destroyed_.load(std::memory_order_relaxed)) return;
    wait_pending_ = true;
    pipe_.async_wait(asio::posix::descriptor_base::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->on_readable(ec, true); });
    // Edge-triggered, like the pidfd wait: data that arrived before the wait was queued may have
    // been reported already. Look once more.
    pollfd pfd{pipe_.native_handle(), POLLIN, 0};
    if (::poll(&pfd, 1, 0) > 0) {
      asio::post(strand_, [self = shared_from_this()] { self->on_readable({}, false); });
    }
  }

  void on_readable(const error_code& ec, bool from_wait) {
    const std::lock_guard out(out_mu_);
    if (from_wait) wait_pending_ = false;
    if (destroyed_.load(std::memory_order_acquire) || output_done_) return;
    if (ec == asio::error::operation_aborted) return;
    if (ec) {  // the pipe cannot be waited on: treated as its end
      end_output();
      return;
    }
    switch (read_some(kBytesPerTurn)) {
      case ReadState::kGone:
        return;
      case ReadState::kEof:
        end_output();
        return;
      case ReadState::kDrained:
        wait_output();
        return;
      case ReadState::kMore:  // let other handlers run between turns of a flood
        asio::post(strand_, [self = shared_from_this()] { self->on_readable({}, false); });
        return;
    }
  }

  // out_mu_ held. Reads up to `budget` bytes (fewer if the pipe runs dry) and delivers the
  // complete lines among them.
  ReadState read_some(std::size_t budget) {
    while (budget > 0) {
      ssize_t got;
      {
        std::lock_guard lk(mu_);  // destroy() may close the descriptor
        if (destroyed_.load(std::memory_order_relaxed)) return ReadState::kGone;
        const auto space = splitter_.prepare();
        do {
          got = ::read(pipe_.native_handle(), space.data(), std::min(space.size(), budget));
        } while (got < 0 && errno == EINTR);
      }
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ReadState::kDrained;
      if (got <= 0) return ReadState::kEof;  // every writer is gone (a read error counts the same)
      budget -= static_cast<std::size_t>(got);
      if (!deliver(static_cast<std::size_t>(got))) return ReadState::kGone;
    }
    return ReadState::kMore;
  }

  // out_mu_ held. What is in the pipe right now: bounded by what is there when we start, so a
  // process that keeps writing cannot hold the caller here.
  ReadState read_buffered() {
    std::size_t buffered = 0;
    {
      std::lock_guard lk(mu_);
      if (destroyed_.load(std::memory_order_relaxed)) return ReadState::kGone;
      int n = 0;
      if (::ioctl(pipe_.native_handle(), FIONREAD, &n) == 0 && n > 0) buffered = static_cast<std::size_t>(n);
    }
    return buffered == 0 ? ReadState::kDrained : read_some(buffered);
  }

 public:
  // See ChildProcess::sync_output().
  void sync_output() {
    const auto self = shared_from_this();  // a callback may destroy our owner
    {
      std::lock_guard lk(mu_);
      if (destroyed_.load(std::memory_order_relaxed)) return;
      if (in_callback_ && callback_thread_ == std::this_thread::get_id()) return;
    }
    const std::lock_guard out(out_mu_);
    if (destroyed_.load(std::memory_order_acquire) || output_done_) return;
    const ReadState state = read_buffered();
    if (state == ReadState::kGone) return;
    // The end of the output (and the exit it may report) belongs to a handler, not to our caller.
    if (state == ReadState::kEof) {
      asio::post(strand_, [self] { self->on_readable({}, false); });
    }
    with_callbacks([&] { return splitter_.finish([this](std::string_view l) { return deliver_line(l); }); });
  }

 private:
  bool deliver_line(std::string_view line) {
    if (destroyed_.load(std::memory_order_acquire)) return false;
    if (callbacks_.on_output_line) callbacks_.on_output_line(line);
    return true;
  }

  bool deliver(std::size_t n) {
    return with_callbacks([&] {
      return splitter_.commit(n, [this](std::string_view l) { return deliver_line(l); });
    });
  }

  // out_mu_ held.
  void end_output() {
    output_done_ = true;
    if (!with_callbacks([&] {
          return splitter_.finish([this](std::string_view l) { return deliver_line(l); });
        })) {
      return;
    }
    {
      std::lock_guard lk(mu_);
      if (destroyed_.load(std::memory_order_relaxed)) return;
      error_code ignored;
      pipe_.close(ignored);
      if (!reaped_) return;  // on_exit comes when the child is reaped
      timer_.cancel();       // the grace period is no longer needed
    }
    finish();
  }

  // --- exit -------------------------------------------------------------------------------

  void wait_exit_locked() {
    if (pidfd_.is_open()) {
      pidfd_.async_wait(
          asio::posix::descriptor_base::wait_read,
          [self = shared_from_this()](const error_code& ec) { self->on_exit_ready(ec); });
      // async_wait is edge-triggered in Asio's epoll reactor: if another thread's epoll_wait
      // saw the pidfd become readable before the wait was queued, that event is gone. The
      // pidfd stays readable, so look once more and reap from here if needed (the handlers
      // are idempotent; the pending wait is cancelled when the pidfd is closed at reaping).
      pollfd pfd{pidfd_.native_handle(), POLLIN, 0};
      if (::poll(&pfd, 1, 0) > 0) {
        asio::post(strand_, [self = shared_from_this()] { self->on_exit_ready({}); });
      }
    } else {
      timer_.expires_after(kPollInterval);
      timer_.async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec) self->on_exit_ready({});
      });
    }
  }

  void on_exit_ready(const error_code& ec) {
    std::unique_lock lk(mu_);
    if (destroyed_.load(std::memory_order_relaxed) || reaped_) return;
    if (ec == asio::error::operation_aborted) return;
    if (ec) {  // the pidfd cannot be waited on: poll instead
      error_code ignored;
      pidfd_.close(ignored);
    }
    if (!try_reap_locked()) {
      wait_exit_locked();
      return;
    }
    error_code ignored;
    pidfd_.close(ignored);
    if (output_done_) {
      lk.unlock();
      finish();
      return;
    }
    timer_.expires_after(kPipeGrace);
    timer_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
      if (!wait_ec) self->on_grace_over();
    });
  }

  // Reaps the child if it has exited. Before reaping, while the zombie still holds its pid
  // (and so the group id) against reuse, kills the rest of the group: the environment is over,
  // and background processes would otherwise keep the output pipe open.
  bool try_reap_locked() {
    const bool by_pidfd = pidfd_.is_open();
    const idtype_t idtype = by_pidfd ? P_PIDFD : P_PID;
    const auto id = static_cast<id_t>(by_pidfd ? pidfd_.native_handle() : pid_);
    siginfo_t info{};
    int rc;
    while ((rc = ::waitid(idtype, id, &info, WEXITED | WNOHANG | WNOWAIT)) < 0 && errno == EINTR) {
    }
    if (rc < 0) {
      // ECHILD: someone else reaped it (SIGCHLD ignored, or a waitpid(-1) elsewhere). The pid
      // may already be reused, so do not signal; the status is unknown.
      reaped_ = true;
      status_ = ExitStatus{false, -1};
      return true;
    }
    if (info.si_pid == 0) return false;  // still running
    if (!spare_group_) ::kill(group_, SIGKILL);
    info = {};
    while ((rc = ::waitid(idtype, id, &info, WEXITED | WNOHANG)) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    status_ = rc == 0 && info.si_pid != 0 ? exit_status_of(info) : ExitStatus{false, -1};
    return true;
  }

  // No EOF within the grace period after reaping: a process outside the group (or one still
  // dying) holds the pipe. Read what is already in it (output the child wrote that a slow
  // consumer had not caught up with) and report the exit.
  void on_grace_over() {
    const std::lock_guard out(out_mu_);
    if (destroyed_.load(std::memory_order_acquire) || output_done_) return;
    if (read_buffered() == ReadState::kGone) return;
    end_output();
  }

  void finish() {
    if (finished_.exchange(true, std::memory_order_acq_rel)) return;
    with_callbacks([&] {
      if (callbacks_.on_exit) callbacks_.on_exit(status_);
      return true;
    });
  }

  // Runs `f` (which calls the owner's callbacks) unless the owner is gone, marking the span so
  // that a destructor on another thread waits for it. False if the owner is gone (now or
  // during `f`) or `f` said so.
  template <typename F>
  bool with_callbacks(F&& f) {
    {
      std::lock_guard lk(mu_);
      if (destroyed_.load(std::memory_order_relaxed)) return false;
      in_callback_ = true;
      callback_thread_ = std::this_thread::get_id();
    }
    struct Leave {
      ChildWatch& w;
      ~Leave() {
        std::lock_guard lk(w.mu_);
        w.in_callback_ = false;
        w.callback_done_.notify_all();
      }
    } leave{*this};
    const bool ok = f();
    return ok && !destroyed_.load(std::memory_order_acquire);
  }

  const pid_t pid_;
  const pid_t group_;  // what kill() signals: the group (-pid), or a member alone (pid)
  bool spare_group_ = false;  // guarded by mu_: the group outlives the child's exit
  Strand strand_;
  asio::posix::stream_descriptor pipe_;   // mu_
  asio::posix::stream_descriptor pidfd_;  // mu_
  asio::steady_timer timer_;              // mu_; exit polling, then the pipe grace period
  ChildCallbacks callbacks_;              // called in with_callbacks() only

  // Lock order: out_mu_, then mu_.
  std::mutex out_mu_;
  LineSplitter splitter_;      // out_mu_
  bool output_done_ = false;   // written under out_mu_ on the strand: no more reads, no more lines
  bool wait_pending_ = false;  // out_mu_: a wait for the pipe is queued

  std::mutex mu_;
  std::condition_variable callback_done_;
  bool reaped_ = false;              // mu_
  ExitStatus status_;                // written under mu_ before reaped_, read on the strand after
  bool in_callback_ = false;         // mu_
  std::thread::id callback_thread_;  // mu_
  std::atomic<bool> destroyed_{false};
  std::atomic<bool> finished_{false};  // on_exit has been (or is being) called
};

class ChildProcessImpl final : public ChildProcess {
 public:
  ChildProcessImpl(std::shared_ptr<ChildWatch> watch, std::unique_ptr<HeldExec> held)
      : watch_(std::move(watch)), held_(std::move(held)) {}
  ~ChildProcessImpl() override { watch_->destroy(); }
  ChildProcessImpl(const ChildProcessImpl&) = delete;
  ChildProcessImpl& operator=(const ChildProcessImpl&) = delete;

  pid_t pid() const override { return watch_->pid(); }
  void kill_group() override { watch_->signal_group(SIGKILL); }
  void terminate_group() override { watch_->signal_group(SIGTERM); }
  void terminate() override { watch_->signal_child(SIGTERM); }
  void spare_group_at_exit() override { watch_->spare_group_at_exit(); }
  bool exited() const override { return watch_->finished(); }
  void sync_output() override { watch_->sync_output(); }

  Status release() override {
    if (!held_) return Ok{};
    auto held = std::move(held_);
    const char go = 1;
    ssize_t n;
    do {
      n = ::send(held->go.get(), &go, 1, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    const int err = errno;
    held->go.reset();
    // Its record says why, if it failed in its setup; the watch reaps it.
    auto exec = held->wait.wait(watch_->pid(), false);
    if (!exec || n == 1) return exec;
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                 "the sandbox made ahead is gone: " + errno_text(err)};
  }

 private:
  std::shared_ptr<ChildWatch> watch_;
  std::unique_ptr<HeldExec> held_;  // SpawnSpec::hold, until release()
};

}  // namespace

Result<std::unique_ptr<ChildProcess>> spawn(boost::asio::io_context& io, const SpawnSpec& spec,
                                            ChildCallbacks callbacks) {
  return spawn_with(io.get_executor(), spec, std::move(callbacks), ExitWatch::kPidfd);
}

Result<std::unique_ptr<ChildProcess>> spawn(const Executor& executor, const SpawnSpec& spec, ChildCallbacks callbacks) {
  return spawn_with(executor, spec, std::move(callbacks), ExitWatch::kPidfd);
}

Result<std::unique_ptr<ChildProcess>> spawn_with(const Executor& executor, const SpawnSpec& spec,
                                                 ChildCallbacks callbacks, ExitWatch how) {
  auto forked = fork_exec(spec);
  if (!forked) return forked.error();
  const pid_t pid = forked->pid;

  // From here the ChildProcess owns the pid: on any failure its destructor kills and reaps.
  auto watch = std::make_shared<ChildWatch>(executor, pid, std::move(callbacks), spec.process_group > 0);
  auto child = std::make_unique<ChildProcessImpl>(watch, std::move(forked->held));

  int err = 0;
  UniqueFd pidfd = how == ExitWatch::kPidfd ? open_pidfd(pid, err) : UniqueFd();
  // ENOSYS: Linux < 5.3; EPERM: a seccomp profile that predates pidfd_open. Poll instead.
  if (!pidfd.valid() && err != 0 && err != ENOSYS && err != EPERM) {
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                 "pidfd_open: " + std::system_category().message(err)};
  }
  if (auto st = watch->start(std::move(forked->output), std::move(pidfd)); !st) return st.error();
  watch->watch_output();
  return std::unique_ptr<ChildProcess>(std::move(child));
}

Result<std::unique_ptr<ChildProcess>> adopt(const Executor& executor, pid_t pid, int output, ChildCallbacks callbacks) {
  UniqueFd out(output);
  auto watch = std::make_shared<ChildWatch>(executor, pid, std::move(callbacks));
  auto child = std::make_unique<ChildProcessImpl>(watch, nullptr);
  int err = 0;
  UniqueFd pidfd = open_pidfd(pid, err);
  if (!pidfd.valid() && err != 0 && err != ENOSYS && err != EPERM) {
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                 "pidfd_open: " + std::system_category().message(err)};
  }
  if (auto st = watch->start(std::move(out), std::move(pidfd)); !st) return st.error();
  watch->watch_output();
  return std::unique_ptr<ChildProcess>(std::move(child));
}

// "5" resets the high water mark (proc(5), Linux >= 4.0); the other values touch page flags.
Status reset_peak_rss(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/clear_refs";
  if (int err = cgroup::write_file(path, "5"); err != 0) {
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
                 "write " + path + ": " + std::system_category().message(err)};
  }
  return Ok{};
}

}  // namespace lambdad::process
