// observability: spdlog setup. Two named loggers: "lambdad" for the daemon's own messages and
// "function" for function output and platform lines (printed as-is, tagged by the caller).
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace lambdad::observability {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, off
};

void init_logging(const LogOptions& options);
std::shared_ptr<spdlog::logger> daemon_log();
std::shared_ptr<spdlog::logger> function_log();

}  // namespace lambdad::observability
