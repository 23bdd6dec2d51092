// control_plane: what each function is — its $LATEST configuration, published versions, aliases,
// state, revision, code digest and concurrency — and the Lambda operations that change it
// (docs/decisions/008), as typed requests and views: the AWS JSON is the control routes'
// (docs/decisions/016). The scheduler resolves names and qualifiers here and reads each
// function's state and reservation (decision 018); the pools and the Event queue follow it
// through the changes it publishes (decision 019). Runs on the daemon's io thread (decision 001); code is unpacked and template code
// digested on the blocking pool, whose results come back through `post`; the FunctionStore keeps
// what the API created.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/lifetime.hpp"
#include "lambdad/common/clock.hpp"
#include "lambdad/common/result.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/control_plane/catalogue_change.hpp"
#include "lambdad/control_plane/code_package.hpp"
#include "lambdad/control_plane/function_record.hpp"
#include "lambdad/control_plane/function_requests.hpp"
#include "lambdad/control_plane/function_store.hpp"
#include "lambdad/control_plane/store_writer.hpp"
#include "lambdad/invocation/invocation.hpp"

namespace lambdad {
class BlockingPool;
}

namespace lambdad::control_plane {

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
  // <state-dir>/functions. Empty: nothing is stored or loaded (invoke and test, which have no
  // control routes and so only the template's functions).
  std::filesystem::path functions_dir;
  bool durable = true;  // fsync function.json
  // --account-concurrency: what admission shares out and GetAccountSettings reports.
  int account_concurrency = 1000;
  CodeLimits limits;
};

class FunctionRegistry final {
 public:
  using Post = std::function<void(std::function<void()>)>;  // runs a task on the event loop
  FunctionRegistry(const Clock& clock, Post post, BlockingPool& blocking, RegistryOptions options);
  ~FunctionRegistry();
  FunctionRegistry(const FunctionRegistry&) = delete;
  FunctionRegistry& operator=(const FunctionRegistry&) = delete;

  // `subscriber` is told of every change from now on (catalogue_change.hpp): the pools and the
  // Event queue follow the catalogue this way (app::Daemon::build subscribes them).
  void subscribe(CatalogueSubscriber subscriber) { subscribers_.push_back(std::move(subscriber)); }
  // The template's functions, with the Function URLs it declares for them: their versions,
  // Event settings and URLs are published.
  void add_template_functions(const std::vector<config::FunctionConfig>& functions,
                              const std::vector<config::FunctionUrl>& urls = {});
  // The template read again (serve --watch). A function whose definition changed is defined
  // anew from it, as at a restart (what the API changed on it is dropped); its pools take the
  // new configuration and drain. New functions are added; template functions no longer defined
  // are removed. Functions created through the API are untouched. When the reservations would
  // leave fewer than 100 unreserved, nothing changes and the error says so.
  // A function whose FunctionUrlConfig changed counts as redefined.
  Result<TemplateChanges> reload_template_functions(const std::vector<config::FunctionConfig>& functions,
                                                    const std::vector<config::FunctionUrl>& urls = {});
  // Functions created through the API by earlier runs; gives them pools. Returns how many.
  std::size_t load_stored();
  // Waits for code being unpacked (their results are dropped): the blocking pool is idle; then
  // writes what is still to be stored (StoreWriter::flush), so a record saved before a clean
  // stop is on disk after it.
  void shutdown();
  // Runs `then` on the io thread once every record saved or removed so far is on disk (at once
  // without a state directory, or when nothing is being written). The control routes send a
  // changing operation's answer from it.
  void when_stored(std::function<void()> then);
  // CodeSha256 and CodeSize of template code (a directory) are computed the first time an answer
  // shows them, on the blocking pool: `then` runs on the io thread once those of `name`'s
  // versions (every function's when `name` is empty) are known, at once when they already are.
  // A directory that cannot be read is tried again by the next call.
  void digest_code(const std::string& name, std::function<void()> then);

  // Lambda keeps this much of the account's concurrency unreserved (docs/decisions/004).
  static constexpr int kMinimumUnreserved = 100;
  // The template's reservations leave kMinimumUnreserved of `account_concurrency` (serve checks
  // them at startup; a reload checks its own the same way).
  static Status check_template_reservations(const std::vector<config::FunctionConfig>& functions,
                                            int account_concurrency);

  // What the scheduler resolves and admits with (invocation::Dispatcher's meanings).
  bool has_function(const std::string& name) const { return records_.count(name) != 0; }
  std::string function_for(const std::string& requested) const;
  std::optional<std::string> resolve(const std::string& name, const std::string& qualifier) const;
  std::optional<std::string> unavailable(const std::string& name) const;
  bool tracing_active(const std::string& name, const std::string& version) const;
  bool tenant_isolated(const std::string& name, const std::string& version) const;
  // The version's DurableConfig; nullopt when the function is not durable or unknown.
  std::optional<config::DurableConfig> durable_config(const std::string& name, const std::string& version) const;
  int account_concurrency() const { return options_.account_concurrency; }
  // The account's concurrency less every function's reservation (never below 0): what the
  // functions without a reservation share.
  int unreserved_concurrency() const;

  // The operations of lambda-spec §3.4. Names are bare (the HTTP layer parses ARNs); errors
  // carry the AWS exception name as their type. A view points into the registry: it is read
  // before the next change.
  Result<VersionView> create_function(CreateFunctionRequest request);
  Result<FunctionView> get_function(const std::string& name, const std::string& qualifier);
  Result<VersionView> get_configuration(const std::string& name, const std::string& qualifier);
  // Every function's $LATEST, in name order; with all_versions, each followed by its versions.
  std::vector<VersionView> list_functions(bool all_versions) const;
  // $LATEST, then the versions in order.
  Result<std::vector<VersionView>> list_versions(const std::string& name);
  Result<VersionView> update_code(const std::string& name, UpdateCodeRequest request);
  Result<VersionView> update_configuration(const std::string& name, const UpdateConfigurationRequest& request);
  Status delete_function(const std::string& name, const std::string& qualifier);
  Result<VersionView> publish_version(const std::string& name, const PublishVersionRequest& request);
  // Reserved concurrency: `qualifier` (from the name) must be empty, as these are not for versions or aliases.
  Result<int> put_concurrency(const std::string& name, int reserved, const std::string& qualifier = {});
  Result<std::optional<int>> get_concurrency(const std::string& name, const std::string& qualifier = {});
  Status delete_concurrency(const std::string& name, const std::string& qualifier = {});
  // merge: UpdateFunctionEventInvokeConfig (the configuration must exist); else Put replaces it.
  Result<EventInvokeConfigView> put_event_invoke_config(const std::string& name, const std::string& qualifier,
                                                        const EventInvokeConfigChange& change, bool merge);
  Result<EventInvokeConfigView> get_event_invoke_config(const std::string& name, const std::string& qualifier);
  Status delete_event_invoke_config(const std::string& name, const std::string& qualifier);
  AccountSettings account_settings();
  // Aliases: a name for a published version (no weighted routing).
  Result<AliasView> create_alias(const std::string& name, const CreateAliasRequest& request);
  Result<AliasView> get_alias(const std::string& name, const std::string& alias);
  Result<std::vector<AliasView>> list_aliases(const std::string& name, const std::string& function_version);
  Result<AliasView> update_alias(const std::string& name, const std::string& alias, const UpdateAliasRequest& request);
  Status delete_alias(const std::string& name, const std::string& alias);

  // Function URLs (function_urls.cpp). `qualifier` is "" or an alias (the routes refuse versions
  // and $LATEST, as Lambda's model does). Errors carry Lambda's messages.
  Result<const FunctionUrlRecord*> create_function_url(const std::string& name, const std::string& qualifier,
                                                       const FunctionUrlChange& change);
  Result<const FunctionUrlRecord*> get_function_url(const std::string& name, const std::string& qualifier);
  Result<const FunctionUrlRecord*> update_function_url(const std::string& name, const std::string& qualifier,
                                                       const FunctionUrlChange& change);
  Status delete_function_url(const std::string& name, const std::string& qualifier);
  // The function's URLs, the function's own first, then by alias.
  Result<std::vector<const FunctionUrlRecord*>> list_function_urls(const std::string& name);
  // Every function's URLs: what a follower that subscribes late starts from.
  std::vector<const FunctionUrlRecord*> all_function_urls() const;

  const FunctionRecord* find(const std::string& name) const;

 private:
  // The configuration of the function's `version` ($LATEST when it has no such version); null if unknown.
  const config::FunctionConfig* version_config(const std::string& name, const std::string& version) const;
  // Reservations of `reserved` in all leave at least kMinimumUnreserved; `detail` ends the message.
  static Status check_reservations(int reserved, int account_concurrency, std::string_view detail = {});
  // check_reservations of a template's reservations, the totals in the message.
  static Status check_reserved_total(int reserved, int account_concurrency);
  FunctionRecord template_record(const config::FunctionConfig& c, const std::string& now) const;
  Result<FunctionRecord*> lookup(const std::string& name, const std::string& qualifier_for_message = {});
  // The function an Event invoke configuration request names (its qualifier checked); with
  // `needs_config`, one that has a configuration (else ResourceNotFoundException).
  Result<FunctionRecord*> event_invoke_target(const std::string& name, const std::string& qualifier, bool needs_config);
  Result<const VersionRecord*> version_of(const FunctionRecord& fn, const std::string& qualifier) const;
  VersionView view(const FunctionRecord& fn, const std::string& version) const;
  Status check_zip(const std::string& zip) const;
  // An update or publish may go ahead: no other change in flight, RevisionId (if given) current.
  Status may_change(const FunctionRecord& fn, const std::string& name,
                    const std::optional<std::string>& revision_id) const;
  std::string now_text() const;
  std::string arn(const std::string& name, const std::string& qualifier = {}) const;
  // Unpacks `zip` (whose SHA-256 is `hex`) off the event loop; the result comes back through
  // code_ready unless the function changed in between.
  std::uint64_t unpack_async(const std::string& name, std::string zip, const std::string& hex, bool creating,
                             bool publish, std::optional<VersionRecord> prior);
  // digest_code() with the directories already tried in this call left out.
  void digest_code(const std::string& name, std::function<void()> then, std::set<std::filesystem::path> tried);
  void code_ready(const std::string& name, std::uint64_t job, Status unpacked, bool creating, bool publish,
                  std::optional<VersionRecord> prior);
  void apply_latest(FunctionRecord& fn, const std::string& name);
  Result<int> publish(FunctionRecord& fn, const std::string& name, const std::string& description);
  void save(const std::string& name);
  // Publishes `change` to every subscriber.
  void tell(const CatalogueChange& change) const;
  // Publishes every version of `fn` ($LATEST first), then its Event settings.
  void tell_function(const std::string& name, const FunctionRecord& fn) const;
  void tell_event_settings(const std::string& name, const FunctionRecord& fn) const;
  // Reserved concurrency or the Event invoke configuration changed: told and stored.
  void event_settings_changed(const std::string& name, const FunctionRecord& fn);
  // The URL the template declares for `c` (if any) put into its fresh record `fn`.
  void add_template_url(FunctionRecord& fn, const std::vector<config::FunctionUrl>& urls, const std::string& now) const;

  std::vector<CatalogueSubscriber> subscribers_;
  const Clock& clock_;
  Post post_;
  BlockingPool& blocking_;
  RegistryOptions options_;
  FunctionStore store_;
  StoreWriter writer_;  // function.json and removals, on the blocking pool
  std::map<std::string, FunctionRecord> records_;
  // Each template function as the template defined it: a reload changes only what differs.
  std::map<std::string, config::FunctionConfig> template_definitions_;
  // Each template function's FunctionUrlConfig as the template declared it (absent: none).
  std::map<std::string, config::FunctionUrl> template_urls_;
  std::uint64_t next_job_ = 1;
  std::string started_at_;
  Lifetime lifetime_;
};

}  // namespace lambdad::control_plane
