// BlockingPool: work runs on the pool's threads, completions on the thread that runs the loop,
// only for owners still alive; a full queue runs the job in place; shutdown runs what it accepted.
#include "lambdad/common/blocking_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "lambdad_test/blocking_work.hpp"

namespace lambdad {
namespace {

using test::Gate;

TEST(BlockingPool, WorkRunsOnAPoolThreadAndItsResultComesBackOnTheLoopsThread) {
  boost::asio::io_context io;
  BlockingPool pool(io, {.threads = 2, .capacity = 8});
  Lifetime owner;
  std::thread::id worked_on;
  std::thread::id done_on;
  std::optional<int> got;
  pool.run(
      owner.token(),
      [&] {
        worked_on = std::this_thread::get_id();
        return 42;
      },
      [&](int result) {
        done_on = std::this_thread::get_id();
        got = result;
      });
  pool.wait_idle();
  EXPECT_FALSE(got) << "the completion waits for the loop";
  io.run();
  EXPECT_EQ(got, 42);
  EXPECT_NE(worked_on, std::this_thread::get_id());
  EXPECT_EQ(done_on, std::this_thread::get_id());
}

TEST(BlockingPool, TheResultOfAnOwnerThatDiedIsDroppedButTheWorkRan) {
  boost::asio::io_context io;
  BlockingPool pool(io);
  std::atomic<bool> worked{false};
  bool done = false;
  {
    Lifetime owner;
    pool.run(owner.token(), [&] { worked = true; }, [&] { done = true; });
    pool.wait_idle();
  }
  io.run();
  EXPECT_TRUE(worked);
  EXPECT_FALSE(done);
}

TEST(BlockingPool, MoveOnlyWorkResultsAndCompletionsAreCarried) {
  boost::asio::io_context io;
  BlockingPool pool(io);
  Lifetime owner;
  auto input = std::make_unique<int>(6);
  auto offset = std::make_unique<int>(100);
  int got = 0;
  pool.run(
      owner.token(), [input = std::move(input)] { return std::make_unique<int>(*input * 7); },
      [&got, offset = std::move(offset)](std::unique_ptr<int> result) { got = *result + *offset; });
  pool.wait_idle();
  io.run();
  EXPECT_EQ(got, 142);
}

TEST(BlockingPool, WorkWithNothingToReportRuns) {
  boost::asio::io_context io;
  BlockingPool pool(io);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) pool.run([&] { ++ran; });
  pool.wait_idle();
  EXPECT_EQ(ran, 10);
  EXPECT_EQ(io.poll(), 0u) << "nothing is posted";
}

TEST(BlockingPool, AFullQueueRunsTheJobInPlaceAndStillPostsItsCompletion) {
  boost::asio::io_context io;
  BlockingPool pool(io, {.threads = 1, .capacity = 1});
  Lifetime owner;
  Gate gate;
  pool.run(gate.job());
  gate.wait_started();  // the one thread is busy
  int done = 0;
  std::thread::id queued_on, in_place_on;
  pool.run(owner.token(), [&] { queued_on = std::this_thread::get_id(); }, [&] { ++done; });  // fills the queue
  pool.run(owner.token(), [&] { in_place_on = std::this_thread::get_id(); }, [&] { ++done; });
  EXPECT_EQ(in_place_on, std::this_thread::get_id()) << "no room: the caller did the work";
  EXPECT_EQ(pool.ran_in_place(), 1u);
  EXPECT_EQ(done, 0) << "a completion is never called from run() itself";
  gate.open();
  pool.wait_idle();
  EXPECT_NE(queued_on, std::this_thread::get_id());
  io.run();
  EXPECT_EQ(done, 2);
}

TEST(BlockingPool, ShutdownRunsWhatItAcceptedAndPostsTheirCompletions) {
  boost::asio::io_context io;
  Lifetime owner;
  std::atomic<int> ran{0};
  int done = 0;
  {
    BlockingPool pool(io, {.threads = 1, .capacity = 16});
    Gate gate;
    pool.run(gate.job());
    gate.wait_started();
    for (int i = 0; i < 5; ++i) pool.run(owner.token(), [&] { ++ran; }, [&] { ++done; });
    std::thread opener([&] {
      std::this_thread::yield();
      gate.open();
    });
    pool.shutdown();  // waits for the gate, then runs the five
    opener.join();
    EXPECT_EQ(ran, 5);
    EXPECT_EQ(pool.ran_in_place(), 0u);
  }
  io.run();
  EXPECT_EQ(done, 5);
}

TEST(BlockingPool, AfterShutdownWorkRunsInPlaceAndItsCompletionIsDropped) {
  boost::asio::io_context io;
  BlockingPool pool(io);
  pool.shutdown();
  pool.shutdown();  // idempotent
  Lifetime owner;
  std::thread::id worked_on;
  bool done = false;
  pool.run(owner.token(), [&] { worked_on = std::this_thread::get_id(); }, [&] { done = true; });
  EXPECT_EQ(worked_on, std::this_thread::get_id());
  io.run();
  EXPECT_FALSE(done);
}

TEST(BlockingPool, ManyJobsFromTheLoopAndFromJobsAllComplete) {
  boost::asio::io_context io;
  BlockingPool pool(io, {.threads = 4, .capacity = 8});
  Lifetime owner;
  constexpr int kJobs = 200;
  long sum = 0;
  int done = 0;
  std::atomic<int> nested{0};
  for (int i = 1; i <= kJobs; ++i) {
    pool.run(
        owner.token(),
        [&pool, &nested, i] {
          if (i % 10 == 0) pool.run([&nested] { ++nested; });  // a job may hand on work
          return i;
        },
        [&](int v) {
          sum += v;
          ++done;
        });
  }
  pool.wait_idle();
  io.run();
  EXPECT_EQ(done, kJobs);
  EXPECT_EQ(sum, static_cast<long>(kJobs) * (kJobs + 1) / 2);
  EXPECT_EQ(nested, kJobs / 10);
}

}  // namespace
}  // namespace lambdad
