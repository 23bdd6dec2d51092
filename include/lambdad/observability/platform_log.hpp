// observability: the platform lines Lambda prints around every invoke (lambda-spec §6.1), text
// format, exactly as CloudWatch shows them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lambdad::observability {

struct ReportFields {
  std::string request_id;
  double duration_ms = 0;
  int memory_size_mb = 128;
  int max_memory_used_mb = 0;
  std::optional<double> init_duration_ms;  // cold starts only
  // A restored environment's first invoke (SnapStart): "Restore Duration" and "Billed Restore
  // Duration" in place of Init Duration.
  std::optional<double> restore_duration_ms;
  std::string status;      // "", "timeout", "error"
  std::string error_type;  // with status "error"
};

// "arn:aws:lambda:REGION::runtime:<64 hex>", the same for every function of a runtime, as INIT_START
// and GetFunctionConfiguration's RuntimeVersionConfig show it.
std::string runtime_version_arn(std::string_view runtime, std::string_view region);
// "INIT_START Runtime Version: python3.12\tRuntime Version ARN: " + runtime_version_arn(runtime, region)
std::string init_start_line(std::string_view runtime, std::string_view region);
std::string start_line(std::string_view request_id, std::string_view version);
// "RESTORE_START Runtime Version: python3.12\tRuntime Version ARN: ..." (lambda-spec §14)
std::string restore_start_line(std::string_view runtime, std::string_view region);
// "RESTORE_REPORT Restore Duration: 1.23 ms"
std::string restore_report_line(double restore_duration_ms);
std::string end_line(std::string_view request_id);
// "REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
//  Max Memory Used: 30 MB\t[Init Duration: 100.00 ms\t][Status: ...\t]"
std::string report_line(const ReportFields& f);
// Billed duration in whole ms: ceil(duration + init) (init is billed since 2025-08).
long billed_duration_ms(double duration_ms, std::optional<double> init_duration_ms);

}  // namespace lambdad::observability
