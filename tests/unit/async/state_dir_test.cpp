// The state directory: its layout, and the lock that keeps a second daemon off it.
#include "lambdad/async/state_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "async_test_support.hpp"

namespace lambdad::async {
namespace {

TEST(StateDir, CreatesItsLayout) {
  test::TempDir dir;
  auto state = StateDir::open(dir.path() / "state");
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_TRUE(std::filesystem::is_directory(state->events_dir()));
  EXPECT_TRUE(std::filesystem::is_directory(state->destinations_dir()));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "state" / "lambdad.lock"));
}

TEST(StateDir, OneDaemonAtATime) {
  test::TempDir dir;
  {
    auto first = StateDir::open(dir.path());
    ASSERT_TRUE(first.ok());
    auto second = StateDir::open(dir.path());
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().kind, ErrorKind::kConflict);
    EXPECT_THAT(second.error().message, ::testing::HasSubstr("in use by another lambdad"));
    StateDir moved = std::move(first).value();  // the lock moves with it
    EXPECT_FALSE(StateDir::open(dir.path()).ok());
  }
  EXPECT_TRUE(StateDir::open(dir.path()).ok()) << "released with the last owner";
}

TEST(StateDir, ReportsADirectoryItCannotCreate) {
  test::TempDir dir;
  { std::ofstream(dir.path() / "file") << "x"; }
  auto state = StateDir::open(dir.path() / "file");
  ASSERT_FALSE(state.ok());
  EXPECT_THAT(state.error().message, ::testing::HasSubstr("cannot create"));
}

}  // namespace
}  // namespace lambdad::async
