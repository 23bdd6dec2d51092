#include "lambdad/observability/platform_log.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cmath>

namespace lambdad::observability {

std::string runtime_version_arn(std::string_view runtime, std::string_view region) {
  // Lambda's hash names one build of a runtime; here the runtime identifier is the build.
  const std::string seed = fmt::format("lambdad-runtime:{}", runtime);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(seed.data(), seed.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return fmt::format("arn:aws:lambda:{}::runtime:{}", region, hex);
}

std::string init_start_line(std::string_view runtime, std::string_view region) {
  return fmt::format("INIT_START Runtime Version: {}\tRuntime Version ARN: {}", runtime,
                     runtime_version_arn(runtime, region));
}

std::string start_line(std::string_view request_id, std::string_view version) {
  return fmt::format("START RequestId: {} Version: {}", request_id, version);
}

std::string end_line(std::string_view request_id) {
  return fmt::format("END RequestId: {}", request_id);
}

std::string restore_start_line(std::string_view runtime, std::string_view region) {
  return fmt::format("RESTORE_START Runtime Version: {}\tRuntime Version ARN: {}", runtime,
                     runtime_version_arn(runtime, region));
}

std::string restore_report_line(double restore_duration_ms) {
  return fmt::format("RESTORE_REPORT Restore Duration: {:.2f} ms", restore_duration_ms);
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
  if (f.restore_duration_ms) {
    line += fmt::format("Restore Duration: {:.2f} ms\tBilled Restore Duration: {} ms\t", *f.restore_duration_ms,
                        std::max(1L, static_cast<long>(std::ceil(*f.restore_duration_ms))));
  }
  if (!f.status.empty()) {
    line += fmt::format("Status: {}\t", f.status);
    if (!f.error_type.empty()) line += fmt::format("Error Type: {}\t", f.error_type);
  }
  return line;
}

}  // namespace lambdad::observability
