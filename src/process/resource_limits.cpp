// make_resource_controller(): picks the enforcement the host allows, in the order of
// MemoryEnforcement::kAuto (v2, v1, sampling), and keeps every reason a mode was passed over for
// describe(). Every mode but "off" samples the environments' resident memory too.
#include "lambdad/process/resource_limits.hpp"

#include <unistd.h>

#include <string>

#include "cgroup_files.hpp"
#include "lambdad/common/error_types.hpp"
#include "resource_controllers.hpp"

namespace lambdad::process {
namespace {

namespace fs = std::filesystem;

// v2: the daemon's own cgroup, then each ancestor (a sibling group of the daemon's), since a
// group with processes in it cannot hand controllers to children.
Result<std::unique_ptr<ResourceController>> try_v2(const std::string& mounts, const std::string& self,
                                                   const std::string& tag, BlockingPool* blocking) {
  auto own = find_cgroup_v2(mounts, self);
  if (!own) return own.error();
  std::string why;
  fs::path mount_root;
  for (const auto& m : cgroup::parse_mounts(mounts)) {
    if (m.fs_type == "cgroup2") {
      mount_root = m.mount_point;
      break;
    }
  }
  for (fs::path dir = own.value();; dir = dir.parent_path()) {
    auto made = make_cgroup_v2_controller(dir, tag, false, blocking);
    if (made) return made;
    if (!why.empty()) why += "; ";
    why += made.error().message;
    if (dir == mount_root || dir == dir.parent_path() || dir.string().size() <= mount_root.string().size()) {
      break;
    }
  }
  return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure), "cgroup v2: " + why};
}

Result<std::unique_ptr<ResourceController>> try_v1(const std::string& mounts, const std::string& self,
                                                   const std::string& tag, BlockingPool* blocking) {
  auto parents = find_cgroup_v1(mounts, self);
  if (!parents) return parents.error();
  return make_cgroup_v1_controller(parents.value(), tag, false, blocking);
}

}  // namespace

Result<std::unique_ptr<ResourceController>> make_resource_controller(boost::asio::io_context& io,
                                                                     MemoryEnforcement requested,
                                                                     BlockingPool* blocking) {
  if (requested == MemoryEnforcement::kOff) return make_off_controller();
  if (requested == MemoryEnforcement::kSample) return make_sampling_controller(io, "requested", std::chrono::milliseconds(50), blocking);

  const std::string mounts = cgroup::read_file("/proc/mounts").value_or("");
  const std::string self = cgroup::read_file("/proc/self/cgroup").value_or("");
  const std::string tag = "lambdad-" + std::to_string(::getpid());
  std::string why;
  // v2 counts only when it has the controllers (on a hybrid host the unified tree may have none).
  // Either cgroup counts only the pages charged to it; the environment's resident memory is
  // sampled on top (docs/decisions/013).
  auto v2 = try_v2(mounts, self, tag, blocking);
  if (v2) return sample_rss_too(io, std::move(v2).value(), std::chrono::milliseconds(10), blocking);
  why = v2.error().message;
  auto v1 = try_v1(mounts, self, tag, blocking);
  if (v1) return sample_rss_too(io, std::move(v1).value(), std::chrono::milliseconds(10), blocking);
  why += "; cgroup v1: " + v1.error().message;
  if (requested == MemoryEnforcement::kCgroup) {
    return Error{ErrorKind::kInternal, std::string(error_types::kSandboxFailure), "no writable cgroup: " + why};
  }
  return make_sampling_controller(io, "no writable cgroup: " + why, std::chrono::milliseconds(50), blocking);
}

}  // namespace lambdad::process
