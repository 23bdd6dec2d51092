// process (internal): the little file I/O cgroups need (read a value, write a value, empty and
// remove a group) and parsers for /proc/mounts, /proc/self/cgroup and the keyed files
// (memory.events, memory.oom_control). The parsers take text so they are testable on any host.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/blocking_pool.hpp"

namespace lambdad::process::cgroup {

// The whole file, or nullopt (errno kept) when it cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& file);
// Writes `value` in one write(2). `create`: the file may be created (a fake tree). Returns 0 or errno.
int write_file(const std::filesystem::path& file, std::string_view value, bool create = false);
// Writes `value` to an open file in one write(2) (not pwrite: cgroup files refuse it). 0 or errno.
int write_fd(int fd, std::string_view value);
// A decimal number at the start of the file ("max" or unreadable: nullopt).
std::optional<std::uint64_t> read_u64(const std::filesystem::path& file);
// The same read from offset 0 of an open file, for values that belong to the open file (a
// memory.peak that was reset through it).
std::optional<std::uint64_t> pread_u64(int fd);
// The whole of an open /proc or cgroup file, read again from offset 0 (the kernel renders such a
// file anew on each read from its start): one pread(2) when it fits in 4 KiB, since the kernel
// fills the buffer unless the file ends. nullopt when it cannot be read (a process gone).
std::optional<std::string> pread_all(int fd);
// "key value" lines: the value of `key`, or nullopt.
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);
// The pids listed in a cgroup.procs.
std::vector<pid_t> parse_pids(std::string_view text);

struct Mount {
  std::string mount_point;
  std::string fs_type;
  std::vector<std::string> options;
};
std::vector<Mount> parse_mounts(std::string_view proc_mounts);

struct Membership {
  std::string controllers;  // "memory", "cpu,cpuacct", "" for the v2 hierarchy (line "0::/x")
  std::string path;         // "/x"
};
std::vector<Membership> parse_proc_cgroup(std::string_view proc_self_cgroup);

// /proc/<pid>/stat: the process group, the thread count and the resident set (pages). False
// when the text is not such a line.
bool parse_proc_stat(std::string_view text, pid_t& pgrp, std::uint64_t& threads, std::uint64_t& rss_pages);

// Kills everything in `dir` (v2: cgroup.kill when present; otherwise SIGKILL to each pid in
// cgroup.procs), then rmdirs it, retrying until `patience` is over. `fake`: remove_all (a test
// tree whose files are plain files). True when the directory is gone.
bool destroy_group_dir(const std::filesystem::path& dir, bool fake,
                       std::chrono::milliseconds patience = std::chrono::milliseconds(500));

// Where the directories of a destroyed group go (docs/decisions/001). What runs in them is killed
// at once and the ones already empty are removed at once; those still busy with processes that
// are exiting are removed on the blocking pool, with destroy_group_dir()'s retries, so the io
// thread never sleeps on them. Without a pool, or once the controller that made the groups is
// gone (a group that outlives it at shutdown), they are removed in place. A controller shares
// one remover with its groups and detaches it when it is destroyed, after the daemon waited for
// the pool (app/daemon.hpp), so that its own directory is empty by then.
class GroupRemover {
 public:
  GroupRemover(BlockingPool* pool, bool fake) : link_(pool), fake_(fake) {}
  // Removes `dirs`, in this order (v1: the pids hierarchy's first, as killing through it reaches
  // every task).
  void remove(std::vector<std::filesystem::path> dirs);
  void detach() { link_.detach(); }
  bool fake() const { return fake_; }

 private:
  PoolLink link_;
  bool fake_;
};

// destroy_group_dir() on every group below `dir`, deepest first, then on `dir`.
bool destroy_group_tree(const std::filesystem::path& dir, bool fake);

// Groups a daemon killed with SIGKILL left behind: in `parent`, every directory named
// `lambdad-<pid>` (not `keep`, our own) whose pid is not running, with what still runs in it
// killed. Returns the directories removed.
std::vector<std::filesystem::path> remove_stale_groups(const std::filesystem::path& parent, const std::string& keep,
                                                       bool fake);

}  // namespace lambdad::process::cgroup
