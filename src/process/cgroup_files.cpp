// cgroup file helpers: every value is read or written with one system call, as the kernel wants.
#include "cgroup_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <sstream>
#include <system_error>
#include <thread>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/process/resource_limits.hpp"
#include "lambdad/process/unique_fd.hpp"

namespace lambdad::process::cgroup {

std::optional<std::string> read_file(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

int write_file(const std::filesystem::path& file, std::string_view value, bool create) {
  const int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0);
  UniqueFd fd(::open(file.c_str(), flags, 0644));
  if (!fd.valid()) return errno;
  return write_fd(fd.get(), value);
}

int write_fd(int fd, std::string_view value) {
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  return static_cast<std::size_t>(n) == value.size() ? 0 : EIO;
}

namespace {
std::optional<std::uint64_t> parse_u64(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end == s.data()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<std::uint64_t> read_u64(const std::filesystem::path& file) {
  const auto text = read_file(file);
  if (!text) return std::nullopt;
  return parse_u64(*text);
}

std::optional<std::uint64_t> pread_u64(int fd) {
  char buf[64];  // one number and a newline
  ssize_t n;
  do {
    n = ::pread(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  return parse_u64(std::string_view(buf, static_cast<std::size_t>(n)));
}

std::optional<std::string> pread_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    out.append(buf, static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < sizeof buf) return out;
  }
}

namespace {

// Calls f(line) for each '\n'-separated line until f returns false.
template <class F>
void for_each_line(std::string_view text, F f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    if (!f(text.substr(pos, eol - pos))) return;
    pos = eol + 1;
  }
}

}  // namespace

std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
  std::optional<std::uint64_t> found;
  for_each_line(text, [&](std::string_view line) {
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      found = parse_u64(line.substr(key.size() + 1));
      return false;
    }
    return true;
  });
  return found;
}

std::vector<pid_t> parse_pids(std::string_view text) {
  std::vector<pid_t> pids;
  for_each_line(text, [&](std::string_view line) {
    if (auto v = parse_u64(line); v && *v > 0) pids.push_back(static_cast<pid_t>(*v));
    return true;
  });
  return pids;
}

std::vector<Mount> parse_mounts(std::string_view proc_mounts) {
  std::vector<Mount> out;
  std::istringstream in{std::string(proc_mounts)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string dev, point, type, opts;
    if (!(fields >> dev >> point >> type >> opts)) continue;
    Mount m{point, type, {}};
    std::size_t start = 0;
    while (start <= opts.size()) {
      std::size_t comma = opts.find(',', start);
      if (comma == std::string::npos) comma = opts.size();
      m.options.push_back(opts.substr(start, comma - start));
      start = comma + 1;
    }
    out.push_back(std::move(m));
  }
  return out;
}

bool parse_proc_stat(std::string_view text, pid_t& pgrp, std::uint64_t& threads, std::uint64_t& rss_pages) {
  const auto close = text.rfind(')');  // comm may contain spaces and parentheses
  if (close == std::string_view::npos) return false;
  text.remove_prefix(close + 1);
  // Fields after comm, counted from 3 (state): pgrp is 5, num_threads 20, rss 24.
  int field = 2;
  std::size_t pos = 0;
  bool got_pgrp = false, got_threads = false;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    ++field;
    const std::string_view tok = text.substr(pos, end - pos);
    pos = end;
    long long v = 0;
    if (field == 5 || field == 20 || field == 24) {
      const auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (ec != std::errc{} || p == tok.data()) return false;
    }
    if (field == 5) {
      pgrp = static_cast<pid_t>(v);
      got_pgrp = true;
    } else if (field == 20) {
      threads = static_cast<std::uint64_t>(v);
      got_threads = true;
    } else if (field == 24) {
      rss_pages = v < 0 ? 0 : static_cast<std::uint64_t>(v);
      return got_pgrp && got_threads;
    }
  }
  return false;
}

std::vector<Membership> parse_proc_cgroup(std::string_view text) {
  std::vector<Membership> out;
  for_each_line(text, [&](std::string_view line) {
    const auto c1 = line.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 != std::string_view::npos) {
      out.push_back(Membership{std::string(line.substr(c1 + 1, c2 - c1 - 1)), std::string(line.substr(c2 + 1))});
    }
    return true;
  });
  return out;
}

bool destroy_group_dir(const std::filesystem::path& dir, bool fake, std::chrono::milliseconds patience) {
  std::error_code ec;
  if (fake) {
    std::filesystem::remove_all(dir, ec);
    return !ec;
  }
  if (!std::filesystem::exists(dir, ec)) return true;
  // v2 (Linux >= 5.14) kills the whole subtree at once, including processes forking meanwhile.
  const bool has_kill = std::filesystem::exists(dir / "cgroup.kill", ec);
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    if (has_kill) write_file(dir / "cgroup.kill", "1");
    if (auto procs = read_file(dir / "cgroup.procs")) {
      for (pid_t pid : parse_pids(*procs)) ::kill(pid, SIGKILL);
    }
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void GroupRemover::remove(std::vector<std::filesystem::path> dirs) {
  std::vector<std::filesystem::path> busy;
  for (auto& dir : dirs) {
    if (!destroy_group_dir(dir, fake_, std::chrono::milliseconds(0))) busy.push_back(std::move(dir));
  }
  if (busy.empty()) return;
  auto wait_for_each = [busy = std::move(busy), fake = fake_] {
    for (const auto& dir : busy) destroy_group_dir(dir, fake);
  };
  link_.run(std::move(wait_for_each));
}

bool destroy_group_tree(const std::filesystem::path& dir, bool fake) {
  if (fake) return destroy_group_dir(dir, fake);
  std::error_code ec;
  std::vector<std::filesystem::path> children;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) children.push_back(it->path());
  }
  bool ok = true;
  for (const auto& child : children) ok = destroy_group_tree(child, fake) && ok;
  return destroy_group_dir(dir, fake) && ok;
}

std::vector<std::filesystem::path> remove_stale_groups(const std::filesystem::path& parent, const std::string& keep,
                                                       bool fake) {
  std::vector<std::filesystem::path> removed;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(parent, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == keep || it->is_symlink(ec) || !it->is_directory(ec)) continue;
    const auto pid = daemon_pid(name);
    if (!pid || pid_running(*pid)) continue;
    if (destroy_group_tree(it->path(), fake)) removed.push_back(it->path());
  }
  return removed;
}

}  // namespace lambdad::process::cgroup
