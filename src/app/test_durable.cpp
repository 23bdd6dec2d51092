// app: `lambdad test`'s durable cases (docs/test-suites.md, docs/decisions/026): the `durable:`
// options and the `status` and `operations` expectations of a case file, the checks of an
// execution's end, and DurableHarness, which runs each case as an execution of the daemon's
// engine: started with the case's event (and time scale), its callbacks answered as CALLBACK
// operations come to wait, checked when it ends, stopped at its deadline.
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include "daemon.hpp"
#include "lambdad/http/server.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"
#include "test_suite.hpp"

namespace lambdad::app {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

const std::set<std::string> kEndStatuses = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"};
const std::set<std::string> kOpTypes = {"EXECUTION", "CONTEXT", "STEP", "WAIT", "CALLBACK", "CHAINED_INVOKE"};
const std::set<std::string> kOpStatuses = {"STARTED",   "PENDING",   "READY",     "SUCCEEDED",
                                           "FAILED",    "CANCELLED", "TIMED_OUT", "STOPPED"};
const std::set<std::string> kOpKeys = {"type", "subType", "name", "status", "result", "error"};
constexpr double kDeadlineCapSeconds = 300;

std::string one_of(const std::set<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

// A positive number at `node`, or a problem.
std::optional<double> positive(const YAML::Node& node, const char* key, const ProblemAt& problem) {
  const json j = yaml_to_json(node);
  if (!j.is_number() || !(j.get<double>() > 0) || !std::isfinite(j.get<double>())) {
    problem(node, fmt::format("'{}' must be a number greater than 0", key));
    return std::nullopt;
  }
  return j.get<double>();
}

bool read_callback(const YAML::Node& node, DurableCallback& cb, const ProblemAt& problem) {
  cb.line = yaml_line(node);
  if (!node.IsMap()) {
    problem(node, "a callback is a mapping: {result: JSON} or {error: {ErrorType: ..., ErrorMessage: ...}}, "
                  "optionally with name");
    return false;
  }
  bool ok = true;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "name") {
      if (!v.IsScalar()) {
        problem(v, "a callback's 'name' must be a string");
        ok = false;
      } else {
        cb.name = v.Scalar();
      }
    } else if (key == "result") {
      cb.result = yaml_to_json(v);
    } else if (key == "error") {
      cb.error = yaml_to_json(v);
      if (!cb.error->is_object()) {
        problem(v, "a callback's 'error' is an ErrorObject: a mapping (ErrorType, ErrorMessage, ErrorData)");
        ok = false;
      }
    } else {
      problem(kv.first, fmt::format("unknown key '{}' in a callback (name, result, error)", key));
      ok = false;
    }
  }
  if (ok && cb.result.has_value() == cb.error.has_value()) {
    problem(node, "a callback gives one of 'result' (it succeeds) and 'error' (it fails)");
    ok = false;
  }
  return ok;
}

json operation_json(const durable::Operation& op) {
  json o{{"id", op.id},
         {"parentId", op.parent_id},
         {"type", std::string(durable::name(op.type))},
         {"subType", op.sub_type},
         {"name", op.name},
         {"status", std::string(durable::name(op.status))}};
  if (op.result) {
    const json parsed = json::parse(*op.result, nullptr, false);
    o["result"] = parsed.is_discarded() ? json(*op.result) : parsed;
  }
  if (op.error) o["error"] = *op.error;
  return o;
}

DurableObserved observe_execution(const durable::Execution& e) {
  DurableObserved o;
  o.status = std::string(durable::name(e.status));
  if (e.status == durable::ExecutionStatus::kSucceeded) {
    o.result = e.result.value_or("null");
  } else {
    o.error = e.error.value_or(json::object());
  }
  for (const auto& op : e.operations) o.operations.push_back(operation_json(op));
  return o;
}

// Whether the operation `actual` has every key `want` gives (error: its ErrorType).
bool matches(const json& want, const json& actual) {
  for (const auto& [key, value] : want.items()) {
    if (key == "error") {
      if (!actual.contains("error") || !actual["error"].is_object() || actual["error"].value("ErrorType", "") != value) {
        return false;
      }
    } else if (!actual.contains(key) || actual[key] != value) {
      return false;
    }
  }
  return true;
}

std::string string_of(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

bool read_durable(const YAML::Node& node, DurableOptions& out, const ProblemAt& problem) {
  out.line = yaml_line(node);
  if (node.IsNull()) return true;
  if (!node.IsMap()) {
    problem(node, "'durable' is a mapping (executionName, timeScale, deadlineSeconds, callbacks)");
    return false;
  }
  static const std::regex kName("[a-zA-Z0-9_-]{1,64}");
  bool ok = true;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "executionName") {
      if (!v.IsScalar() || !std::regex_match(v.Scalar(), kName)) {
        problem(v, "'executionName' is 1 to 64 of a-z, A-Z, 0-9, - and _");
        ok = false;
      } else {
        out.execution_name = v.Scalar();
      }
    } else if (key == "timeScale") {
      auto scale = positive(v, "timeScale", problem);
      ok = ok && scale;
      if (scale) out.time_scale = *scale;
    } else if (key == "deadlineSeconds") {
      auto seconds = positive(v, "deadlineSeconds", problem);
      ok = ok && seconds;
      if (seconds) out.deadline_s = *seconds;
    } else if (key == "callbacks") {
      if (!v.IsSequence()) {
        problem(v, "'callbacks' is a list of {result: JSON} or {error: ErrorObject}, answered in order");
        ok = false;
        continue;
      }
      for (const auto& item : v) ok = read_callback(item, out.callbacks.emplace_back(), problem) && ok;
    } else {
      problem(kv.first,
              fmt::format("unknown key '{}' under durable (executionName, timeScale, deadlineSeconds, callbacks)", key));
      ok = false;
    }
  }
  return ok;
}

bool read_durable_expectation(const std::string& key, const YAML::Node& v, Expectation& e, const ProblemAt& problem) {
  if (key == "status") {
    if (!v.IsScalar() || !kEndStatuses.count(v.Scalar())) {
      problem(v, fmt::format("'status' is the execution's end: one of {}", one_of(kEndStatuses)));
      return false;
    }
    e.status = v.Scalar();
    return true;
  }
  if (!v.IsSequence()) {
    problem(v, "'operations' is a list of operations, each {type, subType, name, status, result, error}");
    return false;
  }
  bool ok = true;
  json ops = json::array();
  for (const auto& item : v) {
    if (!item.IsMap()) {
      problem(item, "an expected operation is a mapping of type, subType, name, status, result, error");
      ok = false;
      continue;
    }
    json op = json::object();
    for (const auto& kv : item) {
      const std::string k = kv.first.as<std::string>();
      const YAML::Node& value = kv.second;
      if (!kOpKeys.count(k)) {
        problem(kv.first, fmt::format("unknown key '{}' in an expected operation ({})", k, one_of(kOpKeys)));
        ok = false;
      } else if (k == "result") {
        op[k] = yaml_to_json(value);
      } else if (!value.IsScalar()) {
        problem(value, fmt::format("'{}' of an expected operation must be a string", k));
        ok = false;
      } else if (k == "type" && !kOpTypes.count(value.Scalar())) {
        problem(value, fmt::format("'{}' is not an operation type ({})", value.Scalar(), one_of(kOpTypes)));
        ok = false;
      } else if (k == "status" && !kOpStatuses.count(value.Scalar())) {
        problem(value, fmt::format("'{}' is not an operation status ({})", value.Scalar(), one_of(kOpStatuses)));
        ok = false;
      } else {
        op[k] = value.Scalar();
      }
    }
    ops.push_back(std::move(op));
  }
  e.operations = std::move(ops);
  return ok;
}

std::vector<SuiteProblem> durable_problems(const TestCase& c, bool durable_function) {
  std::vector<SuiteProblem> out;
  auto add = [&](int line, std::string message) { out.push_back({c.file, line > 0 ? line : c.line, std::move(message)}); };
  if (!durable_function) {
    const std::string why = fmt::format("{} has no DurableConfig", c.function);
    if (c.durable) add(c.durable->line, fmt::format("'durable' applies to durable functions only: {}", why));
    if (c.expect.status) add(0, fmt::format("the expectation 'status' applies to durable functions only: {}", why));
    if (c.expect.operations) add(0, fmt::format("the expectation 'operations' applies to durable functions only: {}", why));
    return out;
  }
  if (c.type == InvocationType::kEvent) {
    add(0, fmt::format("{} is durable: its case starts an execution and is checked on its end, so it takes no "
                       "invocationType: Event",
                       c.function));
  }
  if (c.expect.max_duration_ms) {
    add(0, "'maxDurationMs' does not apply to a durable case (an execution spans several invocations)");
  }
  if (c.expect.status == "SUCCEEDED" && (c.expect.error || c.expect.error_message)) {
    add(0, "'error' and 'errorMessage' check a failed execution's ErrorObject; they contradict status: SUCCEEDED");
  }
  return out;
}

std::chrono::milliseconds durable_case_deadline(std::int64_t execution_timeout_s, double time_scale,
                                                int function_timeout_s, double deadline_s) {
  if (deadline_s > 0) return milliseconds(static_cast<std::int64_t>(std::ceil(deadline_s * 1000)));
  const double scale = time_scale > 0 ? time_scale : 1.0;
  double seconds = execution_timeout_s > 0 ? static_cast<double>(execution_timeout_s) / scale : kDeadlineCapSeconds;
  seconds = std::min(seconds, kDeadlineCapSeconds) + function_timeout_s + 10;
  return milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
}

std::string operations_listing(const std::vector<json>& operations, const std::string& prefix) {
  std::map<std::string, int> depth;
  std::string out;
  for (const auto& op : operations) {
    const std::string parent = string_of(op, "parentId");
    const int d = parent.empty() || !depth.count(parent) ? 0 : depth[parent] + 1;
    depth[string_of(op, "id")] = d;
    const std::string sub = string_of(op, "subType");
    const std::string name = string_of(op, "name");
    std::string line = fmt::format("{}{}{}{} {}", std::string(static_cast<std::size_t>(2 * d), ' '), string_of(op, "type"),
                                   sub.empty() ? "" : " (" + sub + ")", name.empty() ? "" : " " + name,
                                   string_of(op, "status"));
    if (op.contains("result")) line += " " + op["result"].dump();
    if (op.contains("error")) line += " " + op["error"].dump();
    out += prefix + line + "\n";
  }
  return out;
}

std::string check_durable(const Expectation& e, const DurableObserved& o) {
  std::string out;
  const bool succeeded = o.status == "SUCCEEDED";
  const json error = o.error.value_or(json::object());
  json result = nullptr;
  if (o.result) {
    result = json::parse(*o.result, nullptr, false);
    if (result.is_discarded()) result = *o.result;
  }
  const json ended = json{{"Status", o.status}, {succeeded ? "Result" : "Error", succeeded ? result : error}};
  const bool expects_error = e.error || e.error_message;
  if (e.status) {
    if (o.status != *e.status) {
      out += fmt::format("    expected the execution to end {}, it ended {}:\n{}", *e.status, o.status,
                         show_difference(json{{"Status", *e.status}}, ended));
    }
  } else if (!expects_error && !succeeded) {
    // Nothing else is worth comparing with an error.
    return fmt::format("    the execution ended {} with {}:\n{}", o.status, string_of(error, "ErrorType"),
                       show_difference(json{{"Status", "SUCCEEDED"}}, ended));
  } else if (expects_error && succeeded) {
    out += fmt::format("    expected the execution to fail{}, but it succeeded:\n{}",
                       e.error ? " with " + *e.error : std::string(),
                       show_difference(json{{"Error", {{"ErrorType", e.error.value_or("")}}}}, ended));
  }
  if (!succeeded) {
    const std::string type = string_of(error, "ErrorType");
    if (e.error && type != *e.error) {
      out += fmt::format("    expected the error {}, got {}:\n{}", *e.error, type.empty() ? "none" : type,
                         show_difference(json{{"ErrorType", *e.error}}, error));
    }
    const std::string message = string_of(error, "ErrorMessage");
    if (e.error_message && message.find(*e.error_message) == std::string::npos) {
      out += fmt::format("    ErrorMessage does not contain \"{}\": \"{}\"\n", *e.error_message, message);
    }
  }
  if (e.result || e.result_contains || !e.fields.empty()) {
    Expectation on_result;
    on_result.result = e.result;
    on_result.result_contains = e.result_contains;
    on_result.fields = e.fields;
    Observed observed;
    observed.payload = result.dump();
    out += check(on_result, observed);
  }
  if (e.operations) {
    std::size_t from = 0;
    for (std::size_t i = 0; i < e.operations->size(); ++i) {
      const json& want = (*e.operations)[i];
      auto it = std::find_if(o.operations.begin() + static_cast<std::ptrdiff_t>(std::min(from, o.operations.size())),
                             o.operations.end(), [&](const json& op) { return matches(want, op); });
      if (it == o.operations.end()) {
        out += fmt::format("    operations[{}] {} is not among the execution's operations{} (listed below)\n", i,
                           want.dump(), i == 0 ? "" : fmt::format(" after the one operations[{}] matched", i - 1));
        break;
      }
      from = static_cast<std::size_t>(it - o.operations.begin()) + 1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

struct DurableHarness::Impl {
  Daemon& d;
  std::string region;
  double default_time_scale;
  std::unique_ptr<http::Server> server;

  struct Case {
    const TestCase* test = nullptr;
    std::string arn;
    double time_scale = 1;
    milliseconds deadline{0};
    std::size_t next_callback = 0;
    std::set<std::string> answered;  // callback ids
    std::string notes;               // callbacks that could not be answered
    std::unique_ptr<Timer> poll, stop_at;
    bool past_deadline = false, finished = false;
    std::chrono::steady_clock::time_point started;
    std::function<void(DurableVerdict)> done;
  };
  std::map<std::string, std::shared_ptr<Case>> cases;  // running, by ARN

  Impl(Daemon& daemon, std::string r, double scale) : d(daemon), region(std::move(r)), default_time_scale(scale) {}

  // The next callbacks whose CALLBACK operation waits, answered; polled while some remain.
  void answer_callbacks(const std::shared_ptr<Case>& c) {
    const durable::Execution* e = d.durable->find(c->arn);
    if (e == nullptr || !e->running() || c->finished) return;
    const auto& callbacks = c->test->durable->callbacks;
    while (c->next_callback < callbacks.size()) {
      const DurableCallback& cb = callbacks[c->next_callback];
      const durable::Operation* waiting = nullptr;
      for (const auto& op : e->operations) {
        if (op.type != durable::OpType::kCallback || op.status != durable::OpStatus::kStarted || op.callback_id.empty() ||
            c->answered.count(op.callback_id)) {
          continue;
        }
        const durable::Operation* parent = op.parent_id.empty() ? nullptr : e->find(op.parent_id);
        if (cb.name.empty() || op.name == cb.name || (parent && parent->name == cb.name)) {
          waiting = &op;
          break;
        }
      }
      if (waiting == nullptr) break;
      const std::string id = waiting->callback_id;
      c->answered.insert(id);
      ++c->next_callback;
      auto st = cb.result ? d.durable->callback(id, durable::CallbackAnswer::kSuccess, cb.result->dump(), std::nullopt)
                          : d.durable->callback(id, durable::CallbackAnswer::kFailure, std::nullopt, cb.error);
      if (!st) {
        c->notes += fmt::format("    callbacks[{}] (line {}) could not be answered: {}: {}\n", c->next_callback - 1,
                                cb.line, st.error().type, st.error().message);
      }
      e = d.durable->find(c->arn);
      if (e == nullptr || !e->running()) return;
    }
    if (c->next_callback < callbacks.size()) {
      c->poll->arm(d.clock.now() + milliseconds(10), [this, c] { answer_callbacks(c); });
    }
  }

  void ended(const std::shared_ptr<Case>& c, const durable::Execution& e) {
    if (c->finished) return;
    c->finished = true;
    c->poll->cancel();
    c->stop_at->cancel();
    cases.erase(c->arn);
    const DurableObserved observed = observe_execution(e);
    const auto invocations = std::count_if(e.history.begin(), e.history.end(),
                                           [](const durable::HistoryEvent& h) { return h.type == "InvocationCompleted"; });
    DurableVerdict v;
    const std::size_t wanted = c->test->durable ? c->test->durable->callbacks.size() : 0;
    if (c->past_deadline) {
      v.failure = fmt::format("    the execution did not end within {:.1f} s (the case's deadline: durable.deadlineSeconds, "
                              "else the ExecutionTimeout under timeScale {} and a margin); it was stopped\n",
                              static_cast<double>(c->deadline.count()) / 1000.0, c->time_scale);
    } else {
      v.failure = check_durable(c->test->expect, observed);
    }
    if (c->next_callback < wanted && !c->past_deadline) {
      const auto& cb = c->test->durable->callbacks[c->next_callback];
      v.failure += fmt::format("    {} of the case's {} callback{} not answered: no CALLBACK operation{} was waiting "
                               "before the execution ended\n",
                               wanted - c->next_callback, wanted, wanted == 1 ? " was" : "s were",
                               cb.name.empty() ? "" : " named " + cb.name);
    }
    v.failure += c->notes;
    if (!v.failure.empty()) {
      if (observed.error && !c->past_deadline) v.failure += "      error: " + observed.error->dump() + "\n";
      v.failure += "      operations:\n" + operations_listing(observed.operations, "        | ");
    }
    v.execution_ms = static_cast<double>(e.end_ms.value_or(e.start_ms) - e.start_ms);
    v.summary = fmt::format("{} after {} invocation{}", observed.status, invocations, invocations == 1 ? "" : "s");
    v.report = json{{"arn", e.arn},
                    {"name", e.name},
                    {"status", observed.status},
                    {"timeScale", c->time_scale},
                    {"invocations", invocations},
                    {"callbacksAnswered", c->next_callback},
                    {"operations", observed.operations}};
    if (observed.error) v.report["error"] = *observed.error;
    // Not inside the engine's call stack (an invocation's end).
    boost::asio::post(d.domain, [done = std::move(c->done), v = std::move(v)]() mutable { done(std::move(v)); });
  }
};

DurableHarness::DurableHarness(Daemon& d, std::string region, double default_time_scale)
    : impl_(std::make_unique<Impl>(d, std::move(region), default_time_scale)) {}

DurableHarness::~DurableHarness() = default;

bool DurableHarness::open() {
  Daemon& d = impl_->d;
  invoke_api::InvokeApiOptions api;
  api.region = impl_->region;
  api.account_id = d.runtime_options.account_id;
  impl_->server = std::make_unique<http::Server>(
      d.io, d.domain, invoke_api::make_router(*d.scheduler, d.clock, api, nullptr, nullptr, d.durable.get()));
  if (auto st = impl_->server->listen("127.0.0.1", 0); !st) {
    std::fprintf(stderr, "lambdad test: the checkpoint API for durable functions: %s\n", st.error().message.c_str());
    return false;
  }
  d.runtime_options.lambda_api_port = impl_->server->port();
  return true;
}

void DurableHarness::close() {
  if (impl_->server) impl_->server->stop();
}

void DurableHarness::run(const TestCase& test, const std::string& function, const std::string& version,
                         int function_timeout_s, std::function<void(DurableVerdict)> done) {
  Impl& h = *impl_;
  Daemon& d = h.d;
  auto c = std::make_shared<Impl::Case>();
  c->test = &test;
  c->done = std::move(done);
  c->started = std::chrono::steady_clock::now();
  const DurableOptions options = test.durable.value_or(DurableOptions{});
  c->time_scale = options.time_scale > 0 ? options.time_scale : h.default_time_scale;
  auto fail = [&](std::string failure) {
    DurableVerdict v;
    v.failure = std::move(failure);
    boost::asio::post(d.domain, [done = std::move(c->done), v = std::move(v)]() mutable { done(std::move(v)); });
  };
  auto started = d.start_execution(function, version, options.execution_name, test.event.dump(), c->time_scale);
  if (!started) {
    return fail(fmt::format("    the execution could not start: {}: {}\n", started.error().type, started.error().message));
  }
  if (started->existing) {
    return fail(fmt::format("    an execution named {} is already running (another case's): executionName must be "
                            "unique in a run\n",
                            options.execution_name));
  }
  c->arn = started->arn;
  c->poll = d.timers->make_timer();
  c->stop_at = d.timers->make_timer();
  const auto settings = d.scheduler->durable(function, version).value_or(invocation::DurableSettings{});
  c->deadline = durable_case_deadline(settings.execution_timeout_s, c->time_scale, function_timeout_s, options.deadline_s);
  h.cases.emplace(c->arn, c);
  c->stop_at->arm(d.clock.now() + c->deadline, [&h, c] {
    if (c->finished) return;
    c->past_deadline = true;
    auto stopped = h.d.durable->stop(
        c->arn, json{{"ErrorType", "lambdad.TestDeadline"},
                     {"ErrorMessage", fmt::format("lambdad test stopped the execution after {:.1f} s",
                                                  static_cast<double>(c->deadline.count()) / 1000.0)}});
    if (!stopped) {
      if (const durable::Execution* e = h.d.durable->find(c->arn)) h.ended(c, *e);
    }
  });
  d.durable->on_end(c->arn, [&h, c](const durable::Execution& e) { h.ended(c, e); });
  if (!options.callbacks.empty()) h.answer_callbacks(c);
}

}  // namespace lambdad::app
