// The checkpoint rules of a durable execution (lambda-spec §10.4, docs/decisions/026). The texts
// of the refusals §10.4 lists are AWS's local emulators'; the others name what is wrong the same
// way, as InvalidParameterValueException.
#include "lambdad/durable/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "errors.hpp"

namespace lambdad::durable {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::int64_t kMaxDelaySeconds = 31622400;  // a year and a day: WaitSeconds, NextAttemptDelaySeconds
constexpr std::size_t kMaxErrorBytes = 32768;
constexpr std::size_t kMaxPayloadBytes = 6291456;

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::optional<OpType> type_of(std::string_view s) {
  if (s == "EXECUTION") return OpType::kExecution;
  if (s == "CONTEXT") return OpType::kContext;
  if (s == "STEP") return OpType::kStep;
  if (s == "WAIT") return OpType::kWait;
  if (s == "CALLBACK") return OpType::kCallback;
  if (s == "CHAINED_INVOKE") return OpType::kChainedInvoke;
  return std::nullopt;
}

std::optional<Action> action_of(std::string_view s) {
  if (s == "START") return Action::kStart;
  if (s == "SUCCEED") return Action::kSucceed;
  if (s == "FAIL") return Action::kFail;
  if (s == "RETRY") return Action::kRetry;
  if (s == "CANCEL") return Action::kCancel;
  return std::nullopt;
}

bool allowed(OpType t, Action a) {
  switch (t) {
    case OpType::kStep: return a != Action::kCancel;
    case OpType::kContext: return a == Action::kStart || a == Action::kSucceed || a == Action::kFail;
    case OpType::kWait:
    case OpType::kCallback:
    case OpType::kChainedInvoke: return a == Action::kStart || a == Action::kCancel;
    case OpType::kExecution: return a == Action::kSucceed || a == Action::kFail;
  }
  return false;
}

// "StepStarted", "WaitCancelled", ...
std::string event_type(OpType t, std::string_view what) {
  static constexpr std::string_view names[] = {"Execution", "Context", "Step", "Wait", "Callback", "ChainedInvoke"};
  return std::string(names[static_cast<int>(t)]) + std::string(what);
}

ojson payload(const std::string& p) { return ojson{{"Payload", p}, {"Truncated", false}}; }
ojson error_payload(const json& e) { return ojson{{"Payload", e}, {"Truncated", false}}; }

void record(Execution& e, const Operation& op, std::string_view what, std::int64_t now_ms, ojson details = ojson::object()) {
  HistoryEvent ev;
  ev.event_id = static_cast<std::int64_t>(e.history.size()) + 1;
  ev.type = event_type(op.type, what);
  ev.sub_type = op.sub_type;
  ev.id = op.id;
  ev.name = op.name;
  ev.parent_id = op.parent_id;
  ev.time_ms = now_ms;
  ev.details = std::move(details);
  e.history.push_back(std::move(ev));
}

Operation& add(Execution& e, const OperationUpdate& u, std::int64_t now_ms) {
  Operation op;
  op.id = u.id;
  op.parent_id = u.parent_id;
  op.name = u.name;
  op.sub_type = u.sub_type;
  op.type = u.type;
  op.status = OpStatus::kStarted;
  op.start_ms = now_ms;
  e.index[op.id] = e.operations.size();
  e.operations.push_back(std::move(op));
  return e.operations.back();
}

void end(Operation& op, OpStatus status, std::int64_t now_ms) {
  op.status = status;
  op.end_ms = now_ms;
}

Error refused(const OperationUpdate& u, const Operation* op) {
  return invalid_parameter(fmt::format("Cannot {} {} operation {}: it is {}.", name(u.action), name(u.type), u.id,
                             op == nullptr ? std::string_view("not started") : name(op->status)));
}

// One update on `e` (a copy the caller keeps only if every update applies).
Status apply_one(Execution& e, const OperationUpdate& u, std::int64_t now_ms,
                 const std::function<std::string(const Operation&)>& new_callback_id, Applied& out) {
  Operation* op = e.find(u.id);
  if (op != nullptr && op->type != u.type) {
    return invalid_parameter(fmt::format("Operation {} is a {}, not a {}.", u.id, name(op->type), name(u.type)));
  }
  const auto changed = [&](const std::string& id) {
    if (std::find(out.changed.begin(), out.changed.end(), id) == out.changed.end()) out.changed.push_back(id);
  };
  switch (u.type) {
    case OpType::kStep: {
      if (u.action == Action::kStart) {
        if (op != nullptr && op->status != OpStatus::kReady) return refused(u, op);
        if (op == nullptr) op = &add(e, u, now_ms);
        op->status = OpStatus::kStarted;
        op->next_attempt_ms.reset();
        record(e, *op, "Started", now_ms);
        break;
      }
      if (op == nullptr || (op->status != OpStatus::kStarted && op->status != OpStatus::kReady)) return refused(u, op);
      op->attempt += 1;
      ojson retry{{"CurrentAttempt", op->attempt}};
      if (u.action == Action::kSucceed) {
        op->result = u.payload;
        op->error.reset();
        end(*op, OpStatus::kSucceeded, now_ms);
        record(e, *op, "Succeeded", now_ms, ojson{{"Result", payload(u.payload.value_or(""))}, {"RetryDetails", retry}});
      } else if (u.action == Action::kFail) {
        op->error = u.error;
        end(*op, OpStatus::kFailed, now_ms);
        record(e, *op, "Failed", now_ms, ojson{{"Error", error_payload(u.error.value_or(json::object()))}, {"RetryDetails", retry}});
      } else {  // RETRY: the attempt failed; the next is due after the delay
        op->status = OpStatus::kPending;
        op->next_attempt_ms = now_ms + *u.next_attempt_delay_s * 1000;
        op->error = u.error;
        op->result = u.payload;
        retry["NextAttemptDelaySeconds"] = *u.next_attempt_delay_s;
        record(e, *op, "Failed", now_ms,
               ojson{{"Error", error_payload(u.error.value_or(json::object()))}, {"RetryDetails", retry}});
      }
      break;
    }
    case OpType::kContext: {
      if (u.action == Action::kStart) {
        if (op != nullptr) return refused(u, op);
        op = &add(e, u, now_ms);
        op->replay_children = u.replay_children.value_or(false);
        record(e, *op, "Started", now_ms);
        break;
      }
      if (op == nullptr || op->status != OpStatus::kStarted) return refused(u, op);
      if (u.action == Action::kSucceed) {
        op->result = u.payload;
        end(*op, OpStatus::kSucceeded, now_ms);
        record(e, *op, "Succeeded", now_ms, ojson{{"Result", payload(u.payload.value_or(""))}});
      } else {
        op->error = u.error;
        end(*op, OpStatus::kFailed, now_ms);
        record(e, *op, "Failed", now_ms, ojson{{"Error", error_payload(u.error.value_or(json::object()))}});
      }
      break;
    }
    case OpType::kWait:
    case OpType::kCallback:
    case OpType::kChainedInvoke: {
      if (u.action == Action::kCancel) {
        if (op == nullptr || op->status != OpStatus::kStarted) return refused(u, op);
        end(*op, OpStatus::kCancelled, now_ms);
        // The history has WaitCancelled and ChainedInvokeStopped; a cancelled callback adds nothing.
        if (u.type == OpType::kWait) record(e, *op, "Cancelled", now_ms);
        if (u.type == OpType::kChainedInvoke) record(e, *op, "Stopped", now_ms);
        break;
      }
      if (op != nullptr) return refused(u, op);
      op = &add(e, u, now_ms);
      if (u.type == OpType::kWait) {
        op->scheduled_end_ms = now_ms + *u.wait_seconds * 1000;
        record(e, *op, "Started", now_ms,
               ojson{{"Duration", *u.wait_seconds}, {"ScheduledEndTimestamp", static_cast<double>(*op->scheduled_end_ms) / 1000.0}});
      } else if (u.type == OpType::kCallback) {
        op->callback_timeout_s = u.callback_timeout_s;
        op->heartbeat_timeout_s = u.heartbeat_timeout_s;
        op->heartbeat_ms = now_ms;
        op->callback_id = new_callback_id(*op);
        record(e, *op, "Started", now_ms,
               ojson{{"CallbackId", op->callback_id}, {"HeartbeatTimeout", u.heartbeat_timeout_s}, {"Timeout", u.callback_timeout_s}});
      } else {
        op->chained_function = u.chained_function;
        op->chained_tenant = u.chained_tenant;
        op->input_payload = u.payload;
        record(e, *op, "Started", now_ms, ojson{{"Input", payload(u.payload.value_or(""))}, {"FunctionName", u.chained_function}});
      }
      break;
    }
    case OpType::kExecution: {
      if (!e.running()) return invalid_parameter("The execution has already ended.");
      if (u.action == Action::kSucceed) {
        close(e, ExecutionStatus::kSucceeded, u.payload.value_or(""), std::nullopt, now_ms);
      } else {
        close(e, ExecutionStatus::kFailed, std::nullopt, u.error.value_or(json::object()), now_ms);
      }
      out.closed = true;
      break;
    }
  }
  changed(u.id);
  return Ok{};
}

std::int64_t integer_field(const json& o, const char* key, std::int64_t fallback = 0) {
  auto it = o.find(key);
  return it != o.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

}  // namespace

std::string_view name(OpType t) {
  static constexpr std::string_view names[] = {"EXECUTION", "CONTEXT", "STEP", "WAIT", "CALLBACK", "CHAINED_INVOKE"};
  return names[static_cast<int>(t)];
}
std::string_view name(OpStatus s) {
  static constexpr std::string_view names[] = {"STARTED", "PENDING", "READY", "SUCCEEDED", "FAILED", "CANCELLED",
                                               "TIMED_OUT", "STOPPED"};
  return names[static_cast<int>(s)];
}
std::string_view name(Action a) {
  static constexpr std::string_view names[] = {"START", "SUCCEED", "FAIL", "RETRY", "CANCEL"};
  return names[static_cast<int>(a)];
}
std::string_view name(ExecutionStatus s) {
  static constexpr std::string_view names[] = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"};
  return names[static_cast<int>(s)];
}

const Operation* Execution::find(const std::string& id) const {
  auto it = index.find(id);
  return it == index.end() ? nullptr : &operations[it->second];
}
Operation* Execution::find(const std::string& id) {
  auto it = index.find(id);
  return it == index.end() ? nullptr : &operations[it->second];
}

Execution start_execution(std::string arn, std::string name, std::string function_arn, std::string version,
                          std::string input, std::string execution_op_id, std::int64_t now_ms) {
  Execution e;
  e.arn = std::move(arn);
  e.name = std::move(name);
  e.function_arn = std::move(function_arn);
  e.version = std::move(version);
  e.input = std::move(input);
  e.start_ms = now_ms;
  Operation op;
  op.id = std::move(execution_op_id);
  op.name = e.name;
  op.type = OpType::kExecution;
  op.status = OpStatus::kStarted;
  op.start_ms = now_ms;
  op.input_payload = e.input;
  e.index[op.id] = 0;
  e.operations.push_back(op);
  record(e, op, "Started", now_ms, ojson{{"Input", payload(e.input)}});
  return e;
}

Result<std::vector<OperationUpdate>> parse_updates(const json& updates) {
  if (!updates.is_array()) return invalid_parameter("Updates must be a list of OperationUpdate.");
  std::vector<OperationUpdate> out;
  for (const auto& j : updates) {
    if (!j.is_object()) return invalid_parameter("Each update must be an OperationUpdate object.");
    OperationUpdate u;
    u.id = j.value("Id", "");
    if (!valid_id(u.id)) return invalid_parameter("Operation Id must be 1 to 64 characters of [a-zA-Z0-9-_].");
    u.parent_id = j.value("ParentId", "");
    if (!u.parent_id.empty() && !valid_id(u.parent_id)) return invalid_parameter("Invalid parent operation id.");
    u.name = j.value("Name", "");
    if (u.name.size() > 256) return invalid_parameter("Operation Name must be at most 256 characters.");
    const auto type = type_of(j.value("Type", ""));
    if (!type) return invalid_parameter(fmt::format("Invalid operation type: {}.", j.value("Type", "")));
    u.type = *type;
    u.sub_type = j.value("SubType", "");
    const auto action = action_of(j.value("Action", ""));
    if (!action) return invalid_parameter(fmt::format("Invalid operation action: {}.", j.value("Action", "")));
    u.action = *action;
    if (auto p = j.find("Payload"); p != j.end() && !p->is_null()) {
      if (!p->is_string()) return invalid_parameter("Payload must be a string.");
      u.payload = p->get<std::string>();
      if (u.payload->size() > kMaxPayloadBytes) return invalid_parameter("Payload must be at most 6291456 bytes.");
    }
    if (auto er = j.find("Error"); er != j.end() && !er->is_null()) {
      if (!er->is_object()) return invalid_parameter("Error must be an ErrorObject.");
      if (er->dump().size() >= kMaxErrorBytes) return invalid_parameter("Error object size must be less than 32768 bytes.");
      u.error = *er;
    }
    if (auto c = j.find("ContextOptions"); c != j.end() && c->is_object()) {
      if (auto r = c->find("ReplayChildren"); r != c->end() && r->is_boolean()) u.replay_children = r->get<bool>();
    }
    if (auto s = j.find("StepOptions"); s != j.end() && s->is_object() && s->contains("NextAttemptDelaySeconds")) {
      u.next_attempt_delay_s = integer_field(*s, "NextAttemptDelaySeconds", -1);
    }
    if (auto w = j.find("WaitOptions"); w != j.end() && w->is_object() && w->contains("WaitSeconds")) {
      u.wait_seconds = integer_field(*w, "WaitSeconds", -1);
    }
    if (auto c = j.find("CallbackOptions"); c != j.end() && c->is_object()) {
      u.callback_timeout_s = integer_field(*c, "TimeoutSeconds");
      u.heartbeat_timeout_s = integer_field(*c, "HeartbeatTimeoutSeconds");
      if (u.callback_timeout_s < 0 || u.heartbeat_timeout_s < 0) return invalid_parameter("Callback timeouts must not be negative.");
    }
    if (auto c = j.find("ChainedInvokeOptions"); c != j.end() && c->is_object()) {
      u.chained_function = c->value("FunctionName", "");
      u.chained_tenant = c->value("TenantId", "");
    }
    out.push_back(std::move(u));
  }
  return out;
}

Result<Applied> apply(Execution& e, const std::vector<OperationUpdate>& updates, std::int64_t now_ms,
                      const std::function<std::string(const Operation&)>& new_callback_id) {
  // The request as a whole first.
  const auto executions = std::count_if(updates.begin(), updates.end(),
                                        [](const OperationUpdate& u) { return u.type == OpType::kExecution; });
  if (executions > 1) return invalid_parameter("Cannot checkpoint multiple EXECUTION updates.");
  if (executions == 1 && updates.back().type != OpType::kExecution) {
    return invalid_parameter("EXECUTION checkpoint must be the last update.");
  }
  std::map<std::string, std::vector<Action>> seen;
  std::set<std::string> contexts;  // started earlier or in this request
  for (const auto& op : e.operations) {
    if (op.type == OpType::kContext) contexts.insert(op.id);
  }
  for (const auto& u : updates) {
    auto& before = seen[u.id];
    // Allowed twice: a STEP or CONTEXT started and ended in the same request.
    const bool start_then_end = before.size() == 1 && before.front() == Action::kStart && u.action != Action::kStart &&
                                (u.type == OpType::kStep || u.type == OpType::kContext);
    if (!before.empty() && !start_then_end) return invalid_parameter("Cannot update the same operation twice in a single request.");
    before.push_back(u.action);
    if (!u.parent_id.empty() && contexts.count(u.parent_id) == 0) return invalid_parameter("Invalid parent operation id.");
    if (u.type == OpType::kContext && u.action == Action::kStart) contexts.insert(u.id);
    if (!allowed(u.type, u.action)) return invalid_parameter("Invalid action for the given operation type.");
    if (u.action == Action::kFail && u.payload) return invalid_parameter("Cannot provide a Payload for FAIL action.");
    if (u.action == Action::kSucceed && u.error) return invalid_parameter("Cannot provide an Error for SUCCEED action.");
    if (u.action == Action::kRetry) {
      if (!u.next_attempt_delay_s || *u.next_attempt_delay_s < 1 || *u.next_attempt_delay_s > kMaxDelaySeconds) {
        return invalid_parameter("A RETRY action needs StepOptions.NextAttemptDelaySeconds between 1 and 31622400.");
      }
      if (u.error && u.payload) return invalid_parameter("A RETRY action takes an Error or a Payload, not both.");
    }
    if (u.type == OpType::kWait && u.action == Action::kStart &&
        (!u.wait_seconds || *u.wait_seconds < 1 || *u.wait_seconds > kMaxDelaySeconds)) {
      return invalid_parameter("A WAIT START action needs WaitOptions.WaitSeconds between 1 and 31622400.");
    }
    if (u.type == OpType::kChainedInvoke && u.action == Action::kStart && u.chained_function.empty()) {
      return invalid_parameter("A CHAINED_INVOKE START action needs ChainedInvokeOptions.FunctionName.");
    }
  }
  if (!e.running()) return invalid_parameter("The execution has already ended.");
  // Then each update, on a copy: all or nothing.
  Execution next = e;
  Applied out;
  for (const auto& u : updates) {
    if (auto st = apply_one(next, u, now_ms, new_callback_id, out); !st) return st.error();
  }
  e = std::move(next);
  return out;
}

bool advance(Execution& e, std::int64_t now_ms) {
  if (!e.running()) return false;
  bool changed = false;
  for (auto& op : e.operations) {
    if (op.status == OpStatus::kStarted && op.type == OpType::kWait && op.scheduled_end_ms && *op.scheduled_end_ms <= now_ms) {
      end(op, OpStatus::kSucceeded, now_ms);
      record(e, op, "Succeeded", now_ms, ojson{{"Duration", (*op.scheduled_end_ms - op.start_ms) / 1000}});
      changed = true;
    } else if (op.status == OpStatus::kPending && op.type == OpType::kStep && op.next_attempt_ms &&
               *op.next_attempt_ms <= now_ms) {
      op.status = OpStatus::kReady;
      changed = true;
    } else if (op.status == OpStatus::kStarted && op.type == OpType::kCallback) {
      const bool timed_out = op.callback_timeout_s > 0 && op.start_ms + op.callback_timeout_s * 1000 <= now_ms;
      const bool heartbeat_missed = op.heartbeat_timeout_s > 0 && op.heartbeat_ms &&
                                    *op.heartbeat_ms + op.heartbeat_timeout_s * 1000 <= now_ms;
      if (timed_out || heartbeat_missed) {
        const std::string type = timed_out ? "Callback.Timeout" : "Callback.Heartbeat";
        op.error = json{{"ErrorType", type},
                        {"ErrorMessage", timed_out ? "Callback timed out" : "Callback heartbeat timed out"}};
        end(op, OpStatus::kTimedOut, now_ms);
        record(e, op, "TimedOut", now_ms, ojson{{"Error", error_payload(*op.error)}});
        changed = true;
      }
    }
  }
  return changed;
}

std::optional<std::int64_t> next_due(const Execution& e) {
  if (!e.running()) return std::nullopt;
  std::optional<std::int64_t> due;
  auto consider = [&](std::int64_t t) { due = due ? std::min(*due, t) : t; };
  for (const auto& op : e.operations) {
    if (op.status == OpStatus::kStarted && op.type == OpType::kWait && op.scheduled_end_ms) consider(*op.scheduled_end_ms);
    if (op.status == OpStatus::kPending && op.type == OpType::kStep && op.next_attempt_ms) consider(*op.next_attempt_ms);
    if (op.status == OpStatus::kStarted && op.type == OpType::kCallback) {
      if (op.callback_timeout_s > 0) consider(op.start_ms + op.callback_timeout_s * 1000);
      if (op.heartbeat_timeout_s > 0 && op.heartbeat_ms) consider(*op.heartbeat_ms + op.heartbeat_timeout_s * 1000);
    }
  }
  return due;
}

Status answer_callback(Execution& e, const std::string& callback_id, CallbackAnswer answer,
                       std::optional<std::string> result, std::optional<json> error, std::int64_t now_ms) {
  auto it = std::find_if(e.operations.begin(), e.operations.end(),
                         [&](const Operation& op) { return op.type == OpType::kCallback && op.callback_id == callback_id; });
  if (it == e.operations.end()) {
    return Error{ErrorKind::kNotFound, "ResourceNotFoundException", "Callback not found: " + callback_id};
  }
  // Past its timeout: CallbackTimeoutException; answered already, or its execution ended: refused.
  if (it->status == OpStatus::kTimedOut) {
    return Error{ErrorKind::kConflict, "CallbackTimeoutException", fmt::format("Callback {} has timed out.", callback_id)};
  }
  if (it->status != OpStatus::kStarted || !e.running()) {
    return Error{ErrorKind::kConflict, "InvalidParameterValueException",
                 fmt::format("Callback {} is {}: it takes no answer now.", callback_id, name(it->status))};
  }
  switch (answer) {
    case CallbackAnswer::kHeartbeat: it->heartbeat_ms = now_ms; return Ok{};
    case CallbackAnswer::kSuccess:
      it->result = std::move(result);
      end(*it, OpStatus::kSucceeded, now_ms);
      record(e, *it, "Succeeded", now_ms, ojson{{"Result", payload(it->result.value_or(""))}});
      return Ok{};
    case CallbackAnswer::kFailure:
      it->error = std::move(error);
      end(*it, OpStatus::kFailed, now_ms);
      record(e, *it, "Failed", now_ms, ojson{{"Error", error_payload(it->error.value_or(json::object()))}});
      return Ok{};
  }
  return Ok{};
}

Status finish_chained_invoke(Execution& e, const std::string& op_id, std::optional<std::string> result,
                             std::optional<json> error, std::int64_t now_ms) {
  Operation* op = e.find(op_id);
  if (op == nullptr || op->type != OpType::kChainedInvoke) {
    return Error{ErrorKind::kNotFound, "ResourceNotFoundException", "No chained invoke " + op_id};
  }
  if (op->status != OpStatus::kStarted || !e.running()) return Ok{};  // cancelled meanwhile: the outcome is dropped
  if (error) {
    op->error = std::move(error);
    end(*op, OpStatus::kFailed, now_ms);
    record(e, *op, "Failed", now_ms, ojson{{"Error", error_payload(*op->error)}});
  } else {
    op->result = std::move(result);
    end(*op, OpStatus::kSucceeded, now_ms);
    record(e, *op, "Succeeded", now_ms, ojson{{"Result", payload(op->result.value_or(""))}});
  }
  return Ok{};
}

void close(Execution& e, ExecutionStatus status, std::optional<std::string> result, std::optional<json> error,
           std::int64_t now_ms) {
  if (!e.running() || status == ExecutionStatus::kRunning) return;
  e.status = status;
  e.end_ms = now_ms;
  e.result = std::move(result);
  e.error = std::move(error);
  if (e.operations.empty()) return;
  Operation& op = e.operations.front();  // the EXECUTION operation
  static constexpr OpStatus op_status[] = {OpStatus::kStarted, OpStatus::kSucceeded, OpStatus::kFailed,
                                           OpStatus::kTimedOut, OpStatus::kStopped};
  end(op, op_status[static_cast<int>(status)], now_ms);
  static constexpr std::string_view what[] = {"", "Succeeded", "Failed", "TimedOut", "Stopped"};
  ojson details = ojson::object();
  if (e.result) details["Result"] = payload(*e.result);
  if (e.error) details["Error"] = error_payload(*e.error);
  record(e, op, what[static_cast<int>(status)], now_ms, std::move(details));
}

void invocation_completed(Execution& e, const std::string& request_id, std::int64_t start_ms, std::int64_t end_ms,
                          std::optional<json> error) {
  HistoryEvent ev;
  ev.event_id = static_cast<std::int64_t>(e.history.size()) + 1;
  ev.type = "InvocationCompleted";
  ev.id = e.operations.empty() ? std::string() : e.operations.front().id;
  ev.time_ms = end_ms;
  ev.details = ojson{{"StartTimestamp", static_cast<double>(start_ms) / 1000.0},
                     {"EndTimestamp", static_cast<double>(end_ms) / 1000.0},
                     {"RequestId", request_id}};
  if (error) ev.details["Error"] = error_payload(*error);
  e.history.push_back(std::move(ev));
}

ojson operation_json(const Operation& op, TimeUnit unit) {
  const auto t = [unit](std::int64_t ms) -> ojson {
    if (unit == TimeUnit::kMillis) return ms;
    return static_cast<double>(ms) / 1000.0;
  };
  ojson j{{"Id", op.id}};
  if (!op.parent_id.empty()) j["ParentId"] = op.parent_id;
  if (!op.name.empty()) j["Name"] = op.name;
  j["Type"] = name(op.type);
  if (!op.sub_type.empty()) j["SubType"] = op.sub_type;
  j["StartTimestamp"] = t(op.start_ms);
  if (op.end_ms) j["EndTimestamp"] = t(*op.end_ms);
  j["Status"] = name(op.status);
  ojson d = ojson::object();
  if (op.result) d["Result"] = *op.result;
  if (op.error) d["Error"] = *op.error;
  switch (op.type) {
    case OpType::kExecution: j["ExecutionDetails"] = ojson{{"InputPayload", op.input_payload.value_or("")}}; break;
    case OpType::kContext:
      if (op.replay_children) d["ReplayChildren"] = true;
      j["ContextDetails"] = std::move(d);
      break;
    case OpType::kStep: {
      ojson s{{"Attempt", op.attempt}};
      if (op.next_attempt_ms) s["NextAttemptTimestamp"] = t(*op.next_attempt_ms);
      s.update(d);
      j["StepDetails"] = std::move(s);
      break;
    }
    case OpType::kWait: j["WaitDetails"] = ojson{{"ScheduledEndTimestamp", t(op.scheduled_end_ms.value_or(0))}}; break;
    case OpType::kCallback: {
      ojson c{{"CallbackId", op.callback_id}};
      c.update(d);
      j["CallbackDetails"] = std::move(c);
      break;
    }
    case OpType::kChainedInvoke: j["ChainedInvokeDetails"] = std::move(d); break;
  }
  return j;
}

ojson event_json(const HistoryEvent& ev, bool include_data) {
  ojson j{{"EventType", ev.type}};
  if (!ev.sub_type.empty()) j["SubType"] = ev.sub_type;
  j["EventId"] = ev.event_id;
  j["Id"] = ev.id;
  if (!ev.name.empty()) j["Name"] = ev.name;
  j["EventTimestamp"] = static_cast<double>(ev.time_ms) / 1000.0;
  if (!ev.parent_id.empty()) j["ParentId"] = ev.parent_id;
  ojson details = ev.details;
  if (!include_data) {  // IncludeExecutionData false: payloads are left out
    for (const char* key : {"Input", "Result", "Error"}) {
      if (details.contains(key)) details[key] = ojson{{"Truncated", true}};
    }
  }
  j[ev.type + "Details"] = std::move(details);
  return j;
}

}  // namespace lambdad::durable
