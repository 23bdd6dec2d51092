// The resident memory of each environment, as a microVM's guest memory would count it
// (docs/decisions/013): while the environment is busy, every period one reading sums the RSS
// (anonymous + file-backed + shmem pages) and the threads of all its processes — those in its
// memory cgroup (cgroup.procs), or without a cgroup those of its process group (the runtime and
// everything it started, unless something left the group with setsid/setpgid). The peak it
// reports is the highest such sum, or the first process's VmHWM while it is the only process
// (which also catches a peak between two readings). Over the memory limit every process read is
// SIGKILLed (with the process group) and counted as an OOM kill; over max_pids (processes +
// threads, only without a cgroup, whose pids.max does it otherwise) too, but that is not an OOM.
// Shared pages are counted once per process that maps them, and a fork bomb can outrun one
// period: without a cgroup this is an approximation of what a cgroup enforces exactly.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "cgroup_files.hpp"
#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/process/child_process.hpp"
#include "memory_watch.hpp"
#include "process_files.hpp"
#include "resource_controllers.hpp"

namespace lambdad::process {
namespace {

namespace asio = boost::asio;

std::uint64_t page_size() {
  static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

// One reading and the processes it covered.
struct Reading {
  RssSample sample;
  std::vector<pid_t> pids;

  void add(pid_t pid, std::uint64_t threads, std::uint64_t rss_pages) {
    pids.push_back(pid);
    ++sample.processes;
    sample.tasks += threads;
    sample.rss_bytes += rss_pages * page_size();
  }
  // The high water mark of `leader` when it is alone (its VmHWM was reset with the peak).
  void finish(pid_t leader, const ProcessFiles* files) {
    if (pids.size() != 1 || pids.front() != leader) return;
    sample.hwm_bytes = files != nullptr && files->pid() == leader ? files->peak_rss_bytes() : peak_rss_bytes(leader);
  }
};

// /proc/<pid>/stat of each pid (the leader's through its kept files); with `pgrp` > 0 only the
// processes still in that process group (a pid of the last reading may have been reused since).
Reading read_pids(const std::vector<pid_t>& pids, pid_t leader, pid_t pgrp, const ProcessFiles* files, bool with_hwm) {
  Reading r;
  for (pid_t pid : pids) {
    const auto text = files != nullptr && files->pid() == pid ? files->stat()
                                                              : cgroup::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text) continue;  // exited meanwhile
    pid_t group = 0;
    std::uint64_t threads = 0, rss = 0;
    if (!cgroup::parse_proc_stat(*text, group, threads, rss) || (pgrp > 0 && group != pgrp)) continue;
    r.add(pid, threads, rss);
  }
  if (with_hwm) r.finish(leader, files);
  return r;
}

struct GroupState {
  GroupState(std::uint64_t limit, std::uint64_t max_tasks, std::string procs, const std::string& pids_current)
      : procs_file(std::move(procs)), watch(limit, max_tasks) {
    if (!pids_current.empty()) tasks_fd = UniqueFd(::open(pids_current.c_str(), O_RDONLY | O_CLOEXEC));
  }
  // The memory cgroup's cgroup.procs; empty: the process group. Opened for each reading: cgroup
  // v1 keeps the list it made for an open file for as long as that file is read again within a
  // second, so a file kept open and read every 10 ms would never list a process that joined later.
  const std::string procs_file;
  // The group's pids.current (its tasks, counted now: not a kept list), when there is one: while
  // it equals the leader's thread count the leader is alone, and cgroup.procs need not be read.
  UniqueFd tasks_fd;
  std::mutex mu;
  MemoryWatch watch;         // guarded by mu (as are the four below)
  pid_t pgid = 0;            // 0 until attach()
  bool closed = false;       // the group is gone: never signal its (reusable) pgid again
  std::vector<pid_t> pids;   // without a cgroup: the processes of the last reading
  std::shared_ptr<const ProcessFiles> files;  // the leader's, opened at its first reading
  pid_t alone_pid = 0;  // the leader, when the last reading found it alone; else 0
  std::atomic<bool> idle{false};
  std::atomic<bool> oom{false};

  // The pgid to read, or 0 when there is nothing (not attached, gone).
  pid_t leader() {
    std::lock_guard lock(mu);
    return closed ? 0 : pgid;
  }
  bool by_process_group() const { return procs_file.empty(); }

  // The leader's kept files (guarded by mu); they stay open while a reading uses them.
  std::shared_ptr<const ProcessFiles> leader_files_locked() {
    if (!files || files->pid() != pgid) files = std::make_shared<const ProcessFiles>(pgid);
    return files;
  }

  // A reading now: the cgroup's processes, or those of the last reading and the leader; the
  // leader's high water mark too unless `with_hwm` is false (a restart resets it anyway).
  Reading read_now(bool with_hwm = true) {
    std::vector<pid_t> list;
    pid_t lead = 0;
    std::shared_ptr<const ProcessFiles> lead_files;
    {
      std::lock_guard lock(mu);
      if (closed || pgid <= 0) return {};
      lead = pgid;
      lead_files = leader_files_locked();
      if (by_process_group()) list = pids;
    }
    if (!by_process_group()) {
      if (auto alone = read_leader_alone(lead, *lead_files, with_hwm)) return std::move(*alone);
      auto text = cgroup::read_file(procs_file);
      if (text) list = cgroup::parse_pids(*text);
      return read_pids(list, lead, 0, lead_files.get(), with_hwm);
    }
    if (std::find(list.begin(), list.end(), lead) == list.end()) list.push_back(lead);
    return read_pids(list, lead, lead, lead_files.get(), with_hwm);
  }

  // The reading of a leader that is the only process of its cgroup (pids.current, read after its
  // own files, counts its threads and nothing else); nullopt when that is not known to be so.
  // With the high water mark, /proc/<pid>/status alone has all three numbers.
  std::optional<Reading> read_leader_alone(pid_t lead, const ProcessFiles& lead_files, bool with_hwm) const {
    if (!tasks_fd.valid() || lead_files.pid() != lead) return std::nullopt;
    std::uint64_t threads = 0, rss_bytes = 0, hwm_bytes = 0;
    if (with_hwm) {
      const auto text = lead_files.status();
      if (!text) return std::nullopt;
      const auto t = status_number(*text, "Threads");
      const auto rss = status_number(*text, "VmRSS");
      const auto hwm = status_number(*text, "VmHWM");
      if (!t || !rss || !hwm) return std::nullopt;
      threads = *t;
      rss_bytes = *rss * 1024;
      hwm_bytes = *hwm * 1024;
    } else {
      const auto text = lead_files.stat();
      if (!text) return std::nullopt;
      pid_t group = 0;
      std::uint64_t rss_pages = 0;
      if (!cgroup::parse_proc_stat(*text, group, threads, rss_pages)) return std::nullopt;
      rss_bytes = rss_pages * page_size();
    }
    const auto tasks = cgroup::pread_u64(tasks_fd.get());
    if (!tasks || *tasks != threads) return std::nullopt;
    Reading r;
    r.pids.push_back(lead);
    r.sample.processes = 1;
    r.sample.tasks = threads;
    r.sample.rss_bytes = rss_bytes;
    r.sample.hwm_bytes = hwm_bytes;
    return r;
  }

  // Counts the reading in; kills the environment when it is over a limit.
  void apply(const Reading& r) {
    std::lock_guard lock(mu);
    if (closed || pgid <= 0) return;
    if (by_process_group()) pids = r.pids;
    alone_pid = r.sample.processes == 1 && r.pids.size() == 1 && r.sample.hwm_bytes > 0 ? r.pids.front() : 0;
    const auto verdict = watch.observe(r.sample);
    if (verdict == MemoryWatch::Verdict::kWithin) return;
    if (verdict == MemoryWatch::Verdict::kOverMemory) oom = true;
    ::kill(-pgid, SIGKILL);
    for (pid_t pid : r.pids) ::kill(pid, SIGKILL);  // in the cgroup, outside the process group
  }

  std::uint64_t peak_now() {
    apply(read_now());
    std::lock_guard lock(mu);
    return watch.peak();
  }

  // The peak restarts from the use now, and the leader's high water mark with it. When the
  // leader was alone at the last reading (the end of the invoke before, as a rule) nothing is
  // read: the reset high water mark starts again from the resident set now, so the next reading
  // that finds the leader alone (the one at the invoke's end at the latest) counts the use now
  // through it. Two reads fewer per warm invoke.
  void restart() {
    {
      std::lock_guard lock(mu);
      if (closed || pgid <= 0) return;
      if (alone_pid == pgid && leader_files_locked()->reset_peak_rss()) {
        watch.restart(RssSample{});
        return;
      }
    }
    Reading r = read_now(false);
    std::lock_guard lock(mu);
    if (closed || pgid <= 0) return;
    // Best effort: without it VmHWM only counts while above the sum.
    if (!leader_files_locked()->reset_peak_rss()) (void)reset_peak_rss(pgid);
    r.sample.hwm_bytes = 0;
    if (by_process_group()) pids = r.pids;
    watch.restart(r.sample);
  }
};

// The timer and the list of groups; shared with the pending timer handler and the round of
// readings on the pool. Its timer lives on a strand so stop() (any thread) never races a running
// handler. It runs only while some group is busy: an idle environment costs nothing. Each round
// reads /proc on the blocking pool (docs/decisions/001), and the timer is armed again when the
// round is over, so rounds never overlap.
class Sampler : public std::enable_shared_from_this<Sampler> {
 public:
  Sampler(asio::io_context& io, std::chrono::milliseconds period, BlockingPool* blocking)
      : strand_(asio::make_strand(io)), timer_(strand_), period_(period), link_(blocking) {}

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    link_.detach();  // the pool may go before a round still queued: that one reads in place
    asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  }
  void add(const std::shared_ptr<GroupState>& g) {
    std::lock_guard lock(mu_);
    groups_.push_back(g);
  }
  // A group turned busy: run the timer unless it runs.
  void wake() {
    asio::post(strand_, [self = shared_from_this()] {
      {
        std::lock_guard lock(self->mu_);
        if (self->stopped_) return;
      }
      if (!self->armed_) self->arm();
    });
  }

 private:
  void arm() {
    armed_ = true;
    timer_.expires_after(period_);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) {
        self->armed_ = false;
        return;
      }
      self->link_.run([self] {
        const bool more = self->tick();
        asio::post(self->strand_, [self, more] {
          if (more) {
            self->arm();
          } else {
            self->armed_ = false;
          }
        });
      });
    });
  }

  // One reading of every busy group. False once stopped or when no group is busy.
  bool tick() {
    std::vector<std::shared_ptr<GroupState>> busy;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return false;
      std::erase_if(groups_, [](const std::weak_ptr<GroupState>& w) { return w.expired(); });
      for (const auto& w : groups_) {
        if (auto g = w.lock(); g && !g->idle && g->leader() > 0) busy.push_back(std::move(g));
      }
    }
    if (busy.empty()) return false;
    std::map<pid_t, GroupState*> by_pgid;
    for (const auto& g : busy) {
      if (g->by_process_group()) {
        by_pgid.emplace(g->leader(), g.get());
      } else {
        g->apply(g->read_now());
      }
    }
    if (!by_pgid.empty()) {
      std::map<pid_t, Reading> readings = scan(by_pgid);
      for (auto& [pgid, g] : by_pgid) {
        Reading& r = readings[pgid];
        r.finish(pgid, nullptr);
        g->apply(r);
      }
    }
    return true;
  }

  // One pass over /proc for the groups without a cgroup (their members can be anywhere).
  static std::map<pid_t, Reading> scan(const std::map<pid_t, GroupState*>& watched) {
    std::map<pid_t, Reading> out;
    DIR* dir = ::opendir("/proc");
    if (dir == nullptr) return out;
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
      const auto text = cgroup::read_file(std::string("/proc/") + e->d_name + "/stat");
      if (!text) continue;  // exited meanwhile
      pid_t pgrp = 0;
      std::uint64_t threads = 0, rss = 0;
      if (!cgroup::parse_proc_stat(*text, pgrp, threads, rss) || !watched.contains(pgrp)) continue;
      out[pgrp].add(static_cast<pid_t>(std::atoi(e->d_name)), threads, rss);
    }
    ::closedir(dir);
    return out;
  }

  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;  // used on strand_ only (as is armed_)
  bool armed_ = false;        // a round is waiting for the timer or reading
  const std::chrono::milliseconds period_;
  PoolLink link_;
  std::mutex mu_;
  bool stopped_ = false;                          // guarded by mu_
  std::vector<std::weak_ptr<GroupState>> groups_;  // guarded by mu_
};

// A group of the inner controller (a cgroup, or "off"), with the sampler's reading on top.
class SampledGroup final : public ResourceGroup {
 public:
  SampledGroup(std::unique_ptr<ResourceGroup> inner, bool inner_peak, std::shared_ptr<GroupState> state,
               std::shared_ptr<Sampler> sampler)
      : inner_(std::move(inner)), inner_peak_(inner_peak), state_(std::move(state)), sampler_(std::move(sampler)) {}
  ~SampledGroup() override {
    {
      // The process group itself is killed by its ChildProcess; only stop watching its pgid.
      std::lock_guard lock(state_->mu);
      state_->closed = true;
    }
    inner_.reset();
  }
  SampledGroup(const SampledGroup&) = delete;
  SampledGroup& operator=(const SampledGroup&) = delete;

  std::vector<std::string> join_files() const override { return inner_->join_files(); }
  void attach(pid_t pid) override {
    inner_->attach(pid);
    {
      std::lock_guard lock(state_->mu);
      state_->pgid = pid;  // spawn() makes the child a process group leader
    }
    sampler_->wake();
  }
  std::uint64_t peak_memory_bytes() const override {
    return std::max(inner_->peak_memory_bytes(), state_->peak_now());
  }
  void reset_peak() override {
    inner_->reset_peak();
    state_->restart();
  }
  bool per_invoke_peak() const override { return !inner_peak_ || inner_->per_invoke_peak(); }
  bool oom_killed() const override { return state_->oom.load() || inner_->oom_killed(); }
  void set_idle(bool idle) override {
    inner_->set_idle(idle);
    state_->idle = idle;
    if (!idle) sampler_->wake();
  }

 private:
  std::unique_ptr<ResourceGroup> inner_;
  bool inner_peak_;  // the inner group has a peak of its own (a cgroup)
  std::shared_ptr<GroupState> state_;
  std::shared_ptr<Sampler> sampler_;
};

// The pids.current beside one of a group's cgroup.procs (v1: the pids hierarchy's; v2: the group's
// own), or "" when none has one.
std::string pids_current(const std::vector<std::string>& join_files) {
  for (const auto& procs : join_files) {
    const auto file = std::filesystem::path(procs).parent_path() / "pids.current";
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) return file.string();
  }
  return {};
}

class SamplingController final : public ResourceController {
 public:
  SamplingController(asio::io_context& io, std::unique_ptr<ResourceController> inner, MemoryEnforcement mode,
                     std::string description, std::chrono::milliseconds period, BlockingPool* blocking)
      : sampler_(std::make_shared<Sampler>(io, period, blocking)),
        inner_(std::move(inner)),
        mode_(mode),
        description_(std::move(description)) {}
  ~SamplingController() override { sampler_->stop(); }
  SamplingController(const SamplingController&) = delete;
  SamplingController& operator=(const SamplingController&) = delete;

  std::string describe() const override { return description_; }
  MemoryEnforcement mode() const override { return mode_; }
  std::vector<std::filesystem::path> remove_stale_groups() override { return inner_->remove_stale_groups(); }
  Result<std::unique_ptr<ResourceGroup>> create_group(const std::string& name,
                                                      const EnvironmentLimits& limits) override {
    auto inner = inner_->create_group(name, limits);
    if (!inner) return inner.error();
    // The first join file is the memory cgroup's (v1 lists memory first).
    const auto files = (*inner)->join_files();
    std::string procs = files.empty() ? std::string() : files.front();
    const std::uint64_t max_tasks = procs.empty() && limits.max_pids > 0 ? static_cast<std::uint64_t>(limits.max_pids) : 0;
    auto state = std::make_shared<GroupState>(limits.memory_bytes, max_tasks, std::move(procs), pids_current(files));
    sampler_->add(state);
    const bool inner_peak = inner_->mode() != MemoryEnforcement::kOff;
    return std::unique_ptr<ResourceGroup>(
        std::make_unique<SampledGroup>(std::move(inner).value(), inner_peak, std::move(state), sampler_));
  }

 private:
  std::shared_ptr<Sampler> sampler_;
  std::unique_ptr<ResourceController> inner_;
  MemoryEnforcement mode_;
  std::string description_;
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
                                                             std::chrono::milliseconds period, BlockingPool* blocking) {
  return std::make_unique<SamplingController>(
      io, make_off_controller(), MemoryEnforcement::kSample,
      "sampling RSS every " + std::to_string(period.count()) + " ms (" + reason + ")", period, blocking);
}

std::unique_ptr<ResourceController> sample_rss_too(asio::io_context& io, std::unique_ptr<ResourceController> cgroup,
                                                   std::chrono::milliseconds period, BlockingPool* blocking) {
  std::string description = cgroup->describe() + ", RSS sampled every " + std::to_string(period.count()) + " ms";
  const MemoryEnforcement mode = cgroup->mode();
  return std::make_unique<SamplingController>(io, std::move(cgroup), mode, std::move(description), period, blocking);
}

std::unique_ptr<ResourceController> make_off_controller() { return std::make_unique<OffController>(); }

}  // namespace lambdad::process
