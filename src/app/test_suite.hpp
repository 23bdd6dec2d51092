// app (private): `lambdad test` suites (docs/test-suites.md): case files, and the checks of what
// a case expects against what its invocation (or durable execution) returned. No processes or
// I/O beyond reading the case files, so the checks are unit-tested on their own; the one piece
// that runs something, DurableHarness (test_durable.cpp), is declared at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace YAML {
class Node;
}

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
  // Durable cases: the status the execution must end with (SUCCEEDED, FAILED, TIMED_OUT,
  // STOPPED), and operations it must have (a list of {type, subType, name, status, result,
  // error}, each matched on the keys it gives, in the order the operations began).
  std::optional<std::string> status;
  std::optional<nlohmann::json> operations;
};

// A callback a durable case answers: the first CALLBACK operation waiting (named `name`, or in a
// context named `name`, when given) gets SendDurableExecutionCallbackSuccess with `result` as its
// JSON, or ...Failure with `error` (an ErrorObject).
struct DurableCallback {
  int line = 0;
  std::string name;
  std::optional<nlohmann::json> result;
  std::optional<nlohmann::json> error;
};

// A case's `durable:` options. A case of a durable function starts an execution with or without them.
struct DurableOptions {
  int line = 0;
  std::string execution_name;  // empty: one is made
  double time_scale = 0;       // 0: the run's --durable-time-scale
  double deadline_s = 0;       // 0: durable_case_deadline's
  std::vector<DurableCallback> callbacks;  // answered in this order
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
  std::optional<DurableOptions> durable;
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

// What a durable execution ended with, as the checks need it.
struct DurableObserved {
  std::string status;                   // SUCCEEDED, FAILED, TIMED_OUT, STOPPED
  std::optional<std::string> result;    // its Result (JSON text), when it succeeded
  std::optional<nlohmann::json> error;  // its ErrorObject, when it did not
  // Each operation, in the order it began: {id, parentId, type, subType, name, status} and, when
  // it has them, result (parsed when it is JSON) and error (its ErrorObject).
  std::vector<nlohmann::json> operations;
};

// Empty when the durable case passed: it ended with the status expected (SUCCEEDED unless the
// case expects an error), error and errorMessage hold for its ErrorObject, result,
// resultContains and fields for its Result, and its operations include the ones expected.
std::string check_durable(const Expectation& expect, const DurableObserved& observed);

// The operations, one a line ("TYPE (SubType) name STATUS", children indented), for a failure.
std::string operations_listing(const std::vector<nlohmann::json>& operations, const std::string& prefix);

// What does not fit a case once its function is known: `durable:`, `status` or `operations` for
// a function without DurableConfig; an Event invocation, maxDurationMs or an error with
// status SUCCEEDED for a durable one.
std::vector<SuiteProblem> durable_problems(const TestCase& c, bool durable_function);

// How long a durable case waits for its execution to end before it fails (and the execution is
// stopped): `deadline_s` when given; else the execution timeout under the time scale (at most
// 300 s; 300 s without one) plus the function's timeout and 10 s. So no case can hang a run.
std::chrono::milliseconds durable_case_deadline(std::int64_t execution_timeout_s, double time_scale,
                                                int function_timeout_s, double deadline_s);

// The case reader's helpers for the durable keys (test_durable.cpp): `durable:` and the
// expectations `status` and `operations`; problems go to `problem` with their node.
using ProblemAt = std::function<void(const YAML::Node&, std::string)>;
bool read_durable(const YAML::Node& node, DurableOptions& out, const ProblemAt& problem);
bool read_durable_expectation(const std::string& key, const YAML::Node& value, Expectation& e,
                              const ProblemAt& problem);
// The 1-based line a node of a case file starts on (0 when unknown).
int yaml_line(const YAML::Node& node);
// YAML (and so JSON) to JSON, as case files are read: plain scalars become numbers, booleans and
// null as YAML 1.2's core schema reads them; quoted ones stay strings.
nlohmann::json yaml_to_json(const YAML::Node& node);
// Expected and actual, each line marked (- and +), as the failures show them.
std::string show_difference(const nlohmann::json& expected, const nlohmann::json& actual);

// Sets `value` at a path ("$.Records[0].s3.object.size"); the last key is created in an object
// if missing. False when the path does not lead into the document.
bool set_at_path(nlohmann::json& doc, const std::string& path, nlohmann::json value);

// The shard a case belongs to (1..n), stable as cases are added or removed.
int shard_of(const std::string& case_id, int shards);

struct Daemon;

// A durable case's verdict.
struct DurableVerdict {
  std::string failure;      // empty: passed
  std::string summary;      // "SUCCEEDED after 3 invocations"
  double execution_ms = 0;  // the execution's duration in its own time (scaled waits count in full)
  nlohmann::json report;    // for --json: arn, name, status, timeScale, invocations, operations
};

// Durable cases run in-process (test_durable.cpp): the checkpoint API the functions' SDKs call
// (on a free loopback port), and for each case an execution of the daemon's engine, its
// callbacks answered as they come to wait, its end checked, and its deadline.
class DurableHarness {
 public:
  DurableHarness(Daemon& d, std::string region, double default_time_scale);
  ~DurableHarness();
  DurableHarness(const DurableHarness&) = delete;
  DurableHarness& operator=(const DurableHarness&) = delete;
  // After Daemon::build (with CoreOptions::durable), before any environment starts: the
  // functions' environments get the port. False (said why) when it cannot be opened.
  bool open();
  // On the domain: starts the case's execution of `function` at `version`. `done` is called
  // once, later, on the domain: when the execution ended, or at the case's deadline (it is then
  // stopped).
  void run(const TestCase& c, const std::string& function, const std::string& version, int function_timeout_s,
           std::function<void(DurableVerdict)> done);
  void close();  // on the domain, once every case is done: stops the checkpoint API

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lambdad::app
