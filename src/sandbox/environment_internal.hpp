// sandbox: what the files of ExecutionEnvironment share (execution_environment.cpp,
// environment_stream.cpp, environment_restore.cpp, environment_extensions.cpp).
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lambdad/common/clock.hpp"

namespace lambdad::sandbox::detail {

inline double ms_between(Clock::Steady::time_point a, Clock::Steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// {"errorType":...,"errorMessage":"RequestId: <id> Error: <detail>"} (lambda-spec §4.2).
inline std::string platform_error(std::string_view type, std::string_view request_id, std::string_view detail) {
  nlohmann::ordered_json j = {{"errorType", type},
                              {"errorMessage", fmt::format("RequestId: {} Error: {}", request_id, detail)}};
  return j.dump();
}

}  // namespace lambdad::sandbox::detail
