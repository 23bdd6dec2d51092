#include "lambdad/sandbox/function_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lambdad/common/error_types.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/observability/platform_log.hpp"

namespace lambdad::sandbox {

FunctionPool::FunctionPool(const PoolDeps& deps, config::FunctionConfig fn, std::size_t max_environments)
    : deps_(deps), fn_(std::move(fn)), max_environments_(std::max<std::size_t>(1, max_environments)) {}

FunctionPool::~FunctionPool() {
  *alive_ = false;
  shutdown();
}

void FunctionPool::submit(invocation::InvocationPtr inv) {
  if (shut_down_) {
    fail_without_environment(inv, Error{ErrorKind::kFunctionError, std::string(error_types::kSandboxFailure),
                                        "the daemon is shutting down"});
    return;
  }
  queue_.push_back(std::move(inv));
  pump();
}

void FunctionPool::pump() {
  if (pumping_) return;  // environments call back into on_idle while we assign
  pumping_ = true;
  while (!queue_.empty() && !shut_down_) {
    ExecutionEnvironment* target = nullptr;
    for (auto& env : envs_) {
      if (env->available()) {
        target = env.get();
        break;
      }
    }
    if (!target) {
      if (envs_.size() >= max_environments_) break;
      EnvironmentDeps env_deps{deps_.io, deps_.clock, deps_.endpoints, deps_.runtime_options, *this};
      auto started = ExecutionEnvironment::start(env_deps, fn_, next_serial_++);
      if (!started) {
        auto inv = std::move(queue_.front());
        queue_.pop_front();
        fail_without_environment(inv, started.error());
        continue;
      }
      envs_.push_back(std::move(started).value());
      target = envs_.back().get();
    }
    auto inv = std::move(queue_.front());
    queue_.pop_front();
    target->assign(std::move(inv));
  }
  pumping_ = false;
}

void FunctionPool::on_idle(ExecutionEnvironment&) { pump(); }

void FunctionPool::on_dead(ExecutionEnvironment& env) {
  auto it = std::find_if(envs_.begin(), envs_.end(), [&](const auto& p) { return p.get() == &env; });
  if (it == envs_.end()) return;
  // Not destroyed here: we are inside one of its callbacks.
  std::shared_ptr<ExecutionEnvironment> doomed(std::move(*it));
  envs_.erase(it);
  boost::asio::post(deps_.io, [doomed] {});
  if (!shut_down_) {
    boost::asio::post(deps_.io, [this, alive = alive_] {
      if (*alive) pump();
    });
  }
}

void FunctionPool::fail_without_environment(const invocation::InvocationPtr& inv, const Error& error) {
  // The environment could not even start (e.g. no bootstrap): Lambda still answers the invoke
  // with a function error and logs START/END/REPORT for it.
  auto log = observability::function_log();
  const std::string prefix = fmt::format("[{}] ", fn_.name);
  std::string lines;
  auto emit = [&](const std::string& line) {
    log->info("{}{}", prefix, line);
    lines.append(line).push_back('\n');
  };
  emit(observability::start_line(inv->request_id, inv->qualifier));
  observability::function_log()->info("{}[{}] {}", prefix, inv->request_id, error.message);
  emit(observability::end_line(inv->request_id));
  observability::ReportFields f;
  f.request_id = inv->request_id;
  f.memory_size_mb = fn_.memory_mb;
  f.status = "error";
  f.error_type = error.type;
  emit(observability::report_line(f));

  invocation::InvocationResult r;
  r.outcome = invocation::Outcome::kFunctionError;
  r.error_type = error.type.empty() ? std::string(error_types::kSandboxFailure) : error.type;
  r.payload = nlohmann::ordered_json{{"errorType", r.error_type},
                             {"errorMessage", fmt::format("RequestId: {} Error: {}", inv->request_id, error.message)}}
                  .dump();
  r.log = std::move(lines);
  if (inv->on_complete) inv->on_complete(std::move(r));
}

void FunctionPool::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  auto queued = std::move(queue_);
  queue_.clear();
  for (auto& inv : queued) {
    fail_without_environment(inv, Error{ErrorKind::kFunctionError, std::string(error_types::kSandboxFailure),
                                        "the daemon is shutting down"});
  }
  for (auto& env : envs_) env->kill("the daemon is shutting down");
  envs_.clear();  // destroying an environment kills and reaps its process group
}

}  // namespace lambdad::sandbox
