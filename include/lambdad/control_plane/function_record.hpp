// control_plane: what a function is, as typed values (docs/decisions/016): its $LATEST and
// published versions, aliases, state, concurrency and Event invoke configuration; and the views
// the registry answers its operations with, which the control routes render as AWS JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lambdad/config/function_config.hpp"
#include "lambdad/config/http_apis.hpp"
#include "lambdad/control_plane/code_package.hpp"

namespace lambdad::control_plane {

enum class FunctionState { kPending, kActive, kFailed };
enum class UpdateStatus { kSuccessful, kInProgress, kFailed };

// Lambda's names: "Pending", "Active", "Failed"; "Successful", "InProgress", "Failed".
std::string_view state_name(FunctionState s);
std::string_view update_status_name(UpdateStatus s);

// One version's code and configuration ($LATEST or a published number).
struct VersionRecord {
  config::FunctionConfig config;  // config.code_dir is this version's code
  // CodeSha256 (base64 SHA-256 of the zip) and CodeSize. For template code (a directory) they are
  // computed the first time an answer shows them, on the blocking pool
  // (FunctionRegistry::digest_code), hence mutable: a cache, not state.
  mutable std::string code_sha256;
  mutable std::uint64_t code_size = 0;
  std::string code_hex;           // the unpacked zip's directory name under code/; empty for template code
  std::string role;
  std::string revision_id;
  std::string last_modified;      // 2026-11-24T10:30:00.000+0000
  std::string source_revision;    // a published version: the $LATEST revision it was made from
};

// Fills code_sha256 and code_size of template code (a directory) when still unknown, on the
// calling thread. The control routes have them computed first (FunctionRegistry::digest_code), so
// this finds them known unless the records changed in between; the registry's own callers (tests,
// a publish) are covered by it too.
void ensure_digest(const VersionRecord& v);

// A Function URL of the function or of one of its aliases (decision 020).
struct FunctionUrlRecord {
  config::FunctionUrl config;      // config.function_name and config.qualifier say whose it is
  std::string creation_time;       // as LastModified: 2026-11-24T10:30:00.000+0000
  std::string last_modified_time;
};

struct FunctionRecord {
  VersionRecord latest;
  std::map<int, VersionRecord> versions;
  std::map<std::string, std::string> aliases;  // alias -> version
  std::map<std::string, std::string> alias_descriptions;
  std::map<std::string, std::string> alias_revisions;
  std::map<std::string, std::string> tags;
  bool from_template = false;  // not persisted; the template is read again at the next start
  FunctionState state = FunctionState::kActive;
  std::string state_reason, state_reason_code;
  UpdateStatus last_update = UpdateStatus::kSuccessful;
  std::string last_update_reason, last_update_reason_code;
  std::optional<int> reserved;
  std::optional<config::EventInvokeConfig> event_invoke_config;
  double event_invoke_config_modified = 0;  // epoch seconds
  int last_version = 0;                     // numbers are never reused
  std::uint64_t job = 0;                    // the code job in flight, 0 when none
  std::map<std::string, FunctionUrlRecord> urls;  // by qualifier: "" for the function itself, else an alias
};

// --- views: what the operations answer (valid until the registry changes) ---------------------

// One version of a function: its record and the function's (state, tags, concurrency).
struct VersionView {
  const FunctionRecord* function = nullptr;
  const VersionRecord* version = nullptr;
  std::string number;  // "$LATEST" or "1", "2", ...
};

// GetFunction: the version, and where its code is (a file:// URL).
struct FunctionView {
  VersionView configuration;
  std::string code_location;
};

struct AliasView {
  std::string name;
  std::string function_version;
  std::string description;
  std::string revision_id;
};

struct EventInvokeConfigView {
  config::EventInvokeConfig config;
  double last_modified = 0;  // epoch seconds
};

// GetAccountSettings.
struct AccountSettings {
  CodeLimits limits;
  int concurrent_executions = 0;
  int unreserved_concurrent_executions = 0;
  std::uint64_t total_code_size = 0;  // of every version of every function
  std::size_t function_count = 0;
};

}  // namespace lambdad::control_plane
