// The /proc files of one process that the RSS readings use around every invoke, opened once.
// Reading an open /proc file again from offset 0 renders it anew, and the open file stays bound
// to the process it was opened for: once that process is gone it reads as nothing, never as a
// later process that reused the pid. Per invoke that is one pread(2) per file instead of an
// open, two reads and a close.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "lambdad/process/unique_fd.hpp"

namespace lambdad::process {

class ProcessFiles {
 public:
  explicit ProcessFiles(pid_t pid);

  pid_t pid() const { return pid_; }
  // /proc/<pid>/stat, or nullopt once the process is gone.
  std::optional<std::string> stat() const;
  // /proc/<pid>/status, or nullopt once the process is gone.
  std::optional<std::string> status() const;
  // VmHWM of /proc/<pid>/status in bytes; 0 when unknown (gone, a zombie).
  std::uint64_t peak_rss_bytes() const;
  // Starts a new high water mark ("5" to clear_refs); false when it could not.
  bool reset_peak_rss() const;

 private:
  pid_t pid_;
  UniqueFd stat_, status_, clear_refs_;
};

// The number of a "Key:" line of a /proc/<pid>/status text (Threads, VmRSS and VmHWM in kB, ...);
// nullopt when it has none.
std::optional<std::uint64_t> status_number(std::string_view status, std::string_view key);
// VmHWM in bytes from the text of a /proc/<pid>/status; 0 when it has none.
std::uint64_t vm_hwm_bytes(std::string_view status);

}  // namespace lambdad::process
