// sandbox: every function's pool, by name. The composition root builds it from the configuration.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lambdad/invocation/dispatcher.hpp"
#include "lambdad/sandbox/function_pool.hpp"

namespace lambdad::sandbox {

class SandboxManager final : public invocation::Dispatcher {
 public:
  SandboxManager(const PoolDeps& deps, const std::vector<config::FunctionConfig>& functions);
  ~SandboxManager() override;

  bool has_function(const std::string& name) const override { return pools_.count(name) != 0; }
  void dispatch(invocation::InvocationPtr inv) override;

  FunctionPool* find(const std::string& name);
  std::vector<const config::FunctionConfig*> functions() const;
  void shutdown();

 private:
  std::map<std::string, std::unique_ptr<FunctionPool>> pools_;
};

}  // namespace lambdad::sandbox
