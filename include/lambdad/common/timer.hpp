// common: injected one-shot timers on the Clock's time line. Domain code (deadlines, the init
// limit, the simulated cold-start delay, idle reclaim) arms timers through Timers, never through
// the event loop directly, so a test can fire them by moving a fake clock instead of sleeping.
#pragma once

#include <functional>
#include <memory>

#include "lambdad/common/clock.hpp"

namespace lambdad {

class Timer {
 public:
  // Destroying a timer cancels it.
  virtual ~Timer() = default;
  // Calls `fn` once, on the daemon's thread, when the clock reaches `at` (at once, asynchronously,
  // if it has). Arming again replaces the previous callback; a replaced or cancelled callback is
  // never called, even when its time had already come.
  virtual void arm(Clock::Steady::time_point at, std::function<void()> fn) = 0;
  virtual void cancel() = 0;
};

class Timers {
 public:
  virtual ~Timers() = default;
  virtual std::unique_ptr<Timer> make_timer() = 0;
};

}  // namespace lambdad
