// config: runtime identifiers lambdad can run, Lambda's name rules, and a function's versions.
#include "lambdad/config/function_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lambdad::config {
namespace {

// The identifiers lambdad can start (of which Lambda blocks creating functions with some:
// kBlockedRuntimes; functions stored by earlier runs with them still run, as on Lambda).
constexpr int kMinPythonMinor = 8;
constexpr int kMaxPythonMinor = 14;
constexpr int kMinNodeMajor = 16;
constexpr int kMaxNodeMajor = 24;

// A plain decimal without sign or leading zero, so "python3.012" is not "python3.12".
std::optional<int> parse_version_number(std::string_view text) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text.front() == '0')) {
    return std::nullopt;
  }
  int value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// The runtimes Lambda blocks for function creation (its "Deprecated runtimes" table, block
// function create date passed), with the runtime its message recommends instead. Kept to the
// runtimes certainly blocked: one whose block date is still announced or was postponed again is
// not here (python3.9, nodejs18.x, provided, ...).
struct BlockedRuntime {
  std::string_view id;
  std::string_view successor;
};
constexpr BlockedRuntime kBlockedRuntimes[] = {
    {"python2.7", "python3.13"},      {"python3.6", "python3.13"},     {"python3.7", "python3.13"},
    {"python3.8", "python3.13"},      {"nodejs", "nodejs22.x"},        {"nodejs4.3", "nodejs22.x"},
    {"nodejs4.3-edge", "nodejs22.x"}, {"nodejs6.10", "nodejs22.x"},    {"nodejs8.10", "nodejs22.x"},
    {"nodejs10.x", "nodejs22.x"},     {"nodejs12.x", "nodejs22.x"},    {"nodejs14.x", "nodejs22.x"},
    {"nodejs16.x", "nodejs22.x"},     {"java8", "java21"},             {"dotnetcore1.0", "dotnet8"},
    {"dotnetcore2.0", "dotnet8"},     {"dotnetcore2.1", "dotnet8"},    {"dotnetcore3.1", "dotnet8"},
    {"dotnet6", "dotnet8"},           {"ruby2.5", "ruby3.3"},          {"ruby2.7", "ruby3.3"},
    {"go1.x", "provided.al2023"},
};

}  // namespace

std::optional<std::string> blocked_runtime_message(std::string_view runtime) {
  for (const auto& blocked : kBlockedRuntimes) {
    if (blocked.id != runtime) continue;
    std::string message = "The runtime parameter of ";
    message.append(runtime).append(
        " is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new "
        "runtime (");
    message.append(blocked.successor).append(") while creating or updating functions.");
    return message;
  }
  return std::nullopt;
}

bool is_valid_environment_key(std::string_view key) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (key.size() < 2 || !letter(key.front())) return false;
  for (char c : key) {
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '_') return false;
  }
  return true;
}

bool is_reserved_environment_key(std::string_view key) {
  static constexpr std::array<std::string_view, 18> kReserved = {
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};
  return std::find(kReserved.begin(), kReserved.end(), key) != kReserved.end();
}

std::string environment_as_measured(const std::map<std::string, std::string>& variables) {
  return nlohmann::json(variables).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view tracing_mode_name(TracingMode mode) {
  return mode == TracingMode::kActive ? "Active" : "PassThrough";
}

std::optional<TracingMode> parse_tracing_mode(std::string_view text) {
  if (text == "Active") return TracingMode::kActive;
  if (text == "PassThrough") return TracingMode::kPassThrough;
  return std::nullopt;
}

RuntimeFamily runtime_family(const std::string& runtime) {
  const std::string_view id = runtime;
  constexpr std::string_view kPython = "python3.";
  if (id.starts_with(kPython)) {
    auto minor = parse_version_number(id.substr(kPython.size()));
    if (minor && *minor >= kMinPythonMinor && *minor <= kMaxPythonMinor) return RuntimeFamily::kPython;
    return RuntimeFamily::kUnsupported;
  }
  constexpr std::string_view kNode = "nodejs";
  constexpr std::string_view kNodeSuffix = ".x";
  if (id.starts_with(kNode) && id.ends_with(kNodeSuffix) && id.size() > kNode.size() + kNodeSuffix.size()) {
    auto major = parse_version_number(id.substr(kNode.size(), id.size() - kNode.size() - kNodeSuffix.size()));
    // Lambda only ships even-numbered (LTS) Node.js majors.
    if (major && *major >= kMinNodeMajor && *major <= kMaxNodeMajor && *major % 2 == 0) {
      return RuntimeFamily::kNode;
    }
    return RuntimeFamily::kUnsupported;
  }
  if (id == "provided" || id == "provided.al2" || id == "provided.al2023") return RuntimeFamily::kProvided;
  return RuntimeFamily::kUnsupported;
}

std::optional<std::string> snap_start_refusal(std::string_view runtime) {
  auto number_after = [&](std::string_view prefix) -> std::optional<int> {
    if (!runtime.starts_with(prefix)) return std::nullopt;
    auto rest = runtime.substr(prefix.size());
    if (auto dot = rest.find('.'); dot != std::string_view::npos) rest = rest.substr(0, dot);
    return parse_version_number(rest);
  };
  if (auto minor = number_after("python3."); minor && *minor >= 12) return std::nullopt;
  if (auto major = number_after("java"); major && *major >= 11) return std::nullopt;
  if (auto major = number_after("dotnet"); major && *major >= 8) return std::nullopt;
  return fmt::format("SnapStart is not supported for {}: Lambda takes it for Java 11 and later, Python 3.12 and later "
                     "and .NET 8 and later",
                     runtime.empty() ? std::string_view("this runtime") : runtime);
}

namespace {

std::optional<int> number_after(std::string_view runtime, std::string_view prefix) {
  if (!runtime.starts_with(prefix)) return std::nullopt;
  auto rest = runtime.substr(prefix.size());
  if (auto dot = rest.find('.'); dot != std::string_view::npos) rest = rest.substr(0, dot);
  return parse_version_number(rest);
}

}  // namespace

std::optional<std::string> managed_instances_runtime_refusal(std::string_view runtime) {
  if (auto minor = number_after(runtime, "python3."); minor && *minor >= 13) return std::nullopt;
  if (auto major = number_after(runtime, "nodejs"); major && *major >= 22) return std::nullopt;
  if (auto major = number_after(runtime, "java"); major && *major >= 21) return std::nullopt;
  if (auto major = number_after(runtime, "dotnet"); major && *major >= 8) return std::nullopt;
  if (runtime == "provided.al2023") return std::nullopt;
  return fmt::format("Lambda Managed Instances do not support {}: they take Java 21 and later, Python 3.13 and later, "
                     "Node.js 22 and later, .NET 8 and later and provided.al2023",
                     runtime.empty() ? std::string_view("this runtime") : runtime);
}

bool is_capacity_provider_arn(std::string_view arn) {
  static const std::regex kPattern(
      R"(arn:aws[a-zA-Z-]*:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+)");
  return arn.size() <= 140 && std::regex_match(arn.begin(), arn.end(), kPattern);
}

std::string local_capacity_provider_arn(std::string_view region, std::string_view account_id, std::string_view name) {
  return fmt::format("arn:aws:lambda:{}:{}:capacity-provider:{}", region, account_id, name);
}

std::optional<std::string> managed_instances_refusal(const FunctionConfig& fn) {
  if (!fn.managed_instances) return std::nullopt;
  // An empty runtime is reported as missing where it is read.
  if (!fn.runtime.empty()) {
    if (auto refusal = managed_instances_runtime_refusal(fn.runtime)) return refusal;
  }
  if (fn.memory_mb < kMinManagedInstancesMemoryMb) {
    return fmt::format("MemorySize must be at least {} MB for Lambda Managed Instances (got {} MB)",
                       kMinManagedInstancesMemoryMb, fn.memory_mb);
  }
  // lambdad's reading of the Lambda Managed Instances documentation: an environment there serves
  // many invokes at once and is never cold-started on demand, which is what SnapStart and
  // provisioned concurrency are for, and the docs list both as unsupported in this mode.
  if (fn.snap_start) return std::string("Lambda Managed Instances do not support SnapStart");
  if (fn.provisioned_concurrency > 0) return std::string("Lambda Managed Instances do not support provisioned concurrency");
  return std::nullopt;
}

int managed_vcpus(const FunctionConfig& fn) {
  if (!fn.managed_instances) return 1;
  const double per_vcpu_mb = fn.managed_instances->memory_gib_per_vcpu * 1024.0;
  if (per_vcpu_mb <= 0) return 1;
  return std::max(1, static_cast<int>(static_cast<double>(fn.memory_mb) / per_vcpu_mb));
}

int environment_max_concurrency(const FunctionConfig& fn) {
  if (!fn.managed_instances) return 1;
  if (fn.managed_instances->per_environment_max_concurrency) return *fn.managed_instances->per_environment_max_concurrency;
  int per_vcpu = 16;  // Python's, and what lambdad assumes for a custom runtime
  if (fn.runtime.starts_with("nodejs")) per_vcpu = 64;
  if (fn.runtime.starts_with("java") || fn.runtime.starts_with("dotnet")) per_vcpu = 32;
  return std::min(kMaxPerEnvironmentConcurrency, per_vcpu * managed_vcpus(fn));
}

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::string_view arn_service(std::string_view arn) {
  if (!arn.starts_with("arn:")) return {};
  std::string_view rest = arn.substr(4);
  const auto partition_end = rest.find(':');
  if (partition_end == std::string_view::npos) return {};
  rest = rest.substr(partition_end + 1);
  const auto service_end = rest.find(':');
  return service_end == std::string_view::npos ? std::string_view{} : rest.substr(0, service_end);
}

std::string_view destination_type_for_service(std::string_view service) {
  if (service == "lambda") return "Lambda";
  if (service == "sqs") return "SQS";
  if (service == "sns") return "SNS";
  if (service == "events") return "EventBridge";
  if (service == "s3") return "S3";
  return {};
}

bool is_valid_function_name(std::string_view name) {
  constexpr std::size_t kMaxFunctionName = 64;
  if (name.empty() || name.size() > kMaxFunctionName) return false;
  return std::all_of(name.begin(), name.end(), name_char);
}

bool is_valid_alias_name(std::string_view name) {
  constexpr std::size_t kMaxAliasName = 128;
  if (name.empty() || name.size() > kMaxAliasName) return false;
  if (!std::all_of(name.begin(), name.end(), name_char)) return false;
  return !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string local_layer_arn(std::string_view region, std::string_view account_id, std::string_view layer_name) {
  std::string_view partition = "aws";
  if (region.starts_with("cn-")) partition = "aws-cn";
  if (region.starts_with("us-gov-")) partition = "aws-us-gov";
  std::string arn = "arn:";
  arn.append(partition).append(":lambda:").append(region).append(":").append(account_id).append(":layer:");
  arn.append(layer_name).append(":1");
  return arn;
}

bool is_valid_layer_name(std::string_view name) {
  constexpr std::size_t kMaxLayerName = 140;
  if (name.empty() || name.size() > kMaxLayerName) return false;
  return std::all_of(name.begin(), name.end(), name_char);
}

std::vector<std::string> function_versions(const FunctionConfig& fn) {
  std::vector<std::string> versions{std::string(kLatest)};
  if (!fn.auto_publish_alias.empty()) versions.emplace_back(kPublishedVersion);
  return versions;
}

std::optional<std::string> resolve_qualifier(const FunctionConfig& fn, std::string_view qualifier) {
  if (qualifier.empty() || qualifier == kLatest) return std::string(kLatest);
  if (fn.auto_publish_alias.empty()) return std::nullopt;
  if (qualifier == kPublishedVersion || qualifier == fn.auto_publish_alias) return std::string(kPublishedVersion);
  return std::nullopt;
}

}  // namespace lambdad::config
