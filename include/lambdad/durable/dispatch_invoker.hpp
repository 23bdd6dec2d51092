// durable: the engine's invocations as ordinary invocations through the Dispatcher (the
// scheduler): each re-invocation of an execution has its own request id and meets concurrency
// limits and warm pools as any invoke does (docs/decisions/026). A throttled invocation is
// tried again after a short delay, as the service re-drives it; it is not a failed invocation.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "lambdad/common/clock.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/timer.hpp"
#include "lambdad/durable/engine.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::durable {

class DispatchInvoker final : public DurableInvoker {
 public:
  DispatchInvoker(invocation::Dispatcher& dispatcher, const Clock& clock, Timers& timers, std::string region,
                  std::string account_id);
  ~DispatchInvoker() override;

  void invoke(const Execution& execution, std::string event, std::function<void(Outcome)> done) override;
  void chained_invoke(const std::string& function, std::string payload, const std::string& tenant_id,
                      std::function<void(ChainedOutcome)> done) override;

  // A durable target of a chained invoke starts an execution of its own (set by the daemon once
  // the engine exists): (function, version, payload, done). Unset: durable targets are refused.
  using StartChild = std::function<void(const std::string& name, const std::string& version, std::string payload,
                                        std::function<void(ChainedOutcome)> done)>;
  void set_start_child(StartChild start) { start_child_ = std::move(start); }

  static constexpr std::chrono::milliseconds kThrottleRetry{200};

 private:
  struct Call;
  // A call of the function's `version` (request id and trace header made here).
  std::shared_ptr<Call> call_of(std::string name, std::string qualifier, std::string version, std::string arn,
                                std::string payload) const;
  void dispatch(std::shared_ptr<Call> call);

  invocation::Dispatcher& dispatcher_;
  const Clock& clock_;
  Timers& timers_;
  std::string region_;
  std::string account_id_;
  StartChild start_child_;
  Lifetime lifetime_;
};

}  // namespace lambdad::durable
