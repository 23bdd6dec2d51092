// Sampling mode, for hosts where no cgroup can be written: every period one scan of /proc sums
// the resident set size and the thread count of each attached process group (the environment's
// runtime and everything it started, unless something left the group with setsid/setpgid).
// Over the memory limit the group is SIGKILLed and counted as an OOM kill; over max_pids
// (processes + threads, counted the same way) it is SIGKILLed too, but that is not an OOM.
// A fork bomb can still outrun one period, and shared pages are counted once per process, so
// this is an approximation of what a cgroup enforces exactly.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <map>
#include <mutex>
#include <utility>

#include "cgroup_files.hpp"
#include "resource_controllers.hpp"

namespace lambdad::process {
namespace {

namespace asio = boost::asio;

struct Usage {
  std::uint64_t rss_bytes = 0;
  std::uint64_t tasks = 0;  // threads, summed over processes
};

struct GroupState {
  GroupState(std::uint64_t limit, int pids) : memory_limit(limit), max_pids(pids) {}
  const std::uint64_t memory_limit;
  const int max_pids;
  std::mutex mu;
  pid_t pgid = 0;       // guarded by mu; 0 until attach()
  bool closed = false;  // guarded by mu; the group is gone: never signal its (reusable) pgid again
  std::atomic<std::uint64_t> peak{0};
  std::atomic<std::uint64_t> last{0};  // the latest sample: where a reset peak starts from
  std::atomic<bool> oom{false};

  pid_t attached() {
    std::lock_guard lock(mu);
    return closed ? 0 : pgid;
  }
  void kill_if_open(bool for_memory) {
    std::lock_guard lock(mu);
    if (closed || pgid <= 0) return;
    if (for_memory) oom = true;
    ::kill(-pgid, SIGKILL);
  }
};

// The timer and the list of groups; shared with the pending timer handler. Its timer lives on a
// strand so stop() (any thread) never races a running handler.
class Sampler : public std::enable_shared_from_this<Sampler> {
 public:
  Sampler(asio::io_context& io, std::chrono::milliseconds period)
      : strand_(asio::make_strand(io)), timer_(strand_), period_(period) {}

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->arm(); });
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  }
  void add(const std::shared_ptr<GroupState>& g) {
    std::lock_guard lock(mu_);
    groups_.push_back(g);
  }

 private:
  void arm() {
    timer_.expires_after(period_);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (!self->tick()) return;
      self->arm();
    });
  }

  // One scan for all groups. False once stopped.
  bool tick() {
    std::map<pid_t, std::shared_ptr<GroupState>> watched;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return false;
      std::erase_if(groups_, [](const std::weak_ptr<GroupState>& w) { return w.expired(); });
      for (const auto& w : groups_) {
        if (auto g = w.lock(); g) {
          if (pid_t pgid = g->attached(); pgid > 0) watched.emplace(pgid, std::move(g));
        }
      }
    }
    if (watched.empty()) return true;
    std::map<pid_t, Usage> usage;
    scan(watched, usage);
    for (auto& [pgid, g] : watched) {
      const Usage u = usage[pgid];
      g->last = u.rss_bytes;
      std::uint64_t prev = g->peak.load();
      while (u.rss_bytes > prev && !g->peak.compare_exchange_weak(prev, u.rss_bytes)) {
      }
      if (u.rss_bytes > g->memory_limit) {
        g->kill_if_open(true);
      } else if (g->max_pids > 0 && u.tasks > static_cast<std::uint64_t>(g->max_pids)) {
        g->kill_if_open(false);
      }
    }
    return true;
  }

  static void scan(const std::map<pid_t, std::shared_ptr<GroupState>>& watched, std::map<pid_t, Usage>& usage) {
    static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    DIR* dir = ::opendir("/proc");
    if (dir == nullptr) return;
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
      const auto text = cgroup::read_file(std::string("/proc/") + e->d_name + "/stat");
      if (!text) continue;  // exited meanwhile
      pid_t pgrp = 0;
      std::uint64_t threads = 0, rss = 0;
      if (!cgroup::parse_proc_stat(*text, pgrp, threads, rss) || !watched.contains(pgrp)) continue;
      Usage& u = usage[pgrp];
      u.rss_bytes += rss * page;
      u.tasks += threads;
    }
    ::closedir(dir);
  }

  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;  // used on strand_ only
  const std::chrono::milliseconds period_;
  std::mutex mu_;
  bool stopped_ = false;                          // guarded by mu_
  std::vector<std::weak_ptr<GroupState>> groups_;  // guarded by mu_
};

class SampledGroup final : public ResourceGroup {
 public:
  explicit SampledGroup(std::shared_ptr<GroupState> state) : state_(std::move(state)) {}
  ~SampledGroup() override {
    // The process group itself is killed by its ChildProcess; only stop watching its pgid.
    std::lock_guard lock(state_->mu);
    state_->closed = true;
  }
  SampledGroup(const SampledGroup&) = delete;
  SampledGroup& operator=(const SampledGroup&) = delete;

  std::vector<std::string> join_files() const override { return {}; }
  void attach(pid_t pid) override {
    std::lock_guard lock(state_->mu);
    state_->pgid = pid;  // spawn() makes the child a process group leader
  }
  std::uint64_t peak_memory_bytes() const override { return state_->peak.load(); }
  // The peak restarts from the group leader's resident set now (one /proc read; the latest
  // sample of the whole tree may be a period old, from before the previous invoke let go of its
  // memory). Other processes of the tree come back in at the next tick.
  void reset_peak() override {
    const pid_t leader = state_->attached();
    std::uint64_t now = state_->last.load();
    if (leader > 0) {
      if (auto text = cgroup::read_file("/proc/" + std::to_string(leader) + "/stat")) {
        pid_t pgrp = 0;
        std::uint64_t threads = 0, rss_pages = 0;
        if (cgroup::parse_proc_stat(*text, pgrp, threads, rss_pages)) {
          now = rss_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        }
      }
    }
    state_->peak = now;
  }
  bool per_invoke_peak() const override { return true; }
  bool oom_killed() const override { return state_->oom.load(); }

 private:
  std::shared_ptr<GroupState> state_;
};

class SamplingController final : public ResourceController {
 public:
  SamplingController(asio::io_context& io, std::string reason, std::chrono::milliseconds period)
      : sampler_(std::make_shared<Sampler>(io, period)), reason_(std::move(reason)), period_(period) {
    sampler_->start();
  }
  ~SamplingController() override { sampler_->stop(); }
  SamplingController(const SamplingController&) = delete;
  SamplingController& operator=(const SamplingController&) = delete;

  std::string describe() const override {
    return "sampling RSS every " + std::to_string(period_.count()) + " ms (" + reason_ + ")";
  }
  MemoryEnforcement mode() const override { return MemoryEnforcement::kSample; }
  Result<std::unique_ptr<ResourceGroup>> create_group(const std::string& /*name*/,
                                                      const EnvironmentLimits& limits) override {
    auto state = std::make_shared<GroupState>(limits.memory_bytes, limits.max_pids);
    sampler_->add(state);
    return std::unique_ptr<ResourceGroup>(std::make_unique<SampledGroup>(std::move(state)));
  }

 private:
  std::shared_ptr<Sampler> sampler_;
  std::string reason_;
  std::chrono::milliseconds period_;
};

class OffGroup final : public ResourceGroup {
 public:
  std::vector<std::string> join_files() const override { return {}; }
  void attach(pid_t /*pid*/) override {}
  std::uint64_t peak_memory_bytes() const override { return 0; }
  void reset_peak() override {}
  bool per_invoke_peak() const override { return false; }  // there is no peak at all
  bool oom_killed() const override { return false; }
};

class OffController final : public ResourceController {
 public:
  std::string describe() const override { return "off"; }
  MemoryEnforcement mode() const override { return MemoryEnforcement::kOff; }
  Result<std::unique_ptr<ResourceGroup>> create_group(const std::string& /*name*/,
                                                      const EnvironmentLimits& /*limits*/) override {
    return std::unique_ptr<ResourceGroup>(std::make_unique<OffGroup>());
  }
};

}  // namespace

std::unique_ptr<ResourceController> make_sampling_controller(asio::io_context& io, const std::string& reason,
                                                             std::chrono::milliseconds period) {
  return std::make_unique<SamplingController>(io, reason, period);
}

std::unique_ptr<ResourceController> make_off_controller() { return std::make_unique<OffController>(); }

}  // namespace lambdad::process
