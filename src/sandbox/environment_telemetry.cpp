// ExecutionEnvironment and the Telemetry API (docs/decisions/025, lambda-spec §2.5): the
// platform events of each phase, with the figures the platform lines report, and the function's
// and extensions' log lines. Every record is built only when someone can receive it
// (Telemetry::wanted()): an environment without subscribers pays nothing once its init is over.
// The same records are the platform lines of a function that logs JSON (lambda-spec §15).
#include <spdlog/spdlog.h>

#include "environment_internal.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/sandbox/execution_environment.hpp"

namespace lambdad::sandbox {

using detail::ms_between;
using ojson = nlohmann::ordered_json;

namespace {

ojson tracing(const std::string& trace_id) { return ojson{{"type", "X-Amzn-Trace-Id"}, {"value", trace_id}}; }

// Telemetry's status of an invoke: an error of the function is "error"; the runtime's or the
// platform's (a crash, out of memory, a reset) is "failure".
std::string invoke_status(const std::string& status, const std::string& error_type) {
  if (status.empty()) return "success";
  if (status == "timeout") return "timeout";
  if (error_type == error_types::kRuntimeExitError || error_type == error_types::kRuntimeOutOfMemory ||
      error_type == error_types::kSandboxFailure || error_type.starts_with("Extension.")) {
    return "failure";
  }
  return "error";
}

}  // namespace

std::string ExecutionEnvironment::initialization_type() const {
  if (fn_.managed_instances) return "lambda-managed-instances";
  if (options_.snap_start) return "snap-start";
  return options_.provisioned ? "provisioned-concurrency" : "on-demand";
}

ojson ExecutionEnvironment::init_start_record() const {
  return ojson{{"initializationType", initialization_type()},
               {"phase", "init"},
               {"runtimeVersion", fn_.runtime},
               {"runtimeVersionArn", observability::runtime_version_arn(fn_.runtime, runtime_options_.region)},
               {"functionName", fn_.name},
               {"functionVersion", options_.version}};
}

ojson ExecutionEnvironment::start_record(const Current& cur, bool with_tracing) const {
  const auto& inv = *cur.inv;
  ojson record{{"requestId", inv.request_id}, {"version", inv.version}};
  if (inv.tenant_id) record["tenantId"] = *inv.tenant_id;  // tenant isolation (lambda-spec §12)
  if (with_tracing && !inv.trace_id.empty()) record["tracing"] = tracing(inv.trace_id);
  return record;
}

ojson ExecutionEnvironment::report_record(const observability::ReportFields& f, double duration,
                                          const std::string& trace_id, const std::optional<std::string>& tenant_id) {
  ojson metrics{{"durationMs", duration},
                {"billedDurationMs", observability::billed_duration_ms(duration, f.init_duration_ms)},
                {"memorySizeMB", f.memory_size_mb},
                {"maxMemoryUsedMB", f.max_memory_used_mb}};
  if (f.init_duration_ms) metrics["initDurationMs"] = *f.init_duration_ms;
  if (f.restore_duration_ms) metrics["restoreDurationMs"] = *f.restore_duration_ms;
  ojson record{{"requestId", f.request_id}, {"status", invoke_status(f.status, f.error_type)}};
  if (tenant_id) record["tenantId"] = *tenant_id;
  if (!f.status.empty() && !f.error_type.empty()) record["errorType"] = f.error_type;
  record["metrics"] = std::move(metrics);
  if (!trace_id.empty()) record["tracing"] = tracing(trace_id);
  return record;
}

bool ExecutionEnvironment::json_logs() const { return fn_.logging.log_format == "JSON"; }

void ExecutionEnvironment::log_platform(Current* cur, std::string_view type, ojson record) {
  // SystemLogLevel (default INFO) keeps the init, start and report records; WARN keeps none of
  // them (lambda-spec §15).
  if (fn_.logging.system_log_level == "WARN") return;
  const std::string line =
      ojson{{"time", Telemetry::timestamp(clock_.epoch_ms())}, {"type", type}, {"record", std::move(record)}}.dump();
  log_line(cur, line);
}

void ExecutionEnvironment::log_init_report(std::string_view status, std::string_view error_type) {
  if (!json_logs()) return;
  ojson record{{"initializationType", initialization_type()}, {"phase", "init"}, {"status", status}};
  if (!error_type.empty()) record["errorType"] = error_type;
  record["metrics"] = ojson{{"durationMs", init_duration_ms_.value_or(ms_between(spawned_at_, clock_.now()))}};
  log_platform(nullptr, "platform.initReport", std::move(record));
}

void ExecutionEnvironment::telemetry_init_start() {
  if (!telemetry_->wanted()) return;
  telemetry_->platform("platform.initStart", init_start_record());
}

void ExecutionEnvironment::telemetry_runtime_ready() {
  if (runtime_ready_sent_) return;
  runtime_ready_sent_ = true;
  if (!telemetry_->wanted()) return;
  telemetry_->platform("platform.initRuntimeDone",
                       ojson{{"initializationType", initialization_type()}, {"phase", "init"}, {"status", "success"}});
}

void ExecutionEnvironment::telemetry_init_end(std::string_view status, std::string_view error_type) {
  if (!telemetry_->open()) return;  // reported already
  if (telemetry_->wanted()) {
    if (!runtime_ready_sent_ || status != "success") {
      runtime_ready_sent_ = true;
      ojson done{{"initializationType", initialization_type()}, {"phase", "init"}, {"status", status}};
      if (!error_type.empty()) done["errorType"] = error_type;
      telemetry_->platform("platform.initRuntimeDone", std::move(done));
    }
    ojson report{{"initializationType", initialization_type()}, {"phase", "init"}, {"status", status}};
    if (!error_type.empty()) report["errorType"] = error_type;
    // The same figure as REPORT's Init Duration.
    report["metrics"] = ojson{{"durationMs", init_duration_ms_.value_or(ms_between(spawned_at_, clock_.now()))}};
    telemetry_->platform("platform.initReport", std::move(report));
  }
  telemetry_->close_subscriptions();
}

void ExecutionEnvironment::telemetry_start(const Current& cur) {
  if (!telemetry_->wanted()) return;
  telemetry_->platform("platform.start", start_record(cur, true));
}

void ExecutionEnvironment::telemetry_runtime_done(const Current& cur, const invocation::InvocationResult& result,
                                                  const std::string& status) {
  if (!telemetry_->wanted()) return;
  const double duration = cur.delivered ? ms_between(cur.delivered_at, clock_.now()) : 0.0;
  const auto now_ms = clock_.epoch_ms();
  ojson record{{"requestId", cur.inv->request_id}, {"status", invoke_status(status, result.error_type)}};
  if (!status.empty()) record["errorType"] = result.error_type;
  record["metrics"] = ojson{{"durationMs", duration}, {"producedBytes", result.payload.size()}};
  // The response came whole: its latency is the invoke's, its transfer took no time of its own.
  record["spans"] = ojson::array(
      {ojson{{"name", "responseLatency"},
             {"start", Telemetry::timestamp(now_ms - static_cast<std::int64_t>(duration))},
             {"durationMs", duration}},
       ojson{{"name", "responseDuration"}, {"start", Telemetry::timestamp(now_ms)}, {"durationMs", 0.0}}});
  if (!cur.inv->trace_id.empty()) record["tracing"] = tracing(cur.inv->trace_id);
  telemetry_->platform("platform.runtimeDone", std::move(record));
}

void ExecutionEnvironment::telemetry_report(const Ending& ending) {
  if (!telemetry_->wanted()) return;
  telemetry_pending_report();  // an earlier one still waiting goes first
  pending_report_ = PendingReport{ending.report, ending.cur.delivered_at, ending.cur.inv->trace_id,
                                  ending.cur.inv->tenant_id};
  if (extensions_->ready() || dead_) telemetry_pending_report();
}

void ExecutionEnvironment::telemetry_pending_report() {
  if (!pending_report_) return;
  PendingReport p = std::move(*pending_report_);
  pending_report_.reset();
  const auto& f = p.fields;
  // Lambda's Duration here is the whole invoke phase: the runtime's and the extensions' time.
  const double duration = std::max(f.duration_ms, ms_between(p.delivered_at, clock_.now()));
  telemetry_->platform("platform.report", report_record(f, duration, p.trace_id, p.tenant_id));
}

void ExecutionEnvironment::on_extension_output(std::string_view line) {
  flog_->info("{}[extension] {}", log_prefix_, line);
  if (telemetry_->wanted()) telemetry_->log_line(TelemetryStream::kExtension, line);
}

}  // namespace lambdad::sandbox
