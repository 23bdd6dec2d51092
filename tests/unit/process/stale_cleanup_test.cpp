// What a daemon killed with SIGKILL leaves behind: its process groups, killed at once by its
// helper; its /tmp root and its cgroups (on a fake tree here), found and removed by the next
// start, never a running daemon's.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cgroup_files.hpp"
#include "lambdad/process/resource_limits.hpp"
#include "resource_controllers.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;

// The pid of a child that has exited and been reaped: no process has it (until reused).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

std::string daemon_dir(pid_t pid) { return "lambdad-" + std::to_string(pid); }

class StaleCleanup : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "stale-cleanup-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path root_;
};

TEST(DaemonPid, ReadsOnlyTheDaemonsDirectoryNames) {
  EXPECT_EQ(daemon_pid("lambdad-1234"), 1234);
  EXPECT_EQ(daemon_pid("lambdad-"), std::nullopt);
  EXPECT_EQ(daemon_pid("lambdad-12a"), std::nullopt);
  EXPECT_EQ(daemon_pid("lambdad-0"), std::nullopt);
  EXPECT_EQ(daemon_pid("lambdad-007"), std::nullopt);
  EXPECT_EQ(daemon_pid("lambdad-e2e-x1y2"), std::nullopt);
  EXPECT_EQ(daemon_pid("lambdad-99999999999"), std::nullopt);
  EXPECT_EQ(daemon_pid("lambdad-cgroup-123"), std::nullopt);
  EXPECT_EQ(daemon_pid("xlambdad-12"), std::nullopt);
}

TEST(PidRunning, TellsALiveProcessFromAGoneOne) {
  EXPECT_TRUE(pid_running(::getpid()));
  EXPECT_TRUE(pid_running(1));  // not ours to signal maybe, but it runs
  EXPECT_FALSE(pid_running(dead_pid()));
}

TEST_F(StaleCleanup, RemovesTheTmpRootsOfGoneDaemonsOnly) {
  const pid_t gone = dead_pid();
  const fs::path stale = root_ / daemon_dir(gone);
  fs::create_directories(stale / "Fn-1");
  fs::permissions(stale / "Fn-1", fs::perms::all | fs::perms::sticky_bit);
  std::ofstream(stale / "Fn-1" / "data") << "left behind";
  const fs::path mine = root_ / daemon_dir(::getpid());
  const fs::path running = root_ / daemon_dir(::getppid());
  const fs::path other = root_ / "lambdad-e2e-abc";
  for (const auto& d : {mine, running, other}) fs::create_directories(d);
  // A link with a gone daemon's name is not followed nor removed: only directories are ours.
  const fs::path target = root_ / "target";
  fs::create_directories(target);
  std::ofstream(target / "keep") << "x";
  const pid_t gone2 = dead_pid();
  fs::create_directory_symlink(target, root_ / daemon_dir(gone2));

  const auto removed = remove_stale_tmp_roots(root_);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], stale);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::is_directory(mine));
  EXPECT_TRUE(fs::is_directory(running));
  EXPECT_TRUE(fs::is_directory(other));
  EXPECT_TRUE(fs::is_symlink(root_ / daemon_dir(gone2)));
  EXPECT_TRUE(fs::exists(target / "keep"));
}

TEST_F(StaleCleanup, NoBaseDirectoryIsNothingToDo) {
  EXPECT_TRUE(remove_stale_tmp_roots(root_ / "missing").empty());
}

TEST_F(StaleCleanup, V2ControllerRemovesTheGroupsOfGoneDaemons) {
  std::ofstream(root_ / "cgroup.controllers") << "cpu memory pids\n";
  const fs::path stale = root_ / daemon_dir(dead_pid());
  fs::create_directories(stale / "Fn-1");
  const fs::path running = root_ / daemon_dir(::getppid());
  fs::create_directories(running / "Fn-1");
  auto controller = make_cgroup_v2_controller(root_, daemon_dir(::getpid()), true);
  ASSERT_TRUE(controller) << controller.error().message;
  const auto removed = controller.value()->remove_stale_groups();
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], stale);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::is_directory(running / "Fn-1"));
  EXPECT_TRUE(fs::is_directory(root_ / daemon_dir(::getpid())));
}

TEST_F(StaleCleanup, V1ControllerRemovesTheGroupsOfGoneDaemonsInEachHierarchy) {
  const std::string gone = daemon_dir(dead_pid());
  for (const char* h : {"memory", "pids"}) {
    fs::create_directories(root_ / h / gone / "Fn-1");
    fs::create_directories(root_ / h / daemon_dir(::getppid()));
  }
  auto controller = make_cgroup_v1_controller({root_ / "memory", root_ / "pids", {}}, daemon_dir(::getpid()), true);
  ASSERT_TRUE(controller) << controller.error().message;
  const auto removed = controller.value()->remove_stale_groups();
  EXPECT_EQ(removed.size(), 2u);
  for (const char* h : {"memory", "pids"}) {
    EXPECT_FALSE(fs::exists(root_ / h / gone)) << h;
    EXPECT_TRUE(fs::is_directory(root_ / h / daemon_dir(::getppid()))) << h;
  }
}

TEST(SamplingController, HasNoGroupsToClean) {
  EXPECT_TRUE(make_off_controller()->remove_stale_groups().empty());
}

}  // namespace
}  // namespace lambdad::process

namespace lambdad::process {
namespace {

// A stand-in daemon (a child of the test) guards a process group of its own, then is killed with
// SIGKILL: the helper kills that process group. The test is a subreaper so that it can reap the
// group's process, orphaned by the stand-in's death, and see how it ended.
TEST(Guardian, KillsTheGroupsOfADaemonKilledWithSigkill) {
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t daemon = ::fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    std::string why;
    auto controller = guard_process_groups(make_off_controller(), &why);
    auto group = controller->create_group("Fn-1", EnvironmentLimits{});
    const pid_t member = ::fork();
    if (member == 0) {
      // exec, as a runtime does: the helper's pipe is close-on-exec (a member holding it would
      // keep the helper from seeing the daemon go).
      ::setpgid(0, 0);
      ::execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(member, member);
    if (!why.empty() || !group) ::_exit(3);
    group.value()->attach(member);
    [[maybe_unused]] auto n = ::write(ready[1], &member, sizeof member);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  pid_t member = 0;
  ASSERT_EQ(::read(ready[0], &member, sizeof member), static_cast<ssize_t>(sizeof member));
  ::close(ready[0]);
  ::kill(daemon, SIGKILL);
  ::waitpid(daemon, nullptr, 0);

  int status = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    reaped = ::waitpid(member, &status, WNOHANG);
    if (reaped == 0) ::usleep(10000);
  }
  if (reaped == 0) ::kill(member, SIGKILL);
  // The helper, orphaned too, exits once it has killed the group.
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_EQ(reaped, member) << "the group outlived its daemon by 5 s";
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(Guardian, ExitsQuietlyWhenTheDaemonStopsCleanly) {
  std::string why;
  auto controller = guard_process_groups(make_off_controller(), &why);
  EXPECT_EQ(why, "");
  EXPECT_EQ(controller->describe(), "off");
  controller.reset();  // tells the helper and reaps it; a hang here fails the test by timeout
}

}  // namespace
}  // namespace lambdad::process
