// config (internal): Lambda Managed Instances in a function's properties (lambda-spec §11,
// docs/decisions/028): CapacityProviderConfig, in CloudFormation's long form or SAM's short one,
// and FunctionScalingConfig, which only such a function has.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "function_builder.hpp"

namespace lambdad::config {
namespace {

using Kind = TemplateValue::Kind;

constexpr std::string_view kLongForm = "LambdaManagedInstancesCapacityProviderConfig";
constexpr std::string_view kStaysClassic = "the function runs as a classic one";

// "4", "4.0", "2.5" -> the number; nullopt for anything else (a sign, words, "nan", "1e1x").
std::optional<double> managed_ratio_number(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front())) == 0) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

void FunctionBuilder::read_managed_instances(FunctionConfig& config) {
  const auto* cpc = source_.properties.find("CapacityProviderConfig");
  const auto* scaling = source_.properties.find("FunctionScalingConfig");
  if (cpc == nullptr) {
    // Lambda scales only managed-instances functions by it: elsewhere it would do nothing, silently.
    if (scaling != nullptr) {
      error(*scaling, "FunctionScalingConfig",
            "FunctionScalingConfig needs CapacityProviderConfig (it scales Lambda Managed Instances functions only)");
    }
    return;
  }
  if (!mapping(*cpc, "CapacityProviderConfig", kStaysClassic)) return;
  auto managed = read_capacity_provider(*cpc);
  if (!managed) return;
  if (scaling != nullptr && !read_function_scaling(*scaling, *managed)) return;
  config.managed_instances = std::move(*managed);
  if (auto refusal = managed_instances_refusal(config)) {
    error(*cpc, "CapacityProviderConfig", std::move(*refusal));  // as Lambda refuses the deploy
    config.managed_instances.reset();
    return;
  }
  // JSON logs only: Lambda sets the format itself and refuses Text.
  const auto* logging = source_.properties.find("LoggingConfig");
  const auto* format = logging != nullptr && logging->is(Kind::kMap) ? logging->find("LogFormat") : nullptr;
  if (format != nullptr && config.logging.log_format == "Text") {
    error(*format, "LoggingConfig.LogFormat", std::string(kManagedInstancesLogFormat));
    config.managed_instances.reset();
    return;
  }
  config.logging.log_format = "JSON";
}

std::optional<ManagedInstancesConfig> FunctionBuilder::read_capacity_provider(const TemplateValue& cpc) {
  const TemplateValue* body = &cpc;
  std::string prefix = "CapacityProviderConfig";
  std::string_view arn_key = "CapacityProviderArn";
  std::vector<std::string_view> ratio_keys = {"ExecutionEnvironmentMemoryGiBPerVCpu"};
  if (const auto* inner = cpc.find(kLongForm)) {
    prefix = fmt::format("{}.{}", prefix, kLongForm);
    if (!mapping(*inner, prefix, kStaysClassic)) return std::nullopt;
    body = inner;
  } else if (source_.type == kServerlessFunctionType) {
    // SAM's short form. SAM's documentation names the ratio ExecutionEnvironmentMemoryGiBPerVCpu
    // while SAM CLI reads ExecutionEnvironmentMemoryToVCpuRatio; either is taken.
    arn_key = "Arn";
    ratio_keys = {"ExecutionEnvironmentMemoryToVCpuRatio", "ExecutionEnvironmentMemoryGiBPerVCpu"};
  } else {
    error(cpc, fmt::format("{}.{}", prefix, kLongForm),
          "is required ({CapacityProviderArn, PerExecutionEnvironmentMaxConcurrency, "
          "ExecutionEnvironmentMemoryGiBPerVCpu})");
    return std::nullopt;
  }

  ManagedInstancesConfig out;
  bool ok = true;
  const std::string arn_path = fmt::format("{}.{}", prefix, arn_key);
  if (const auto* arn = body->find(arn_key); arn == nullptr) {
    error(*body, arn_path, "is required (the ARN of a capacity provider)");
    ok = false;
  } else if (arn->is(Kind::kUnresolved)) {
    // A capacity provider the template creates (!GetAtt Provider.Arn) has its ARN in AWS only.
    // Nothing runs on it locally and the ARN only names it, so a made-up local ARN stands in for
    // it rather than the function being refused.
    std::string name = referenced_resource(arn->text);
    std::string local = local_capacity_provider_arn(source_.region, source_.account_id, name);
    if (!is_capacity_provider_arn(local)) {
      name = source_.logical_id + "CapacityProvider";
      local = local_capacity_provider_arn(source_.region, source_.account_id, name);
      warning(*arn, arn_path, unresolved_message(*arn, fmt::format("the function uses the local ARN {}", local)));
    }
    out.capacity_provider_arn = std::move(local);
  } else if (auto value = text(*arn, arn_path, Need::kRequired, "")) {
    if (is_capacity_provider_arn(*value)) {
      out.capacity_provider_arn = std::move(*value);
    } else {
      error(*arn, arn_path,
            fmt::format("must be the ARN of a capacity provider, arn:aws:lambda:<region>:<account>:capacity-provider:"
                        "<name> (got {})",
                        value->empty() ? "''" : *value));
      ok = false;
    }
  } else {
    ok = false;
  }

  if (const auto* v = body->find("PerExecutionEnvironmentMaxConcurrency")) {
    if (auto n = integer(*v, prefix + ".PerExecutionEnvironmentMaxConcurrency", 1, kMaxPerEnvironmentConcurrency,
                         fmt::format("an integer between 1 and {}", kMaxPerEnvironmentConcurrency),
                         "the runtime's default per vCPU is used")) {
      out.per_environment_max_concurrency = *n;
    } else if (!v->is(Kind::kUnresolved)) {
      ok = false;
    }
  }
  for (std::string_view key : ratio_keys) {
    const auto* v = body->find(key);
    if (v == nullptr) continue;
    const std::string path = fmt::format("{}.{}", prefix, key);
    auto value = text(*v, path, Need::kOptional, "2 GiB per vCPU is used");
    if (!value) {
      if (!v->is(Kind::kUnresolved)) ok = false;
      continue;
    }
    auto ratio = managed_ratio_number(*value);
    if (!ratio || *ratio < kMinMemoryGiBPerVCpu || *ratio > kMaxMemoryGiBPerVCpu) {
      error(*v, path, fmt::format("must be a number between 2.0 and 8.0 (got {})", value->empty() ? "''" : *value));
      ok = false;
      continue;
    }
    out.memory_gib_per_vcpu = *ratio;
  }
  if (!ok) return std::nullopt;
  return out;
}

bool FunctionBuilder::read_function_scaling(const TemplateValue& scaling, ManagedInstancesConfig& out) {
  constexpr std::string_view kDefaults = "lambdad's defaults are used";
  if (!mapping(scaling, "FunctionScalingConfig", kDefaults)) return scaling.is(Kind::kUnresolved);
  const std::string range = fmt::format("an integer between 0 and {}", kMaxScalingEnvironments);
  std::optional<int> min;
  std::optional<int> max;
  bool ok = true;
  for (auto [key, field] : {std::pair{"MinExecutionEnvironments", &min}, std::pair{"MaxExecutionEnvironments", &max}}) {
    const auto* v = scaling.find(key);
    if (v == nullptr) continue;
    *field = integer(*v, fmt::format("FunctionScalingConfig.{}", key), 0, kMaxScalingEnvironments, range, kDefaults);
    if (!*field && !v->is(Kind::kUnresolved)) ok = false;
  }
  if (min && max && *min > *max) {
    error(scaling, "FunctionScalingConfig",
          fmt::format("MinExecutionEnvironments ({}) must not exceed MaxExecutionEnvironments ({})", *min, *max));
    ok = false;
  }
  if (!ok) return false;
  // 0 is taken, as Lambda takes it, but lambdad keeps one environment: there is no cold start in
  // this mode, so an invoke finds an environment ready or none at all.
  if (min) out.min_environments = std::max(1, *min);
  if (max) out.max_environments = std::max(1, *max);
  return true;
}

}  // namespace lambdad::config
