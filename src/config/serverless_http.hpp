// config (internal): the HTTP fronts of serverless.yml (events http, httpApi, websocket) as
// config::HttpApis.
#pragma once

#include <string>
#include <vector>

#include "diagnostic_sink.hpp"
#include "lambdad/config/http_apis.hpp"
#include "serverless_variables.hpp"
#include "yaml_document.hpp"

namespace lambdad::config {

// A function of the service that loaded.
struct ServerlessHttpFunction {
  std::string key;   // its key under functions:
  std::string name;  // its deployed name (FunctionConfig::name)
};

// `root` is the file as written; values are resolved through `resolver` as they are read.
HttpApis read_serverless_http(VariableResolver& resolver, const YamlValue& root, const std::string& stage,
                              const std::vector<ServerlessHttpFunction>& functions, DiagnosticSink& sink);

}  // namespace lambdad::config
