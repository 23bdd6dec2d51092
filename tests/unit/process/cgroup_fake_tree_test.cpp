// The cgroup controllers on a fake tree: temp directories laid out like v1 and v2 hierarchies,
// with plain files standing in for the kernel's. Checks what is written and how peak and OOM
// are read, without root.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cgroup_files.hpp"
#include "resource_controllers.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;

class FakeTree : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lambdad-cgroup-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  static void put(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  fs::path root_;
};

TEST(CgroupFiles, KeyedValuesAndPids) {
  const std::string oom_control = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
  EXPECT_EQ(cgroup::keyed_value(oom_control, "oom_kill"), 2u);
  EXPECT_EQ(cgroup::keyed_value(oom_control, "under_oom"), 0u);
  EXPECT_EQ(cgroup::keyed_value(oom_control, "oom"), std::nullopt);  // not a prefix match
  EXPECT_EQ(cgroup::parse_pids("12\n345\n\n"), (std::vector<pid_t>{12, 345}));
}

TEST(CgroupFiles, ParsesProcCgroup) {
  const auto m = cgroup::parse_proc_cgroup("4:memory:/process_api/x\n2:cpu,cpuacct:/\n0::/user.slice\n");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].controllers, "memory");
  EXPECT_EQ(m[0].path, "/process_api/x");
  EXPECT_EQ(m[1].controllers, "cpu,cpuacct");
  EXPECT_EQ(m[2].controllers, "");
  EXPECT_EQ(m[2].path, "/user.slice");
}

TEST_F(FakeTree, FindsTheDaemonsOwnV1Directories) {
  fs::create_directories(root_ / "memory/a/b");
  fs::create_directories(root_ / "pids");
  fs::create_directories(root_ / "cpu,cpuacct");
  const std::string mounts = "tmpfs " + root_.string() + " tmpfs rw 0 0\n" + "cgroup " + (root_ / "memory").string() +
                             " cgroup rw,relatime,memory 0 0\n" + "cgroup " + (root_ / "pids").string() +
                             " cgroup rw,relatime,pids 0 0\n" + "cgroup " + (root_ / "cpu,cpuacct").string() +
                             " cgroup rw,relatime,cpu,cpuacct 0 0\n";
  auto parents = find_cgroup_v1(mounts, "8:pids:/\n4:memory:/a/b\n2:cpu,cpuacct:/\n0::/\n");
  ASSERT_TRUE(parents) << parents.error().message;
  EXPECT_EQ(parents->memory, root_ / "memory/a/b");
  EXPECT_EQ(parents->pids, root_ / "pids");
  EXPECT_EQ(parents->cpu, root_ / "cpu,cpuacct");

  auto none = find_cgroup_v1("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n", "0::/\n");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "no cgroup v1 memory hierarchy mounted");
}

TEST(CgroupDetection, FindsTheDaemonsOwnV2Group) {
  auto own = find_cgroup_v2("cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n", "0::/user.slice/x.scope\n");
  ASSERT_TRUE(own);
  EXPECT_EQ(own.value(), fs::path("/sys/fs/cgroup/user.slice/x.scope"));
  EXPECT_FALSE(find_cgroup_v2("proc /proc proc rw 0 0\n", "0::/\n"));
}

TEST_F(FakeTree, V1WritesLimitsAndReadsPeakAndOom) {
  for (const char* h : {"memory", "pids", "cpu"}) fs::create_directories(root_ / h);
  auto controller = make_cgroup_v1_controller({root_ / "memory", root_ / "pids", root_ / "cpu"}, "lambdad-7", true);
  ASSERT_TRUE(controller) << controller.error().message;
  EXPECT_EQ((*controller)->mode(), MemoryEnforcement::kCgroup);
  EXPECT_EQ((*controller)->describe(), "cgroup v1 (memory, pids, cpu) at " + (root_ / "memory/lambdad-7").string());
  {
    EnvironmentLimits limits;
    limits.memory_bytes = 64ull << 20;
    limits.max_pids = 1024;
    limits.cpus = 0.5;
    auto group = (*controller)->create_group("env-1", limits);
    ASSERT_TRUE(group) << group.error().message;
    const fs::path mem = root_ / "memory/lambdad-7/env-1";
    EXPECT_EQ(slurp(mem / "memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(slurp(root_ / "pids/lambdad-7/env-1/pids.max"), "1024");
    EXPECT_EQ(slurp(root_ / "cpu/lambdad-7/env-1/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(slurp(root_ / "cpu/lambdad-7/env-1/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ((*group)->join_files(),
              (std::vector<std::string>{(mem / "cgroup.procs").string(),
                                        (root_ / "pids/lambdad-7/env-1/cgroup.procs").string(),
                                        (root_ / "cpu/lambdad-7/env-1/cgroup.procs").string()}));

    EXPECT_EQ((*group)->peak_memory_bytes(), 0u);
    EXPECT_FALSE((*group)->oom_killed());
    put(mem / "memory.max_usage_in_bytes", "31457280\n");
    put(mem / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    EXPECT_EQ((*group)->peak_memory_bytes(), 31457280u);
    EXPECT_FALSE((*group)->oom_killed());
    put(mem / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
    EXPECT_TRUE((*group)->oom_killed());
    // Kernels before 4.13 have no oom_kill line.
    put(mem / "memory.oom_control", "oom_kill_disable 0\nunder_oom 1\n");
    EXPECT_TRUE((*group)->oom_killed());

    // No CPU cap: no cpu group.
    auto plain = (*controller)->create_group("env-2", EnvironmentLimits{});
    ASSERT_TRUE(plain);
    EXPECT_EQ((*plain)->join_files().size(), 2u);
    EXPECT_FALSE(fs::exists(root_ / "cpu/lambdad-7/env-2"));
    EXPECT_EQ(slurp(root_ / "memory/lambdad-7/env-2/memory.limit_in_bytes"), "134217728");

    EXPECT_FALSE((*controller)->create_group("../escape", limits));
  }
  EXPECT_FALSE(fs::exists(root_ / "memory/lambdad-7/env-1"));
  EXPECT_FALSE(fs::exists(root_ / "pids/lambdad-7/env-1"));
  EXPECT_FALSE(fs::exists(root_ / "cpu/lambdad-7/env-1"));
  controller.value().reset();
  for (const char* h : {"memory", "pids", "cpu"}) EXPECT_FALSE(fs::exists(root_ / h / "lambdad-7")) << h;
}

TEST_F(FakeTree, V1ResetPeakWritesZeroToMaxUsage) {
  for (const char* h : {"memory", "pids"}) fs::create_directories(root_ / h);
  auto controller = make_cgroup_v1_controller({root_ / "memory", root_ / "pids", {}}, "lambdad-7", true);
  ASSERT_TRUE(controller) << controller.error().message;
  auto group = (*controller)->create_group("env-1", EnvironmentLimits{});
  ASSERT_TRUE(group) << group.error().message;
  const fs::path mem = root_ / "memory/lambdad-7/env-1";
  put(mem / "memory.max_usage_in_bytes", "31457280\n");
  (*group)->reset_peak();
  // The kernel answers a write of "0" by setting the peak to the current usage.
  EXPECT_EQ(slurp(mem / "memory.max_usage_in_bytes"), "0");
  EXPECT_TRUE((*group)->per_invoke_peak());
  put(mem / "memory.max_usage_in_bytes", "1048576\n");
  EXPECT_EQ((*group)->peak_memory_bytes(), 1048576u);

  // A group whose directory is gone cannot be reset: the peak is not per invoke then.
  fs::remove_all(mem);
  (*group)->reset_peak();
  EXPECT_FALSE((*group)->per_invoke_peak());
}

TEST_F(FakeTree, V1NeedsMemoryAndPids) {
  fs::create_directories(root_ / "memory");
  auto controller = make_cgroup_v1_controller({root_ / "memory", root_ / "missing", {}}, "lambdad-7", true);
  ASSERT_FALSE(controller);
  EXPECT_NE(controller.error().message.find("mkdir " + (root_ / "missing/lambdad-7").string()), std::string::npos)
      << controller.error().message;
  EXPECT_FALSE(fs::exists(root_ / "memory/lambdad-7"));  // nothing left behind
}

TEST_F(FakeTree, V2EnablesControllersAndWritesLimits) {
  put(root_ / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  put(root_ / "cgroup.subtree_control", "");
  auto controller = make_cgroup_v2_controller(root_, "lambdad-7", true);
  ASSERT_TRUE(controller) << controller.error().message;
  EXPECT_EQ((*controller)->describe(), "cgroup v2 at " + (root_ / "lambdad-7").string());
  EXPECT_EQ(slurp(root_ / "cgroup.subtree_control"), "+memory +pids +cpu");
  EXPECT_EQ(slurp(root_ / "lambdad-7/cgroup.subtree_control"), "+memory +pids +cpu");
  {
    EnvironmentLimits limits;
    limits.memory_bytes = 256ull << 20;
    limits.max_pids = 1024;
    limits.cpus = 1.5;
    auto group = (*controller)->create_group("env-1", limits);
    ASSERT_TRUE(group) << group.error().message;
    const fs::path dir = root_ / "lambdad-7/env-1";
    EXPECT_EQ(slurp(dir / "memory.max"), "268435456");
    EXPECT_EQ(slurp(dir / "pids.max"), "1024");
    EXPECT_EQ(slurp(dir / "cpu.max"), "150000 100000");
    EXPECT_EQ((*group)->join_files(), (std::vector<std::string>{(dir / "cgroup.procs").string()}));

    // No memory.peak (Linux < 5.19): the highest memory.current seen.
    put(dir / "memory.current", "1000\n");
    EXPECT_EQ((*group)->peak_memory_bytes(), 1000u);
    put(dir / "memory.current", "500\n");
    EXPECT_EQ((*group)->peak_memory_bytes(), 1000u);

    put(dir / "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\n");
    EXPECT_FALSE((*group)->oom_killed());
    put(dir / "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
    EXPECT_TRUE((*group)->oom_killed());
  }
  EXPECT_FALSE(fs::exists(root_ / "lambdad-7/env-1"));
  {
    // memory.peak when the kernel has it; swap is capped when it has memory.swap.max... which a
    // fresh fake group cannot have, so only the peak is checked here.
    auto group = (*controller)->create_group("env-2", EnvironmentLimits{});
    ASSERT_TRUE(group);
    EXPECT_FALSE(fs::exists(root_ / "lambdad-7/env-2/cpu.max"));
  }
  controller.value().reset();
  EXPECT_FALSE(fs::exists(root_ / "lambdad-7"));
}

class FakeV2Group : public FakeTree {
 protected:
  void SetUp() override {
    FakeTree::SetUp();
    put(root_ / "cgroup.controllers", "memory pids\n");
    put(root_ / "cgroup.subtree_control", "");
    auto c = make_cgroup_v2_controller(root_, "lambdad-7", true);
    ASSERT_TRUE(c) << c.error().message;
    controller_ = std::move(c.value());
    auto g = controller_->create_group("env-1", EnvironmentLimits{});
    ASSERT_TRUE(g) << g.error().message;
    group_ = std::move(g.value());
    dir_ = root_ / "lambdad-7/env-1";
  }
  void TearDown() override {
    group_.reset();
    controller_.reset();
    FakeTree::TearDown();
  }

  std::unique_ptr<ResourceController> controller_;
  std::unique_ptr<ResourceGroup> group_;
  fs::path dir_;
};

TEST_F(FakeV2Group, ResetPeakWritesToMemoryPeakAndReadsThroughThatFile) {
  put(dir_ / "memory.peak", "5000\n");  // made after the group: found at the first reset
  group_->reset_peak();
  // Linux >= 6.12 takes any non-empty write as "reset the peak seen through this open file".
  EXPECT_EQ(slurp(dir_ / "memory.peak"), "reset\n");
  EXPECT_TRUE(group_->per_invoke_peak());
  put(dir_ / "memory.peak", "3000\n");  // same file: what the kernel reports through our fd
  EXPECT_EQ(group_->peak_memory_bytes(), 3000u);
  // Whatever another opener of memory.peak sees is not ours: replace the file by another.
  fs::remove(dir_ / "memory.peak");
  put(dir_ / "memory.peak", "9999\n");
  EXPECT_EQ(group_->peak_memory_bytes(), 3000u);
}

TEST_F(FakeV2Group, ResetPeakWritesAgainThroughTheSameFile) {
  put(dir_ / "memory.peak", "5000\n");
  group_->reset_peak();
  put(dir_ / "memory.peak", "7\n");  // truncates the file; our offset stays past the first write
  group_->reset_peak();
  EXPECT_TRUE(slurp(dir_ / "memory.peak").ends_with("reset\n")) << slurp(dir_ / "memory.peak");
  EXPECT_TRUE(group_->per_invoke_peak());
}

TEST_F(FakeV2Group, AMemoryPeakThatRefusesTheWriteIsThePeakSinceCreation) {
  // Linux 5.19 to 6.11: memory.peak exists but cannot be written (/dev/full fails every write).
  fs::create_symlink("/dev/full", dir_ / "memory.peak");
  group_->reset_peak();
  EXPECT_FALSE(group_->per_invoke_peak());
  fs::remove(dir_ / "memory.peak");
  put(dir_ / "memory.peak", "7000\n");
  EXPECT_EQ(group_->peak_memory_bytes(), 7000u);
  group_->reset_peak();  // not tried again
  EXPECT_EQ(slurp(dir_ / "memory.peak"), "7000\n");
  EXPECT_FALSE(group_->per_invoke_peak());
}

TEST_F(FakeV2Group, WithoutMemoryPeakResetRestartsFromMemoryCurrent) {
  // Linux < 5.19: the highest memory.current seen, restarted from the current value.
  put(dir_ / "memory.current", "8000\n");
  EXPECT_EQ(group_->peak_memory_bytes(), 8000u);
  put(dir_ / "memory.current", "2000\n");
  EXPECT_EQ(group_->peak_memory_bytes(), 8000u);
  group_->reset_peak();
  EXPECT_TRUE(group_->per_invoke_peak());
  EXPECT_FALSE(fs::exists(dir_ / "memory.peak"));
  EXPECT_EQ(group_->peak_memory_bytes(), 2000u);
  put(dir_ / "memory.current", "3000\n");
  EXPECT_EQ(group_->peak_memory_bytes(), 3000u);
}

TEST_F(FakeTree, V2NeedsTheMemoryController) {
  put(root_ / "cgroup.controllers", "cpu pids\n");
  auto controller = make_cgroup_v2_controller(root_, "lambdad-7", true);
  ASSERT_FALSE(controller);
  EXPECT_EQ(controller.error().message, "the memory controller is not available in " + root_.string());
  EXPECT_FALSE(fs::exists(root_ / "lambdad-7"));
}

TEST_F(FakeTree, V2SkipsEnablingWhatIsAlreadyEnabled) {
  put(root_ / "cgroup.controllers", "memory pids\n");
  put(root_ / "cgroup.subtree_control", "memory pids\n");
  auto controller = make_cgroup_v2_controller(root_, "lambdad-7", true);
  ASSERT_TRUE(controller) << controller.error().message;
  EXPECT_EQ(slurp(root_ / "cgroup.subtree_control"), "memory pids\n");
  EXPECT_EQ(slurp(root_ / "lambdad-7/cgroup.subtree_control"), "+memory +pids");
  EnvironmentLimits limits;
  limits.cpus = 1.0;
  EXPECT_FALSE((*controller)->create_group("env", limits));  // no cpu controller
}

}  // namespace
}  // namespace lambdad::process
