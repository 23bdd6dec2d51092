#include "lambdad/sandbox/runtime_launcher.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"

namespace lambdad::sandbox {
namespace {

// Variables a function's Environment.Variables may not replace (lambda-spec §5: reserved keys).
bool is_reserved(const std::string& key) {
  static const char* const kReserved[] = {
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};
  for (const char* r : kReserved) {
    if (key == r) return true;
  }
  return false;
}

std::string family_key(config::RuntimeFamily f) {
  switch (f) {
    case config::RuntimeFamily::kPython: return "python";
    case config::RuntimeFamily::kNode: return "nodejs";
    default: return "";
  }
}

}  // namespace

std::string interpreter_for(const RuntimeOptions& options, const config::FunctionConfig& fn) {
  if (auto it = options.interpreters.find(fn.runtime); it != options.interpreters.end()) return it->second;
  auto key = family_key(config::runtime_family(fn.runtime));
  if (auto it = options.interpreters.find(key); it != options.interpreters.end()) return it->second;
  return key == "python" ? "python3" : "node";
}

std::string make_log_stream_name(const std::string& version) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}/{:02}/{:02}/[{}]{}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     version, ids::hex_id(32));
}

Result<process::SpawnSpec> build_spawn_spec(const config::FunctionConfig& fn,
                                            const RuntimeOptions& options,
                                            const LaunchContext& launch) {
  process::SpawnSpec spec;
  spec.working_directory = fn.code_dir;
  const auto family = config::runtime_family(fn.runtime);
  const std::string task_root = fn.code_dir.string();
  switch (family) {
    case config::RuntimeFamily::kPython:
      spec.executable = interpreter_for(options, fn);
      spec.args = {(options.runtimes_dir / "python" / "bootstrap.py").string()};
      break;
    case config::RuntimeFamily::kNode:
      spec.executable = interpreter_for(options, fn);
      spec.args = {(options.runtimes_dir / "nodejs" / "bootstrap.mjs").string()};
      break;
    case config::RuntimeFamily::kProvided:
      spec.executable = (fn.code_dir / "bootstrap").string();
      break;
    case config::RuntimeFamily::kUnsupported:
      return Error{ErrorKind::kInvalidInput, std::string(error_types::kRuntimeInvalidEntrypoint),
                   fmt::format("runtime {} is not supported", fn.runtime)};
  }

  // Lambda's own variables win over the function's, except those Lambda lets users override.
  std::map<std::string, std::string> env = {
      {"PATH", "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"},
      {"LANG", "en_US.UTF-8"},
      {"TZ", ":UTC"},
      {"LD_LIBRARY_PATH", fmt::format("/var/lang/lib:/lib64:/usr/lib64:{0}:{0}/lib:/opt/lib", task_root)},
      {"AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"},
      {"AWS_XRAY_DAEMON_ADDRESS", "169.254.100.1:2000"},
  };
  for (const auto& [k, v] : fn.environment) {
    if (k.empty() || k.front() == '_' || is_reserved(k)) continue;
    env[k] = v;
  }
  env["AWS_LAMBDA_FUNCTION_NAME"] = fn.name;
  env["AWS_LAMBDA_FUNCTION_VERSION"] = launch.version;
  env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(fn.memory_mb);
  env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + fn.name;
  env["AWS_LAMBDA_LOG_STREAM_NAME"] = launch.log_stream_name;
  env["AWS_LAMBDA_RUNTIME_API"] = fmt::format("127.0.0.1:{}", launch.runtime_api_port);
  env["AWS_LAMBDA_INITIALIZATION_TYPE"] = launch.initialization_type;
  env["AWS_REGION"] = options.region;
  env["AWS_DEFAULT_REGION"] = options.region;
  env["LAMBDA_TASK_ROOT"] = task_root;
  env["LAMBDA_RUNTIME_DIR"] = family == config::RuntimeFamily::kProvided
                                  ? task_root
                                  : (options.runtimes_dir / family_key(family)).string();
  env["_AWS_XRAY_DAEMON_ADDRESS"] = "169.254.100.1";
  env["_AWS_XRAY_DAEMON_PORT"] = "2000";
  if (!fn.handler.empty()) env["_HANDLER"] = fn.handler;
  if (family != config::RuntimeFamily::kProvided) env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.runtime;
  if (family == config::RuntimeFamily::kNode) {
    env["NODE_PATH"] = fmt::format("/opt/nodejs/node_modules:{}", task_root);
  }
  for (const auto& [k, v] : options.credentials) {
    if (!v.empty()) env[k] = v;
  }
  spec.environment.reserve(env.size());
  for (const auto& [k, v] : env) spec.environment.push_back(k + "=" + v);
  return spec;
}

}  // namespace lambdad::sandbox
