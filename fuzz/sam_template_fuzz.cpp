// fuzz target: the SAM / CloudFormation template loader (config::load_sam_template_text), as
// `lambdad serve --template` runs it: YAML or JSON, intrinsics, Globals, parameters. Problems must
// come back as diagnostics, never as a crash or an escaped exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lambdad/config/sam_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  lambdad::config::TemplateOptions options;
  options.parameter_overrides["Stage"] = "prod";
  auto load = lambdad::config::load_sam_template_text(text, "/nonexistent/fuzz/template.yaml", options);
  (void)load;
  return 0;
}
