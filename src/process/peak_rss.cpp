// peak_rss_bytes(): VmHWM ("high water mark" of the resident set) from /proc/<pid>/status.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string>
#include <string_view>

#include "lambdad/process/child_process.hpp"
#include "lambdad/process/unique_fd.hpp"

namespace lambdad::process {

std::size_t peak_rss_bytes(pid_t pid) {
  if (pid <= 0) return 0;
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  std::array<char, 8192> buf;  // the whole file is ~1.5 KiB
  std::size_t len = 0;
  while (len < buf.size()) {
    const ssize_t n = ::read(fd.get(), buf.data() + len, buf.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<std::size_t>(n);
  }
  const std::string_view text(buf.data(), len);
  constexpr std::string_view kKey = "\nVmHWM:";
  const auto at = text.find(kKey);
  if (at == std::string_view::npos) return 0;  // e.g. a zombie or a kernel thread
  auto rest = text.substr(at + kKey.size());
  const auto digits = rest.find_first_not_of(" \t");
  if (digits == std::string_view::npos) return 0;
  rest.remove_prefix(digits);
  std::size_t kib = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
  if (ec != std::errc{} || end == rest.data()) return 0;
  return kib * 1024;  // the kernel says "kB" and means KiB
}

}  // namespace lambdad::process
