// runtime_api: delivers the environments' telemetry batches to their subscribers by HTTP POST
// (sandbox::TelemetryTransport; docs/decisions/025).
#pragma once

#include "lambdad/common/executor.hpp"
#include "lambdad/sandbox/telemetry.hpp"

namespace lambdad::runtime_api {

class TelemetryPost final : public sandbox::TelemetryTransport {
 public:
  // Sockets and completions on `executor` (the environments').
  explicit TelemetryPost(Executor executor) : executor_(std::move(executor)) {}
  void post(const sandbox::TelemetryDestination& to, std::string body, std::function<void(bool)> done) override;

 private:
  Executor executor_;
};

}  // namespace lambdad::runtime_api
