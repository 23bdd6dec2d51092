#include "posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "lambdad/common/error_types.hpp"

namespace lambdad::async::posix {

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd::Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Error os_error(std::string_view what, const std::filesystem::path& path) {
  return Error{ErrorKind::kInternal, std::string(error_types::kServiceException), fmt::format("{} {}: {}", what, path.string(), std::strerror(errno))};
}

namespace {

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok{};
}

Status sync_fd(int fd, const std::filesystem::path& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return os_error("cannot fsync", path);
  }
  return Ok{};
}

// Whether the file's last byte is something other than '\n' (a line cut short by a kill).
bool ends_torn(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) return false;
  char last = '\n';
  return ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
}

}  // namespace

Result<Fd> write_file_open(const std::filesystem::path& path, std::string_view bytes, bool start_writeback) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return os_error("cannot create", path);
  if (auto st = write_all(fd.get(), bytes, path); !st) return st.error();
  // Only a hint: should it fail, the fsync that follows does all the work.
  if (start_writeback) static_cast<void>(::sync_file_range(fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE));
  return fd;
}

Status sync_file(const Fd& fd, const std::filesystem::path& path) { return sync_fd(fd.get(), path); }

Status write_file(const std::filesystem::path& path, std::string_view bytes, bool sync) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return os_error("cannot create", path);
  if (auto st = write_all(fd.get(), bytes, path); !st) return st;
  if (sync) return sync_fd(fd.get(), path);
  return Ok{};
}

Status sync_directory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return os_error("cannot open", dir);
  return sync_fd(fd.get(), dir);
}

Status append_file(const std::filesystem::path& path, std::string_view bytes, bool sync, bool newline_if_torn) {
  Fd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return os_error("cannot open", path);
  std::string line;
  if (newline_if_torn && ends_torn(fd.get())) {
    line.reserve(bytes.size() + 1);
    line.push_back('\n');
    line.append(bytes);
    bytes = line;
  }
  if (auto st = write_all(fd.get(), bytes, path); !st) return st;
  if (sync) return sync_fd(fd.get(), path);
  return Ok{};
}

Result<std::string> read_file(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return os_error("cannot open", path);
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace lambdad::async::posix
