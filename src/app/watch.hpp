// app (private): `serve --watch`. FileWatcher follows directory trees and single files through
// Linux inotify on the daemon's io thread and reports a burst of changes as one batch;
// ServeWatch turns batches into reloads: a changed code directory drains its functions' warm
// environments (the next call cold-starts the new code), a changed template (or serverless.yml,
// or --env-vars file) reloads the function definitions.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lambdad/app/commands.hpp"
#include "lambdad/app/runtime_environment.hpp"
#include "lambdad/common/clock.hpp"
#include "lambdad/common/executor.hpp"
#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/result.hpp"
#include "lambdad/common/timer.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/config/http_apis.hpp"

namespace boost::asio {
class io_context;
}
namespace lambdad {
class BlockingPool;
}
namespace lambdad::control_plane {
class FunctionRegistry;
}
namespace lambdad::invocation {
class Dispatcher;
}
namespace lambdad::sandbox {
struct RuntimeOptions;
}

namespace lambdad::app {

struct FileWatcherOptions {
  // A batch ends after this long without a new event (an editor's save is several events)...
  std::chrono::milliseconds debounce{150};
  // ...or this long after its first event, so a directory written to without pause still reloads.
  std::chrono::milliseconds max_delay{1000};
  // inotify watches (one per directory). Beyond, a warning, and changes in the directories left
  // out (e.g. deep in a node_modules) are not seen.
  std::size_t max_directories = 8192;
  // Never watched, nor anything under them (the state directory may lie under a code directory).
  std::vector<std::filesystem::path> excluded;
};

class FileWatcher {
 public:
  // The paths that changed in one batch: anything under a watched tree (a file, or a directory
  // created, moved or removed), or a watched file. Editor temporaries and caches (swap files,
  // __pycache__, .git) are left out.
  using OnBatch = std::function<void(const std::set<std::filesystem::path>& changed)>;

  static Result<std::unique_ptr<FileWatcher>> open(const Executor& executor, const Clock& clock, Timers& timers,
                                                   FileWatcherOptions options, OnBatch on_batch);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // From now on, exactly these directory trees (recursively, new subdirectories included) and
  // files (through their directory: editors replace a file by renaming another over it). Paths
  // are absolute; changes are reported under the same spelling.
  void watch(const std::set<std::filesystem::path>& trees, const std::set<std::filesystem::path>& files);
  std::size_t watched_directories() const;

  struct Impl;

 private:
  explicit FileWatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What run_serve starts for --watch.
class ServeWatch {
 public:
  struct Deps {
    Executor executor;  // the domain's
    const Clock& clock;
    Timers& timers;
    control_plane::FunctionRegistry& registry;
    invocation::Dispatcher& dispatcher;  // drains the environments of a function whose code changed
    sandbox::RuntimeOptions& runtimes;  // gains the interpreter of a runtime a reload brings in
    // Given the HTTP fronts of each template that reloads (serve --api-port); may be empty.
    std::function<void(const config::HttpApis&)> on_http_apis = {};
    // Where a changed template is read and checked (docs/decisions/001); in place without one.
    BlockingPool* blocking = nullptr;
  };

  // Watches the definitions file(s) of `options` and the code directories of `functions` (the
  // template's, as loaded at startup); logs what it watches. Fails when inotify cannot be set up.
  static Result<std::unique_ptr<ServeWatch>> start(Deps deps, const CommonOptions& options,
                                                   const std::vector<config::FunctionConfig>& functions,
                                                   std::vector<std::filesystem::path> excluded);
  ~ServeWatch();
  ServeWatch(const ServeWatch&) = delete;
  ServeWatch& operator=(const ServeWatch&) = delete;

 private:
  ServeWatch(Deps deps, CommonOptions options, std::vector<config::FunctionConfig> functions);
  void on_batch(const std::set<std::filesystem::path>& changed);
  // Handles what changed since the last batch taken, unless a load is running: a changed
  // definitions file is loaded again (on the pool), then the changed code directories are drained.
  void take_batch();
  // Applies definitions loaded again (nullopt: they could not be); returns the functions it
  // redefined (drained already).
  std::set<std::string> apply_definitions(const std::filesystem::path& changed_file,
                                          std::optional<LoadedDefinitions> definitions);
  // Drains the functions whose code directory holds a changed file, but those in `redefined`.
  void drain_changed_code(const std::set<std::filesystem::path>& changed, const std::set<std::string>& redefined);
  void add_runtimes(const std::vector<config::FunctionConfig>& functions);
  // Watches the code directories of functions_ and the definitions files; logs what is new.
  void watch_current();

  Deps deps_;
  CommonOptions options_;
  std::vector<config::FunctionConfig> functions_;  // the template's, as last loaded
  std::set<std::filesystem::path> definition_files_;
  std::map<std::filesystem::path, std::vector<std::string>> code_dirs_;  // what is watched: dir -> functions
  std::unique_ptr<FileWatcher> watcher_;
  std::set<std::filesystem::path> waiting_;  // changed files not handled yet
  bool loading_ = false;                     // a load of the definitions is on the pool
  Lifetime lifetime_;
};

}  // namespace lambdad::app
