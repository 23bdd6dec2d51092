// durable: the operations of one durable execution and what a checkpoint may do to them
// (lambda-spec §10.4, docs/decisions/026). Pure functions of the execution, the updates and the
// time: the validations with their InvalidParameterValueException texts, each operation type's
// transitions, the history events they add, the callback ids they make, and what the service
// itself changes (a wait's end, a retry falling due, a callback's answer or timeout, the
// execution's end). No clock, no store, no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/common/result.hpp"

namespace lambdad::durable {

enum class OpType { kExecution, kContext, kStep, kWait, kCallback, kChainedInvoke };
enum class OpStatus { kStarted, kPending, kReady, kSucceeded, kFailed, kCancelled, kTimedOut, kStopped };
enum class Action { kStart, kSucceed, kFail, kRetry, kCancel };
enum class ExecutionStatus { kRunning, kSucceeded, kFailed, kTimedOut, kStopped };

std::string_view name(OpType t);  // "STEP", ...
std::string_view name(OpStatus s);
std::string_view name(Action a);
std::string_view name(ExecutionStatus s);

// One operation, as GetDurableExecutionState and the invoke event show it.
struct Operation {
  std::string id;
  std::string parent_id;
  std::string name;
  std::string sub_type;
  OpType type = OpType::kStep;
  OpStatus status = OpStatus::kStarted;
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;
  std::optional<std::string> input_payload;  // EXECUTION
  bool replay_children = false;              // CONTEXT
  std::optional<std::string> result;         // CONTEXT, STEP, CALLBACK, CHAINED_INVOKE
  std::optional<nlohmann::json> error;       // the ErrorObject
  int attempt = 0;                           // STEP: attempts finished
  std::optional<std::int64_t> next_attempt_ms;   // STEP, while PENDING
  std::optional<std::int64_t> scheduled_end_ms;  // WAIT
  std::string callback_id;                       // CALLBACK
  std::int64_t callback_timeout_s = 0;           // 0: none
  std::int64_t heartbeat_timeout_s = 0;          // 0: none
  std::optional<std::int64_t> heartbeat_ms;      // the last heartbeat (or the start)
  std::string chained_function;                  // CHAINED_INVOKE
  std::string chained_tenant;
  bool operator==(const Operation&) const = default;
};

// One entry of an OperationUpdate list (CheckpointDurableExecution's Updates).
struct OperationUpdate {
  std::string id;
  std::string parent_id;
  std::string name;
  OpType type = OpType::kStep;
  std::string sub_type;
  Action action = Action::kStart;
  std::optional<std::string> payload;
  std::optional<nlohmann::json> error;
  std::optional<bool> replay_children;
  std::optional<std::int64_t> next_attempt_delay_s;  // StepOptions
  std::optional<std::int64_t> wait_seconds;          // WaitOptions
  std::int64_t callback_timeout_s = 0;               // CallbackOptions
  std::int64_t heartbeat_timeout_s = 0;
  std::string chained_function;  // ChainedInvokeOptions
  std::string chained_tenant;
};

// One entry of GetDurableExecutionHistory.
struct HistoryEvent {
  std::int64_t event_id = 0;  // 1, 2, ...
  std::string type;           // "StepStarted", ...
  std::string sub_type;
  std::string id;  // the operation's
  std::string name;
  std::string parent_id;
  std::int64_t time_ms = 0;
  nlohmann::ordered_json details = nlohmann::ordered_json::object();  // "<type>Details"
};

struct Execution {
  std::string arn;
  std::string name;
  std::string function_arn;  // qualified
  std::string version;
  std::string input;  // the start's payload
  ExecutionStatus status = ExecutionStatus::kRunning;
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;
  std::optional<std::string> result;
  std::optional<nlohmann::json> error;
  std::vector<Operation> operations;  // in the order they began
  std::map<std::string, std::size_t> index;  // id -> position in operations
  std::vector<HistoryEvent> history;

  const Operation* find(const std::string& id) const;
  Operation* find(const std::string& id);
  bool running() const { return status == ExecutionStatus::kRunning; }
};

// A new execution: its EXECUTION operation (STARTED, the input as ExecutionDetails.InputPayload)
// and ExecutionStarted.
Execution start_execution(std::string arn, std::string name, std::string function_arn, std::string version,
                          std::string input, std::string execution_op_id, std::int64_t now_ms);

// The Updates of a checkpoint request, checked for shape (ids, names, types, actions, options);
// an Error (kInvalidInput, InvalidParameterValueException) says what is wrong.
Result<std::vector<OperationUpdate>> parse_updates(const nlohmann::json& updates);

struct Applied {
  std::vector<std::string> changed;  // ids of the operations it changed, in order
  bool closed = false;               // an EXECUTION update ended the execution
};
// Applies a checkpoint's updates at `now_ms`, all or nothing: an Error (kInvalidInput,
// InvalidParameterValueException) leaves `e` as it was. `new_callback_id` makes a CALLBACK's id.
Result<Applied> apply(Execution& e, const std::vector<OperationUpdate>& updates, std::int64_t now_ms,
                      const std::function<std::string(const Operation&)>& new_callback_id);

// What the service itself changes, each returning whether anything changed:
// due waits end (SUCCEEDED), due retries become READY, callbacks past a timeout end TIMED_OUT.
bool advance(Execution& e, std::int64_t now_ms);
// The earliest time advance() would change something; nullopt when nothing is scheduled.
std::optional<std::int64_t> next_due(const Execution& e);
// A callback's answer (SendDurableExecutionCallbackSuccess/Failure/Heartbeat). Errors:
// kNotFound (no such callback id), kConflict (the callback is not waiting any more).
enum class CallbackAnswer { kSuccess, kFailure, kHeartbeat };
Status answer_callback(Execution& e, const std::string& callback_id, CallbackAnswer answer,
                       std::optional<std::string> result, std::optional<nlohmann::json> error, std::int64_t now_ms);
// A chained invoke's outcome: the CHAINED_INVOKE operation ends SUCCEEDED (result) or FAILED (error).
Status finish_chained_invoke(Execution& e, const std::string& op_id, std::optional<std::string> result,
                             std::optional<nlohmann::json> error, std::int64_t now_ms);
// Ends a running execution (SUCCEEDED with a result, FAILED/TIMED_OUT/STOPPED with an error).
void close(Execution& e, ExecutionStatus status, std::optional<std::string> result,
           std::optional<nlohmann::json> error, std::int64_t now_ms);
// An invocation of the execution ended (InvocationCompleted).
void invocation_completed(Execution& e, const std::string& request_id, std::int64_t start_ms, std::int64_t end_ms,
                          std::optional<nlohmann::json> error);

// Wire shapes. Timestamps are epoch milliseconds in the invoke event (the SDKs divide them) and
// epoch seconds in the API's responses (the JS SDK reads numbers of seconds).
enum class TimeUnit { kMillis, kSeconds };
nlohmann::ordered_json operation_json(const Operation& op, TimeUnit unit);
nlohmann::ordered_json event_json(const HistoryEvent& ev, bool include_data);

}  // namespace lambdad::durable
