// async: Event invocations the way Lambda runs them (docs/decisions/006). EventQueue makes each
// accepted event durable in the spool, queues it per function, hands attempts to the
// Dispatcher as capacity allows (a throttle is retried with backoff, never dropped), retries
// function errors per MaximumRetryAttempts, expires events past MaximumEventAgeInSeconds, and
// sends the outcome to the OnSuccess / OnFailure destinations and the dead-letter queue. It runs
// on the daemon's one thread (decision 001) and measures time only through Clock and Timers; its
// writes to disk go through a SpoolWriter on the daemon's BlockingPool, and what depends on them
// (the 202, running the event, the outcome's observer) waits for their completion.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lambdad/async/destination_record.hpp"
#include "lambdad/async/event_spool.hpp"
#include "lambdad/async/spool_writer.hpp"
#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/clock.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/result.hpp"
#include "lambdad/common/timer.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/control_plane/catalogue_change.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::async {

struct EventQueueOptions {
  std::filesystem::path events_dir;        // the spool
  std::filesystem::path destinations_dir;  // JSON-lines destinations
  bool durable = true;                     // fsync (off for a state directory deleted at exit)
  // Lambda waits about 1 min before the first retry and 2 min before the second; tests scale
  // that down (--async-retry-base). Throttle backoff starts at base/60 (Lambda: 1 s).
  std::chrono::milliseconds retry_base{60000};
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
};

// What decides a function's Event invocations; replaceable at runtime (control plane).
struct FunctionSettings {
  std::optional<config::EventInvokeConfig> event_invoke_config;  // unset: Lambda's defaults
  std::optional<config::DeadLetterConfig> dead_letter;
  std::optional<int> reserved_concurrency;  // 0: every event fails with ZeroReservedConcurrency

};

struct AsyncCounters {
  std::uint64_t accepted = 0;   // 202s
  std::uint64_t retries = 0;    // function errors that were retried
  std::uint64_t throttles = 0;  // attempts the Dispatcher refused (re-queued)
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;   // every final failure
  std::uint64_t expired = 0;  // the failures that were EventAgeExceeded
  std::size_t queued = 0;     // now: waiting (for capacity or a retry delay)
  std::size_t in_flight = 0;  // now: running
};

// An Event invocation's final outcome, as its destinations got it (for observers such as
// `lambdad test`, which checks Event cases through them).
struct FinalOutcome {
  std::string request_id;
  std::string function_name;
  Condition condition = Condition::kSuccess;
  int approximate_invoke_count = 0;
  bool success = false;  // the OnSuccess side; otherwise OnFailure
  // The OnSuccess or OnFailure destination the record was sent to; nullopt when the function has
  // none configured for this outcome (the record then went nowhere).
  std::optional<config::EventDestination> destination;
  std::string record;      // the destination record (JSON), built even when there is no destination
  bool delivered = false;  // every destination (and the DLQ) took what it was sent
};

class EventQueue {
 public:
  using OutcomeObserver = std::function<void(const FinalOutcome&)>;

  EventQueue(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers, BlockingPool& blocking,
             EventQueueOptions options);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // The function's settings from now on (they replace any earlier ones). A changed reservation
  // wakes its queue: one waiting on a throttle may run now, or fail for zero concurrency.
  void set_function(const std::string& name, FunctionSettings settings);
  // Follows the function catalogue (docs/decisions/019): its EventSettingsChanged are
  // set_function; the other changes are the pools'.
  void follow(const control_plane::CatalogueChange& change);

  // Replays what the spool kept from earlier runs and starts dispatching; returns how many
  // events were replayed. Events of functions this daemon does not have stay in the spool.
  // Before the first accept: it reads (and tidies) the directory new events are written to.
  std::size_t start();
  // Stops dispatching and cancels timers. Attempts still running are not recorded: their events
  // stay in the spool and run again at the next start (at least once). Writes already handed
  // over go on, and their completions run while the loop does (an accept still answers 202).
  void shutdown();
  // Once the loop has stopped: waits until every write handed over is on disk, writing what
  // still waits on this thread (their completions are dropped: no one is left to answer).
  // Before the state directory is released; the destructor does it too.
  void flush();
  // The daemon is stopping: no further attempt starts (queued events and retries stay spooled
  // for the next start), while those running still finish and their outcome is recorded.
  void drain();
  // True while an attempt of this event runs.
  bool attempt_running(const std::string& request_id) const;

  // Spools the invocation on the blocking pool; once it is durable, queues it and calls
  // `done(Ok)` on the io thread, and the caller answers 202. An error means the event was not
  // accepted and nothing was queued; the caller answers 500, never 202. Only a refusal known at
  // once (the daemon is shutting down) calls `done` before accept returns. Not called if the
  // queue is destroyed first.
  void accept(const invocation::Invocation& inv, std::function<void(Status)> done);

  // Called once per event whose outcome is final, after its destinations were written; on the
  // daemon's thread, in the completion of those writes (post before dispatching).
  void set_outcome_observer(OutcomeObserver observer) { observer_ = std::move(observer); }

  std::optional<AsyncCounters> counters(const std::string& name) const;
  const SpoolTimings& spool_timings() const { return writer_.timings(); }

 private:
  struct Pending {
    SpooledEvent event;
    std::unique_ptr<Timer> retry_timer;  // while a retry delay runs
    bool in_flight = false;
  };
  struct FunctionQueue {
    FunctionSettings settings;
    std::deque<std::string> ready;  // request ids, in the order they may run
    std::unique_ptr<Timer> wake;    // the next pump: at once, or after a throttle backoff
    int throttle_step = 0;
    bool backing_off = false;
    bool account_throttled = false;  // the last throttle was the account's, not the function's
    bool pumping = false;
    AsyncCounters counters;
  };

  // What the completion of an outcome's writes reports on.
  struct Sent {
    std::string function_name;
    std::string request_id;
    Condition condition = Condition::kSuccess;
    int approximate_invoke_count = 0;
    std::optional<config::EventDestination> to;
    std::string record;
    std::string dead_letter_file;
  };

  FunctionQueue& queue_of(const std::string& name);
  // Hands a new event to the writer; once durable it is queued, then `done` is called.
  void spool_new(SpooledEvent event, std::function<void(Status)> done);
  // A new event is durable: it joins its function's queue.
  void queue_accepted(SpooledEvent event);
  void queue_replayed(SpooledEvent event);
  // Schedules a pump at once (a queue waiting on a throttle only `even_if_backing_off`).
  void kick(const std::string& name, bool even_if_backing_off);
  void pump(const std::string& name);
  // Hands one attempt to the Dispatcher.
  invocation::Admission attempt(const std::string& name, FunctionQueue& q, Pending& pending);
  void back_off(const std::string& name, FunctionQueue& q, invocation::Admission why,
                std::chrono::milliseconds until_expiry);
  void completed(const std::string& name, const std::string& request_id, invocation::InvocationResult result);
  void function_failed(const std::string& name, FunctionQueue& q, Pending& pending, AttemptResponse response);
  void retry_due(const std::string& name, const std::string& request_id);
  // Why an event may not run now, if so.
  std::optional<Condition> refusal(const FunctionQueue& q, const Pending& pending) const;
  // The outcome is final: counters, then its destinations are written and the event leaves the
  // spool (delivered). Invalidates `pending`.
  void finish(FunctionQueue& q, Pending& pending, OutcomeSummary outcome);
  // What reaches `to`: a local function's new event, or a line in the destination's file.
  void address(const config::EventDestination& to, const SpooledEvent& event, const std::string& record,
               bool success, Delivery& delivery) const;
  Result<SpooledEvent> destination_event(const std::string& target, const SpooledEvent& source,
                                         const std::string& record) const;
  // The completion of an outcome's writes: logs, the destination's event queued, the observer.
  void delivered(const Sent& sent, Delivered result);

  config::EventInvokeConfig invoke_config(const FunctionQueue& q) const;
  std::int64_t expiry_epoch_ms(const FunctionQueue& q, const SpooledEvent& event) const;
  std::string executed_function_arn(const SpooledEvent& event) const;
  invocation::InvocationPtr make_invocation(const SpooledEvent& event) const;

  invocation::Dispatcher& dispatcher_;
  const Clock& clock_;
  Timers& timers_;
  EventQueueOptions options_;
  EventSpool spool_;  // read once, by start(); every write goes through writer_
  SpoolWriter writer_;
  std::map<std::string, FunctionQueue> functions_;
  std::map<std::string, Pending> events_;  // by request id
  OutcomeObserver observer_;
  bool started_ = false;
  bool shut_down_ = false;
  bool draining_ = false;
  Lifetime lifetime_;
};

}  // namespace lambdad::async
