#include "lambdad/sandbox/sandbox_manager.hpp"

namespace lambdad::sandbox {

SandboxManager::SandboxManager(const PoolDeps& deps, const std::vector<config::FunctionConfig>& functions) {
  for (const auto& fn : functions) {
    pools_.emplace(fn.name, std::make_unique<FunctionPool>(deps, fn));
  }
}

SandboxManager::~SandboxManager() { shutdown(); }

FunctionPool* SandboxManager::find(const std::string& name) {
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : it->second.get();
}

std::vector<const config::FunctionConfig*> SandboxManager::functions() const {
  std::vector<const config::FunctionConfig*> out;
  for (const auto& [name, pool] : pools_) out.push_back(&pool->config());
  return out;
}

void SandboxManager::dispatch(invocation::InvocationPtr inv) {
  auto* pool = find(inv->function_name);
  if (!pool) {
    // A caller bug (has_function is checked first); still complete the invocation exactly once.
    invocation::InvocationResult r;
    r.outcome = invocation::Outcome::kFunctionError;
    r.error_type = "Sandbox.Failure";
    r.payload = R"({"errorType":"Sandbox.Failure","errorMessage":"function not found"})";
    if (inv->on_complete) inv->on_complete(std::move(r));
    return;
  }
  pool->submit(std::move(inv));
}

void SandboxManager::shutdown() {
  for (auto& [name, pool] : pools_) pool->shutdown();
}

}  // namespace lambdad::sandbox
