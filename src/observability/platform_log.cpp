#include "lambdad/observability/platform_log.hpp"

#include <fmt/format.h>

#include <cmath>

namespace lambdad::observability {

std::string init_start_line(std::string_view runtime, std::string_view region) {
  return fmt::format("INIT_START Runtime Version: {}\tRuntime Version ARN: arn:aws:lambda:{}::runtime:lambdad-{}",
                     runtime, region, runtime);
}

std::string start_line(std::string_view request_id, std::string_view version) {
  return fmt::format("START RequestId: {} Version: {}", request_id, version);
}

std::string end_line(std::string_view request_id) {
  return fmt::format("END RequestId: {}", request_id);
}

long billed_duration_ms(double duration_ms, std::optional<double> init_duration_ms) {
  double total = duration_ms + init_duration_ms.value_or(0.0);
  return std::max(1L, static_cast<long>(std::ceil(total)));
}

std::string report_line(const ReportFields& f) {
  std::string line = fmt::format(
      "REPORT RequestId: {}\tDuration: {:.2f} ms\tBilled Duration: {} ms\tMemory Size: {} MB\t"
      "Max Memory Used: {} MB\t",
      f.request_id, f.duration_ms, billed_duration_ms(f.duration_ms, f.init_duration_ms),
      f.memory_size_mb, f.max_memory_used_mb);
  if (f.init_duration_ms) line += fmt::format("Init Duration: {:.2f} ms\t", *f.init_duration_ms);
  if (!f.status.empty()) {
    line += fmt::format("Status: {}\t", f.status);
    if (!f.error_type.empty()) line += fmt::format("Error Type: {}\t", f.error_type);
  }
  return line;
}

}  // namespace lambdad::observability
