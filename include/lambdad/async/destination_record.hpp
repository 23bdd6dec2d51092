// async: what destinations receive about an Event invocation's outcome (lambda-spec §4.3): the
// destination record, the EventBridge event that wraps it, and the dead-letter message. Pure
// functions of their inputs, so tests can compare them byte for byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lambdad/async/event_spool.hpp"

namespace lambdad::async {

enum class Condition { kSuccess, kRetriesExhausted, kEventAgeExceeded, kZeroReservedConcurrency };

// Lambda's word for the condition ("Success", "RetriesExhausted", ...).
std::string_view condition_name(Condition condition);

struct OutcomeSummary {
  Condition condition = Condition::kSuccess;
  int approximate_invoke_count = 0;
  // The last attempt's answer; nullopt when the function never ran (the record then has no
  // responseContext or responsePayload).
  std::optional<AttemptResponse> response;
};

// "2019-11-14T18:16:05.568Z".
std::string iso8601_ms(std::int64_t epoch_ms);

// {"version":"1.0","timestamp":…,"requestContext":{…},"requestPayload":…,"responseContext":{…},
//  "responsePayload":…}; `function_arn` is qualified with the executed version.
std::string destination_record(const SpooledEvent& event, const std::string& function_arn,
                               const OutcomeSummary& outcome, std::int64_t epoch_ms);

struct EventBridgeEnvelope {
  std::string id;  // a UUID
  std::string region;
  std::string account_id;
  std::string bus_arn;       // the destination
  std::string function_arn;  // qualified, as in the record
  std::int64_t epoch_ms = 0;
};

// The event Lambda puts on a bus: detail-type "Lambda Function Invocation Result - Success" or
// "… - Failure", source "lambda", the record as "detail".
std::string eventbridge_event(const std::string& record, bool success, const EventBridgeEnvelope& envelope);

// A dead-letter message as an SQS receive shows it: the original payload as Body, and the
// RequestID, ErrorCode and ErrorMessage attributes.
std::string dead_letter_message(const SpooledEvent& event, const OutcomeSummary& outcome);

}  // namespace lambdad::async
