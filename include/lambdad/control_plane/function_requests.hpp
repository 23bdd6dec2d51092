// control_plane: the registry's commands as typed requests (docs/decisions/016). The control
// routes build them from the AWS JSON and have already checked what the request alone decides
// (types, ranges, enums, patterns); what depends on the functions as they are (a name taken, an
// update in progress, a stale revision, the unreserved minimum) the registry checks.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lambdad/config/function_config.hpp"
#include "lambdad/config/http_apis.hpp"

namespace lambdad::control_plane {

// The members of a LoggingConfig a request gives; the rest keep their current values.
struct LoggingConfigChange {
  std::optional<std::string> log_format;
  std::optional<std::string> application_log_level;
  std::optional<std::string> system_log_level;
  std::optional<std::string> log_group;
  bool names_a_level = false;  // ApplicationLogLevel or SystemLogLevel is in the request at all
};

// The settings CreateFunction and UpdateFunctionConfiguration share; an absent one is unchanged.
struct ConfigurationChange {
  std::optional<std::string> runtime;
  std::optional<std::string> handler;
  std::optional<std::string> role;
  std::optional<std::string> description;
  std::optional<int> timeout_seconds;
  std::optional<int> memory_mb;
  std::optional<int> ephemeral_storage_mb;
  std::optional<std::map<std::string, std::string>> environment;
  std::optional<std::optional<config::DeadLetterConfig>> dead_letter;  // holding nullopt: removed
  std::optional<LoggingConfigChange> logging;
  std::optional<config::TracingMode> tracing;
  std::optional<std::vector<std::string>> layers;
  std::optional<bool> snap_start;  // SnapStart.ApplyOn: PublishedVersions (true) or None
  // CapacityProviderConfig: its ARN, concurrency and memory per vCPU (the scaling bounds are
  // PutFunctionScalingConfig's). Given at creation; an update may change it, never add it.
  std::optional<config::ManagedInstancesConfig> managed_instances;
};

struct CreateFunctionRequest {
  std::string name;
  ConfigurationChange settings;  // settings.role is given
  std::optional<std::string> architecture;
  std::string zip;  // the archive's bytes (Code.ZipFile decoded)
  std::map<std::string, std::string> tags;
  bool publish = false;
  std::optional<config::DurableConfig> durable;  // DurableConfig: chosen at creation only
  bool tenant_isolation = false;                 // TenancyConfig PER_TENANT: at creation only
};

struct UpdateCodeRequest {
  std::string zip;
  std::optional<std::string> architecture;
  std::optional<std::string> revision_id;
  bool dry_run = false;
  bool publish = false;
};

struct UpdateConfigurationRequest {
  ConfigurationChange settings;
  std::optional<std::string> revision_id;
};

struct PublishVersionRequest {
  std::optional<std::string> code_sha256;
  std::optional<std::string> description;  // absent: $LATEST's
  std::optional<std::string> revision_id;
};

// PutFunctionEventInvokeConfig replaces the configuration; Update merges these into it.
struct EventInvokeConfigChange {
  std::optional<int> maximum_retry_attempts;
  std::optional<int> maximum_event_age_seconds;
  std::optional<std::optional<config::EventDestination>> on_success;  // holding nullopt: none
  std::optional<std::optional<config::EventDestination>> on_failure;
};

struct CreateAliasRequest {
  std::string name;
  std::string function_version;  // "$LATEST" or digits
  std::string description;
};

struct UpdateAliasRequest {
  std::optional<std::string> function_version;
  std::optional<std::string> description;
  std::optional<std::string> revision_id;
};

// CreateFunctionUrlConfig (auth_type is given) and UpdateFunctionUrlConfig (what is given replaces).
struct FunctionUrlChange {
  std::optional<config::FunctionUrl::AuthType> auth_type;
  std::optional<config::HttpCors> cors;
  std::optional<config::FunctionUrl::InvokeMode> invoke_mode;
};

}  // namespace lambdad::control_plane
