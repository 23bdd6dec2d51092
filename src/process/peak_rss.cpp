// peak_rss_bytes(): VmHWM ("high water mark" of the resident set) from /proc/<pid>/status, and
// the kept /proc files of a process (process_files.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string>
#include <string_view>

#include "cgroup_files.hpp"
#include "lambdad/process/child_process.hpp"
#include "lambdad/process/unique_fd.hpp"
#include "process_files.hpp"

namespace lambdad::process {

std::uint64_t vm_hwm_bytes(std::string_view text) {
  constexpr std::string_view kKey = "\nVmHWM:";
  const auto at = text.find(kKey);
  if (at == std::string_view::npos) return 0;  // e.g. a zombie or a kernel thread
  auto rest = text.substr(at + kKey.size());
  const auto digits = rest.find_first_not_of(" \t");
  if (digits == std::string_view::npos) return 0;
  rest.remove_prefix(digits);
  std::uint64_t kib = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
  if (ec != std::errc{} || end == rest.data()) return 0;
  return kib * 1024;  // the kernel says "kB" and means KiB
}

std::size_t peak_rss_bytes(pid_t pid) {
  if (pid <= 0) return 0;
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  const auto text = cgroup::pread_all(fd.get());
  return text ? static_cast<std::size_t>(vm_hwm_bytes(*text)) : 0;
}

namespace {

UniqueFd open_proc(pid_t pid, const char* name, int flags) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  return UniqueFd(::open(path.c_str(), flags | O_CLOEXEC));
}

}  // namespace

ProcessFiles::ProcessFiles(pid_t pid)
    : pid_(pid),
      stat_(open_proc(pid, "stat", O_RDONLY)),
      status_(open_proc(pid, "status", O_RDONLY)),
      clear_refs_(open_proc(pid, "clear_refs", O_WRONLY)) {}

std::optional<std::string> ProcessFiles::stat() const {
  if (!stat_.valid()) return std::nullopt;
  return cgroup::pread_all(stat_.get());
}

std::uint64_t ProcessFiles::peak_rss_bytes() const {
  if (!status_.valid()) return 0;
  const auto text = cgroup::pread_all(status_.get());
  return text ? vm_hwm_bytes(*text) : 0;
}

bool ProcessFiles::reset_peak_rss() const {
  return clear_refs_.valid() && cgroup::write_fd(clear_refs_.get(), "5") == 0;
}

}  // namespace lambdad::process
