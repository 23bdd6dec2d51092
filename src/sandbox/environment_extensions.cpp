// ExecutionEnvironment and its extensions (docs/decisions/024, lambda-spec §2.4): the init phase
// ends when the runtime and every registered extension wait for their next event; an invoke's
// INVOKE goes to the subscribed extensions as the runtime receives the event; the environment
// takes its next invoke once they all wait again; an init or exit error of an extension ends the
// environment with Lambda's error type.
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "environment_internal.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/sandbox/execution_environment.hpp"

namespace lambdad::sandbox {

using detail::ms_between;

void ExecutionEnvironment::setup_extensions() {
  extensions_ = std::make_unique<Extensions>(
      ExtensionFunctionInfo{fn_.name, options_.version, fn_.handler, runtime_options_.account_id},
      std::vector<std::string>{}, [] { return ids::request_id(); });
  extensions_->on_ready([this] { extensions_ready(); });
  extensions_->on_fatal([this] { extension_failed(); });
  extensions_->on_registered([this](const std::string& name, const std::vector<std::string>& events) {
    if (!telemetry_ || !telemetry_->wanted()) return;
    telemetry_->platform("platform.extension", nlohmann::ordered_json{{"name", name}, {"state", "Ready"}, {"events", events}});
  });
  // Posted: the last registration is answered before the runtime's exec holds the loop.
  extensions_->on_externals_registered(
      [this] { boost::asio::post(executor_, lifetime_.guard([this] { release_runtime(); })); });
}

Status ExecutionEnvironment::start_extensions() {
  for (const auto& ext : externals_) {
    auto spec = extension_spawn_spec(*extension_spec_, ext, process_->pid());
    process::ChildCallbacks callbacks;
    callbacks.on_output_line = [this](std::string_view line) { on_extension_output(line); };
    callbacks.on_exit = [this, name = ext.name](process::ExitStatus status) { extension_exited(name, status); };
    auto child = process::spawn(executor_, spec, std::move(callbacks));
    // The runtime's exit must not take its extensions along: they hear of it first.
    process_->spare_group_at_exit();
    if (!child) {
      observability::daemon_log()->info("{}environment {}: extension {} did not start: {}", log_prefix_, serial_,
                                        ext.name, child.error().message);
      // As a runtime that cannot start: the caller fails the invoke with it.
      return Error{ErrorKind::kInvalidInput, "Extension.LaunchError", child.error().message};
    }
    extension_processes_.push_back(std::move(child).value());
  }
  observability::daemon_log()->debug("{}environment {}: {} extension(s) started", log_prefix_, serial_,
                                     extension_processes_.size());
  return Ok{};
}

void ExecutionEnvironment::release_runtime() {
  if (!runtime_waits_ || dead_) return;
  runtime_waits_ = false;
  if (auto st = process_->release(); !st) {
    // The runtime could not start (a missing bootstrap...): the init fails as it would have at once.
    fail_environment(st.error().type, st.error().message);
  }
}

void ExecutionEnvironment::shut_down_processes() {
  const bool external = !extension_processes_.empty();
  if (shutting_down_) return;
  if (extensions_->size() == 0 && !external) {
    process_->kill_group();  // no extension: the runtime is killed at once, as on Lambda
    return;
  }
  const auto budget = std::chrono::milliseconds(external ? 2000 : 500);
  extensions_->shutdown(shutdown_reason_, clock_.epoch_ms() + budget.count());
  // What is buffered for subscribers goes now, within their budget.
  telemetry_pending_report();
  telemetry_->flush();
  if (!process_->exited()) process_->terminate();
  shutting_down_ = true;
  observability::daemon_log()->debug("{}environment {}: shutdown ({}), {} ms for its extensions", log_prefix_,
                                     serial_, shutdown_reason_, budget.count());
  extensions_timer_->arm(clock_.now() + budget, [this] { finish_shutdown(); });
  finish_shutdown_if_done();
}

void ExecutionEnvironment::finish_shutdown_if_done() {
  if (!shutting_down_) return;
  const auto gone = [](const auto& p) { return !p || p->exited(); };
  if (gone(process_) && std::all_of(extension_processes_.begin(), extension_processes_.end(), gone)) {
    observability::daemon_log()->debug("{}environment {}: its runtime and extensions have exited", log_prefix_,
                                       serial_);
    finish_shutdown();
  }
}

void ExecutionEnvironment::finish_shutdown() {
  if (!shutting_down_) return;
  shutting_down_ = false;
  extensions_timer_->cancel();
  extensions_->cancel();  // what still waits in /event/next is answered by the kill
  for (auto& p : extension_processes_) p->kill_group();  // each alone
  process_->kill_group();
  if (process_->exited() && !dead_notified_) {
    // on_exit came and went during the budget; what escaped is ended with the cgroup.
    boost::asio::post(executor_, lifetime_.guard([this] {
      if (!dead_notified_) {
        dead_notified_ = true;
        observer_.on_dead(*this);
      }
    }));
  }
}

void ExecutionEnvironment::extension_exited(const std::string& name, const process::ExitStatus& status) {
  if (dead_) return finish_shutdown_if_done();
  const std::string detail = fmt::format("extension {} exited: {}", name, status.describe());
  observability::daemon_log()->info("{}environment {}: Extension.Crash: {}", log_prefix_, serial_, detail);
  fail_environment("Extension.Crash", detail);
}

bool ExecutionEnvironment::init_waits_for_extensions(NextCallback& done) {
  extensions_->close_registration();
  if (extensions_->ready()) return false;
  if (init_next_) {
    // Asked again while waiting: the newest request wins, as for a parked /next.
    NextCallback old = std::move(init_next_);
    init_next_ = nullptr;
    old(NextOutcome{std::nullopt, RuntimeReply::refused(state_, RuntimeEvent::kNext)});
  }
  init_next_ = std::move(done);
  observability::daemon_log()->debug("{}environment {}: the runtime is ready; its init ends when its extensions are",
                                     log_prefix_, serial_);
  return true;
}

void ExecutionEnvironment::extensions_ready() {
  // Called inside an extension's /event/next: what that unblocks runs after it has been parked.
  boost::asio::post(executor_, lifetime_.guard([this] {
    if (dead_ || !extensions_->ready()) return;
    if (init_next_) {
      NextCallback done = std::move(init_next_);
      init_next_ = nullptr;
      handle_next(std::move(done));  // the init phase ends now
      return;
    }
    // The invoke phase ends now: the environment can take the next one.
    extensions_timer_->cancel();
    telemetry_pending_report();
    if (init_duration_ms_ && slots_.empty() && !ending_) observer_.on_idle(*this);
  }));
}

void ExecutionEnvironment::invoke_extensions() {
  // With slots, extensions get no INVOKE (not emulated there: docs/decisions/028).
  const Current* cur = first();
  if (extensions_->size() == 0 || !cur || managed()) return;
  invoke_deadline_ = cur->delivered_at + std::chrono::seconds(fn_.timeout_seconds);
  const auto d = make_delivery(*cur);
  extensions_->invoke(ExtensionInvoke{d.request_id, d.deadline_epoch_ms, d.invoked_function_arn, d.trace_id});
}

void ExecutionEnvironment::wait_for_extensions() {
  extensions_timer_->arm(invoke_deadline_, [this] {
    if (dead_ || extensions_->ready()) return;
    retire(fmt::format("an extension did not finish the invoke within the function's timeout of {} s",
                       fn_.timeout_seconds));
  });
}

void ExecutionEnvironment::fail_environment(std::string_view error_type, const std::string& detail) {
  if (!init_duration_ms_) init_duration_ms_ = ms_between(spawned_at_, clock_.now());
  // The invoke it ran or waited for fails with this error; the environment is reset and the next
  // invoke starts a new one, as on Lambda.
  fail_all(error_type, detail, "error");
  become_dead();
}

void ExecutionEnvironment::extension_failed() {
  // Called inside the extension's /init/error or /exit/error, which is answered first.
  boost::asio::post(executor_, lifetime_.guard([this] {
    if (dead_) return;
    std::string who;
    for (const auto& x : extensions_->describe()) {
      if (x.state != Extensions::State::kInitError && x.state != Extensions::State::kExitError) continue;
      who = fmt::format("{} ({})", x.name, Extensions::state_name(x.state));
      break;
    }
    const auto& type = extensions_->fatal_error();
    const std::string detail = fmt::format("extension {} reported an error", who);
    observability::daemon_log()->info("{}environment {}: {}: {}", log_prefix_, serial_, type, detail);
    fail_environment(type, detail);
  }));
}

}  // namespace lambdad::sandbox
