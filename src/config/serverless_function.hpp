// config (internal): one function of serverless.yml, its variables already resolved, as the SAM
// properties FunctionBuilder checks: a table maps the Framework's keys to SAM property paths, and
// provider's settings are merged in first, as the Framework merges them.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostic_sink.hpp"
#include "lambdad/config/function_config.hpp"
#include "yaml_document.hpp"

namespace lambdad::config {

// function keys lambdad reads.
inline constexpr std::array<std::string_view, 22> kFunctionKeysUsed = {
    "name",         "description",         "handler",         "runtime",
    "memorySize",   "timeout",             "environment",     "reservedConcurrency",
    "provisionedConcurrency", "layers",    "ephemeralStorageSize", "architecture",
    "events",       "package",             "maximumEventAge", "maximumRetryAttempts",
    "onError",      "image",               "destinations",    "versionFunction",
    "tracing",      "capacityProvider"};

// A layer of the service's top-level `layers:` section, found by the logical id the Framework
// gives it (NameLambdaLayer, what `{Ref: ...}` names) or by the ARN that Ref gives.
struct ServiceLayer {
  std::string key;                  // its key under layers:
  std::string logical_id;
  std::string arn;
  std::filesystem::path dir;        // empty when it cannot be used
  std::string problem;              // why not
};
using ServiceLayers = std::vector<ServiceLayer>;

// What every function of the service shares.
struct ServiceContext {
  std::string service;
  std::string stage;
  std::filesystem::path dir;  // the service directory: every function's code
  const YamlValue& provider;  // resolved
  const ServiceLayers& layers;
  std::string region;      // what ARNs made here name
  std::string account_id;
};

// The function `key` (its definition resolved), or nullopt when any of its properties is in error
// (all of them reported).
std::optional<FunctionConfig> read_serverless_function(const std::string& key, const YamlValue& function,
                                                       const ServiceContext& service, DiagnosticSink& sink);

}  // namespace lambdad::config
