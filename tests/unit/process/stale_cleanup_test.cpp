// What a daemon killed with SIGKILL leaves behind: its process groups, killed at once by its
// helper; its /tmp root and its cgroups (on a fake tree here), found and removed by the next
// start, never a running daemon's.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cgroup_files.hpp"
#include "lambdad/process/resource_limits.hpp"
#include "reap.hpp"
#include "resource_controllers.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

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

// The processes whose parent is `parent` now (the field after the state in /proc/<pid>/stat).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::ifstream f(it->path() / "stat");
    std::string stat;
    if (!std::getline(f, stat) || stat.rfind(')') == std::string::npos) continue;  // not a process, or gone
    std::istringstream rest(stat.substr(stat.rfind(')') + 1));
    char state = 0;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) out.push_back(std::stoi(it->path().filename().string()));
  }
  return out;
}

// A stand-in daemon (a child of the test) guards a process group of its own, then is killed with
// SIGKILL: the helper kills that process group. The test is a subreaper so that it can reap the
// group's process, orphaned by the stand-in's death, and see how it ended; the helper, orphaned
// too, is reaped here as well (a later test must find no child of this one).
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
  const ssize_t got = ::read(ready[0], &member, sizeof member);
  ::close(ready[0]);
  // The group's process and the helper: ours once the stand-in is gone.
  const std::vector<pid_t> orphans = children_of(daemon);
  ::kill(daemon, SIGKILL);
  ::waitpid(daemon, nullptr, 0);

  std::optional<int> member_status;
  std::vector<std::optional<int>> helper_statuses;
  for (pid_t pid : orphans) {
    const auto status = reap_within(pid, 5s);
    if (pid == member) {
      member_status = status;
    } else {
      helper_statuses.push_back(status);
    }
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof member));
  ASSERT_TRUE(member_status) << "the group outlived its daemon by 5 s";
  EXPECT_TRUE(WIFSIGNALED(*member_status));
  EXPECT_EQ(WTERMSIG(*member_status), SIGKILL);
  // The helper exits by itself once it has killed the group.
  ASSERT_EQ(helper_statuses.size(), 1u);
  ASSERT_TRUE(helper_statuses[0]) << "the helper outlived its daemon by 5 s";
  EXPECT_TRUE(WIFEXITED(*helper_statuses[0]) && WEXITSTATUS(*helper_statuses[0]) == 0) << *helper_statuses[0];
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
