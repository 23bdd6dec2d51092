#include "lambdad/async/event_queue.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lambdad/async/record_log.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/io_thread.hpp"
#include "lambdad/invocation/function_name.hpp"
#include "lambdad/observability/logging.hpp"

namespace lambdad::async {
namespace {

using std::chrono::milliseconds;

Error service_error(ErrorKind kind, std::string message) {
  return Error{kind, std::string(error_types::kServiceException), std::move(message)};
}

}  // namespace

EventQueue::EventQueue(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers,
                       BlockingPool& blocking, EventQueueOptions options)
    : dispatcher_(dispatcher),
      clock_(clock),
      timers_(timers),
      options_(std::move(options)),
      spool_(options_.events_dir, options_.durable),
      writer_(blocking, spool_, RecordLog(options_.destinations_dir, options_.durable)) {}

EventQueue::~EventQueue() {
  lifetime_.end();
  shutdown();
}

EventQueue::FunctionQueue& EventQueue::queue_of(const std::string& name) {
  auto [it, inserted] = functions_.try_emplace(name);
  if (inserted) it->second.wake = timers_.make_timer();
  return it->second;
}

void EventQueue::set_function(const std::string& name, FunctionSettings settings) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto& current = queue_of(name).settings;
  const bool reservation_changed = current.reserved_concurrency != settings.reserved_concurrency;
  current = std::move(settings);
  if (reservation_changed) kick(name, true);
}

void EventQueue::follow(const control_plane::CatalogueChange& change) {
  if (const auto* settings = std::get_if<control_plane::EventSettingsChanged>(&change)) {
    set_function(settings->name,
                 FunctionSettings{settings->event_invoke_config, settings->dead_letter, settings->reserved_concurrency});
  }
}

std::size_t EventQueue::start() {
  LAMBDAD_ASSERT_IO_THREAD();
  if (started_ || shut_down_) return 0;
  started_ = true;
  auto log = observability::daemon_log();
  auto load = spool_.load();
  for (const auto& problem : load.problems) log->error("event spool: {}", problem);
  std::map<std::string, std::size_t> unknown;
  std::size_t replayed = 0;
  for (auto& event : load.events) {
    if (events_.count(event.request_id) != 0) continue;  // accepted by this run already
    if (!dispatcher_.has_function(event.function_name)) {
      ++unknown[event.function_name];
      continue;
    }
    queue_replayed(std::move(event));
    ++replayed;
  }
  for (const auto& [name, n] : unknown) {
    log->warn("the event spool holds {} Event invocation(s) of {}, which this template does not define; they stay in {}",
              n, name, spool_.dir().string());
  }
  if (replayed > 0) log->info("replaying {} Event invocation(s) from {}", replayed, spool_.dir().string());
  for (auto& [name, q] : functions_) {
    if (!q.ready.empty()) kick(name, false);
  }
  return replayed;
}

void EventQueue::shutdown() {
  LAMBDAD_ASSERT_IO_THREAD();
  shut_down_ = true;
  for (auto& [name, q] : functions_) q.wake->cancel();
  for (auto& [id, pending] : events_) pending.retry_timer.reset();
}

void EventQueue::flush() {
  LAMBDAD_ASSERT_IO_THREAD();
  writer_.flush();
}

void EventQueue::drain() {
  LAMBDAD_ASSERT_IO_THREAD();
  draining_ = true;
  for (auto& [name, q] : functions_) q.wake->cancel();
}

bool EventQueue::attempt_running(const std::string& request_id) const {
  auto ev = events_.find(request_id);
  return ev != events_.end() && ev->second.in_flight;
}

void EventQueue::accept(const invocation::Invocation& inv, std::function<void(Status)> done) {
  LAMBDAD_ASSERT_IO_THREAD();
  if (shut_down_) return done(service_error(ErrorKind::kConflict, "the daemon is shutting down"));
  SpooledEvent event;
  invocation::copy_request_fields(inv, event);
  event.function_name = inv.function_name;
  event.qualifier = inv.qualifier;
  event.version = inv.version;
  event.received_epoch_ms = clock_.epoch_ms();
  spool_new(std::move(event), std::move(done));
}

void EventQueue::spool_new(SpooledEvent event, std::function<void(Status)> done) {
  const std::string name = event.function_name;
  const std::string id = event.request_id;
  auto spooled = [this, name, id, done = std::move(done)](Result<SpooledEvent> written) {
    LAMBDAD_ASSERT_IO_THREAD();
    if (!written) {
      observability::daemon_log()->error("[{}] [{}] cannot spool the Event invocation: {}", name, id,
                                         written.error().message);
      return done(written.error());
    }
    // Durable: only now may it run, and only now is it answered.
    queue_accepted(std::move(written).value());
    done(Ok{});
  };
  writer_.put(std::move(event), lifetime_.guard(std::move(spooled)));
}

void EventQueue::queue_accepted(SpooledEvent event) {
  const std::string name = event.function_name;
  const std::string id = event.request_id;
  FunctionQueue& q = queue_of(name);
  ++q.counters.accepted;
  if (events_.count(id) != 0) return;  // written before start(), which replayed it already
  events_.insert_or_assign(id, Pending{std::move(event), nullptr, false});
  q.ready.push_back(id);
  if (started_) kick(name, false);
}

void EventQueue::queue_replayed(SpooledEvent event) {
  const std::string name = event.function_name;
  const std::string id = event.request_id;
  const std::int64_t wait_ms = event.next_attempt_epoch_ms - clock_.epoch_ms();
  FunctionQueue& q = queue_of(name);
  Pending& pending = events_.insert_or_assign(id, Pending{std::move(event), nullptr, false}).first->second;
  if (wait_ms > 0) {
    pending.retry_timer = timers_.make_timer();
    pending.retry_timer->arm(clock_.now() + milliseconds(wait_ms), [this, name, id] { retry_due(name, id); });
  } else {
    q.ready.push_back(id);
  }
}

void EventQueue::kick(const std::string& name, bool even_if_backing_off) {
  auto it = functions_.find(name);
  if (shut_down_ || draining_ || !started_ || it == functions_.end()) return;
  FunctionQueue& q = it->second;
  // A new event waits behind a throttled queue; capacity that was freed ends the wait.
  if (q.backing_off && !even_if_backing_off) return;
  q.backing_off = false;
  // Through a timer, so that dispatching never happens inside an environment's completion.
  q.wake->arm(clock_.now(), [this, name] { pump(name); });
}

void EventQueue::pump(const std::string& name) {
  auto it = functions_.find(name);
  if (shut_down_ || draining_ || it == functions_.end()) return;
  FunctionQueue& q = it->second;
  if (q.pumping || q.backing_off) return;
  q.pumping = true;
  while (!q.ready.empty() && !shut_down_) {
    const std::string id = q.ready.front();
    q.ready.pop_front();
    auto ev = events_.find(id);
    if (ev == events_.end() || ev->second.in_flight) continue;
    if (auto why = refusal(q, ev->second)) {
      OutcomeSummary outcome{*why, ev->second.event.attempts, ev->second.event.last_response};
      if (*why == Condition::kZeroReservedConcurrency) outcome.response.reset();
      finish(q, ev->second, std::move(outcome));
      continue;
    }
    const auto expiry = expiry_epoch_ms(q, ev->second.event);
    const auto admission = attempt(name, q, ev->second);
    if (admission != invocation::Admission::kAccepted) {
      q.ready.push_front(id);
      back_off(name, q, admission, milliseconds(expiry - clock_.epoch_ms()));
      break;
    }
  }
  q.pumping = false;
}

std::optional<Condition> EventQueue::refusal(const FunctionQueue& q, const Pending& pending) const {
  if (q.settings.reserved_concurrency == 0) return Condition::kZeroReservedConcurrency;
  if (clock_.epoch_ms() >= expiry_epoch_ms(q, pending.event)) return Condition::kEventAgeExceeded;
  return std::nullopt;
}

invocation::Admission EventQueue::attempt(const std::string& name, FunctionQueue& q, Pending& pending) {
  auto inv = make_invocation(pending.event);
  inv->on_complete = lifetime_.guard([this, name, id = pending.event.request_id](invocation::InvocationResult r) {
    completed(name, id, std::move(r));
  });
  pending.in_flight = true;
  ++q.counters.in_flight;
  const auto admission = dispatcher_.dispatch(std::move(inv));
  // Admitted: `pending` may already be gone (a dispatcher may complete at once).
  if (admission == invocation::Admission::kAccepted) {
    q.throttle_step = 0;
    return admission;
  }
  pending.in_flight = false;
  --q.counters.in_flight;
  ++q.counters.throttles;
  return admission;
}

void EventQueue::back_off(const std::string& name, FunctionQueue& q, invocation::Admission why,
                          milliseconds until_expiry) {
  // Lambda: 1 s, doubling up to 5 min, for a 1 min retry base; scaled with it, at least 1 ms.
  const milliseconds initial = std::max(milliseconds(1), options_.retry_base / 60);
  const milliseconds cap = std::max(initial, options_.retry_base * 5);
  milliseconds delay = initial;
  for (int i = 0; i < q.throttle_step && delay < cap; ++i) delay *= 2;
  // Never sleep past the moment the head of the queue expires: it fails then, not later.
  delay = std::max(milliseconds(1), std::min({delay, cap, until_expiry}));
  q.throttle_step = std::min(q.throttle_step + 1, 32);
  q.backing_off = true;
  q.account_throttled = why == invocation::Admission::kThrottledAccount;
  observability::daemon_log()->debug("[{}] Event invocations throttled ({}); trying again in {} ms", name,
                                     q.account_throttled ? "account concurrency" : "reserved concurrency",
                                     delay.count());
  q.wake->arm(clock_.now() + delay, [this, name] {
    auto it = functions_.find(name);
    if (it == functions_.end()) return;
    it->second.backing_off = false;
    pump(name);
  });
}

void EventQueue::completed(const std::string& name, const std::string& request_id,
                           invocation::InvocationResult result) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto ev = events_.find(request_id);
  auto qit = functions_.find(name);
  if (shut_down_ || ev == events_.end() || qit == functions_.end()) return;
  FunctionQueue& q = qit->second;
  Pending& pending = ev->second;
  pending.in_flight = false;
  --q.counters.in_flight;
  ++pending.event.attempts;
  AttemptResponse response{std::move(result.payload), result.executed_version};
  if (result.outcome == invocation::Outcome::kSuccess) {
    finish(q, pending, OutcomeSummary{Condition::kSuccess, pending.event.attempts, std::move(response)});
  } else {
    function_failed(name, q, pending, std::move(response));
  }
  // Capacity was freed: this queue, and those the account limit throttled, may run now.
  kick(name, true);
  for (auto& [other, oq] : functions_) {
    if (oq.backing_off && oq.account_throttled) kick(other, true);
  }
}

void EventQueue::function_failed(const std::string& name, FunctionQueue& q, Pending& pending,
                                 AttemptResponse response) {
  SpooledEvent& event = pending.event;
  const auto config = invoke_config(q);
  if (event.attempts > config.maximum_retry_attempts) {
    return finish(q, pending, OutcomeSummary{Condition::kRetriesExhausted, event.attempts, std::move(response)});
  }
  // Lambda waits about 1 min, then 2 min; it does not wait for a retry the age limit forbids.
  const milliseconds delay = options_.retry_base * event.attempts;
  const std::int64_t now = clock_.epoch_ms();
  if (now + delay.count() >= expiry_epoch_ms(q, event)) {
    return finish(q, pending, OutcomeSummary{Condition::kEventAgeExceeded, event.attempts, std::move(response)});
  }
  event.next_attempt_epoch_ms = now + delay.count();
  event.last_response = std::move(response);
  auto log = observability::daemon_log();
  // The retry does not wait for it: losing this write only means the older attempt count.
  writer_.replace(event, [name, id = event.request_id](Status st) {
    if (st) return;
    observability::daemon_log()->error(
        "[{}] [{}] cannot record the retry in the spool ({}); after a restart the event starts over", name, id,
        st.error().message);
  });
  ++q.counters.retries;
  log->info("[{}] [{}] Event invocation failed (attempt {} of {}); retrying in {} ms", name, event.request_id,
            event.attempts, config.maximum_retry_attempts + 1, delay.count());
  const std::string id = event.request_id;
  pending.retry_timer = timers_.make_timer();
  pending.retry_timer->arm(clock_.now() + delay, [this, name, id] { retry_due(name, id); });
}

void EventQueue::retry_due(const std::string& name, const std::string& request_id) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto ev = events_.find(request_id);
  if (shut_down_ || ev == events_.end()) return;
  ev->second.event.next_attempt_epoch_ms = 0;
  queue_of(name).ready.push_back(request_id);
  pump(name);
}

void EventQueue::finish(FunctionQueue& q, Pending& pending, OutcomeSummary outcome) {
  SpooledEvent event = std::move(pending.event);
  events_.erase(event.request_id);
  const bool success = outcome.condition == Condition::kSuccess;
  if (success) {
    ++q.counters.succeeded;
  } else {
    ++q.counters.failed;
    if (outcome.condition == Condition::kEventAgeExceeded) ++q.counters.expired;
    observability::daemon_log()->info("[{}] [{}] Event invocation failed: {} after {} attempt(s)", event.function_name,
                                      event.request_id, condition_name(outcome.condition),
                                      outcome.approximate_invoke_count);
  }
  const auto& config = q.settings.event_invoke_config;
  const std::optional<config::EventDestination> none;
  const auto& to = !config ? none : success ? config->on_success : config->on_failure;
  Sent sent{event.function_name, event.request_id, outcome.condition, outcome.approximate_invoke_count, to, {}, {}};
  if (to || observer_) {
    sent.record = destination_record(event, executed_function_arn(event), outcome, clock_.epoch_ms());
  }
  Delivery delivery;
  delivery.request_id = event.request_id;
  if (to) address(*to, event, sent.record, success, delivery);
  if (!success && q.settings.dead_letter) {
    const auto& dlq = *q.settings.dead_letter;
    sent.dead_letter_file = destination_file_name("dlq-" + dlq.type, dlq.target_arn);
    delivery.dead_letter = RecordLine{sent.dead_letter_file, dead_letter_message(event, outcome)};
  }
  writer_.deliver(std::move(delivery), lifetime_.guard([this, sent = std::move(sent)](Delivered result) {
                    delivered(sent, std::move(result));
                  }));
}

void EventQueue::address(const config::EventDestination& to, const SpooledEvent& event, const std::string& record,
                         bool success, Delivery& delivery) const {
  if (to.type == "Lambda") {
    auto target = destination_event(to.destination, event, record);
    if (target) {
      delivery.function_event = std::move(target).value();
    } else {
      observability::daemon_log()->warn("[{}] [{}] {} destination {}: {}; the record is written to a file instead",
                                        event.function_name, event.request_id, success ? "OnSuccess" : "OnFailure",
                                        to.destination, target.error().message);
    }
  }
  std::string line = record;
  if (to.type == "EventBridge") {
    line = eventbridge_event(record, success,
                             EventBridgeEnvelope{ids::request_id(), options_.region, options_.account_id,
                                                 to.destination, executed_function_arn(event), clock_.epoch_ms()});
  }
  // With a function event, the file only if that cannot be spooled.
  delivery.record = RecordLine{destination_file_name(to.type, to.destination), std::move(line)};
}

Result<SpooledEvent> EventQueue::destination_event(const std::string& target, const SpooledEvent& source,
                                                   const std::string& record) const {
  // A function's name, name:qualifier, or its (partial) ARN: Invoke's reading of a name.
  auto parsed = invocation::parse_function_name(target);
  if (!parsed) return service_error(ErrorKind::kInvalidInput, "not a function name or ARN");
  if (!dispatcher_.has_function(parsed->name)) {
    return service_error(ErrorKind::kNotFound, "no local function has that name");
  }
  const std::string qualifier = parsed->qualifier.value_or("$LATEST");
  auto version = dispatcher_.resolve(parsed->name, qualifier);
  if (!version) return service_error(ErrorKind::kNotFound, fmt::format("the function has no version or alias {}", qualifier));
  // The destination gets an Event invocation of its own: a new request id, spooled like any.
  SpooledEvent event;
  event.request_id = ids::request_id();
  event.function_name = parsed->name;
  event.qualifier = qualifier;
  event.version = *version;
  event.invoked_function_arn =
      invocation::function_arn(options_.region, options_.account_id, parsed->name, parsed->qualifier.value_or(""));
  event.payload = record;
  event.trace_id = source.trace_id;
  event.received_epoch_ms = clock_.epoch_ms();
  return event;
}

void EventQueue::delivered(const Sent& sent, Delivered result) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto log = observability::daemon_log();
  const bool success = sent.condition == Condition::kSuccess;
  const char* which = success ? "OnSuccess" : "OnFailure";
  const auto file_of = [&](const std::string& name) { return (options_.destinations_dir / name).string(); };
  if (result.function_event) {
    auto& spooled = *result.function_event;
    if (spooled) {
      log->info("[{}] [{}] {} record sent to function {}", sent.function_name, sent.request_id, which,
                sent.to->destination);
      queue_accepted(std::move(spooled).value());
    } else {
      log->warn("[{}] [{}] {} destination {}: {}; the record is written to a file instead", sent.function_name,
                sent.request_id, which, sent.to->destination, spooled.error().message);
    }
  }
  if (result.record) {
    if (*result.record) {
      log->info("[{}] [{}] {} record written to {}", sent.function_name, sent.request_id, which,
                file_of(destination_file_name(sent.to->type, sent.to->destination)));
    } else {
      log->error("[{}] [{}] cannot write a destination record: {}", sent.function_name, sent.request_id,
                 result.record->error().message);
    }
  }
  if (result.dead_letter) {
    if (*result.dead_letter) {
      log->info("[{}] [{}] dead letter written to {}", sent.function_name, sent.request_id,
                file_of(sent.dead_letter_file));
    } else {
      log->error("[{}] [{}] cannot write a destination record: {}", sent.function_name, sent.request_id,
                 result.dead_letter->error().message);
    }
  }
  if (!result.complete) {
    log->error("[{}] [{}] the outcome could not be delivered; the event stays in the spool and runs again at the "
               "next start",
               sent.function_name, sent.request_id);
  }
  if (observer_) {
    observer_(FinalOutcome{sent.request_id, sent.function_name, sent.condition, sent.approximate_invoke_count,
                           success, sent.to, sent.record, result.complete});
  }
}

config::EventInvokeConfig EventQueue::invoke_config(const FunctionQueue& q) const {
  return q.settings.event_invoke_config.value_or(config::EventInvokeConfig{});
}

std::int64_t EventQueue::expiry_epoch_ms(const FunctionQueue& q, const SpooledEvent& event) const {
  return event.received_epoch_ms + std::int64_t{1000} * invoke_config(q).maximum_event_age_seconds;
}

std::string EventQueue::executed_function_arn(const SpooledEvent& event) const {
  return invocation::function_arn(options_.region, options_.account_id, event.function_name, event.version);
}

invocation::InvocationPtr EventQueue::make_invocation(const SpooledEvent& event) const {
  auto inv = std::make_shared<invocation::Invocation>();
  inv->request_id = event.request_id;
  inv->function_name = event.function_name;
  inv->qualifier = event.qualifier;
  inv->version = event.version;
  inv->invoked_function_arn = event.invoked_function_arn;
  inv->payload = event.payload;
  inv->trace_id = event.trace_id;
  inv->client_context = event.client_context;
  inv->tenant_id = event.tenant_id;
  inv->received = clock_.now();
  return inv;
}

std::optional<AsyncCounters> EventQueue::counters(const std::string& name) const {
  auto it = functions_.find(name);
  if (it == functions_.end()) return std::nullopt;
  AsyncCounters c = it->second.counters;
  c.queued = static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [&](const auto& entry) {
    return entry.second.event.function_name == name && !entry.second.in_flight;
  }));
  return c;
}

}  // namespace lambdad::async
