// app (private): `lambdad test` suites (docs/test-suites.md): case files, and the checks of what
// a case expects against what its invocation returned. No processes or I/O beyond reading the
// case files, so the checks are unit-tested on their own.
#pragma once

#include <chrono>
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
  // Event cases: the destination the outcome's record must reach ("onSuccess" or "onFailure"),
  // and what that record must contain (a subset, as result_contains). The checks above then
  // apply to the record's responsePayload.
  std::optional<std::string> destination;
  std::optional<nlohmann::json> record;
};

enum class InvocationType { kRequestResponse, kEvent };

struct TestCase {
  std::string id;        // "<file>#<index>": stable, for sharding
  std::string name;
  std::filesystem::path file;
  int line = 0;          // where the case starts
  std::string function;
  std::string qualifier = "$LATEST";
  InvocationType type = InvocationType::kRequestResponse;
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
// One case file's text, as load_suite reads it; `file` names it in problems.
Suite load_suite_text(const std::string& text, const std::filesystem::path& file);

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

// An Event case's outcome as its destination received it.
struct DeliveredRecord {
  std::string went_to;      // "onSuccess" or "onFailure": the side the outcome belongs to
  std::string destination;  // "SQS arn:aws:sqs:…" it was sent to; empty: none configured for that side
  nlohmann::json record;    // the destination record (lambda-spec §4.3)
};

// What the checks see of a destination record: its responsePayload, and its functionError.
Observed observe_record(const nlohmann::json& record);

// Empty when the Event case passed: the record reached the expected destination, contains what
// `record` expects, and its responsePayload passes the other checks.
std::string check_event(const Expectation& expect, const DeliveredRecord& delivered);

// How long an Event case waits for its outcome before it fails instead: every attempt running to
// the function's timeout (plus 10 s for a cold start), the retry delays (base, 2×base, ...), and
// 5 s more. So no case can hang a run.
std::chrono::milliseconds event_case_deadline(int timeout_seconds, int maximum_retry_attempts,
                                              std::chrono::milliseconds retry_base);

// Sets `value` at a path ("$.Records[0].s3.object.size"); the last key is created in an object
// if missing. False when the path does not lead into the document.
bool set_at_path(nlohmann::json& doc, const std::string& path, nlohmann::json value);

// The shard a case belongs to (1..n), stable as cases are added or removed.
int shard_of(const std::string& case_id, int shards);

}  // namespace lambdad::app
