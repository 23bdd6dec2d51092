#include "lambdad/control_plane/function_registry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <set>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/io_thread.hpp"
#include "lambdad/config/function_names.hpp"
#include "lambdad/invocation/invocation.hpp"
#include "lambdad/observability/logging.hpp"
#include "errors.hpp"

namespace lambdad::control_plane {
namespace fs = std::filesystem;
namespace et = error_types;

namespace {

constexpr std::string_view kLatest = config::kLatest;

Error no_event_invoke_config(const std::string& function_arn) {
  return not_found(fmt::format("The function {} doesn't have an EventInvokeConfig", function_arn));
}

// A request's LoggingConfig merged into `logging`: the members it gives replace the current ones;
// Text drops the levels, and a level with Text is refused as Lambda refuses it.
Status apply_logging(const LoggingConfigChange& change, config::LoggingConfig& logging) {
  config::LoggingConfig next = logging;
  if (change.log_format) next.log_format = *change.log_format;
  if (change.application_log_level) next.application_log_level = *change.application_log_level;
  if (change.system_log_level) next.system_log_level = *change.system_log_level;
  if (change.log_group) next.log_group = *change.log_group;
  if (next.log_format == "Text") {
    if (change.names_a_level) {
      return invalid(
          "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or "
          "change the LogFormat to \"Json\" and try again.");
    }
    next.application_log_level.clear();
    next.system_log_level.clear();
  }
  logging = std::move(next);
  return Ok{};
}

// The settings CreateFunction and UpdateFunctionConfiguration share, applied to `v`.
Status apply_settings(const ConfigurationChange& s, VersionRecord& v) {
  auto& c = v.config;
  if (s.runtime) c.runtime = *s.runtime;
  if (s.handler) c.handler = *s.handler;
  if (s.role) v.role = *s.role;
  if (s.description) c.description = *s.description;
  if (s.timeout_seconds) c.timeout_seconds = *s.timeout_seconds;
  if (s.memory_mb) c.memory_mb = *s.memory_mb;
  if (s.ephemeral_storage_mb) c.ephemeral_storage_mb = *s.ephemeral_storage_mb;
  if (s.environment) c.environment = *s.environment;
  if (s.dead_letter) c.dead_letter = *s.dead_letter;
  if (s.logging) {
    if (auto st = apply_logging(*s.logging, c.logging); !st) return st;
  }
  if (s.tracing) c.tracing = *s.tracing;
  if (s.layers) c.layers = *s.layers;
  if (s.snap_start) c.snap_start = *s.snap_start;
  if (s.managed_instances) {
    // The scaling bounds stay: CapacityProviderConfig does not carry them.
    const auto kept = c.managed_instances.value_or(config::ManagedInstancesConfig{});
    c.managed_instances = *s.managed_instances;
    c.managed_instances->min_environments = kept.min_environments;
    c.managed_instances->max_environments = kept.max_environments;
  }
  // Lambda refuses SnapStart for a runtime without it, whichever of the two changed.
  if (c.snap_start) {
    if (auto refusal = config::snap_start_refusal(c.runtime)) return invalid(*refusal);
  }
  // Likewise what managed instances do not take (a runtime, too little memory, SnapStart).
  if (auto refusal = config::managed_instances_refusal(c)) return invalid(*refusal);
  // They log JSON only: Lambda sets the format itself and refuses Text.
  if (c.managed_instances) {
    if (s.logging && s.logging->log_format == "Text") {
      return invalid(std::string(config::kManagedInstancesLogFormat));
    }
    c.logging.log_format = "JSON";
  }
  return Ok{};
}

// Lambda wants both for every function of a zip archive, a custom runtime's too.
Status check_complete(const config::FunctionConfig& c) {
  if (c.runtime.empty() || c.handler.empty()) {
    return invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
  }
  return Ok{};
}

std::string format_time(std::int64_t epoch_ms) {
  std::time_t t = epoch_ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, epoch_ms % 1000);
}

}  // namespace

FunctionRegistry::FunctionRegistry(const Clock& clock, Post post, BlockingPool& blocking, RegistryOptions options)
    : clock_(clock), post_(std::move(post)), blocking_(blocking), options_(std::move(options)),
      store_(options_.functions_dir, options_.durable), writer_(blocking_, store_) {
  started_at_ = now_text();
}

FunctionRegistry::~FunctionRegistry() {
  lifetime_.end();
  shutdown();
}

void FunctionRegistry::shutdown() {
  blocking_.wait_idle();
  writer_.flush();
}

void FunctionRegistry::when_stored(std::function<void()> then) {
  LAMBDAD_ASSERT_IO_THREAD();
  writer_.when_written(std::move(then));
}

std::string FunctionRegistry::now_text() const { return format_time(clock_.epoch_ms()); }

std::string FunctionRegistry::arn(const std::string& name, const std::string& qualifier) const {
  return invocation::function_arn(options_.region, options_.account_id, name, qualifier);
}

const FunctionRecord* FunctionRegistry::find(const std::string& name) const {
  auto it = records_.find(name);
  return it == records_.end() ? nullptr : &it->second;
}

std::size_t FunctionRegistry::load_stored() {
  LAMBDAD_ASSERT_IO_THREAD();
  if (options_.functions_dir.empty()) return 0;
  auto log = observability::daemon_log();
  std::size_t loaded = 0;
  for (auto& [name, fn] : store_.load()) {
    if (records_.count(name)) {
      log->warn("the template defines {}; the function of that name created through the API (in {}) is not loaded",
                name, (store_.dir() / name).string());
      continue;
    }
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
    store_.remove_unused_code(name, used);
    // A record written before aliases' RevisionIds were kept: they get theirs now, and keep them.
    bool new_revisions = false;
    for (const auto& [alias, version] : fn.aliases) {
      auto& revision = fn.alias_revisions[alias];
      if (revision.empty()) {
        revision = ids::request_id();
        new_revisions = true;
      }
    }
    const bool active = fn.state == FunctionState::kActive;
    const auto& stored = records_[name] = std::move(fn);
    if (new_revisions) save(name);
    if (active) {
      tell_function(name, stored);
    } else {
      tell_event_settings(name, stored);
      for (const auto& [qualifier, url] : stored.urls) tell(UrlPut{url.config});
    }
    ++loaded;
  }
  if (loaded > 0) log->info("loaded {} function(s) created through the API from {}", loaded, store_.dir().string());
  return loaded;
}

void FunctionRegistry::save(const std::string& name) {
  auto it = records_.find(name);
  if (it == records_.end() || it->second.from_template || options_.functions_dir.empty()) return;
  writer_.save(name, FunctionStore::record_text(it->second));
}

void FunctionRegistry::tell(const CatalogueChange& change) const {
  for (const auto& subscriber : subscribers_) subscriber(change);
}

void FunctionRegistry::tell_function(const std::string& name, const FunctionRecord& fn) const {
  const std::string latest(kLatest);
  tell(VersionPut{fn.latest.config, latest});
  for (const auto& [number, v] : fn.versions) {
    const std::string version = std::to_string(number);
    tell(VersionPut{v.config, version});
  }
  tell_event_settings(name, fn);
  for (const auto& [qualifier, url] : fn.urls) tell(UrlPut{url.config});
}

void FunctionRegistry::tell_event_settings(const std::string& name, const FunctionRecord& fn) const {
  tell(EventSettingsChanged{name, fn.event_invoke_config, fn.latest.config.dead_letter, fn.reserved});
}

// --- what the scheduler resolves with ---------------------------------------------------------

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

const config::FunctionConfig* FunctionRegistry::version_config(const std::string& name, const std::string& version) const {
  auto it = records_.find(name);
  if (it == records_.end()) return nullptr;
  const auto& fn = it->second;
  const VersionRecord* v = &fn.latest;
  if (version != kLatest && all_digits(version) && version.size() < 10) {
    auto found = fn.versions.find(std::stoi(version));
    if (found != fn.versions.end()) v = &found->second;
  }
  return &v->config;
}

bool FunctionRegistry::tracing_active(const std::string& name, const std::string& version) const {
  const auto* c = version_config(name, version);
  return c != nullptr && c->tracing == config::TracingMode::kActive;
}

bool FunctionRegistry::tenant_isolated(const std::string& name, const std::string& version) const {
  const auto* c = version_config(name, version);
  return c != nullptr && c->tenant_isolation;
}

std::optional<config::DurableConfig> FunctionRegistry::durable_config(const std::string& name,
                                                                      const std::string& version) const {
  const auto* c = version_config(name, version);
  return c != nullptr ? c->durable : std::nullopt;
}

// --- reading ----------------------------------------------------------------------------------

Result<FunctionRecord*> FunctionRegistry::lookup(const std::string& name, const std::string& qualifier_for_message) {
  LAMBDAD_ASSERT_IO_THREAD();  // every operation on one function starts here
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

VersionView FunctionRegistry::view(const FunctionRecord& fn, const std::string& version) const {
  const VersionRecord* v = version == kLatest ? &fn.latest : &fn.versions.at(std::stoi(version));
  return VersionView{&fn, v, version};
}

Result<VersionView> FunctionRegistry::get_configuration(const std::string& name, const std::string& qualifier) {
  auto fn = lookup(name);
  if (!fn) return fn.error();
  if (auto v = version_of(**fn, qualifier); !v) return v.error();
  return view(**fn, *resolve(name, qualifier));
}

Result<FunctionView> FunctionRegistry::get_function(const std::string& name, const std::string& qualifier) {
  auto cfg = get_configuration(name, qualifier);
  if (!cfg) return cfg.error();
  const VersionRecord& ver = *cfg->version;
  std::string location = ver.code_hex.empty() ? "file://" + ver.config.code_dir.string()
                                              : "file://" + store_.zip_path(name, ver.code_hex).string();
  return FunctionView{std::move(*cfg), std::move(location)};
}

std::vector<VersionView> FunctionRegistry::list_functions(bool all_versions) const {
  LAMBDAD_ASSERT_IO_THREAD();
  std::vector<VersionView> entries;
  for (const auto& [name, fn] : records_) {
    entries.push_back(view(fn, std::string(kLatest)));
    if (all_versions) {
      for (const auto& [n, v] : fn.versions) entries.push_back(view(fn, std::to_string(n)));
    }
  }
  return entries;
}

Result<std::vector<VersionView>> FunctionRegistry::list_versions(const std::string& name) {
  auto found = lookup(name);
  if (!found) return found.error();
  const auto& fn = **found;
  std::vector<VersionView> versions{view(fn, std::string(kLatest))};
  for (const auto& [n, v] : fn.versions) versions.push_back(view(fn, std::to_string(n)));
  return versions;
}

// --- creating and changing --------------------------------------------------------------------

std::uint64_t FunctionRegistry::unpack_async(const std::string& name, std::string zip, const std::string& hex,
                                             bool creating, bool publish, std::optional<VersionRecord> prior) {
  const std::uint64_t job = next_job_++;
  // The job works on copies (the store is a directory and a flag) and touches nothing but files.
  auto unpack = [this, name, zip = std::move(zip), hex, job, creating, publish, prior = std::move(prior)]() mutable {
    blocking_.run(
        lifetime_.token(),
        [store = store_, name, zip = std::move(zip), hex, limits = options_.limits] {
          return store.store_code(name, zip, hex, limits);
        },
        [this, name, job, creating, publish, prior = std::move(prior)](Status unpacked) mutable {
          code_ready(name, job, std::move(unpacked), creating, publish, std::move(prior));
        });
  };
  if (!writer_.removing(name)) {
    unpack();
    return job;
  }
  // A function of this name was deleted just before: its directory goes to the trash first, or
  // the new code would go with it.
  writer_.after_removal(name, [this, name, job, unpack = std::move(unpack)]() mutable {
    auto it = records_.find(name);
    if (it == records_.end() || it->second.job != job) return;  // deleted, or replaced since
    unpack();
  });
  return job;
}

void FunctionRegistry::code_ready(const std::string& name, std::uint64_t job, Status unpacked, bool creating,
                                  bool publish, std::optional<VersionRecord> prior) {
  LAMBDAD_ASSERT_IO_THREAD();  // the blocking pool posted it here
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
  const std::string latest(kLatest);
  tell(VersionPut{fn.latest.config, latest});
  tell_event_settings(name, fn);
}

Status FunctionRegistry::check_zip(const std::string& zip) const {
  return control_plane::check_zip(zip, options_.limits);
}

Result<VersionView> FunctionRegistry::create_function(CreateFunctionRequest req) {
  LAMBDAD_ASSERT_IO_THREAD();
  const std::string name = req.name;
  if (records_.count(name)) return conflict(fmt::format("Function already exist: {}", name));
  VersionRecord v;
  v.config.name = name;
  v.config.logical_id = name;
  if (auto st = apply_settings(req.settings, v); !st) return st.error();
  v.config.durable = req.durable;
  v.config.tenant_isolation = req.tenant_isolation;
  if (auto st = check_complete(v.config); !st) return st.error();
  if (req.architecture) v.config.architectures = {*req.architecture};
  if (auto st = check_zip(req.zip); !st) return st.error();

  FunctionRecord fn;
  v.code_size = req.zip.size();
  v.code_sha256 = sha256_base64(req.zip);
  v.code_hex = sha256_hex(req.zip);
  v.config.code_dir = store_.code_dir(name, v.code_hex);
  v.revision_id = ids::request_id();
  v.last_modified = now_text();
  fn.latest = std::move(v);
  fn.tags = std::move(req.tags);
  fn.state = FunctionState::kPending;
  fn.state_reason = "The function is being created.";
  fn.state_reason_code = "Creating";
  const std::string hex = fn.latest.code_hex;
  records_[name] = std::move(fn);
  auto& stored = records_[name];
  save(name);
  stored.job = unpack_async(name, std::move(req.zip), hex, true, req.publish, std::nullopt);
  return view(stored, std::string(kLatest));
}

Status FunctionRegistry::may_change(const FunctionRecord& fn, const std::string& name,
                                    const std::optional<std::string>& revision_id) const {
  // One change at a time, and none while the function is being created. (A Failed one may get
  // new code.)
  if (fn.job != 0 || fn.last_update == UpdateStatus::kInProgress || fn.state == FunctionState::kPending) {
    return conflict(fmt::format(
        "The operation cannot be performed at this time. An update is in progress for resource: {}", arn(name)));
  }
  if (revision_id && *revision_id != fn.latest.revision_id) return precondition_failed();
  return Ok{};
}

Result<VersionView> FunctionRegistry::update_code(const std::string& name, UpdateCodeRequest req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto st = may_change(fn, name, req.revision_id); !st) return st.error();
  if (auto st = check_zip(req.zip); !st) return st.error();
  if (req.dry_run) return view(fn, std::string(kLatest));
  VersionRecord prior = fn.latest;
  fn.latest.code_size = req.zip.size();
  fn.latest.code_sha256 = sha256_base64(req.zip);
  fn.latest.code_hex = sha256_hex(req.zip);
  fn.latest.config.code_dir = store_.code_dir(name, fn.latest.code_hex);
  if (req.architecture) fn.latest.config.architectures = {*req.architecture};
  fn.latest.revision_id = ids::request_id();
  fn.latest.last_modified = now_text();
  fn.last_update = UpdateStatus::kInProgress;
  fn.last_update_reason = "The function is being updated.";
  fn.last_update_reason_code.clear();
  const std::string hex = fn.latest.code_hex;
  fn.job = unpack_async(name, std::move(req.zip), hex, false, req.publish, std::move(prior));
  return view(fn, std::string(kLatest));
}

Result<VersionView> FunctionRegistry::update_configuration(const std::string& name,
                                                           const UpdateConfigurationRequest& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto st = may_change(fn, name, req.revision_id); !st) return st.error();
  // A function's compute type is chosen when it is created (SAM's CapacityProviderConfig docs).
  if (req.settings.managed_instances && !fn.latest.config.managed_instances) {
    return invalid(
        "CapacityProviderConfig cannot be added to a function created without one: a function's compute type "
        "is chosen when it is created.");
  }
  VersionRecord next = fn.latest;
  if (auto st = apply_settings(req.settings, next); !st) return st.error();
  if (auto st = check_complete(next.config); !st) return st.error();
  next.revision_id = ids::request_id();
  next.last_modified = now_text();
  fn.latest = std::move(next);
  fn.last_update = UpdateStatus::kInProgress;
  fn.last_update_reason = "The function is being updated.";
  // Applied on the next turn of the event loop, as the code of an update is when unpacked.
  const std::uint64_t job = next_job_++;
  fn.job = job;
  post_([this, alive = lifetime_.token(), name, job] {
    if (!alive) return;
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
  return view(fn, std::string(kLatest));
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
  const auto& published = fn.versions.emplace(number, v).first->second;
  const std::string version = std::to_string(number);
  tell(VersionPut{published.config, version});
  observability::daemon_log()->info("[{}] published version {} ({})", name, number, v.code_sha256);
  return number;
}

Result<VersionView> FunctionRegistry::publish_version(const std::string& name, const PublishVersionRequest& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto st = may_change(fn, name, req.revision_id); !st) return st.error();
  if (fn.state != FunctionState::kActive) {
    return conflict(fmt::format(
        "The operation cannot be performed at this time. The function is currently in the following state: {}",
        state_name(fn.state)));
  }
  ensure_digest(fn.latest);
  if (req.code_sha256 && *req.code_sha256 != fn.latest.code_sha256) {
    return invalid(fmt::format(
        "CodeSHA256 ({}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the current "
        "CodeSHA256.",
        *req.code_sha256, fn.latest.code_sha256));
  }
  auto number = publish(fn, name, req.description.value_or(fn.latest.config.description));
  if (!number) return number.error();
  save(name);
  return view(fn, std::to_string(*number));
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
    tell(VersionRemoved{name, qualifier});
    save(name);
    return Ok{};
  }
  const bool from_template = fn.from_template;
  records_.erase(name);
  template_definitions_.erase(name);
  tell(FunctionRemoved{name});
  if (!from_template) {
    writer_.remove(name);
  }
  observability::daemon_log()->info("[{}] deleted", name);
  return Ok{};
}

// --- concurrency ------------------------------------------------------------------------------

Status FunctionRegistry::check_reservations(int reserved, int account_concurrency, std::string_view detail) {
  if (account_concurrency - reserved >= kMinimumUnreserved) return Ok{};
  return invalid(fmt::format(
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below "
      "its minimum value of [{}].{}",
      kMinimumUnreserved, detail));
}

namespace {

// Reserved concurrency belongs to the function, not to a version or alias.
Status unqualified(const std::string& qualifier) {
  if (qualifier.empty()) return Ok{};
  return invalid(
      "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. "
      "Please specify either a function name or an unqualified function ARN.");
}

}  // namespace

Result<int> FunctionRegistry::put_concurrency(const std::string& name, int reserved, const std::string& qualifier) {
  if (auto st = unqualified(qualifier); !st) return st.error();
  auto found = lookup(name, std::string(kLatest));
  if (!found) return found.error();
  auto& fn = **found;
  int others = 0;
  for (const auto& [n, r] : records_) {
    if (n != name) others += r.reserved.value_or(0);
  }
  if (reserved > 0) {
    if (auto st = check_reservations(others + reserved, options_.account_concurrency); !st) return st.error();
  }
  fn.reserved = reserved;
  fn.latest.config.reserved_concurrency = reserved;
  event_settings_changed(name, fn);
  return reserved;
}

Result<std::optional<int>> FunctionRegistry::get_concurrency(const std::string& name, const std::string& qualifier) {
  if (auto st = unqualified(qualifier); !st) return st.error();
  auto found = lookup(name);
  if (!found) return found.error();
  return (*found)->reserved;
}

Status FunctionRegistry::delete_concurrency(const std::string& name, const std::string& qualifier) {
  if (auto st = unqualified(qualifier); !st) return st;
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  fn.reserved.reset();
  fn.latest.config.reserved_concurrency.reset();
  event_settings_changed(name, fn);
  return Ok{};
}

// --- Event invoke configuration ---------------------------------------------------------------

void FunctionRegistry::event_settings_changed(const std::string& name, const FunctionRecord& fn) {
  tell_event_settings(name, fn);
  save(name);
}

Result<FunctionRecord*> FunctionRegistry::event_invoke_target(const std::string& name, const std::string& qualifier,
                                                              bool needs_config) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (auto v = version_of(fn, qualifier); !v) return v.error();
  if (needs_config && !fn.event_invoke_config) {
    return no_event_invoke_config(arn(name, qualifier.empty() ? std::string(kLatest) : qualifier));
  }
  return &fn;
}

Result<EventInvokeConfigView> FunctionRegistry::put_event_invoke_config(const std::string& name,
                                                                        const std::string& qualifier,
                                                                        const EventInvokeConfigChange& change,
                                                                        bool merge) {
  auto found = event_invoke_target(name, qualifier, merge);
  if (!found) return found.error();
  auto& fn = **found;
  config::EventInvokeConfig c = merge ? *fn.event_invoke_config : config::EventInvokeConfig{};
  if (change.maximum_retry_attempts) c.maximum_retry_attempts = *change.maximum_retry_attempts;
  if (change.maximum_event_age_seconds) c.maximum_event_age_seconds = *change.maximum_event_age_seconds;
  if (change.on_success) c.on_success = *change.on_success;
  if (change.on_failure) c.on_failure = *change.on_failure;
  fn.event_invoke_config = c;
  fn.event_invoke_config_modified = static_cast<double>(clock_.epoch_ms()) / 1000.0;
  fn.latest.config.event_invoke_config = c;
  event_settings_changed(name, fn);
  return get_event_invoke_config(name, qualifier);
}

Result<EventInvokeConfigView> FunctionRegistry::get_event_invoke_config(const std::string& name,
                                                                        const std::string& qualifier) {
  auto found = event_invoke_target(name, qualifier, true);
  if (!found) return found.error();
  auto& fn = **found;
  return EventInvokeConfigView{*fn.event_invoke_config, fn.event_invoke_config_modified};
}

Status FunctionRegistry::delete_event_invoke_config(const std::string& name, const std::string& qualifier) {
  auto found = event_invoke_target(name, qualifier, true);
  if (!found) return found.error();
  auto& fn = **found;
  fn.event_invoke_config.reset();
  fn.latest.config.event_invoke_config.reset();
  event_settings_changed(name, fn);
  return Ok{};
}

int FunctionRegistry::unreserved_concurrency() const {
  int reserved = 0;
  for (const auto& [name, fn] : records_) reserved += fn.reserved.value_or(0);
  return std::max(0, options_.account_concurrency - reserved);
}

AccountSettings FunctionRegistry::account_settings() {
  LAMBDAD_ASSERT_IO_THREAD();
  std::uint64_t total_code = 0;
  for (auto& [name, fn] : records_) {
    ensure_digest(fn.latest);
    total_code += fn.latest.code_size;
    for (auto& [n, v] : fn.versions) {
      ensure_digest(v);
      total_code += v.code_size;
    }
  }
  return AccountSettings{options_.limits, options_.account_concurrency, unreserved_concurrency(), total_code,
                         records_.size()};
}

}  // namespace lambdad::control_plane
