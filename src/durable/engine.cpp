// The daemon's durable executions (docs/decisions/026, lambda-spec §10.2, §10.5).
#include "lambdad/durable/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "errors.hpp"
#include "lambdad/common/base64.hpp"

namespace lambdad::durable {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::size_t kInvokePage = 1000;  // operations in the invoke event; the SDK pages the rest

Error not_found(const std::string& arn) {
  return Error{ErrorKind::kNotFound, "ResourceNotFoundException", "Durable execution not found: " + arn};
}

json error_object(std::string type, std::string message) {
  return json{{"ErrorType", std::move(type)}, {"ErrorMessage", std::move(message)}};
}

}  // namespace

struct Engine::Run {
  Execution execution;
  std::int64_t offset_ms = 0;  // the execution's time = the clock + this
  std::int64_t timeout_at_ms = 0;  // in the execution's time; 0: none
  int retention_days = 14;
  double time_scale = 1.0;  // what its delays are divided by (> 0)
  std::int64_t retain_until_ms = 0;  // once ended
  std::uint64_t token_seq = 0;
  std::string token;  // the current one; empty while no invocation holds one
  bool in_flight = false;
  bool again = false;  // something changed during the invocation in flight
  int failures = 0;    // invocations failed in a row
  std::unique_ptr<Timer> timer;
  std::set<std::string> chained_calls;  // CHAINED_INVOKE operations whose call is in flight
  std::vector<std::function<void(const Execution&)>> on_end;
};

Engine::Engine(const Clock& clock, Timers& timers, DurableInvoker& invoker, EngineOptions options,
               std::function<std::string()> new_id, Store* store)
    : clock_(clock), timers_(timers), invoker_(invoker), options_(options), new_id_(std::move(new_id)), store_(store) {
  if (!(options_.time_scale > 0)) options_.time_scale = 1.0;
}

Engine::~Engine() { lifetime_.end(); }

Engine::Run* Engine::run_of(const std::string& arn) {
  auto it = runs_.find(arn);
  return it == runs_.end() ? nullptr : it->second.get();
}
const Engine::Run* Engine::run_of(const std::string& arn) const {
  auto it = runs_.find(arn);
  return it == runs_.end() ? nullptr : it->second.get();
}

void Engine::persist(Run& r) {
  if (store_ == nullptr) return;
  // A store that fails is the daemon's problem, not the execution's: it goes on in memory.
  (void)store_->save(r.execution, RunTimes{r.offset_ms, r.timeout_at_ms, r.retain_until_ms});
}

Result<std::size_t> Engine::recover() {
  if (store_ == nullptr) return std::size_t{0};
  auto stored = store_->load();
  if (!stored) return stored.error();
  std::size_t running = 0;
  const std::int64_t now = clock_.epoch_ms();
  for (auto& s : *stored) {
    if (!s.execution.running() && s.retain_until_ms > 0 && s.retain_until_ms <= now) {
      (void)store_->remove(s.execution.arn);
      continue;
    }
    auto run = std::make_unique<Run>();
    run->timer = timers_.make_timer();
    run->execution = std::move(s.execution);
    run->offset_ms = s.offset_ms;
    run->timeout_at_ms = s.timeout_at_ms;
    run->retain_until_ms = s.retain_until_ms;
    run->time_scale = options_.time_scale;
    const std::string arn = run->execution.arn;
    by_name_[run->execution.name] = arn;
    Run& r = *runs_.emplace(arn, std::move(run)).first->second;
    if (!r.execution.running()) continue;
    ++running;
    advance(r.execution, now_of(r));
    start_chained(r);  // their calls ended with the daemon too
    invoke(r);
    arm(r);
  }
  return running;
}

std::int64_t Engine::now_of(const Run& r) const { return clock_.epoch_ms() + r.offset_ms; }

std::int64_t Engine::now_ms(const std::string& arn) const {
  const Run* r = run_of(arn);
  return r ? now_of(*r) : clock_.epoch_ms();
}

const Execution* Engine::find(const std::string& arn) const {
  const Run* r = run_of(arn);
  return r ? &r->execution : nullptr;
}

std::vector<const Execution*> Engine::executions() const {
  std::vector<const Execution*> out;
  for (const auto& [arn, r] : runs_) out.push_back(&r->execution);
  return out;
}

Result<Engine::Started> Engine::start(const StartRequest& request) {
  const std::string name = request.name.empty() ? new_id_() : request.name;
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    const Run* existing = run_of(it->second);
    // The same name and input while it runs is the same execution; anything else is a conflict.
    if (existing && existing->execution.running() && existing->execution.input == request.input) {
      return Started{it->second, true};
    }
    return Error{ErrorKind::kConflict, "DurableExecutionAlreadyStartedException",
                 fmt::format("Durable execution with name {} already exists.", name)};
  }
  const std::string arn = fmt::format("{}/durable-execution/{}/{}", request.function_arn, name, new_id_());
  auto run = std::make_unique<Run>();
  run->timer = timers_.make_timer();
  const std::int64_t now = clock_.epoch_ms();
  run->execution = start_execution(arn, name, request.function_arn, request.version, request.input,
                                   new_id_().substr(0, 32), now);
  if (request.execution_timeout_s > 0) run->timeout_at_ms = now + request.execution_timeout_s * 1000;
  run->retention_days = request.retention_days;
  run->time_scale = request.time_scale > 0 ? request.time_scale : options_.time_scale;
  Run& r = *runs_.emplace(arn, std::move(run)).first->second;
  by_name_[name] = arn;
  persist(r);
  invoke(r);
  arm(r);
  return Started{arn, false};
}

void Engine::on_end(const std::string& arn, std::function<void(const Execution&)> done) {
  Run* r = run_of(arn);
  if (r == nullptr) return;
  if (!r->execution.running()) return done(r->execution);
  r->on_end.push_back(std::move(done));
}

std::string Engine::new_token(Run& r) {
  r.token = base64::encode(fmt::format("{}|{}", r.execution.arn, ++r.token_seq));
  return r.token;
}

void Engine::invoke(Run& r) {
  if (!r.execution.running()) return;
  if (r.in_flight) {
    r.again = true;
    return;
  }
  r.in_flight = true;
  r.again = false;
  ojson ops = ojson::array();
  for (std::size_t i = 0; i < r.execution.operations.size() && i < kInvokePage; ++i) {
    ops.push_back(operation_json(r.execution.operations[i], TimeUnit::kMillis));
  }
  const std::string marker = r.execution.operations.size() > kInvokePage ? std::to_string(kInvokePage) : "";
  ojson event{{"DurableExecutionArn", r.execution.arn},
              {"CheckpointToken", new_token(r)},
              {"InitialExecutionState", {{"Operations", std::move(ops)}, {"NextMarker", marker}}}};
  const std::int64_t started = now_of(r);
  invoker_.invoke(r.execution, event.dump(),
                  lifetime_.guard([this, arn = r.execution.arn, started](DurableInvoker::Outcome outcome) {
                    invoked(arn, started, std::move(outcome));
                  }));
}

void Engine::invoked(const std::string& arn, std::int64_t started_ms, DurableInvoker::Outcome outcome) {
  Run* r = run_of(arn);
  if (r == nullptr) return;
  r->in_flight = false;
  r->token.clear();  // the invocation's token dies with it
  Execution& e = r->execution;
  const std::int64_t now = now_of(*r);
  std::optional<json> failure;
  std::string status;
  json answer = json::parse(outcome.payload, nullptr, false);
  if (outcome.function_error) {
    failure = answer.is_object() ? answer : error_object("Runtime.Unknown", outcome.payload);
  } else if (!answer.is_object() || !answer.contains("Status") || !answer["Status"].is_string()) {
    failure = error_object("InvalidResponse", "The handler's answer is not a durable execution result.");
  } else {
    status = answer["Status"].get<std::string>();
  }
  invocation_completed(e, outcome.request_id, started_ms, now, failure);
  persist(*r);
  if (!e.running()) return ended(*r);  // an EXECUTION checkpoint ended it during the invocation
  if (failure || (status != "SUCCEEDED" && status != "FAILED" && status != "PENDING")) {
    if (!failure) failure = error_object("InvalidResponse", "Unknown Status " + status);
    if (++r->failures >= options_.max_failed_invocations) {
      close(e, ExecutionStatus::kFailed, std::nullopt, *failure, now);
      return ended(*r);
    }
    // Again after the back-off (scaled), as the service re-drives a failed invocation.
    const auto delay = static_cast<std::int64_t>(
        std::ceil(static_cast<double>(options_.failure_backoff.count()) / r->time_scale));
    r->timer->arm(clock_.now() + std::chrono::milliseconds(delay), lifetime_.guard([this, arn] {
      if (Run* again = run_of(arn)) invoke(*again);
    }));
    return;
  }
  r->failures = 0;
  if (status == "SUCCEEDED") {
    close(e, ExecutionStatus::kSucceeded, answer.value("Result", std::string()), std::nullopt, now);
    return ended(*r);
  }
  if (status == "FAILED") {
    close(e, ExecutionStatus::kFailed, std::nullopt, answer.contains("Error") ? answer["Error"] : json::object(), now);
    return ended(*r);
  }
  // PENDING: what was answered meanwhile, or what is already due, runs now; else the timer.
  const bool moved = advance(e, now);
  if (moved) persist(*r);
  if (moved || r->again) return invoke(*r);
  arm(*r);
}

void Engine::arm(Run& r) {
  if (!r.execution.running()) return;
  std::optional<std::int64_t> next = next_due(r.execution);
  if (r.timeout_at_ms > 0) next = next ? std::min(*next, r.timeout_at_ms) : r.timeout_at_ms;
  if (!next) return r.timer->cancel();
  const std::int64_t wait_ms = std::max<std::int64_t>(0, *next - now_of(r));
  const auto real = static_cast<std::int64_t>(std::ceil(static_cast<double>(wait_ms) / r.time_scale));
  r.timer->arm(clock_.now() + std::chrono::milliseconds(real),
               lifetime_.guard([this, arn = r.execution.arn, at = *next] { due(arn, at); }));
}

void Engine::due(const std::string& arn, std::int64_t due_ms) {
  Run* r = run_of(arn);
  if (r == nullptr || !r->execution.running()) return;
  // The scaled wait is over: the execution's time catches up with what it waited for.
  r->offset_ms += std::max<std::int64_t>(0, due_ms - now_of(*r));
  const std::int64_t now = now_of(*r);
  if (r->timeout_at_ms > 0 && now >= r->timeout_at_ms) {
    close(r->execution, ExecutionStatus::kTimedOut, std::nullopt,
          error_object("Execution.TimedOut",
                       fmt::format("Execution timed out after {} seconds.", (r->timeout_at_ms - r->execution.start_ms) / 1000)),
          now);
    return ended(*r);
  }
  if (advance(r->execution, now)) {
    persist(*r);
    return changed(*r);
  }
  arm(*r);
}

void Engine::changed(Run& r) {
  invoke(r);
  if (!r.in_flight) arm(r);
}

void Engine::ended(Run& r) {
  r.timer->cancel();
  r.token.clear();
  if (r.retain_until_ms == 0) {
    r.retain_until_ms = r.execution.end_ms.value_or(now_of(r)) + std::int64_t{r.retention_days} * 86'400'000;
  }
  persist(r);
  auto callbacks = std::move(r.on_end);
  r.on_end.clear();
  for (auto& done : callbacks) done(r.execution);
}

Result<Engine::CheckpointReply> Engine::checkpoint(const std::string& arn, const std::string& token,
                                                   const json& updates) {
  Run* r = run_of(arn);
  if (r == nullptr) return not_found(arn);
  if (token.empty() || token != r->token) return invalid_parameter("Invalid Checkpoint Token: the token is not this execution's current one");
  auto parsed = parse_updates(updates);
  if (!parsed) return parsed.error();
  auto applied = apply(r->execution, *parsed, now_of(*r), [this](const Operation&) { return base64::encode(new_id_()); });
  if (!applied) return applied.error();
  CheckpointReply reply;
  for (const auto& id : applied->changed) {
    if (const Operation* op = r->execution.find(id)) reply.changed.push_back(op);
  }
  if (applied->closed) {
    r->token.clear();
    ended(*r);  // kept there
    return reply;
  }
  reply.token = new_token(*r);
  persist(*r);
  start_chained(*r);
  arm(*r);
  return reply;
}

void Engine::start_chained(Run& r) {
  for (const auto& op : r.execution.operations) {
    if (op.type != OpType::kChainedInvoke || op.status != OpStatus::kStarted) continue;
    if (!r.chained_calls.insert(op.id).second) continue;
    invoker_.chained_invoke(
        op.chained_function, op.input_payload.value_or(""), op.chained_tenant,
        lifetime_.guard([this, arn = r.execution.arn, id = op.id](DurableInvoker::ChainedOutcome outcome) {
          Run* run = run_of(arn);
          if (run == nullptr) return;
          run->chained_calls.erase(id);
          if (!run->execution.running()) return;
          if (!finish_chained_invoke(run->execution, id, std::move(outcome.result), std::move(outcome.error),
                                     now_of(*run))) {
            return;
          }
          persist(*run);
          changed(*run);
        }));
  }
}

Result<Engine::StatePage> Engine::state(const std::string& arn, const std::string& token, const std::string& marker,
                                        std::size_t max_items) const {
  const Run* r = run_of(arn);
  if (r == nullptr) return not_found(arn);
  if (token.empty() || token != r->token) return invalid_parameter("Invalid Checkpoint Token: the token is not this execution's current one");
  std::size_t from = 0;
  if (!marker.empty()) {
    try {
      from = std::stoul(marker);
    } catch (...) {
      return invalid_parameter("Invalid Marker.");
    }
  }
  if (max_items == 0 || max_items > 1000) max_items = 1000;
  StatePage page;
  const auto& ops = r->execution.operations;
  for (std::size_t i = from; i < ops.size() && page.operations.size() < max_items; ++i) page.operations.push_back(&ops[i]);
  if (from + page.operations.size() < ops.size()) page.next_marker = std::to_string(from + page.operations.size());
  return page;
}

Result<std::int64_t> Engine::stop(const std::string& arn, std::optional<json> error) {
  Run* r = run_of(arn);
  if (r == nullptr) return not_found(arn);
  if (!r->execution.running()) {
    return Error{ErrorKind::kConflict, "InvalidParameterValueException", "The execution has already ended."};
  }
  const std::int64_t now = now_of(*r);
  close(r->execution, ExecutionStatus::kStopped, std::nullopt, error ? std::move(error) : std::optional<json>(json::object()), now);
  ended(*r);
  return now;
}

Status Engine::callback(const std::string& callback_id, CallbackAnswer answer, std::optional<std::string> result,
                        std::optional<json> error) {
  for (auto& [arn, r] : runs_) {
    for (const auto& op : r->execution.operations) {
      if (op.type != OpType::kCallback || op.callback_id != callback_id) continue;
      auto st = answer_callback(r->execution, callback_id, answer, std::move(result), std::move(error), now_of(*r));
      if (!st) return st;
      persist(*r);
      if (answer == CallbackAnswer::kHeartbeat) {
        arm(*r);
      } else {
        changed(*r);
      }
      return Ok{};
    }
  }
  return Error{ErrorKind::kNotFound, "ResourceNotFoundException", "Callback not found: " + callback_id};
}

}  // namespace lambdad::durable
