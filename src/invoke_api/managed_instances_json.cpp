// invoke_api (private): the AWS JSON of Lambda Managed Instances (lambda-spec §11):
// CapacityProviderConfig as CreateFunction and UpdateFunctionConfiguration take it and
// GetFunction(Configuration) shows it.
#include <fmt/format.h>

#include "control_json.hpp"

namespace lambdad::invoke_api::control_json {
namespace {

using nlohmann::json;

constexpr std::string_view kManagedMember = "capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig";
constexpr std::size_t kMaxCapacityProviderArn = 140;
// Lambda's model pattern of CapacityProviderArn, as its messages quote it.
constexpr std::string_view kCapacityProviderArnPattern =
    R"(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+)";

std::string managed_member(std::string_view name) { return fmt::format("{}.{}", kManagedMember, name); }

}  // namespace

Result<config::ManagedInstancesConfig> parse_capacity_provider_config(const json& cpc) {
  if (!cpc.is_object() || !cpc.contains("LambdaManagedInstancesCapacityProviderConfig") ||
      cpc["LambdaManagedInstancesCapacityProviderConfig"].is_null()) {
    return validation(kManagedMember, "null", "Member must not be null");
  }
  // A member of the wrong JSON type throws, which the route answers as unreadable content.
  const json& lmi = cpc.at("LambdaManagedInstancesCapacityProviderConfig");
  config::ManagedInstancesConfig out;
  if (!lmi.contains("CapacityProviderArn") || lmi["CapacityProviderArn"].is_null()) {
    return validation(managed_member("capacityProviderArn"), "null", "Member must not be null");
  }
  out.capacity_provider_arn = lmi.at("CapacityProviderArn").get<std::string>();
  if (out.capacity_provider_arn.size() > kMaxCapacityProviderArn) {
    return validation(managed_member("capacityProviderArn"), out.capacity_provider_arn,
                      fmt::format("Member must have length less than or equal to {}", kMaxCapacityProviderArn));
  }
  if (!config::is_capacity_provider_arn(out.capacity_provider_arn)) {
    return validation(managed_member("capacityProviderArn"), out.capacity_provider_arn,
                      fmt::format("Member must satisfy regular expression pattern: {}", kCapacityProviderArnPattern));
  }
  if (lmi.contains("PerExecutionEnvironmentMaxConcurrency") && !lmi["PerExecutionEnvironmentMaxConcurrency"].is_null()) {
    auto n = ranged(managed_member("perExecutionEnvironmentMaxConcurrency"), lmi["PerExecutionEnvironmentMaxConcurrency"],
                    1, config::kMaxPerEnvironmentConcurrency);
    if (!n) return n.error();
    out.per_environment_max_concurrency = *n;
  }
  if (lmi.contains("ExecutionEnvironmentMemoryGiBPerVCpu") && !lmi["ExecutionEnvironmentMemoryGiBPerVCpu"].is_null()) {
    const json& v = lmi["ExecutionEnvironmentMemoryGiBPerVCpu"];
    const std::string member = managed_member("executionEnvironmentMemoryGiBPerVCpu");
    if (!v.is_number()) return validation(member, v.dump(), "Member must be a number");
    const double ratio = v.get<double>();
    if (ratio < config::kMinMemoryGiBPerVCpu) {
      return validation(member, v.dump(), "Member must have value greater than or equal to 2.0");
    }
    if (ratio > config::kMaxMemoryGiBPerVCpu) {
      return validation(member, v.dump(), "Member must have value less than or equal to 8.0");
    }
    out.memory_gib_per_vcpu = ratio;
  }
  return out;
}

json capacity_provider_config(const config::ManagedInstancesConfig& m) {
  json lmi = {{"CapacityProviderArn", m.capacity_provider_arn},
              {"ExecutionEnvironmentMemoryGiBPerVCpu", m.memory_gib_per_vcpu}};
  if (m.per_environment_max_concurrency) lmi["PerExecutionEnvironmentMaxConcurrency"] = *m.per_environment_max_concurrency;
  return {{"LambdaManagedInstancesCapacityProviderConfig", std::move(lmi)}};
}

}  // namespace lambdad::invoke_api::control_json
