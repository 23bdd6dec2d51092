// ExecutionEnvironment: the Runtime API calls of its runtime (lambda-spec §1). A classic
// environment follows decision 002's state machine, one invocation at a time; one in
// managed-instances mode (docs/decisions/028) has a slot per outstanding /next, and matches every
// post to its invocation by the request id in its path.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "environment_internal.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/observability/platform_log.hpp"
#include "lambdad/sandbox/execution_environment.hpp"

namespace lambdad::sandbox {

using detail::ms_between;
using detail::platform_error;

void ExecutionEnvironment::next(NextCallback done) {
  if (state_ == RuntimeState::kStarted && options_.cold_start_delay.count() > 0 && !dead_) {
    // The runtime has finished its init; hold its first /next for the simulated delay so that
    // Init Duration (measured at the end of it) includes it.
    if (delay_pending_) {
      done(NextOutcome{std::nullopt, RuntimeReply::refused(state_, RuntimeEvent::kNext)});
      return;
    }
    delay_pending_ = true;
    delay_timer_->arm(clock_.now() + options_.cold_start_delay, [this, done = std::move(done)]() mutable {
      options_.cold_start_delay = std::chrono::milliseconds(0);
      delay_pending_ = false;
      handle_next(std::move(done));
    });
    return;
  }
  handle_next(std::move(done));
}

void ExecutionEnvironment::handle_next(NextCallback done) {
  auto to = transition(state_, RuntimeEvent::kNext);
  if (!to) {
    done(NextOutcome{std::nullopt, RuntimeReply::refused(state_, RuntimeEvent::kNext)});
    return;
  }
  if (dead_) {
    done(NextOutcome{std::nullopt, RuntimeReply{RuntimeReply::Code::kInternal, state_, RuntimeEvent::kNext}});
    return;
  }
  const RuntimeState from = state_;
  const bool init_ends = from == RuntimeState::kStarted || from == RuntimeState::kRestoring;
  if (from == RuntimeState::kStarted) telemetry_runtime_ready();
  if (init_ends && init_waits_for_extensions(done)) return;
  if (init_ends) {
    init_duration_ms_ = ms_between(spawned_at_, clock_.now());
    log_init_report("success");
    telemetry_init_end("success");
    // Initialised ahead of demand (EAGER, provisioned): the first invoke is not a cold start.
    if (slots_.empty()) init_reported_ = true;
    idle_since_ = clock_.now();
    // A copy of a snapshot reports its restore; one restored in place ran its init.
    if (restored_) flog_->info("{}{}", log_prefix_, observability::restore_report_line(*init_duration_ms_));
    restoring_ = false;
    observability::daemon_log()->info("{}environment {} ready ({} {:.2f} ms)", log_prefix_, serial_,
                                      restored_ ? "restore" : "init", *init_duration_ms_);
  }
  if (managed()) {
    state_ = RuntimeState::kReady;
    return handle_next_managed(std::move(done));
  }
  if (from == RuntimeState::kRunning) {
    // Re-deliver the unanswered invocation (RIE semantics).
    if (auto* cur = first()) return deliver(*cur, done);
    return done(NextOutcome{std::nullopt, RuntimeReply{RuntimeReply::Code::kInternal, state_, RuntimeEvent::kNext}});
  }
  state_ = *to;
  answered_id_.clear();
  if (!parked_.empty()) {
    // The runtime asked again while parked: the newest request wins, the older one is refused.
    NextCallback old = std::move(parked_.front());
    parked_.clear();
    old(NextOutcome{std::nullopt, RuntimeReply::refused(RuntimeState::kReady, RuntimeEvent::kNext)});
  }
  if (auto* cur = first(); cur && !cur->delivered) {
    deliver(*cur, done);
    return;
  }
  parked_.push_back(std::move(done));
  // Nothing to do until an invoke comes (Lambda freezes the environment now): no sampling.
  if (group_) group_->set_idle(true);
  if (init_ends || from == RuntimeState::kResponseSent) {
    if (slots_.empty() && !ending_ && extensions_->ready()) observer_.on_idle(*this);
  }
}

void ExecutionEnvironment::handle_next_managed(NextCallback done) {
  // Each outstanding /next is an idle slot; it takes the oldest invocation not yet delivered. A
  // /next releases nothing: an invocation is over when its own post comes.
  if (auto* cur = undelivered()) {
    deliver(*cur, done);
    return;
  }
  parked_.push_back(std::move(done));
  if (slots_.empty() && group_) group_->set_idle(true);
  if (slots_.empty() && !ending_ && extensions_->ready()) observer_.on_idle(*this);
}

void ExecutionEnvironment::remember_answered(const std::string& request_id) {
  answered_ids_.push_back(request_id);
  // Enough to refuse a runtime's second post for any invoke of its last round of slots.
  while (answered_ids_.size() > 2 * capacity_ + 8) answered_ids_.pop_front();
}

bool ExecutionEnvironment::was_answered(std::string_view request_id) const {
  return std::find(answered_ids_.begin(), answered_ids_.end(), request_id) != answered_ids_.end();
}

std::optional<RuntimeReply> ExecutionEnvironment::validate_post(std::string_view request_id, RuntimeEvent event) {
  // The id is checked before the state, as Lambda does: an id stays bound to the environment
  // from delivery until the runtime's next /next (with slots: while it is among the last
  // answered), so a second post for it is a refused transition, while any other id is invalid.
  if (!timed_out_id_.empty() && request_id == timed_out_id_) return RuntimeReply::invoke_timeout();
  Current* cur = slot(request_id);
  if (cur && !cur->delivered) cur = nullptr;
  if (managed()) {
    if (!cur) {
      if (was_answered(request_id)) return RuntimeReply::refused(RuntimeState::kResponseSent, event);
      return RuntimeReply::invalid_request_id();
    }
    if (cur->stream) return RuntimeReply::refused(RuntimeState::kResponseSent, event);
    return std::nullopt;
  }
  const bool bound_answered = state_ == RuntimeState::kResponseSent && answered_id_ == request_id;
  if (!cur && !bound_answered) return RuntimeReply::invalid_request_id();
  // While a response streams, it has been sent as far as the runtime is concerned.
  if (cur && cur->stream) return RuntimeReply::refused(RuntimeState::kResponseSent, event);
  if (!transition(state_, event)) return RuntimeReply::refused(state_, event);
  return std::nullopt;
}

RuntimeReply ExecutionEnvironment::response(std::string_view request_id, RuntimePost post) {
  if (auto refused = validate_post(request_id, RuntimeEvent::kResponse)) return *refused;
  if (!managed()) state_ = *transition(state_, RuntimeEvent::kResponse);
  Current& cur = *slot(request_id);
  invocation::InvocationResult r;
  if (post.too_large) {
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = std::string(error_types::kFunctionResponseSizeTooLarge);
    r.payload = nlohmann::ordered_json{{"errorMessage", "Response payload size exceeded maximum allowed payload size (6291556 bytes)."},
                                       {"errorType", error_types::kFunctionResponseSizeTooLarge}}
                    .dump();
    finish(cur, std::move(r), "error");
    offer();
    return RuntimeReply{RuntimeReply::Code::kPayloadTooLarge, state_, RuntimeEvent::kResponse};
  }
  r.outcome = invocation::Outcome::kSuccess;
  r.payload = std::move(post.body);
  finish(cur, std::move(r));
  offer();
  return RuntimeReply::accepted();
}

RuntimeReply ExecutionEnvironment::error(std::string_view request_id, RuntimePost post) {
  if (auto refused = validate_post(request_id, RuntimeEvent::kError)) return *refused;
  if (!managed()) state_ = *transition(state_, RuntimeEvent::kError);
  Current& cur = *slot(request_id);
  invocation::InvocationResult r;
  r.outcome = invocation::Outcome::kFunctionError;
  r.error_type = post.error_type;
  r.payload = post.too_large ? platform_error(error_types::kFunctionUnknown, request_id, "error body too large")
                             : std::move(post.body);
  if (!post.content_type.empty()) r.content_type = post.content_type;
  finish(cur, std::move(r), "error");
  offer();
  return RuntimeReply::accepted();
}

RuntimeReply ExecutionEnvironment::init_error(RuntimePost post) {
  // With slots every worker of the runtime may report its init's failure: the first one counts,
  // the others are refused as a second report is.
  auto to = transition(state_, RuntimeEvent::kInitError);
  if (!to) return RuntimeReply::refused(state_, RuntimeEvent::kInitError);
  state_ = *to;
  init_duration_ms_ = ms_between(spawned_at_, clock_.now());
  const std::string type = post.error_type.empty() ? std::string(error_types::kRuntimeUnknown) : post.error_type;
  log_init_report("error", type);
  telemetry_init_end("error", type);
  // Lambda answers the waiting invokes with the init error, byte for byte.
  while (auto* cur = first()) {
    invocation::InvocationResult r;
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = type;
    r.payload = post.body;
    if (!post.content_type.empty()) r.content_type = post.content_type;
    if (!cur->delivered) mark_started(*cur);
    finish(*cur, std::move(r), "error");
  }
  // The runtime is expected to exit; the environment is over either way and the next invoke
  // retries init in a new one.
  become_dead();
  return RuntimeReply::accepted();
}

}  // namespace lambdad::sandbox
