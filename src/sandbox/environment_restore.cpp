// ExecutionEnvironment and SnapStart (docs/decisions/023): an environment started as a copy of a
// snapshot's runtime, the one that becomes a snapshot, and the Runtime API's /restore routes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "environment_internal.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/observability/platform_log.hpp"
#include "lambdad/sandbox/execution_environment.hpp"
#include "lambdad/sandbox/snapshot.hpp"

namespace lambdad::sandbox {

using detail::ms_between;

namespace {

Error restore_error_of(const std::string& what, int err) {
  return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure),
               what + ": " + std::system_category().message(err)};
}

// The mount namespace of `pid`, or an invalid descriptor when it is the daemon's own (no private
// /tmp, no root: the copy stays where the snapshot is).
Result<process::UniqueFd> mount_namespace_of(pid_t pid) {
  const std::string path = fmt::format("/proc/{}/ns/mnt", pid);
  process::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return restore_error_of("open " + path, errno);
  struct stat theirs {};
  struct stat ours {};
  if (::fstat(fd.get(), &theirs) == 0 && ::stat("/proc/self/ns/mnt", &ours) == 0 && theirs.st_ino == ours.st_ino &&
      theirs.st_dev == ours.st_dev) {
    return process::UniqueFd();
  }
  return fd;
}

}  // namespace

Status ExecutionEnvironment::restore(Snapshot& snapshot, bool ahead) {
  if (!held_ || !process_ || dead_) {
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure), "not a sandbox made ahead"};
  }
  RestoreTarget target;
  auto ns = mount_namespace_of(process_->pid());
  if (!ns) return ns.error();
  target.mount_ns = std::move(ns).value();
  if (group_) {
    for (const auto& file : group_->join_files()) {
      process::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd.valid()) return restore_error_of("open " + file, errno);
      target.cgroup_procs.push_back(std::move(fd));
    }
  }
  int out[2];
  int go[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return restore_error_of("pipe", errno);
  auto output_read = std::make_shared<process::UniqueFd>(out[0]);
  target.output.reset(out[1]);
  if (::pipe2(go, O_CLOEXEC) != 0) return restore_error_of("pipe", errno);
  auto go_write = std::make_shared<process::UniqueFd>(go[1]);
  target.go.reset(go[0]);
  target.working_directory = working_directory_;
  target.ahead = ahead;
  target.environment = {{"AWS_LAMBDA_RUNTIME_API", fmt::format("127.0.0.1:{}", endpoint_->port())}};
  if (!tmpdir_.empty()) target.environment.emplace_back("TMPDIR", tmpdir_);

  auto st = snapshot.restore(std::move(target),
                             [this, token = lifetime_.token(), output_read, go_write](Result<pid_t> pid) {
                               if (!token) return;
                               restored(std::move(pid), output_read->release(), go_write->release());
                             });
  if (!st) return st;
  restored_ = true;  // still held: go() restores it
  return Ok{};
}

void ExecutionEnvironment::restored(Result<pid_t> pid, int output, int go) {
  process::UniqueFd out(output);
  process::UniqueFd go_write(go);
  if (dead_) {
    // Ours (CLONE_PARENT): adopted only to be killed and reaped at once.
    if (pid) (void)process::adopt(executor_, *pid, out.release(), {});
    return;
  }
  if (!pid) {
    observability::daemon_log()->warn("{}environment {}: {}", log_prefix_, serial_, pid.error().message);
    fail_all(error_types::kSandboxFailure, "the snapshot could not be restored: " + pid.error().message, "error");
    become_dead();
    return;
  }
  auto adopted = process::adopt(executor_, *pid, out.release(), child_callbacks());
  if (!adopted) {
    fail_all(error_types::kSandboxFailure, adopted.error().message, "error");
    become_dead();
    return;
  }
  process_ = std::move(adopted).value();  // the held child, whose namespace the copy entered, goes
  if (group_) group_->attach(*pid);
  observability::daemon_log()->debug("{}environment {}: copy {} of the snapshot forked", log_prefix_, serial_, *pid);
  // Known now, so the Runtime API admits its connection: it may ask /restore/next, which waits for go().
  const char byte = 1;
  ssize_t n;
  do {
    n = ::write(go_write.get(), &byte, 1);
  } while (n < 0 && errno == EINTR);
  copy_adopted_ = true;
  if (!held_) initializing();  // go() came first
}

void ExecutionEnvironment::begin_restore() {
  held_ = false;
  restoring_ = true;
  spawned_at_ = clock_.now();
  restore_started_ = spawned_at_;
  flog_->info("{}{}", log_prefix_, observability::restore_start_line(fn_.runtime, runtime_options_.region));
  if (auto* cur = first()) arm_deadline(*cur);
  if (copy_adopted_) initializing();  // else restored() does, once the copy is there
  // A copy that has not asked yet is answered when it does.
  if (auto done = std::move(parked_restore_)) {
    parked_restore_ = nullptr;
    done(RuntimeReply::accepted());
  }
}

invocation::InvocationPtr ExecutionEnvironment::become_snapshot() {
  snapshot_ = true;
  init_duration_ms_ = ms_between(spawned_at_, clock_.now());
  init_reported_ = true;
  flog_->info("{}INIT_REPORT Init Duration: {:.2f} ms", log_prefix_, *init_duration_ms_);
  if (auto* cur = first()) cur->deadline->cancel();
  init_timer_->cancel();
  if (group_) group_->set_idle(true);
  observability::daemon_log()->info("{}environment {} is the snapshot (init {:.2f} ms, pid {})", log_prefix_, serial_,
                                    *init_duration_ms_, pid());
  if (slots_.empty()) return nullptr;
  auto inv = std::move(slots_.front().inv);
  slots_.pop_front();
  return inv;
}

void ExecutionEnvironment::restore_next(std::function<void(RuntimeReply)> done) {
  // Only an environment started for SnapStart restores; elsewhere Lambda refuses the call.
  if (!options_.snap_start || snapshot_ || parked_restore_) {
    return done(RuntimeReply::refused(state_, RuntimeEvent::kRestoreNext));
  }
  auto to = transition(state_, RuntimeEvent::kRestoreNext);
  if (!to) return done(RuntimeReply::refused(state_, RuntimeEvent::kRestoreNext));
  state_ = *to;
  if (!restored_) observer_.on_restored_in_place(*this);
  // A copy made ahead is restored when a cold start takes it (go()); until then it waits here,
  // as a runtime waits in /restore/next on Lambda while its snapshot is taken.
  if (held_) {
    parked_restore_ = std::move(done);
    return;
  }
  if (!restored_) {  // in place: its after-restore hooks have the restore's 10 s
    restoring_ = true;
    restore_started_ = clock_.now();
    if (auto* cur = first()) arm_deadline(*cur);
  }
  done(RuntimeReply::accepted());
}

RuntimeReply ExecutionEnvironment::restore_error(RuntimePost post) {
  auto to = transition(state_, RuntimeEvent::kRestoreError);
  if (!to) return RuntimeReply::refused(state_, RuntimeEvent::kRestoreError);
  state_ = *to;
  const std::string type = post.error_type.empty() ? std::string(error_types::kRuntimeUnknown) : post.error_type;
  flog_->info("{}{}\tStatus: error\tError Type: {}", log_prefix_,
              observability::restore_report_line(ms_between(restore_started_, clock_.now())), type);
  if (auto* cur = first()) {
    // The invoker gets the service's SnapStartException; the hook's error is in the log.
    invocation::InvocationResult r;
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = std::string(error_types::kSnapStartException);
    r.service_error = r.error_type;
    r.payload = fmt::format("The afterRestore() runtime hook of {} encountered an error ({}). For more information, "
                            "check the function's log.",
                            fn_.name, type);
    if (!cur->delivered) mark_started(*cur);
    finish(*cur, std::move(r), "error");
  }
  become_dead();  // the runtime exits (65); the next cold start restores another copy
  return RuntimeReply::accepted();
}

}  // namespace lambdad::sandbox
