#include "lambdad/control_plane/function_registry.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "lambdad/async/event_queue.hpp"
#include "lambdad/common/base64.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/limits.hpp"
#include "lambdad/config/function_names.hpp"
#include "lambdad/invocation/invocation.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/sandbox/sandbox_manager.hpp"
#include "function_json.hpp"
#include "record_json.hpp"

namespace lambdad::control_plane {
namespace fs = std::filesystem;
namespace et = error_types;
using nlohmann::json;

struct FunctionRegistry::Worker {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
};

namespace {

constexpr int kMinimumUnreserved = 100;
constexpr int kListPageSize = 50;
constexpr std::string_view kLatest = config::kLatest;

Error invalid(std::string message) {
  return Error{ErrorKind::kInvalidInput, std::string(et::kInvalidParameterValueException), std::move(message)};
}
Error conflict(std::string message) {
  return Error{ErrorKind::kConflict, std::string(et::kResourceConflictException), std::move(message)};
}
Error not_found(std::string message) {
  return Error{ErrorKind::kNotFound, std::string(et::kResourceNotFoundException), std::move(message)};
}
Error internal(std::string message) {
  return Error{ErrorKind::kInternal, std::string(et::kServiceException), std::move(message)};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status check_runtime(const std::string& runtime) {
  // Runtimes Lambda itself no longer accepts for CreateFunction / UpdateFunctionConfiguration.
  if (auto blocked = config::blocked_runtime_message(runtime)) return invalid(std::move(*blocked));
  if (config::runtime_family(runtime) == config::RuntimeFamily::kUnsupported) {
    return invalid(fmt::format(
        "The runtime parameter of {} is not one lambdad can run (python3.9 to python3.14, nodejs18.x to "
        "nodejs24.x, provided.al2023, provided.al2, provided).",
        runtime));
  }
  return Ok{};
}

Status check_role(const std::string& role) {
  static const std::regex kRole(R"(arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)");
  if (!std::regex_match(role, kRole)) {
    return validation("role", role,
                      R"(Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)");
  }
  return Ok{};
}

Status check_range(std::string_view field, const json& value, long long lo, long long hi, int& out) {
  if (!value.is_number_integer()) return validation(field, value.dump(), "Member must be a number");
  auto v = value.get<long long>();
  if (v < lo) return validation(field, std::to_string(v), fmt::format("Member must have value greater than or equal to {}", lo));
  if (v > hi) return validation(field, std::to_string(v), fmt::format("Member must have value less than or equal to {}", hi));
  out = static_cast<int>(v);
  return Ok{};
}

const std::set<std::string>& reserved_environment_keys() {
  static const std::set<std::string> kKeys = {
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};
  return kKeys;
}

// The settings CreateFunction and UpdateFunctionConfiguration share, applied to `v`.
Status apply_settings(const json& req, VersionRecord& v) {
  auto& c = v.config;
  if (req.contains("Runtime") && !req["Runtime"].is_null()) {
    if (!req["Runtime"].is_string()) return invalid("Runtime must be a string.");
    c.runtime = req["Runtime"].get<std::string>();
    if (auto st = check_runtime(c.runtime); !st) return st;
  }
  if (req.contains("Handler") && req["Handler"].is_string()) c.handler = req["Handler"].get<std::string>();
  if (req.contains("Role") && req["Role"].is_string()) {
    if (auto st = check_role(req["Role"].get<std::string>()); !st) return st;
    v.role = req["Role"].get<std::string>();
  }
  if (req.contains("Description") && req["Description"].is_string()) {
    c.description = req["Description"].get<std::string>();
  }
  if (req.contains("Timeout") && !req["Timeout"].is_null()) {
    if (auto st = check_range("timeout", req["Timeout"], 1, limits::kMaxTimeoutSeconds, c.timeout_seconds); !st) return st;
  }
  if (req.contains("MemorySize") && !req["MemorySize"].is_null()) {
    if (auto st = check_range("memorySize", req["MemorySize"], 128, limits::kMaxMemoryMb, c.memory_mb); !st) return st;
  }
  if (req.contains("EphemeralStorage") && req["EphemeralStorage"].is_object()) {
    if (auto st = check_range("ephemeralStorage.size", req["EphemeralStorage"].value("Size", json(512)), 512, 10240,
                              c.ephemeral_storage_mb);
        !st) {
      return st;
    }
  }
  if (req.contains("Environment") && req["Environment"].is_object()) {
    std::map<std::string, std::string> vars;
    std::vector<std::string> reserved;
    const json variables = req["Environment"].value("Variables", json::object());
    for (const auto& [k, val] : variables.items()) {
      if (!val.is_string()) return invalid(fmt::format("The value of environment variable {} must be a string.", k));
      if (reserved_environment_keys().count(k)) reserved.push_back(k);
      vars[k] = val.get<std::string>();
    }
    if (!reserved.empty()) {
      return invalid(fmt::format(
          "Lambda was unable to configure your environment variables because the environment variables you have "
          "provided contains reserved keys that are currently not supported for modification. Reserved keys used in "
          "this request: {}",
          fmt::join(reserved, ", ")));
    }
    c.environment = std::move(vars);
  }
  if (req.contains("DeadLetterConfig") && req["DeadLetterConfig"].is_object()) {
    const std::string target = req["DeadLetterConfig"].value("TargetArn", "");
    if (target.empty()) {
      c.dead_letter.reset();
    } else {
      auto type = destination_type(target);
      if (!type || (*type != "SQS" && *type != "SNS")) {
        return invalid(fmt::format("The provided target arn {} is not a valid SQS queue or SNS topic ARN.", target));
      }
      c.dead_letter = config::DeadLetterConfig{*type, target};
    }
  }
  if (auto st = apply_logging_config(req, c.logging); !st) return st;
  if (req.contains("TracingConfig") && req["TracingConfig"].is_object() && req["TracingConfig"].contains("Mode")) {
    const json& mode = req["TracingConfig"]["Mode"];
    auto parsed = mode.is_string() ? config::parse_tracing_mode(mode.get<std::string>()) : std::nullopt;
    if (!parsed) {
      return validation("tracingConfig.mode", mode.is_string() ? mode.get<std::string>() : mode.dump(),
                        "Member must satisfy enum value set: [Active, PassThrough]");
    }
    c.tracing = *parsed;
  }
  if (req.contains("Layers") && req["Layers"].is_array()) {
    c.layers.clear();
    for (const auto& l : req["Layers"]) {
      if (l.is_string()) c.layers.push_back(l.get<std::string>());
    }
    if (c.layers.size() > static_cast<std::size_t>(limits::kMaxLayers)) {
      return invalid(fmt::format("Cannot reference more than {} layers.", limits::kMaxLayers));
    }
  }
  return Ok{};
}

Status check_complete(const config::FunctionConfig& c) {
  if (c.runtime.empty() || (c.handler.empty() && config::runtime_family(c.runtime) != config::RuntimeFamily::kProvided)) {
    return invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
  }
  return Ok{};
}

// The zip of a Code / UpdateFunctionCode request, decoded and checked (everything but unpacking).
Result<std::string> zip_of(const json& code, const CodeLimits& limits) {
  if (code.contains("S3Bucket") || code.contains("S3Key")) {
    return invalid(
        "lambdad cannot fetch code from S3 (Code.S3Bucket / S3Key): there is no S3 here. Upload the zip itself "
        "(Code.ZipFile, or --zip-file fileb://function.zip with the AWS CLI).");
  }
  if (code.contains("ImageUri")) {
    return invalid("lambdad runs functions from zip archives only; container images (ImageUri) need a registry.");
  }
  if (!code.contains("ZipFile") || !code["ZipFile"].is_string()) {
    return invalid("Please provide a source for function code (Code.ZipFile).");
  }
  auto zip = base64::decode(code["ZipFile"].get<std::string>());
  if (!zip) return invalid("Code.ZipFile is not valid base64.");
  if (auto st = check_zip(*zip, limits); !st) return st.error();
  return std::move(*zip);
}

Status write_file_atomically(const fs::path& path, const std::string& data, bool durable) {
  const fs::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return internal(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
  std::size_t off = 0;
  while (off < data.size()) {
    auto n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return internal(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
    }
    off += static_cast<std::size_t>(n);
  }
  if (durable) ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return internal(fmt::format("cannot rename {}: {}", tmp.string(), ec.message()));
  return Ok{};
}

std::string format_time(std::int64_t epoch_ms) {
  std::time_t t = epoch_ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, epoch_ms % 1000);
}

std::string marker_for(const std::string& name, const std::string& version) {
  return base64::encode(name + "\n" + version);
}

}  // namespace

FunctionRegistry::FunctionRegistry(sandbox::SandboxManager& manager, const Clock& clock, Post post,
                                   RegistryOptions options)
    : manager_(manager), clock_(clock), post_(std::move(post)), options_(std::move(options)) {
  started_at_ = now_text();
}

FunctionRegistry::~FunctionRegistry() {
  *alive_ = false;
  shutdown();
}

void FunctionRegistry::shutdown() {
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  workers_.clear();
}

std::string FunctionRegistry::now_text() const { return format_time(clock_.epoch_ms()); }

std::string FunctionRegistry::arn(const std::string& name, const std::string& qualifier) const {
  return invocation::function_arn(options_.region, options_.account_id, name, qualifier);
}

const FunctionRecord* FunctionRegistry::find(const std::string& name) const {
  auto it = records_.find(name);
  return it == records_.end() ? nullptr : &it->second;
}

FunctionRecord FunctionRegistry::template_record(const config::FunctionConfig& c, const std::string& now) const {
  FunctionRecord fn;
  fn.from_template = true;
  fn.latest.config = c;
  fn.latest.role = fmt::format("arn:aws:iam::{}:role/{}Role", options_.account_id, c.logical_id);
  fn.latest.revision_id = ids::request_id();
  fn.latest.last_modified = now;
  fn.reserved = c.reserved_concurrency;
  fn.event_invoke_config = c.event_invoke_config;
  for (const auto& version : config::function_versions(c)) {
    if (version == kLatest) continue;
    auto v = fn.latest;
    v.revision_id = ids::request_id();
    v.source_revision = fn.latest.revision_id;
    fn.versions.emplace(std::stoi(version), std::move(v));
    fn.last_version = std::max(fn.last_version, std::stoi(version));
  }
  if (!c.auto_publish_alias.empty()) fn.aliases[c.auto_publish_alias] = std::string(config::kPublishedVersion);
  return fn;
}

void FunctionRegistry::add_template_functions(const std::vector<config::FunctionConfig>& functions) {
  const std::string now = now_text();
  for (const auto& c : functions) {
    records_[c.name] = template_record(c, now);
    template_definitions_[c.name] = c;
  }
}

namespace {

bool same_destination(const std::optional<config::EventDestination>& a, const std::optional<config::EventDestination>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->type == b->type && a->destination == b->destination);
}

bool same_event_invoke_config(const std::optional<config::EventInvokeConfig>& a,
                              const std::optional<config::EventInvokeConfig>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->maximum_event_age_seconds == b->maximum_event_age_seconds &&
                a->maximum_retry_attempts == b->maximum_retry_attempts && same_destination(a->on_success, b->on_success) &&
                same_destination(a->on_failure, b->on_failure));
}

bool same_dead_letter(const std::optional<config::DeadLetterConfig>& a, const std::optional<config::DeadLetterConfig>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->type == b->type && a->target_arn == b->target_arn);
}

// Every field of FunctionConfig (a field added there belongs here too).
bool same_definition(const config::FunctionConfig& a, const config::FunctionConfig& b) {
  return a.name == b.name && a.logical_id == b.logical_id && a.runtime == b.runtime && a.handler == b.handler &&
         a.code_dir == b.code_dir && a.memory_mb == b.memory_mb && a.timeout_seconds == b.timeout_seconds &&
         a.environment == b.environment && a.reserved_concurrency == b.reserved_concurrency &&
         a.auto_publish_alias == b.auto_publish_alias && a.provisioned_concurrency == b.provisioned_concurrency &&
         a.ephemeral_storage_mb == b.ephemeral_storage_mb && a.architectures == b.architectures &&
         a.layers == b.layers && a.description == b.description &&
         same_event_invoke_config(a.event_invoke_config, b.event_invoke_config) &&
         same_dead_letter(a.dead_letter, b.dead_letter) && a.logging == b.logging &&
         a.tracing == b.tracing;
}

}  // namespace

Result<TemplateChanges> FunctionRegistry::reload_template_functions(const std::vector<config::FunctionConfig>& functions) {
  // Validate first, so that a refused reload changes nothing: the reservations as they would
  // be (the new template's, an unchanged function's current one, and the API functions').
  std::set<std::string> defined;
  int reserved = 0;
  for (const auto& c : functions) {
    defined.insert(c.name);
    auto it = records_.find(c.name);
    if (it != records_.end() && !it->second.from_template) continue;  // counted below
    auto def = template_definitions_.find(c.name);
    const bool unchanged = it != records_.end() && def != template_definitions_.end() && same_definition(def->second, c);
    reserved += unchanged ? it->second.reserved.value_or(0) : c.reserved_concurrency.value_or(0);
  }
  for (const auto& [name, fn] : records_) {
    if (!fn.from_template) reserved += fn.reserved.value_or(0);
  }
  if (reserved > 0 && options_.account_concurrency - reserved < kMinimumUnreserved) {
    return invalid(fmt::format(
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below "
        "its minimum value of [{}]. (reserved {} of an account concurrency of {})",
        kMinimumUnreserved, reserved, options_.account_concurrency));
  }

  TemplateChanges changes;
  // Removed first: their reservations make room for the others.
  for (auto it = records_.begin(); it != records_.end();) {
    if (!it->second.from_template || defined.count(it->first)) {
      ++it;
      continue;
    }
    manager_.remove_function(it->first);  // busy environments finish their invoke, then stop
    template_definitions_.erase(it->first);
    changes.removed.push_back(it->first);
    it = records_.erase(it);
  }
  const std::string now = now_text();
  for (const auto& c : functions) {
    auto it = records_.find(c.name);
    if (it != records_.end() && !it->second.from_template) {
      changes.skipped.push_back(c.name);
      continue;
    }
    if (it != records_.end()) {
      auto def = template_definitions_.find(c.name);
      if (def != template_definitions_.end() && same_definition(def->second, c)) {
        changes.unchanged.push_back(c.name);
        continue;
      }
    }
    FunctionRecord fn = template_record(c, now);
    if (it == records_.end()) {
      changes.added.push_back(c.name);
    } else {
      changes.changed.push_back(c.name);
      // Version numbers are never reused; pools of versions the new definition lacks go.
      fn.last_version = std::max(fn.last_version, it->second.last_version);
      for (const auto& [number, v] : it->second.versions) {
        if (!fn.versions.count(number)) manager_.remove_version(c.name, std::to_string(number));
      }
      // An update in flight (it->second.job) is dropped: code_ready finds another job number.
    }
    // An existing pool takes the new configuration and drains; a new one starts empty.
    manager_.put_version(fn.latest.config, std::string(kLatest));
    for (const auto& [number, v] : fn.versions) manager_.put_version(v.config, std::to_string(number));
    manager_.set_reserved_concurrency(c.name, fn.reserved);
    records_[c.name] = std::move(fn);
    template_definitions_[c.name] = c;
    notify_events(c.name, records_[c.name]);
    if (events_) events_->set_reserved_concurrency(c.name, records_[c.name].reserved);  // wakes its queue
  }
  return changes;
}

std::size_t FunctionRegistry::load_stored() {
  auto log = observability::daemon_log();
  std::error_code ec;
  fs::create_directories(options_.functions_dir, ec);
  fs::remove_all(options_.functions_dir / ".trash", ec);
  std::size_t loaded = 0;
  for (const auto& entry : fs::directory_iterator(options_.functions_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.starts_with(".")) continue;
    const fs::path file = entry.path() / "function.json";
    std::ifstream in(file);
    if (!in) continue;
    auto parsed = json::parse(in, nullptr, false);
    auto record = parsed.is_discarded() ? Result<FunctionRecord>(Error{ErrorKind::kInvalidInput, {}, "not JSON"})
                                        : record_from_json(parsed, entry.path() / "code");
    if (!record) {
      log->error("cannot load the function stored in {}: {}", file.string(), record.error().message);
      continue;
    }
    if (records_.count(name)) {
      log->warn("the template defines {}; the function of that name created through the API (in {}) is not loaded",
                name, entry.path().string());
      continue;
    }
    FunctionRecord fn = std::move(record).value();
    // A create or code update the daemon did not finish: its code directory is missing.
    if (!fs::is_directory(fn.latest.config.code_dir)) {
      fn.state = FunctionState::kFailed;
      fn.state_reason = "The daemon stopped before the function's code was unpacked. Upload it again with UpdateFunctionCode.";
      fn.state_reason_code = "InvalidZipFileException";
    } else if (fn.state == FunctionState::kPending) {
      fn.state = FunctionState::kActive;
      fn.state_reason.clear();
      fn.state_reason_code.clear();
    }
    // Code no version refers to any more (old uploads) goes now, while no environment runs it.
    std::set<std::string> used{fn.latest.code_hex};
    for (const auto& [n, v] : fn.versions) used.insert(v.code_hex);
    for (const auto& code : fs::directory_iterator(entry.path() / "code", ec)) {
      auto stem = code.path().filename().string();
      if (auto dot = stem.find('.'); dot != std::string::npos) stem.resize(dot);
      if (!used.count(stem)) fs::remove_all(code.path(), ec);
    }
    if (fn.state == FunctionState::kActive) {
      manager_.put_version(fn.latest.config, std::string(kLatest));
      for (const auto& [n, v] : fn.versions) manager_.put_version(v.config, std::to_string(n));
      if (fn.reserved) manager_.set_reserved_concurrency(name, fn.reserved);
    }
    records_[name] = std::move(fn);
    notify_events(name, records_[name]);
    ++loaded;
  }
  if (loaded > 0) log->info("loaded {} function(s) created through the API from {}", loaded, options_.functions_dir.string());
  return loaded;
}

void FunctionRegistry::save(const std::string& name) {
  auto it = records_.find(name);
  if (it == records_.end() || it->second.from_template) return;
  const fs::path dir = options_.functions_dir / name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (auto st = write_file_atomically(dir / "function.json", record_to_json(it->second).dump(2), options_.durable); !st) {
    observability::daemon_log()->error("[{}] cannot store the function: {}", name, st.error().message);
  }
}

void FunctionRegistry::notify_events(const std::string& name, const FunctionRecord& fn) {
  if (!events_) return;
  events_->add_function(name, async::FunctionSettings{fn.event_invoke_config, fn.latest.config.dead_letter, fn.reserved});
}

// --- Dispatcher -----------------------------------------------------------------------------

std::string FunctionRegistry::function_for(const std::string& requested) const {
  if (records_.count(requested)) return requested;  // deployed names are tried first: no list to build
  std::vector<const config::FunctionConfig*> all;
  all.reserve(records_.size());
  for (const auto& [name, fn] : records_) all.push_back(&fn.latest.config);
  const config::FunctionConfig* found = config::find_function(all, requested);
  return found ? found->name : requested;
}

std::optional<std::string> FunctionRegistry::resolve(const std::string& name, const std::string& qualifier) const {
  auto it = records_.find(name);
  if (it == records_.end()) return std::nullopt;
  const auto& fn = it->second;
  if (qualifier.empty() || qualifier == kLatest) return std::string(kLatest);
  if (all_digits(qualifier)) {
    if (qualifier.size() < 10 && fn.versions.count(std::stoi(qualifier)) && std::to_string(std::stoi(qualifier)) == qualifier) {
      return qualifier;
    }
    return std::nullopt;
  }
  if (auto a = fn.aliases.find(qualifier); a != fn.aliases.end()) return a->second;
  return std::nullopt;
}

std::optional<std::string> FunctionRegistry::unavailable(const std::string& name) const {
  auto it = records_.find(name);
  if (it == records_.end() || it->second.state == FunctionState::kActive) return std::nullopt;
  return std::string(state_name(it->second.state));
}

invocation::Admission FunctionRegistry::dispatch(invocation::InvocationPtr inv) { return manager_.dispatch(std::move(inv)); }

std::optional<std::size_t> FunctionRegistry::evict(const std::string& name) { return manager_.evict(name); }

std::string FunctionRegistry::status_json() const { return manager_.status_json(); }

bool FunctionRegistry::tracing_active(const std::string& name, const std::string& version) const {
  auto it = records_.find(name);
  if (it == records_.end()) return false;
  const auto& fn = it->second;
  const VersionRecord* v = &fn.latest;
  if (version != kLatest && all_digits(version) && version.size() < 10) {
    auto found = fn.versions.find(std::stoi(version));
    if (found != fn.versions.end()) v = &found->second;
  }
  return v->config.tracing == config::TracingMode::kActive;
}

// --- reading ----------------------------------------------------------------------------------

Result<FunctionRecord*> FunctionRegistry::lookup(const std::string& name, const std::string& qualifier_for_message) {
  auto it = records_.find(name);
  if (it == records_.end()) return not_found(fmt::format("Function not found: {}", arn(name, qualifier_for_message)));
  return &it->second;
}

Result<const VersionRecord*> FunctionRegistry::version_of(const FunctionRecord& fn, const std::string& qualifier) const {
  const std::string& name = fn.latest.config.name;
  auto version = resolve(name, qualifier);
  if (!version) return not_found(fmt::format("Function not found: {}", arn(name, qualifier)));
  if (*version == kLatest) return &fn.latest;
  return &fn.versions.at(std::stoi(*version));
}

void FunctionRegistry::ensure_digest(const VersionRecord& v) {
  if (!v.code_sha256.empty() || !v.code_hex.empty()) return;
  // Template code is a directory: its digest is computed once, when first asked for.
  if (auto d = digest_directory(v.config.code_dir)) {
    v.code_sha256 = d->sha256_base64;
    v.code_size = d->size;
  }
}

json FunctionRegistry::configuration_json(const FunctionRecord& fn, const VersionRecord& v, const std::string& version,
                                          bool qualified_arn, ConfigurationView view) {
  ensure_digest(v);
  return control_plane::configuration_json(fn, v, version, arn(v.config.name, qualified_arn ? version : ""),
                                           options_.region, view);
}

Result<json> FunctionRegistry::get_configuration(const std::string& name, const std::string& qualifier) {
  auto fn = lookup(name);
  if (!fn) return fn.error();
  auto v = version_of(**fn, qualifier);
  if (!v) return v.error();
  return configuration_json(**fn, **v, *resolve(name, qualifier), !qualifier.empty());
}

Result<json> FunctionRegistry::get_function(const std::string& name, const std::string& qualifier) {
  auto cfg = get_configuration(name, qualifier);
  if (!cfg) return cfg;
  const auto& fn = records_.at(name);
  auto v = version_of(fn, qualifier);
  const VersionRecord& ver = **v;
  std::string location = ver.code_hex.empty()
                             ? "file://" + ver.config.code_dir.string()
                             : "file://" + (options_.functions_dir / name / "code" / (ver.code_hex + ".zip")).string();
  json out = {{"Configuration", std::move(*cfg)}, {"Code", {{"RepositoryType", "S3"}, {"Location", location}}}};
  if (!fn.tags.empty()) out["Tags"] = fn.tags;
  if (fn.reserved) out["Concurrency"] = {{"ReservedConcurrentExecutions", *fn.reserved}};
  return out;
}

Result<json> FunctionRegistry::list_functions(const std::optional<std::string>& function_version,
                                              const std::string& marker, std::optional<int> max_items) {
  if (function_version && *function_version != "ALL") {
    return validation("functionVersion", *function_version, "Member must satisfy enum value set: [ALL]");
  }
  const bool all_versions = function_version.has_value();
  if (max_items && (*max_items < 1 || *max_items > 10000)) {
    return validation("maxItems", std::to_string(*max_items),
                      *max_items < 1 ? "Member must have value greater than or equal to 1"
                                     : "Member must have value less than or equal to 10000");
  }
  const std::size_t page = static_cast<std::size_t>(std::min(max_items.value_or(kListPageSize), kListPageSize));
  std::vector<std::pair<std::string, std::string>> entries;  // (name, version), in order
  for (const auto& [name, fn] : records_) {
    entries.emplace_back(name, std::string(kLatest));
    if (all_versions) {
      for (const auto& [n, v] : fn.versions) entries.emplace_back(name, std::to_string(n));
    }
  }
  std::size_t start = 0;
  if (!marker.empty()) {
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const auto& e) { return marker_for(e.first, e.second) == marker; });
    if (it == entries.end()) return invalid("Invalid marker: " + marker);
    start = static_cast<std::size_t>(it - entries.begin());
  }
  json functions = json::array();
  for (std::size_t i = start; i < entries.size() && functions.size() < page; ++i) {
    const auto& [name, version] = entries[i];
    auto& fn = records_.at(name);
    const auto& v = version == kLatest ? fn.latest : fn.versions.at(std::stoi(version));
    functions.push_back(configuration_json(fn, v, version, all_versions, ConfigurationView::kListed));
  }
  json out = {{"Functions", std::move(functions)}};
  if (start + page < entries.size()) out["NextMarker"] = marker_for(entries[start + page].first, entries[start + page].second);
  return out;
}

Result<json> FunctionRegistry::list_versions(const std::string& name, const std::string& marker,
                                             std::optional<int> max_items) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (max_items && (*max_items < 1 || *max_items > 10000)) {
    return validation("maxItems", std::to_string(*max_items), "Member must have value between 1 and 10000");
  }
  const std::size_t page = static_cast<std::size_t>(std::min(max_items.value_or(kListPageSize), kListPageSize));
  std::vector<std::string> versions{std::string(kLatest)};
  for (const auto& [n, v] : fn.versions) versions.push_back(std::to_string(n));
  std::size_t start = 0;
  if (!marker.empty()) {
    auto it = std::find_if(versions.begin(), versions.end(), [&](const auto& v) { return marker_for(name, v) == marker; });
    if (it == versions.end()) return invalid("Invalid marker: " + marker);
    start = static_cast<std::size_t>(it - versions.begin());
  }
  json list = json::array();
  for (std::size_t i = start; i < versions.size() && list.size() < page; ++i) {
    const auto& version = versions[i];
    const auto& v = version == kLatest ? fn.latest : fn.versions.at(std::stoi(version));
    list.push_back(configuration_json(fn, v, version, true));
  }
  json out = {{"Versions", std::move(list)}};
  if (start + page < versions.size()) out["NextMarker"] = marker_for(name, versions[start + page]);
  return out;
}

// --- creating and changing --------------------------------------------------------------------

std::uint64_t FunctionRegistry::unpack_async(const std::string& name, std::string zip, const std::string& hex,
                                             bool creating, bool publish, std::optional<VersionRecord> prior) {
  // Threads that finished are joined here, so they never pile up.
  std::erase_if(workers_, [](const std::unique_ptr<Worker>& w) {
    if (!w->done->load()) return false;
    w->thread.join();
    return true;
  });
  const std::uint64_t job = next_job_++;
  const fs::path code_root = options_.functions_dir / name / "code";
  auto worker = std::make_unique<Worker>();
  worker->thread = std::thread([this, name, job, hex, code_root, creating, publish, zip = std::move(zip),
                                prior = std::move(prior), done = worker->done, alive = alive_,
                                limits = options_.limits, post = post_]() mutable {
    Status result = Ok{};
    const fs::path dir = code_root / hex;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      // Unpacked next to its final place and renamed: a directory named by the digest is
      // always complete.
      const fs::path partial = code_root / (hex + ".partial");
      fs::remove_all(partial, ec);
      fs::create_directories(code_root, ec);
      auto unpacked = unpack_zip(zip, partial, limits);
      if (!unpacked) {
        result = unpacked.error();
      } else {
        fs::rename(partial, dir, ec);
        if (ec) result = internal(fmt::format("cannot rename {}: {}", partial.string(), ec.message()));
      }
    }
    if (result) {
      if (auto st = write_file_atomically(code_root / (hex + ".zip"), zip, false); !st) result = st;
    }
    post([this, alive, name, job, creating, publish, result = std::move(result), prior = std::move(prior)]() mutable {
      if (*alive) code_ready(name, job, std::move(result), creating, publish, std::move(prior));
    });
    done->store(true);
  });
  workers_.push_back(std::move(worker));
  return job;
}

void FunctionRegistry::code_ready(const std::string& name, std::uint64_t job, Status unpacked, bool creating,
                                  bool publish, std::optional<VersionRecord> prior) {
  auto it = records_.find(name);
  if (it == records_.end() || it->second.job != job) return;  // deleted, or replaced since
  auto& fn = it->second;
  fn.job = 0;
  auto log = observability::daemon_log();
  if (!unpacked) {
    log->warn("[{}] the uploaded code cannot be used: {}", name, unpacked.error().message);
    if (creating) {
      fn.state = FunctionState::kFailed;
      fn.state_reason = unpacked.error().message;
      fn.state_reason_code = "InvalidZipFileException";
    } else {
      if (prior) fn.latest = std::move(*prior);
      fn.last_update = UpdateStatus::kFailed;
      fn.last_update_reason = unpacked.error().message;
      fn.last_update_reason_code = "InvalidZipFileException";
    }
    save(name);
    return;
  }
  const bool was_active = fn.state == FunctionState::kActive;
  fn.state = FunctionState::kActive;
  fn.state_reason.clear();
  fn.state_reason_code.clear();
  if (creating || !was_active) {
    log->info("[{}] created ({}, {} MB, {} s); code in {}", name, fn.latest.config.runtime, fn.latest.config.memory_mb,
              fn.latest.config.timeout_seconds, fn.latest.config.code_dir.string());
  } else {
    log->info("[{}] new code {}; warm environments drain", name, fn.latest.code_sha256);
  }
  apply_latest(fn, name);
  if (publish) (void)this->publish(fn, name, fn.latest.config.description);
  save(name);
}

void FunctionRegistry::apply_latest(FunctionRecord& fn, const std::string& name) {
  fn.last_update = UpdateStatus::kSuccessful;
  fn.last_update_reason.clear();
  fn.last_update_reason_code.clear();
  fn.latest.config.reserved_concurrency = fn.reserved;
  fn.latest.config.event_invoke_config = fn.event_invoke_config;
  manager_.put_version(fn.latest.config, std::string(kLatest));
  if (fn.reserved) manager_.set_reserved_concurrency(name, fn.reserved);
  notify_events(name, fn);
}

Result<json> FunctionRegistry::create_function(const json& req) {
  if (!req.is_object()) return invalid("The request body must be a JSON object.");
  const std::string name = req.value("FunctionName", "");
  if (!config::is_valid_function_name(name)) {
    return validation("functionName", name,
                      "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length between 1 and 64");
  }
  if (records_.count(name)) return conflict(fmt::format("Function already exist: {}", name));
  if (!req.contains("Role") || !req["Role"].is_string()) {
    return validation("role", "null", "Member must not be null");
  }
  if (req.value("PackageType", "Zip") != "Zip") {
    return invalid("lambdad runs functions from zip archives only; PackageType Image needs a container registry.");
  }
  VersionRecord v;
  v.config.name = name;
  v.config.logical_id = name;
  if (auto st = apply_settings(req, v); !st) return st.error();
  if (auto st = check_complete(v.config); !st) return st.error();
  if (req.contains("Architectures") && req["Architectures"].is_array() && !req["Architectures"].empty()) {
    v.config.architectures = {req["Architectures"][0].get<std::string>()};
  }
  auto zip = zip_of(req.value("Code", json::object()), options_.limits);
  if (!zip) return zip.error();

  FunctionRecord fn;
  v.code_size = zip->size();
  v.code_sha256 = sha256_base64(*zip);
  v.code_hex = sha256_hex(*zip);
  v.config.code_dir = options_.functions_dir / name / "code" / v.code_hex;
  v.revision_id = ids::request_id();
  v.last_modified = now_text();
  fn.latest = std::move(v);
  if (req.contains("Tags") && req["Tags"].is_object()) {
    for (const auto& [k, val] : req["Tags"].items()) {
      if (val.is_string()) fn.tags[k] = val.get<std::string>();
    }
  }
  fn.state = FunctionState::kPending;
  fn.state_reason = "The function is being created.";
  fn.state_reason_code = "Creating";
  const std::string hex = fn.latest.code_hex;
  records_[name] = std::move(fn);
  auto& stored = records_[name];
  save(name);
  stored.job = unpack_async(name, std::move(*zip), hex, true, req.value("Publish", false), std::nullopt);
  return configuration_json(stored, stored.latest, std::string(kLatest), false);
}

Status FunctionRegistry::may_change(const FunctionRecord& fn, const std::string& name, const json& req) const {
  // One change at a time, and none while the function is being created. (A Failed one may get
  // new code.)
  if (fn.job != 0 || fn.last_update == UpdateStatus::kInProgress || fn.state == FunctionState::kPending) {
    return conflict(fmt::format(
        "The operation cannot be performed at this time. An update is in progress for resource: {}", arn(name)));
  }
  if (req.is_object() && req.contains("RevisionId") && req["RevisionId"].is_string() &&
      req["RevisionId"] != fn.latest.revision_id) {
    return Error{ErrorKind::kConflict, std::string(et::kPreconditionFailedException),
                 "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API "
                 "to retrieve the latest Revision Id"};
  }
  return Ok{};
}

Result<json> FunctionRegistry::update_code(const std::string& name, const json& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto st = may_change(fn, name, req); !st) return st.error();
  auto zip = zip_of(req, options_.limits);
  if (!zip) return zip.error();
  if (req.value("DryRun", false)) return configuration_json(fn, fn.latest, std::string(kLatest), false);
  VersionRecord prior = fn.latest;
  fn.latest.code_size = zip->size();
  fn.latest.code_sha256 = sha256_base64(*zip);
  fn.latest.code_hex = sha256_hex(*zip);
  fn.latest.config.code_dir = options_.functions_dir / name / "code" / fn.latest.code_hex;
  if (req.contains("Architectures") && req["Architectures"].is_array() && !req["Architectures"].empty()) {
    fn.latest.config.architectures = {req["Architectures"][0].get<std::string>()};
  }
  fn.latest.revision_id = ids::request_id();
  fn.latest.last_modified = now_text();
  fn.last_update = UpdateStatus::kInProgress;
  fn.last_update_reason = "The function is being updated.";
  fn.last_update_reason_code.clear();
  const std::string hex = fn.latest.code_hex;
  auto out = configuration_json(fn, fn.latest, std::string(kLatest), false);
  fn.job = unpack_async(name, std::move(*zip), hex, false, req.value("Publish", false), std::move(prior));
  return out;
}

Result<json> FunctionRegistry::update_configuration(const std::string& name, const json& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (!req.is_object()) return invalid("The request body must be a JSON object.");
  if (auto st = may_change(fn, name, req); !st) return st.error();
  VersionRecord next = fn.latest;
  if (auto st = apply_settings(req, next); !st) return st.error();
  if (auto st = check_complete(next.config); !st) return st.error();
  next.revision_id = ids::request_id();
  next.last_modified = now_text();
  fn.latest = std::move(next);
  fn.last_update = UpdateStatus::kInProgress;
  fn.last_update_reason = "The function is being updated.";
  auto out = configuration_json(fn, fn.latest, std::string(kLatest), false);
  // Applied on the next turn of the event loop, as the code of an update is when unpacked.
  const std::uint64_t job = next_job_++;
  fn.job = job;
  post_([this, alive = alive_, name, job] {
    if (!*alive) return;
    auto it = records_.find(name);
    if (it == records_.end() || it->second.job != job) return;
    it->second.job = 0;
    observability::daemon_log()->info("[{}] new configuration; warm environments drain", name);
    if (it->second.state == FunctionState::kActive) {
      apply_latest(it->second, name);
    } else {
      it->second.last_update = UpdateStatus::kSuccessful;
      it->second.last_update_reason.clear();
    }
    save(name);
  });
  return out;
}

Result<int> FunctionRegistry::publish(FunctionRecord& fn, const std::string& name, const std::string& description) {
  // Lambda publishes nothing new when $LATEST has not changed since the last version.
  if (!fn.versions.empty() && fn.versions.rbegin()->second.source_revision == fn.latest.revision_id) {
    return fn.versions.rbegin()->first;
  }
  const int number = ++fn.last_version;
  VersionRecord v = fn.latest;
  v.source_revision = fn.latest.revision_id;
  v.revision_id = ids::request_id();
  v.last_modified = now_text();
  v.config.description = description;
  fn.versions.emplace(number, v);
  manager_.put_version(v.config, std::to_string(number));
  observability::daemon_log()->info("[{}] published version {} ({})", name, number, v.code_sha256);
  return number;
}

Result<json> FunctionRegistry::publish_version(const std::string& name, const json& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto st = may_change(fn, name, req); !st) return st.error();
  if (fn.state != FunctionState::kActive) {
    return conflict(fmt::format(
        "The operation cannot be performed at this time. The function is currently in the following state: {}",
        state_name(fn.state)));
  }
  ensure_digest(fn.latest);
  if (req.contains("CodeSha256") && req["CodeSha256"].is_string() && req["CodeSha256"] != fn.latest.code_sha256) {
    return invalid(fmt::format(
        "CodeSHA256 ({}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the current "
        "CodeSHA256.",
        req["CodeSha256"].get<std::string>(), fn.latest.code_sha256));
  }
  auto number = publish(fn, name, req.value("Description", fn.latest.config.description));
  if (!number) return number.error();
  save(name);
  return configuration_json(fn, fn.versions.at(*number), std::to_string(*number), true);
}

Status FunctionRegistry::delete_function(const std::string& name, const std::string& qualifier) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (!qualifier.empty()) {
    if (qualifier == kLatest) return invalid("$LATEST version cannot be deleted without deleting the function.");
    if (!all_digits(qualifier) || qualifier.size() >= 10 || !fn.versions.count(std::stoi(qualifier))) {
      return not_found(fmt::format("Function not found: {}", arn(name, qualifier)));
    }
    std::vector<std::string> aliases;
    for (const auto& [alias, version] : fn.aliases) {
      if (version == qualifier) aliases.push_back(alias);
    }
    if (!aliases.empty()) {
      return conflict(fmt::format("Unable to delete version because the following aliases reference it: [{}]",
                                  fmt::join(aliases, ", ")));
    }
    fn.versions.erase(std::stoi(qualifier));
    manager_.remove_version(name, qualifier);
    save(name);
    return Ok{};
  }
  const bool from_template = fn.from_template;
  records_.erase(name);
  template_definitions_.erase(name);
  manager_.remove_function(name);
  if (!from_template) {
    // Environments still finishing an invoke may read their code: it goes to the trash, which
    // is emptied at the next start.
    std::error_code ec;
    const fs::path trash = options_.functions_dir / ".trash";
    fs::create_directories(trash, ec);
    fs::rename(options_.functions_dir / name, trash / fmt::format("{}.{}", name, ids::hex_id(8)), ec);
    if (ec) fs::remove_all(options_.functions_dir / name, ec);
  }
  observability::daemon_log()->info("[{}] deleted", name);
  return Ok{};
}

// --- concurrency ------------------------------------------------------------------------------

namespace {

// Reserved concurrency belongs to the function, not to a version or alias.
Status unqualified(const std::string& qualifier) {
  if (qualifier.empty()) return Ok{};
  return invalid(
      "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. "
      "Please specify either a function name or an unqualified function ARN.");
}

}  // namespace

Result<json> FunctionRegistry::put_concurrency(const std::string& name, const json& req, const std::string& qualifier) {
  if (auto st = unqualified(qualifier); !st) return st.error();
  auto found = lookup(name, std::string(kLatest));
  if (!found) return found.error();
  auto& fn = **found;
  if (!req.is_object() || !req.contains("ReservedConcurrentExecutions")) {
    return validation("reservedConcurrentExecutions", "null", "Member must not be null");
  }
  int reserved = 0;
  if (auto st = check_range("reservedConcurrentExecutions", req["ReservedConcurrentExecutions"], 0, 1000000, reserved);
      !st) {
    return st.error();
  }
  int others = 0;
  for (const auto& [n, r] : records_) {
    if (n != name) others += r.reserved.value_or(0);
  }
  if (reserved > 0 && options_.account_concurrency - others - reserved < kMinimumUnreserved) {
    return invalid(fmt::format(
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below "
        "its minimum value of [{}].",
        kMinimumUnreserved));
  }
  fn.reserved = reserved;
  fn.latest.config.reserved_concurrency = reserved;
  manager_.set_reserved_concurrency(name, reserved);
  if (events_) events_->set_reserved_concurrency(name, reserved);
  save(name);
  return json{{"ReservedConcurrentExecutions", reserved}};
}

Result<json> FunctionRegistry::get_concurrency(const std::string& name, const std::string& qualifier) {
  if (auto st = unqualified(qualifier); !st) return st.error();
  auto found = lookup(name);
  if (!found) return found.error();
  if (!(*found)->reserved) return json::object();
  return json{{"ReservedConcurrentExecutions", *(*found)->reserved}};
}

Status FunctionRegistry::delete_concurrency(const std::string& name, const std::string& qualifier) {
  if (auto st = unqualified(qualifier); !st) return st;
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  fn.reserved.reset();
  fn.latest.config.reserved_concurrency.reset();
  manager_.set_reserved_concurrency(name, std::nullopt);
  if (events_) events_->set_reserved_concurrency(name, std::nullopt);
  save(name);
  return Ok{};
}

// --- Event invoke configuration ---------------------------------------------------------------

namespace {

Result<std::optional<config::EventDestination>> parse_destination(const json& j) {
  if (!j.is_object() || !j.contains("Destination") || !j["Destination"].is_string()) {
    return std::optional<config::EventDestination>{};
  }
  const std::string arn = j["Destination"].get<std::string>();
  auto type = destination_type(arn);
  if (!type) {
    return invalid(fmt::format("The destination ARN {} is not a Lambda function, SQS queue, SNS topic, EventBridge "
                               "event bus or S3 bucket ARN.",
                               arn));
  }
  return std::optional<config::EventDestination>(config::EventDestination{*type, arn});
}

json destination_json(const std::optional<config::EventDestination>& d) {
  if (!d) return json::object();
  return {{"Destination", d->destination}};
}

}  // namespace

Result<json> FunctionRegistry::put_event_invoke_config(const std::string& name, const std::string& qualifier,
                                                       const json& req, bool merge) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto v = version_of(fn, qualifier); !v) return v.error();
  if (!req.is_object()) return invalid("The request body must be a JSON object.");
  if (merge && !fn.event_invoke_config) {
    return not_found(fmt::format("The function {} doesn't have an EventInvokeConfig",
                                 arn(name, qualifier.empty() ? std::string(kLatest) : qualifier)));
  }
  config::EventInvokeConfig c = merge ? *fn.event_invoke_config : config::EventInvokeConfig{};
  if (req.contains("MaximumRetryAttempts") && !req["MaximumRetryAttempts"].is_null()) {
    if (auto st = check_range("maximumRetryAttempts", req["MaximumRetryAttempts"], 0, 2, c.maximum_retry_attempts); !st) {
      return st.error();
    }
  }
  if (req.contains("MaximumEventAgeInSeconds") && !req["MaximumEventAgeInSeconds"].is_null()) {
    if (auto st = check_range("maximumEventAgeInSeconds", req["MaximumEventAgeInSeconds"], 60, 21600,
                              c.maximum_event_age_seconds);
        !st) {
      return st.error();
    }
  }
  if (req.contains("DestinationConfig") && req["DestinationConfig"].is_object()) {
    const auto& d = req["DestinationConfig"];
    if (d.contains("OnSuccess")) {
      auto on = parse_destination(d["OnSuccess"]);
      if (!on) return on.error();
      c.on_success = *on;
    }
    if (d.contains("OnFailure")) {
      auto on = parse_destination(d["OnFailure"]);
      if (!on) return on.error();
      c.on_failure = *on;
    }
  }
  fn.event_invoke_config = c;
  fn.event_invoke_config_modified = static_cast<double>(clock_.epoch_ms()) / 1000.0;
  fn.latest.config.event_invoke_config = c;
  if (events_) events_->set_event_invoke_config(name, c);
  save(name);
  return get_event_invoke_config(name, qualifier);
}

Result<json> FunctionRegistry::get_event_invoke_config(const std::string& name, const std::string& qualifier) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto v = version_of(fn, qualifier); !v) return v.error();
  const std::string q = qualifier.empty() ? std::string(kLatest) : qualifier;
  if (!fn.event_invoke_config) {
    return not_found(fmt::format("The function {} doesn't have an EventInvokeConfig", arn(name, q)));
  }
  const auto& c = *fn.event_invoke_config;
  return json{{"LastModified", fn.event_invoke_config_modified},
              {"FunctionArn", arn(name, q)},
              {"MaximumRetryAttempts", c.maximum_retry_attempts},
              {"MaximumEventAgeInSeconds", c.maximum_event_age_seconds},
              {"DestinationConfig", {{"OnSuccess", destination_json(c.on_success)},
                                     {"OnFailure", destination_json(c.on_failure)}}}};
}

Status FunctionRegistry::delete_event_invoke_config(const std::string& name, const std::string& qualifier) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto v = version_of(fn, qualifier); !v) return v.error();
  if (!fn.event_invoke_config) {
    return not_found(fmt::format("The function {} doesn't have an EventInvokeConfig",
                                 arn(name, qualifier.empty() ? std::string(kLatest) : qualifier)));
  }
  fn.event_invoke_config.reset();
  fn.latest.config.event_invoke_config.reset();
  if (events_) events_->set_event_invoke_config(name, std::nullopt);
  save(name);
  return Ok{};
}

// --- aliases ----------------------------------------------------------------------------------

namespace {

Error alias_not_found(const std::string& alias_arn) {
  return not_found(fmt::format("Alias not found: {}", alias_arn));
}

}  // namespace

Result<json> FunctionRegistry::create_alias(const std::string& name, const json& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  const std::string alias = req.is_object() ? req.value("Name", "") : "";
  if (!config::is_valid_alias_name(alias)) {
    return validation("name", alias, "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  }
  if (fn.aliases.count(alias)) return conflict(fmt::format("Alias already exists: {}", arn(name, alias)));
  const std::string version = req.value("FunctionVersion", "");
  if (!all_digits(version) && version != kLatest) {
    return validation("functionVersion", version, "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)");
  }
  if (!resolve(name, version)) return not_found(fmt::format("Function not found: {}", arn(name, version)));
  fn.aliases[alias] = version;
  fn.alias_descriptions[alias] = req.value("Description", "");
  fn.alias_revisions[alias] = ids::request_id();
  save(name);
  return get_alias(name, alias);
}

Result<json> FunctionRegistry::get_alias(const std::string& name, const std::string& alias) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  auto it = fn.aliases.find(alias);
  if (it == fn.aliases.end()) return alias_not_found(arn(name, alias));
  auto& revision = fn.alias_revisions[alias];
  if (revision.empty()) revision = ids::request_id();
  return json{{"AliasArn", arn(name, alias)},
              {"Name", alias},
              {"FunctionVersion", it->second},
              {"Description", fn.alias_descriptions[alias]},
              {"RevisionId", revision}};
}

Result<json> FunctionRegistry::list_aliases(const std::string& name, const std::string& function_version) {
  auto found = lookup(name);
  if (!found) return found.error();
  json aliases = json::array();
  // A copy of the names: get_alias may add a revision to the maps.
  std::vector<std::pair<std::string, std::string>> all((*found)->aliases.begin(), (*found)->aliases.end());
  for (const auto& [alias, version] : all) {
    if (!function_version.empty() && version != function_version) continue;
    aliases.push_back(get_alias(name, alias).value());
  }
  return json{{"Aliases", std::move(aliases)}};
}

Result<json> FunctionRegistry::update_alias(const std::string& name, const std::string& alias, const json& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (!fn.aliases.count(alias)) return alias_not_found(arn(name, alias));
  if (req.contains("RevisionId") && req["RevisionId"].is_string() && req["RevisionId"] != fn.alias_revisions[alias]) {
    return Error{ErrorKind::kConflict, std::string(et::kPreconditionFailedException),
                 "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API "
                 "to retrieve the latest Revision Id"};
  }
  if (req.contains("FunctionVersion") && req["FunctionVersion"].is_string()) {
    const std::string version = req["FunctionVersion"].get<std::string>();
    if (version != kLatest && (!all_digits(version) || !resolve(name, version))) {
      return not_found(fmt::format("Function not found: {}", arn(name, version)));
    }
    fn.aliases[alias] = version;
  }
  if (req.contains("Description") && req["Description"].is_string()) {
    fn.alias_descriptions[alias] = req["Description"].get<std::string>();
  }
  fn.alias_revisions[alias] = ids::request_id();
  save(name);
  return get_alias(name, alias);
}

Status FunctionRegistry::delete_alias(const std::string& name, const std::string& alias) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  fn.aliases.erase(alias);
  fn.alias_descriptions.erase(alias);
  fn.alias_revisions.erase(alias);
  save(name);
  return Ok{};  // Lambda answers 204 for an alias that does not exist, too
}

json FunctionRegistry::account_settings() {
  std::uint64_t total_code = 0;
  int reserved = 0;
  for (auto& [name, fn] : records_) {
    ensure_digest(fn.latest);
    total_code += fn.latest.code_size;
    for (auto& [n, v] : fn.versions) {
      ensure_digest(v);
      total_code += v.code_size;
    }
    reserved += fn.reserved.value_or(0);
  }
  return json{{"AccountLimit",
               {{"TotalCodeSize", 80530636800LL},
                {"CodeSizeUnzipped", options_.limits.max_unzipped},
                {"CodeSizeZipped", options_.limits.max_zipped},
                {"ConcurrentExecutions", options_.account_concurrency},
                {"UnreservedConcurrentExecutions", std::max(0, options_.account_concurrency - reserved)}}},
              {"AccountUsage", {{"TotalCodeSize", total_code}, {"FunctionCount", records_.size()}}}};
}

}  // namespace lambdad::control_plane
