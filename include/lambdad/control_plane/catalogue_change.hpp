// control_plane: what the function catalogue tells its subscribers (docs/decisions/019). The
// catalogue is the one source of truth; the pools (SandboxManager) and the Event queue keep no
// settings of their own but those these changes hand them. A change is published on the io
// thread after the catalogue has applied it, to every subscriber in the order they subscribed;
// a subscriber does not call the catalogue's commands from inside one.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "lambdad/config/function_config.hpp"
#include "lambdad/config/http_apis.hpp"

namespace lambdad::control_plane {

// A version runs `config` from now on: a function created, loaded or given new code or
// configuration ($LATEST), or a version published. A pool that exists drains and cold-starts
// the new configuration; one that does not is made.
struct VersionPut {
  const config::FunctionConfig& config;
  const std::string& version;
};

// A published version was deleted, or a reload's definition no longer has it.
struct VersionRemoved {
  const std::string& name;
  const std::string& version;
};

// The function was deleted, or a reload's template no longer defines it.
struct FunctionRemoved {
  const std::string& name;
};

// What decides the function's Event invocations: published when the function is added and
// whenever its event-invoke configuration, dead-letter queue or reservation changes.
struct EventSettingsChanged {
  const std::string& name;
  const std::optional<config::EventInvokeConfig>& event_invoke_config;  // unset: Lambda's defaults
  const std::optional<config::DeadLetterConfig>& dead_letter;
  std::optional<int> reserved_concurrency;
};

// A Function URL is served from now on with this configuration: created, updated, loaded, or
// declared by the template. (A function's removal removes its URLs: FunctionRemoved.)
struct UrlPut {
  const config::FunctionUrl& url;
};

// The URL of the function (`qualifier` empty) or of its alias `qualifier` was deleted.
struct UrlRemoved {
  const std::string& name;
  const std::string& qualifier;
};

using CatalogueChange =
    std::variant<VersionPut, VersionRemoved, FunctionRemoved, EventSettingsChanged, UrlPut, UrlRemoved>;
using CatalogueSubscriber = std::function<void(const CatalogueChange&)>;

}  // namespace lambdad::control_plane
