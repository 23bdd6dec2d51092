// process (internal): the ResourceController implementations behind make_resource_controller(),
// each constructible on an injected directory so tests can run them on a fake cgroup tree.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "lambdad/process/resource_limits.hpp"

namespace lambdad::process {

// Where the daemon may create its groups in a v1 layout: one directory per hierarchy (the
// daemon's own cgroup in it). The controller creates `<dir>/<tag>/` in each; cpu may be empty.
struct CgroupV1Parents {
  std::filesystem::path memory;
  std::filesystem::path pids;
  std::filesystem::path cpu;
};

// `fake`: a test tree of plain files: files are created when written, groups are removed with
// remove_all and nothing is killed. `blocking`: where a destroyed group's directories wait for
// their exiting processes (cgroup::GroupRemover); without one, the destructor waits.
Result<std::unique_ptr<ResourceController>> make_cgroup_v1_controller(const CgroupV1Parents& parents,
                                                                      const std::string& tag,
                                                                      bool fake = false,
                                                                      BlockingPool* blocking = nullptr);

// v2: `parent` is a directory whose cgroup.subtree_control has (or accepts) +memory +pids; the
// controller creates `<parent>/<tag>/` with the controllers enabled for its children.
Result<std::unique_ptr<ResourceController>> make_cgroup_v2_controller(const std::filesystem::path& parent,
                                                                      const std::string& tag,
                                                                      bool fake = false,
                                                                      BlockingPool* blocking = nullptr);

// Without a cgroup: sampling RSS of each attached process group every `period` while busy; the
// timer runs on `io` and each round of readings on `blocking` when given (in place otherwise).
// `reason` says why no cgroup is used (part of describe()).
std::unique_ptr<ResourceController> make_sampling_controller(boost::asio::io_context& io,
                                                             const std::string& reason,
                                                             std::chrono::milliseconds period =
                                                                 std::chrono::milliseconds(50),
                                                             BlockingPool* blocking = nullptr);

// `cgroup`'s groups with the resident memory of their processes (cgroup.procs) sampled every
// `period` while busy on top: the peak is the higher of the two, and a sum of RSS over the limit
// kills as an OOM (docs/decisions/013).
std::unique_ptr<ResourceController> sample_rss_too(boost::asio::io_context& io,
                                                   std::unique_ptr<ResourceController> cgroup,
                                                   std::chrono::milliseconds period = std::chrono::milliseconds(10),
                                                   BlockingPool* blocking = nullptr);

std::unique_ptr<ResourceController> make_off_controller();

// Detection from the text of /proc/mounts and /proc/self/cgroup: for v1, the daemon's own
// directory in the memory, pids (and cpu) hierarchies; for v2, its own cgroup directory.
Result<CgroupV1Parents> find_cgroup_v1(const std::string& proc_mounts, const std::string& proc_self_cgroup);
Result<std::filesystem::path> find_cgroup_v2(const std::string& proc_mounts,
                                                   const std::string& proc_self_cgroup);

}  // namespace lambdad::process
