#include "lambdad/observability/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace lambdad::observability {
namespace {

std::shared_ptr<spdlog::logger> make(const std::string& name, const std::string& pattern) {
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_pattern(pattern, spdlog::pattern_time_type::utc);
  return logger;
}

}  // namespace

void init_logging(const LogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  auto d = make("lambdad", "%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v");
  auto f = make("function", "%v");
  d->set_level(level);
  f->set_level(level == spdlog::level::off ? level : spdlog::level::info);
  d->flush_on(spdlog::level::trace);
  f->flush_on(spdlog::level::trace);
}

namespace {

std::shared_ptr<spdlog::logger> named(const char* name) {
  auto l = spdlog::get(name);
  if (!l) {
    init_logging({});
    l = spdlog::get(name);
  }
  return l;
}

}  // namespace

std::shared_ptr<spdlog::logger> daemon_log() { return named("lambdad"); }

std::shared_ptr<spdlog::logger> function_log() { return named("function"); }

}  // namespace lambdad::observability
