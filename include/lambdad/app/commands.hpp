// app: the composition root. Each subcommand wires the modules together for one run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace lambdad::app {

struct CommonOptions {
  std::filesystem::path template_file = "template.yaml";
  std::filesystem::path serverless_file;  // set: functions come from this serverless.yml instead
  std::string stage;                      // ${opt:stage} of serverless.yml; empty: provider.stage or dev
  std::filesystem::path env_vars_file;    // SAM --env-vars: {"Parameters": {...}, "<Function>": {...}}
  std::vector<std::string> parameter_overrides;  // "Key=Value" or "ParameterKey=K,ParameterValue=V"
  std::filesystem::path runtimes_dir;                 // empty: found next to the executable
  std::map<std::string, std::string> interpreters;    // runtime or family -> program
  std::vector<std::filesystem::path> shares;          // host directories shown read-write in every root
  std::string filesystem = "lambda";                  // lambda: a Lambda-shaped root where possible; host: host paths
  std::string log_level = "info";
  std::string region = "us-east-1";
  bool snapstart = false;  // every function restores from a snapshot, as SnapStart does (docs/decisions/023)
  // Durable executions' waits, retry delays, callback timeouts and execution timeouts are divided
  // by this (docs/decisions/026); their records keep the times the workflow asked for.
  double durable_time_scale = 1.0;
};

// Pool and limit settings shared by serve (and later test).
struct PoolSettings {
  int account_concurrency = 1000;
  std::string idle_timeout = "10m";                // 0 = never
  std::string warm_containers = "LAZY";            // EAGER | LAZY
  bool force_cold = false;
  std::vector<std::string> cold_start_delay;       // "250ms" or "python3.12=250ms"
  std::string memory_enforcement = "auto";         // auto | cgroup | sample | off
  bool cpu_scaling = false;
};

struct ServeOptions {
  CommonOptions common;
  PoolSettings pool;
  std::string host = "127.0.0.1";
  std::uint16_t port = 3001;
  // Event invocations (docs/decisions/006): empty state_dir = a private directory deleted at
  // exit, so accepted events do not survive a restart.
  std::filesystem::path state_dir;
  std::string async_retry_base = "1m";  // Lambda's first retry delay; the second is twice it
  // Watch code directories and the template: a change drains the function's warm environments,
  // a template change reloads function definitions.
  bool watch = false;
  // Binding the Invoke API to an address other than loopback needs this (and logs a warning).
  bool allow_remote = false;
  // Access key id -> secret access key: every Invoke/control request must then carry a valid
  // AWS SigV4 signature from a listed key. Empty: requests are not authenticated.
  std::filesystem::path credentials_file;
  // SIGTERM/SIGINT: in-flight invokes get this long to finish before their environments are killed.
  std::string shutdown_grace = "5s";
  // The Invoke API's read deadlines: a request's headers from its first byte, then its body.
  std::string http_header_timeout = "30s";
  std::string http_body_timeout = "60s";
  // Threads that run the daemon's loop (docs/decisions/021); 0: LAMBDAD_IO_THREADS, else 1.
  unsigned io_threads = 0;
  // The port of the template's HTTP fronts (decision 020): its REST and HTTP API routes and
  // Function URLs. Empty: not served; "0" picks a free port. start-api: "3000".
  std::string api_port;
};

struct EvictOptions {
  std::string function;
  std::string endpoint = "http://127.0.0.1:3001";
};

// An ErrorObject as `execution stop` and `callback fail` send it: only the fields given.
struct ErrorObjectOptions {
  std::optional<std::string> type;
  std::optional<std::string> message;
  std::optional<std::string> data;
  std::vector<std::string> stack_trace;
};

// `lambdad execution get|history|stop ARN`: a running daemon's durable executions (decision 026).
struct ExecutionOptions {
  std::string action;  // get | history | stop
  std::string arn;
  std::string endpoint = "http://127.0.0.1:3001";
  std::string format = "json";          // json | table (get, history)
  bool include_execution_data = false;  // history
  ErrorObjectOptions error;             // stop
};

// `lambdad callback succeed|fail|heartbeat CALLBACK_ID`: answers a durable execution's callback.
struct CallbackOptions {
  std::string action;  // succeed | fail | heartbeat
  std::string callback_id;
  std::string endpoint = "http://127.0.0.1:3001";
  std::optional<std::string> result;  // succeed
  ErrorObjectOptions error;           // fail
};

// "250ms", "30s", "10m", "1h", "0" -> milliseconds; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

struct InvokeOptions {
  CommonOptions common;
  std::string function;
  std::string event_file;  // "" = {} ; "-" = stdin
  // A durable function: the execution's name (X-Amz-Durable-Execution-Name); empty: one is made.
  std::string durable_execution_name;
  // The invoke's tenant (X-Amz-Tenant-Id): required by a PER_TENANT function, refused by others.
  std::optional<std::string> tenant_id;
};

// `lambdad test` (docs/test-suites.md).
struct TestOptions {
  CommonOptions common;
  std::vector<std::string> paths;  // case files and directories; default: the template's directory
  int jobs = 0;                    // invocations at once; 0 = twice the cores
  std::string junit_file;
  std::string json_file;
  std::string shard;   // "i/n"
  std::string filter;  // a regular expression on case names
  bool show_logs = false;  // functions' logs on stderr as they run (otherwise only in failures)
  // Run the cases against a running daemon's Invoke API instead of in this process.
  std::string endpoint;
  // Delay before the first retry of a failed Event case (Lambda: 1m); the second waits twice it.
  std::string async_retry_base = "10ms";
};

// Exit codes: 0 ok, 1 function error (invoke), 2 usage or template error.
int run_serve(const ServeOptions& options);
int run_invoke(const InvokeOptions& options);
int run_evict(const EvictOptions& options);
// 0 answered; 1 the daemon could not be reached or answered an error; 2 usage error.
int run_execution(const ExecutionOptions& options);
int run_callback(const CallbackOptions& options);
// 0 every case passed, 1 some failed, 2 usage or suite errors.
int run_test(const TestOptions& options);

// Parses argv and runs the chosen subcommand.
int run_cli(int argc, char** argv);

}  // namespace lambdad::app
