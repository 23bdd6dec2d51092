// runtime_api: the Lambda Runtime API (2018-06-01) of lambda-spec §1, served on a listener of
// its own for each execution environment (AWS_LAMBDA_RUNTIME_API carries only host:port).
// Handlers validate, call the environment (RuntimeApiTarget), and render; no syscalls here.
#pragma once

#include <memory>

#include "lambdad/common/executor.hpp"
#include "lambdad/http/router.hpp"
#include "lambdad/runtime_api/telemetry_post.hpp"
#include "lambdad/sandbox/runtime_api_target.hpp"

namespace boost::asio {
class io_context;
}

namespace lambdad::runtime_api {

// The route table for one environment.
http::Router make_router(sandbox::RuntimeApiTarget& target);

// Renders a refusal or acceptance exactly as lambda-spec §1.7 (the one place these bodies exist).
http::Response render_reply(const sandbox::RuntimeReply& reply);

// Opens a 127.0.0.1:0 listener per environment. With an executor (the daemon's domain) its
// connections are read and answered on strands of their own and the environment is called on
// the executor (http::ServerOptions::own_strands); without, everything runs on `io`'s executor.
class EndpointFactory final : public sandbox::RuntimeEndpointFactory {
 public:
  explicit EndpointFactory(boost::asio::io_context& io);
  EndpointFactory(boost::asio::io_context& io, Executor executor)
      : io_(io), executor_(std::move(executor)), own_strands_(true), telemetry_(executor_) {}
  Result<std::unique_ptr<sandbox::RuntimeEndpoint>> open(sandbox::RuntimeApiTarget& target) override;
  sandbox::TelemetryTransport* telemetry_transport() override { return &telemetry_; }

 private:
  boost::asio::io_context& io_;
  Executor executor_;
  bool own_strands_ = false;
  TelemetryPost telemetry_;
};

}  // namespace lambdad::runtime_api
