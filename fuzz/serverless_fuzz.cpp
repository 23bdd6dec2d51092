// fuzz target: the serverless.yml loader (config::load_serverless_text) with the Framework's
// variables (${self:...}, ${env:...}, ${opt:...}, nesting, cycles). Problems must come back as
// diagnostics, never as a crash, a hang or an escaped exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lambdad/config/serverless.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  lambdad::config::ServerlessOptions options;
  options.environment["HOME"] = "/home/fuzz";
  options.environment["TABLE"] = "orders";
  auto load = lambdad::config::load_serverless_text(text, "/nonexistent/fuzz/serverless.yml", options);
  (void)load;
  return 0;
}
