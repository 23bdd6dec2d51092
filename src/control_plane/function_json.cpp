#include "function_json.hpp"

#include <fmt/format.h>

#include <array>
#include <string_view>

#include "lambdad/common/error_types.hpp"
#include "lambdad/observability/platform_log.hpp"
#include "record_json.hpp"

namespace lambdad::control_plane {
namespace {

using nlohmann::json;
namespace et = error_types;

constexpr std::string_view kInfo = "INFO";

}  // namespace

Error validation(std::string_view member, const std::string& value, std::string_view constraint) {
  return Error{ErrorKind::kInvalidInput, std::string(et::kValidationException),
               fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}", value,
                           member, constraint)};
}

json logging_config_json(const config::FunctionConfig& c) {
  const auto& l = c.logging;
  json j = {{"LogFormat", l.log_format}, {"LogGroup", l.log_group.empty() ? "/aws/lambda/" + c.name : l.log_group}};
  if (l.log_format == "JSON") {
    j["ApplicationLogLevel"] = l.application_log_level.empty() ? std::string(kInfo) : l.application_log_level;
    j["SystemLogLevel"] = l.system_log_level.empty() ? std::string(kInfo) : l.system_log_level;
  }
  return j;
}

Status apply_logging_config(const json& request, config::LoggingConfig& logging) {
  if (!request.contains("LoggingConfig") || !request["LoggingConfig"].is_object()) return Ok{};
  const json& req = request["LoggingConfig"];
  config::LoggingConfig next = logging;
  // Each member: its key, its name in messages, where it goes, Lambda's enum ("" = any text).
  struct Member {
    std::string_view key, member;
    std::string* field;
    std::string_view allowed;
  };
  const std::array<Member, 4> members = {{
      {"LogFormat", "loggingConfig.logFormat", &next.log_format, "JSON, Text"},
      {"ApplicationLogLevel", "loggingConfig.applicationLogLevel", &next.application_log_level,
       "TRACE, DEBUG, INFO, WARN, ERROR, FATAL"},
      {"SystemLogLevel", "loggingConfig.systemLogLevel", &next.system_log_level, "DEBUG, INFO, WARN"},
      {"LogGroup", "loggingConfig.logGroup", &next.log_group, ""},
  }};
  for (const auto& m : members) {
    const std::string key(m.key);
    if (!req.contains(key) || !req[key].is_string()) continue;
    const std::string value = req[key].get<std::string>();
    const std::string listed = fmt::format(", {}, ", m.allowed);
    if (!m.allowed.empty() && (value.empty() || listed.find(fmt::format(", {}, ", value)) == std::string::npos)) {
      return validation(m.member, value, fmt::format("Member must satisfy enum value set: [{}]", m.allowed));
    }
    *m.field = value;
  }
  if (next.log_format == "Text") {
    if (req.contains("ApplicationLogLevel") || req.contains("SystemLogLevel")) {
      return Error{ErrorKind::kInvalidInput, std::string(et::kInvalidParameterValueException),
                   "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or "
                   "change the LogFormat to \"Json\" and try again."};
    }
    next.application_log_level.clear();
    next.system_log_level.clear();
  }
  logging = std::move(next);
  return Ok{};
}

json configuration_json(const FunctionRecord& fn, const VersionRecord& v, const std::string& version,
                        const std::string& function_arn, const std::string& region, ConfigurationView view) {
  const auto& c = v.config;
  const bool latest = version == config::kLatest;
  json j = {{"FunctionName", c.name}, {"FunctionArn", function_arn}, {"Runtime", c.runtime}, {"Role", v.role}};
  if (!c.handler.empty()) j["Handler"] = c.handler;
  j["CodeSize"] = v.code_size;
  j["Description"] = c.description;
  j["Timeout"] = c.timeout_seconds;
  j["MemorySize"] = c.memory_mb;
  j["LastModified"] = v.last_modified;
  j["CodeSha256"] = v.code_sha256;
  j["Version"] = version;
  if (!c.environment.empty()) j["Environment"] = {{"Variables", c.environment}};
  if (c.dead_letter) j["DeadLetterConfig"] = {{"TargetArn", c.dead_letter->target_arn}};
  j["TracingConfig"] = {{"Mode", config::tracing_mode_name(c.tracing)}};
  j["RevisionId"] = v.revision_id;
  if (!c.layers.empty()) {
    json layers = json::array();
    for (const auto& l : c.layers) layers.push_back({{"Arn", l}, {"CodeSize", 0}});
    j["Layers"] = std::move(layers);
  }
  if (view == ConfigurationView::kFull) {
    const FunctionState state = latest ? fn.state : FunctionState::kActive;
    j["State"] = state_name(state);
    if (latest && !fn.state_reason.empty()) j["StateReason"] = fn.state_reason;
    if (latest && !fn.state_reason_code.empty()) j["StateReasonCode"] = fn.state_reason_code;
    if (state != FunctionState::kPending) {
      const UpdateStatus update = latest ? fn.last_update : UpdateStatus::kSuccessful;
      j["LastUpdateStatus"] = update_status_name(update);
      if (latest && !fn.last_update_reason.empty()) j["LastUpdateStatusReason"] = fn.last_update_reason;
      if (latest && !fn.last_update_reason_code.empty()) j["LastUpdateStatusReasonCode"] = fn.last_update_reason_code;
    }
  }
  j["PackageType"] = "Zip";
  j["Architectures"] = c.architectures;
  j["EphemeralStorage"] = {{"Size", c.ephemeral_storage_mb}};
  j["SnapStart"] = {{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}};
  j["LoggingConfig"] = logging_config_json(c);
  // Every runtime lambdad runs is a managed one (provided.* too: Lambda versions those as well).
  j["RuntimeVersionConfig"] = {{"RuntimeVersionArn", observability::runtime_version_arn(c.runtime, region)}};
  return j;
}

}  // namespace lambdad::control_plane
