// async (internal): the few POSIX file operations the spool and the destination files need,
// each returning a Status that names the file and the errno text.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "lambdad/common/result.hpp"

namespace lambdad::async::posix {

// RAII owner of a file descriptor (the async module does not depend on process/).
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept;
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// An Error for a failed system call on `path`, with errno's text.
Error os_error(std::string_view what, const std::filesystem::path& path);

// Writes `bytes` to `path` (created or truncated, mode 0600); with `sync` also fsyncs it.
Status write_file(const std::filesystem::path& path, std::string_view bytes, bool sync);
// Writes `bytes` to `path` (created or truncated, mode 0600) and returns it still open; with
// `start_writeback` also starts writing it to disk without waiting (sync_file_range), so that the
// fsyncs of several files written this way find their data on its way and can share one commit of
// the file system's journal.
Result<Fd> write_file_open(const std::filesystem::path& path, std::string_view bytes, bool start_writeback);
// fsync of a file written by write_file_open.
Status sync_file(const Fd& fd, const std::filesystem::path& path);
// fsync of a directory, so that names created or renamed in it survive a machine crash.
Status sync_directory(const std::filesystem::path& dir);
// Appends `bytes` to `path` (created if missing) in one write; with `sync` also fsyncs it.
// With `newline_if_torn` first ends an unterminated last line (left by a kill mid-append).
Status append_file(const std::filesystem::path& path, std::string_view bytes, bool sync, bool newline_if_torn);
// The whole file, or an Error.
Result<std::string> read_file(const std::filesystem::path& path);

}  // namespace lambdad::async::posix
