#include "lambdad/async/destination_record.hpp"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lambdad::async {
namespace {

using Json = nlohmann::ordered_json;

constexpr auto kDump = nlohmann::json::error_handler_t::replace;

// A payload as JSON; a response that is not JSON (a runtime may answer any bytes) as a string.
Json as_json(const std::string& text) {
  if (text.empty()) return nullptr;
  auto parsed = Json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

// ErrorMessage of a dead letter: the function's errorMessage, or why it never ran.
std::string error_message(const OutcomeSummary& outcome) {
  if (outcome.condition == Condition::kZeroReservedConcurrency) {
    return "Function not invoked. Function is configured with zero reserved concurrent executions";
  }
  if (!outcome.response) return "Rate Exceeded.";
  auto parsed = Json::parse(outcome.response->payload, nullptr, false);
  if (parsed.is_object() && parsed.contains("errorMessage") && parsed["errorMessage"].is_string()) {
    return parsed["errorMessage"].get<std::string>();
  }
  return outcome.response->payload;
}

Json message_attribute(const char* type, std::string value) {
  return Json{{"DataType", type}, {"StringValue", std::move(value)}};
}

}  // namespace

std::string_view condition_name(Condition condition) {
  switch (condition) {
    case Condition::kSuccess:
      return "Success";
    case Condition::kRetriesExhausted:
      return "RetriesExhausted";
    case Condition::kEventAgeExceeded:
      return "EventAgeExceeded";
    case Condition::kZeroReservedConcurrency:
      return "ZeroReservedConcurrency";
  }
  return "RetriesExhausted";
}

std::string iso8601_ms(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, epoch_ms % 1000);
}

std::string destination_record(const SpooledEvent& event, const std::string& function_arn,
                               const OutcomeSummary& outcome, std::int64_t epoch_ms) {
  Json record = {{"version", "1.0"},
                 {"timestamp", iso8601_ms(epoch_ms)},
                 {"requestContext",
                  {{"requestId", event.request_id},
                   {"functionArn", function_arn},
                   {"condition", condition_name(outcome.condition)},
                   {"approximateInvokeCount", outcome.approximate_invoke_count}}},
                 {"requestPayload", as_json(event.payload)}};
  if (outcome.response) {
    Json context = {{"statusCode", 200}, {"executedVersion", outcome.response->executed_version}};
    if (outcome.condition != Condition::kSuccess) context["functionError"] = "Unhandled";
    record["responseContext"] = std::move(context);
    record["responsePayload"] = as_json(outcome.response->payload);
  }
  return record.dump(-1, ' ', false, kDump);
}

std::string eventbridge_event(const std::string& record, bool success, const EventBridgeEnvelope& envelope) {
  Json event = {{"version", "0"},
                {"id", envelope.id},
                {"detail-type", success ? "Lambda Function Invocation Result - Success"
                                        : "Lambda Function Invocation Result - Failure"},
                {"source", "lambda"},
                {"account", envelope.account_id},
                {"time", iso8601_ms(envelope.epoch_ms).substr(0, 19) + "Z"},
                {"region", envelope.region},
                {"resources", Json::array({envelope.bus_arn, envelope.function_arn})},
                {"detail", Json::parse(record, nullptr, false)}};
  return event.dump(-1, ' ', false, kDump);
}

std::string dead_letter_message(const SpooledEvent& event, const OutcomeSummary& outcome) {
  const bool ran = outcome.response.has_value();
  Json message = {{"Body", event.payload},
                  {"MessageAttributes",
                   {{"RequestID", message_attribute("String", event.request_id)},
                    {"ErrorCode", message_attribute("Number", ran ? "200" : "429")},
                    {"ErrorMessage", message_attribute("String", error_message(outcome))}}}};
  return message.dump(-1, ' ', false, kDump);
}

}  // namespace lambdad::async
