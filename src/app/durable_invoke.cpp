// `lambdad invoke` of a durable function (docs/decisions/026): the execution is started and
// driven by the daemon's engine; the function's SDK checkpoints through an Invoke API on a free
// loopback port. Waits for the execution to end and prints its result (or its error).
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <string>

#include "daemon.hpp"
#include "lambdad/app/commands.hpp"
#include "lambdad/http/server.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"

namespace lambdad::app {

int invoke_durable(Daemon& d, const InvokeOptions& options, const std::string& name, const std::string& version,
                   std::string payload) {
  invoke_api::InvokeApiOptions api;
  api.region = options.common.region;
  http::Server server(d.io, d.domain, invoke_api::make_router(*d.scheduler, d.clock, api, nullptr, nullptr, d.durable.get()));
  if (auto st = server.listen("127.0.0.1", 0); !st) {
    std::fprintf(stderr, "lambdad: the checkpoint API: %s\n", st.error().message.c_str());
    return 2;
  }
  d.runtime_options.lambda_api_port = server.port();
  auto started = d.start_execution(name, version, options.durable_execution_name, std::move(payload));
  if (!started) {
    std::fprintf(stderr, "lambdad: %s: %s\n", started.error().type.c_str(), started.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr, "durable execution %s\n", started->arn.c_str());
  int exit_code = 1;
  d.durable->on_end(started->arn, [&](const durable::Execution& e) {
    const bool ok = e.status == durable::ExecutionStatus::kSucceeded;
    const std::string out = ok ? e.result.value_or("null") : e.error.value_or(nlohmann::json::object()).dump();
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!ok) std::fprintf(stderr, "lambdad: the execution ended %s\n", std::string(durable::name(e.status)).c_str());
    exit_code = ok ? 0 : 1;
    boost::asio::post(d.domain, [&] {
      server.stop();
      d.manager->shutdown();
      d.stop_once_closed();
    });
  });
  boost::asio::signal_set signals(d.domain, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    server.stop();
    d.manager->shutdown();
    d.io.stop();
  });
  d.run();
  return exit_code;
}

}  // namespace lambdad::app
