// control_plane: what each function is — its $LATEST configuration, published versions, aliases,
// state, revision, code digest and concurrency — and the Lambda operations that change it
// (docs/decisions/008). The registry is the Dispatcher the APIs see: it resolves qualifiers and
// refuses functions that are not Active, and hands invocations to the SandboxManager, which it
// tells about every change. Runs on the daemon's one thread (decision 001); code is unpacked on
// worker threads whose results come back through `post`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lambdad/common/clock.hpp"
#include "lambdad/common/result.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/control_plane/code_package.hpp"
#include "lambdad/invocation/dispatcher.hpp"

namespace lambdad::sandbox {
class SandboxManager;
}
namespace lambdad::async {
class EventQueue;
}

namespace lambdad::control_plane {

enum class FunctionState { kPending, kActive, kFailed };
enum class UpdateStatus { kSuccessful, kInProgress, kFailed };
// A FunctionConfiguration in full (GetFunction), or as ListFunctions lists it.
enum class ConfigurationView { kFull, kListed };

// One version's code and configuration ($LATEST or a published number).
struct VersionRecord {
  config::FunctionConfig config;  // config.code_dir is this version's code
  // CodeSha256 (base64 SHA-256 of the zip) and CodeSize. For template code (a directory) they are
  // computed when first asked for, hence mutable: a cache, not state.
  mutable std::string code_sha256;
  mutable std::uint64_t code_size = 0;
  std::string code_hex;           // the unpacked zip's directory name under code/; empty for template code
  std::string role;
  std::string revision_id;
  std::string last_modified;      // 2026-11-24T10:30:00.000+0000
  std::string source_revision;    // a published version: the $LATEST revision it was made from
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
};

// What reading the template again changed (serve --watch), by function name.
struct TemplateChanges {
  std::vector<std::string> added;
  std::vector<std::string> changed;  // a new definition: its pools drain, the next call cold-starts it
  std::vector<std::string> removed;
  std::vector<std::string> unchanged;
  // The template now defines a name a function created through the API has: that one is kept.
  std::vector<std::string> skipped;
  bool empty() const { return added.empty() && changed.empty() && removed.empty(); }
};

struct RegistryOptions {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  std::filesystem::path functions_dir;  // <state-dir>/functions
  bool durable = true;                  // fsync function.json
  int account_concurrency = 1000;
  CodeLimits limits;
};

class FunctionRegistry final : public invocation::Dispatcher {
 public:
  using Post = std::function<void(std::function<void()>)>;  // runs a task on the event loop
  FunctionRegistry(sandbox::SandboxManager& manager, const Clock& clock, Post post, RegistryOptions options);
  ~FunctionRegistry() override;
  FunctionRegistry(const FunctionRegistry&) = delete;
  FunctionRegistry& operator=(const FunctionRegistry&) = delete;

  void set_event_queue(async::EventQueue* events) { events_ = events; }
  // The template's functions (their pools exist in the manager already).
  void add_template_functions(const std::vector<config::FunctionConfig>& functions);
  // The template read again (serve --watch). A function whose definition changed is defined
  // anew from it, as at a restart (what the API changed on it is dropped); its pools take the
  // new configuration and drain. New functions are added; template functions no longer defined
  // are removed. Functions created through the API are untouched. When the reservations would
  // leave fewer than 100 unreserved, nothing changes and the error says so.
  Result<TemplateChanges> reload_template_functions(const std::vector<config::FunctionConfig>& functions);
  // Functions created through the API by earlier runs; gives them pools. Returns how many.
  std::size_t load_stored();
  // Waits for code being unpacked (their results are dropped).
  void shutdown();

  // invocation::Dispatcher
  bool has_function(const std::string& name) const override { return records_.count(name) != 0; }
  std::string function_for(const std::string& requested) const override;
  std::optional<std::string> resolve(const std::string& name, const std::string& qualifier) const override;
  std::optional<std::string> unavailable(const std::string& name) const override;
  invocation::Admission dispatch(invocation::InvocationPtr inv) override;
  std::optional<std::size_t> evict(const std::string& name) override;
  std::string status_json() const override;
  bool tracing_active(const std::string& name, const std::string& version) const override;

  // The operations of lambda-spec §3.4. Names are bare (the HTTP layer parses ARNs); errors
  // carry the AWS exception name as their type.
  Result<nlohmann::json> create_function(const nlohmann::json& request);
  Result<nlohmann::json> get_function(const std::string& name, const std::string& qualifier);
  Result<nlohmann::json> get_configuration(const std::string& name, const std::string& qualifier);
  // function_version: ?FunctionVersion, "ALL" or absent.
  Result<nlohmann::json> list_functions(const std::optional<std::string>& function_version, const std::string& marker,
                                        std::optional<int> max_items);
  Result<nlohmann::json> list_versions(const std::string& name, const std::string& marker,
                                       std::optional<int> max_items);
  Result<nlohmann::json> update_code(const std::string& name, const nlohmann::json& request);
  Result<nlohmann::json> update_configuration(const std::string& name, const nlohmann::json& request);
  Status delete_function(const std::string& name, const std::string& qualifier);
  Result<nlohmann::json> publish_version(const std::string& name, const nlohmann::json& request);
  // Reserved concurrency: `qualifier` (from the name) must be empty, as these are not for versions or aliases.
  Result<nlohmann::json> put_concurrency(const std::string& name, const nlohmann::json& request,
                                         const std::string& qualifier = {});
  Result<nlohmann::json> get_concurrency(const std::string& name, const std::string& qualifier = {});
  Status delete_concurrency(const std::string& name, const std::string& qualifier = {});
  Result<nlohmann::json> put_event_invoke_config(const std::string& name, const std::string& qualifier,
                                                 const nlohmann::json& request, bool merge);
  Result<nlohmann::json> get_event_invoke_config(const std::string& name, const std::string& qualifier);
  Status delete_event_invoke_config(const std::string& name, const std::string& qualifier);
  nlohmann::json account_settings();
  // Aliases: a name for a published version (no weighted routing).
  Result<nlohmann::json> create_alias(const std::string& name, const nlohmann::json& request);
  Result<nlohmann::json> get_alias(const std::string& name, const std::string& alias);
  Result<nlohmann::json> list_aliases(const std::string& name, const std::string& function_version);
  Result<nlohmann::json> update_alias(const std::string& name, const std::string& alias, const nlohmann::json& request);
  Status delete_alias(const std::string& name, const std::string& alias);

  const FunctionRecord* find(const std::string& name) const;

 private:
  FunctionRecord template_record(const config::FunctionConfig& c, const std::string& now) const;
  Result<FunctionRecord*> lookup(const std::string& name, const std::string& qualifier_for_message = {});
  Result<const VersionRecord*> version_of(const FunctionRecord& fn, const std::string& qualifier) const;
  nlohmann::json configuration_json(const FunctionRecord& fn, const VersionRecord& v, const std::string& version,
                                    bool qualified_arn, ConfigurationView view = ConfigurationView::kFull);
  static void ensure_digest(const VersionRecord& v);
  // An update or publish may go ahead: no other change in flight, RevisionId (if given) current.
  Status may_change(const FunctionRecord& fn, const std::string& name, const nlohmann::json& req) const;
  std::string now_text() const;
  std::string arn(const std::string& name, const std::string& qualifier = {}) const;
  // Unpacks `zip` off the event loop, then calls `done` on it.
  // Unpacks `zip` (whose SHA-256 is `hex`) off the event loop; the result comes back through
  // code_ready unless the function changed in between.
  std::uint64_t unpack_async(const std::string& name, std::string zip, const std::string& hex, bool creating,
                             bool publish, std::optional<VersionRecord> prior);
  void code_ready(const std::string& name, std::uint64_t job, Status unpacked, bool creating, bool publish,
                  std::optional<VersionRecord> prior);
  void apply_latest(FunctionRecord& fn, const std::string& name);
  Result<int> publish(FunctionRecord& fn, const std::string& name, const std::string& description);
  void save(const std::string& name);
  void notify_events(const std::string& name, const FunctionRecord& fn);

  sandbox::SandboxManager& manager_;
  const Clock& clock_;
  Post post_;
  RegistryOptions options_;
  async::EventQueue* events_ = nullptr;
  std::map<std::string, FunctionRecord> records_;
  // Each template function as the template defined it: a reload changes only what differs.
  std::map<std::string, config::FunctionConfig> template_definitions_;
  struct Worker;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint64_t next_job_ = 1;
  std::string started_at_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lambdad::control_plane
