// invoke_api (private): the AWS JSON of the control-plane routes (lambda-spec §3.4,
// docs/decisions/016). Parsing turns a request body into the registry's typed request and refuses
// what the request alone decides, with Lambda's messages word for word (ValidationException,
// InvalidParameterValueException); rendering turns the registry's views into Lambda's shapes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/common/result.hpp"
#include "lambdad/control_plane/function_record.hpp"
#include "lambdad/control_plane/function_requests.hpp"

namespace lambdad::invoke_api::control_json {

// Whose ARNs the answers show.
struct Account {
  std::string region;
  std::string account_id;
  std::string arn(const std::string& name, const std::string& qualifier = {}) const;
};

// --- parsing ----------------------------------------------------------------------------------

// ValidationException: "1 validation error detected: Value '<value>' at '<member>' failed to
// satisfy constraint: <constraint>".
Error validation(std::string_view member, const std::string& value, std::string_view constraint);
// An integer member within [lo, hi]; the member name is as Lambda's messages spell it.
Result<int> ranged(std::string_view field, const nlohmann::json& value, long long lo, long long hi);

// CapacityProviderConfig (AWS's form only: {LambdaManagedInstancesCapacityProviderConfig:
// {CapacityProviderArn, PerExecutionEnvironmentMaxConcurrency, ExecutionEnvironmentMemoryGiBPerVCpu}})
// of CreateFunction and UpdateFunctionConfiguration; managed_instances_json.cpp.
Result<config::ManagedInstancesConfig> parse_capacity_provider_config(const nlohmann::json& cpc);

Result<control_plane::CreateFunctionRequest> parse_create_function(const nlohmann::json& body);
Result<control_plane::UpdateCodeRequest> parse_update_code(const nlohmann::json& body);
Result<control_plane::UpdateConfigurationRequest> parse_update_configuration(const nlohmann::json& body);
Result<control_plane::PublishVersionRequest> parse_publish_version(const nlohmann::json& body);
// PutFunctionConcurrency: ReservedConcurrentExecutions.
Result<int> parse_put_concurrency(const nlohmann::json& body);
Result<control_plane::EventInvokeConfigChange> parse_event_invoke_config(const nlohmann::json& body);
Result<control_plane::CreateAliasRequest> parse_create_alias(const nlohmann::json& body);
Result<control_plane::UpdateAliasRequest> parse_update_alias(const nlohmann::json& body);

// Create/UpdateFunctionUrlConfig: AuthType (required to create), Cors, InvokeMode.
Result<control_plane::FunctionUrlChange> parse_create_function_url(const nlohmann::json& body);
Result<control_plane::FunctionUrlChange> parse_update_function_url(const nlohmann::json& body);
// The Qualifier of the Function URL operations names an alias: a version number or $LATEST is
// refused, as Lambda's model pattern refuses them.
Status check_url_qualifier(const std::string& qualifier);

// A page of ListFunctions or ListVersionsByFunction: at most 50, fewer if MaxItems says so.
struct ListRequest {
  bool all_versions = false;  // ListFunctions?FunctionVersion=ALL
  std::string marker;
  std::size_t page = 0;
};
Result<ListRequest> parse_list_functions(const std::optional<std::string>& function_version, std::string marker,
                                         std::optional<int> max_items);
Result<ListRequest> parse_list_versions(std::string marker, std::optional<int> max_items);
// ListFunctionUrlConfigs: MaxItems 1 to 50.
Result<ListRequest> parse_list_function_urls(std::string marker, std::optional<int> max_items);

// --- rendering --------------------------------------------------------------------------------

// A FunctionConfiguration in full (GetFunction), or as ListFunctions lists it (without State,
// LastUpdateStatus and their reasons: Lambda shows those to GetFunction(Configuration) only).
enum class ConfigurationView { kFull, kListed };

// qualified_arn: FunctionArn names the version.
nlohmann::json configuration(const control_plane::VersionView& v, const Account& account, bool qualified_arn,
                             ConfigurationView view = ConfigurationView::kFull);
nlohmann::json function(const control_plane::FunctionView& f, const Account& account, bool qualified_arn);
// {"Functions": [...], "NextMarker": ...} over every (function, version) of `entries`, in order.
Result<nlohmann::json> function_page(const std::vector<control_plane::VersionView>& entries, const ListRequest& request,
                                     const Account& account);
// {"Versions": [...], "NextMarker": ...}.
Result<nlohmann::json> version_page(const std::vector<control_plane::VersionView>& versions, const ListRequest& request,
                                    const Account& account);
// CapacityProviderConfig in its long form, as GetFunction(Configuration) shows it.
nlohmann::json capacity_provider_config(const config::ManagedInstancesConfig& m);
// {"LogFormat":"Text","LogGroup":"/aws/lambda/<name>"}; JSON adds both levels (INFO by default).
nlohmann::json logging_config(const config::FunctionConfig& c);
nlohmann::json alias(const control_plane::AliasView& a, const std::string& function_name, const Account& account);
nlohmann::json aliases(const std::vector<control_plane::AliasView>& all, const std::string& function_name,
                       const Account& account);
// {"ReservedConcurrentExecutions": n}, or {} without a reservation.
nlohmann::json concurrency(std::optional<int> reserved);
// function_arn: qualified ($LATEST when the request named no qualifier).
nlohmann::json event_invoke_config(const control_plane::EventInvokeConfigView& e, const std::string& function_arn);
nlohmann::json account_settings(const control_plane::AccountSettings& s);

// A FunctionUrlConfig: as CreateFunctionUrlConfig answers it (no LastModifiedTime), or in full.
// `port`: the API port that serves it (FunctionUrl is http://<label>.lambda-url.localhost:<port>/).
enum class UrlView { kCreated, kFull };
nlohmann::json function_url_config(const control_plane::FunctionUrlRecord& u, const Account& account,
                                   std::uint16_t port, UrlView view = UrlView::kFull);
// {"FunctionUrlConfigs": [...], "NextMarker": ...}.
Result<nlohmann::json> function_url_page(const std::vector<const control_plane::FunctionUrlRecord*>& urls,
                                         const ListRequest& request, const Account& account, std::uint16_t port);

}  // namespace lambdad::invoke_api::control_json
