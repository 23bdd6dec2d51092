// events: `lambdad generate-event SERVICE EVENT`: sample events of the triggers users test most, in
// the shapes AWS publishes today, each filled in from its template (event_template.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lambdad/common/result.hpp"

namespace lambdad::events {

// What the command line says. An unset field takes the event's default; an option set for an event
// whose template does not take it is an error (generate_event names the options that event takes).
struct EventOptions {
  std::string account = "123456789012";
  std::string region = "us-east-1";
  bool fixed = false;  // every id and timestamp pinned, for golden tests

  std::optional<std::string> bucket, key, etag;                  // s3
  std::optional<std::int64_t> size;                              // s3 put
  std::optional<std::string> body;                               // sqs, apigateway, alb
  std::optional<std::string> queue_name;                         // sqs
  std::optional<std::int64_t> count;                             // sqs, kinesis: records
  std::vector<std::string> message;                              // sns (one), cloudwatch (each a log event)
  std::optional<std::string> subject, topic_arn;                 // sns
  std::optional<std::string> method, path, resource, stage;      // apigateway, alb
  std::vector<std::string> query, header;                        // k=v, repeatable
  std::optional<std::string> route_key;                          // http-api-proxy
  std::optional<std::string> source, detail_type, detail;        // eventbridge event
  std::vector<std::string> resource_arn;                         // eventbridge event: resources
  std::optional<std::string> rule;                               // eventbridge schedule
  std::optional<std::string> table, keys, new_image, old_image;  // dynamodb (DynamoDB JSON)
  std::optional<std::string> stream, data, partition_key;        // kinesis
  std::optional<std::string> log_group, log_stream;              // cloudwatch logs
  std::optional<std::string> target_group_arn;                   // alb
};

// The event for SERVICE EVENT, fields in AWS's order; an Error (kInvalidInput) names what is wrong
// and what is valid. Throws nothing.
Result<nlohmann::ordered_json> generate_event(const std::string& service, const std::string& event,
                                              const EventOptions& options);

struct GenerateEventCommand {
  std::string service;
  std::string event;
  EventOptions options;
  std::vector<std::string> unexpected;  // unknown options and extra arguments, reported by run
};

CLI::App* add_generate_event_command(CLI::App& app, GenerateEventCommand& state);
// Prints the event (2-space JSON) on stdout: 0, or a usage message on stderr: 2.
int run_generate_event(const GenerateEventCommand& state);

}  // namespace lambdad::events
