// A Clock and Timers whose time moves only when a test says so: advance() fires every timer that
// falls due, in time order, each with now() equal to its own due time. Nothing here sleeps.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "lambdad/common/clock.hpp"
#include "lambdad/common/timer.hpp"

namespace lambdad::test {

class ManualTime final : public Clock, public Timers {
 public:
  Steady::time_point now() const override { return now_; }
  std::int64_t epoch_ms() const override {
    return 1'700'000'000'000 + std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count();
  }

  std::unique_ptr<Timer> make_timer() override { return std::make_unique<ManualTimer>(*this); }

  // Moves time forward by `d`, firing due timers on the way (timers they arm fire too if due).
  void advance(std::chrono::milliseconds d) {
    const auto target = now_ + d;
    while (auto* due = next_due(target)) {
      now_ = std::max(now_, due->at);
      auto fn = std::move(due->fn);
      due->armed = false;
      fn();
    }
    now_ = target;
  }
  // How many timers are armed (for tests that check nothing is left pending).
  std::size_t armed() const {
    return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const auto& s) {
      auto p = s.lock();
      return p && p->armed;
    }));
  }

 private:
  struct Slot {
    bool armed = false;
    Steady::time_point at{};
    std::uint64_t order = 0;  // ties fire in arming order
    std::function<void()> fn;
  };

  class ManualTimer final : public Timer {
   public:
    explicit ManualTimer(ManualTime& time) : time_(time) { time_.slots_.push_back(slot_); }
    void arm(Steady::time_point at, std::function<void()> fn) override {
      slot_->armed = true;
      slot_->at = at;
      slot_->order = ++time_.order_;
      slot_->fn = std::move(fn);
    }
    void cancel() override {
      slot_->armed = false;
      slot_->fn = nullptr;
    }

   private:
    ManualTime& time_;
    std::shared_ptr<Slot> slot_ = std::make_shared<Slot>();
  };

  Slot* next_due(Steady::time_point target) {
    Slot* best = nullptr;
    std::erase_if(slots_, [](const std::weak_ptr<Slot>& w) { return w.expired(); });
    for (auto& w : slots_) {
      auto p = w.lock();
      if (!p || !p->armed || p->at > target) continue;
      if (!best || p->at < best->at || (p->at == best->at && p->order < best->order)) best = p.get();
    }
    return best;
  }

  Steady::time_point now_{std::chrono::hours(1)};
  std::uint64_t order_ = 0;
  std::vector<std::weak_ptr<Slot>> slots_;
};

}  // namespace lambdad::test
