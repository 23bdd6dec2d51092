// app: `lambdad test` — runs a suite of cases against the template's functions, in this process
// (warm pools, an Event queue whose destinations the Event cases are checked through) or against a
// running daemon's Invoke API (--endpoint), `--jobs` invocations at once; checks each against what
// it expects, prints a line per case and a summary, and writes JUnit XML and JSON reports
// (docs/test-suites.md).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "daemon.hpp"
#include "lambdad/client/http_client.hpp"
#include "lambdad/app/commands.hpp"
#include "lambdad/app/runtime_environment.hpp"
#include "lambdad/async/event_queue.hpp"
#include "lambdad/async/state_dir.hpp"
#include "lambdad/common/base64.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/config/function_names.hpp"
#include "test_suite.hpp"

namespace lambdad::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using client::encode_path_segment;
using client::HttpClient;
using client::HttpEndpoint;
using client::HttpHeaders;
using client::RequestSigner;

// The Invoke API refuses an Event payload over 1 MB with a 413 (invoke_api's kEventPayloadLimit).
constexpr std::size_t kEventPayloadLimit = 1048576;

struct Outcome {
  const TestCase* test = nullptr;
  std::string failure;  // empty: passed
  bool error = false;   // the case could not be checked at all (the failure says why)
  Observed observed;
  double wall_ms = 0;
  std::string destination;  // Event cases: where the record went ("onSuccess", "onFailure")
  std::string condition;    // Event cases: "Success", "RetriesExhausted after 3 attempts", ...;
                            // durable cases: "SUCCEEDED after 3 invocations"
  json execution = nullptr;  // durable cases: the execution, for --json
};

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 has no place for most control characters.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

struct Counts {
  std::size_t passed = 0, failed = 0, errors = 0;
};

Counts count(const std::vector<Outcome>& outcomes) {
  Counts c;
  for (const auto& o : outcomes) {
    if (o.error) ++c.errors;
    else if (o.failure.empty()) ++c.passed;
    else ++c.failed;
  }
  return c;
}

std::string junit_report(const std::vector<Outcome>& outcomes, double total_s) {
  const Counts n = count(outcomes);
  std::string cases;
  for (const auto& o : outcomes) {
    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{:.3f}\">\n",
                         xml_escape(o.test->function), xml_escape(o.test->name), xml_escape(o.test->file.string()),
                         o.wall_ms / 1000.0);
    if (!o.failure.empty()) {
      auto first = o.failure.substr(0, o.failure.find('\n'));
      first.erase(0, std::min(first.size(), first.find_first_not_of(' ')));
      const char* element = o.error ? "error" : "failure";
      cases += fmt::format("      <{0} message=\"{1}\" type=\"{2}\">{3}</{0}>\n", element, xml_escape(first),
                           o.error ? "Error" : "AssertionError", xml_escape(o.failure));
    }
    cases += "    </testcase>\n";
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"lambdad test\" tests=\"{0}\" failures=\"{1}\" errors=\"{4}\" time=\"{2:.3f}\">\n"
      "  <testsuite name=\"lambdad\" tests=\"{0}\" failures=\"{1}\" errors=\"{4}\" skipped=\"0\" time=\"{2:.3f}\">\n"
      "{3}"
      "  </testsuite>\n"
      "</testsuites>\n",
      outcomes.size(), n.failed, total_s, cases, n.errors);
}

json json_report(const std::vector<Outcome>& outcomes, double total_s, std::size_t cold, int jobs) {
  json cases = json::array();
  const Counts n = count(outcomes);
  for (const auto& o : outcomes) {
    const bool event = o.test->type == InvocationType::kEvent;
    json c = {{"name", o.test->name},
              {"file", o.test->file.string()},
              {"line", o.test->line},
              {"function", o.test->function},
              {"invocationType", event ? "Event" : "RequestResponse"},
              {"status", o.error ? "error" : o.failure.empty() ? "passed" : "failed"},
              {"durationMs", o.observed.duration_ms},
              {"wallMs", o.wall_ms},
              {"coldStart", o.observed.cold_start}};
    if (event && !o.destination.empty()) c["destination"] = o.destination;
    if (!o.execution.is_null()) c["execution"] = o.execution;
    if (!o.failure.empty()) c["failure"] = o.failure;
    cases.push_back(std::move(c));
  }
  return {{"summary",
           {{"total", outcomes.size()}, {"passed", n.passed}, {"failed", n.failed}, {"errors", n.errors},
            {"coldStarts", cold}, {"seconds", total_s}, {"jobs", jobs}}},
          {"cases", std::move(cases)}};
}

std::optional<std::pair<int, int>> parse_shard(const std::string& text) {
  static const std::regex kShard(R"(([0-9]+)/([0-9]+))");
  std::smatch m;
  if (!std::regex_match(text, m, kShard)) return std::nullopt;
  int i = std::stoi(m[1].str());
  int n = std::stoi(m[2].str());
  if (n < 1 || i < 1 || i > n) return std::nullopt;
  return std::pair{i, n};
}

const config::FunctionConfig& function_of(const std::vector<config::FunctionConfig>& functions, const TestCase& c) {
  return *config::find_function(functions, c.function);  // run_test checked that it names one
}

// --jobs by default: twice the cores, but no more than the selected cases' functions can run at
// once when every one of them has reserved concurrency (more would only be throttled).
std::pair<int, std::string> default_jobs(const std::vector<config::FunctionConfig>& functions,
                                         const std::vector<const TestCase*>& selected) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int twice_cores = std::max(2, 2 * cores);
  std::set<std::string> used;
  bool all_reserved = true;
  long long reserved = 0;
  for (const auto* c : selected) {
    const auto& fn = function_of(functions, *c);
    if (!used.insert(fn.name).second) continue;
    if (!fn.reserved_concurrency) all_reserved = false;
    else reserved += *fn.reserved_concurrency;
  }
  if (!used.empty() && all_reserved && reserved < twice_cores) {
    return {static_cast<int>(std::max(1LL, reserved)), "the functions' reserved concurrency"};
  }
  return {twice_cores, fmt::format("twice the {} core{}", cores, cores == 1 ? "" : "s")};
}

void append_log(std::string& failure, const std::string& log) {
  if (log.empty()) return;
  failure += "      log:\n";
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) failure += "        | " + line + "\n";
}

// Prints each case as it ends (from any thread) and keeps the outcomes in case order.
class Reporter {
 public:
  explicit Reporter(std::size_t total) : outcomes_(total), tty_(::isatty(STDOUT_FILENO) != 0) {}

  void finished(std::size_t i, Outcome outcome) {
    std::lock_guard lock(mutex_);
    ++done_;
    const TestCase& c = *outcome.test;
    if (outcome.error) ++errors_;
    else if (!outcome.failure.empty()) ++failed_;
    if (outcome.observed.cold_start) ++cold_;
    if (tty_) std::printf("\r\033[K");
    if (outcome.error) {
      std::printf("ERROR %s (%s) %s:%d\n%s", c.name.c_str(), c.function.c_str(), c.file.c_str(), c.line,
                  outcome.failure.c_str());
    } else if (!outcome.failure.empty()) {
      std::printf("FAIL %s (%s) %s:%d\n%s", c.name.c_str(), c.function.c_str(), c.file.c_str(), c.line,
                  outcome.failure.c_str());
    } else if (!outcome.execution.is_null()) {
      std::printf("PASS %s (%s, durable: %s, %.2f s)\n", c.name.c_str(), c.function.c_str(), outcome.condition.c_str(),
                  outcome.wall_ms / 1000.0);
    } else if (c.type == InvocationType::kEvent) {
      std::printf("PASS %s (%s, Event, %s: %s)\n", c.name.c_str(), c.function.c_str(),
                  outcome.destination == "onSuccess" ? "OnSuccess" : "OnFailure", outcome.condition.c_str());
    } else {
      std::printf("PASS %s (%s, %.2f ms%s)\n", c.name.c_str(), c.function.c_str(), outcome.observed.duration_ms,
                  outcome.observed.cold_start ? ", cold" : "");
    }
    if (tty_) {
      std::printf("[%zu/%zu] %zu failed", done_, outcomes_.size(), failed_ + errors_);
      if (done_ == outcomes_.size()) std::printf("\r\033[K");
    }
    std::fflush(stdout);
    outcomes_[i] = std::move(outcome);
  }

  const std::vector<Outcome>& outcomes() const { return outcomes_; }
  std::size_t cold() const { return cold_; }

 private:
  std::mutex mutex_;
  std::vector<Outcome> outcomes_;
  bool tty_;
  std::size_t done_ = 0, failed_ = 0, errors_ = 0, cold_ = 0;
};

std::string describe(const config::EventDestination& d) { return fmt::format("{} {}", d.type, d.destination); }

// Every selected case in this process, `jobs` at once; Event cases through an EventQueue on a
// private state directory, checked on the record their destination receives.
int run_here(const CommonOptions& common, const std::vector<config::FunctionConfig>& functions,
             const std::vector<const TestCase*>& selected, int jobs, milliseconds retry_base, Reporter& reporter) {
  auto runtimes = prepare_runtimes(common, functions);
  if (!runtimes) return 2;
  Daemon d;
  d.runtime_options = std::move(*runtimes);
  if (!d.prepare_limits("auto")) return 2;

  // Event invocations as `serve` runs them, on a state directory removed with the daemon's /tmp root.
  auto state = async::StateDir::open(d.tmp_root / ".state");
  if (!state) {
    std::fprintf(stderr, "lambdad test: %s\n", state.error().message.c_str());
    return 2;
  }
  async::EventQueueOptions queue_options;
  queue_options.events_dir = state->events_dir();
  queue_options.destinations_dir = state->destinations_dir();
  queue_options.durable = false;
  queue_options.retry_base = retry_base;
  queue_options.region = common.region;
  CoreOptions core;  // the catalogue stores nothing
  core.catalogue.region = common.region;
  core.pools.pool.prepare_ahead = true;  // the next cold start's sandbox is made ahead (decision 022)
  core.events = std::move(queue_options);
  // Durable cases: the engine, and the checkpoint API its functions' SDKs call.
  const bool any_durable = std::any_of(selected.begin(), selected.end(),
                                       [&](const TestCase* c) { return function_of(functions, *c).durable.has_value(); });
  if (any_durable) core.durable = CoreOptions::Durable{{}, common.durable_time_scale};
  d.build(functions, std::move(core));
  auto& scheduler = *d.scheduler;
  auto& events = *d.events;
  std::unique_ptr<DurableHarness> durable;
  if (d.durable) {
    durable = std::make_unique<DurableHarness>(d, common.region, common.durable_time_scale);
    if (!durable->open()) return 2;
  }

  std::deque<std::size_t> pending;
  for (std::size_t i = 0; i < selected.size(); ++i) pending.push_back(i);
  std::size_t running = 0;
  std::function<void()> pump;

  auto finish = [&](std::size_t i, Outcome outcome) {
    --running;
    reporter.finished(i, std::move(outcome));
    pump();
  };

  // Event cases waiting for their outcome, by request id.
  struct Waiting {
    std::size_t index;
    std::chrono::steady_clock::time_point sent;
    std::unique_ptr<Timer> deadline;
  };
  std::map<std::string, Waiting> waiting;
  events.set_outcome_observer([&](const async::FinalOutcome& o) {
    auto it = waiting.find(o.request_id);
    if (it == waiting.end()) return;  // a Lambda destination's own event, or a case that gave up
    const std::size_t i = it->second.index;
    Outcome out;
    out.test = selected[i];
    out.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - it->second.sent).count();
    waiting.erase(it);
    DeliveredRecord delivered;
    delivered.went_to = o.success ? "onSuccess" : "onFailure";
    if (o.destination) delivered.destination = describe(*o.destination);
    delivered.record = json::parse(o.record, nullptr, false);
    out.destination = delivered.went_to;
    out.condition = fmt::format("{} after {} attempt{}", async::condition_name(o.condition),
                                o.approximate_invoke_count, o.approximate_invoke_count == 1 ? "" : "s");
    out.observed = observe_record(delivered.record);
    out.failure = check_event(out.test->expect, delivered);
    if (o.destination && !o.delivered) {
      out.failure += fmt::format("    the record could not be written to {} (see the log)\n", delivered.destination);
    }
    // Not inside the environment's call stack: the next dispatch may start environments.
    boost::asio::post(d.domain, [&finish, i, out = std::move(out)]() mutable { finish(i, std::move(out)); });
  });

  auto start_event = [&](std::size_t i, const TestCase& c, const config::FunctionConfig& fn,
                         invocation::InvocationPtr inv) {
    const auto& config = fn.event_invoke_config;
    const bool success = c.expect.destination == "onSuccess";
    const auto& to = !config ? std::nullopt : success ? config->on_success : config->on_failure;
    if (!to) {
      return finish(i, Outcome{&c,
                               fmt::format("    {} has no {} destination configured (EventInvokeConfig: "
                                           "DestinationConfig: {} in the template), so an Event case cannot be "
                                           "checked through it\n",
                                           fn.name, success ? "OnSuccess" : "OnFailure",
                                           success ? "OnSuccess" : "OnFailure"),
                               false, {}, 0, {}, {}});
    }
    if (inv->payload.size() > kEventPayloadLimit) {
      return finish(i, Outcome{&c,
                               fmt::format("    the event is {} bytes; an Event invocation takes at most {} "
                                           "(RequestEntityTooLargeException)\n",
                                           inv->payload.size(), kEventPayloadLimit),
                               false, {}, 0, {}, {}});
    }
    // As the Invoke API does before its 202: spooled and queued, or refused. The case waits for
    // its outcome from the moment the event is durable.
    const auto sent = std::chrono::steady_clock::now();
    events.accept(*inv, [&, i, &c = c, &fn = fn, id = inv->request_id, sent](Status accepted) {
      if (!accepted) {
        return finish(i, Outcome{&c, fmt::format("    the event was not accepted: {}\n", accepted.error().message),
                                 false, {}, 0, {}, {}});
      }
      const auto retries = fn.event_invoke_config.value_or(config::EventInvokeConfig{}).maximum_retry_attempts;
      const milliseconds bound = event_case_deadline(fn.timeout_seconds, retries, retry_base);
      auto timer = d.timers->make_timer();
      timer->arm(d.clock.now() + bound, [&, id, bound, name = fn.name] {
        auto it = waiting.find(id);
        if (it == waiting.end()) return;
        const std::size_t index = it->second.index;
        waiting.erase(it);
        finish(index, Outcome{selected[index],
                              fmt::format("    no outcome reached a destination within {:.1f} s (the timeout of {} × "
                                          "its attempts, the retry delays and a margin); the event {} is still "
                                          "queued or running\n",
                                          static_cast<double>(bound.count()) / 1000.0, name, id),
                              false, {}, static_cast<double>(bound.count()), {}, {}});
      });
      waiting.emplace(id, Waiting{i, sent, std::move(timer)});
    });
  };

  pump = [&] {
    while (running < static_cast<std::size_t>(jobs) && !pending.empty()) {
      const std::size_t i = pending.front();
      pending.pop_front();
      const TestCase& c = *selected[i];
      const auto& fn = function_of(functions, c);
      const std::string& name = fn.name;
      ++running;
      auto version = scheduler.resolve(name, c.qualifier);
      if (!version) {
        finish(i, Outcome{&c, fmt::format("    {} has no version or alias {}\n", name, c.qualifier), false, {}, 0,
                          {}, {}});
        continue;
      }
      auto inv = std::make_shared<invocation::Invocation>();
      inv->request_id = ids::request_id();
      inv->function_name = name;
      inv->qualifier = c.qualifier;
      inv->version = *version;
      inv->invoked_function_arn = invocation::function_arn(common.region, "123456789012", name,
                                                           c.qualifier == "$LATEST" ? "" : c.qualifier);
      inv->payload = c.event.dump();
      inv->trace_id = ids::trace_header(d.clock.epoch_ms() / 1000, scheduler.tracing_active(name, *version));
      inv->received = d.clock.now();
      if (durable && scheduler.durable(name, *version)) {
        const auto sent = std::chrono::steady_clock::now();
        durable->run(c, name, *version, fn.timeout_seconds, [&, i, sent](DurableVerdict v) {
          Outcome out;
          out.test = selected[i];
          out.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count();
          out.failure = std::move(v.failure);
          out.observed.duration_ms = v.execution_ms;
          out.condition = std::move(v.summary);
          out.execution = v.report.is_null() ? json::object() : std::move(v.report);
          finish(i, std::move(out));
        });
        continue;
      }
      if (c.type == InvocationType::kEvent) {
        start_event(i, c, fn, std::move(inv));
        continue;
      }
      const auto sent = std::chrono::steady_clock::now();
      inv->on_complete = [&, i, sent](invocation::InvocationResult r) {
        Outcome out;
        out.test = selected[i];
        out.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count();
        out.observed =
            observe(r.outcome == invocation::Outcome::kFunctionError, r.error_type, std::move(r.payload), r.log);
        out.failure = check(out.test->expect, out.observed);
        if (!out.failure.empty()) append_log(out.failure, r.log);
        // Not inside the environment's call stack: the next dispatch may start environments.
        boost::asio::post(d.domain, [&finish, i, out = std::move(out)]() mutable { finish(i, std::move(out)); });
      };
      if (scheduler.dispatch(inv) != invocation::Admission::kAccepted) {
        if (running > 1) {
          // Reserved concurrency is full: the case waits for a running one to end (finish pumps).
          --running;
          pending.push_front(i);
        } else {
          // Nothing of ours is running, so it can never be admitted (reserved concurrency 0).
          finish(i, Outcome{&c, fmt::format("    {} is throttled: TooManyRequestsException\n", name), false, {}, 0,
                            {}, {}});
        }
        break;
      }
    }
    if (running == 0 && pending.empty()) {
      if (durable) durable->close();
      events.shutdown();
      d.manager->shutdown();
      d.stop_once_closed();  // the environments' extensions get their SHUTDOWN budget first
    }
  };

  events.start();
  boost::asio::post(d.domain, [&] { pump(); });
  d.run();
  events.shutdown();
  return 0;
}

// One case against the daemon at the endpoint, through its Invoke API.
Outcome invoke_remote(HttpClient& client, const TestCase& c, const config::FunctionConfig& fn) {
  Outcome out;
  out.test = &c;
  if (fn.durable) {
    // A durable case answers callbacks and reads the execution's operations inside the engine,
    // and its timeScale is the engine's; a daemon's engine has its own scale.
    out.error = true;
    out.failure = fmt::format(
        "    {} is durable: its case runs an execution in lambdad test's own engine (its timeScale, its callbacks, its "
        "operations), not in a daemon at {}; run durable cases in-process (without --endpoint)\n",
        fn.name, client.endpoint().url);
    return out;
  }
  if (c.type == InvocationType::kEvent) {
    // The daemon writes destination records where only it looks (its state directory); a 202
    // alone proves nothing, so the case is not run rather than passed.
    out.error = true;
    out.failure = fmt::format(
        "    an Event case is checked through its destination's record, which a daemon at {} does not show; run "
        "Event cases in-process (without --endpoint)\n",
        client.endpoint().url);
    return out;
  }
  std::string target = "/2015-03-31/functions/" + encode_path_segment(fn.name) + "/invocations";
  if (c.qualifier != "$LATEST") target += "?Qualifier=" + encode_path_segment(c.qualifier);
  const HttpHeaders headers{{"X-Amz-Invocation-Type", "RequestResponse"},
                            {"X-Amz-Log-Type", "Tail"},
                            {"Content-Type", "application/json"}};
  const auto sent = std::chrono::steady_clock::now();
  // The function's timeout, a cold start and time queued behind other cases.
  const milliseconds timeout = std::chrono::seconds(fn.timeout_seconds) + std::chrono::seconds(60);
  auto response = client.request("POST", target, headers, c.event.dump(), timeout);
  out.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count();
  if (!response) {
    out.failure = fmt::format("    cannot invoke {} at {}: {}\n", fn.name, client.endpoint().url,
                              response.error().message);
    return out;
  }
  const json body = json::parse(response->body, nullptr, false);
  auto error_field = [&](const char* key) {
    return body.is_object() && body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : "";
  };
  if (response->status == 429) {
    std::string type = response->header("x-amzn-ErrorType").value_or(error_field("Type"));
    type = type.substr(0, type.find(':'));
    if (type.empty()) type = "TooManyRequestsException";
    std::string why = error_field("Reason");  // ReservedFunctionConcurrentInvocationLimitExceeded, ...
    if (const auto message = error_field("message"); !message.empty()) why += (why.empty() ? "" : ": ") + message;
    out.failure = fmt::format("    {} is throttled: {} ({})\n", fn.name, type, why);
    return out;
  }
  if (response->status != 200) {
    out.failure = fmt::format("    the daemon answered {} to the invoke: {}\n", response->status, response->body);
    return out;
  }
  std::string log;
  if (auto tail = response->header("X-Amz-Log-Result")) log = base64::decode(*tail).value_or("");
  const auto function_error = response->header("X-Amz-Function-Error");
  out.observed = observe(function_error.has_value(), function_error.value_or(""), std::move(response->body), log);
  out.failure = check(c.expect, out.observed);
  if (!out.failure.empty()) append_log(out.failure, log);
  return out;
}

// Every selected case against the daemon at `endpoint`, `jobs` worker threads each with its own
// keep-alive connection.
void run_remote(const HttpEndpoint& endpoint, const std::optional<RequestSigner>& signer,
                const std::vector<config::FunctionConfig>& functions, const std::vector<const TestCase*>& selected,
                int jobs, Reporter& reporter) {
  std::mutex mutex;
  std::size_t next = 0;
  auto work = [&] {
    HttpClient client(endpoint, signer);
    for (;;) {
      std::size_t i;
      {
        std::lock_guard lock(mutex);
        if (next == selected.size()) return;
        i = next++;
      }
      const TestCase& c = *selected[i];
      reporter.finished(i, invoke_remote(client, c, function_of(functions, c)));
    }
  };
  std::vector<std::thread> workers;
  const std::size_t n = std::min(selected.size(), static_cast<std::size_t>(jobs));
  for (std::size_t k = 0; k < n; ++k) workers.emplace_back(work);
  for (auto& w : workers) w.join();
}

}  // namespace

int run_test(const TestOptions& options) {
  // The daemon's own log would drown the report: warnings and errors only, unless asked.
  CommonOptions common = options.common;
  if (common.log_level == "info") common.log_level = "warn";
  observability::init_logging({common.log_level});
  // Functions' own logs go into the report of a case that fails, not to the terminal.
  if (!options.show_logs) observability::function_log()->set_level(spdlog::level::off);
  auto functions = load_functions(common);
  if (!functions) return 2;

  std::optional<HttpEndpoint> endpoint;
  if (!options.endpoint.empty()) {
    auto parsed = client::parse_endpoint(options.endpoint);
    if (!parsed) {
      std::fprintf(stderr, "lambdad test: --endpoint: %s\n", parsed.error().message.c_str());
      return 2;
    }
    endpoint = std::move(*parsed);
  }
  const auto retry_base = parse_duration(options.async_retry_base);
  if (!retry_base) {
    std::fprintf(stderr, "lambdad test: --async-retry-base: '%s' is not a duration (e.g. 10ms, 1s, 1m)\n",
                 options.async_retry_base.c_str());
    return 2;
  }

  std::vector<fs::path> paths;
  for (const auto& p : options.paths) paths.emplace_back(p);
  const fs::path& definitions = common.serverless_file.empty() ? common.template_file : common.serverless_file;
  if (paths.empty()) paths.push_back(fs::absolute(definitions).parent_path());
  Suite suite = load_suite(paths);
  for (const auto& c : suite.cases) {
    const auto* fn = config::find_function(*functions, c.function);
    if (!fn) {
      suite.problems.push_back({c.file, c.line, fmt::format("no function named {} in {}", c.function, definitions.string())});
      continue;
    }
    for (auto& p : durable_problems(c, fn->durable.has_value())) suite.problems.push_back(std::move(p));
  }
  if (!suite.problems.empty()) {
    std::fprintf(stderr, "lambdad test: the suite has %zu problem%s:\n", suite.problems.size(),
                 suite.problems.size() == 1 ? "" : "s");
    for (const auto& p : suite.problems) std::fprintf(stderr, "  %s\n", p.to_string().c_str());
    return 2;
  }

  // Selection: --filter, then --shard.
  std::vector<const TestCase*> selected;
  std::optional<std::regex> filter;
  if (!options.filter.empty()) {
    try {
      filter.emplace(options.filter);
    } catch (const std::regex_error& e) {
      std::fprintf(stderr, "lambdad test: --filter '%s' is not a regular expression: %s\n", options.filter.c_str(),
                   e.what());
      return 2;
    }
  }
  std::optional<std::pair<int, int>> shard;
  if (!options.shard.empty()) {
    shard = parse_shard(options.shard);
    if (!shard) {
      std::fprintf(stderr, "lambdad test: --shard '%s' is not I/N with 1 <= I <= N\n", options.shard.c_str());
      return 2;
    }
  }
  for (const auto& c : suite.cases) {
    if (filter && !std::regex_search(c.name, *filter)) continue;
    if (shard && shard_of(c.id, shard->second) != shard->first) continue;
    selected.push_back(&c);
  }

  auto [jobs, why] = default_jobs(*functions, selected);
  if (options.jobs > 0) {
    jobs = options.jobs;
    why = "--jobs";
  }
  Reporter reporter(selected.size());
  const auto started = std::chrono::steady_clock::now();
  if (endpoint) {
    // Signed when AWS credentials are in the environment (a daemon started with --credentials).
    run_remote(*endpoint, client::request_signer_from_environment(common.region), *functions, selected, jobs, reporter);
  } else if (int rc = run_here(common, *functions, selected, jobs, *retry_base, reporter); rc != 0) {
    return rc;
  }
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& outcomes = reporter.outcomes();
  const Counts n = count(outcomes);
  const std::string errors = n.errors == 0 ? "" : fmt::format(", {} error{}", n.errors, n.errors == 1 ? "" : "s");
  const std::string against = endpoint ? fmt::format("; against {}", endpoint->url) : "";
  std::printf("\n%zu cases: %zu passed, %zu failed%s, %zu cold starts, %.2f s (%d at once: %s%s)\n", selected.size(),
              n.passed, n.failed, errors.c_str(), reporter.cold(), total_s, jobs, why.c_str(), against.c_str());
  std::fflush(stdout);

  if (!options.junit_file.empty() && !write_file(options.junit_file, junit_report(outcomes, total_s))) {
    std::fprintf(stderr, "lambdad test: cannot write %s\n", options.junit_file.c_str());
    return 2;
  }
  if (!options.json_file.empty() &&
      !write_file(options.json_file, json_report(outcomes, total_s, reporter.cold(), jobs).dump(2) + "\n")) {
    std::fprintf(stderr, "lambdad test: cannot write %s\n", options.json_file.c_str());
    return 2;
  }
  if (n.errors > 0) return 2;
  return n.failed == 0 ? 0 : 1;
}

}  // namespace lambdad::app
