// Driving the BlockingPool from a test: a Gate that holds a pool thread until the test opens it,
// and settle(), which runs the pool's jobs and the completions they post until neither is left.
// The test's thread runs the loop, so it is the io thread (docs/decisions/001).
#pragma once

#include <boost/asio/io_context.hpp>

#include <future>

#include "lambdad/common/blocking_pool.hpp"

namespace lambdad::test {

// Holds a pool thread until open() is called.
class Gate {
 public:
  // A job that says it started and then waits for the gate.
  auto job() {
    return [this] {
      started_.set_value();
      opened_.wait();
    };
  }
  void wait_started() { started_.get_future().wait(); }
  void open() { open_.set_value(); }

 private:
  std::promise<void> started_;
  std::promise<void> open_;
  std::shared_future<void> opened_ = open_.get_future().share();
};

// Waits for the pool's jobs and runs the completions they posted, again while completions hand
// the pool more work.
inline void settle(BlockingPool& pool, boost::asio::io_context& io) {
  for (;;) {
    pool.wait_idle();
    io.restart();
    if (io.poll() == 0) return;
  }
}

}  // namespace lambdad::test
