// io_thread: the first thread to claim the io thread keeps it; a checked call from any other
// thread aborts (debug builds).
#include "lambdad/common/io_thread.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace lambdad {
namespace {

TEST(IoThread, TheFirstClaimKeepsItAndOtherThreadsAreNotIt) {
  io_thread::claim("the test");  // the test's thread: the one gtest runs every test on
  EXPECT_TRUE(io_thread::is_current());
  io_thread::claim("the test again");  // the same thread may claim it again
  bool other = true;
  std::thread([&] { other = io_thread::is_current(); }).join();
  EXPECT_FALSE(other);
}

#ifndef NDEBUG
TEST(IoThreadDeathTest, ACheckedCallFromAnotherThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        io_thread::claim("the test");
        std::thread([] { LAMBDAD_ASSERT_IO_THREAD(); }).join();
      },
      "operator\\(\\) was called on a thread that is not the io thread");
}

TEST(IoThreadDeathTest, TheFirstCheckedCallClaimsIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::thread([] { LAMBDAD_ASSERT_IO_THREAD(); }).join();  // nothing claimed: this thread is it
        io_thread::claim("the main thread");
      },
      "the main thread was called on a thread that is not the io thread");
}
#endif

}  // namespace
}  // namespace lambdad
