#include "lambdad/sandbox/runtime_launcher.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"

namespace lambdad::sandbox {
namespace {

std::string family_key(config::RuntimeFamily f) {
  switch (f) {
    case config::RuntimeFamily::kPython: return "python";
    case config::RuntimeFamily::kNode: return "nodejs";
    default: return "";
  }
}

// Lambda runs /var/task/bootstrap, else /opt/bootstrap (a custom runtime shipped as a layer).
// In a root those are the paths; on the host, the code's or the layer's own file.
std::string provided_bootstrap(const config::FunctionConfig& fn, bool in_root) {
  std::filesystem::path own = fn.code_dir / "bootstrap";
  std::error_code ec;
  if (std::filesystem::exists(own, ec)) return in_root ? "/var/task/bootstrap" : own.string();
  for (auto it = fn.layer_dirs.rbegin(); it != fn.layer_dirs.rend(); ++it) {
    if (std::filesystem::exists(*it / "bootstrap", ec)) return in_root ? "/opt/bootstrap" : (*it / "bootstrap").string();
  }
  return in_root ? "/var/task/bootstrap" : own.string();  // missing: the spawn reports it as Lambda does
}

// An interpreter outside the system directories a root shows (a pyenv or nvm install) is shown
// at its own path: its prefix, the directory above its bin/.
std::optional<std::filesystem::path> interpreter_prefix(const std::string& program) {
  if (program.empty() || program.front() != '/') return std::nullopt;
  std::error_code ec;
  const auto real = std::filesystem::canonical(program, ec);
  if (ec) return std::nullopt;
  const std::string r = real.string();
  for (const char* dir : {"/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/etc/"}) {
    if (r.starts_with(dir)) return std::nullopt;
  }
  auto bin = real.parent_path();
  return bin.filename() == "bin" ? bin.parent_path() : bin;
}

// "python3.12" -> "3.12", "nodejs20.x" -> "20".
std::string runtime_version(const std::string& runtime, std::string_view prefix, std::string_view suffix) {
  std::string_view id = runtime;
  id.remove_prefix(prefix.size());
  if (id.ends_with(suffix)) id.remove_suffix(suffix.size());
  return std::string(id);
}

// The search variables Lambda points at /opt (lambda-spec §5), for layers under `roots`: "/opt"
// when they are mounted there, else each layer directory, the last layer first so that its
// files win as they would at /opt.
struct SearchPaths {
  std::string path;
  std::string ld_library_path;
  std::string node_path;    // empty: not a Node.js function
  std::string python_path;  // empty: not a Python function, or no layers
};

SearchPaths search_paths(const config::FunctionConfig& fn, const std::string& task_root,
                         const std::string& runtime_dir, const std::vector<std::string>& roots) {
  const auto family = config::runtime_family(fn.runtime);
  auto each = [&](std::string_view sub) {
    std::string out;
    for (const auto& root : roots) out += fmt::format(":{}/{}", root, sub);
    return out;
  };
  // Outside /opt the host's /opt/bin and /opt/lib stay last, as for functions without layers.
  const bool at_opt = roots.size() == 1 && roots.front() == "/opt";
  SearchPaths p;
  p.path = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin" + each("bin") + (at_opt ? "" : ":/opt/bin");
  p.ld_library_path = fmt::format("/var/lang/lib:/lib64:/usr/lib64:{0}:{0}/lib", task_root) + each("lib") +
                      (at_opt ? "" : ":/opt/lib");
  if (family == config::RuntimeFamily::kNode) {
    // Lambda's: /opt/nodejs/nodeNN/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task
    const std::string major = runtime_version(fn.runtime, "nodejs", ".x");
    const std::vector<std::string> opt{"/opt"};
    const auto& where = fn.layer_dirs.empty() ? opt : roots;
    std::string layers;
    for (const auto& root : where) layers += fmt::format(":{}/nodejs/node{}/node_modules", root, major);
    for (const auto& root : where) layers += fmt::format(":{}/nodejs/node_modules", root);
    p.node_path = fmt::format("{0}:{1}/node_modules:{1}:{2}", layers.substr(1), runtime_dir, task_root);
  }
  if (family == config::RuntimeFamily::kPython && !fn.layer_dirs.empty()) {
    // Lambda's bootstrap puts the layer's site-packages, then /opt/python, right after the task
    // root; the runtime's version, as the layer was built for it.
    const std::string version = runtime_version(fn.runtime, "python", "");
    p.python_path = (each(fmt::format("python/lib/python{}/site-packages", version)) + each("python")).substr(1);
  }
  return p;
}

// AWS_LAMBDA_EXEC_WRAPPER, for the python and nodejs runtimes (Lambda ignores it for provided):
// Lambda's bootstrap execs the wrapper with the runtime's command line as its arguments. A shell
// does the same here, so a missing wrapper ends it with 127 and one that cannot be executed
// with 126, both Runtime.ExitError as on Lambda.
void apply_exec_wrapper(process::SpawnSpec& spec, const config::FunctionConfig& fn) {
  const auto it = fn.environment.find("AWS_LAMBDA_EXEC_WRAPPER");
  if (it == fn.environment.end() || it->second.empty()) return;
  std::vector<std::string> args = {"-c", "exec \"$AWS_LAMBDA_EXEC_WRAPPER\" \"$@\"", "sh", spec.executable};
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  spec.executable = "/bin/sh";
  spec.args = std::move(args);
}

}  // namespace

std::vector<ExternalExtension> external_extensions(const config::FunctionConfig& fn) {
  std::map<std::string, std::filesystem::path> found;  // by name: a later layer's wins; in name order
  for (const auto& layer : fn.layer_dirs) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(layer / "extensions", ec)) {
      // Every entry but a directory, as Lambda lists them: one that cannot be executed fails to
      // start (Extension.LaunchError), as it does there.
      std::error_code ignored;
      if (entry.is_directory(ignored)) continue;
      found[entry.path().filename().string()] = entry.path();
    }
  }
  std::vector<ExternalExtension> out;
  for (auto& [name, path] : found) out.push_back(ExternalExtension{name, path});
  return out;
}

process::SpawnSpec extension_spawn_spec(const process::SpawnSpec& runtime, const ExternalExtension& ext,
                                        pid_t process_group) {
  process::SpawnSpec spec = runtime;
  spec.executable = runtime.root ? "/opt/extensions/" + ext.name : ext.host_path.string();
  spec.args.clear();
  spec.hold.clear();
  spec.process_group = process_group;
  std::erase_if(spec.environment, [](const std::string& kv) { return kv.starts_with("AWS_LAMBDA_MAX_CONCURRENCY="); });
  return spec;
}

std::string interpreter_for(const RuntimeOptions& options, const config::FunctionConfig& fn) {
  if (auto it = options.interpreters.find(fn.runtime); it != options.interpreters.end()) return it->second;
  auto key = family_key(config::runtime_family(fn.runtime));
  if (auto it = options.interpreters.find(key); it != options.interpreters.end()) return it->second;
  return key == "python" ? "python3" : "node";
}

std::string next_sandbox_address() {
  static std::atomic<std::uint32_t> next{0};
  const std::uint32_t n = next.fetch_add(1, std::memory_order_relaxed) % (256u * 254u);
  return fmt::format("127.77.{}.{}", n / 254, n % 254 + 1);
}

std::string hosts_with_sandbox(const std::string& address) {
  static const std::string host = [] {
    std::ifstream in("/etc/hosts");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!text.empty() && text.back() != '\n') text.push_back('\n');
    return text;
  }();
  return host + address + "\tsandbox.localdomain sandbox\n";
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
  const auto family = config::runtime_family(fn.runtime);
  // In a Lambda-shaped root (docs/decisions/014) the paths are Lambda's; without one, the host's.
  const bool in_root = !options.root_mount_point.empty();
  const std::filesystem::path client_dir = options.runtimes_dir / family_key(family);
  const std::string task_root = in_root ? "/var/task" : fn.code_dir.string();
  const std::string runtime_dir = in_root ? "/var/runtime"
                                  : family == config::RuntimeFamily::kProvided ? task_root
                                                                                : client_dir.string();
  spec.working_directory = task_root;
  switch (family) {
    case config::RuntimeFamily::kPython:
      spec.executable = interpreter_for(options, fn);
      // -S: no site, so nothing of the host's site-packages (docs/decisions/014).
      spec.args = {"-S", runtime_dir + "/bootstrap.py"};
      apply_exec_wrapper(spec, fn);
      break;
    case config::RuntimeFamily::kNode:
      spec.executable = interpreter_for(options, fn);
      spec.args = {runtime_dir + "/bootstrap.mjs"};
      apply_exec_wrapper(spec, fn);
      break;
    case config::RuntimeFamily::kProvided:
      spec.executable = provided_bootstrap(fn, in_root);
      break;
    case config::RuntimeFamily::kUnsupported:
      return Error{ErrorKind::kInvalidInput, std::string(error_types::kRuntimeInvalidEntrypoint),
                   fmt::format("runtime {} is not supported", fn.runtime)};
  }
  if (in_root) {
    process::LambdaRoot root;
    root.mount_point = options.root_mount_point;
    root.task = fn.code_dir;
    if (family != config::RuntimeFamily::kProvided) root.runtime = client_dir;
    root.layers = fn.layer_dirs;
    if (family != config::RuntimeFamily::kProvided) {
      if (auto prefix = interpreter_prefix(interpreter_for(options, fn))) root.host_paths.push_back(*prefix);
    }
    root.shared = options.shared_dirs;
    if (!launch.sandbox_address.empty()) root.hosts = hosts_with_sandbox(launch.sandbox_address);
    spec.root = std::move(root);
  }

  // Lambda's X-Ray daemon address, or the daemon's local listener (observability/xray).
  const std::string xray_host = options.xray_daemon_port != 0 ? "127.0.0.1" : "169.254.100.1";
  const std::string xray_port = options.xray_daemon_port != 0 ? std::to_string(options.xray_daemon_port) : "2000";

  // Lambda's own variables win over the function's, except those Lambda lets users override.
  auto environment = [&](const SearchPaths& paths) {
    std::map<std::string, std::string> env = {
        {"PATH", paths.path},
        {"LANG", "en_US.UTF-8"},
        {"TZ", ":UTC"},
        {"LD_LIBRARY_PATH", paths.ld_library_path},
        {"AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"},
        {"AWS_XRAY_DAEMON_ADDRESS", xray_host + ":" + xray_port},
    };
    // Lambda sets PYTHONPATH too; a function's own PYTHONPATH replaces it (and so, as on Lambda,
    // drops the layers from sys.path).
    if (!paths.python_path.empty()) env["PYTHONPATH"] = paths.python_path;
    for (const auto& [k, v] : fn.environment) {
      if (k.empty() || k.front() == '_' || config::is_reserved_environment_key(k)) continue;
      env[k] = v;
    }
    env["AWS_LAMBDA_FUNCTION_NAME"] = fn.name;
    env["AWS_LAMBDA_FUNCTION_VERSION"] = launch.version;
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(fn.memory_mb);
    // SnapStart functions get no log group or stream (one snapshot serves many streams).
    if (launch.initialization_type != "snap-start") {
      env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + fn.name;
      env["AWS_LAMBDA_LOG_STREAM_NAME"] = launch.log_stream_name;
    }
    if (!launch.snapshot_socket.empty()) env["_LAMBDAD_SNAPSHOT_SOCKET"] = launch.snapshot_socket;
    env["AWS_LAMBDA_RUNTIME_API"] = fmt::format("127.0.0.1:{}", launch.runtime_api_port);
    env["AWS_LAMBDA_INITIALIZATION_TYPE"] = launch.initialization_type;
    // Managed instances (lambda-spec §11): the runtime, not its extensions, learns how many
    // invocations it may take at once, and logs JSON whatever LoggingConfig says.
    if (fn.managed_instances) {
      env["AWS_LAMBDA_MAX_CONCURRENCY"] = std::to_string(config::environment_max_concurrency(fn));
      env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "lambda-managed-instances";
    }
    // LoggingConfig reaches the runtime as Lambda passes it: JSON with its application level
    // (INFO unless set, as GetFunctionConfiguration shows it). The function's own values win.
    if (fn.logging.log_format == "JSON" || fn.managed_instances) {
      env.try_emplace("AWS_LAMBDA_LOG_FORMAT", "JSON");
      env.try_emplace("AWS_LAMBDA_LOG_LEVEL",
                      fn.logging.application_log_level.empty() ? "INFO" : fn.logging.application_log_level);
    }
    env["AWS_REGION"] = options.region;
    env["AWS_DEFAULT_REGION"] = options.region;
    env["LAMBDA_TASK_ROOT"] = task_root;
    env["LAMBDA_RUNTIME_DIR"] = runtime_dir;
    env["PWD"] = task_root;
    env["_AWS_XRAY_DAEMON_ADDRESS"] = xray_host;
    env["_AWS_XRAY_DAEMON_PORT"] = xray_port;
    if (!fn.handler.empty()) env["_HANDLER"] = fn.handler;
    if (family != config::RuntimeFamily::kProvided) env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.runtime;
    if (!paths.node_path.empty()) env["NODE_PATH"] = paths.node_path;
    for (const auto& [k, v] : options.credentials) {
      if (!v.empty()) env[k] = v;
    }
    // A durable function's SDK checkpoints through the Lambda API: the daemon's own, which takes
    // any signature unless --credentials asks for one (then the daemon's credentials must be
    // handed down). The SDK signs its calls, so without credentials it gets fixed test ones.
    if (fn.durable && options.lambda_api_port != 0) {
      env["AWS_ENDPOINT_URL_LAMBDA"] = fmt::format("http://127.0.0.1:{}", options.lambda_api_port);
      if (!env.count("AWS_ACCESS_KEY_ID")) {
        env["AWS_ACCESS_KEY_ID"] = "lambdad-durable";
        env["AWS_SECRET_ACCESS_KEY"] = "lambdad-durable";
      }
    }
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
  };

  // Layers at /opt in a root; else their directories, the last layer first so its files win.
  std::vector<std::string> layer_roots{"/opt"};
  if (!in_root && !fn.layer_dirs.empty()) {
    layer_roots.clear();
    for (auto it = fn.layer_dirs.rbegin(); it != fn.layer_dirs.rend(); ++it) layer_roots.push_back(it->string());
  }
  spec.environment = environment(search_paths(fn, task_root, runtime_dir, layer_roots));
  return spec;
}

}  // namespace lambdad::sandbox
