// SpawnSpec::root: the child in a Lambda-shaped root of its own (docs/decisions/014): the code at
// /var/task, the runtime at /var/runtime and the layers at /opt (read-only), a private /tmp, the
// host's system directories, and nothing else of the host. The host's mounts never change.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lambda_root.hpp"
#include "lambdad/process/child_process.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Each case runs twice: as root in a mount namespace, and in a user namespace (what a daemon that is
// not root gets), where the host's mount flags are locked and only our uid is mapped.
class LambdaRootTest : public ::testing::TestWithParam<bool> {
 protected:
  LambdaRootTest() {
#if defined(__SANITIZE_THREAD__)
    // unshare(CLONE_NEWUSER) needs a single-threaded caller, and ThreadSanitizer starts its
    // background thread again in a child forked from a single-threaded process (it does not in one
    // forked from a multithreaded process). The daemon always forks from several threads; so does
    // this test under ThreadSanitizer.
    second_thread_ = std::thread([stop = stop_second_thread_.get_future()] { stop.wait(); });
#endif
    // Under /var/tmp, not /tmp: the root's /tmp is the environment's own.
    std::string tmpl = "/var/tmp/lambdad-root-test-XXXXXX";
    scratch_ = fs::canonical(::mkdtemp(tmpl.data()));
    // As root the files live on a nosuid,nodev,noexec,noatime tmpfs, mounted in a namespace of this
    // test process only: in a user namespace those flags are locked, and the root's read-only
    // remounts must keep them (they fail with EPERM otherwise).
    if (::geteuid() == 0 && own_mount_namespace() &&
        ::mount("tmpfs", scratch_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, "mode=0755") == 0) {
      mounted_ = true;
    }
    for (const char* d : {"mnt", "task", "runtime", "tmp", "first/bin", "second"}) fs::create_directories(scratch_ / d);
    std::ofstream(scratch_ / "task" / "app.py") << "code\n";
    std::ofstream(scratch_ / "runtime" / "bootstrap.py") << "client\n";
    std::ofstream(scratch_ / "tmp" / "kept") << "tmp\n";
    for (const char* layer : {"first", "second"}) {
      std::ofstream(scratch_ / layer / "which") << layer << "\n";
      std::ofstream(scratch_ / layer / ("only-" + std::string(layer))) << "x\n";
    }
  }
  ~LambdaRootTest() override {
    if (second_thread_.joinable()) {
      stop_second_thread_.set_value();
      second_thread_.join();
    }
    if (mounted_) ::umount2(scratch_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }

  static bool own_mount_namespace() {
    static const bool done = ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    return done;
  }

  LambdaRoot root(std::vector<fs::path> layers = {}) const {
    return LambdaRoot{scratch_ / "mnt", scratch_ / "task", scratch_ / "runtime", std::move(layers), {}, {}, GetParam()};
  }

  // The child's output, or the spawn's error.
  std::string run(const LambdaRoot& r, const std::string& script, const std::string& executable = "/bin/sh") {
    SpawnSpec spec{executable, {"-c", script}, {"PATH=/usr/bin:/bin"}, "/var/task"};
    spec.root = r;
    spec.private_tmp = scratch_ / "tmp";
    std::string out;
    std::optional<ExitStatus> exit;
    auto child = spawn(io_, spec,
                       ChildCallbacks{[&](std::string_view l) { out.append(l).push_back('\n'); },
                                      [&](ExitStatus s) { exit = s; }});
    if (!child.ok()) return "error: " + child.error().message;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!exit && std::chrono::steady_clock::now() < deadline) io_.run_one_for(100ms);
    EXPECT_TRUE(exit.has_value()) << "the child did not exit";
    return out;
  }

  boost::asio::io_context io_;
  fs::path scratch_;
  bool mounted_ = false;
  std::promise<void> stop_second_thread_;
  std::thread second_thread_;
};

#define NEEDS_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "a root of the child's own needs a mount namespace (root)"

TEST_P(LambdaRootTest, TheChildSeesLambdasLayoutAndNothingElseOfTheHost) {
  NEEDS_ROOT();
  const auto out = run(root(), "pwd; cat /var/task/app.py /var/runtime/bootstrap.py /tmp/kept; ls /opt | wc -l; "
                               "test -e " + scratch_.string() + " || echo no-scratch; "
                               "test -e /root || test -e /home || echo no-homes; test -x /usr/bin/env && echo usr");
  EXPECT_EQ(out, "/var/task\ncode\nclient\ntmp\n0\nno-scratch\nno-homes\nusr\n");
}

TEST_P(LambdaRootTest, CodeRuntimeLayersAndTheRootAreReadOnlyTmpIsNot) {
  NEEDS_ROOT();
  const auto out = run(root({scratch_ / "first"}),
                       "for f in /var/task/x /var/runtime/x /opt/x /x /usr/x; do touch $f 2>/dev/null && echo wrote $f; done; "
                       "touch /tmp/new && echo tmp-ok");
  EXPECT_EQ(out, "tmp-ok\n");
  EXPECT_TRUE(fs::exists(scratch_ / "tmp" / "new"));
  EXPECT_FALSE(fs::exists(scratch_ / "task" / "x"));
}

TEST_P(LambdaRootTest, LayersAreMergedAtOptTheLaterWinning) {
  NEEDS_ROOT();
  const auto out = run(root({scratch_ / "first", scratch_ / "second"}), "cat /opt/which; ls /opt");
  EXPECT_EQ(out, "second\nbin\nonly-first\nonly-second\nwhich\n");
  EXPECT_FALSE(fs::exists("/opt/only-first")) << "the host's /opt changed";
}

TEST_P(LambdaRootTest, AMissingEntrypointIsNamedAsLambdaNamesIt) {
  NEEDS_ROOT();
  EXPECT_EQ(run(root(), "", "/var/task/bootstrap"), "error: fork/exec /var/task/bootstrap: no such file or directory");
}

TEST_P(LambdaRootTest, AStepThatFailsFailsTheSpawnAndSaysWhich) {
  NEEDS_ROOT();
  // A layer that vanished: the overlay cannot be mounted.
  EXPECT_THAT(run(root({scratch_ / "first", scratch_ / "gone"}), "true"),
              HasSubstr("error: the function's root: mount the layers' overlay on /opt: no such file or directory"));
}

TEST_P(LambdaRootTest, TheProbeSucceedsWhereARootCanBeMade) {
  NEEDS_ROOT();
  const auto probe = probe_lambda_root(scratch_ / "mnt");
  EXPECT_TRUE(probe.ok()) << probe.error().message;
}

TEST_P(LambdaRootTest, InAUserNamespaceOnlyTheDaemonsUserIsMapped) {
  NEEDS_ROOT();
  const auto out = run(root(), "id -u; read inside outside count < /proc/self/uid_map; echo $inside $outside $count");
  EXPECT_EQ(out, GetParam() ? "0\n0 0 1\n" : "0\n0 0 4294967295\n");
}

INSTANTIATE_TEST_SUITE_P(Namespaces, LambdaRootTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "UserNamespace" : "MountNamespace"; });

TEST(RootPlanTest, PathsTheRootCannotShowAreRefusedBeforeFork) {
  LambdaRoot r{"/var/tmp/x/.root", "/srv/code", "/srv/runtimes/python", {"/l/one", "/l/two"}, {"/opt/py"}, {}};
  auto plan = RootPlan::make(r, "/var/tmp/x/env1");
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.error().message, HasSubstr("/opt/py cannot be shown in the function's root: its layers are at /opt"));
  r.host_paths = {"/var/task/lib"};
  EXPECT_THAT(RootPlan::make(r, "").error().message, HasSubstr("/var/task is the root's own"));
  r.host_paths = {};
  r.layers = {"/l/one", "/l/a,b"};
  EXPECT_THAT(RootPlan::make(r, "").error().message, HasSubstr("which an overlay mount cannot name"));
}

TEST(RootPlanTest, PathsInsideMapToTheHostFilesBehindThem) {
  LambdaRoot r{"/var/tmp/x/.root", "/srv/code", "/srv/runtimes/python", {}, {"/srv/python/3.12"}, {}};
  auto plan = RootPlan::make(r, "/var/tmp/x/env1");
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->host_path("/var/task/bootstrap"), "/srv/code/bootstrap");
  EXPECT_EQ(plan->host_path("/var/task"), "/srv/code");
  EXPECT_EQ(plan->host_path("/var/runtime/bootstrap.py"), "/srv/runtimes/python/bootstrap.py");
  EXPECT_EQ(plan->host_path("/tmp/a"), "/var/tmp/x/env1/a");
  EXPECT_EQ(plan->host_path("/usr/bin/python3"), "/usr/bin/python3");
  EXPECT_EQ(plan->host_path("/var/taskforce"), "/var/taskforce");
}

}  // namespace
}  // namespace lambdad::process
