// config: the immutable description of one function, as loaded from a SAM template (later also
// serverless.yml, CLI flags and the control plane).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/limits.hpp"

namespace lambdad::config {

// Lambda's defaults for Event invocations (PutFunctionEventInvokeConfig, lambda-spec §7).
inline constexpr int kDefaultMaximumEventAgeSeconds = 21600;
inline constexpr int kDefaultMaximumRetryAttempts = 2;

// Where the outcome of an Event invocation goes (EventInvokeConfig.DestinationConfig).
struct EventDestination {
  std::string type;         // "Lambda", "SQS", "SNS", "EventBridge" or "S3"
  std::string destination;  // an ARN; for Lambda also a function name (what !Ref of a function gives)
};

// SAM EventInvokeConfig: how Event invocations are retried and where their outcomes go.
struct EventInvokeConfig {
  int maximum_event_age_seconds = kDefaultMaximumEventAgeSeconds;
  int maximum_retry_attempts = kDefaultMaximumRetryAttempts;
  std::optional<EventDestination> on_success;
  std::optional<EventDestination> on_failure;
};

// SAM DeadLetterQueue / Lambda DeadLetterConfig: receives the original event of a failed Event
// invocation.
struct DeadLetterConfig {
  std::string type;        // "SQS" or "SNS"
  std::string target_arn;
};

// Lambda LoggingConfig: the format of the function's logs and, for JSON, the levels kept. Empty
// levels and log group are Lambda's defaults (INFO, /aws/lambda/<name>).
struct LoggingConfig {
  std::string log_format = "Text";  // "Text" or "JSON"
  std::string application_log_level;  // JSON only: TRACE, DEBUG, INFO, WARN, ERROR or FATAL
  std::string system_log_level;       // JSON only: DEBUG, INFO or WARN
  std::string log_group;
  bool operator==(const LoggingConfig&) const = default;
};
// TracingConfig.Mode (SAM: Tracing). Active: an invocation that arrives without a caller's
// sampling decision is sampled, and the function's X-Ray SDK sends its segments to the daemon.
// PassThrough: only a caller's sampled trace is recorded.
enum class TracingMode { kPassThrough, kActive };
std::string_view tracing_mode_name(TracingMode mode);  // "PassThrough" / "Active"
// "Active" / "PassThrough" (exact, as Lambda's enum), else nullopt.
std::optional<TracingMode> parse_tracing_mode(std::string_view text);

// DurableConfig (lambda-spec §10.1): the function is durable, its invocations start durable
// executions (docs/decisions/026).
struct DurableConfig {
  std::int64_t execution_timeout_s = 0;  // ExecutionTimeout, 1 to 31622400 (0: none given)
  int retention_days = 14;               // RetentionPeriodInDays, 1 to 90
  bool operator==(const DurableConfig&) const = default;
};
inline constexpr std::int64_t kMaxDurableExecutionTimeoutSeconds = 31622400;

// CapacityProviderConfig (lambda-spec §11): the function runs in Lambda Managed Instances mode,
// one environment serving up to max_concurrency invokes at once (docs/decisions/028), with
// FunctionScalingConfig's bounds on its environments.
struct ManagedInstancesConfig {
  std::string capacity_provider_arn;  // CapacityProviderArn (SAM's short form: Arn)
  // PerExecutionEnvironmentMaxConcurrency, 1 to 1600; unset: the runtime's default per vCPU.
  std::optional<int> per_environment_max_concurrency;
  // ExecutionEnvironmentMemoryGiBPerVCpu (SAM's short form: ExecutionEnvironmentMemoryToVCpuRatio),
  // 2.0 to 8.0.
  double memory_gib_per_vcpu = 2.0;
  // FunctionScalingConfig, 0 to 15000 each. Locally at least one environment is kept (there is
  // no cold start in this mode); unset max: as many as the function's concurrency allows.
  int min_environments = 1;
  std::optional<int> max_environments;
  bool operator==(const ManagedInstancesConfig&) const = default;
};
inline constexpr int kMaxPerEnvironmentConcurrency = 1600;
inline constexpr int kMaxScalingEnvironments = 15000;

struct FunctionConfig {
  std::string name;        // the name clients invoke: FunctionName if set and literal, else the logical id
  std::string logical_id;  // the template's resource key (serverless.yml: the Framework's, OrdersLambdaFunction)
  std::string short_name;  // serverless.yml: the key under functions:; empty for SAM (function_names.hpp)
  std::string runtime;     // "python3.12", "nodejs20.x", "provided.al2023", ...
  std::string handler;     // "app.handler"; may be empty for provided runtimes
  std::filesystem::path code_dir;  // absolute path of CodeUri
  int memory_mb = limits::kDefaultMemoryMb;
  int timeout_seconds = limits::kDefaultTimeoutSeconds;
  std::map<std::string, std::string> environment;  // Environment.Variables, resolved to strings
  std::optional<int> reserved_concurrency;          // ReservedConcurrentExecutions
  // AutoPublishAlias: the alias that names the published version (kPublishedVersion); empty
  // when the function has only $LATEST.
  std::string auto_publish_alias;
  int provisioned_concurrency = 0;                  // ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions, on the alias
  int ephemeral_storage_mb = 512;                   // EphemeralStorage.Size: the size of /tmp
  std::vector<std::string> architectures{"x86_64"};
  // Layers, in order (a later layer's files win): their version ARNs, as GetFunction reports
  // them, and for layers the template defines locally their content directories, which the
  // environment sees at /opt. Functions from the control plane keep ARNs only (nothing to mount).
  std::vector<std::string> layers;
  std::vector<std::filesystem::path> layer_dirs;
  std::string description;
  std::optional<EventInvokeConfig> event_invoke_config;  // unset: Lambda's defaults, no destinations
  std::optional<DeadLetterConfig> dead_letter;
  LoggingConfig logging;
  TracingMode tracing = TracingMode::kPassThrough;
  // SnapStart.ApplyOn: PublishedVersions: the published version's cold starts restore a snapshot
  // of an initialised runtime (docs/decisions/023); $LATEST never does.
  bool snap_start = false;
  std::optional<DurableConfig> durable;
  // TenancyConfig.TenantIsolationMode PER_TENANT (lambda-spec §12): every invoke names a tenant
  // (X-Amz-Tenant-Id) and an environment serves one tenant only.
  bool tenant_isolation = false;
  // CapacityProviderConfig: Lambda Managed Instances mode (lambda-spec §11); unset: classic.
  std::optional<ManagedInstancesConfig> managed_instances;
};

// Managed instances (lambda-spec §11, docs/decisions/028): an environment's vCPUs, MemorySize over
// the GiB per vCPU (at least one), and how many invokes it serves at once:
// PerExecutionEnvironmentMaxConcurrency, else the runtime's default per vCPU (Node 64, Java and
// .NET 32, Python 16, anything else 16) times its vCPUs. 1 for a function not in this mode.
int managed_vcpus(const FunctionConfig& fn);
int environment_max_concurrency(const FunctionConfig& fn);
// Why Lambda refuses this runtime in managed-instances mode (Java 21+, Python 3.13+, Node.js 22+,
// .NET 8+, provided.al2023), else nullopt.
std::optional<std::string> managed_instances_runtime_refusal(std::string_view runtime);
inline constexpr int kMinManagedInstancesMemoryMb = 2048;
inline constexpr double kMinMemoryGiBPerVCpu = 2.0;
inline constexpr double kMaxMemoryGiBPerVCpu = 8.0;
// Lambda's CapacityProviderArn: arn:aws:lambda:<region>:<account>:capacity-provider:<name>, at
// most 140 characters.
bool is_capacity_provider_arn(std::string_view arn);
// The ARN a capacity provider gets locally when its real one exists only in AWS (a template's
// !GetAtt Provider.Arn): the shape of Lambda's, named after the template's resource.
std::string local_capacity_provider_arn(std::string_view region, std::string_view account_id, std::string_view name);
// Why Lambda refuses `fn`, a function with managed_instances, as it is configured (its runtime,
// MemorySize below 2048 MB, SnapStart, provisioned concurrency), else nullopt. Templates and the
// control plane both ask it, so they refuse the same things with the same words.
std::optional<std::string> managed_instances_refusal(const FunctionConfig& fn);
// Lambda Managed Instances log JSON only: their LogFormat is JSON, and Text is refused with this.
inline constexpr std::string_view kManagedInstancesLogFormat =
    "Lambda Managed Instances functions support only the JSON log format";

// Whether Lambda takes SnapStart for this runtime (Java 11+, Python 3.12+, .NET 8+); empty when it
// does, else the reason it refuses the deploy.
std::optional<std::string> snap_start_refusal(std::string_view runtime);

// The version a template deploy publishes when AutoPublishAlias is set: a local daemon starts
// from nothing, so its first (and only) published version is "1".
inline constexpr std::string_view kPublishedVersion = "1";
inline constexpr std::string_view kLatest = "$LATEST";

// The ARN `!Ref` of a template's layer gives: its first (and only local) version.
std::string local_layer_arn(std::string_view region, std::string_view account_id, std::string_view layer_name);
// Lambda's layer-name rule: 1 to 140 of [a-zA-Z0-9-_].
bool is_valid_layer_name(std::string_view name);
// What a function's Layers item that is not a layer of the template gets as the reason.
inline constexpr std::string_view kLayerNotLocal =
    "layer ARNs cannot be downloaded; define the layer in the template as AWS::Serverless::LayerVersion with a "
    "local ContentUri";

// The versions a function has: "$LATEST", plus "1" with AutoPublishAlias.
std::vector<std::string> function_versions(const FunctionConfig& fn);
// The version a qualifier names ("$LATEST", a published version number or the alias), or
// nullopt when the function has no such version or alias.
std::optional<std::string> resolve_qualifier(const FunctionConfig& fn, std::string_view qualifier);

// Which family a runtime identifier belongs to; decides how an environment is started.
enum class RuntimeFamily { kPython, kNode, kProvided, kUnsupported };
RuntimeFamily runtime_family(const std::string& runtime);

// Lambda refuses CreateFunction and UpdateFunctionConfiguration with a runtime whose "block
// function create" date has passed. The message Lambda gives (InvalidParameterValueException),
// naming the family's recommended runtime; nullopt when `runtime` is not such a runtime. The
// table is kBlockedRuntimes in function_config.cpp.
std::optional<std::string> blocked_runtime_message(std::string_view runtime);

// Lambda's pattern for environment variable names: [a-zA-Z]([a-zA-Z0-9_])+ (two characters at
// least).
bool is_valid_environment_key(std::string_view key);

// Keys Lambda sets itself and refuses in a function's Environment.Variables (lambda-spec §5).
bool is_reserved_environment_key(std::string_view key);

// Lambda's 4 KB limit on Environment.Variables applies to the variables as compact JSON: its error
// quotes that text ("String measured: {...}"), so names, values, quotes and commas all count.
inline constexpr std::size_t kMaxEnvironmentBytes = 4096;
std::string environment_as_measured(const std::map<std::string, std::string>& variables);

// The service an ARN names ("sqs" in arn:aws:sqs:us-east-1:123456789012:q); empty when `arn` is
// not an ARN.
std::string_view arn_service(std::string_view arn);
// The EventInvokeConfig destination Type whose ARNs name `service`: "Lambda", "SQS", "SNS",
// "EventBridge" or "S3"; empty for any other service.
std::string_view destination_type_for_service(std::string_view service);

// Lambda's function-name rule: 1 to 64 of [a-zA-Z0-9-_].
bool is_valid_function_name(std::string_view name);
// Lambda's alias-name rule: 1 to 128 of [a-zA-Z0-9-_], not all digits (that would be a version).
bool is_valid_alias_name(std::string_view name);

}  // namespace lambdad::config
