// common: injected time. Domain code asks a Clock, never the system, so tests can fake time.
#pragma once

#include <chrono>
#include <cstdint>

namespace lambdad {

class Clock {
 public:
  using Steady = std::chrono::steady_clock;
  virtual ~Clock() = default;
  virtual Steady::time_point now() const = 0;
  // Unix epoch milliseconds (wall clock), used for Lambda-Runtime-Deadline-Ms.
  virtual std::int64_t epoch_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  Steady::time_point now() const override { return Steady::now(); }
  std::int64_t epoch_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace lambdad
