// Limits on real processes: cgroups where the host lets us write them (skipped with the reason
// otherwise), the RSS sampler (everywhere), join_files, RLIMIT_NOFILE and the private /tmp.
#include "lambdad/process/resource_limits.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cgroup_files.hpp"
#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/process/child_process.hpp"
#include "reap.hpp"
#include "resource_controllers.hpp"
#include "shell.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kPython = "/usr/bin/python3";

class LimitsFixture : public ::testing::Test {
 protected:
  struct Run {
    std::vector<std::string> lines;
    std::optional<ExitStatus> exit;
    std::string output() const {
      std::string s;
      for (const auto& l : lines) s += l + "\n";
      return s;
    }
  };

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    const auto deadline = Clock::now() + limit;
    io_.restart();
    while (!done()) {
      const auto now = Clock::now();
      if (now >= deadline) return false;
      io_.run_one_for(std::min<Clock::duration>(deadline - now, 20ms));
    }
    return true;
  }

  // Spawns, attaches the child to `group`, runs until it exits.
  Result<std::unique_ptr<ChildProcess>> start(SpawnSpec spec, Run& run, ResourceGroup* group = nullptr) {
    if (group != nullptr) spec.join_files = group->join_files();
    auto child = spawn(io_, spec,
                       ChildCallbacks{[&run](std::string_view l) { run.lines.emplace_back(l); },
                                      [&run](ExitStatus s) { run.exit = s; }});
    if (child && group != nullptr) group->attach((*child)->pid());
    return child;
  }

  Run run_to_exit(SpawnSpec spec, ResourceGroup* group = nullptr) {
    Run run;
    auto child = start(std::move(spec), run, group);
    EXPECT_TRUE(child) << (child ? "" : child.error().message);
    if (!child) return run;
    EXPECT_TRUE(run_until([&] { return run.exit.has_value(); })) << "child did not exit";
    return run;
  }

  // Runs a Python process in `group` (limited to 64 MiB) that grows by 1 MiB every 5 ms up to
  // 400 MiB (200 MiB/s: a sampler every 50 ms sees it cross 64 MiB well before the end) and
  // expects it killed for its memory.
  void expect_killed_growing_past_64_mib(ResourceGroup& group) {
    const auto run = run_to_exit(
        SpawnSpec{kPython,
                  {"-c", "import time\na = []\nfor _ in range(400):\n  a.append(b'x' * (1 << 20))\n  time.sleep(0.005)\n"
                         "print('survived')"},
                  {}, "/"},
        &group);
    ASSERT_TRUE(run.exit);
    EXPECT_EQ(run.exit->describe(), "signal: killed") << run.output();
    EXPECT_TRUE(group.oom_killed());
    EXPECT_GT(group.peak_memory_bytes(), 64ull << 20);
  }

  // A directory removed at the end of the test: where the test tells its child to go on.
  struct ScratchDir {
    fs::path path;
    ScratchDir() {
      std::string tmpl = (fs::temp_directory_path() / "lambdad-limits-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
    }
    ~ScratchDir() {
      std::error_code ec;
      if (!path.empty()) fs::remove_all(path, ec);
    }
  };
  // A line of Python (after `import os, sys, time`): waits until the test creates the file argv[1].
  static constexpr const char* kAwaitArgv1 = "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n";

  // A Python child in phases, each entered when the test creates <dir>/<phase>: it holds 60 MiB
  // and says "big", frees it ("small", at 1), holds 30 MiB ("again", at 2) and exits at 3.
  struct Phases {
    ScratchDir dir;
    Run run;
    std::unique_ptr<ChildProcess> child;
  };
  static constexpr std::uint64_t kMiB = 1ull << 20;

  // Starts it (in `group`, if any) and waits until it holds the 60 MiB.
  void start_phases(Phases& p, ResourceGroup* group = nullptr) {
    static constexpr const char* kScript =
        "import os, sys, time\n"
        "def wait(n):\n"
        "  while not os.path.exists(os.path.join(sys.argv[1], str(n))): time.sleep(0.01)\n"
        "a = b'x' * (60 << 20)\n"
        "print('big', flush=True)\n"
        "wait(1)\n"
        "del a\n"
        "print('small', flush=True)\n"
        "wait(2)\n"
        "b = b'x' * (30 << 20)\n"
        "print('again', flush=True)\n"
        "wait(3)\n";
    ASSERT_FALSE(p.dir.path.empty());
    auto child = start(SpawnSpec{kPython, {"-c", kScript, p.dir.path.string()}, {}, "/"}, p.run, group);
    ASSERT_TRUE(child) << child.error().message;
    p.child = std::move(child.value());
    ASSERT_TRUE(said(p, "big")) << p.run.output();
  }
  // Lets the child enter `phase` and waits for its line ("small", "again"), or its exit at 3.
  void enter(Phases& p, int phase, const std::string& line = "") {
    std::ofstream(p.dir.path / std::to_string(phase));
    if (line.empty()) {
      ASSERT_TRUE(run_until([&] { return p.run.exit.has_value(); }));
      EXPECT_EQ(p.run.exit->describe(), "exit status 0") << p.run.output();
    } else {
      ASSERT_TRUE(said(p, line)) << p.run.output();
    }
  }
  bool said(Phases& p, const std::string& line) {
    auto seen = [&] { return std::find(p.run.lines.begin(), p.run.lines.end(), line) != p.run.lines.end(); };
    return run_until([&] { return seen() || p.run.exit.has_value(); }) && seen();
  }

  boost::asio::io_context io_;
};

// --- spawn: join_files, rlimits -------------------------------------------------------------

TEST_F(LimitsFixture, ChildWritesItsPidIntoEachJoinFile) {
  std::string tmpl = (fs::temp_directory_path() / "lambdad-join-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  std::ofstream(dir / "a");
  std::ofstream(dir / "b");
  auto spec = shell("exit 0");
  spec.join_files = {(dir / "a").string(), (dir / "b").string()};
  Run run;
  auto child = start(spec, run);
  ASSERT_TRUE(child) << child.error().message;
  const pid_t pid = (*child)->pid();
  ASSERT_TRUE(run_until([&] { return run.exit.has_value(); }));
  EXPECT_EQ(cgroup::read_file(dir / "a"), std::to_string(pid));
  EXPECT_EQ(cgroup::read_file(dir / "b"), std::to_string(pid));
  fs::remove_all(dir);
}

TEST_F(LimitsFixture, AJoinFailureIsASandboxFailure) {
  auto spec = shell("exit 0");
  spec.join_files = {"/nonexistent-lambdad/cgroup.procs"};
  Run run;
  auto child = start(spec, run);
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(child.error().type, error_types::kSandboxFailure);
  EXPECT_EQ(child.error().message, "cannot join cgroup /nonexistent-lambdad/cgroup.procs: no such file or directory");
}

TEST_F(LimitsFixture, RlimitNofileIsSetSoftAndHard) {
  auto spec = shell("ulimit -n; ulimit -Hn");
  spec.rlimit_nofile = 1024;
  const auto run = run_to_exit(spec);
  EXPECT_EQ(run.output(), "1024\n1024\n");
  EXPECT_EQ(run.exit->describe(), "exit status 0");
}

// --- cgroups on the real host --------------------------------------------------------------

class RealCgroup : public LimitsFixture {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "cgroup tests need root (cgroup directories are root's)";
    auto c = make_resource_controller(io_, MemoryEnforcement::kCgroup);
    if (!c) GTEST_SKIP() << "no writable cgroup on this host: " << c.error().message;
    controller_ = std::move(c.value());
    ::testing::Test::RecordProperty("mode", controller_->describe());
  }
  void TearDown() override {
    if (!controller_) return;
    const std::string described = controller_->describe();
    controller_.reset();
    const fs::path root = described.substr(described.rfind(' ') + 1);
    EXPECT_FALSE(fs::exists(root)) << root << " left behind";
  }

  std::unique_ptr<ResourceGroup> group(std::uint64_t memory, int pids = 1024) {
    EnvironmentLimits limits;
    limits.memory_bytes = memory;
    limits.max_pids = pids;
    auto g = controller_->create_group("test-" + std::to_string(++groups_), limits);
    EXPECT_TRUE(g) << (g ? "" : g.error().message);
    return g ? std::move(g.value()) : nullptr;
  }

  std::unique_ptr<ResourceController> controller_;
  int groups_ = 0;
};

TEST_F(RealCgroup, OverTheMemoryLimitTheChildIsOomKilled) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  auto g = group(64ull << 20);
  ASSERT_NE(g, nullptr);
  const auto run = run_to_exit(
      SpawnSpec{kPython, {"-c", "a = [b'x' * (1 << 20) for _ in range(200)]\nprint('survived')"}, {}, "/"},
      g.get());
  ASSERT_TRUE(run.exit);
  EXPECT_EQ(run.exit->describe(), "signal: killed") << run.output();
  EXPECT_TRUE(g->oom_killed());
  // The cgroup's charge stops at the limit; the resident set sampled on top also holds the
  // interpreter's pages charged elsewhere (page cache), and one period of growth.
  EXPECT_LE(g->peak_memory_bytes(), (64ull << 20) + (32ull << 20));
  EXPECT_GE(g->peak_memory_bytes(), 48ull << 20);
}

TEST_F(RealCgroup, PeakIsWhatTheChildUsed) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  auto g = group(128ull << 20);
  ASSERT_NE(g, nullptr);
  const auto run = run_to_exit(
      SpawnSpec{kPython, {"-c", "a = b'x' * (30 << 20)\nprint(len(a))"}, {}, "/"}, g.get());
  ASSERT_TRUE(run.exit);
  EXPECT_EQ(run.exit->describe(), "exit status 0") << run.output();
  EXPECT_FALSE(g->oom_killed());
  // 30 MiB of bytes plus the interpreter (~10 MiB), not the 128 MiB configured.
  EXPECT_GE(g->peak_memory_bytes(), 30ull << 20);
  EXPECT_LE(g->peak_memory_bytes(), 64ull << 20);
}

TEST_F(RealCgroup, PeakCoversTheResidentSetNotOnlyTheCharge) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed";
  auto g = group(128ull << 20);
  ASSERT_NE(g, nullptr);
  // The interpreter and its libraries are in the page cache already (charged to whoever read
  // them first): resident in the child, hardly charged to its group (docs/decisions/013). The
  // child stays until the sampled peak covers what it said it has resident.
  ScratchDir dir;
  ASSERT_FALSE(dir.path.empty());
  const fs::path go = dir.path / "go";
  Run run;
  auto child = start(SpawnSpec{kPython,
                               {"-c",
                                std::string("import os, sys, time\n"
                                            "print([l.split()[1] for l in open('/proc/self/status') "
                                            "if l.startswith('VmRSS')][0], flush=True)\n") +
                                    kAwaitArgv1,
                                go.string()},
                               {}, "/"},
                     run, g.get());
  ASSERT_TRUE(child) << child.error().message;
  ASSERT_TRUE(run_until([&] { return !run.lines.empty() || run.exit.has_value(); }));
  ASSERT_FALSE(run.lines.empty()) << run.exit->describe();
  const std::uint64_t rss = std::stoull(run.lines.front()) * 1024;
  EXPECT_TRUE(run_until([&] { return g->peak_memory_bytes() >= rss; }))
      << g->peak_memory_bytes() << " < " << rss;
  std::ofstream(go).put('\n');
  ASSERT_TRUE(run_until([&] { return run.exit.has_value(); }));
  EXPECT_EQ(run.exit->describe(), "exit status 0") << run.output();
}

// A process that joins the group while it is being sampled (a runtime forked into it from a
// SnapStart snapshot, docs/decisions/023; a worker that moves itself) counts at the next
// reading. Its pages were charged elsewhere before it joined, so only the sampled resident set
// can see them. (cgroup v1 caches the list of cgroup.procs per open file for as long as it is
// read again within a second: a kept-open file would never list the newcomer.)
TEST_F(RealCgroup, AProcessThatJoinsLaterCountsAtTheNextReading) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  auto g = group(256 * kMiB);
  ASSERT_NE(g, nullptr);
  ScratchDir dir;
  ASSERT_FALSE(dir.path.empty());
  const fs::path go = dir.path / "go";
  Run first;
  auto leader = start(shell("sleep 30"), first, g.get());
  ASSERT_TRUE(leader) << leader.error().message;
  for (int i = 0; i < 5; ++i) {
    EXPECT_LT(g->peak_memory_bytes(), 20 * kMiB);
    io_.run_for(20ms);
  }
  std::string joins = "[";
  for (const auto& f : g->join_files()) joins += "'" + f + "',";
  joins += "]";
  Run late;
  auto newcomer = start(SpawnSpec{kPython,
                                  {"-c", "import os, sys, time\na = b'x' * (48 << 20)\nfor f in " + joins +
                                             ":\n    open(f, 'w').write(str(os.getpid()))\nprint('joined', flush=True)\n" +
                                             kAwaitArgv1,
                                   go.string()},
                                  {}, "/"},
                        late);
  ASSERT_TRUE(newcomer) << newcomer.error().message;
  ASSERT_TRUE(run_until([&] { return !late.lines.empty() || late.exit.has_value(); }));
  ASSERT_EQ(late.lines, std::vector<std::string>{"joined"}) << late.output();
  EXPECT_GE(g->peak_memory_bytes(), 48 * kMiB) << "the newcomer's resident set is not counted";
  std::ofstream(go).put('\n');
  ASSERT_TRUE(run_until([&] { return late.exit.has_value(); }));
}

TEST_F(RealCgroup, ResetPeakStartsANewPeak) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  auto g = group(256 * kMiB);
  ASSERT_NE(g, nullptr);
  Phases p;
  ASSERT_NO_FATAL_FAILURE(start_phases(p, g.get()));
  const std::uint64_t before = g->peak_memory_bytes();
  EXPECT_GE(before, 60 * kMiB);

  ASSERT_NO_FATAL_FAILURE(enter(p, 1, "small"));
  g->reset_peak();
  if (!g->per_invoke_peak()) GTEST_SKIP() << controller_->describe() << " cannot reset the peak (Linux < 6.12)";
  // What the interpreter still uses: more than nothing, less than the 60 MiB it freed.
  const std::uint64_t reset = g->peak_memory_bytes();
  EXPECT_GT(reset, 0u);
  EXPECT_LT(reset, before - 40 * kMiB) << "before the reset: " << before;

  ASSERT_NO_FATAL_FAILURE(enter(p, 2, "again"));
  const std::uint64_t again = g->peak_memory_bytes();
  EXPECT_GE(again, 30 * kMiB);
  EXPECT_GE(again, reset + 25 * kMiB) << "after the reset: " << reset;
  EXPECT_LT(again, before - 20 * kMiB) << "before the reset: " << before;
  ASSERT_NO_FATAL_FAILURE(enter(p, 3));
  EXPECT_FALSE(g->oom_killed());
}

// The bomb runs in a session of its own from before its first fork, so its processes are outside
// the child's process group from birth (the group kill at reaping misses them) and only the cgroup
// can find them. The test is their subreaper: it reaps each of them and sees how it ended.
TEST_F(RealCgroup, PidsLimitCapsAForkBombAndDestroyingTheGroupKillsEverything) {
  auto g = group(256ull << 20, 64);
  ASSERT_NE(g, nullptr);
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  struct NotSubreaper {
    ~NotSubreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 0); }
  } not_subreaper;
  Run run;
  auto child = start(shell("setsid sh -c 'i=0; while [ $i -lt 2000 ]; do sleep 30 & i=$((i+1)); done; "
                           "echo all started'; exit $?"),
                     run, g.get());
  ASSERT_TRUE(child) << child.error().message;
  ASSERT_TRUE(run_until([&] { return run.exit.has_value(); }));
  EXPECT_EQ(run.output().find("all started"), std::string::npos) << "fork never failed";
  EXPECT_NE(run.exit->describe(), "exit status 0");

  // The pids hierarchy's cgroup.procs (v1) or the one group (v2) lists what is left.
  const auto files = g->join_files();
  std::vector<pid_t> left;
  for (const auto& f : files) {
    if (f.find("/pids/") != std::string::npos || files.size() == 1) {
      left = cgroup::parse_pids(cgroup::read_file(f).value_or(""));
    }
  }
  EXPECT_GT(left.size(), 10u);
  EXPECT_LE(left.size(), 64u);
  std::vector<fs::path> dirs;
  for (const auto& f : files) dirs.push_back(fs::path(f).parent_path());
  child.value().reset();
  g.reset();
  // Each was sent SIGKILL by the group's destruction: the wait ends when it dies.
  for (pid_t pid : left) {
    const auto status = reap_within(pid, std::chrono::seconds(10));
    ASSERT_TRUE(status) << pid << " of the bomb outlived its group's destruction";
    EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << pid << ": wait status " << *status;
  }
  for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d)) << d;
}

// A group that cannot be removed at once when destroyed (its killed processes still exiting;
// here, deterministically, a cgroup inside each of its directories) is removed by the blocking
// pool, whose retries succeed once it is free. The destructor does not wait for it: in place, it
// would give up after its patience and leave the directories behind.
TEST_F(RealCgroup, OnABlockingPoolAGroupStillBusyIsRemovedThereOnceItIsFree) {
  controller_.reset();
  BlockingPool blocking(io_, {.threads = 1, .capacity = 8});
  auto c = make_resource_controller(io_, MemoryEnforcement::kCgroup, &blocking);
  ASSERT_TRUE(c) << c.error().message;
  controller_ = std::move(c.value());
  auto g = group(256ull << 20);
  ASSERT_NE(g, nullptr);
  Run run = run_to_exit(shell("echo in the group"), g.get());
  ASSERT_TRUE(run.exit);
  std::vector<fs::path> dirs;
  for (const auto& f : g->join_files()) {
    dirs.push_back(fs::path(f).parent_path());
    ASSERT_TRUE(fs::create_directory(dirs.back() / "busy")) << dirs.back();
  }
  // The pool's one thread is held until the directories are free.
  std::promise<void> open;
  blocking.run([opened = open.get_future()] { opened.wait(); });
  g.reset();
  for (const auto& d : dirs) EXPECT_TRUE(fs::exists(d)) << d << ": removed although busy";
  for (const auto& d : dirs) fs::remove(d / "busy");
  open.set_value();
  blocking.wait_idle();
  for (const auto& d : dirs) EXPECT_FALSE(fs::exists(d)) << d << " left behind";
  EXPECT_EQ(blocking.ran_in_place(), 0u);
}

TEST_F(RealCgroup, ACpuCapPutsTheChildInACpuGroupToo) {
  EnvironmentLimits limits;
  limits.cpus = 0.5;
  auto g = controller_->create_group("cpu", limits);
  if (!g && controller_->describe().find("cpu") == std::string::npos) {
    GTEST_SKIP() << "no cpu controller: " << g.error().message;
  }
  ASSERT_TRUE(g) << g.error().message;
  const auto files = (*g)->join_files();
  const auto run = run_to_exit(shell("cat /proc/self/cgroup"), g->get());
  EXPECT_EQ(run.exit->describe(), "exit status 0");
  // The child is in the group of every hierarchy it joined ("4:memory:/.../lambdad-N/cpu").
  const std::string needle = "/lambdad-" + std::to_string(::getpid()) + "/cpu\n";
  std::size_t count = 0;
  for (auto at = run.output().find(needle); at != std::string::npos; at = run.output().find(needle, at + 1)) ++count;
  EXPECT_EQ(count, files.size()) << run.output();
  for (const auto& f : files) {
    const fs::path dir = fs::path(f).parent_path();
    if (fs::exists(dir / "cpu.cfs_quota_us")) {
      EXPECT_EQ(cgroup::read_u64(dir / "cpu.cfs_quota_us"), 50000u);
    }
    if (fs::exists(dir / "cpu.max")) {
      EXPECT_EQ(cgroup::read_file(dir / "cpu.max"), "50000 100000\n");
    }
  }
}

TEST_F(RealCgroup, DescribeNamesTheMode) {
  EXPECT_EQ(controller_->mode(), MemoryEnforcement::kCgroup);
  EXPECT_TRUE(controller_->describe().starts_with("cgroup v")) << controller_->describe();
}

// --- the sampling fallback, on any host ------------------------------------------------------

TEST_F(LimitsFixture, SamplerKillsAProcessGroupOverTheLimit) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  auto controller = make_resource_controller(io_, MemoryEnforcement::kSample);
  ASSERT_TRUE(controller);
  EXPECT_EQ((*controller)->mode(), MemoryEnforcement::kSample);
  EXPECT_EQ((*controller)->describe(), "sampling RSS every 50 ms (requested)");
  EnvironmentLimits limits;
  limits.memory_bytes = 64ull << 20;
  auto g = (*controller)->create_group("env", limits);
  ASSERT_TRUE(g);
  EXPECT_TRUE((*g)->join_files().empty());
  expect_killed_growing_past_64_mib(**g);
  EXPECT_LT((*g)->peak_memory_bytes(), 200ull << 20);
}

TEST_F(LimitsFixture, SamplerReportsThePeakOfTheWholeProcessGroup) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  auto controller = make_sampling_controller(io_, "test");
  auto g = controller->create_group("env", EnvironmentLimits{});
  ASSERT_TRUE(g);
  // Two processes of 20 MiB each, both in the child's process group, held until the test has
  // seen the peak of both.
  ScratchDir dir;
  ASSERT_FALSE(dir.path.empty());
  const fs::path go = dir.path / "go";
  const std::string py = std::string(kPython) + " -c \"import os, sys, time; a = b'x' * (20 << 20)\n" + kAwaitArgv1 +
                         "\" " + go.string();
  Run run;
  auto child = start(shell(py + " & " + py + "; wait"), run, g->get());
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_TRUE(run_until([&] { return (*g)->peak_memory_bytes() >= 40ull << 20 || run.exit.has_value(); }))
      << (*g)->peak_memory_bytes();
  std::ofstream(go).put('\n');
  ASSERT_TRUE(run_until([&] { return run.exit.has_value(); }));
  EXPECT_EQ(run.exit->describe(), "exit status 0") << run.output();
  EXPECT_FALSE((*g)->oom_killed());
  EXPECT_GE((*g)->peak_memory_bytes(), 40ull << 20);
  EXPECT_LE((*g)->peak_memory_bytes(), 100ull << 20);
}

TEST_F(LimitsFixture, SamplerWithABlockingPoolReadsThereAndStillKillsOverTheLimit) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  BlockingPool blocking(io_, {.threads = 1, .capacity = 8});
  auto controller = make_sampling_controller(io_, "test", 10ms, &blocking);
  EnvironmentLimits limits;
  limits.memory_bytes = 64ull << 20;
  auto g = controller->create_group("env", limits);
  ASSERT_TRUE(g);
  // The rounds of readings run on the pool's thread, the timer on this one (TSan checks what they
  // share); their verdict still kills.
  expect_killed_growing_past_64_mib(**g);
  controller.reset();  // stops the sampler and detaches it from the pool, which goes next
}

TEST_F(LimitsFixture, SamplerResetPeakStartsFromTheUseNow) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  auto controller = make_sampling_controller(io_, "test", 10ms);
  auto g = controller->create_group("env", EnvironmentLimits{});
  ASSERT_TRUE(g);
  EXPECT_TRUE((*g)->per_invoke_peak());
  Phases p;
  ASSERT_NO_FATAL_FAILURE(start_phases(p, g->get()));
  // Sampled: the 60 MiB is seen within a few periods, however late.
  ASSERT_TRUE(run_until([&] { return (*g)->peak_memory_bytes() >= 60 * kMiB; })) << (*g)->peak_memory_bytes();
  const std::uint64_t before = (*g)->peak_memory_bytes();

  ASSERT_NO_FATAL_FAILURE(enter(p, 1, "small"));
  // At once, without waiting for a sample of the small phase: the reset reads the use now.
  (*g)->reset_peak();
  EXPECT_LT((*g)->peak_memory_bytes(), before - 40 * kMiB) << "before the reset: " << before;
  EXPECT_GT((*g)->peak_memory_bytes(), 0u);
  run_until([] { return false; }, 100ms);
  const std::uint64_t reset = (*g)->peak_memory_bytes();
  EXPECT_LT(reset, before - 40 * kMiB) << "before the reset: " << before;

  ASSERT_NO_FATAL_FAILURE(enter(p, 2, "again"));
  ASSERT_TRUE(run_until([&] { return (*g)->peak_memory_bytes() >= reset + 25 * kMiB; }))
      << (*g)->peak_memory_bytes();
  EXPECT_LT((*g)->peak_memory_bytes(), before - 20 * kMiB) << "before the reset: " << before;
  ASSERT_NO_FATAL_FAILURE(enter(p, 3));
}

TEST_F(LimitsFixture, ResetPeakRssStartsANewHighWaterMark) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is needed to allocate memory";
  Phases p;
  ASSERT_NO_FATAL_FAILURE(start_phases(p));
  const pid_t pid = p.child->pid();
  const std::uint64_t before = peak_rss_bytes(pid);
  EXPECT_GE(before, 60 * kMiB);

  ASSERT_NO_FATAL_FAILURE(enter(p, 1, "small"));
  EXPECT_GE(peak_rss_bytes(pid), 60 * kMiB);  // freeing does not lower the high water mark...
  const auto reset_st = reset_peak_rss(pid);
  ASSERT_TRUE(reset_st) << reset_st.error().message;
  const std::uint64_t reset = peak_rss_bytes(pid);  // ... a reset does
  EXPECT_GT(reset, 0u);
  EXPECT_LT(reset, before - 40 * kMiB) << "before the reset: " << before;

  ASSERT_NO_FATAL_FAILURE(enter(p, 2, "again"));
  const std::uint64_t again = peak_rss_bytes(pid);
  EXPECT_GE(again, reset + 25 * kMiB) << "after the reset: " << reset;
  EXPECT_LT(again, before - 20 * kMiB) << "before the reset: " << before;
  ASSERT_NO_FATAL_FAILURE(enter(p, 3));
}

TEST(ResetPeakRss, UnknownProcessIsAnError) {
  const auto st = reset_peak_rss(0x3fffffff);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(st.error().type, error_types::kSandboxFailure);
  EXPECT_EQ(st.error().message, "write /proc/1073741823/clear_refs: No such file or directory");
}

TEST_F(LimitsFixture, OffDoesNothing) {
  auto controller = make_resource_controller(io_, MemoryEnforcement::kOff);
  ASSERT_TRUE(controller);
  EXPECT_EQ((*controller)->describe(), "off");
  auto g = (*controller)->create_group("env", EnvironmentLimits{});
  ASSERT_TRUE(g);
  EXPECT_TRUE((*g)->join_files().empty());
  const auto run = run_to_exit(shell("echo hi"), g->get());
  EXPECT_EQ(run.output(), "hi\n");
  EXPECT_EQ((*g)->peak_memory_bytes(), 0u);
  (*g)->reset_peak();
  EXPECT_EQ((*g)->peak_memory_bytes(), 0u);
  EXPECT_FALSE((*g)->per_invoke_peak());
  EXPECT_FALSE((*g)->oom_killed());
}

// --- private /tmp ---------------------------------------------------------------------------

class TmpDirTest : public LimitsFixture {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lambdad-tmproot-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path root_;
};

TEST_F(TmpDirTest, IsAStickyWorldWritableDirectoryRemovedWithIt) {
  fs::path path;
  {
    auto dir = make_tmp_dir(root_, "env-1");
    ASSERT_TRUE(dir) << dir.error().message;
    path = (*dir)->path();
    EXPECT_EQ(path, root_ / "env-1");
    EXPECT_EQ(fs::status(path).permissions(), fs::perms::all | fs::perms::sticky_bit);
    std::ofstream(path / "f") << std::string(1000, 'x');
    EXPECT_GE((*dir)->used_bytes(), 1000u);
    EXPECT_FALSE(make_tmp_dir(root_, "../x"));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(TmpDirTest, WithALinkToTheBlockingPoolItIsRemovedThereAndInPlaceOnceDetached) {
  BlockingPool blocking(io_, {.threads = 1, .capacity = 8});
  auto link = std::make_shared<PoolLink>(&blocking);
  fs::path first, second;
  std::promise<void> go;
  blocking.run([ready = go.get_future().share()] { ready.wait(); });  // holds the pool's one thread
  {
    auto dir = make_tmp_dir(root_, "env-1", link);
    ASSERT_TRUE(dir) << dir.error().message;
    first = (*dir)->path();
    std::ofstream(first / "f") << "x";
  }
  EXPECT_TRUE(fs::exists(first)) << "not removed on the caller's thread";
  go.set_value();
  blocking.wait_idle();
  EXPECT_FALSE(fs::exists(first)) << "removed by the pool";
  link->detach();
  {
    auto dir = make_tmp_dir(root_, "env-2", link);
    ASSERT_TRUE(dir) << dir.error().message;
    second = (*dir)->path();
  }
  EXPECT_FALSE(fs::exists(second)) << "removed in place once the link is detached";
}

TEST_F(TmpDirTest, UsedBytesCountsAllocatedBlocksLikeAFilesystem) {
  auto dir = make_tmp_dir(root_, "env-1");
  ASSERT_TRUE(dir) << dir.error().message;
  const auto empty = (*dir)->used_bytes();
  {
    std::ofstream sparse((*dir)->path() / "sparse");
    sparse.seekp((64 << 20) - 1);
    sparse.put('x');
  }
  EXPECT_LT((*dir)->used_bytes() - empty, 1u << 20) << "a sparse 64 MB file holds one block";
  fs::create_directories((*dir)->path() / "sub");
  std::ofstream((*dir)->path() / "sub" / "data") << std::string(3 << 20, 'x');
  EXPECT_GE((*dir)->used_bytes() - empty, 3u << 20) << "files in subdirectories count";
}

TEST_F(TmpDirTest, ChildSeesItsOwnTmpWhichSurvivesARespawn) {
  auto dir = make_tmp_dir(root_, "env-1");
  ASSERT_TRUE(dir) << dir.error().message;
  if (!(*dir)->private_mount()) GTEST_SKIP() << "covering /tmp needs root (a mount namespace of the child's own)";
  const std::string name = "lambdad-private-" + std::to_string(::getpid());
  auto spec = shell("echo hello > /tmp/" + name + " && ls /tmp");
  spec.private_tmp = (*dir)->path();
  auto run = run_to_exit(spec);
  EXPECT_EQ(run.output(), name + "\n");
  EXPECT_EQ(run.exit->describe(), "exit status 0");
  EXPECT_FALSE(fs::exists(fs::path("/tmp") / name)) << "the host's /tmp got the file";
  EXPECT_TRUE(fs::exists((*dir)->path() / name));

  spec = shell("cat /tmp/" + name);
  spec.private_tmp = (*dir)->path();
  run = run_to_exit(spec);
  EXPECT_EQ(run.output(), "hello\n");
}

}  // namespace
}  // namespace lambdad::process
