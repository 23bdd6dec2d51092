// app: startup checks shared by subcommands: loading the template, finding our runtime clients
// and the host interpreters they run on.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lambdad/app/commands.hpp"
#include "lambdad/config/function_config.hpp"
#include "lambdad/config/http_apis.hpp"
#include "lambdad/sandbox/runtime_launcher.hpp"

namespace lambdad::app {

// SAM's --parameter-overrides items, "Key=Value" or "ParameterKey=K,ParameterValue=V"; items
// that are neither are left out.
std::map<std::string, std::string> parse_parameter_overrides(const std::vector<std::string>& items);

// What serve takes from the definitions file: its functions and the HTTP fronts routing to them.
struct LoadedDefinitions {
  std::vector<config::FunctionConfig> functions;
  config::HttpApis http;
};

// Prints warnings and errors; nullopt when the template is invalid (the caller exits 2).
std::optional<LoadedDefinitions> load_definitions_checked(const CommonOptions& options);
// The same, the functions alone.
std::optional<std::vector<config::FunctionConfig>> load_functions(const CommonOptions& options);

// Runtime options for the sandbox: runtimes dir, interpreters resolved to absolute paths, role
// credentials from the daemon's environment. Warns once per runtime whose host interpreter
// version differs from the template's. nullopt (after printing why) when something is missing.
std::optional<sandbox::RuntimeOptions> prepare_runtimes(const CommonOptions& options,
                                                        const std::vector<config::FunctionConfig>& functions);

}  // namespace lambdad::app
