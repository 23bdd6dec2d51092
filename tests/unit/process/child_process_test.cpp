// Real processes, a real io_context, and a hard time limit on every wait (a deadlock guard).
#include "lambdad/process/child_process.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lambdad/common/error_types.hpp"
#include "process_files.hpp"
#include "shell.hpp"
#include "spawn_with.hpp"

namespace lambdad::process {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr auto kLimit = 10s;

// What a child reported, in order.
struct Recorder {
  std::vector<std::string> lines;
  std::optional<ExitStatus> exit;
  int exit_calls = 0;
  std::size_t lines_at_exit = 0;

  ChildCallbacks callbacks() {
    return ChildCallbacks{[this](std::string_view l) { lines.emplace_back(l); },
                          [this](ExitStatus s) {
                            exit = s;
                            ++exit_calls;
                            lines_at_exit = lines.size();
                          }};
  }
};

// A directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lambdad-process-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
    path_ = std::filesystem::canonical(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content,
                              mode_t mode) const {
    const auto p = path_ / name;
    std::ofstream(p) << content;
    ::chmod(p.c_str(), mode);
    return p;
  }

 private:
  std::filesystem::path path_;
};

// Polls `done` (not an io_context condition) until the limit.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Gone, or a zombie waiting for its new parent to reap it.
bool process_gone(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return true;
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

bool has_no_children() {
  errno = 0;
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

class ChildProcessFixture : public ::testing::Test {
 protected:
  // Runs the io_context until `done` holds; false after the hard limit (a deadlock or a lost
  // callback) or when the io_context runs out of work first.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = kLimit) {
    const auto deadline = Clock::now() + limit;
    io_.restart();
    while (!done()) {
      const auto now = Clock::now();
      if (now >= deadline) return false;
      io_.run_one_for(deadline - now);
      if (io_.stopped()) return done();
    }
    return true;
  }

  bool run_until_exit(Recorder& rec, std::chrono::milliseconds limit = kLimit) {
    return run_until([&] { return rec.exit.has_value(); }, limit);
  }

  // Runs whatever is ready or becomes ready within `d`.
  void run_for(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  Result<std::unique_ptr<ChildProcess>> spawn(const SpawnSpec& spec, ChildCallbacks callbacks) {
    return spawn_with(io_.get_executor(), spec, std::move(callbacks), exit_watch_);
  }

  std::unique_ptr<ChildProcess> start(const SpawnSpec& spec, Recorder& rec) {
    auto r = spawn(spec, rec.callbacks());
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().type + ": " + r.error().message);
    if (!r.ok()) return nullptr;
    return std::move(r).value();
  }

  Error spawn_error(const SpawnSpec& spec) {
    Recorder rec;
    auto r = spawn(spec, rec.callbacks());
    EXPECT_FALSE(r.ok());
    if (r.ok()) return {};
    return r.error();
  }

  boost::asio::io_context io_;
  ExitWatch exit_watch_ = ExitWatch::kPidfd;
};

// Every scenario runs with both ways of noticing the exit: the pidfd, and the 10 ms polling
// used where the kernel has no pidfd_open.
class ChildProcessTest : public ChildProcessFixture,
                         public ::testing::WithParamInterface<ExitWatch> {
 protected:
  ChildProcessTest() { exit_watch_ = GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(ExitWatch, ChildProcessTest,
                         ::testing::Values(ExitWatch::kPidfd, ExitWatch::kPolling),
                         [](const auto& param_info) {
                           return param_info.param == ExitWatch::kPidfd ? std::string("Pidfd")
                                                                        : std::string("Polling");
                         });

// --- exit status ---------------------------------------------------------------------------

TEST_P(ChildProcessTest, ExitCodes) {
  for (int code : {0, 1, 3, 255}) {
    Recorder rec;
    auto child = start(shell("exit " + std::to_string(code)), rec);
    ASSERT_TRUE(child);
    EXPECT_FALSE(child->exited());
    ASSERT_TRUE(run_until_exit(rec));
    EXPECT_TRUE(child->exited());
    EXPECT_FALSE(rec.exit->signaled);
    EXPECT_EQ(rec.exit->code, code);
    EXPECT_EQ(rec.exit->describe(), "exit status " + std::to_string(code));
  }
}

struct SignalCase {
  const char* name;
  int number;
  const char* text;
};

class ChildSignalTest : public ChildProcessFixture,
                        public ::testing::WithParamInterface<SignalCase> {};

TEST_P(ChildSignalTest, DeathBySignalIsDescribedAsLambdaDoes) {
  const auto& c = GetParam();
  Recorder rec;
  auto child = start(shell(std::string("kill -") + c.name + " $$; sleep 5"), rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_TRUE(rec.exit->signaled);
  EXPECT_EQ(rec.exit->code, c.number);
  EXPECT_EQ(rec.exit->describe(), c.text);
}

INSTANTIATE_TEST_SUITE_P(
    Signals, ChildSignalTest,
    ::testing::Values(SignalCase{"KILL", SIGKILL, "signal: killed"},
                      SignalCase{"SEGV", SIGSEGV, "signal: segmentation fault"},
                      SignalCase{"ABRT", SIGABRT, "signal: aborted"},
                      SignalCase{"TERM", SIGTERM, "signal: terminated"},
                      SignalCase{"INT", SIGINT, "signal: interrupt"},
                      SignalCase{"BUS", SIGBUS, "signal: bus error"},
                      SignalCase{"FPE", SIGFPE, "signal: floating point exception"},
                      SignalCase{"ILL", SIGILL, "signal: illegal instruction"},
                      SignalCase{"PIPE", SIGPIPE, "signal: broken pipe"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// The daemon ignores SIGPIPE and blocks SIGTERM/SIGINT; its children must not inherit that.
TEST_P(ChildProcessTest, SignalMaskAndIgnoredSignalsAreReset) {
  struct sigaction ign {};
  struct sigaction old_pipe {};
  ign.sa_handler = SIG_IGN;
  ::sigemptyset(&ign.sa_mask);
  ASSERT_EQ(::sigaction(SIGPIPE, &ign, &old_pipe), 0);
  sigset_t block;
  sigset_t old_mask;
  ::sigemptyset(&block);
  ::sigaddset(&block, SIGTERM);
  ::sigaddset(&block, SIGINT);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);

  Recorder rec;
  auto child =
      start(shell("grep -E '^Sig(Blk|Ign)' /proc/self/status; kill -PIPE $$; sleep 5"), rec);

  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);

  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre("SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"));
  EXPECT_EQ(rec.exit->describe(), "signal: broken pipe");
}

// --- output --------------------------------------------------------------------------------

TEST_P(ChildProcessTest, StdoutAndStderrLinesInOrderWithPartialLastLine) {
  Recorder rec;
  auto child = start(
      shell("echo out1; echo err1 >&2; echo out2; echo >&2; echo err2 >&2; printf 'tail\\r'"), rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre("out1", "err1", "out2", "", "err2", "tail\r"));
  EXPECT_EQ(rec.lines_at_exit, rec.lines.size());  // every line came before on_exit
  EXPECT_EQ(rec.exit_calls, 1);
}

TEST_P(ChildProcessTest, MegabyteLineIsSplitAt256KiB) {
  Recorder rec;
  auto child = start(shell("head -c 1048576 /dev/zero | tr '\\000' a; echo; "
                           "head -c 300000 /dev/zero | tr '\\000' b; echo; echo end"),
                     rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  ASSERT_EQ(rec.lines.size(), 7U);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(rec.lines[static_cast<std::size_t>(i)], std::string(262144, 'a'));
  EXPECT_EQ(rec.lines[4], std::string(262144, 'b'));
  EXPECT_EQ(rec.lines[5], std::string(300000 - 262144, 'b'));
  EXPECT_EQ(rec.lines[6], "end");
}

// The child exits with output still in the pipe and the owner's callback is slow: all of that
// output comes before on_exit, however long it takes (the grace period is not a deadline).
TEST_P(ChildProcessTest, SlowConsumerStillGetsEverythingTheChildWrote) {
  std::vector<std::string> lines;
  std::optional<ExitStatus> status;
  auto r = spawn(SpawnSpec{"/usr/bin/seq", {"1", "20000"}, {}, "/"},
                 ChildCallbacks{[&](std::string_view l) {
                                  lines.emplace_back(l);
                                  if (lines.size() % 50 == 0) std::this_thread::sleep_for(1ms);
                                },
                                [&](ExitStatus s) { status = s; }});
  ASSERT_TRUE(r.ok());
  auto child = std::move(r).value();
  ASSERT_TRUE(run_until([&] { return status.has_value(); }));
  ASSERT_EQ(lines.size(), 20000U);
  EXPECT_EQ(lines.back(), "20000");
}

TEST_P(ChildProcessTest, ManyLinesArriveInOrder) {
  Recorder rec;
  auto child = start(SpawnSpec{"/usr/bin/seq", {"1", "200000"}, {}, "/"}, rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  ASSERT_EQ(rec.lines.size(), 200000U);
  for (std::size_t i = 0; i < rec.lines.size(); ++i) {
    ASSERT_EQ(rec.lines[i], std::to_string(i + 1)) << "line " << i;
  }
  EXPECT_EQ(rec.exit->describe(), "exit status 0");
}

// --- environment, cwd, executable lookup ----------------------------------------------------

TEST_P(ChildProcessTest, EnvironmentIsExactlyTheSpecs) {
  Recorder rec;
  auto child = start(
      SpawnSpec{"/usr/bin/env", {}, {"A=1", "B=two words", "EMPTY=", "_HANDLER=x.y"}, "/"}, rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre("A=1", "B=two words", "EMPTY=", "_HANDLER=x.y"));
}

TEST_P(ChildProcessTest, ArgumentsAndArgv0) {
  Recorder rec;
  auto child =
      start(SpawnSpec{"/bin/sh", {"-c", "echo \"$0|$1|$2\"", "zero", "one two", ""}, {}, "/"}, rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre("zero|one two|"));
}

TEST_P(ChildProcessTest, WorkingDirectoryIsHonoured) {
  TempDir dir;
  Recorder rec;
  auto child = start(SpawnSpec{"/bin/pwd", {}, {}, dir.path()}, rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre(dir.path().string()));
}

TEST_P(ChildProcessTest, RelativeExecutableIsResolvedAgainstWorkingDirectory) {
  TempDir dir;
  dir.write("bootstrap", "#!/bin/sh\necho \"ran in $PWD\"\n", 0755);
  Recorder rec;
  auto child = start(SpawnSpec{"./bootstrap", {}, {}, dir.path()}, rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre("ran in " + dir.path().string()));
}

TEST_P(ChildProcessTest, BareNameIsLookedUpInTheSpecsPath) {
  TempDir dir;
  dir.write("my-runtime", "#!/bin/sh\necho found\n", 0755);
  Recorder rec;
  auto child =
      start(SpawnSpec{"my-runtime", {}, {"PATH=/nonexistent:" + dir.path().string()}, "/"}, rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre("found"));

  const Error e = spawn_error(SpawnSpec{"my-runtime", {}, {"PATH=/usr/bin:/bin"}, "/"});
  EXPECT_EQ(e.type, error_types::kRuntimeInvalidEntrypoint);
  EXPECT_EQ(e.message, "exec: \"my-runtime\": executable file not found in $PATH");
}

TEST_P(ChildProcessTest, BareNameUsesTheDaemonsPathWhenTheSpecHasNone) {
  Recorder rec;
  auto child = start(SpawnSpec{"true", {}, {"A=1"}, "/"}, rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_EQ(rec.exit->describe(), "exit status 0");
}

// --- errors before fork ---------------------------------------------------------------------

TEST_P(ChildProcessTest, MissingExecutableIsInvalidEntrypointWithoutAChild) {
  ASSERT_TRUE(has_no_children());
  const Error e = spawn_error(SpawnSpec{"/nonexistent/bootstrap", {}, {}, "/"});
  EXPECT_EQ(e.kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(e.type, error_types::kRuntimeInvalidEntrypoint);
  EXPECT_EQ(e.message, "fork/exec /nonexistent/bootstrap: no such file or directory");
  EXPECT_TRUE(has_no_children());
}

TEST_P(ChildProcessTest, NonExecutableFileIsInvalidEntrypoint) {
  TempDir dir;
  const auto file = dir.write("bootstrap", "#!/bin/sh\necho hi\n", 0644);
  const Error e = spawn_error(SpawnSpec{file.string(), {}, {}, "/"});
  EXPECT_EQ(e.kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(e.type, error_types::kRuntimeInvalidEntrypoint);
  EXPECT_EQ(e.message, "fork/exec " + file.string() + ": permission denied");

  const Error d = spawn_error(SpawnSpec{dir.path().string(), {}, {}, "/"});
  EXPECT_EQ(d.type, error_types::kRuntimeInvalidEntrypoint);
  EXPECT_THAT(d.message, HasSubstr("permission denied"));
  EXPECT_TRUE(has_no_children());
}

// A failure only execve can see comes back through the close-on-exec pipe, and the child
// is reaped.
TEST_P(ChildProcessTest, ExecFailureInTheChildIsReported) {
  TempDir dir;
  const auto file = dir.write("bootstrap", "not a program\n", 0755);
  const Error e = spawn_error(SpawnSpec{file.string(), {}, {}, "/"});
  EXPECT_EQ(e.kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(e.type, error_types::kRuntimeInvalidEntrypoint);
  EXPECT_EQ(e.message, "fork/exec " + file.string() + ": exec format error");
  EXPECT_TRUE(has_no_children());
}

TEST_P(ChildProcessTest, MissingWorkingDirectoryIsInvalidWorkingDir) {
  const Error e = spawn_error(SpawnSpec{"/bin/true", {}, {}, "/nonexistent/task"});
  EXPECT_EQ(e.kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(e.type, error_types::kRuntimeInvalidWorkingDir);
  EXPECT_EQ(e.message, "chdir /nonexistent/task: no such file or directory");

  TempDir dir;
  const auto file = dir.write("file", "", 0644);
  const Error f = spawn_error(SpawnSpec{"/bin/true", {}, {}, file});
  EXPECT_EQ(f.type, error_types::kRuntimeInvalidWorkingDir);
  EXPECT_EQ(f.message, "chdir " + file.string() + ": not a directory");
  EXPECT_TRUE(has_no_children());
}

// --- isolation ------------------------------------------------------------------------------

TEST_P(ChildProcessTest, NoDescriptorIsInherited) {
  const int leaked = ::open("/dev/null", O_RDONLY);  // deliberately not close-on-exec
  ASSERT_GE(leaked, 0);
  const int high = ::dup2(leaked, 77);
  ASSERT_EQ(high, 77);

  Recorder rec;
  // ls opens /proc/self/fd itself, as the lowest free descriptor: 3.
  auto child = start(shell("ls /proc/self/fd; readlink /proc/self/fd/0"), rec);
  ::close(leaked);
  ::close(high);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre("0", "1", "2", "3", "/dev/null"));
}

TEST_P(ChildProcessTest, ChildLeadsItsOwnProcessGroup) {
  Recorder rec;
  auto child = start(shell("cut -d' ' -f5 /proc/$$/stat"), rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre(std::to_string(child->pid())));
  EXPECT_NE(child->pid(), ::getpgrp());
}

// --- killing --------------------------------------------------------------------------------

TEST_P(ChildProcessTest, KillGroupKillsGrandchildrenToo) {
  Recorder rec;
  auto child = start(shell("sleep 100 & echo $!; sleep 100"), rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until([&] { return !rec.lines.empty(); }));
  const pid_t grandchild = std::stoi(rec.lines[0]);
  EXPECT_FALSE(process_gone(grandchild));

  child->kill_group();
  child->kill_group();  // idempotent
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_EQ(rec.exit->describe(), "signal: killed");
  EXPECT_TRUE(eventually([&] { return process_gone(grandchild); }));
  child->kill_group();  // after exit: nothing to do
  child->terminate_group();
  EXPECT_EQ(rec.exit_calls, 1);
}

TEST_P(ChildProcessTest, TerminateGroupSendsSigterm) {
  Recorder rec;
  auto child = start(shell("echo ready; exec sleep 100"), rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until([&] { return !rec.lines.empty(); }));
  child->terminate_group();
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_EQ(rec.exit->describe(), "signal: terminated");
}

// When the runtime exits, the environment is over: background processes in its group die and
// cannot hold up on_exit.
TEST_P(ChildProcessTest, BackgroundProcessesDieWhenTheChildExits) {
  Recorder rec;
  const auto t0 = Clock::now();
  auto child = start(shell("sleep 100 & echo $!"), rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_EQ(rec.exit->describe(), "exit status 0");
  ASSERT_EQ(rec.lines.size(), 1U);
  const pid_t grandchild = std::stoi(rec.lines[0]);
  EXPECT_TRUE(eventually([&] { return process_gone(grandchild); }));
}

// A process that left the group (setsid) keeps the pipe open; on_exit comes after the grace ("hi": the child's last).
TEST_P(ChildProcessTest, EscapedGrandchildHoldingThePipeDelaysOnExitOnlyByTheGrace) {
  if (::access("/usr/bin/setsid", X_OK) != 0) GTEST_SKIP() << "needs setsid(1)";
  TempDir dir;
  const auto pid_file = dir.path() / "pid";
  Recorder rec;
  auto child = start(shell("setsid sh -c 'echo $$ > " + pid_file.string() + ".tmp; mv " + pid_file.string() +
                           ".tmp " + pid_file.string() + "; exec sleep 30' & while [ ! -e " + pid_file.string() +
                           " ]; do sleep 0.01; done; echo hi"),
                     rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until([&] { return rec.lines.size() == 1; }));
  const auto t0 = Clock::now();
  ASSERT_TRUE(run_until_exit(rec, 3s));
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ(rec.exit->describe(), "exit status 0");
  EXPECT_THAT(rec.lines, ElementsAre("hi"));

  pid_t escaped = 0;
  std::ifstream(pid_file) >> escaped;
  ASSERT_GT(escaped, 0);
  EXPECT_FALSE(process_gone(escaped));  // out of reach of the group kill, as it should be
  ::kill(escaped, SIGKILL);
}

// --- lifetime -------------------------------------------------------------------------------

TEST_P(ChildProcessTest, DestroyingARunningChildKillsAndReapsItWithoutCallbacks) {
  Recorder rec;
  auto child = start(shell("sleep 100 & echo $!; exec sleep 100"), rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until([&] { return !rec.lines.empty(); }));
  const pid_t pid = child->pid();
  const pid_t grandchild = std::stoi(rec.lines[0]);

  const auto t0 = Clock::now();
  child.reset();
  EXPECT_LT(Clock::now() - t0, 2s);
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);  // already reaped
  EXPECT_EQ(errno, ECHILD);
  EXPECT_TRUE(eventually([&] { return process_gone(grandchild); }));

  run_for(200ms);  // let any pending handler run: none may call back
  EXPECT_EQ(rec.exit_calls, 0);
  EXPECT_EQ(rec.lines.size(), 1U);
}

TEST_P(ChildProcessTest, DestroyingFromInsideOnOutputLineStopsCallbacks) {
  std::unique_ptr<ChildProcess> child;
  int lines = 0;
  int exits = 0;
  auto r = spawn(SpawnSpec{"/usr/bin/seq", {"1", "100000"}, {}, "/"},
                 ChildCallbacks{[&](std::string_view l) {
                                  ++lines;
                                  if (l == "10") child.reset();
                                },
                                [&](ExitStatus) { ++exits; }});
  ASSERT_TRUE(r.ok());
  child = std::move(r).value();
  ASSERT_TRUE(run_until([&] { return child == nullptr; }));
  run_for(200ms);
  EXPECT_EQ(lines, 10);
  EXPECT_EQ(exits, 0);
}

TEST_P(ChildProcessTest, DestroyingFromInsideOnExitIsSafe) {
  std::unique_ptr<ChildProcess> child;
  std::optional<ExitStatus> status;
  auto r = spawn(shell("echo bye; exit 7"), ChildCallbacks{[](std::string_view) {},
                                                           [&](ExitStatus s) {
                                                             EXPECT_TRUE(child->exited());
                                                             status = s;
                                                             child.reset();
                                                           }});
  ASSERT_TRUE(r.ok());
  child = std::move(r).value();
  ASSERT_TRUE(run_until([&] { return status.has_value(); }));
  EXPECT_EQ(child, nullptr);
  EXPECT_EQ(status->describe(), "exit status 7");
}

// An io_context run by `threads` threads until stop() (or destruction).
class IoThreads {
 public:
  explicit IoThreads(int threads) : work_(boost::asio::make_work_guard(io)) {
    for (int i = 0; i < threads; ++i) runners_.emplace_back([this] { io.run(); });
  }
  ~IoThreads() { stop(); }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;
  void stop() {
    work_.reset();
    io.stop();
    for (auto& t : runners_) {
      if (t.joinable()) t.join();
    }
  }

  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> runners_;
};

// Destroying from a thread other than the io_context's, while output is streaming.
TEST(ChildProcessThreads, DestroyFromAnotherThreadWhileOutputFlows) {
  IoThreads threads(1);
  auto& io = threads.io;

  std::atomic<int> lines{0};
  std::atomic<int> exits{0};
  auto r = spawn(io, SpawnSpec{"/usr/bin/yes", {"lambda"}, {}, "/"},
                 ChildCallbacks{[&](std::string_view) { lines.fetch_add(1); },
                                [&](ExitStatus) { exits.fetch_add(1); }});
  ASSERT_TRUE(r.ok());
  auto child = std::move(r).value();
  EXPECT_TRUE(eventually([&] { return lines.load() > 10000; }));
  child.reset();
  const int after = lines.load();

  for (int i = 0; i < 2; ++i) {  // whatever was queued has run by then
    std::promise<void> drained;
    boost::asio::post(io, [&] { drained.set_value(); });
    EXPECT_EQ(drained.get_future().wait_for(kLimit), std::future_status::ready);
  }
  EXPECT_EQ(lines.load(), after);
  EXPECT_EQ(exits.load(), 0);

  threads.stop();
}

// Several children on an io_context run by two threads: each child's lines stay in order and
// on_exit comes after the last of them.
TEST(ChildProcessThreads, ConcurrentChildrenKeepTheirOwnOrder) {
  IoThreads threads(2);
  auto& io = threads.io;

  constexpr int kChildren = 6;
  constexpr int kLines = 20000;
  struct Tally {
    int next = 1;
    bool in_order = true;
    std::atomic<bool> done{false};
    int lines_at_exit = 0;
  };
  std::vector<Tally> tallies(kChildren);
  std::vector<std::unique_ptr<ChildProcess>> children;
  for (int c = 0; c < kChildren; ++c) {
    Tally& t = tallies[static_cast<std::size_t>(c)];
    auto r = spawn(io, SpawnSpec{"/usr/bin/seq", {"1", std::to_string(kLines)}, {}, "/"},
                   ChildCallbacks{[&t](std::string_view l) {
                                    if (l != std::to_string(t.next)) t.in_order = false;
                                    ++t.next;
                                  },
                                  [&t](ExitStatus) {
                                    t.lines_at_exit = t.next - 1;
                                    t.done.store(true);
                                  }});
    ASSERT_TRUE(r.ok());
    children.push_back(std::move(r).value());
  }
  EXPECT_TRUE(eventually(
      [&] {
        return std::all_of(tallies.begin(), tallies.end(),
                           [](const Tally& t) { return t.done.load(); });
      },
      kLimit));
  children.clear();
  threads.stop();
  for (const auto& t : tallies) {
    EXPECT_TRUE(t.in_order);
    EXPECT_EQ(t.lines_at_exit, kLines);
  }
}

// The child leaves output in the pipe, the consumer is slow, and an escaped process keeps the
// pipe open so no EOF comes: the grace period must not cut off what the child wrote.
TEST(ChildProcessThreads, GraceDoesNotCutOffOutputASlowConsumerIsBehindOn) {
  if (::access("/usr/bin/setsid", X_OK) != 0) GTEST_SKIP() << "needs setsid(1)";
  IoThreads threads(2);
  auto& io = threads.io;

  TempDir dir;
  const std::string pid_file = (dir.path() / "pid").string();
  std::vector<std::string> lines;  // touched by the callbacks only, which never overlap
  std::atomic<bool> done{false};
  auto r = spawn(io,
                 shell("setsid sh -c 'echo $$ > " + pid_file + ".tmp; mv " + pid_file + ".tmp " +
                       pid_file + "; exec sleep 30' & seq 1 20000"),
                 ChildCallbacks{[&](std::string_view l) {
                                  lines.emplace_back(l);
                                  if (lines.size() % 50 == 0) std::this_thread::sleep_for(1ms);
                                },
                                [&](ExitStatus) { done.store(true); }});
  ASSERT_TRUE(r.ok());
  auto child = std::move(r).value();
  EXPECT_TRUE(eventually([&] { return done.load(); }, kLimit));
  child.reset();
  threads.stop();
  // The escaped process may write its pid after the child's exit: it is killed all the same.
  EXPECT_TRUE(eventually([&] { return std::filesystem::exists(pid_file); }));
  pid_t escaped = 0;
  std::ifstream(pid_file) >> escaped;
  if (escaped > 0) ::kill(escaped, SIGKILL);

  ASSERT_EQ(lines.size(), 20000U);
  EXPECT_EQ(lines.front(), "1");
  EXPECT_EQ(lines.back(), "20000");
}

// --- sync_output ----------------------------------------------------------------------------

// What the child wrote is delivered at once, the unterminated rest as a line of its own, and
// the output that follows still arrives, each byte once.
TEST_P(ChildProcessTest, SyncOutputDeliversThePipeAndTheUnterminatedRestNow) {
  TempDir dir;
  const std::string written = (dir.path() / "written").string();
  const std::string go = (dir.path() / "go").string();
  Recorder rec;
  auto child = start(shell("printf 'one\\ntwo\\npart'; touch " + written + "; while [ ! -e " + go +
                           " ]; do sleep 0.01; done; printf 'ial\\nlast\\n'"),
                     rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(written); }));
  child->sync_output();  // without running the io_context: the lines come from this call
  EXPECT_THAT(rec.lines, ElementsAre("one", "two", "part"));
  child->sync_output();  // nothing new: nothing delivered
  EXPECT_THAT(rec.lines, ElementsAre("one", "two", "part"));
  std::ofstream(go).put('\n');
  ASSERT_TRUE(run_until_exit(rec));
  EXPECT_THAT(rec.lines, ElementsAre("one", "two", "part", "ial", "last"));
  EXPECT_EQ(rec.lines_at_exit, rec.lines.size());
  child->sync_output();  // after the end of the output: nothing, and no crash
  EXPECT_EQ(rec.lines.size(), 5U);
}

// Called from inside a callback of the same child, it does nothing (and does not deadlock).
TEST_P(ChildProcessTest, SyncOutputFromInsideACallbackIsANoOp) {
  std::vector<std::string> lines;
  std::optional<ExitStatus> status;
  ChildProcess* self = nullptr;
  auto r = spawn(shell("echo a; echo b; printf c"),
                 ChildCallbacks{[&](std::string_view l) {
                                  lines.emplace_back(l);
                                  if (self) self->sync_output();
                                },
                                [&](ExitStatus s) {
                                  if (self) self->sync_output();
                                  status = s;
                                }});
  ASSERT_TRUE(r.ok());
  auto child = std::move(r).value();
  self = child.get();
  ASSERT_TRUE(run_until([&] { return status.has_value(); }));
  EXPECT_THAT(lines, ElementsAre("a", "b", "c"));
}

// sync_output() from another thread while the io_context's threads read a flood: every byte
// arrives once and in order (sync_output may cut a line where it found the pipe's end).
TEST(ChildProcessThreads, SyncOutputFromAnotherThreadLosesAndRepeatsNothing) {
  IoThreads threads(2);
  auto& io = threads.io;

  constexpr int kLines = 100000;
  std::string received;  // touched by the callbacks only, which never overlap
  std::atomic<bool> done{false};
  auto r = spawn(io, SpawnSpec{"/usr/bin/seq", {"1", std::to_string(kLines)}, {}, "/"},
                 ChildCallbacks{[&](std::string_view l) { received.append(l).push_back('|'); },
                                [&](ExitStatus) { done.store(true); }});
  ASSERT_TRUE(r.ok());
  auto child = std::move(r).value();
  int calls = 0;
  while (!done.load() && calls < 1000000) {
    child->sync_output();
    ++calls;
  }
  EXPECT_TRUE(eventually([&] { return done.load(); }, kLimit));
  child.reset();
  threads.stop();

  std::string expected;
  for (int i = 1; i <= kLines; ++i) expected += std::to_string(i);
  std::string digits;
  for (char c : received) {
    if (c != '|') digits.push_back(c);
  }
  EXPECT_EQ(digits, expected);
  EXPECT_GT(calls, 0);
}

// --- peak RSS -------------------------------------------------------------------------------

TEST_P(ChildProcessTest, PeakRssOfALiveProcess) {
  EXPECT_GT(peak_rss_bytes(::getpid()), 0U);
  Recorder rec;
  auto child = start(shell("echo ready; exec sleep 100"), rec);
  ASSERT_TRUE(child);
  ASSERT_TRUE(run_until([&] { return !rec.lines.empty(); }));
  const std::size_t rss = peak_rss_bytes(child->pid());
  EXPECT_GT(rss, 0U);
  EXPECT_EQ(rss % 1024, 0U);
}

// The numbers of a status text, by whole key at a line's start ("RssAnon" is not "Rss").
TEST(PeakRss, StatusNumbersAreReadByKey) {
  const std::string text =
      "Name:\tpython3\nUmask:\t0022\nVmPeak:\t   20000 kB\nVmHWM:\t    9000 kB\nVmRSS:\t    8000 kB\n"
      "RssAnon:\t    3000 kB\nThreads:\t3\nSigQ:\t0/1000\n";
  EXPECT_EQ(status_number(text, "VmRSS"), 8000U);
  EXPECT_EQ(status_number(text, "Threads"), 3U);
  EXPECT_EQ(status_number(text, "Anon"), std::nullopt);
  EXPECT_EQ(status_number(text, "Name"), std::nullopt);  // the first line, and not a number
  EXPECT_EQ(vm_hwm_bytes(text), 9000U * 1024);
  EXPECT_EQ(status_number("Name:\tzombie\nState:\tZ (zombie)\nThreads:\t1\n", "VmRSS"), std::nullopt);
  EXPECT_EQ(vm_hwm_bytes("Name:\tzombie\n"), 0U);
}

TEST(PeakRss, UnknownProcessIsZero) {
  EXPECT_EQ(peak_rss_bytes(0), 0U);
  EXPECT_EQ(peak_rss_bytes(-1), 0U);
  EXPECT_EQ(peak_rss_bytes(0x3fffffff), 0U);
}

// --- a process that joins another's group (an extension, docs/decisions/024) ---------------

TEST_P(ChildProcessTest, AMemberJoinsTheLeadersGroupAndEndsNothingElse) {
  Recorder leader_rec;
  auto leader = start(shell("sleep 30"), leader_rec);
  ASSERT_NE(leader, nullptr);
  auto spec = shell("ps -o pgid= -p $$ | tr -d ' '; sleep 30");
  spec.process_group = leader->pid();
  Recorder member_rec;
  auto member = start(spec, member_rec);
  ASSERT_NE(member, nullptr);
  ASSERT_TRUE(run_until([&] { return !member_rec.lines.empty(); }));
  EXPECT_EQ(member_rec.lines[0], std::to_string(leader->pid()));
  // Its end (signalled alone) ends neither the leader nor the group.
  member->kill_group();
  ASSERT_TRUE(run_until_exit(member_rec));
  run_for(50ms);
  EXPECT_FALSE(leader_rec.exit.has_value());
  EXPECT_FALSE(process_gone(leader->pid()));
  // The leader's group, killed, takes a member still in it along.
  Recorder second_rec;
  auto second = start(spec, second_rec);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(run_until([&] { return !second_rec.lines.empty(); }));
  leader->kill_group();
  ASSERT_TRUE(run_until_exit(leader_rec));
  ASSERT_TRUE(run_until_exit(second_rec));
  EXPECT_TRUE(second_rec.exit->signaled);
}

}  // namespace
}  // namespace lambdad::process
