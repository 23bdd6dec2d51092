// sandbox: the extensions of one execution environment, as the Extensions API (2020-01-01,
// lambda-spec §2; docs/decisions/024) sees them: registration, each extension's state, the
// events it waits for in /event/next, and its init and exit errors. No HTTP and no processes
// here: runtime_api renders the outcomes, ExecutionEnvironment sequences the phases with them.
//
// States, as Lambda names them in its errors: Registered (after /register), Ready (waiting in
// /event/next), Running (an event was delivered), InitError, ExitError. Registration is open
// until the runtime's first /next; the init phase ends once every registered extension waits in
// /event/next, and an invoke ends once every extension that received its INVOKE waits again.
//
// Runs on the environment's executor (the domain); callbacks never outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lambdad::sandbox {

// A refusal of the Extensions API: 403 {"errorMessage","errorType"} (lambda-spec §2.3).
struct ExtensionError {
  std::string type;
  std::string message;
};

// What a registered extension is told about the function.
struct ExtensionFunctionInfo {
  std::string name;
  std::string version;
  std::string handler;
  std::string account_id;
};

// One INVOKE event's fields.
struct ExtensionInvoke {
  std::string request_id;
  std::int64_t deadline_ms = 0;
  std::string invoked_function_arn;
  std::string trace_id;  // empty: no "tracing" field
};

class Extensions {
 public:
  static constexpr std::size_t kMaxExtensions = 10;
  enum class State { kRegistered, kReady, kRunning, kInitError, kExitError };

  // `external_names`: the executables of /opt/extensions (external extensions register under
  // their file name); any other name registers an internal extension. `new_id` makes the
  // identifiers (UUIDs).
  Extensions(ExtensionFunctionInfo function, std::vector<std::string> external_names,
             std::function<std::string()> new_id);

  struct Registered {
    std::string id;    // Lambda-Extension-Identifier
    std::string body;  // {"functionName","functionVersion","handler"[,"accountId"]}
  };
  // POST /extension/register: `name` from Lambda-Extension-Name, `body` the request's JSON,
  // `account_id` when Lambda-Extension-Accept-Feature asks for it.
  struct RegisterOutcome {
    std::optional<Registered> registered;
    ExtensionError error;  // when not registered
  };
  RegisterOutcome register_extension(std::string_view name, std::string_view body, bool account_id);

  // The identifier header of every call but /register: the extension's id, or the refusal for a
  // missing, malformed or unknown one.
  struct Identified {
    std::string id;
    std::optional<ExtensionError> error;
  };
  Identified identify(std::optional<std::string_view> header) const;
  // The name an identified extension registered under.
  std::string name_of(const std::string& id) const;
  // Called at each registration, with the extension's name and events (platform.extension).
  void on_registered(std::function<void(const std::string&, const std::vector<std::string>&)> callback) {
    on_registered_ = std::move(callback);
  }

  // GET /event/next: `deliver` gets the event's JSON once there is one (at once when one waits),
  // or is dropped by cancel(). An ExtensionError (at once) when the call is refused.
  using Deliver = std::function<void(std::string event_json)>;
  std::optional<ExtensionError> next(const std::string& id, Deliver deliver);
  // POST /extension/init/error and /exit/error with Lambda-Extension-Function-Error-Type.
  std::optional<ExtensionError> init_error(const std::string& id, std::optional<std::string_view> error_type);
  std::optional<ExtensionError> exit_error(const std::string& id, std::optional<std::string_view> error_type);

  // The executables of /opt/extensions, once known (they register under these names).
  void expect_external(std::vector<std::string> names) { external_names_ = std::move(names); }
  const std::vector<std::string>& external_names() const { return external_names_; }
  // Every external extension has registered (true when there are none); `callback` is called
  // when the last one does.
  bool externals_registered() const;
  void on_externals_registered(std::function<void()> callback) { on_externals_ = std::move(callback); }
  // The runtime's first /next: no extension registers after this.
  void close_registration() { open_ = false; }
  bool registration_open() const { return open_; }
  std::size_t size() const { return list_.size(); }
  // Every registered extension waits in /event/next (true when there are none).
  bool ready() const;
  // Called each time ready() turns true.
  void on_ready(std::function<void()> callback) { on_ready_ = std::move(callback); }
  // An init or exit error was reported: Extension.InitError / Extension.ExitError (the first).
  const std::string& fatal_error() const { return fatal_; }
  // Called once, at the first init or exit error.
  void on_fatal(std::function<void()> callback) { on_fatal_ = std::move(callback); }

  // The INVOKE event to every extension subscribed to it (each waits in /event/next: the invoke
  // phase starts only when ready()).
  void invoke(const ExtensionInvoke& event);
  // The SHUTDOWN event ({"eventType":"SHUTDOWN","deadlineMs","shutdownReason"}; reason
  // "spindown", "timeout" or "failure") to every extension subscribed to it: at once to one that
  // waits, at its next /event/next to one still at work. False when none is subscribed.
  bool shutdown(std::string_view reason, std::int64_t deadline_ms);
  // Drops every waiting /event/next without an answer (the environment is going).
  void cancel();

  // For /_lambdad/status and the log: name, state and events of each.
  struct Info {
    std::string name;
    bool internal = false;
    State state = State::kRegistered;
    std::vector<std::string> events;
  };
  std::vector<Info> describe() const;
  static std::string_view state_name(State s);

 private:
  struct Extension {
    std::string id;
    std::string name;
    bool internal = false;
    bool invoke = false;
    bool shutdown = false;
    State state = State::kRegistered;
    std::vector<std::string> events;  // as registered, in order
    Deliver waiting;                  // its /event/next, while Ready
    std::string error_type;
  };
  Extension* find(const std::string& id);
  std::optional<ExtensionError> report_error(const std::string& id, std::optional<std::string_view> error_type,
                                             State to, const char* fatal);
  void check_ready();

  ExtensionFunctionInfo function_;
  std::vector<std::string> external_names_;
  std::function<std::string()> new_id_;
  std::vector<Extension> list_;
  bool open_ = true;
  bool was_ready_ = true;
  std::string fatal_;
  std::function<void()> on_ready_;
  std::function<void()> on_fatal_;
  std::function<void()> on_externals_;
  std::function<void(const std::string&, const std::vector<std::string>&)> on_registered_;
  std::string shutdown_event_;  // once shutdown() was called
};

}  // namespace lambdad::sandbox
