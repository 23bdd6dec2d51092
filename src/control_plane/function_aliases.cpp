// FunctionRegistry: aliases (CreateAlias, GetAlias, ListAliases, UpdateAlias, DeleteAlias), part
// of each function's record, saved with it.
#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "lambdad/common/ids.hpp"
#include "lambdad/control_plane/function_registry.hpp"
#include "errors.hpp"

namespace lambdad::control_plane {
namespace {

Error alias_not_found(const std::string& alias_arn) {
  return not_found(fmt::format("Alias not found: {}", alias_arn));
}

}  // namespace

Result<AliasView> FunctionRegistry::create_alias(const std::string& name, const CreateAliasRequest& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (fn.aliases.count(req.name)) return conflict(fmt::format("Alias already exists: {}", arn(name, req.name)));
  if (!resolve(name, req.function_version)) {
    return not_found(fmt::format("Function not found: {}", arn(name, req.function_version)));
  }
  fn.aliases[req.name] = req.function_version;
  fn.alias_descriptions[req.name] = req.description;
  fn.alias_revisions[req.name] = ids::request_id();
  save(name);
  return get_alias(name, req.name);
}

Result<AliasView> FunctionRegistry::get_alias(const std::string& name, const std::string& alias) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  auto it = fn.aliases.find(alias);
  if (it == fn.aliases.end()) return alias_not_found(arn(name, alias));
  auto& revision = fn.alias_revisions[alias];
  if (revision.empty()) revision = ids::request_id();
  return AliasView{alias, it->second, fn.alias_descriptions[alias], revision};
}

Result<std::vector<AliasView>> FunctionRegistry::list_aliases(const std::string& name,
                                                              const std::string& function_version) {
  auto found = lookup(name);
  if (!found) return found.error();
  std::vector<AliasView> aliases;
  // A copy of the names: get_alias may add a revision to the maps.
  std::vector<std::pair<std::string, std::string>> all((*found)->aliases.begin(), (*found)->aliases.end());
  for (const auto& [alias, version] : all) {
    if (!function_version.empty() && version != function_version) continue;
    aliases.push_back(get_alias(name, alias).value());
  }
  return aliases;
}

Result<AliasView> FunctionRegistry::update_alias(const std::string& name, const std::string& alias,
                                                 const UpdateAliasRequest& req) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  if (!fn.aliases.count(alias)) return alias_not_found(arn(name, alias));
  if (req.revision_id && *req.revision_id != fn.alias_revisions[alias]) return precondition_failed();
  if (req.function_version) {
    const std::string& version = *req.function_version;
    if (version != config::kLatest && (!all_digits(version) || !resolve(name, version))) {
      return not_found(fmt::format("Function not found: {}", arn(name, version)));
    }
    fn.aliases[alias] = version;
  }
  if (req.description) fn.alias_descriptions[alias] = *req.description;
  fn.alias_revisions[alias] = ids::request_id();
  save(name);
  return get_alias(name, alias);
}

Status FunctionRegistry::delete_alias(const std::string& name, const std::string& alias) {
  auto found = lookup(name);
  if (!found) return found.error();
  auto& fn = **found;
  fn.aliases.erase(alias);
  fn.alias_descriptions.erase(alias);
  fn.alias_revisions.erase(alias);
  if (fn.urls.erase(alias) != 0) tell(UrlRemoved{name, alias});  // the alias's URL goes with it
  save(name);
  return Ok{};  // Lambda answers 204 for an alias that does not exist, too
}

}  // namespace lambdad::control_plane
