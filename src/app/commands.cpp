#include "lambdad/app/commands.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "daemon.hpp"
#include "watch.hpp"
#include "lambdad/app/runtime_environment.hpp"
#include "lambdad/async/event_queue.hpp"
#include "lambdad/async/state_dir.hpp"
#include "lambdad/common/clock.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/config/function_names.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/http/server.hpp"
#include "lambdad/http/loopback.hpp"
#include "lambdad/http_front/front.hpp"
#include "lambdad/invocation/tenant.hpp"
#include "lambdad/invoke_api/invoke_api.hpp"
#include "lambdad/invoke_api/service_error.hpp"
#include "lambdad/invoke_api/sigv4.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/process/resource_limits.hpp"
#include "lambdad/runtime_api/runtime_api.hpp"
#include "lambdad/sandbox/asio_timers.hpp"
#include "lambdad/sandbox/sandbox_manager.hpp"

namespace lambdad::app {
namespace asio = boost::asio;

int invoke_durable(Daemon& d, const InvokeOptions& options, const std::string& name, const std::string& version,
                   std::string payload);  // durable_invoke.cpp

namespace {

std::optional<std::string> read_event(const std::string& file) {
  if (file.empty()) return std::string("{}");
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "lambdad: cannot read event file %s\n", file.c_str());
      return std::nullopt;
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return std::string("{}");
  if (!nlohmann::json::accept(text)) {
    std::fprintf(stderr, "lambdad: the event in %s is not valid JSON\n", file == "-" ? "stdin" : file.c_str());
    return std::nullopt;
  }
  return text;
}

// Turns the command line's pool settings into the sandbox's options; prints what is wrong.
std::optional<sandbox::ManagerOptions> manager_options(const PoolSettings& p) {
  sandbox::ManagerOptions m;
  m.eager = p.warm_containers == "EAGER";
  m.pool.force_cold = p.force_cold;
  m.pool.prepare_ahead = true;  // serve: the next cold start's sandbox is made ahead (decision 022)
  auto idle = parse_duration(p.idle_timeout);
  if (!idle) {
    std::fprintf(stderr, "lambdad: --idle-timeout: '%s' is not a duration (e.g. 500ms, 30s, 10m, 0)\n",
                 p.idle_timeout.c_str());
    return std::nullopt;
  }
  m.pool.idle_timeout = *idle;
  for (const auto& item : p.cold_start_delay) {
    auto eq = item.find('=');
    auto d = parse_duration(eq == std::string::npos ? item : item.substr(eq + 1));
    if (!d) {
      std::fprintf(stderr, "lambdad: --cold-start-delay: '%s' is not DURATION, RUNTIME=DURATION or FUNCTION=DURATION\n",
                   item.c_str());
      return std::nullopt;
    }
    if (eq == std::string::npos) {
      m.pool.cold_start_delay = *d;
    } else {
      m.cold_start_delay_by_runtime[item.substr(0, eq)] = *d;
    }
  }
  return m;
}

// The state directory and the Event invocation queue's options; prints what is wrong.
struct AsyncSetup {
  async::StateDir state;
  async::EventQueueOptions options;
};

std::optional<AsyncSetup> async_setup(const ServeOptions& serve, const std::filesystem::path& tmp_root,
                                      std::chrono::milliseconds retry_base) {
  // Without --state-dir events live in the daemon's private directory, removed at exit: fine
  // for parallel test daemons, and there is nothing to fsync for.
  const bool durable = !serve.state_dir.empty();
  auto state = async::StateDir::open(durable ? serve.state_dir : tmp_root / ".state");
  if (!state) {
    std::fprintf(stderr, "lambdad: --state-dir: %s\n", state.error().message.c_str());
    return std::nullopt;
  }
  async::EventQueueOptions options;
  options.events_dir = state->events_dir();
  options.destinations_dir = state->destinations_dir();
  options.durable = durable;
  options.retry_base = retry_base;
  options.region = serve.common.region;
  if (durable) {
    observability::daemon_log()->info("Event invocations are spooled in {} and survive restarts; destinations in {}",
                                      options.events_dir.string(), options.destinations_dir.string());
  } else {
    observability::daemon_log()->info(
        "Event invocations are spooled in {} until this daemon exits (--state-dir keeps them); destinations in {}",
        options.events_dir.string(), options.destinations_dir.string());
  }
  return AsyncSetup{std::move(state).value(), std::move(options)};
}

// SIGTERM/SIGINT (README "Stopping"): the first signal stops taking work (the listener closes,
// idle connections close, a request on an open one gets 503 ServiceException, no new Event
// attempt starts) and gives what is in flight up to --shutdown-grace to finish; then, or at a
// second signal, every environment's processes are killed, what they ran is answered with
// Sandbox.Failure (Event attempts stay spooled and run again at the next start), the answers
// are written, and the io loop stops.
class GracefulStop {
 public:
  GracefulStop(Daemon& d, http::Server& server, http::Server* api_server, std::chrono::milliseconds grace,
               std::string grace_text)
      : d_(d), server_(server), api_server_(api_server), events_(*d.events), registry_(*d.registry), grace_(grace),
        grace_text_(std::move(grace_text)), timer_(d.timers->make_timer()) {}

  void on_signal(int sig) {
    auto log = observability::daemon_log();
    const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    if (stopping_) {
      if (killing_) return;
      log->warn("received {} again: stopping now", name);
      kill_remaining(true);
      return;
    }
    stopping_ = true;
    server_.stop_accepting(invoke_api::render(
        invoke_api::ServiceError{503, "ServiceException", "lambdad is shutting down and takes no new requests", {}},
        ids::request_id()));
    if (api_server_) {
      http::Response refusal;
      refusal.status = 503;
      refusal.headers.add("Content-Type", "application/json");
      refusal.body = R"({"message":"Service Unavailable"})";
      api_server_->stop_accepting(std::move(refusal));
    }
    events_.drain();
    const auto unfinished = d_.manager->unfinished();
    at_signal_ = unfinished.size();
    if (unfinished.empty() || grace_.count() == 0) {
      log->info("received {}, shutting down", name);
      kill_remaining(false);
      return;
    }
    log->info("received {}, shutting down: no new invocations; {} in flight get up to {} to finish (--shutdown-grace; "
              "a second signal stops at once)",
              name, unfinished.size(), grace_text_);
    deadline_ = d_.clock.now() + grace_;
    poll();
  }

 private:
  static constexpr std::chrono::milliseconds kPoll{20};
  // How long the answers to what was cut short may take to be written, and the extensions of the
  // environments their SHUTDOWN budget (2,000 ms, docs/decisions/024), before the loop stops.
  static constexpr std::chrono::milliseconds kFlush{2500};

  void poll() {
    if (killing_) return;
    if (d_.manager->unfinished().empty()) {
      kill_remaining(false);
    } else if (d_.clock.now() >= deadline_) {
      kill_remaining(false);
    } else {
      timer_->arm(d_.clock.now() + kPoll, [this] { poll(); });
    }
  }

  void kill_remaining(bool second_signal) {
    killing_ = true;
    timer_->cancel();
    auto log = observability::daemon_log();
    const auto unfinished = d_.manager->unfinished();
    std::size_t event_attempts = 0;
    for (const auto& u : unfinished) {
      const bool event = events_.attempt_running(u.request_id);
      event_attempts += event ? 1 : 0;
      log->warn("[{}] [{}] cut short by the shutdown ({}): {}", u.function, u.request_id,
                u.version, event ? "an Event attempt, it runs again at the next start"
                                 : "its caller gets Sandbox.Failure");
    }
    if (at_signal_ > 0 || !unfinished.empty()) {
      const std::size_t finished = at_signal_ > unfinished.size() ? at_signal_ - unfinished.size() : 0;
      log->info("shutdown: {} invocation(s) finished within the grace period, {} cut short{} ({} of them Event "
                "attempts, kept in the spool)",
                finished, unfinished.size(),
                second_signal ? " by a second signal" : unfinished.empty() ? "" : fmt::format(" after {}", grace_text_),
                event_attempts);
    }
    // Event attempts cut short stay spooled: the queue no longer records outcomes.
    events_.shutdown();
    registry_.shutdown();
    d_.manager->shutdown(second_signal ? "the execution environment was stopped: lambdad was told to stop at once"
                                       : "the execution environment was stopped: lambdad is shutting down and the "
                                         "invocation did not finish within --shutdown-grace " + grace_text_);
    flush_until_ = d_.clock.now() + kFlush;
    flush();
  }

  // The answers of what was cut short go out before the loop stops.
  void flush() {
    const std::size_t busy = server_.busy_connections() + (api_server_ ? api_server_->busy_connections() : 0);
    if ((busy == 0 && d_.manager->closing() == 0) || d_.clock.now() >= flush_until_) {
      server_.stop();
      if (api_server_) api_server_->stop();
      d_.io.stop();
      return;
    }
    timer_->arm(d_.clock.now() + std::chrono::milliseconds(5), [this] { flush(); });
  }

  Daemon& d_;
  http::Server& server_;
  http::Server* api_server_;  // --api-port; null when off
  async::EventQueue& events_;
  control_plane::FunctionRegistry& registry_;
  std::chrono::milliseconds grace_;
  std::string grace_text_;
  std::unique_ptr<Timer> timer_;
  Clock::Steady::time_point deadline_{};
  Clock::Steady::time_point flush_until_{};
  std::size_t at_signal_ = 0;
  bool stopping_ = false;
  bool killing_ = false;
};

// The API port's Function URLs follow the catalogue (decision 020); other changes are not theirs.
void follow_urls(http_front::Front& front, const control_plane::CatalogueChange& change) {
  if (const auto* put = std::get_if<control_plane::UrlPut>(&change)) {
    front.put_url(put->url);
  } else if (const auto* removed = std::get_if<control_plane::UrlRemoved>(&change)) {
    front.remove_url(removed->name, removed->qualifier);
  } else if (const auto* gone = std::get_if<control_plane::FunctionRemoved>(&change)) {
    front.remove_urls(gone->name);
  }
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text == "0") return std::chrono::milliseconds(0);
  std::size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (value < 0) return std::nullopt;
  const std::string unit = text.substr(pos);
  double ms = 0;
  if (unit == "ms") ms = value;
  else if (unit == "s") ms = value * 1000;
  else if (unit == "m") ms = value * 60000;
  else if (unit == "h") ms = value * 3600000;
  else return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

int run_serve(const ServeOptions& options) {
  observability::init_logging({options.common.log_level});
  auto log = observability::daemon_log();
  // Security (docs/decisions/010): loopback unless asked otherwise; signatures when keys are given.
  const bool remote = !http::is_loopback_host(options.host);
  if (remote && !options.allow_remote) {
    std::fprintf(stderr,
                 "lambdad: --host %s is not a loopback address: the Invoke API would be reachable from other hosts "
                 "and run their code; pass --allow-remote to bind it anyway (and --credentials FILE to require "
                 "signed requests)\n",
                 options.host.c_str());
    return 2;
  }
  std::shared_ptr<const invoke_api::sigv4::SigningKeys> signing_keys;
  if (!options.credentials_file.empty()) {
    auto keys = invoke_api::sigv4::load_signing_keys(options.credentials_file);
    if (!keys) {
      std::fprintf(stderr, "lambdad: --credentials: %s\n", keys.error().message.c_str());
      return 2;
    }
    signing_keys = std::make_shared<const invoke_api::sigv4::SigningKeys>(std::move(keys).value());
  }
  std::optional<std::uint16_t> api_port;
  if (!options.api_port.empty()) {
    int port = -1;
    try {
      std::size_t used = 0;
      port = std::stoi(options.api_port, &used);
      if (used != options.api_port.size()) port = -1;
    } catch (const std::exception&) {
    }
    if (port < 0 || port > 65535) {
      std::fprintf(stderr, "lambdad: --api-port: '%s' is not a port (0-65535)\n", options.api_port.c_str());
      return 2;
    }
    api_port = static_cast<std::uint16_t>(port);
  }
  auto definitions = load_definitions_checked(options.common);
  if (!definitions) return 2;
  auto* functions = &definitions->functions;
  auto runtimes = prepare_runtimes(options.common, *functions);
  if (!runtimes) return 2;

  auto manager_opts = manager_options(options.pool);
  if (!manager_opts) return 2;
  auto retry_base = parse_duration(options.async_retry_base);
  if (!retry_base) {
    std::fprintf(stderr, "lambdad: --async-retry-base: '%s' is not a duration (e.g. 10ms, 30s, 1m)\n",
                 options.async_retry_base.c_str());
    return 2;
  }
  auto shutdown_grace = parse_duration(options.shutdown_grace);
  if (!shutdown_grace) {
    std::fprintf(stderr, "lambdad: --shutdown-grace: '%s' is not a duration (e.g. 5s, 500ms, 0)\n",
                 options.shutdown_grace.c_str());
    return 2;
  }
  const auto reservations =
      control_plane::FunctionRegistry::check_template_reservations(*functions, options.pool.account_concurrency);
  if (!reservations) {
    std::fprintf(stderr, "lambdad: %s\n", reservations.error().message.c_str());
    return 2;
  }

  Daemon d;
  d.runtime_options = std::move(*runtimes);
  if (!d.prepare_limits(options.pool.memory_enforcement)) return 2;
  auto spool = async_setup(options, d.tmp_root, *retry_base);
  if (!spool) return 2;
  // The catalogue holds the template's functions and those created through the control plane,
  // kept in the state directory (docs/decisions/008); the APIs and the Event queue reach them
  // through the scheduler (docs/decisions/018).
  CoreOptions core;
  core.pools = std::move(*manager_opts);
  core.cpu_scaling = options.pool.cpu_scaling;
  core.catalogue.region = options.common.region;
  core.catalogue.functions_dir = spool->state.functions_dir();
  core.catalogue.durable = spool->options.durable;
  core.catalogue.account_concurrency = options.pool.account_concurrency;
  core.events = spool->options;
  core.urls = definitions->http.urls;
  // Durable executions live in the state directory's durable.db with --state-dir, else in memory.
  core.durable = CoreOptions::Durable{spool->options.durable ? spool->state.root() / "durable.db" : std::filesystem::path{},
                                      options.common.durable_time_scale};
  d.build(*functions, std::move(core));
  auto& registry = *d.registry;
  auto& events = *d.events;
  registry.load_stored();

  invoke_api::InvokeApiOptions api_options;
  api_options.region = options.common.region;
  api_options.signing_keys = signing_keys;
  // The API port, once bound: the FunctionUrl of the Function URL operations names it.
  auto bound_api_port = std::make_shared<std::uint16_t>(0);
  api_options.api_port = [bound_api_port] { return *bound_api_port; };
  // Read deadlines of the Invoke API: a slow client cannot hold a connection forever.
  http::ServerOptions server_options;
  for (auto [flag, text, deadline] : {std::tuple{"--http-header-timeout", &options.http_header_timeout,
                                                 &server_options.header_timeout},
                                      std::tuple{"--http-body-timeout", &options.http_body_timeout,
                                                 &server_options.read_timeout}}) {
    auto parsed = parse_duration(*text);
    if (!parsed || parsed->count() <= 0) {
      std::fprintf(stderr, "lambdad: %s: '%s' is not a positive duration (e.g. 30s, 500ms)\n", flag, text->c_str());
      return 2;
    }
    *deadline = *parsed;
  }
  auto router = invoke_api::make_router(*d.scheduler, d.clock, api_options, &events, &registry, d.durable.get());
  // What the local X-Ray daemon received (?traceId=1-... for one trace's documents).
  router.add(http::Method::kGet, "/_lambdad/xray/segments", 0, [&d](http::Request&& req, http::Responder respond) {
    http::Response r;
    r.headers.add("Content-Type", "application/json");
    const auto trace_id = req.query_param("traceId");
    r.body = d.xray ? d.xray->recorder().to_json(trace_id.value_or("")).dump()
                    : observability::XRayRecorder(0).to_json().dump();
    respond(std::move(r));
  });
  server_options.own_strands = true;  // the Invoke API's connections off the domain (decision 021)
  http::Server server(d.io, d.domain, std::move(router), server_options);
  server_options.own_strands = false;
  const std::string bound = options.host == "localhost" ? "127.0.0.1" : options.host;
  if (auto st = server.listen(bound, options.port); !st) {
    std::fprintf(stderr, "lambdad: %s\n", st.error().message.c_str());
    return 2;
  }
  // --api-port: the template's HTTP routes and Function URLs (decision 020), on the Invoke API's
  // address and under its rules, through the same scheduler.
  std::unique_ptr<http_front::Front> front;
  std::unique_ptr<http::Server> api_server;
  if (api_port) {
    http_front::FrontOptions front_options;
    front_options.region = options.common.region;
    if (signing_keys) {
      front_options.verify_signature = [keys = signing_keys, region = options.common.region,
                                        &clock = d.clock](const http::Request& req) {
        const invoke_api::sigv4::VerifyOptions verify{region};
        return !invoke_api::sigv4::verify(req, *keys, clock.epoch_ms() / 1000, verify);
      };
    }
    front = std::make_unique<http_front::Front>(*d.scheduler, d.clock, *d.timers, std::move(front_options));
    front->set_routes(definitions->http);
    // Function URLs are the catalogue's (the template's, the stored ones, the API's): the front
    // starts from them and follows its changes (decision 020).
    for (const auto* url : registry.all_function_urls()) front->put_url(url->config);
    registry.subscribe([f = front.get()](const control_plane::CatalogueChange& c) { follow_urls(*f, c); });
    api_server = std::make_unique<http::Server>(d.io, d.domain, front->router(), server_options);
    if (auto st = api_server->listen(bound, *api_port); !st) {
      std::fprintf(stderr, "lambdad: --api-port: %s\n", st.error().message.c_str());
      return 2;
    }
    *bound_api_port = api_server->port();
  }
  if (signing_keys) {
    log->info("--credentials: requests must be signed (AWS SigV4) by one of the {} key(s) in {}",
              signing_keys->secrets.size(), options.credentials_file.string());
  }
  if (remote && signing_keys) {
    log->warn("the Invoke API is bound to {} (--allow-remote), reachable from other hosts; only requests signed "
              "with a key from {} are served",
              options.host, options.credentials_file.string());
  } else if (remote) {
    log->warn("the Invoke API is bound to {} (--allow-remote), reachable from other hosts, WITHOUT authentication: "
              "anyone who can reach it can invoke, create and replace functions, which run as this user; "
              "add --credentials FILE to require signed requests",
              options.host);
  }
  if (remote && api_server) {
    log->warn("the API port is bound to {} (--allow-remote) too: its routes and Function URLs with AuthType NONE "
              "take requests from other hosts without a signature, as API Gateway without authorizers does",
              options.host);
  }
  for (const auto& fn : *functions) {
    log->info("function {}: {}, {} MB, {} s, from {}", config::describe_names(fn), fn.runtime, fn.memory_mb,
              fn.timeout_seconds, fn.code_dir.string());
  }
  // --watch: an edit to a function's code or to the template takes effect without a restart.
  std::unique_ptr<ServeWatch> watch;
  if (options.watch) {
    ServeWatch::Deps deps{d.domain, d.clock, *d.timers, registry, *d.scheduler, d.runtime_options};
    deps.blocking = &d.blocking;
    if (front) {
      deps.on_http_apis = [f = front.get()](const config::HttpApis& apis) {
        f->set_routes(apis);
        observability::daemon_log()->info("API routes reloaded: {} route(s), {} Function URL(s)", apis.routes.size(),
                                          apis.urls.size());
      };
    }
    auto started = ServeWatch::start(deps, options.common, *functions, {spool->state.root(), d.tmp_root});
    if (!started) {
      std::fprintf(stderr, "lambdad: --watch: %s\n", started.error().message.c_str());
      return 2;
    }
    watch = std::move(started).value();
  }

  if (options.io_threads > 0) d.threads = options.io_threads;
  GracefulStop stop(d, server, api_server.get(), *shutdown_grace, options.shutdown_grace);
  asio::signal_set signals(d.domain, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        signals.async_wait(on_signal);  // a second signal cuts the grace period short
        stop.on_signal(sig);
      };
  signals.async_wait(on_signal);

  // Durable functions' SDKs checkpoint through this port (AWS_ENDPOINT_URL_LAMBDA).
  d.runtime_options.lambda_api_port = server.port();
  d.manager->start();
  events.start();
  asio::post(d.domain, [&d] { d.recover_durable(); });
  const std::string shown = bound.find(':') != std::string::npos ? "[" + bound + "]" : bound;
  std::printf("Invoke API listening on http://%s:%u\n", shown.c_str(), server.port());
  if (api_server) {
    const std::string base = fmt::format("http://{}:{}", shown, api_server->port());
    std::printf("API listening on %s\n", base.c_str());
    for (const auto& line : front->describe(base, api_server->port())) std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
  d.run();
  server.stop();
  if (api_server) api_server->stop();
  events.shutdown();
  events.flush();  // the spool's last writes, before the state directory's lock is released
  registry.shutdown();
  d.manager->shutdown();
  log->info("stopped");
  return 0;
}

int run_invoke(const InvokeOptions& options) {
  observability::init_logging({options.common.log_level});
  auto functions = load_functions(options.common);
  if (!functions) return 2;
  auto event = read_event(options.event_file);
  if (!event) return 2;
  // NAME or NAME:QUALIFIER ($LATEST, the published version or the AutoPublishAlias).
  std::string requested = options.function;
  std::string qualifier = "$LATEST";
  if (auto colon = requested.find(':'); colon != std::string::npos) {
    qualifier = requested.substr(colon + 1);
    requested.resize(colon);
  }
  // No name: the template's only function.
  const config::FunctionConfig* target =
      requested.empty() && functions->size() == 1 ? &functions->front() : config::find_function(*functions, requested);
  if (!target) {
    std::string names;
    for (const auto& fn : *functions) names += (names.empty() ? "" : ", ") + config::describe_names(fn);
    const auto& file = options.common.serverless_file.empty() ? options.common.template_file
                                                              : options.common.serverless_file;
    if (requested.empty()) {
      std::fprintf(stderr, "lambdad: %s has %zu functions; name one (functions: %s)\n", file.c_str(),
                   functions->size(), names.c_str());
    } else {
      std::fprintf(stderr, "lambdad: no function named %s in %s (functions: %s)\n", requested.c_str(), file.c_str(),
                   names.c_str());
    }
    return 2;
  }
  const std::string name = target->name;
  auto no_such_version = [&] {
    std::fprintf(stderr, "lambdad: %s has no version or alias %s (it has $LATEST%s%s)\n", name.c_str(),
                 qualifier.c_str(), target->auto_publish_alias.empty() ? "" : ", 1 and ",
                 target->auto_publish_alias.c_str());
    return 2;
  };
  // Checked before anything starts; the scheduler resolves it below, as it does every invoke.
  if (!config::resolve_qualifier(*target, qualifier)) return no_such_version();
  if (options.tenant_id && !invocation::valid_tenant_id(*options.tenant_id)) {
    std::fprintf(stderr, "lambdad: --tenant-id '%s': 1 to 256 of [a-zA-Z0-9._:/=+-@ ]\n", options.tenant_id->c_str());
    return 2;
  }
  if (auto refused = invocation::tenant_refusal(options.tenant_id.has_value(), target->tenant_isolation)) {
    std::fprintf(stderr, "lambdad: InvalidParameterValueException: %s (--tenant-id)\n", refused->c_str());
    return 2;
  }
  auto runtimes = prepare_runtimes(options.common, *functions);
  if (!runtimes) return 2;

  Daemon d;
  d.runtime_options = std::move(*runtimes);
  if (!d.prepare_limits("auto")) return 2;
  CoreOptions core;  // nothing stored, no Event queue
  core.catalogue.region = options.common.region;
  if (target->durable) core.durable = CoreOptions::Durable{{}, options.common.durable_time_scale};
  d.build(*functions, std::move(core));
  auto& scheduler = *d.scheduler;
  const auto version = scheduler.resolve(name, qualifier);
  if (!version) return no_such_version();
  if (d.durable) return invoke_durable(d, options, name, *version, std::move(*event));

  int exit_code = 1;
  auto inv = std::make_shared<invocation::Invocation>();
  inv->request_id = ids::request_id();
  inv->function_name = name;
  inv->qualifier = qualifier;
  inv->version = *version;
  inv->invoked_function_arn = invocation::function_arn(options.common.region, "123456789012", name,
                                                       qualifier == "$LATEST" ? "" : qualifier);
  inv->payload = std::move(*event);
  inv->tenant_id = options.tenant_id;
  inv->trace_id = ids::trace_header(d.clock.epoch_ms() / 1000, scheduler.tracing_active(name, *version));
  inv->received = d.clock.now();
  inv->on_complete = [&](invocation::InvocationResult result) {
    std::fwrite(result.payload.data(), 1, result.payload.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    exit_code = result.outcome == invocation::Outcome::kSuccess ? 0 : 1;
    // We are inside the environment's call stack: tear down after it returns.
    asio::post(d.domain, [&] {
      d.manager->shutdown();
      d.stop_once_closed();  // the environment's extensions get their SHUTDOWN budget first
    });
  };

  asio::signal_set signals(d.domain, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    d.manager->shutdown();
    d.io.stop();
  });
  if (scheduler.dispatch(inv) != invocation::Admission::kAccepted) {
    std::fprintf(stderr, "lambdad: %s has reserved concurrency 0; every invocation is throttled\n", name.c_str());
    return 1;
  }
  d.run();
  return exit_code;
}

}  // namespace lambdad::app
