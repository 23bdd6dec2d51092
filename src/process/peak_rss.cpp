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

std::optional<std::uint64_t> status_number(std::string_view text, std::string_view key) {
  // "\nKey:\t  1234 kB": the key starts a line (never the first: that is Name).
  std::size_t at = 0;
  for (;;) {
    at = text.find(key, at);
    if (at == std::string_view::npos) return std::nullopt;  // e.g. a zombie has no Vm* lines
    if (at > 0 && text[at - 1] == '\n' && text.substr(at + key.size()).starts_with(":")) break;
    at += key.size();
  }
  auto rest = text.substr(at + key.size() + 1);
  const auto digits = rest.find_first_not_of(" \t");
  if (digits == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(digits);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc{} || end == rest.data()) return std::nullopt;
  return value;
}

std::uint64_t vm_hwm_bytes(std::string_view text) {
  return status_number(text, "VmHWM").value_or(0) * 1024;  // the kernel says "kB" and means KiB
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
  const auto text = status();
  return text ? vm_hwm_bytes(*text) : 0;
}

std::optional<std::string> ProcessFiles::status() const {
  if (!status_.valid()) return std::nullopt;
  return cgroup::pread_all(status_.get());
}

bool ProcessFiles::reset_peak_rss() const {
  return clear_refs_.valid() && cgroup::write_fd(clear_refs_.get(), "5") == 0;
}

}  // namespace lambdad::process
