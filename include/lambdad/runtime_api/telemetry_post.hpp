// runtime_api: delivers the environments' telemetry batches to their subscribers by HTTP POST
// (sandbox::TelemetryTransport; docs/decisions/025).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "lambdad/common/executor.hpp"
#include "lambdad/sandbox/telemetry.hpp"

namespace lambdad::runtime_api {

class TelemetryPost final : public sandbox::TelemetryTransport {
 public:
  // Sockets and completions on `executor` (the environments', which calls post()).
  explicit TelemetryPost(Executor executor);
  ~TelemetryPost() override;
  TelemetryPost(const TelemetryPost&) = delete;
  TelemetryPost& operator=(const TelemetryPost&) = delete;
  void post(const sandbox::TelemetryDestination& to, std::string body, std::function<void(bool)> done) override;

 private:
  class TcpChannel;
  Executor executor_;
  std::map<std::string, std::shared_ptr<TcpChannel>> tcp_;  // "host:port": an open TCP destination
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);  // channels outliving this see it gone
};

}  // namespace lambdad::runtime_api
