// FunctionRegistry: Function URLs (decision 020), part of each function's record. Every change is
// saved with the record and published (UrlPut, UrlRemoved), which the API port's front follows.
// Messages are Lambda's, which differ by operation for the same absence.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <string>
#include <utility>

#include "lambdad/common/error_types.hpp"
#include "lambdad/common/io_thread.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "lambdad/observability/logging.hpp"

namespace lambdad::control_plane {
namespace {

namespace et = error_types;

Error url_not_found(std::string message) {
  return Error{ErrorKind::kNotFound, std::string(et::kResourceNotFoundException), std::move(message)};
}
// Create, Update and List name a function or alias that does not exist this way...
Error no_function() { return url_not_found("Function does not exist"); }
// ... Get and Delete, and every operation on a URL that does not exist, this way.
Error no_resource() { return url_not_found("The resource you requested does not exist."); }

// The record of the function whose URL (its own, or an alias's) Create, Update or List names;
// Create's and Update's error when the function or the alias does not exist.
Result<FunctionRecord*> url_owner(std::map<std::string, FunctionRecord>& records, const std::string& name,
                                  const std::string& qualifier) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = records.find(name);
  if (it == records.end() || (!qualifier.empty() && !it->second.aliases.count(qualifier))) return no_function();
  return &it->second;
}

void apply(const FunctionUrlChange& change, config::FunctionUrl& url) {
  if (change.auth_type) url.auth_type = *change.auth_type;
  if (change.cors) url.cors = *change.cors;
  if (change.invoke_mode) url.invoke_mode = *change.invoke_mode;
}

}  // namespace

Result<const FunctionUrlRecord*> FunctionRegistry::create_function_url(const std::string& name,
                                                                       const std::string& qualifier,
                                                                       const FunctionUrlChange& change) {
  auto owner = url_owner(records_, name, qualifier);
  if (!owner) return owner.error();
  auto& fn = **owner;
  if (fn.urls.count(qualifier)) {
    return Error{ErrorKind::kConflict, std::string(et::kResourceConflictException),
                 fmt::format("Failed to create function url config for [functionArn = {}]. Error message:  "
                             "FunctionUrlConfig exists for this Lambda function",
                             arn(name, qualifier))};
  }
  FunctionUrlRecord url;
  url.config.function_name = name;
  url.config.qualifier = qualifier;
  apply(change, url.config);
  url.creation_time = url.last_modified_time = now_text();
  const auto& stored = fn.urls[qualifier] = std::move(url);
  tell(UrlPut{stored.config});
  save(name);
  observability::daemon_log()->info("[{}] Function URL created{}", name, qualifier.empty() ? "" : " for " + qualifier);
  return &stored;
}

Result<const FunctionUrlRecord*> FunctionRegistry::get_function_url(const std::string& name,
                                                                    const std::string& qualifier) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = records_.find(name);
  if (it == records_.end()) return no_resource();
  auto url = it->second.urls.find(qualifier);
  if (url == it->second.urls.end()) return no_resource();
  return &url->second;
}

Result<const FunctionUrlRecord*> FunctionRegistry::update_function_url(const std::string& name,
                                                                       const std::string& qualifier,
                                                                       const FunctionUrlChange& change) {
  auto owner = url_owner(records_, name, qualifier);
  if (!owner) return owner.error();
  auto url = (*owner)->urls.find(qualifier);
  if (url == (*owner)->urls.end()) return no_resource();
  apply(change, url->second.config);
  url->second.last_modified_time = now_text();
  tell(UrlPut{url->second.config});
  save(name);
  return &url->second;
}

Status FunctionRegistry::delete_function_url(const std::string& name, const std::string& qualifier) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = records_.find(name);
  if (it == records_.end()) return no_resource();
  if (it->second.urls.erase(qualifier) == 0) return no_resource();
  tell(UrlRemoved{name, qualifier});
  save(name);
  observability::daemon_log()->info("[{}] Function URL deleted{}", name, qualifier.empty() ? "" : " for " + qualifier);
  return Ok{};
}

Result<std::vector<const FunctionUrlRecord*>> FunctionRegistry::list_function_urls(const std::string& name) {
  LAMBDAD_ASSERT_IO_THREAD();
  auto it = records_.find(name);
  if (it == records_.end()) return no_function();
  std::vector<const FunctionUrlRecord*> out;
  for (const auto& [qualifier, url] : it->second.urls) out.push_back(&url);  // "" sorts first
  return out;
}

std::vector<const FunctionUrlRecord*> FunctionRegistry::all_function_urls() const {
  LAMBDAD_ASSERT_IO_THREAD();
  std::vector<const FunctionUrlRecord*> out;
  for (const auto& [name, fn] : records_) {
    for (const auto& [qualifier, url] : fn.urls) out.push_back(&url);
  }
  return out;
}

}  // namespace lambdad::control_plane
