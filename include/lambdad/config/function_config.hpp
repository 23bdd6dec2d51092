// config: the immutable description of one function, as loaded from a SAM template (later also
// serverless.yml, CLI flags and the control plane).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/limits.hpp"

namespace lambdad::config {

struct FunctionConfig {
  std::string name;        // the name clients invoke: FunctionName if set and literal, else the logical id
  std::string logical_id;  // the template's resource key
  std::string runtime;     // "python3.12", "nodejs20.x", "provided.al2023", ...
  std::string handler;     // "app.handler"; may be empty for provided runtimes
  std::filesystem::path code_dir;  // absolute path of CodeUri
  int memory_mb = limits::kDefaultMemoryMb;
  int timeout_seconds = limits::kDefaultTimeoutSeconds;
  std::map<std::string, std::string> environment;  // Environment.Variables, resolved to strings
  std::optional<int> reserved_concurrency;          // ReservedConcurrentExecutions
  int provisioned_concurrency = 0;                  // ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions
  int ephemeral_storage_mb = 512;                   // EphemeralStorage.Size: the size of /tmp
  std::vector<std::string> architectures{"x86_64"};
  std::vector<std::string> layers;                  // parsed only; later issues mount them
  std::string description;
};

// Which family a runtime identifier belongs to; decides how an environment is started.
enum class RuntimeFamily { kPython, kNode, kProvided, kUnsupported };
RuntimeFamily runtime_family(const std::string& runtime);

// Lambda's function-name rule: 1 to 64 of [a-zA-Z0-9-_].
bool is_valid_function_name(std::string_view name);

}  // namespace lambdad::config
