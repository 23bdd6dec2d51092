#include "lambdad/async/state_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "lambdad/common/error_types.hpp"
#include "posix_file.hpp"

namespace lambdad::async {

Result<StateDir> StateDir::open(const std::filesystem::path& root) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(root, ec);
  for (const char* sub : {"events", "destinations"}) {
    std::filesystem::create_directories(absolute / sub, ec);
    if (ec) {
      return Error{ErrorKind::kInternal, std::string(error_types::kServiceException),
                   fmt::format("cannot create {}: {}", (absolute / sub).string(), ec.message())};
    }
  }
  const auto lock_path = absolute / "lambdad.lock";
  posix::Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return posix::os_error("cannot open", lock_path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error{ErrorKind::kConflict, std::string(error_types::kServiceException),
                   fmt::format("state directory {} is in use by another lambdad", absolute.string())};
    }
    return posix::os_error("cannot lock", lock_path);
  }
  // The pid, for whoever wonders which daemon holds it.
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd.get(), 0) == 0) static_cast<void>(::pwrite(fd.get(), pid.data(), pid.size(), 0));
  return StateDir(absolute, fd.release());  // the lock lives as long as the descriptor
}

StateDir::StateDir(StateDir&& o) noexcept : root_(std::move(o.root_)), lock_fd_(std::exchange(o.lock_fd_, -1)) {}

StateDir& StateDir::operator=(StateDir&& o) noexcept {
  if (this != &o) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    root_ = std::move(o.root_);
    lock_fd_ = std::exchange(o.lock_fd_, -1);
  }
  return *this;
}

StateDir::~StateDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace lambdad::async
