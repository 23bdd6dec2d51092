// A held spawn (SpawnSpec::hold, docs/decisions/022): the child is set up ahead and waits in the
// real holder (lambdad-hold, built beside the daemon) until release(); what failed in its setup
// or its exec is told by release(), with spawn()'s errors; one destroyed unreleased never runs.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "lambdad/process/child_process.hpp"
#include "shell.hpp"

namespace lambdad::process {
namespace {

using namespace std::chrono_literals;

class HeldSpawnTest : public ::testing::Test {
 protected:
  HeldSpawnTest() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lambdad-held-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  ~HeldSpawnTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<ChildProcess> start(SpawnSpec spec) {
    spec.hold = LAMBDAD_HOLD;
    auto r = spawn(io_, spec,
                   ChildCallbacks{[this](std::string_view l) { lines_.emplace_back(l); },
                                  [this](ExitStatus s) { exit_ = s; }});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
  }
  bool run_until_exit() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    io_.restart();
    while (!exit_ && std::chrono::steady_clock::now() < deadline) io_.run_one_for(100ms);
    return exit_.has_value();
  }

  std::filesystem::path dir_;
  boost::asio::io_context io_;
  std::vector<std::string> lines_;
  std::optional<ExitStatus> exit_;
};

TEST_F(HeldSpawnTest, RunsOnlyOnceReleased) {
  const auto marker = dir_ / "ran";
  auto child = start(shell("echo ran; touch " + marker.string()));
  ASSERT_TRUE(child);
  io_.run_for(300ms);
  EXPECT_FALSE(std::filesystem::exists(marker)) << "ran before release()";
  EXPECT_TRUE(lines_.empty());
  EXPECT_FALSE(exit_);
  ASSERT_TRUE(child->release().ok());
  ASSERT_TRUE(run_until_exit());
  EXPECT_EQ(exit_->describe(), "exit status 0");
  EXPECT_EQ(lines_, std::vector<std::string>{"ran"});
  EXPECT_TRUE(std::filesystem::exists(marker));
  EXPECT_TRUE(child->release().ok()) << "a second release() is a no-op";
}

TEST_F(HeldSpawnTest, ItsSetupFailureIsToldByRelease) {
  SpawnSpec spec = shell("true");
  spec.join_files = {(dir_ / "missing" / "cgroup.procs").string()};
  auto child = start(spec);
  ASSERT_TRUE(child);
  auto released = child->release();
  ASSERT_FALSE(released.ok());
  EXPECT_EQ(released.error().type, "Sandbox.Failure");
  EXPECT_NE(released.error().message.find("cannot join cgroup " + spec.join_files[0]), std::string::npos)
      << released.error().message;
}

TEST_F(HeldSpawnTest, AnExecFailureIsToldByReleaseAsSpawnTellsIt) {
  const auto bogus = dir_ / "bootstrap";
  std::ofstream(bogus) << "not a program\n";  // no #!: the exec itself fails (ENOEXEC)
  std::filesystem::permissions(bogus, std::filesystem::perms::owner_all);
  auto child = start(SpawnSpec{bogus.string(), {}, {"PATH=/usr/bin:/bin"}, "/"});
  ASSERT_TRUE(child);
  auto released = child->release();
  ASSERT_FALSE(released.ok());
  EXPECT_EQ(released.error().type, "Runtime.InvalidEntrypoint");
  EXPECT_EQ(released.error().message, "fork/exec " + bogus.string() + ": exec format error");
}

// The holder can die before release() (killed, or its setup failed): release() says so, and the
// go byte written to a reader that is gone is no SIGPIPE, here in a process that does not ignore it.
TEST_F(HeldSpawnTest, ReleasingOneWhoseHolderDiedIsAnError) {
  struct sigaction dfl {};
  struct sigaction old_pipe {};
  dfl.sa_handler = SIG_DFL;
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old_pipe), 0);
  auto child = start(shell("true"));
  ASSERT_TRUE(child);
  child->kill_group();
  ASSERT_TRUE(run_until_exit());
  auto released = child->release();
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ASSERT_FALSE(released.ok());
  EXPECT_EQ(released.error().type, "Sandbox.Failure");
  EXPECT_NE(released.error().message.find("the sandbox made ahead is gone"), std::string::npos)
      << released.error().message;
}

TEST_F(HeldSpawnTest, OneDestroyedUnreleasedNeverRuns) {
  const auto marker = dir_ / "ran";
  auto child = start(shell("touch " + marker.string()));
  ASSERT_TRUE(child);
  const pid_t pid = child->pid();
  io_.run_for(100ms);
  child.reset();  // kills and reaps the holder
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_NE(::kill(pid, 0), 0) << "the holder is still there";
}

}  // namespace
}  // namespace lambdad::process
