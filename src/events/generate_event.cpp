#include "lambdad/events/generate_event.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <type_traits>
#include <utility>
#include <variant>

#include "event_template.hpp"

namespace lambdad::events {
namespace {

using Json = nlohmann::ordered_json;

// The events themselves are templates (event_template.hpp): which options each takes, and what
// it does with them, is theirs. Here are the options as the command line and EventOptions have them.

using Member = std::variant<std::optional<std::string> EventOptions::*, std::optional<std::int64_t> EventOptions::*,
                            std::vector<std::string> EventOptions::*>;

struct OptionField {
  std::string_view name;
  std::string_view help;
  Member member;
};

constexpr std::array<OptionField, 32> kOptionFields = {{
    {"--bucket", "S3 bucket name", &EventOptions::bucket},
    {"--key", "S3 object key", &EventOptions::key},
    {"--size", "S3 object size in bytes", &EventOptions::size},
    {"--etag", "S3 object ETag", &EventOptions::etag},
    {"--body", "Message or request body", &EventOptions::body},
    {"--queue-name", "SQS queue name (in eventSourceARN)", &EventOptions::queue_name},
    {"--count", "Number of records (1-10000)", &EventOptions::count},
    {"--message", "SNS message; CloudWatch log message (repeatable)", &EventOptions::message},
    {"--subject", "SNS subject", &EventOptions::subject},
    {"--topic-arn", "SNS topic ARN", &EventOptions::topic_arn},
    {"--method", "HTTP method (default GET)", &EventOptions::method},
    {"--path", "Request path (default /hello)", &EventOptions::path},
    {"--resource", "REST API resource, e.g. /items/{id} (default /{proxy+})", &EventOptions::resource},
    {"--stage", "API stage", &EventOptions::stage},
    {"--query", "Query parameter NAME=VALUE (repeatable)", &EventOptions::query},
    {"--header", "Request header NAME=VALUE (repeatable)", &EventOptions::header},
    {"--route-key", "HTTP API route key (default 'METHOD PATH'; or $default)", &EventOptions::route_key},
    {"--source", "EventBridge source", &EventOptions::source},
    {"--detail-type", "EventBridge detail-type", &EventOptions::detail_type},
    {"--detail", "EventBridge detail (a JSON object)", &EventOptions::detail},
    {"--resource-arn", "EventBridge resources entry (repeatable)", &EventOptions::resource_arn},
    {"--rule", "Schedule rule name", &EventOptions::rule},
    {"--table", "DynamoDB table name", &EventOptions::table},
    {"--keys", "DynamoDB keys (DynamoDB JSON)", &EventOptions::keys},
    {"--new-image", "DynamoDB NewImage (DynamoDB JSON)", &EventOptions::new_image},
    {"--old-image", "DynamoDB OldImage (DynamoDB JSON)", &EventOptions::old_image},
    {"--stream", "Kinesis stream name", &EventOptions::stream},
    {"--data", "Kinesis record data, plain text (base64-encoded into the event)", &EventOptions::data},
    {"--partition-key", "Kinesis partition key", &EventOptions::partition_key},
    {"--log-group", "CloudWatch log group", &EventOptions::log_group},
    {"--log-stream", "CloudWatch log stream", &EventOptions::log_stream},
    {"--target-group-arn", "ALB target group ARN", &EventOptions::target_group_arn},
}};

bool is_set(const std::optional<std::string>& v) { return v.has_value(); }
bool is_set(const std::optional<std::int64_t>& v) { return v.has_value(); }
bool is_set(const std::vector<std::string>& v) { return !v.empty(); }
template <typename T>
Json value_of(const std::optional<T>& v) { return *v; }
Json value_of(const std::vector<std::string>& v) { return v; }

const SampleEvent* find_event(std::string_view service, std::string_view event) {
  for (const auto& e : sample_events()) {
    if (e.service == service && e.event == event) return &e;
  }
  return nullptr;
}

std::string usage_list() {
  std::string text;
  for (const auto& e : sample_events()) {
    text += fmt::format("  {:<12}{:<17}{}\n  {:29}options: {}\n", e.service, e.event, e.summary, "", e.option_list());
  }
  return text;
}

std::string events_of(std::string_view service) {
  std::string names;
  for (const auto& e : sample_events()) {
    if (e.service == service) names += (names.empty() ? "" : ", ") + e.event;
  }
  return names;
}

// The services, each once, in the usage list's order.
std::string services() {
  std::vector<std::string> seen;
  for (const auto& e : sample_events()) {
    if (std::find(seen.begin(), seen.end(), e.service) == seen.end()) seen.push_back(e.service);
  }
  return fmt::format("{}", fmt::join(seen, ", "));
}

}  // namespace

Result<nlohmann::ordered_json> generate_event(const std::string& service, const std::string& event,
                                              const EventOptions& options) {
  const SampleEvent* spec = find_event(service, event);
  if (!spec) {
    if (events_of(service).empty()) {
      return invalid_input(fmt::format("unknown service '{}'; services and events:\n{}", service, usage_list()));
    }
    if (event.empty()) return invalid_input(fmt::format("give an event for {}: {}", service, events_of(service)));
    return invalid_input(fmt::format("unknown event '{}' for {}; its events: {}", event, service, events_of(service)));
  }
  RenderInput input{Json::object(), options.account, options.region, options.fixed};
  for (const auto& field : kOptionFields) {
    const auto name = std::string(field.name);
    std::visit(
        [&](auto member) {
          if (is_set(options.*member)) input.given[name] = value_of(options.*member);
        },
        field.member);
    if (input.given.contains(name) && !spec->takes(name)) {
      return invalid_input(fmt::format("{} does not apply to {} {}; its options: {} (and --account, --region, --fixed)", name,
                                 service, event, spec->option_list()));
    }
  }
  return render_sample_event(*spec, input);
}

CLI::App* add_generate_event_command(CLI::App& app, GenerateEventCommand& state) {
  auto* cmd = app.add_subcommand("generate-event", "Print a sample event of an AWS trigger, to pipe into invoke");
  // Unknown options and extra words are ours to report, with the options the event does take.
  cmd->allow_extras();
  cmd->parse_complete_callback([cmd, &state] { state.unexpected = cmd->remaining(); });
  cmd->add_option("service", state.service, services());
  cmd->add_option("event", state.event, "The event of that service (see the list below)");
  cmd->add_option("--account", state.options.account, "Account id in ARNs and events (default 123456789012)");
  cmd->add_option("--region", state.options.region, "Region in ARNs and events (default us-east-1)");
  cmd->add_flag("--fixed", state.options.fixed, "Pin every id and timestamp (byte-identical output, for golden tests)");
  for (const auto& field : kOptionFields) {
    std::string users;
    for (const auto& e : sample_events()) {
      if (e.takes(field.name)) users += (users.empty() ? "" : ", ") + fmt::format("{} {}", e.service, e.event);
    }
    const auto help = fmt::format("{} [{}]", field.help, users);
    std::visit(
        [&](auto member) {
          auto* option = cmd->add_option(std::string(field.name), state.options.*member, help);
          // The event's content, not a setting: no LAMBDAD_* variable or config key (LAMBDAD_STAGE
          // would otherwise land in every event that has no stage).
          option->configurable(false);
          if constexpr (std::is_same_v<decltype(member), std::vector<std::string> EventOptions::*>) {
            option->allow_extra_args(false);  // one value per occurrence; repeat the option for more
          }
        },
        field.member);
  }
  cmd->footer("Services and events:\n" + usage_list() +
              "\nExamples:\n"
              "  lambdad generate-event s3 put --bucket photos --key cats/1.jpg\n"
              "  lambdad generate-event apigateway aws-proxy --method POST --path /orders --body '{\"id\":1}'\n"
              "  lambdad generate-event sqs receive-message --body hi | lambdad invoke MyFunction --event -\n\n"
              "Settings: --account, --region and --fixed are also LAMBDAD_ACCOUNT, LAMBDAD_REGION and\n"
              "  LAMBDAD_FIXED in the environment and keys in lambdad.toml or lambdad.json (--config FILE), under\n"
              "  [generate-event] or at the top level. Precedence: command line > environment > config file >\n"
              "  defaults. The event's own options (--bucket, --body, ...) come from the command line only.\n\n"
              "Exit codes: 0 event printed; 1 stdout could not be written; 2 usage or config error.\n");
  return cmd;
}

int run_generate_event(const GenerateEventCommand& state) {
  if (!state.unexpected.empty()) {
    const auto& word = state.unexpected.front();
    std::string hint = "see lambdad generate-event --help";
    if (const auto* e = find_event(state.service, state.event)) {
      hint = fmt::format("{} {} takes {} (and --account, --region, --fixed)", e->service, e->event, e->option_list());
    }
    std::fprintf(stderr, "lambdad generate-event: unexpected %s '%s'; %s\n",
                 word.rfind('-', 0) == 0 ? "option" : "argument", word.c_str(), hint.c_str());
    return 2;
  }
  if (state.service.empty()) {
    std::fprintf(stderr, "lambdad generate-event: give SERVICE and EVENT; services and events:\n%s",
                 usage_list().c_str());
    return 2;
  }
  auto event = generate_event(state.service, state.event, state.options);
  if (!event) {
    std::fprintf(stderr, "lambdad generate-event: %s\n", event.error().message.c_str());
    return 2;
  }
  const auto text = event->dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace lambdad::events
