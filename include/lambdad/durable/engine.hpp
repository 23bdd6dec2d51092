// durable: the daemon's durable executions (docs/decisions/026): starting them (idempotent by
// name), the checkpoint tokens, and the invocations that drive them. At most one invocation of
// an execution is in flight; a change that arrives meanwhile (a callback's answer) makes one more
// afterwards. The handler's answer decides what follows (lambda-spec §10.2): PENDING waits for
// what is due next, SUCCEEDED and FAILED end the execution, an error is retried after a back-off
// and ends the execution FAILED after five in a row.
//
// Time: every delay the engine waits for is divided by the time scale. Each execution keeps its
// own offset from the clock, moved forward when a scaled timer fires, so its timestamps stay
// monotonic and a wait of a day ends a day after it began in the execution's own record.
//
// No I/O: the invocations go through DurableInvoker, the time through Clock and Timers. Runs on
// the daemon's domain.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/common/clock.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/result.hpp"
#include "lambdad/common/timer.hpp"
#include "lambdad/durable/checkpoint.hpp"
#include "lambdad/durable/store.hpp"

namespace lambdad::durable {

class DurableInvoker {
 public:
  virtual ~DurableInvoker() = default;
  struct Outcome {
    std::string request_id;
    bool function_error = false;  // the invocation failed (the handler threw, timed out, crashed)
    std::string payload;          // the handler's answer, or the error's body
  };
  // Invokes the execution's function (its qualified, pinned `function_arn`) with `event`;
  // `done` is called once, later, on the domain.
  virtual void invoke(const Execution& execution, std::string event, std::function<void(Outcome)> done) = 0;
  // A CHAINED_INVOKE's call of `function` (a name, NAME:QUALIFIER or an ARN) with `payload`;
  // `done` is called once, later, on the domain, with the outcome's Result or its ErrorObject.
  struct ChainedOutcome {
    std::optional<std::string> result;
    std::optional<nlohmann::json> error;
  };
  virtual void chained_invoke(const std::string& function, std::string payload, const std::string& tenant_id,
                              std::function<void(ChainedOutcome)> done) = 0;
};

struct EngineOptions {
  double time_scale = 1.0;  // > 0
  int max_failed_invocations = 5;
  std::chrono::milliseconds failure_backoff{5000};
};

class Engine {
 public:
  // `store` (may be null: nothing is kept) receives every change before it is answered.
  Engine(const Clock& clock, Timers& timers, DurableInvoker& invoker, EngineOptions options,
         std::function<std::string()> new_id, Store* store = nullptr);
  // Takes up the stored executions: the running ones are invoked again (the invocation they had
  // in flight ended with the daemon; replay makes that safe), the ended ones past their retention
  // are deleted. Returns how many are running.
  Result<std::size_t> recover();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  struct StartRequest {
    std::string function_arn;  // qualified
    std::string version;
    std::string name;  // empty: one is made
    std::string input;
    std::int64_t execution_timeout_s = 0;  // 0: none
    int retention_days = 14;               // RetentionPeriodInDays
    // > 0: this execution's own time scale (`lambdad test`'s per-case timeScale), used instead of
    // EngineOptions::time_scale for its delays. Not stored: an execution taken up by recover()
    // runs at the engine's scale.
    double time_scale = 0;
  };
  struct Started {
    std::string arn;
    bool existing = false;  // the same name and input: the execution already started
  };
  // An Error kConflict (DurableExecutionAlreadyStartedException) when the name is taken by an
  // execution with another input, or one that has ended.
  Result<Started> start(const StartRequest& request);
  // Called once when the execution ends (at once if it has).
  void on_end(const std::string& arn, std::function<void(const Execution&)> done);

  const Execution* find(const std::string& arn) const;
  std::vector<const Execution*> executions() const;

  struct CheckpointReply {
    std::string token;  // empty once the execution has ended
    std::vector<const Operation*> changed;
  };
  // CheckpointDurableExecution. Errors: kNotFound, kInvalidInput (InvalidParameterValueException:
  // "Invalid Checkpoint Token: ..." for a token that is not the execution's current one, and
  // every refusal of apply()).
  Result<CheckpointReply> checkpoint(const std::string& arn, const std::string& token, const nlohmann::json& updates);
  // GetDurableExecutionState: a page of operations after `marker` (their position).
  struct StatePage {
    std::vector<const Operation*> operations;
    std::string next_marker;
  };
  Result<StatePage> state(const std::string& arn, const std::string& token, const std::string& marker,
                          std::size_t max_items) const;
  // StopDurableExecution; an Error kNotFound, or kConflict when it has already ended.
  Result<std::int64_t> stop(const std::string& arn, std::optional<nlohmann::json> error);
  // SendDurableExecutionCallback{Success,Failure,Heartbeat}.
  Status callback(const std::string& callback_id, CallbackAnswer answer, std::optional<std::string> result,
                  std::optional<nlohmann::json> error);

  // The execution's own time (the clock plus its offset), epoch milliseconds.
  std::int64_t now_ms(const std::string& arn) const;

 private:
  struct Run;
  Run* run_of(const std::string& arn);
  const Run* run_of(const std::string& arn) const;
  std::int64_t now_of(const Run& r) const;
  void invoke(Run& r);
  void invoked(const std::string& arn, std::int64_t started_ms, DurableInvoker::Outcome outcome);
  void changed(Run& r);  // something new for the handler: invoke now, or after the one in flight
  void arm(Run& r);      // the timer for what is due next
  void due(const std::string& arn, std::int64_t due_ms);
  void ended(Run& r);
  void start_chained(Run& r);  // the CHAINED_INVOKE operations started and not yet called
  std::string new_token(Run& r);
  void persist(Run& r);

  const Clock& clock_;
  Timers& timers_;
  DurableInvoker& invoker_;
  EngineOptions options_;
  std::function<std::string()> new_id_;
  Store* store_;
  std::map<std::string, std::unique_ptr<Run>> runs_;  // by ARN
  std::map<std::string, std::string> by_name_;        // name -> ARN
  Lifetime lifetime_;
};

}  // namespace lambdad::durable
