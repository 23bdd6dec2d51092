// control_plane (private): a function version as the API shows it (FunctionConfiguration), and
// the LoggingConfig of CreateFunction and UpdateFunctionConfiguration requests.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lambdad/common/result.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/control_plane/function_registry.hpp"

namespace lambdad::control_plane {

// The FunctionConfiguration of `v` (version "$LATEST" or a number) of `fn`; `function_arn` is the
// ARN it shows (qualified or not). v's digest must be known (ensure_digest). kListed leaves out
// State, LastUpdateStatus and their reasons: Lambda shows those to GetFunction(Configuration) only.
nlohmann::json configuration_json(const FunctionRecord& fn, const VersionRecord& v, const std::string& version,
                                  const std::string& function_arn, const std::string& region, ConfigurationView view);

// {"LogFormat":"Text","LogGroup":"/aws/lambda/<name>"}; JSON adds both levels (INFO by default).
nlohmann::json logging_config_json(const config::FunctionConfig& c);

// ValidationException: "1 validation error detected: Value '<value>' at '<member>' failed to
// satisfy constraint: <constraint>".
Error validation(std::string_view member, const std::string& value, std::string_view constraint);

// A request's LoggingConfig applied to `logging`: the members it gives replace the current ones;
// Text drops the levels, and a level with Text is refused as Lambda refuses it.
Status apply_logging_config(const nlohmann::json& request, config::LoggingConfig& logging);

}  // namespace lambdad::control_plane
