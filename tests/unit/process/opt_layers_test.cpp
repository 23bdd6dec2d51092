// SpawnSpec::opt_layers: the layers at /opt in the child's own mount namespace (root), or the
// fallback environment with the reason (not root, a mount that fails). The host's /opt is never
// changed.
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "lambdad/process/child_process.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

class OptLayersTest : public ::testing::Test {
 protected:
  OptLayersTest() {
    std::string tmpl = (fs::temp_directory_path() / "lambdad-layers-XXXXXX").string();
    root_ = fs::canonical(::mkdtemp(tmpl.data()));
    for (const char* layer : {"first", "second"}) {
      fs::create_directories(root_ / layer / "bin");
      std::ofstream(root_ / layer / "which") << layer << "\n";
      std::ofstream(root_ / layer / ("only-" + std::string(layer))) << "x\n";
    }
  }
  ~OptLayersTest() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // The child's output and what spawn() said about /opt.
  struct Run {
    std::string output;
    std::string fallback;
  };

  Run run(const std::vector<fs::path>& layers, const std::string& script) {
    SpawnSpec spec{"/bin/sh", {"-c", script}, {"PATH=/usr/bin:/bin", "MODE=opt"}, "/"};
    spec.opt_layers = layers;
    spec.environment_without_opt = {"PATH=/usr/bin:/bin", "MODE=fallback"};
    Run out;
    std::optional<ExitStatus> exit;
    auto child = spawn(io_, spec,
                       ChildCallbacks{[&](std::string_view l) { out.output.append(l).push_back('\n'); },
                                      [&](ExitStatus s) { exit = s; }});
    EXPECT_TRUE(child.ok()) << (child.ok() ? "" : child.error().message);
    if (!child.ok()) return out;
    out.fallback = (*child)->opt_layers_fallback();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!exit && std::chrono::steady_clock::now() < deadline) io_.run_one_for(100ms);
    EXPECT_TRUE(exit.has_value()) << "the child did not exit";
    return out;
  }

  boost::asio::io_context io_;
  fs::path root_;
};

TEST_F(OptLayersTest, LayersAreMergedAtOptTheLaterWinning) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting layers on /opt needs root (a mount namespace of the child's own)";
  struct stat before {};
  ASSERT_EQ(::stat("/opt", &before), 0);
  const auto r = run({root_ / "first", root_ / "second"},
                     "echo $MODE; cat /opt/which; ls /opt; touch /opt/new 2>/dev/null || echo read-only");
  EXPECT_EQ(r.fallback, "");
  EXPECT_EQ(r.output, "opt\nsecond\nbin\nonly-first\nonly-second\nwhich\nread-only\n");
  EXPECT_FALSE(fs::exists("/opt/only-first")) << "the host's /opt changed";
  EXPECT_FALSE(fs::exists(root_ / "second" / "new"));
}

TEST_F(OptLayersTest, OneLayerIsBoundReadOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting layers on /opt needs root (a mount namespace of the child's own)";
  const auto r = run({root_ / "first"}, "echo $MODE; cat /opt/which; touch /opt/new 2>/dev/null || echo read-only");
  EXPECT_EQ(r.fallback, "");
  EXPECT_EQ(r.output, "opt\nfirst\nread-only\n");
  EXPECT_FALSE(fs::exists(root_ / "first" / "new"));
}

TEST_F(OptLayersTest, AMountThatFailsFallsBackToTheOtherEnvironment) {
  // A layer that vanished: the overlay cannot be mounted (as root); not root, nothing is tried.
  const auto r = run({root_ / "first", root_ / "gone"}, "echo $MODE");
  EXPECT_EQ(r.output, "fallback\n");
  if (::geteuid() == 0) {
    EXPECT_EQ(r.fallback, "mount overlay on /opt: no such file or directory");
  } else {
    EXPECT_EQ(r.fallback, "not root (no mount namespace)");
  }
}

TEST_F(OptLayersTest, PathsAnOverlayCannotNameFallBack) {
  fs::create_directories(root_ / "a,b");
  const auto r = run({root_ / "first", root_ / "a,b"}, "echo $MODE");
  EXPECT_EQ(r.output, "fallback\n");
  EXPECT_THAT(r.fallback, ::geteuid() == 0 ? HasSubstr("which an overlay mount cannot name") : HasSubstr("not root"));
}

}  // namespace
}  // namespace lambdad::process
