// config: loading functions from a Serverless Framework service file (serverless.yml, Framework
// v3/v4, provider aws), with the Framework's variables (${self:...}, ${env:...}, ${opt:...}, ...)
// resolved locally. Produces the same TemplateLoad as the SAM loader.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "lambdad/config/sam_template.hpp"

namespace lambdad::config {

struct ServerlessOptions {
  // --stage: what ${opt:stage} reads; with stage_given it wins over provider.stage, as the CLI
  // option does for the Framework. Without it the stage is provider.stage, else "dev".
  std::string stage = "dev";
  bool stage_given = false;
  // --region: used when provider.region is absent, and what ${opt:region} reads. With
  // region_given it also wins over provider.region (the Framework's precedence for --region).
  std::string region = "us-east-1";
  bool region_given = false;
  std::string account_id = "123456789012";         // ${aws:accountId}
  std::map<std::string, std::string> environment;  // what ${env:NAME} reads (the caller passes the process environment)
};

// Never throws for problems in the file: they are reported in errors (a missing or unreadable
// file, YAML syntax errors, invalid properties, cyclic variables).
TemplateLoad load_serverless(const std::filesystem::path& file, const ServerlessOptions& options);
// Same, from text; `file` names the source in diagnostics, and its directory is the code
// directory of every function (the Framework packages the service directory).
TemplateLoad load_serverless_text(const std::string& text, const std::filesystem::path& file,
                                  const ServerlessOptions& options);

}  // namespace lambdad::config
