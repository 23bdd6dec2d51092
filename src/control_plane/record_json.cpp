#include "record_json.hpp"

#include <fmt/format.h>

namespace lambdad::control_plane {
namespace {

constexpr int kFormat = 1;

nlohmann::json config_to_json(const config::FunctionConfig& c) {
  nlohmann::json j = {{"name", c.name},
                      {"runtime", c.runtime},
                      {"handler", c.handler},
                      {"memoryMb", c.memory_mb},
                      {"timeoutSeconds", c.timeout_seconds},
                      {"environment", c.environment},
                      {"ephemeralStorageMb", c.ephemeral_storage_mb},
                      {"architectures", c.architectures},
                      {"layers", c.layers},
                      {"description", c.description}};
  if (c.tracing == config::TracingMode::kActive) j["tracing"] = "Active";
  if (c.snap_start) j["snapStart"] = true;
  if (c.tenant_isolation) j["tenantIsolation"] = true;
  if (c.durable) {
    j["durable"] = {{"executionTimeout", c.durable->execution_timeout_s}, {"retentionDays", c.durable->retention_days}};
  }
  if (const auto& m = c.managed_instances) {
    j["managedInstances"] = {{"capacityProviderArn", m->capacity_provider_arn},
                             {"memoryGiBPerVCpu", m->memory_gib_per_vcpu},
                             {"minEnvironments", m->min_environments}};
    if (m->per_environment_max_concurrency) j["managedInstances"]["maxConcurrency"] = *m->per_environment_max_concurrency;
    if (m->max_environments) j["managedInstances"]["maxEnvironments"] = *m->max_environments;
  }
  if (c.dead_letter) j["deadLetter"] = {{"type", c.dead_letter->type}, {"targetArn", c.dead_letter->target_arn}};
  const auto& l = c.logging;
  j["logging"] = {{"logFormat", l.log_format},
                  {"applicationLogLevel", l.application_log_level},
                  {"systemLogLevel", l.system_log_level},
                  {"logGroup", l.log_group}};
  return j;
}

config::FunctionConfig config_from_json(const nlohmann::json& j) {
  config::FunctionConfig c;
  c.name = j.at("name").get<std::string>();
  c.logical_id = c.name;
  c.runtime = j.at("runtime").get<std::string>();
  c.handler = j.value("handler", "");
  c.memory_mb = j.value("memoryMb", limits::kDefaultMemoryMb);
  c.timeout_seconds = j.value("timeoutSeconds", limits::kDefaultTimeoutSeconds);
  c.environment = j.value("environment", std::map<std::string, std::string>{});
  c.ephemeral_storage_mb = j.value("ephemeralStorageMb", 512);
  c.architectures = j.value("architectures", std::vector<std::string>{"x86_64"});
  c.layers = j.value("layers", std::vector<std::string>{});
  c.description = j.value("description", "");
  c.tracing = config::parse_tracing_mode(j.value("tracing", "")).value_or(config::TracingMode::kPassThrough);
  c.snap_start = j.value("snapStart", false);
  c.tenant_isolation = j.value("tenantIsolation", false);
  if (j.contains("durable") && j["durable"].is_object()) {
    c.durable = config::DurableConfig{j["durable"].value("executionTimeout", std::int64_t{0}),
                                      j["durable"].value("retentionDays", 14)};
  }
  if (j.contains("managedInstances") && j["managedInstances"].is_object()) {
    const auto& m = j["managedInstances"];
    config::ManagedInstancesConfig managed;
    managed.capacity_provider_arn = m.value("capacityProviderArn", "");
    managed.memory_gib_per_vcpu = m.value("memoryGiBPerVCpu", managed.memory_gib_per_vcpu);
    managed.min_environments = m.value("minEnvironments", managed.min_environments);
    if (m.contains("maxConcurrency")) managed.per_environment_max_concurrency = m["maxConcurrency"].get<int>();
    if (m.contains("maxEnvironments")) managed.max_environments = m["maxEnvironments"].get<int>();
    c.managed_instances = std::move(managed);
  }
  if (j.contains("deadLetter")) {
    c.dead_letter = config::DeadLetterConfig{j["deadLetter"].value("type", ""), j["deadLetter"].value("targetArn", "")};
  }
  if (j.contains("logging") && j["logging"].is_object()) {  // absent from records written before LoggingConfig
    const auto& l = j["logging"];
    c.logging = config::LoggingConfig{l.value("logFormat", "Text"), l.value("applicationLogLevel", ""),
                                      l.value("systemLogLevel", ""), l.value("logGroup", "")};
  }
  return c;
}

nlohmann::json version_to_json(const VersionRecord& v) {
  return {{"config", config_to_json(v.config)}, {"codeSha256", v.code_sha256}, {"codeSize", v.code_size},
          {"codeHex", v.code_hex},              {"role", v.role},               {"revisionId", v.revision_id},
          {"lastModified", v.last_modified},    {"sourceRevision", v.source_revision}};
}

VersionRecord version_from_json(const nlohmann::json& j, const std::filesystem::path& code_root) {
  VersionRecord v;
  v.config = config_from_json(j.at("config"));
  v.code_sha256 = j.value("codeSha256", "");
  v.code_size = j.value("codeSize", std::uint64_t{0});
  v.code_hex = j.value("codeHex", "");
  v.config.code_dir = code_root / v.code_hex;
  v.role = j.value("role", "");
  v.revision_id = j.value("revisionId", "");
  v.last_modified = j.value("lastModified", "");
  v.source_revision = j.value("sourceRevision", "");
  return v;
}

nlohmann::json destination_to_json(const std::optional<config::EventDestination>& d) {
  if (!d) return nullptr;
  return {{"type", d->type}, {"destination", d->destination}};
}

std::optional<config::EventDestination> destination_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  return config::EventDestination{j.value("type", ""), j.value("destination", "")};
}

nlohmann::json strings(const std::vector<std::string>& v) { return v; }

nlohmann::json url_to_json(const FunctionUrlRecord& u) {
  const auto& c = u.config;
  nlohmann::json j = {{"qualifier", c.qualifier},
                      {"authType", c.auth_type == config::FunctionUrl::AuthType::kAwsIam ? "AWS_IAM" : "NONE"},
                      {"invokeMode",
                       c.invoke_mode == config::FunctionUrl::InvokeMode::kResponseStream ? "RESPONSE_STREAM" : "BUFFERED"},
                      {"creationTime", u.creation_time},
                      {"lastModifiedTime", u.last_modified_time}};
  if (c.cors) {
    j["cors"] = {{"allowOrigins", strings(c.cors->allow_origins)},
                 {"allowMethods", strings(c.cors->allow_methods)},
                 {"allowHeaders", strings(c.cors->allow_headers)},
                 {"exposeHeaders", strings(c.cors->expose_headers)},
                 {"allowCredentials", c.cors->allow_credentials}};
    if (c.cors->max_age_seconds) j["cors"]["maxAge"] = *c.cors->max_age_seconds;
  }
  return j;
}

FunctionUrlRecord url_from_json(const nlohmann::json& j, const std::string& function_name) {
  FunctionUrlRecord u;
  u.config.function_name = function_name;
  u.config.qualifier = j.value("qualifier", "");
  u.config.auth_type = j.value("authType", "NONE") == "AWS_IAM" ? config::FunctionUrl::AuthType::kAwsIam
                                                                 : config::FunctionUrl::AuthType::kNone;
  u.config.invoke_mode = j.value("invokeMode", "BUFFERED") == "RESPONSE_STREAM"
                             ? config::FunctionUrl::InvokeMode::kResponseStream
                             : config::FunctionUrl::InvokeMode::kBuffered;
  u.creation_time = j.value("creationTime", "");
  u.last_modified_time = j.value("lastModifiedTime", "");
  if (j.contains("cors") && j["cors"].is_object()) {
    const auto& c = j["cors"];
    config::HttpCors cors;
    cors.allow_origins = c.value("allowOrigins", std::vector<std::string>{});
    cors.allow_methods = c.value("allowMethods", std::vector<std::string>{});
    cors.allow_headers = c.value("allowHeaders", std::vector<std::string>{});
    cors.expose_headers = c.value("exposeHeaders", std::vector<std::string>{});
    cors.allow_credentials = c.value("allowCredentials", false);
    if (c.contains("maxAge")) cors.max_age_seconds = c["maxAge"].get<int>();
    u.config.cors = std::move(cors);
  }
  return u;
}

}  // namespace

std::string_view state_name(FunctionState s) {
  switch (s) {
    case FunctionState::kPending: return "Pending";
    case FunctionState::kActive: return "Active";
    case FunctionState::kFailed: return "Failed";
  }
  return "Active";
}

std::string_view update_status_name(UpdateStatus s) {
  switch (s) {
    case UpdateStatus::kSuccessful: return "Successful";
    case UpdateStatus::kInProgress: return "InProgress";
    case UpdateStatus::kFailed: return "Failed";
  }
  return "Successful";
}

void ensure_digest(const VersionRecord& v) {
  if (!v.code_sha256.empty() || !v.code_hex.empty()) return;
  if (auto d = digest_directory(v.config.code_dir)) {
    v.code_sha256 = d->sha256_base64;
    v.code_size = d->size;
  }
}

nlohmann::json record_to_json(const FunctionRecord& fn) {
  nlohmann::json versions = nlohmann::json::object();
  for (const auto& [n, v] : fn.versions) versions[std::to_string(n)] = version_to_json(v);
  nlohmann::json j = {{"format", kFormat},
                      {"latest", version_to_json(fn.latest)},
                      {"versions", std::move(versions)},
                      {"aliases", fn.aliases},
                      {"aliasDescriptions", fn.alias_descriptions},
                      {"aliasRevisions", fn.alias_revisions},
                      {"tags", fn.tags},
                      {"state", state_name(fn.state)},
                      {"stateReason", fn.state_reason},
                      {"stateReasonCode", fn.state_reason_code},
                      {"lastVersion", fn.last_version}};
  if (!fn.urls.empty()) {
    nlohmann::json urls = nlohmann::json::array();
    for (const auto& [qualifier, url] : fn.urls) urls.push_back(url_to_json(url));
    j["functionUrls"] = std::move(urls);
  }
  if (fn.reserved) j["reservedConcurrency"] = *fn.reserved;
  if (fn.event_invoke_config) {
    const auto& e = *fn.event_invoke_config;
    j["eventInvokeConfig"] = {{"maximumEventAgeSeconds", e.maximum_event_age_seconds},
                              {"maximumRetryAttempts", e.maximum_retry_attempts},
                              {"onSuccess", destination_to_json(e.on_success)},
                              {"onFailure", destination_to_json(e.on_failure)},
                              {"lastModified", fn.event_invoke_config_modified}};
  }
  return j;
}

Result<FunctionRecord> record_from_json(const nlohmann::json& j, const std::filesystem::path& code_root) {
  try {
    if (j.value("format", 0) != kFormat) {
      return Error{ErrorKind::kInvalidInput, {}, fmt::format("unknown format {}", j.value("format", 0))};
    }
    FunctionRecord fn;
    fn.latest = version_from_json(j.at("latest"), code_root);
    const nlohmann::json versions = j.value("versions", nlohmann::json::object());
    for (const auto& [n, v] : versions.items()) {
      fn.versions.emplace(std::stoi(n), version_from_json(v, code_root));
    }
    fn.aliases = j.value("aliases", std::map<std::string, std::string>{});
    fn.alias_descriptions = j.value("aliasDescriptions", std::map<std::string, std::string>{});
    // Absent from records written before aliases' RevisionIds were kept: the registry gives them new ones.
    fn.alias_revisions = j.value("aliasRevisions", std::map<std::string, std::string>{});
    fn.tags = j.value("tags", std::map<std::string, std::string>{});
    const std::string state = j.value("state", "Active");
    fn.state = state == "Failed" ? FunctionState::kFailed : state == "Pending" ? FunctionState::kPending
                                                                                : FunctionState::kActive;
    fn.state_reason = j.value("stateReason", "");
    fn.state_reason_code = j.value("stateReasonCode", "");
    fn.last_version = j.value("lastVersion", 0);
    for (const auto& u : j.value("functionUrls", nlohmann::json::array())) {
      auto url = url_from_json(u, fn.latest.config.name);
      fn.urls[url.config.qualifier] = std::move(url);
    }
    if (j.contains("reservedConcurrency")) fn.reserved = j["reservedConcurrency"].get<int>();
    if (j.contains("eventInvokeConfig")) {
      const auto& e = j["eventInvokeConfig"];
      config::EventInvokeConfig c;
      c.maximum_event_age_seconds = e.value("maximumEventAgeSeconds", config::kDefaultMaximumEventAgeSeconds);
      c.maximum_retry_attempts = e.value("maximumRetryAttempts", config::kDefaultMaximumRetryAttempts);
      c.on_success = destination_from_json(e.value("onSuccess", nlohmann::json()));
      c.on_failure = destination_from_json(e.value("onFailure", nlohmann::json()));
      fn.event_invoke_config = std::move(c);
      fn.event_invoke_config_modified = e.value("lastModified", 0.0);
    }
    fn.latest.config.reserved_concurrency = fn.reserved;
    fn.latest.config.event_invoke_config = fn.event_invoke_config;
    return fn;
  } catch (const std::exception& e) {
    return Error{ErrorKind::kInvalidInput, {}, e.what()};
  }
}

}  // namespace lambdad::control_plane
