// control_plane (private): a FunctionRecord as stored in <state-dir>/functions/<name>/function.json
// (format 1), and the pieces of configuration both the store and the API requests use.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lambdad/common/result.hpp"
#include "lambdad/control_plane/function_registry.hpp"

namespace lambdad::control_plane {

nlohmann::json record_to_json(const FunctionRecord& fn);
// code_root: <functions_dir>/<name>/code; each version's code_dir is code_root/<code_hex>.
Result<FunctionRecord> record_from_json(const nlohmann::json& j, const std::filesystem::path& code_root);

// "Lambda" for arn:aws:lambda:..., "SQS", "SNS", "EventBridge" (events), "S3"; nullopt otherwise.
std::optional<std::string> destination_type(const std::string& arn);

std::string_view state_name(FunctionState s);
std::string_view update_status_name(UpdateStatus s);

}  // namespace lambdad::control_plane
