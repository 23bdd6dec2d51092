// async: the daemon's state directory (--state-dir): what must outlive the process. It is locked
// while a daemon uses it, because two daemons on one spool would run every event twice.
#pragma once

#include <filesystem>

#include "lambdad/common/result.hpp"

namespace lambdad::async {

class StateDir {
 public:
  // Creates root, root/events and root/destinations, and takes root/lambdad.lock (flock); fails
  // with a message naming the directory when another process holds it.
  static Result<StateDir> open(const std::filesystem::path& root);

  StateDir(StateDir&& o) noexcept;
  StateDir& operator=(StateDir&& o) noexcept;
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;
  ~StateDir();

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path events_dir() const { return root_ / "events"; }
  std::filesystem::path destinations_dir() const { return root_ / "destinations"; }
  // Functions created through the control plane (docs/decisions/008).
  std::filesystem::path functions_dir() const { return root_ / "functions"; }

 private:
  StateDir(std::filesystem::path root, int lock_fd) : root_(std::move(root)), lock_fd_(lock_fd) {}

  std::filesystem::path root_;
  int lock_fd_ = -1;  // held for the process's life; closing it releases the lock
};

}  // namespace lambdad::async
