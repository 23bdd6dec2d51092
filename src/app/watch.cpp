#include "watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <string_view>

#include "lambdad/app/runtime_environment.hpp"
#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/invocation/dispatcher.hpp"
#include "lambdad/observability/logging.hpp"
#include "lambdad/sandbox/runtime_launcher.hpp"

namespace lambdad::app {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// What changes a directory's contents. Not IN_ACCESS or IN_OPEN: runtimes read the code.
constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;

// Names no function's code is made of: editors' swap, backup and lock files, and caches that
// running a function writes (a Python import writes __pycache__, which must not reload again).
bool ignored_name(std::string_view name) {
  static constexpr std::string_view kNames[] = {"__pycache__", ".git",       ".hg",         ".svn",     ".pytest_cache",
                                                ".mypy_cache", ".ruff_cache", ".DS_Store",  ".aws-sam", "4913"};
  static constexpr std::string_view kSuffixes[] = {".swp", ".swx", ".swo", "~", ".pyc", "___jb_tmp___", "___jb_old___"};
  static constexpr std::string_view kPrefixes[] = {".#", ".goutputstream-"};
  if (std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames)) return true;
  for (auto s : kSuffixes) {
    if (name.ends_with(s)) return true;
  }
  for (auto p : kPrefixes) {
    if (name.starts_with(p)) return true;
  }
  return name.size() > 1 && name.front() == '#' && name.back() == '#';  // an Emacs auto-save file
}

// `path` is `dir` or below it (lexically; both absolute and normal).
bool is_under(const fs::path& path, const fs::path& dir) {
  auto rel = path.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

// Absolute, normal, and without a trailing separator ("functions/hello/" from a CodeUri).
fs::path normal(const fs::path& p) {
  std::error_code ec;
  auto abs = fs::absolute(p, ec);
  fs::path out = (ec ? p : abs).lexically_normal();
  if (!out.has_filename() && out != out.root_path()) out = out.parent_path();
  return out;
}

std::string names_of(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

}  // namespace

// --- FileWatcher -------------------------------------------------------------------------------

struct FileWatcher::Impl {
  Impl(const Executor& executor, int fd, const Clock& clock, Timers& timers, FileWatcherOptions options, OnBatch on_batch)
      : stream_(executor, fd), clock_(clock), timer_(timers.make_timer()), options_(std::move(options)),
        on_batch_(std::move(on_batch)) {
    for (auto& e : options_.excluded) e = normal(e);
  }

  asio::posix::stream_descriptor stream_;  // owns the inotify fd; closing it drops every watch
  const Clock& clock_;
  std::unique_ptr<Timer> timer_;
  FileWatcherOptions options_;
  OnBatch on_batch_;
  std::map<int, fs::path> by_wd_;
  std::map<fs::path, int> by_path_;
  std::set<fs::path> trees_, files_;
  std::set<fs::path> pending_;  // changed since the batch began
  std::optional<Clock::Steady::time_point> batch_began_;
  bool rescan_ = false;  // the kernel's queue overflowed: events were lost
  bool warned_limit_ = false;
  Lifetime lifetime_;  // a late wait completion sees this gone

  int fd() { return stream_.native_handle(); }

  void wait() {
    stream_.async_wait(asio::posix::descriptor_base::wait_read,
                       lifetime_.guard([this](const boost::system::error_code& ec) {
                         if (ec) return;
                         read_events();
                         wait();
                       }));
  }

  void read_events() {
    alignas(inotify_event) char buffer[16384];
    for (;;) {
      const ssize_t n = ::read(fd(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // EAGAIN: all read
      for (ssize_t off = 0; off < n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buffer + off);
        handle(*ev);
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
  }

  void handle(const inotify_event& ev) {
    if (ev.mask & IN_Q_OVERFLOW) {
      // Events were lost: everything may have changed.
      pending_.insert(trees_.begin(), trees_.end());
      pending_.insert(files_.begin(), files_.end());
      rescan_ = true;
      schedule();
      return;
    }
    auto it = by_wd_.find(ev.wd);
    if (it == by_wd_.end()) return;
    const fs::path dir = it->second;
    if (ev.mask & IN_IGNORED) {  // the directory is gone, or its watch was removed
      by_path_.erase(dir);
      by_wd_.erase(it);
      return;
    }
    fs::path path = dir;
    if (ev.len > 0) {
      const std::string_view name(ev.name, ::strnlen(ev.name, ev.len));
      if (ignored_name(name)) return;
      path = dir / name;
    }
    const bool is_dir = (ev.mask & IN_ISDIR) != 0;
    if (is_dir && (ev.mask & (IN_MOVED_FROM | IN_DELETE))) unwatch_under(path);
    if (files_.count(path)) {
      note(path);
      return;
    }
    if (!in_tree(path) || excluded(path)) return;
    if (is_dir && (ev.mask & (IN_CREATE | IN_MOVED_TO))) {
      // Files written into it before its watch exists are covered: the directory itself counts.
      std::set<fs::path> more;
      const std::size_t watched = by_path_.size();
      collect({path}, more, options_.max_directories > watched ? options_.max_directories - watched : 0);
      for (const auto& d : more) {
        if (!by_path_.count(d)) add(d);
      }
    }
    note(path);
  }

  void note(const fs::path& path) {
    pending_.insert(path);
    schedule();
  }

  void schedule() {
    const auto now = clock_.now();
    if (!batch_began_) batch_began_ = now;
    timer_->arm(std::min(now + options_.debounce, *batch_began_ + options_.max_delay), [this] { fire(); });
  }

  void fire() {
    auto batch = std::move(pending_);
    pending_.clear();
    batch_began_.reset();
    if (rescan_) {
      rescan_ = false;
      apply(trees_, files_);
    }
    if (!batch.empty()) on_batch_(batch);
  }

  bool in_tree(const fs::path& path) const {
    return std::any_of(trees_.begin(), trees_.end(), [&](const fs::path& t) { return is_under(path, t); });
  }
  bool excluded(const fs::path& path) const {
    return std::any_of(options_.excluded.begin(), options_.excluded.end(),
                       [&](const fs::path& e) { return is_under(path, e); });
  }

  // Adds to `out` the directories under `roots` to watch, breadth first (a shallow handler file
  // before a deep dependency), while `out` holds fewer than `room`; warns once about the rest.
  void collect(const std::vector<fs::path>& roots, std::set<fs::path>& out, std::size_t room) {
    std::deque<fs::path> queue(roots.begin(), roots.end());
    while (!queue.empty()) {
      fs::path dir = std::move(queue.front());
      queue.pop_front();
      if (excluded(dir) || out.count(dir)) continue;
      if (out.size() >= room) {
        if (!warned_limit_) {
          warned_limit_ = true;
          observability::daemon_log()->warn(
              "--watch watches at most {} directories: {} and others are not watched, and changes there go "
              "unnoticed",
              options_.max_directories, dir.string());
        }
        return;
      }
      out.insert(dir);
      std::error_code ec;
      for (fs::directory_iterator entry(dir, fs::directory_options::skip_permission_denied, ec), end;
           !ec && entry != end; entry.increment(ec)) {
        std::error_code sec;
        if (entry->is_symlink(sec) || !entry->is_directory(sec)) continue;
        if (ignored_name(entry->path().filename().native())) continue;
        queue.push_back(entry->path());
      }
    }
  }

  void add(const fs::path& dir) {
    const int wd = ::inotify_add_watch(fd(), dir.c_str(), kMask);
    if (wd < 0) {
      if (errno == ENOSPC && !warned_limit_) {
        warned_limit_ = true;
        observability::daemon_log()->warn(
            "--watch: the system's inotify watch limit is reached (sysctl fs.inotify.max_user_watches); {} and "
            "others are not watched, and changes there go unnoticed",
            dir.string());
      }
      return;  // gone already, or not readable: nothing to watch
    }
    by_wd_[wd] = dir;
    by_path_[dir] = wd;
  }

  void unwatch(std::map<fs::path, int>::iterator it) {
    ::inotify_rm_watch(fd(), it->second);
    by_wd_.erase(it->second);
    by_path_.erase(it);
  }

  void unwatch_under(const fs::path& dir) {
    // Paths order element by element, so what is under `dir` follows it.
    for (auto it = by_path_.lower_bound(dir); it != by_path_.end() && is_under(it->first, dir);) {
      auto next = std::next(it);
      unwatch(it);
      it = next;
    }
  }

  void apply(const std::set<fs::path>& new_trees, const std::set<fs::path>& new_files) {
    trees_ = new_trees;
    files_ = new_files;
    warned_limit_ = false;
    std::set<fs::path> wanted;
    for (const auto& f : files_) wanted.insert(f.parent_path());
    // A tree's parent too, so that a tree removed and made again (rm -r, then a copy or a build)
    // is seen and watched again.
    for (const auto& t : trees_) {
      if (t != t.root_path() && !excluded(t.parent_path())) wanted.insert(t.parent_path());
    }
    collect(std::vector<fs::path>(trees_.begin(), trees_.end()), wanted, options_.max_directories);
    for (auto it = by_path_.begin(); it != by_path_.end();) {
      auto next = std::next(it);
      if (!wanted.count(it->first)) unwatch(it);
      it = next;
    }
    for (const auto& dir : wanted) {
      if (!by_path_.count(dir)) add(dir);
    }
  }
};

Result<std::unique_ptr<FileWatcher>> FileWatcher::open(const Executor& executor, const Clock& clock, Timers& timers,
                                                       FileWatcherOptions options, OnBatch on_batch) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Error{ErrorKind::kInternal, {},
                 fmt::format("cannot watch files (inotify_init1: {}{})", std::strerror(err),
                             err == EMFILE ? "; too many inotify instances, see sysctl fs.inotify.max_user_instances"
                                           : "")};
  }
  auto impl = std::make_unique<Impl>(executor, fd, clock, timers, std::move(options), std::move(on_batch));
  impl->wait();
  return std::unique_ptr<FileWatcher>(new FileWatcher(std::move(impl)));
}

FileWatcher::FileWatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FileWatcher::~FileWatcher() {
  impl_->timer_->cancel();
  boost::system::error_code ec;
  impl_->stream_.close(ec);
}

void FileWatcher::watch(const std::set<fs::path>& trees, const std::set<fs::path>& files) {
  std::set<fs::path> t, f;
  for (const auto& p : trees) t.insert(normal(p));
  for (const auto& p : files) f.insert(normal(p));
  impl_->apply(t, f);
}

std::size_t FileWatcher::watched_directories() const { return impl_->by_path_.size(); }

// --- ServeWatch --------------------------------------------------------------------------------

ServeWatch::ServeWatch(Deps deps, CommonOptions options, std::vector<config::FunctionConfig> functions)
    : deps_(deps), options_(std::move(options)), functions_(std::move(functions)) {}

ServeWatch::~ServeWatch() { lifetime_.end(); }  // a load still on the pool is not applied

Result<std::unique_ptr<ServeWatch>> ServeWatch::start(Deps deps, const CommonOptions& options,
                                                      const std::vector<config::FunctionConfig>& functions,
                                                      std::vector<fs::path> excluded) {
  std::unique_ptr<ServeWatch> self(new ServeWatch(deps, options, functions));
  FileWatcherOptions watcher_options;
  watcher_options.excluded = std::move(excluded);
  auto watcher = FileWatcher::open(deps.executor, deps.clock, deps.timers, std::move(watcher_options),
                                   [raw = self.get()](const std::set<fs::path>& changed) { raw->on_batch(changed); });
  if (!watcher) return watcher.error();
  self->watcher_ = std::move(watcher).value();
  self->definition_files_.insert(
      normal(options.serverless_file.empty() ? options.template_file : options.serverless_file));
  if (!options.env_vars_file.empty()) self->definition_files_.insert(normal(options.env_vars_file));
  for (const auto& file : self->definition_files_) {
    observability::daemon_log()->info("watching {} for function definitions", file.string());
  }
  self->watch_current();
  return self;
}

void ServeWatch::watch_current() {
  auto log = observability::daemon_log();
  std::map<fs::path, std::vector<std::string>> dirs;
  // A function is reloaded when its code or one of its layers changes.
  for (const auto& fn : functions_) {
    std::set<fs::path> own{normal(fn.code_dir)};
    for (const auto& layer : fn.layer_dirs) own.insert(normal(layer));
    for (const auto& dir : own) dirs[dir].push_back(fn.name);
  }
  for (const auto& [dir, names] : dirs) {
    auto it = code_dirs_.find(dir);
    if (it == code_dirs_.end() || it->second != names) log->info("watching {} for {}", dir.string(), names_of(names));
  }
  for (const auto& [dir, names] : code_dirs_) {
    if (!dirs.count(dir)) log->info("no longer watching {}: no function's code is there now", dir.string());
  }
  code_dirs_ = std::move(dirs);
  std::set<fs::path> trees;
  for (const auto& [dir, names] : code_dirs_) trees.insert(dir);
  watcher_->watch(trees, definition_files_);
}

void ServeWatch::on_batch(const std::set<fs::path>& changed) {
  waiting_.insert(changed.begin(), changed.end());
  if (!loading_) take_batch();
}

void ServeWatch::take_batch() {
  if (waiting_.empty()) return;
  std::set<fs::path> changed = std::move(waiting_);
  waiting_.clear();
  auto file = std::find_if(definition_files_.begin(), definition_files_.end(),
                           [&](const fs::path& f) { return changed.count(f) > 0; });
  if (file == definition_files_.end()) return drain_changed_code(changed, {});
  // One load reads them all. It reads and checks files (docs/decisions/001): on the pool, while
  // the daemon serves the definitions it has; what changes meanwhile waits for it, in order.
  auto load = [options = options_] { return load_definitions_checked(options); };  // prints the problems
  auto loaded = [this, changed = std::move(changed), file = *file](std::optional<LoadedDefinitions> definitions) {
    loading_ = false;
    drain_changed_code(changed, apply_definitions(file, std::move(definitions)));
    take_batch();
  };
  loading_ = true;
  if (deps_.blocking) {
    deps_.blocking->run(lifetime_.token(), std::move(load), std::move(loaded));
  } else {
    loaded(load());
  }
}

void ServeWatch::drain_changed_code(const std::set<fs::path>& changed, const std::set<std::string>& redefined) {
  auto log = observability::daemon_log();
  for (const auto& [dir, names] : code_dirs_) {
    const bool touched = std::any_of(changed.begin(), changed.end(), [&, &d = dir](const fs::path& p) {
      return !definition_files_.count(p) && is_under(p, d);
    });
    if (!touched) continue;
    std::vector<std::string> reloaded;
    std::size_t draining = 0;
    for (const auto& name : names) {
      if (redefined.count(name)) continue;  // drained by the reload already
      if (auto n = deps_.dispatcher.evict(name)) {
        reloaded.push_back(name);
        draining += *n;
      }
    }
    if (reloaded.empty()) continue;
    log->info("{} changed: reloaded {} ({} warm environment{} drained; a busy one finishes its invoke first, the "
              "next call cold-starts the new code)",
              dir.string(), names_of(reloaded), draining, draining == 1 ? "" : "s");
  }
}

std::set<std::string> ServeWatch::apply_definitions(const fs::path& changed_file,
                                                    std::optional<LoadedDefinitions> definitions) {
  auto log = observability::daemon_log();
  if (!definitions) {
    log->error("{} changed but cannot be loaded (see above); still serving the definitions loaded before",
               changed_file.string());
    return {};
  }
  auto* loaded = &definitions->functions;
  add_runtimes(*loaded);
  auto changes = deps_.registry.reload_template_functions(*loaded, definitions->http.urls);
  if (!changes) {
    log->error("{} changed but cannot be applied: {}; still serving the definitions loaded before",
               changed_file.string(), changes.error().message);
    return {};
  }
  functions_ = std::move(*loaded);
  // The API port's routes follow the template here, with its functions: they are not catalogue
  // records (decision 020). Its Function URLs are: the front follows them through the catalogue.
  if (deps_.on_http_apis) deps_.on_http_apis(definitions->http);
  for (const auto& name : changes->skipped) {
    log->warn("{} defines {}, a function created through the API; that one is kept", changed_file.string(), name);
  }
  if (changes->empty()) {
    log->info("{} changed: no function definition changed", changed_file.string());
  } else {
    std::vector<std::string> parts;
    if (!changes->changed.empty()) {
      parts.push_back(fmt::format("reloaded {} (warm environments drained)", names_of(changes->changed)));
    }
    if (!changes->added.empty()) parts.push_back(fmt::format("added {}", names_of(changes->added)));
    if (!changes->removed.empty()) parts.push_back(fmt::format("removed {}", names_of(changes->removed)));
    log->info("{} changed: {}", changed_file.string(), fmt::join(parts, "; "));
  }
  watch_current();
  std::set<std::string> redefined(changes->changed.begin(), changes->changed.end());
  redefined.insert(changes->added.begin(), changes->added.end());
  return redefined;
}

void ServeWatch::add_runtimes(const std::vector<config::FunctionConfig>& functions) {
  // Runtimes the daemon started with are resolved already; a new one is checked as at startup.
  std::vector<config::FunctionConfig> fresh;
  for (const auto& fn : functions) {
    const auto family = config::runtime_family(fn.runtime);
    if (family != config::RuntimeFamily::kPython && family != config::RuntimeFamily::kNode) continue;
    if (!deps_.runtimes.interpreters.count(fn.runtime) || deps_.runtimes.runtimes_dir.empty()) fresh.push_back(fn);
  }
  if (fresh.empty()) return;
  auto prepared = prepare_runtimes(options_, fresh);  // prints what is missing
  if (!prepared) return;
  if (deps_.runtimes.runtimes_dir.empty()) deps_.runtimes.runtimes_dir = prepared->runtimes_dir;
  for (const auto& [runtime, program] : prepared->interpreters) deps_.runtimes.interpreters.try_emplace(runtime, program);
}

}  // namespace lambdad::app
