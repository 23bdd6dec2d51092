// control_plane (private): a FunctionRecord as FunctionStore keeps it in
// <state-dir>/functions/<name>/function.json (format 1).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "lambdad/common/result.hpp"
#include "lambdad/control_plane/function_record.hpp"

namespace lambdad::control_plane {

nlohmann::json record_to_json(const FunctionRecord& fn);
// code_root: <functions_dir>/<name>/code; each version's code_dir is code_root/<code_hex>.
Result<FunctionRecord> record_from_json(const nlohmann::json& j, const std::filesystem::path& code_root);

}  // namespace lambdad::control_plane
