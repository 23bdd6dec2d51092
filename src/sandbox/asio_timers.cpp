#include "lambdad/sandbox/asio_timers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>

namespace lambdad::sandbox {
namespace {

class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(const Executor& executor) : timer_(executor) {}
  ~AsioTimer() override { cancel(); }

  void arm(Clock::Steady::time_point at, std::function<void()> fn) override {
    // A wait that already completed cannot be cancelled by Asio (its handler is queued with
    // success), so every wait carries the generation it was armed in and fires only if current.
    const auto generation = ++*generation_;
    timer_.expires_at(at);
    timer_.async_wait([state = std::weak_ptr<std::uint64_t>(generation_), generation,
                       fn = std::move(fn)](const boost::system::error_code& ec) {
      auto current = state.lock();
      if (ec || !current || *current != generation) return;
      fn();
    });
  }

  void cancel() override {
    ++*generation_;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::shared_ptr<std::uint64_t> generation_ = std::make_shared<std::uint64_t>(0);
};

class AsioTimers final : public Timers {
 public:
  explicit AsioTimers(Executor executor) : executor_(std::move(executor)) {}
  std::unique_ptr<Timer> make_timer() override { return std::make_unique<AsioTimer>(executor_); }

 private:
  Executor executor_;
};

}  // namespace

std::unique_ptr<Timers> make_asio_timers(boost::asio::io_context& io) { return make_asio_timers(io.get_executor()); }

std::unique_ptr<Timers> make_asio_timers(Executor executor) { return std::make_unique<AsioTimers>(std::move(executor)); }

}  // namespace lambdad::sandbox
