// app: `lambdad test` — runs a suite of cases against the template's functions in this process
// (warm pools, `--jobs` invocations at once), checks each against what it expects, prints a
// line per case and a summary, and writes JUnit XML and JSON reports (docs/test-suites.md).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "daemon.hpp"
#include "lambdad/app/commands.hpp"
#include "lambdad/app/runtime_environment.hpp"
#include "lambdad/common/ids.hpp"
#include "test_suite.hpp"

namespace lambdad::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
  const TestCase* test = nullptr;
  std::string failure;  // empty: passed
  Observed observed;
  double wall_ms = 0;
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

std::string junit_report(const std::vector<Outcome>& outcomes, double total_s) {
  std::size_t failures = 0;
  for (const auto& o : outcomes) failures += o.failure.empty() ? 0u : 1u;
  std::string cases;
  for (const auto& o : outcomes) {
    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{:.3f}\">\n",
                         xml_escape(o.test->function), xml_escape(o.test->name), xml_escape(o.test->file.string()),
                         o.wall_ms / 1000.0);
    if (!o.failure.empty()) {
      auto first = o.failure.substr(0, o.failure.find('\n'));
      cases += fmt::format("      <failure message=\"{}\" type=\"AssertionError\">{}</failure>\n",
                           xml_escape(first), xml_escape(o.failure));
    }
    cases += "    </testcase>\n";
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"lambdad test\" tests=\"{0}\" failures=\"{1}\" errors=\"0\" time=\"{2:.3f}\">\n"
      "  <testsuite name=\"lambdad\" tests=\"{0}\" failures=\"{1}\" errors=\"0\" skipped=\"0\" time=\"{2:.3f}\">\n"
      "{3}"
      "  </testsuite>\n"
      "</testsuites>\n",
      outcomes.size(), failures, total_s, cases);
}

json json_report(const std::vector<Outcome>& outcomes, double total_s, std::size_t cold) {
  json cases = json::array();
  std::size_t failed = 0;
  for (const auto& o : outcomes) {
    failed += o.failure.empty() ? 0u : 1u;
    json c = {{"name", o.test->name},
              {"file", o.test->file.string()},
              {"line", o.test->line},
              {"function", o.test->function},
              {"status", o.failure.empty() ? "passed" : "failed"},
              {"durationMs", o.observed.duration_ms},
              {"wallMs", o.wall_ms},
              {"coldStart", o.observed.cold_start}};
    if (!o.failure.empty()) c["failure"] = o.failure;
    cases.push_back(std::move(c));
  }
  return {{"summary",
           {{"total", outcomes.size()}, {"passed", outcomes.size() - failed}, {"failed", failed},
            {"coldStarts", cold}, {"seconds", total_s}}},
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

  std::vector<fs::path> paths;
  for (const auto& p : options.paths) paths.emplace_back(p);
  const fs::path& definitions = common.serverless_file.empty() ? common.template_file : common.serverless_file;
  if (paths.empty()) paths.push_back(fs::absolute(definitions).parent_path());
  Suite suite = load_suite(paths);
  for (const auto& c : suite.cases) {
    bool known = false;
    for (const auto& fn : *functions) known = known || fn.name == c.function || fn.logical_id == c.function;
    if (!known) suite.problems.push_back({c.file, c.line, fmt::format("no function named {} in {}", c.function,
                                                                       definitions.string())});
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

  auto runtimes = prepare_runtimes(common, *functions);
  if (!runtimes) return 2;
  Daemon d;
  d.runtime_options = std::move(*runtimes);
  if (!d.prepare_limits("auto")) return 2;
  sandbox::ManagerOptions manager_options;
  d.build(*functions, std::move(manager_options));

  const int jobs = options.jobs > 0 ? options.jobs
                                    : std::max(2, 2 * static_cast<int>(std::thread::hardware_concurrency()));
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  std::vector<Outcome> outcomes(selected.size());
  std::deque<std::size_t> pending;
  for (std::size_t i = 0; i < selected.size(); ++i) pending.push_back(i);
  std::size_t running = 0, done = 0, failed = 0, cold = 0;
  const auto started = std::chrono::steady_clock::now();

  auto name_of = [&](const TestCase& c) {
    for (const auto& fn : *functions) {
      if (fn.name == c.function || fn.logical_id == c.function) return fn.name;
    }
    return c.function;
  };

  std::function<void()> pump;
  auto finish = [&](std::size_t i, Outcome outcome) {
    --running;
    ++done;
    if (!outcome.failure.empty()) ++failed;
    if (outcome.observed.cold_start) ++cold;
    const TestCase& c = *selected[i];
    if (tty) std::printf("\r\033[K");
    if (outcome.failure.empty()) {
      std::printf("PASS %s (%s, %.2f ms%s)\n", c.name.c_str(), c.function.c_str(), outcome.observed.duration_ms,
                  outcome.observed.cold_start ? ", cold" : "");
    } else {
      std::printf("FAIL %s (%s) %s:%d\n%s", c.name.c_str(), c.function.c_str(), c.file.c_str(), c.line,
                  outcome.failure.c_str());
    }
    if (tty) std::printf("[%zu/%zu] %zu failed", done, selected.size(), failed);
    std::fflush(stdout);
    outcomes[i] = std::move(outcome);
    pump();
  };

  pump = [&] {
    while (running < static_cast<std::size_t>(jobs) && !pending.empty()) {
      const std::size_t i = pending.front();
      pending.pop_front();
      const TestCase& c = *selected[i];
      const std::string name = name_of(c);
      const auto* fn = &*std::find_if(functions->begin(), functions->end(),
                                      [&](const auto& f) { return f.name == name; });
      auto version = config::resolve_qualifier(*fn, c.qualifier);
      if (!version) {
        ++running;
        finish(i, Outcome{&c, fmt::format("    {} has no version or alias {}\n", name, c.qualifier), {}, 0});
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
      inv->trace_id = ids::trace_header(d.clock.epoch_ms() / 1000);
      inv->received = d.clock.now();
      const auto sent = std::chrono::steady_clock::now();
      inv->on_complete = [&, i, sent](invocation::InvocationResult r) {
        Outcome out;
        out.test = selected[i];
        out.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count();
        out.observed = observe(r.outcome == invocation::Outcome::kFunctionError, r.error_type, std::move(r.payload), r.log);
        out.failure = check(out.test->expect, out.observed);
        if (!out.failure.empty() && !r.log.empty()) {
          out.failure += "      log:\n";
          std::istringstream log(r.log);
          for (std::string line; std::getline(log, line);) out.failure += "        | " + line + "\n";
        }
        // Not inside the environment's call stack: the next dispatch may start environments.
        boost::asio::post(d.io, [&finish, i, out = std::move(out)]() mutable { finish(i, std::move(out)); });
      };
      ++running;
      if (d.manager->dispatch(inv) != invocation::Admission::kAccepted) {
        if (running > 1) {
          // Reserved concurrency is full: the case waits for a running one to end (finish pumps).
          --running;
          pending.push_front(i);
        } else {
          // Nothing of ours is running, so it can never be admitted (reserved concurrency 0).
          finish(i, Outcome{&c, fmt::format("    {} is throttled: TooManyRequestsException\n", name), {}, 0});
        }
        break;
      }
    }
    if (running == 0 && pending.empty()) {
      d.manager->shutdown();
      d.io.stop();
    }
  };

  boost::asio::post(d.io, [&] { pump(); });
  d.io.run();
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (tty) std::printf("\r\033[K");
  std::printf("\n%zu cases: %zu passed, %zu failed, %zu cold starts, %.2f s (%d at once)\n", selected.size(),
              selected.size() - failed, failed, cold, total_s, jobs);
  std::fflush(stdout);

  if (!options.junit_file.empty() && !write_file(options.junit_file, junit_report(outcomes, total_s))) {
    std::fprintf(stderr, "lambdad test: cannot write %s\n", options.junit_file.c_str());
    return 2;
  }
  if (!options.json_file.empty() &&
      !write_file(options.json_file, json_report(outcomes, total_s, cold).dump(2) + "\n")) {
    std::fprintf(stderr, "lambdad test: cannot write %s\n", options.json_file.c_str());
    return 2;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace lambdad::app
