// process (internal): what the RSS sampler decides from one reading of an environment's
// processes (docs/decisions/013): the peak it reports and whether the environment is over its
// limits. No I/O here, so the decisions are testable on made-up readings.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lambdad::process {

// One reading of all the processes of an environment.
struct RssSample {
  std::uint64_t rss_bytes = 0;  // VmRSS (anonymous + file-backed + shmem) summed over the processes
  std::uint64_t tasks = 0;      // threads, summed over the processes
  std::size_t processes = 0;
  // VmHWM of the environment's first process when it is the only one (its peak between two
  // readings, reset with the peak); 0 otherwise: peaks of several processes need not coincide.
  std::uint64_t hwm_bytes = 0;
};

class MemoryWatch {
 public:
  enum class Verdict { kWithin, kOverMemory, kOverTasks };

  // `max_tasks` 0: not checked (a cgroup's pids.max does it).
  MemoryWatch(std::uint64_t limit_bytes, std::uint64_t max_tasks) : limit_(limit_bytes), max_tasks_(max_tasks) {}

  // Raises the peak to what the reading shows and says whether the environment must die.
  Verdict observe(const RssSample& s) {
    const std::uint64_t used = resident(s);
    if (used > peak_) peak_ = used;
    if (used > limit_) return Verdict::kOverMemory;
    if (max_tasks_ > 0 && s.tasks > max_tasks_) return Verdict::kOverTasks;
    return Verdict::kWithin;
  }
  // A new peak (a new invoke) from the use in `now`; the high water mark is reset alongside.
  void restart(const RssSample& now) { peak_ = resident(now); }
  std::uint64_t peak() const { return peak_; }
  std::uint64_t limit() const { return limit_; }

 private:
  static std::uint64_t resident(const RssSample& s) {
    return s.processes == 1 && s.hwm_bytes > s.rss_bytes ? s.hwm_bytes : s.rss_bytes;
  }
  std::uint64_t limit_;
  std::uint64_t max_tasks_;
  std::uint64_t peak_ = 0;
};

}  // namespace lambdad::process
