// app (private): the composition root of every subcommand that runs functions (serve, invoke,
// test): the parts of a daemon, built in dependency order and torn down in reverse, and its core
// (docs/decisions/018): pools, the function catalogue, the scheduler over both and, where asked
// for, the Event queue.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <optional>
#include <thread>
#include <vector>

#include "lambdad/async/event_queue.hpp"
#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/clock.hpp"
#include "lambdad/common/executor.hpp"
#include "lambdad/common/io_thread.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/durable/dispatch_invoker.hpp"
#include "lambdad/durable/engine.hpp"
#include "lambdad/durable/store.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/observability/xray.hpp"
#include "lambdad/process/resource_limits.hpp"
#include "lambdad/runtime_api/runtime_api.hpp"
#include "lambdad/sandbox/asio_timers.hpp"
#include "lambdad/sandbox/sandbox_manager.hpp"
#include "lambdad/scheduler/scheduler.hpp"

namespace lambdad::app {

// What the core is built with; the rest are the commands' defaults.
struct CoreOptions {
  sandbox::ManagerOptions pools;
  bool cpu_scaling = false;
  // serve: the state directory's functions (RegistryOptions::functions_dir); invoke and test
  // leave it empty and store nothing.
  control_plane::RegistryOptions catalogue;
  std::optional<async::EventQueueOptions> events;  // serve, test: Event invocations
  // serve: the template's Function URLs, which enter the catalogue with their functions.
  std::vector<config::FunctionUrl> urls;
  // Durable executions (docs/decisions/026): kept in `store_file` (an SQLite database; empty: in
  // memory), their waits and back-offs divided by `time_scale`.
  struct Durable {
    std::filesystem::path store_file;
    double time_scale = 1.0;
  };
  std::optional<Durable> durable;
};

// Everything a run needs, built in dependency order and torn down in reverse.
// The loop runs on `threads` threads (docs/decisions/021): the domain (pools, environments,
// the catalogue, the scheduler, the Event queue, timers, children, handlers) on one strand,
// `domain`; the Invoke API's and the Runtime APIs' connections on strands of their own.
struct Daemon {
  boost::asio::io_context io;
  boost::asio::strand<boost::asio::io_context::executor_type> domain_strand = boost::asio::make_strand(io);
  Executor domain = domain_strand;
  unsigned threads = default_threads();
  // Blocking work off the loop: cgroup removal, unzip, code digests, the /proc reads that
  // admit a Runtime API connection, the Event spool's writes (docs/decisions/001).
  BlockingPool blocking{domain};
  // The functions' private /tmp directories are removed through it; detached once the pool has
  // been waited for (an environment destroyed later removes its /tmp in place).
  std::shared_ptr<PoolLink> tmp_removal = std::make_shared<PoolLink>(&blocking);
  SystemClock clock;
  std::unique_ptr<Timers> timers = sandbox::make_asio_timers(domain);
  runtime_api::EndpointFactory endpoints{io, domain};
  sandbox::RuntimeOptions runtime_options;
  std::unique_ptr<process::ResourceController> resources;
  std::filesystem::path tmp_root;
  // The local X-Ray daemon (before the manager, which reports sampled traces to it).
  std::unique_ptr<observability::XRayListener> xray;
  // The core (build): what reaches a function goes through the scheduler.
  std::unique_ptr<sandbox::SandboxManager> manager;
  std::unique_ptr<control_plane::FunctionRegistry> registry;
  std::unique_ptr<scheduler::Scheduler> scheduler;
  std::unique_ptr<async::EventQueue> events;
  // Durable executions (build, with CoreOptions::durable), driven through the scheduler.
  std::unique_ptr<durable::Store> durable_store;
  std::unique_ptr<durable::DispatchInvoker> durable_invoker;
  std::unique_ptr<durable::Engine> durable;

  Daemon() {
    // Function log lines of one batch of events go out in one write (observability/logging).
    observability::set_log_flush_scheduler(
        [this](std::function<void()> task) { boost::asio::post(domain, std::move(task)); });
  }

  // LAMBDAD_IO_THREADS, else one: on a 2-core machine a second thread cost more in wake-ups
  // than it brought (docs/decisions/021); `serve --io-threads` sets it.
  static unsigned default_threads() {
    const char* env = std::getenv("LAMBDAD_IO_THREADS");
    const int n = env != nullptr ? std::atoi(env) : 0;
    return n > 0 ? std::min(static_cast<unsigned>(n), 64u) : 1u;
  }

  // Runs the loop on `threads` threads until it stops or runs out of work. Meanwhile the
  // domain's entry points check that they run on its strand (debug); before and after, on the
  // thread that builds and tears down the daemon.
  void run() {
    io_thread::set_domain([s = domain_strand] { return s.running_in_this_thread(); });
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < threads; ++i) helpers.emplace_back([this] { io.run(); });
    io.run();
    io.stop();
    for (auto& t : helpers) t.join();
    io_thread::set_domain(nullptr);
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // After manager->shutdown(): stops the loop once no environment is closing (its extensions'
  // SHUTDOWN budget, docs/decisions/024), at most `limit` from now. On the domain.
  void stop_once_closed(std::chrono::milliseconds limit = std::chrono::milliseconds(2500)) {
    if (!closing_timer_) closing_timer_ = timers->make_timer();
    poll_closed(clock.now() + limit);
  }

  ~Daemon() {
    closing_timer_.reset();
    durable.reset();
    durable_invoker.reset();
    durable_store.reset();
    events.reset();
    scheduler.reset();
    registry.reset();  // joins code being unpacked
    manager.reset();   // environments (their processes, cgroups and /tmp) before the controller
    blocking.wait_idle();  // the cgroups and /tmp directories being removed are gone
    tmp_removal->detach();
    resources.reset();
    std::error_code ec;
    if (!tmp_root.empty()) std::filesystem::remove_all(tmp_root, ec);
    observability::set_log_flush_scheduler(nullptr);  // writes what is pending
  }

  std::unique_ptr<Timer> closing_timer_;
  void poll_closed(Clock::Steady::time_point until) {
    if (!manager || manager->closing() == 0 || clock.now() >= until) return io.stop();
    closing_timer_->arm(clock.now() + std::chrono::milliseconds(5), [this, until] { poll_closed(until); });
  }

  // Memory enforcement and the private /tmp root; prints why and returns false on failure.
  bool prepare_limits(const std::string& enforcement) {
    auto mode = enforcement == "cgroup"   ? process::MemoryEnforcement::kCgroup
                : enforcement == "sample" ? process::MemoryEnforcement::kSample
                : enforcement == "off"    ? process::MemoryEnforcement::kOff
                                          : process::MemoryEnforcement::kAuto;
    auto made = process::make_resource_controller(io, mode, &blocking);
    if (!made) {
      std::fprintf(stderr, "lambdad: --memory-enforcement %s: %s\n", enforcement.c_str(), made.error().message.c_str());
      return false;
    }
    std::string unguarded;
    resources = process::guard_process_groups(std::move(made).value(), &unguarded);
    if (!unguarded.empty()) {
      observability::daemon_log()->warn(
          "no helper process to kill the functions' processes should this daemon be killed: {}", unguarded);
    }
    observability::daemon_log()->info("memory enforcement: {}", resources->describe());
    // What daemons killed with SIGKILL left: their groups (and the processes their functions
    // left running in them) and their /tmp roots (docs/decisions/011).
    for (const auto& dir : resources->remove_stale_groups()) {
      observability::daemon_log()->info("removed the cgroup {} of a daemon that is gone (and killed what ran in it)",
                                        dir.string());
    }
    // Functions' /tmp directories live on disk (/var/tmp), not on a tmpfs: tmpfs pages would
    // count against each function's MemorySize (docs/decisions/005). LAMBDAD_TMP_ROOT overrides.
    const char* base = std::getenv("LAMBDAD_TMP_ROOT");
    const std::filesystem::path tmp_base = base && *base ? base : "/var/tmp";
    for (const auto& dir : process::remove_stale_tmp_roots(tmp_base)) {
      observability::daemon_log()->info("removed {}, the /tmp root of a daemon that is gone", dir.string());
    }
    tmp_root = tmp_base / fmt::format("lambdad-{}", ::getpid());
    std::error_code ec;
    std::filesystem::create_directories(tmp_root, ec);
    if (ec) {
      std::fprintf(stderr, "lambdad: cannot create %s: %s\n", tmp_root.c_str(), ec.message().c_str());
      return false;
    }
    if (process::on_tmpfs(tmp_root)) {
      observability::daemon_log()->warn(
          "functions' /tmp directories are under {}, a tmpfs: what a function writes to /tmp counts against its "
          "MemorySize there (set LAMBDAD_TMP_ROOT to a disk directory)",
          tmp_root.string());
    }
    prepare_root();
    return true;
  }

  // Whether functions run in a Lambda-shaped root (docs/decisions/014): decided once, said once.
  void prepare_root() {
    const auto mount_point = tmp_root / ".root";
    std::string why;
    std::error_code ec;
    if (!runtime_options.want_root) {
      why = "--filesystem host";
    } else if (std::filesystem::create_directories(mount_point, ec); ec) {
      why = "cannot create " + mount_point.string() + ": " + ec.message();
    } else if (auto st = process::probe_lambda_root(mount_point); !st) {
      why = st.error().message;
    }
    auto log = observability::daemon_log();
    if (why.empty()) {
      runtime_options.root_mount_point = mount_point;
      log->info("functions run in a Lambda-shaped root: code at /var/task, layers at /opt, the runtime client at "
                "/var/runtime, a private /tmp, the host's /usr and /etc read-only and nothing else of the host");
      return;
    }
    log->warn("functions run on the host's paths, not in a Lambda-shaped root ({}): their code is at its own "
              "directory (LAMBDA_TASK_ROOT), layers are on search paths, and they can read the host's files; "
              "imports are still limited to the function, its layers and the runtime (docs/decisions/014)",
              why);
  }

  // The core, with the template's `functions`: the catalogue, the scheduler, the pools and (with
  // options.events) the Event queue, which follow the catalogue; then the template's functions
  // enter the catalogue, which gives them pools and Event settings. serve then loads the stored
  // functions into the catalogue.
  void build(const std::vector<config::FunctionConfig>& functions, CoreOptions options) {
    sandbox::PoolDeps deps{domain, clock, *timers, endpoints, runtime_options,
                           sandbox::LimitDeps{resources.get(), tmp_root, options.cpu_scaling, &blocking, tmp_removal}};
    auto& pools = options.pools;
    if (resources) {
      pools.memory_enforcement = resources->describe();
      switch (resources->mode()) {
        case process::MemoryEnforcement::kCgroup: pools.memory_enforcement_mode = "cgroup"; break;
        case process::MemoryEnforcement::kSample: pools.memory_enforcement_mode = "sample"; break;
        default: pools.memory_enforcement_mode = "off"; break;
      }
    }
    scheduler::SchedulerOptions scheduling;
    open_xray(scheduling);
    manager = std::make_unique<sandbox::SandboxManager>(deps, std::move(pools));
    registry = std::make_unique<control_plane::FunctionRegistry>(
        clock, [this](std::function<void()> task) { boost::asio::post(domain, std::move(task)); }, blocking,
        std::move(options.catalogue));
    scheduler = std::make_unique<scheduler::Scheduler>(*registry, *manager, std::move(scheduling));
    // The pools and the Event queue follow the catalogue (docs/decisions/019).
    registry->subscribe([pools = manager.get()](const control_plane::CatalogueChange& c) { pools->follow(c); });
    if (options.events) {
      events = std::make_unique<async::EventQueue>(*scheduler, clock, *timers, blocking, std::move(*options.events));
      registry->subscribe([queue = events.get()](const control_plane::CatalogueChange& c) { queue->follow(c); });
    }
    registry->add_template_functions(functions, options.urls);
    if (options.durable) build_durable(*options.durable);
  }

  // The durable executions' store, engine and invoker; false (said why) when the store cannot be
  // opened.
  bool build_durable(const CoreOptions::Durable& options) {
    auto log = observability::daemon_log();
    auto store = durable::Store::open(options.store_file);
    if (!store) {
      log->error("durable executions: {}: {}; they are kept in memory only",
                 options.store_file.empty() ? std::string("memory") : options.store_file.string(),
                 store.error().message);
      store = durable::Store::open({});
      if (!store) return false;
    }
    durable_store = std::move(store).value();
    durable_invoker = std::make_unique<durable::DispatchInvoker>(*scheduler, clock, *timers, runtime_options.region,
                                                                 runtime_options.account_id);
    durable::EngineOptions engine_options;
    engine_options.time_scale = options.time_scale;
    durable = std::make_unique<durable::Engine>(clock, *timers, *durable_invoker, engine_options,
                                                [] { return ids::request_id(); }, durable_store.get());
    // A chained invoke of a durable function starts an execution of its own and ends with it.
    durable_invoker->set_start_child([this](const std::string& name, const std::string& version, std::string payload,
                                            std::function<void(durable::DurableInvoker::ChainedOutcome)> done) {
      auto started = start_execution(name, version, "", payload.empty() ? "{}" : std::move(payload));
      if (!started) {
        return done({std::nullopt, nlohmann::json{{"ErrorType", started.error().type},
                                                  {"ErrorMessage", started.error().message}}});
      }
      durable->on_end(started->arn, [done = std::move(done)](const durable::Execution& e) {
        if (e.status == durable::ExecutionStatus::kSucceeded) return done({e.result.value_or(""), std::nullopt});
        done({std::nullopt, e.error.value_or(nlohmann::json::object())});
      });
    });
    return true;
  }

  // Starts an execution of the durable function's `version` under its DurableConfig: the one way
  // `lambdad invoke`, `lambdad test` and chained invokes start one. `time_scale` 0: the engine's.
  Result<durable::Engine::Started> start_execution(const std::string& name, const std::string& version,
                                                   std::string execution_name, std::string payload,
                                                   double time_scale = 0) {
    const auto settings = scheduler->durable(name, version).value_or(invocation::DurableSettings{});
    durable::Engine::StartRequest start{
        invocation::function_arn(runtime_options.region, runtime_options.account_id, name, version), version,
        std::move(execution_name), std::move(payload), settings.execution_timeout_s, settings.retention_days};
    start.time_scale = time_scale;
    return durable->start(start);
  }

  // Takes up the stored durable executions (once the functions are in the catalogue and the
  // Invoke API listens: re-invocations need both).
  void recover_durable() {
    if (!durable) return;
    auto running = durable->recover();
    if (!running) {
      observability::daemon_log()->error("durable executions: cannot read the store: {}", running.error().message);
    } else if (*running > 0) {
      observability::daemon_log()->info("durable executions: {} running execution(s) taken up from the store", *running);
    }
  }

  // Functions' X-Ray SDKs send their segments to AWS_XRAY_DAEMON_ADDRESS: here, a UDP port on
  // 127.0.0.1 (Lambda's 169.254.100.1:2000 is not reachable outside Lambda).
  void open_xray(scheduler::SchedulerOptions& options) {
    if (!xray) {
      auto opened = observability::XRayListener::open(domain);
      if (!opened) {
        observability::daemon_log()->warn("X-Ray: {}; functions' segments are not received", opened.error().message);
        return;
      }
      xray = std::move(opened).value();
      runtime_options.xray_daemon_port = xray->port();
      observability::daemon_log()->debug("X-Ray daemon address: 127.0.0.1:{} (UDP)", xray->port());
    }
    options.on_admitted = [recorder = &xray->recorder()](const invocation::Invocation& inv) {
      recorder->note_trace(inv.trace_id, inv.function_name);
    };
  }
};

}  // namespace lambdad::app
