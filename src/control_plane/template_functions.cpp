// FunctionRegistry: the template's functions, at start and when serve --watch reads it again, and
// the digests of their code directories.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "lambdad/common/blocking_pool.hpp"
#include "lambdad/common/error_types.hpp"
#include "lambdad/common/ids.hpp"
#include "lambdad/common/io_thread.hpp"
#include "lambdad/control_plane/function_registry.hpp"

namespace lambdad::control_plane {

namespace {

// f(version) for each version of `name` (of every function when `name` is empty).
template <class F>
void for_each_version(const std::map<std::string, FunctionRecord>& records, const std::string& name, F f) {
  auto visit = [&](const FunctionRecord& fn) {
    f(fn.latest);
    for (const auto& [number, v] : fn.versions) f(v);
  };
  if (name.empty()) {
    for (const auto& [n, fn] : records) visit(fn);
  } else if (auto it = records.find(name); it != records.end()) {
    visit(it->second);
  }
}

}  // namespace

FunctionRecord FunctionRegistry::template_record(const config::FunctionConfig& c, const std::string& now) const {
  FunctionRecord fn;
  fn.from_template = true;
  fn.latest.config = c;
  fn.latest.role = fmt::format("arn:aws:iam::{}:role/{}Role", options_.account_id, c.logical_id);
  fn.latest.revision_id = ids::request_id();
  fn.latest.last_modified = now;
  fn.reserved = c.reserved_concurrency;
  fn.event_invoke_config = c.event_invoke_config;
  for (const auto& version : config::function_versions(c)) {
    if (version == config::kLatest) continue;
    auto v = fn.latest;
    v.revision_id = ids::request_id();
    v.source_revision = fn.latest.revision_id;
    fn.versions.emplace(std::stoi(version), std::move(v));
    fn.last_version = std::max(fn.last_version, std::stoi(version));
  }
  if (!c.auto_publish_alias.empty()) fn.aliases[c.auto_publish_alias] = std::string(config::kPublishedVersion);
  return fn;
}

Status FunctionRegistry::check_reserved_total(int reserved, int account_concurrency) {
  // As on Lambda, the rule only applies to reservations: an account limit below the minimum is
  // fine for functions that reserve nothing.
  if (reserved == 0) return Ok{};
  return check_reservations(
      reserved, account_concurrency,
      fmt::format(" (reserved {} of an account concurrency of {})", reserved, account_concurrency));
}

Status FunctionRegistry::check_template_reservations(const std::vector<config::FunctionConfig>& functions,
                                                     int account_concurrency) {
  int reserved = 0;
  for (const auto& c : functions) reserved += c.reserved_concurrency.value_or(0);
  return check_reserved_total(reserved, account_concurrency);
}

void FunctionRegistry::add_template_url(FunctionRecord& fn, const std::vector<config::FunctionUrl>& urls,
                                        const std::string& now) const {
  const std::string& name = fn.latest.config.name;
  auto it = std::find_if(urls.begin(), urls.end(), [&](const auto& u) { return u.function_name == name; });
  if (it == urls.end()) return;
  FunctionUrlRecord url{*it, now, now};
  url.config.qualifier.clear();
  fn.urls[""] = std::move(url);
}

void FunctionRegistry::add_template_functions(const std::vector<config::FunctionConfig>& functions,
                                              const std::vector<config::FunctionUrl>& urls) {
  LAMBDAD_ASSERT_IO_THREAD();
  const std::string now = now_text();
  for (const auto& c : functions) {
    auto& fn = records_[c.name] = template_record(c, now);
    add_template_url(fn, urls, now);
    template_definitions_[c.name] = c;
    if (auto u = fn.urls.find(""); u != fn.urls.end()) template_urls_[c.name] = u->second.config;
    tell_function(c.name, fn);
  }
}

namespace {

bool same_destination(const std::optional<config::EventDestination>& a, const std::optional<config::EventDestination>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->type == b->type && a->destination == b->destination);
}

bool same_event_invoke_config(const std::optional<config::EventInvokeConfig>& a,
                              const std::optional<config::EventInvokeConfig>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->maximum_event_age_seconds == b->maximum_event_age_seconds &&
                a->maximum_retry_attempts == b->maximum_retry_attempts && same_destination(a->on_success, b->on_success) &&
                same_destination(a->on_failure, b->on_failure));
}

bool same_dead_letter(const std::optional<config::DeadLetterConfig>& a, const std::optional<config::DeadLetterConfig>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->type == b->type && a->target_arn == b->target_arn);
}

// Every field of FunctionConfig (a field added there belongs here too).
bool same_cors(const std::optional<config::HttpCors>& a, const std::optional<config::HttpCors>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->allow_origins == b->allow_origins && a->allow_methods == b->allow_methods &&
                a->allow_headers == b->allow_headers && a->expose_headers == b->expose_headers &&
                a->max_age_seconds == b->max_age_seconds && a->allow_credentials == b->allow_credentials);
}

// A template's FunctionUrlConfig of one function (its line aside), or none.
bool same_url(const config::FunctionUrl* a, const config::FunctionUrl* b) {
  if ((a == nullptr) != (b == nullptr)) return false;
  return a == nullptr || (a->auth_type == b->auth_type && a->invoke_mode == b->invoke_mode && same_cors(a->cors, b->cors));
}

bool same_definition(const config::FunctionConfig& a, const config::FunctionConfig& b) {
  return a.name == b.name && a.logical_id == b.logical_id && a.runtime == b.runtime && a.handler == b.handler &&
         a.code_dir == b.code_dir && a.memory_mb == b.memory_mb && a.timeout_seconds == b.timeout_seconds &&
         a.environment == b.environment && a.reserved_concurrency == b.reserved_concurrency &&
         a.auto_publish_alias == b.auto_publish_alias && a.provisioned_concurrency == b.provisioned_concurrency &&
         a.ephemeral_storage_mb == b.ephemeral_storage_mb && a.architectures == b.architectures &&
         a.layers == b.layers && a.description == b.description &&
         same_event_invoke_config(a.event_invoke_config, b.event_invoke_config) &&
         same_dead_letter(a.dead_letter, b.dead_letter) && a.logging == b.logging &&
         a.tracing == b.tracing && a.snap_start == b.snap_start && a.durable == b.durable &&
         a.tenant_isolation == b.tenant_isolation && a.managed_instances == b.managed_instances;
}

}  // namespace

Result<TemplateChanges> FunctionRegistry::reload_template_functions(const std::vector<config::FunctionConfig>& functions,
                                                                   const std::vector<config::FunctionUrl>& urls) {
  LAMBDAD_ASSERT_IO_THREAD();
  // The template says of `c` what it said before: the same definition and FunctionUrlConfig.
  auto same_template = [this](const config::FunctionConfig& c, const std::vector<config::FunctionUrl>& declared) {
    auto def = template_definitions_.find(c.name);
    if (def == template_definitions_.end() || !same_definition(def->second, c)) return false;
    auto now = std::find_if(declared.begin(), declared.end(), [&](const auto& u) { return u.function_name == c.name; });
    auto before = template_urls_.find(c.name);
    return same_url(now == declared.end() ? nullptr : &*now, before == template_urls_.end() ? nullptr : &before->second);
  };
  // Validate first, so that a refused reload changes nothing: the reservations as they would
  // be (the new template's, an unchanged function's current one, and the API functions').
  std::set<std::string> defined;
  int reserved = 0;
  for (const auto& c : functions) {
    defined.insert(c.name);
    auto it = records_.find(c.name);
    if (it != records_.end() && !it->second.from_template) continue;  // counted below
    const bool unchanged = it != records_.end() && same_template(c, urls);
    reserved += unchanged ? it->second.reserved.value_or(0) : c.reserved_concurrency.value_or(0);
  }
  for (const auto& [name, fn] : records_) {
    if (!fn.from_template) reserved += fn.reserved.value_or(0);
  }
  if (auto st = check_reserved_total(reserved, options_.account_concurrency); !st) return st.error();

  TemplateChanges changes;
  // Removed first: their reservations make room for the others.
  for (auto it = records_.begin(); it != records_.end();) {
    if (!it->second.from_template || defined.count(it->first)) {
      ++it;
      continue;
    }
    const std::string name = it->first;
    template_definitions_.erase(name);
    template_urls_.erase(name);
    it = records_.erase(it);
    tell(FunctionRemoved{name});  // busy environments finish their invoke, then stop
    changes.removed.push_back(name);
  }
  const std::string now = now_text();
  for (const auto& c : functions) {
    auto it = records_.find(c.name);
    if (it != records_.end() && !it->second.from_template) {
      changes.skipped.push_back(c.name);
      continue;
    }
    if (it != records_.end() && same_template(c, urls)) {
      changes.unchanged.push_back(c.name);
      continue;
    }
    FunctionRecord fn = template_record(c, now);
    add_template_url(fn, urls, now);
    if (it == records_.end()) {
      changes.added.push_back(c.name);
    } else {
      changes.changed.push_back(c.name);
      // Version numbers are never reused; pools of versions the new definition lacks go.
      fn.last_version = std::max(fn.last_version, it->second.last_version);
      for (const auto& [number, v] : it->second.versions) {
        if (!fn.versions.count(number)) tell(VersionRemoved{c.name, std::to_string(number)});
      }
      for (const auto& [qualifier, url] : it->second.urls) {
        if (!fn.urls.count(qualifier)) tell(UrlRemoved{c.name, qualifier});
      }
      // An update in flight (it->second.job) is dropped: code_ready finds another job number.
    }
    // An existing pool takes the new configuration and drains; a new one starts empty. The
    // Event queue takes the new settings and wakes (a reservation may have changed).
    const auto& defined_fn = records_[c.name] = std::move(fn);
    template_definitions_[c.name] = c;
    template_urls_.erase(c.name);
    if (auto u = defined_fn.urls.find(""); u != defined_fn.urls.end()) template_urls_[c.name] = u->second.config;
    tell_function(c.name, defined_fn);
  }
  return changes;
}

void FunctionRegistry::digest_code(const std::string& name, std::function<void()> then) {
  LAMBDAD_ASSERT_IO_THREAD();
  digest_code(name, std::move(then), {});
}

void FunctionRegistry::digest_code(const std::string& name, std::function<void()> then,
                                   std::set<std::filesystem::path> tried) {
  // Versions of template code whose digest is not known yet (an uploaded zip's is, from the
  // start), in the records the answer will show.
  std::vector<std::filesystem::path> missing;
  for_each_version(records_, name, [&](const VersionRecord& v) {
    if (!v.code_sha256.empty() || !v.code_hex.empty() || tried.count(v.config.code_dir)) return;
    if (std::find(missing.begin(), missing.end(), v.config.code_dir) == missing.end()) {
      missing.push_back(v.config.code_dir);
    }
  });
  if (missing.empty()) return then();
  tried.insert(missing.begin(), missing.end());
  using Digests = std::vector<std::pair<std::filesystem::path, Result<DirDigest>>>;
  blocking_.run(
      lifetime_.token(),
      [missing = std::move(missing)] {
        Digests digests;
        for (const auto& dir : missing) digests.emplace_back(dir, digest_directory(dir));
        return digests;
      },
      [this, name, then = std::move(then), tried = std::move(tried)](Digests digests) mutable {
        for (const auto& [dir, digest] : digests) {
          if (!digest) continue;
          // Every version on this directory that still needs it (the records may have changed
          // meanwhile: a reload makes new ones, which the next round covers).
          for_each_version(records_, name, [&](const VersionRecord& v) {
            if (v.code_sha256.empty() && v.code_hex.empty() && v.config.code_dir == dir) {
              v.code_sha256 = digest->sha256_base64;
              v.code_size = digest->size;
            }
          });
        }
        digest_code(name, std::move(then), std::move(tried));
      });
}

}  // namespace lambdad::control_plane
