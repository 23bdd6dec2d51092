// observability: spdlog setup. Two named loggers: "lambdad" for the daemon's own messages and
// "function" for function output and platform lines (printed as-is, tagged by the caller).
#pragma once

#include <functional>
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

// The function log is written in batches: with a scheduler set (one that runs a task on the
// daemon's event loop after the handlers already queued), lines logged while handling events go
// out in one write. Without one (the default, and after setting nullptr) every line is written
// at once. Clear it before the event loop goes away; flush_logs() writes what is pending.
using FlushScheduler = std::function<void(std::function<void()>)>;
void set_log_flush_scheduler(FlushScheduler scheduler);
void flush_logs();
std::shared_ptr<spdlog::logger> daemon_log();
std::shared_ptr<spdlog::logger> function_log();

}  // namespace lambdad::observability
