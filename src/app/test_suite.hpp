// app (private): `lambdad test` suites (docs/test-suites.md): case files, and the checks of what
// a case expects against what its invocation returned. No processes or I/O beyond reading the
// case files, so the checks are unit-tested on their own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lambdad::app {

struct Expectation {
  std::optional<nlohmann::json> result;           // equal, exactly
  std::optional<nlohmann::json> result_contains;  // a subset: objects by key, arrays element by element
  std::vector<std::pair<std::string, nlohmann::json>> fields;  // "$.body.items[0].id" -> value
  std::optional<std::string> error;               // the errorType the invocation must fail with
  std::optional<std::string> error_message;       // a substring of errorMessage
  std::optional<double> max_duration_ms;          // REPORT's Duration at most this
};

struct TestCase {
  std::string id;        // "<file>#<index>": stable, for sharding
  std::string name;
  std::filesystem::path file;
  int line = 0;          // where the case starts
  std::string function;
  std::string qualifier = "$LATEST";
  nlohmann::json event = nlohmann::json::object();
  Expectation expect;
};

struct SuiteProblem {
  std::filesystem::path file;
  int line = 0;
  std::string message;
  std::string to_string() const;
};

struct Suite {
  std::vector<TestCase> cases;
  std::vector<SuiteProblem> problems;  // any problem makes the whole suite invalid
};

// Case files under `paths`: a directory contributes its `*.case.json`, `*.case.yaml` and
// `*.case.yml` files (recursively, in name order); a file named explicitly is read whatever its
// name. Each file holds one case, or `cases:` (a list) with optional `function:` for all.
Suite load_suite(const std::vector<std::filesystem::path>& paths);

// What the invocation returned, as the checks need it.
struct Observed {
  bool function_error = false;
  std::string error_type;  // the platform's or the runtime's errorType
  std::string payload;
  double duration_ms = 0;
  bool cold_start = false;
};

// Reads Duration and Init Duration from an invocation's log (START ... REPORT).
Observed observe(bool function_error, std::string error_type, std::string payload, const std::string& log);

// Empty when the case passed; otherwise what differs, readable (expected vs actual).
std::string check(const Expectation& expect, const Observed& observed);

// The shard a case belongs to (1..n), stable as cases are added or removed.
int shard_of(const std::string& case_id, int shards);

}  // namespace lambdad::app
