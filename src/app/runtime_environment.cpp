#include "lambdad/app/runtime_environment.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <set>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lambdad/config/function_names.hpp"
#include "lambdad/config/sam_template.hpp"
#include "lambdad/config/serverless.hpp"
#include "lambdad/observability/logging.hpp"

namespace lambdad::app {
namespace fs = std::filesystem;
namespace {

// The directories of Lambda's PATH that exist on a host: interpreters are looked up where the
// functions themselves would find them.
constexpr const char* kInterpreterPath[] = {"/usr/local/bin", "/usr/bin", "/bin"};

std::string resolve_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  for (const char* dir : kInterpreterPath) {
    fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return program;
}

fs::path executable_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

fs::path find_runtimes_dir(const CommonOptions& options) {
  if (!options.runtimes_dir.empty()) return fs::absolute(options.runtimes_dir);
  if (const char* env = std::getenv("LAMBDAD_RUNTIMES_DIR"); env && *env) return fs::absolute(env);
  auto dir = executable_dir();
  for (const auto& candidate : {dir / ".." / "runtimes", dir / ".." / "share" / "lambdad" / "runtimes",
                                dir / "runtimes"}) {
    if (fs::exists(candidate / "python" / "bootstrap.py")) return fs::weakly_canonical(candidate);
  }
  return {};
}

std::string first_line_of(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return {};
  char buf[256] = {};
  if (!std::fgets(buf, sizeof buf, pipe.get())) return {};
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Says which interpreter runs `fn.runtime` and its version ("python3.12 -> /usr/bin/python3
// (Python 3.11.2)"); a version other than the runtime's is a warning, not an error: the function
// runs on what the host has.
void report_interpreter(const config::FunctionConfig& fn, const std::string& program) {
  auto log = observability::daemon_log();
  const std::string version = first_line_of(fmt::format("'{}' --version 2>&1", program));
  if (version.empty()) {
    log->warn("{} uses {} but '{}' did not run; its invocations will fail", fn.name, fn.runtime, program);
    return;
  }
  const bool python = config::runtime_family(fn.runtime) == config::RuntimeFamily::kPython;
  static const std::regex kPythonWant(R"(python(\d+\.\d+))");
  static const std::regex kPythonHave(R"(Python (\d+\.\d+))");
  static const std::regex kNodeWant(R"(nodejs(\d+))");
  static const std::regex kNodeHave(R"(^v(\d+))");
  std::smatch w;
  std::smatch m;
  const bool want = std::regex_search(fn.runtime, w, python ? kPythonWant : kNodeWant);
  const bool have = std::regex_search(version, m, python ? kPythonHave : kNodeHave);
  log->info("{} -> {} ({})", fn.runtime, program, python || !have ? version : "Node.js " + version);
  if (want && have && w[1] != m[1]) {
    log->warn("{} uses {} but the host interpreter {} is {} {}; running on it anyway", fn.name, fn.runtime, program,
              python ? "Python" : "Node.js", python ? m[1].str() : version);
  }
}

}  // namespace

namespace {

config::TemplateLoad load_definitions(const CommonOptions& options) {
  if (!options.serverless_file.empty()) {
    config::ServerlessOptions sopts;
    sopts.region = options.region;
    sopts.stage = options.stage.empty() ? "dev" : options.stage;
    sopts.stage_given = !options.stage.empty();
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      if (auto eq = kv.find('='); eq != std::string_view::npos) {
        sopts.environment.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
      }
    }
    return config::load_serverless(options.serverless_file, sopts);
  }
  config::TemplateOptions topts;
  topts.region = options.region;
  topts.parameter_overrides = parse_parameter_overrides(options.parameter_overrides);
  return config::load_sam_template(options.template_file, topts);
}

// SAM's --env-vars: "Parameters" applies to every function, an entry named by a function's
// logical id or name to that function (and wins). As in SAM, only variables the function
// declares are overridden; the others are reported, not added.
bool apply_env_vars(const std::filesystem::path& file, std::vector<config::FunctionConfig>& functions) {
  std::ifstream in(file);
  auto doc = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
  if (!doc.is_object()) {
    std::fprintf(stderr, "lambdad: --env-vars %s: %s\n", file.c_str(),
                 in ? "not a JSON object ({\"Parameters\": {...}, \"FunctionName\": {...}})" : "cannot read the file");
    return false;
  }
  auto text_of = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  auto log = observability::daemon_log();
  for (auto& fn : functions) {
    for (const auto* key : {"Parameters", fn.short_name.c_str(), fn.logical_id.c_str(), fn.name.c_str()}) {
      if (!*key || !doc.contains(key) || !doc[key].is_object()) continue;
      for (const auto& [name, value] : doc[key].items()) {
        auto it = fn.environment.find(name);
        if (it != fn.environment.end()) {
          it->second = text_of(value);
        } else if (std::string_view(key) != "Parameters") {
          log->warn("--env-vars: {} does not declare the variable {} in its Environment; it is not set", fn.name, name);
        }
      }
    }
  }
  return true;
}

}  // namespace

std::map<std::string, std::string> parse_parameter_overrides(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  static const std::regex kLong(R"(ParameterKey=([^,]+),ParameterValue=(.*))");
  for (const auto& item : items) {
    std::smatch m;
    if (std::regex_match(item, m, kLong)) {
      out[m[1].str()] = m[2].str();
    } else if (auto eq = item.find('='); eq != std::string::npos && eq > 0) {
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  return out;
}

std::optional<std::vector<config::FunctionConfig>> load_functions(const CommonOptions& options) {
  auto loaded = load_definitions_checked(options);
  if (!loaded) return std::nullopt;
  return std::move(loaded->functions);
}

std::optional<LoadedDefinitions> load_definitions_checked(const CommonOptions& options) {
  auto load = load_definitions(options);
  auto log = observability::daemon_log();
  for (const auto& w : load.warnings) log->warn("{}", w.to_string());
  const auto& file = options.serverless_file.empty() ? options.template_file : options.serverless_file;
  auto refuse = [&file](const std::vector<std::string>& problems) {
    std::fprintf(stderr, "lambdad: %s is not a valid template (%zu problem%s):\n", file.c_str(), problems.size(),
                 problems.size() == 1 ? "" : "s");
    for (const auto& p : problems) std::fprintf(stderr, "  %s\n", p.c_str());
    return std::nullopt;
  };
  if (!load.errors.empty()) {
    std::vector<std::string> problems;
    for (const auto& e : load.errors) problems.push_back(e.to_string());
    return refuse(problems);
  }
  // The names serve, invoke and test find functions by (config/function_names.hpp).
  auto names = config::check_function_names(load.functions);
  for (const auto& w : names.warnings) log->warn("{}: {}", file.string(), w);
  if (!names.errors.empty()) {
    for (auto& e : names.errors) e = fmt::format("{}: {}", file.string(), e);
    return refuse(names.errors);
  }
  if (!options.env_vars_file.empty() && !apply_env_vars(options.env_vars_file, load.functions)) return std::nullopt;
  return LoadedDefinitions{std::move(load.functions), std::move(load.http)};
}

std::optional<sandbox::RuntimeOptions> prepare_runtimes(const CommonOptions& options,
                                                        const std::vector<config::FunctionConfig>& functions) {
  sandbox::RuntimeOptions rt;
  rt.region = options.region;
  for (const auto& [k, v] : options.interpreters) rt.interpreters[k] = v;
  rt.runtimes_dir = find_runtimes_dir(options);
  // Sandboxes are made ahead only with the holder beside the daemon (docs/decisions/022).
  if (const auto holder = executable_dir() / "lambdad-hold"; ::access(holder.c_str(), X_OK) == 0) rt.holder = holder;
  // A copy forked from a snapshot enters its new environment's mount namespace: root's right only.
  rt.snapshot_fork = !rt.holder.empty() && ::geteuid() == 0;
  rt.snap_start_all = options.snapstart;
  rt.want_root = options.filesystem != "host";
  for (const auto& dir : options.shares) rt.shared_dirs.push_back(fs::weakly_canonical(fs::absolute(dir)));
  bool needs_clients = false;
  for (const auto& fn : functions) {
    auto family = config::runtime_family(fn.runtime);
    needs_clients |= family == config::RuntimeFamily::kPython || family == config::RuntimeFamily::kNode;
  }
  if (needs_clients && rt.runtimes_dir.empty()) {
    std::fprintf(stderr,
                 "lambdad: cannot find the runtime clients (runtimes/python/bootstrap.py); "
                 "pass --runtimes-dir or set LAMBDAD_RUNTIMES_DIR\n");
    return std::nullopt;
  }
  // Resolve interpreters once, then check each (runtime, program) pair once.
  std::set<std::pair<std::string, std::string>> checked;
  for (const auto& fn : functions) {
    auto family = config::runtime_family(fn.runtime);
    if (family != config::RuntimeFamily::kPython && family != config::RuntimeFamily::kNode) continue;
    std::string program = resolve_program(sandbox::interpreter_for(rt, fn));
    rt.interpreters[fn.runtime] = program;
    if (checked.emplace(fn.runtime, program).second) report_interpreter(fn, program);
  }
  // Functions created through the API later use their family's program.
  for (const char* family : {"python", "nodejs"}) {
    auto it = rt.interpreters.find(family);
    if (it != rt.interpreters.end()) it->second = resolve_program(it->second);
  }
  for (const char* key : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
    if (const char* v = std::getenv(key); v && *v) rt.credentials[key] = v;
  }
  return rt;
}

}  // namespace lambdad::app
