#include "lambdad/app/commands.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon.hpp"
#include "generate_event.hpp"
#include "lambdad/app/runtime_environment.hpp"
#include "lambdad/async/event_queue.hpp"
#include "lambdad/async/state_dir.hpp"
#include "lambdad/common/clock.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/http/server.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/process/resource_limits.hpp"
#include "lambdad/runtime_api/runtime_api.hpp"
#include "lambdad/sandbox/asio_timers.hpp"
#include "lambdad/sandbox/sandbox_manager.hpp"

namespace lambdad::app {
namespace asio = boost::asio;

namespace {

std::optional<std::string> read_event(const std::string& file) {
  if (file.empty()) return std::string("{}");
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "lambdad: cannot read event file %s\n", file.c_str());
      return std::nullopt;
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return std::string("{}");
  if (!nlohmann::json::accept(text)) {
    std::fprintf(stderr, "lambdad: the event in %s is not valid JSON\n", file == "-" ? "stdin" : file.c_str());
    return std::nullopt;
  }
  return text;
}

// Turns the command line's pool settings into the sandbox's options; prints what is wrong.
std::optional<sandbox::ManagerOptions> manager_options(const PoolSettings& p) {
  sandbox::ManagerOptions m;
  m.account_concurrency = p.account_concurrency;
  m.eager = p.warm_containers == "EAGER";
  m.pool.force_cold = p.force_cold;
  auto idle = parse_duration(p.idle_timeout);
  if (!idle) {
    std::fprintf(stderr, "lambdad: --idle-timeout: '%s' is not a duration (e.g. 500ms, 30s, 10m, 0)\n",
                 p.idle_timeout.c_str());
    return std::nullopt;
  }
  m.pool.idle_timeout = *idle;
  for (const auto& item : p.cold_start_delay) {
    auto eq = item.find('=');
    auto d = parse_duration(eq == std::string::npos ? item : item.substr(eq + 1));
    if (!d) {
      std::fprintf(stderr, "lambdad: --cold-start-delay: '%s' is not DURATION, RUNTIME=DURATION or FUNCTION=DURATION\n",
                   item.c_str());
      return std::nullopt;
    }
    if (eq == std::string::npos) {
      m.pool.cold_start_delay = *d;
    } else {
      m.cold_start_delay_by_runtime[item.substr(0, eq)] = *d;
    }
  }
  return m;
}

// The state directory and the Event invocation queue's options; prints what is wrong.
struct AsyncSetup {
  async::StateDir state;
  async::EventQueueOptions options;
};

std::optional<AsyncSetup> async_setup(const ServeOptions& serve, const std::filesystem::path& tmp_root,
                                      std::chrono::milliseconds retry_base) {
  // Without --state-dir events live in the daemon's private directory, removed at exit: fine
  // for parallel test daemons, and there is nothing to fsync for.
  const bool durable = !serve.state_dir.empty();
  auto state = async::StateDir::open(durable ? serve.state_dir : tmp_root / ".state");
  if (!state) {
    std::fprintf(stderr, "lambdad: --state-dir: %s\n", state.error().message.c_str());
    return std::nullopt;
  }
  async::EventQueueOptions options;
  options.events_dir = state->events_dir();
  options.destinations_dir = state->destinations_dir();
  options.durable = durable;
  options.retry_base = retry_base;
  options.region = serve.common.region;
  if (durable) {
    observability::daemon_log()->info("Event invocations are spooled in {} and survive restarts; destinations in {}",
                                      options.events_dir.string(), options.destinations_dir.string());
  } else {
    observability::daemon_log()->info(
        "Event invocations are spooled in {} until this daemon exits (--state-dir keeps them); destinations in {}",
        options.events_dir.string(), options.destinations_dir.string());
  }
  return AsyncSetup{std::move(state).value(), std::move(options)};
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text == "0") return std::chrono::milliseconds(0);
  std::size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (value < 0) return std::nullopt;
  const std::string unit = text.substr(pos);
  double ms = 0;
  if (unit == "ms") ms = value;
  else if (unit == "s") ms = value * 1000;
  else if (unit == "m") ms = value * 60000;
  else if (unit == "h") ms = value * 3600000;
  else return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

int run_serve(const ServeOptions& options) {
  observability::init_logging({options.common.log_level});
  auto log = observability::daemon_log();
  auto functions = load_functions(options.common);
  if (!functions) return 2;
  auto runtimes = prepare_runtimes(options.common, *functions);
  if (!runtimes) return 2;

  auto manager_opts = manager_options(options.pool);
  if (!manager_opts) return 2;
  auto retry_base = parse_duration(options.async_retry_base);
  if (!retry_base) {
    std::fprintf(stderr, "lambdad: --async-retry-base: '%s' is not a duration (e.g. 10ms, 30s, 1m)\n",
                 options.async_retry_base.c_str());
    return 2;
  }
  if (auto st = sandbox::SandboxManager::validate(*functions, options.pool.account_concurrency); !st) {
    std::fprintf(stderr, "lambdad: %s\n", st.error().message.c_str());
    return 2;
  }

  Daemon d;
  d.runtime_options = std::move(*runtimes);
  if (!d.prepare_limits(options.pool.memory_enforcement)) return 2;
  d.build(*functions, std::move(*manager_opts), options.pool.cpu_scaling);
  auto spool = async_setup(options, d.tmp_root, *retry_base);
  if (!spool) return 2;
  // The registry is what the APIs and the event queue see: template functions, and those created
  // through the control plane, kept in the state directory (docs/decisions/008).
  control_plane::RegistryOptions registry_options;
  registry_options.region = options.common.region;
  registry_options.functions_dir = spool->state.functions_dir();
  registry_options.durable = spool->options.durable;
  registry_options.account_concurrency = options.pool.account_concurrency;
  control_plane::FunctionRegistry registry(
      *d.manager, d.clock, [&d](std::function<void()> task) { asio::post(d.io, std::move(task)); },
      std::move(registry_options));
  async::EventQueue events(registry, d.clock, *d.timers, spool->options);
  registry.set_event_queue(&events);
  registry.add_template_functions(*functions);
  for (const auto& fn : *functions) events.add_function(fn.name, async::FunctionSettings::from(fn));
  registry.load_stored();

  invoke_api::InvokeApiOptions api_options;
  api_options.region = options.common.region;
  http::Server server(d.io, invoke_api::make_router(registry, d.clock, api_options, &events, &registry));
  if (auto st = server.listen(options.host, options.port); !st) {
    std::fprintf(stderr, "lambdad: %s\n", st.error().message.c_str());
    return 2;
  }
  if (options.host != "127.0.0.1" && options.host != "::1" && options.host != "localhost") {
    log->warn("the Invoke API is bound to {}, reachable from other hosts; it has no authentication", options.host);
  }
  for (const auto& fn : *functions) {
    log->info("function {} ({}, {} MB, {} s) from {}", fn.name, fn.runtime, fn.memory_mb, fn.timeout_seconds,
              fn.code_dir.string());
  }

  asio::signal_set signals(d.io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log->info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
    events.shutdown();  // before the pools fail what they still run: those events stay spooled
    registry.shutdown();
    d.manager->shutdown();
    d.io.stop();
  });

  d.manager->start();
  events.start();
  std::printf("Invoke API listening on http://%s:%u\n", options.host.c_str(), server.port());
  std::fflush(stdout);
  d.io.run();
  server.stop();
  events.shutdown();
  registry.shutdown();
  d.manager->shutdown();
  log->info("stopped");
  return 0;
}

int run_invoke(const InvokeOptions& options) {
  observability::init_logging({options.common.log_level});
  auto functions = load_functions(options.common);
  if (!functions) return 2;
  auto event = read_event(options.event_file);
  if (!event) return 2;
  // NAME or NAME:QUALIFIER ($LATEST, the published version or the AutoPublishAlias).
  std::string requested = options.function;
  std::string qualifier = "$LATEST";
  if (auto colon = requested.find(':'); colon != std::string::npos) {
    qualifier = requested.substr(colon + 1);
    requested.resize(colon);
  }
  const config::FunctionConfig* target = nullptr;
  for (const auto& fn : *functions) {
    if (fn.name == requested || fn.logical_id == requested) target = &fn;
  }
  if (!target) {
    std::string names;
    for (const auto& fn : *functions) names += (names.empty() ? "" : ", ") + fn.name;
    std::fprintf(stderr, "lambdad: no function named %s in %s (functions: %s)\n", requested.c_str(),
                 options.common.template_file.c_str(), names.c_str());
    return 2;
  }
  const std::string name = target->name;
  auto version = config::resolve_qualifier(*target, qualifier);
  if (!version) {
    std::fprintf(stderr, "lambdad: %s has no version or alias %s (it has $LATEST%s%s)\n", name.c_str(),
                 qualifier.c_str(), target->auto_publish_alias.empty() ? "" : ", 1 and ",
                 target->auto_publish_alias.c_str());
    return 2;
  }
  auto runtimes = prepare_runtimes(options.common, *functions);
  if (!runtimes) return 2;

  Daemon d;
  d.runtime_options = std::move(*runtimes);
  if (!d.prepare_limits("auto")) return 2;
  sandbox::ManagerOptions manager_options;  // a named value: GCC 12 -O3 warns falsely on a temporary
  d.build(*functions, std::move(manager_options));

  int exit_code = 1;
  auto inv = std::make_shared<invocation::Invocation>();
  inv->request_id = ids::request_id();
  inv->function_name = name;
  inv->qualifier = qualifier;
  inv->version = *version;
  inv->invoked_function_arn = invocation::function_arn(options.common.region, "123456789012", name,
                                                       qualifier == "$LATEST" ? "" : qualifier);
  inv->payload = std::move(*event);
  inv->trace_id = ids::trace_header(d.clock.epoch_ms() / 1000);
  inv->received = d.clock.now();
  inv->on_complete = [&](invocation::InvocationResult result) {
    std::fwrite(result.payload.data(), 1, result.payload.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    exit_code = result.outcome == invocation::Outcome::kSuccess ? 0 : 1;
    // We are inside the environment's call stack: tear down after it returns.
    asio::post(d.io, [&d] {
      d.manager->shutdown();
      d.io.stop();
    });
  };

  asio::signal_set signals(d.io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    d.manager->shutdown();
    d.io.stop();
  });
  if (d.manager->dispatch(inv) != invocation::Admission::kAccepted) {
    std::fprintf(stderr, "lambdad: %s has reserved concurrency 0; every invocation is throttled\n", name.c_str());
    return 1;
  }
  d.io.run();
  return exit_code;
}

namespace {

// Each environment costs the daemon about four descriptors (Runtime API listener and connection,
// output pipe, pidfd), so the usual soft limit of 1024 would stop a function near 200
// environments: take what the hard limit allows. Functions still get Lambda's 1024.
void raise_open_file_limit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  raise_open_file_limit();
  CLI::App app{"lambdad: run AWS Lambda functions locally, faithfully, without Docker"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lambdad 0.1.0");

  auto add_common = [](CLI::App* cmd, CommonOptions& c) {
    cmd->add_option("-t,--template", c.template_file, "SAM template (default: template.yaml)");
    cmd->add_option("--serverless", c.serverless_file, "A serverless.yml to read the functions from instead of a SAM template");
    cmd->add_option("--stage", c.stage, "serverless.yml stage (${opt:stage}; default: provider.stage, else dev)");
    cmd->add_option("--env-vars", c.env_vars_file,
                    "JSON file of environment overrides, as SAM's: {\"Parameters\": {...}, \"MyFunction\": {...}}");
    cmd->add_option("--parameter-overrides", c.parameter_overrides,
                    "Template parameters: Key=Value or ParameterKey=K,ParameterValue=V (repeatable)")
        ->take_all();
    cmd->add_option("--runtimes-dir", c.runtimes_dir, "Directory of lambdad's runtime clients");
    cmd->add_option("--interpreter", c.interpreters,
                    "Program for a runtime or family, e.g. python=/usr/bin/python3, nodejs20.x=node")
        ->delimiter(',')
        ->take_all();
    cmd->add_option("--log-level", c.log_level, "trace|debug|info|warn|error|off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    cmd->add_option("--region", c.region, "Region reported to functions and in ARNs (default us-east-1)");
  };

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "Serve the Lambda Invoke API for the template's functions");
  add_common(serve_cmd, serve.common);
  serve_cmd->add_option("--host", serve.host, "Address to bind (default 127.0.0.1)");
  serve_cmd->add_option("--account-concurrency", serve.pool.account_concurrency,
                        "Concurrent executions across all functions (default 1000)")
      ->check(CLI::Range(1, 1000000));
  serve_cmd->add_option("--idle-timeout", serve.pool.idle_timeout,
                        "Reclaim environments idle this long (default 10m; 0 = never)");
  serve_cmd->add_option("--warm-containers", serve.pool.warm_containers,
                        "EAGER: initialise one environment per function at startup; LAZY: on first use")
      ->check(CLI::IsMember({"EAGER", "LAZY"}));
  serve_cmd->add_flag("--force-cold", serve.pool.force_cold, "A fresh environment for every invoke");
  serve_cmd->add_option("--cold-start-delay", serve.pool.cold_start_delay,
                        "Simulated extra init time: 250ms, or per runtime or function, python3.12=300ms / MyFn=1s (repeatable)");
  serve_cmd->add_option("--memory-enforcement", serve.pool.memory_enforcement,
                        "auto|cgroup|sample|off (default auto: cgroup where writable, else sampling)")
      ->check(CLI::IsMember({"auto", "cgroup", "sample", "off"}));
  serve_cmd->add_flag("--cpu-scaling", serve.pool.cpu_scaling, "Give each environment CPU in proportion to memory");
  serve_cmd->add_option("-p,--port", serve.port, "Port (default 3001; 0 picks a free port)");
  serve_cmd->add_option("--state-dir", serve.state_dir,
                        "Keep accepted Event invocations (and destination files) here across restarts "
                        "(default: a private directory removed at exit)");
  serve_cmd->add_option("--async-retry-base", serve.async_retry_base,
                        "Delay before the first retry of a failed Event invocation; the second waits twice as "
                        "long (default 1m, as Lambda; e.g. 10ms in tests)");
  serve_cmd->footer(
      "Example:\n  lambdad serve --template examples/template.yaml\n"
      "  aws lambda invoke --endpoint-url http://127.0.0.1:3001 --function-name HelloPython out.json");

  InvokeOptions invoke;
  auto* invoke_cmd = app.add_subcommand("invoke", "Run one function once and print its result");
  add_common(invoke_cmd, invoke.common);
  invoke_cmd->add_option("function", invoke.function,
                         "Function name or logical id, optionally NAME:QUALIFIER (version or alias)")
      ->required();
  invoke_cmd->add_option("-e,--event", invoke.event_file, "Event JSON file, or - for stdin (default: {})");
  invoke_cmd->footer("Example:\n  lambdad invoke HelloPython --template examples/template.yaml --event event.json");

  EvictOptions evict;
  auto* evict_cmd = app.add_subcommand("evict", "Drain a function's warm environments in a running daemon");
  evict_cmd->add_option("function", evict.function, "Function name")->required();
  evict_cmd->add_option("--endpoint", evict.endpoint, "The daemon's Invoke API (default http://127.0.0.1:3001)");
  evict_cmd->footer("Example:\n  lambdad evict HelloPython --endpoint http://127.0.0.1:3001");

  TestOptions test;
  auto* test_cmd = app.add_subcommand("test", "Run a suite of cases (events and what they must return) against the template's functions");
  add_common(test_cmd, test.common);
  test_cmd->add_option("paths", test.paths,
                       "Case files, or directories searched for *.case.json / *.case.yaml (default: the template's directory)");
  test_cmd->add_option("-j,--jobs", test.jobs, "Invocations at once (default: twice the cores)")->check(CLI::Range(1, 10000));
  test_cmd->add_option("--junit", test.junit_file, "Write a JUnit XML report here");
  test_cmd->add_option("--json", test.json_file, "Write a JSON report here");
  test_cmd->add_option("--shard", test.shard, "Run only shard I of N (I/N), a stable split for CI matrices");
  test_cmd->add_option("--filter", test.filter, "Run only cases whose name matches this regular expression");
  test_cmd->add_flag("--show-logs", test.show_logs, "Print the functions' logs as they run (default: only for failed cases)");
  test_cmd->footer(
      "Example:\n  lambdad test --template examples/template.yaml examples/suite --junit report.xml\n"
      "Exit code: 0 all passed, 1 some failed, 2 usage or suite errors. Case format: docs/test-suites.md");

  // generate-event
  GenerateEventCommand generate;
  auto* generate_cmd = add_generate_event_command(app, generate);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (serve_cmd->parsed()) return run_serve(serve);
  if (evict_cmd->parsed()) return run_evict(evict);
  if (generate_cmd->parsed()) return run_generate_event(generate);
  if (test_cmd->parsed()) return run_test(test);
  return run_invoke(invoke);
}

}  // namespace lambdad::app
