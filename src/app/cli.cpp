// app: the command line. Subcommands, their flags and help, parsed once into the options each
// run_* function takes; flags argv leaves unset come from LAMBDAD_* variables or the config file
// (settings_layers.hpp).
#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>

#include "lambdad/events/generate_event.hpp"
#include "lambdad/app/commands.hpp"
#include "settings_layers.hpp"

namespace lambdad::app {

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

// The help's closing lines every subcommand shares: where else its options can be set, shown with
// one of them (flag: "--log-level").
std::string settings_help(const std::string& command, const std::string& flag) {
  const std::string key = flag.substr(2);
  std::string variable = "LAMBDAD_";
  for (char c : key) {
    variable.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return "Settings: each option is also an environment variable, " + flag + " as " + variable +
         "\n"
         "  (booleans true/false/1/0, lists comma-separated), and a key, " + key +
         ", in lambdad.toml or lambdad.json\n"
         "  in the current directory (or --config FILE, LAMBDAD_CONFIG), under [" + command +
         "] or at the top level.\n"
         "  Precedence: command line > environment > config file > defaults; --print-config shows the result.\n"
         "  Not settable there: positional arguments, --config, --print-config.\n";
}

// A command's help footer: its examples ("Examples:\n  ...\n"), how its settings are layered
// (settings_help) and its exit codes.
std::string command_footer(const std::string& examples, const std::string& command, const std::string& flag,
                           const std::string& exit_codes) {
  return examples + "\n" + settings_help(command, flag) + "\nExit codes: " + exit_codes + "\n";
}

// RUNTIME=PROGRAM, one --interpreter item.
std::string check_interpreter(std::string& item) {
  const auto eq = item.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
    return "expected RUNTIME=PROGRAM (e.g. python=/usr/bin/python3), not '" + item + "'";
  }
  return {};
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
    cmd->add_option_function<std::vector<std::string>>(
           "--interpreter",
           [&c](const std::vector<std::string>& items) {
             for (const auto& item : items) {
               const auto eq = item.find('=');
               c.interpreters[item.substr(0, eq)] = item.substr(eq + 1);
             }
           },
           "Program for a runtime or family, e.g. python=/usr/bin/python3, nodejs20.x=node (repeatable)")
        ->check(CLI::Validator(check_interpreter, "RUNTIME=PROGRAM"))
        ->delimiter(',')
        ->take_all();
    cmd->add_option("--share", c.shares,
                    "Show this host directory read-write, at its own path, in every function's root (fixtures, "
                    "test output; Lambda has no such thing) (repeatable)")
        ->check(CLI::ExistingDirectory)
        ->delimiter(',')
        ->take_all();
    cmd->add_option("--filesystem", c.filesystem,
                    "lambda: each environment in a Lambda-shaped root where the daemon can make one (default); "
                    "host: functions on the host's paths")
        ->check(CLI::IsMember({"lambda", "host"}));
    cmd->add_option("--log-level", c.log_level, "trace|debug|info|warn|error|off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    cmd->add_option("--region", c.region, "Region reported to functions and in ARNs (default us-east-1)");
    cmd->add_option("--durable-time-scale", c.durable_time_scale,
                    "Durable executions' waits, retry delays and timeouts pass this many times faster (e.g. 3600: an "
                    "hour's wait takes a second); their history keeps the times asked for (default 1)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--snapstart", c.snapstart,
                  "Every function's cold starts restore a snapshot of its initialised runtime, as SnapStart does for "
                  "published versions (the template's SnapStart applies without it)");
  };

  // serve's flags; start-api takes the same ones.
  auto add_serve = [&add_common](CLI::App* serve_cmd, ServeOptions& serve) {
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
    serve_cmd->add_flag("--allow-remote", serve.allow_remote,
                        "Allow --host to be an address other than loopback (the API is then reachable from other "
                        "hosts; use --credentials)");
    serve_cmd->add_option("--credentials", serve.credentials_file,
                          "File of access key ids and secrets: requests must then be SigV4-signed by one of them");
    serve_cmd->add_option("--shutdown-grace", serve.shutdown_grace,
                          "On SIGTERM/SIGINT, how long in-flight invokes may run before their environments are "
                          "killed (default 5s)");
    serve_cmd->add_option("--http-header-timeout", serve.http_header_timeout,
                          "A request's line and headers must arrive within this from its first byte (default 30s)");
    serve_cmd->add_option("--http-body-timeout", serve.http_body_timeout,
                          "A request's body must arrive within this after its headers (default 60s)");
    serve_cmd->add_option("--io-threads", serve.io_threads,
                          "Threads that run the loop: connections in parallel, the functions' pools on one strand "
                          "(default 1)")
        ->check(CLI::Range(1, 64));
    serve_cmd->add_flag("--watch", serve.watch,
                        "Watch the code directories and the template: a change drains the function's warm "
                        "environments, so the next invoke runs the new code");
    serve_cmd->add_option("--api-port", serve.api_port,
                          "Also serve the template's HTTP routes and Function URLs (API Gateway REST and HTTP APIs) "
                          "on this port (0 picks a free port; default off; start-api: 3000)")
        ->check(CLI::Range(0, 65535));
  };
  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "Serve the Lambda Invoke API for the template's functions");
  add_serve(serve_cmd, serve);
  serve_cmd->footer(command_footer(
      "Examples:\n"
      "  lambdad serve --template examples/template.yaml\n"
      "  aws lambda invoke --endpoint-url http://127.0.0.1:3001 --no-sign-request --function-name HelloPython out.json\n"
      "  LAMBDAD_REGION=eu-west-1 lambdad serve --port 3005 --warm-containers EAGER --idle-timeout 30m\n"
      "  lambdad serve --print-config      # the merged settings and where each came from\n",
      "serve", "--idle-timeout", "0 stopped by SIGINT or SIGTERM; 2 usage, config or template error."));

  ServeOptions start_api;
  start_api.api_port = "3000";
  auto* start_api_cmd = app.add_subcommand(
      "start-api", "serve with the template's HTTP routes on --api-port 3000 (SAM's start-api port)");
  add_serve(start_api_cmd, start_api);
  start_api_cmd->footer(command_footer(
      "Examples:\n"
      "  lambdad start-api --template template.yaml\n"
      "  curl http://127.0.0.1:3000/hello\n"
      "  curl http://myfunction.lambda-url.localhost:3000/   # a Function URL\n",
      "start-api", "--api-port", "0 stopped by SIGINT or SIGTERM; 2 usage, config or template error."));

  InvokeOptions invoke;
  auto* invoke_cmd = app.add_subcommand("invoke", "Run one function once and print its result");
  add_common(invoke_cmd, invoke.common);
  invoke_cmd->add_option("function", invoke.function,
                         "Function name, logical id or serverless.yml short name, optionally NAME:QUALIFIER "
                         "(version or alias); may be left out when the template has one function");
  invoke_cmd->add_option("-e,--event", invoke.event_file, "Event JSON file, or - for stdin (default: {})");
  invoke_cmd->add_option("--tenant-id", invoke.tenant_id,
                         "The invoke's tenant (X-Amz-Tenant-Id): a function with TenancyConfig PER_TENANT needs one, "
                         "any other refuses one");
  invoke_cmd->add_option("--durable-execution-name", invoke.durable_execution_name,
                         "A durable function: the name of the execution it starts (1-64 of [a-zA-Z0-9-_]; "
                         "default: a generated one); waits for it to end and prints its result");
  invoke_cmd->footer(command_footer(
      "Examples:\n"
      "  lambdad invoke HelloPython --template examples/template.yaml --event event.json\n"
      "  lambdad invoke --template one-function.yaml --event event.json\n"
      "  lambdad generate-event s3 put --bucket photos | lambdad invoke Thumbnail --event -\n",
      "invoke", "--region",
      "0 the function succeeded (result on stdout); 1 function error; 2 usage, config or\n"
      "  template error."));

  EvictOptions evict;
  auto* evict_cmd = app.add_subcommand("evict", "Drain a function's warm environments in a running daemon");
  evict_cmd->add_option("function", evict.function, "Function name")->required();
  evict_cmd->add_option("--endpoint", evict.endpoint, "The daemon's Invoke API (default http://127.0.0.1:3001)");
  evict_cmd->footer(command_footer(
      "Example:\n"
      "  lambdad evict HelloPython --endpoint http://127.0.0.1:3001\n",
      "evict", "--endpoint", "0 drained; 1 the daemon could not be reached or refused; 2 usage or config error."));

  // execution get|history|stop and callback succeed|fail|heartbeat (durable executions, as SAM's
  // `sam local execution` and `sam local callback`): --endpoint belongs to the parent, so it is a
  // setting (LAMBDAD_ENDPOINT, [execution] or [callback]); the actions' flags are the command
  // line's only. The actions fall through, so the parent's flags may follow them.
  const std::string durable_exit_codes =
      "0 answered; 1 the daemon could not be reached or answered an error (its body on stdout,\n"
      "  its status and X-Amzn-ErrorType on stderr); 2 usage or config error.";
  const auto action_footer = [&](const std::string& examples, const std::string& parent) {
    return examples + "\n--endpoint URL (default http://127.0.0.1:3001), --config and --print-config are `lambdad " +
           parent + "`'s\n  and may follow the action; --endpoint is also LAMBDAD_ENDPOINT, or endpoint under [" +
           parent + "]\n  in lambdad.toml. The options above are given on the command line only.\n\nExit codes: " +
           durable_exit_codes + "\n";
  };
  const auto add_error_object = [](CLI::App* cmd, ErrorObjectOptions& error) {
    cmd->add_option("--error-type", error.type, "ErrorType of the ErrorObject sent");
    cmd->add_option("--error-message", error.message, "Its ErrorMessage");
    cmd->add_option("--error-data", error.data, "Its ErrorData");
    cmd->add_option("--stack-trace", error.stack_trace, "A line of its StackTrace (repeatable)")->take_last();
  };
  ExecutionOptions execution;
  auto* execution_cmd = app.add_subcommand("execution", "Get, print the history of, or stop a durable execution in a running daemon");
  execution_cmd->require_subcommand(1);
  execution_cmd->add_option("--endpoint", execution.endpoint, "The daemon's Invoke API (default http://127.0.0.1:3001)");
  execution_cmd->footer(command_footer(
      "Examples:\n"
      "  lambdad execution get 'arn:aws:lambda:us-east-1:123456789012:function:Orders:$LATEST/durable-execution/order-1/1a2b'\n"
      "  lambdad execution history ARN --format table --include-execution-data\n"
      "  lambdad execution stop ARN --error-type Cancelled --error-message 'stopped by hand'\n",
      "execution", "--endpoint", durable_exit_codes));
  auto* execution_get = execution_cmd->add_subcommand("get", "Print a durable execution: status, times, input, result or error");
  auto* execution_history = execution_cmd->add_subcommand("history", "Print a durable execution's history events (every page)");
  auto* execution_stop = execution_cmd->add_subcommand("stop", "Stop a running durable execution, failed with the ErrorObject given");
  for (auto* cmd : {execution_get, execution_history, execution_stop}) {
    cmd->fallthrough();
    cmd->add_option("arn", execution.arn, "The durable execution's ARN")->required();
  }
  for (auto* cmd : {execution_get, execution_history}) {
    cmd->add_option("--format", execution.format, "json (default): the daemon's answer; table: a short summary")
        ->check(CLI::IsMember({"json", "table"}));
  }
  execution_history->add_flag("--include-execution-data", execution.include_execution_data,
                              "Include the events' input, result and error payloads");
  add_error_object(execution_stop, execution.error);
  execution_get->footer(action_footer("Example:\n  lambdad execution get ARN --format table\n", "execution"));
  execution_history->footer(action_footer(
      "Example:\n  lambdad execution history ARN --include-execution-data > history.json\n", "execution"));
  execution_stop->footer(action_footer(
      "Example:\n  lambdad execution stop ARN --error-type Cancelled --error-message 'stopped by hand'\n", "execution"));

  CallbackOptions callback;
  auto* callback_cmd = app.add_subcommand("callback", "Complete or heartbeat a durable execution's callback in a running daemon");
  callback_cmd->require_subcommand(1);
  callback_cmd->add_option("--endpoint", callback.endpoint, "The daemon's Invoke API (default http://127.0.0.1:3001)");
  callback_cmd->footer(command_footer(
      "Examples:\n"
      "  lambdad callback succeed CALLBACK_ID --result '{\"approved\": true}'\n"
      "  lambdad callback fail CALLBACK_ID --error-type Rejected --error-message 'not approved'\n"
      "  lambdad callback heartbeat CALLBACK_ID\n",
      "callback", "--endpoint", durable_exit_codes));
  auto* callback_succeed = callback_cmd->add_subcommand("succeed", "Complete a callback with a result");
  auto* callback_fail = callback_cmd->add_subcommand("fail", "Fail a callback with the ErrorObject given");
  auto* callback_heartbeat = callback_cmd->add_subcommand("heartbeat", "Tell a callback its answer is still coming");
  for (auto* cmd : {callback_succeed, callback_fail, callback_heartbeat}) {
    cmd->fallthrough();
    cmd->add_option("callback_id", callback.callback_id, "The callback's id, as the execution's history shows it")
        ->required();
  }
  callback_succeed->add_option("-r,--result", callback.result, "The result, sent as it is (default: none)");
  add_error_object(callback_fail, callback.error);
  callback_succeed->footer(action_footer("Example:\n  lambdad callback succeed CALLBACK_ID -r '{\"approved\": true}'\n", "callback"));
  callback_fail->footer(action_footer(
      "Example:\n  lambdad callback fail CALLBACK_ID --error-type Rejected --stack-trace 'at approve (index.js:3)'\n",
      "callback"));
  callback_heartbeat->footer(action_footer("Example:\n  lambdad callback heartbeat CALLBACK_ID\n", "callback"));

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
  test_cmd->add_option("--endpoint", test.endpoint,
                       "Run the cases against a running daemon's Invoke API (e.g. http://127.0.0.1:3001) "
                       "instead of in this process");
  test_cmd->add_option("--async-retry-base", test.async_retry_base,
                       "Delay before the first retry of a failed Event case; the second waits twice as long "
                       "(default 10ms; Lambda: 1m)");
  test_cmd->footer(command_footer(
      "Examples:\n"
      "  lambdad test --template examples/suite/template.yaml examples/suite/cases --junit report.xml\n"
      "  lambdad test --shard 2/4 --filter '^orders' --jobs 8\n"
      "Case format: docs/test-suites.md\n",
      "test", "--jobs", "0 every case passed; 1 some failed; 2 usage, config or suite error."));

  // generate-event
  events::GenerateEventCommand generate;
  auto* generate_cmd = events::add_generate_event_command(app, generate);

  // --config and --print-config: on every subcommand (so they show in its help and may follow it),
  // --config also before the subcommand. Neither is itself a setting.
  std::string config_before;
  app.add_option("--config", config_before, "Config file (default: lambdad.toml, else lambdad.json, if present)")
      ->configurable(false);
  std::string config_after;
  bool print_config = false;
  for (auto* cmd : app.get_subcommands([](CLI::App*) { return true; })) {
    cmd->add_option("--config", config_after,
                    "Config file, TOML or JSON (default: lambdad.toml, else lambdad.json, in the current "
                    "directory if present; also LAMBDAD_CONFIG)")
        ->configurable(false);
    cmd->add_flag("--print-config", print_config,
                  "Print the effective settings as TOML, each with where it came from, and exit")
        ->configurable(false);
  }
  app.footer(
      "Run lambdad COMMAND --help for a command's options and examples.\n\n"
      "Examples:\n"
      "  lambdad serve --template examples/template.yaml\n"
      "  lambdad invoke HelloPython --template examples/template.yaml --event event.json\n"
      "  lambdad test --template examples/suite/template.yaml examples/suite/cases\n"
      "  lambdad generate-event sqs receive-message --body hi | lambdad invoke MyFunction --event -\n\n"
      "Settings: every option --foo-bar of a command is also LAMBDAD_FOO_BAR in the environment and a key\n"
      "  foo-bar in lambdad.toml or lambdad.json (top level, or the command's [serve], [invoke], ... section).\n"
      "  Precedence: command line > environment > config file > defaults.\n\n"
      "Exit codes: 0 success; 1 a function or test case failed, or the daemon could not be reached;\n"
      "  2 usage, config or template error.\n");

  // Each flag's default, recorded before parsing fills the options.
  SettingsLayers layers(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  CLI::App* command = app.get_subcommands().front();
  const auto env = process_environment();
  const auto report = [&](const std::string& problem) {
    std::fprintf(stderr, "lambdad %s: %s\n", command->get_name().c_str(), problem.c_str());
  };
  auto file = load_settings_file(config_after.empty() ? config_before : config_after, env, ".");
  if (!file) {
    report(file.error().message);
    return 2;
  }
  const ConfigFile* config = file->has_value() ? &**file : nullptr;
  std::vector<std::string> problems = config ? layers.check(*config) : std::vector<std::string>{};
  for (auto& problem : layers.apply(*command, config, env)) {
    // A value of the wrong shape is both a file problem and a problem applying it: say it once.
    if (std::find(problems.begin(), problems.end(), problem) == problems.end()) problems.push_back(std::move(problem));
  }
  if (!problems.empty()) {
    for (const auto& problem : problems) report(problem);
    return 2;
  }
  if (print_config) {
    std::fputs(layers.render(*command, config).c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  if (serve_cmd->parsed()) return run_serve(serve);
  if (start_api_cmd->parsed()) return run_serve(start_api);
  if (evict_cmd->parsed()) return run_evict(evict);
  if (execution_cmd->parsed()) {
    execution.action = execution_cmd->get_subcommands().front()->get_name();
    return run_execution(execution);
  }
  if (callback_cmd->parsed()) {
    callback.action = callback_cmd->get_subcommands().front()->get_name();
    return run_callback(callback);
  }
  if (generate_cmd->parsed()) return events::run_generate_event(generate);
  if (test_cmd->parsed()) return run_test(test);
  return run_invoke(invoke);
}

}  // namespace lambdad::app
