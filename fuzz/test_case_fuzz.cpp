// fuzz target: the `lambdad test` case-file parser (app::load_suite_text, what load_suite reads
// from each *.case.json / *.case.yaml file). Problems must come back as SuiteProblems with a
// line, never as a crash or an escaped exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "test_suite.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto suite = lambdad::app::load_suite_text(text, "fuzz.case.yaml");
  for (const auto& c : suite.cases) (void)lambdad::app::shard_of(c.id, 3);
  for (const auto& p : suite.problems) (void)p.to_string();
  return 0;
}
