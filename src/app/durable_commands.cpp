// `lambdad execution get|history|stop ARN` and `lambdad callback succeed|fail|heartbeat ID`: the
// durable executions' 2025-12-01 routes of a running daemon's Invoke API (decision 026), in the
// shape of SAM's `sam local execution` and `sam local callback`. The ARN and the callback id each
// travel as one percent-encoded path segment.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lambdad/app/commands.hpp"
#include "lambdad/client/http_client.hpp"

namespace lambdad::app {
using client::encode_path_segment;
using client::HttpClient;
using client::HttpHeaders;
using client::parse_endpoint;
using client::request_signer_from_environment;

namespace {

using Json = nlohmann::ordered_json;  // the daemon's key order, as it answered

constexpr auto kTimeout = std::chrono::seconds(30);
const std::string kExecutions = "/2025-12-01/durable-executions/";
const std::string kCallbacks = "/2025-12-01/durable-execution-callbacks/";

// A body as the command prints it: its bytes as they came and a newline; nothing for an empty one.
void print_body(std::string_view body) {
  if (body.empty()) return;
  std::fwrite(body.data(), 1, body.size(), stdout);
  std::fputc('\n', stdout);
}

// Sends one request. The body of a 2xx answer; otherwise nullopt, having said why: the client's
// error, or the daemon's body on stdout and its status and X-Amzn-ErrorType on stderr.
std::optional<std::string> send(HttpClient& client, std::string_view method, const std::string& target,
                                const HttpHeaders& headers = {}, std::string_view body = {}) {
  auto response = client.request(method, target, headers, body, kTimeout);
  if (!response) {
    std::fprintf(stderr, "lambdad: %s\n", response.error().message.c_str());
    return std::nullopt;
  }
  if (response->status < 200 || response->status > 299) {
    print_body(response->body);
    const auto type = response->header("X-Amzn-ErrorType");
    std::fprintf(stderr, "lambdad: the daemon answered %d%s%s\n", response->status, type ? " " : "",
                 type ? type->c_str() : "");
    return std::nullopt;
  }
  return std::move(response->body);
}

std::optional<Json> parse_answer(const std::string& body) {
  auto j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::fprintf(stderr, "lambdad: the daemon's answer is not a JSON object: %.200s\n", body.c_str());
    return std::nullopt;
  }
  return j;
}

// An ErrorObject with only the fields given: {} when none.
std::string error_object(const ErrorObjectOptions& e) {
  Json j = Json::object();
  if (e.type) j["ErrorType"] = *e.type;
  if (e.message) j["ErrorMessage"] = *e.message;
  if (e.data) j["ErrorData"] = *e.data;
  if (!e.stack_trace.empty()) j["StackTrace"] = e.stack_trace;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);  // a flag's bytes need not be UTF-8
}

// "2025-12-01T10:00:00.250Z" for epoch seconds; nullopt outside years 1970 to 9999.
std::optional<std::string> iso_time(double epoch_seconds) {
  if (!(epoch_seconds >= 0 && epoch_seconds < 253402300800.0)) return std::nullopt;
  const long long ms = std::llround(epoch_seconds * 1000.0);
  const auto seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  char text[32];
  if (::gmtime_r(&seconds, &tm) == nullptr || std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    return std::nullopt;
  }
  return fmt::format("{}.{:03}Z", text, ms % 1000);
}

// A field as a table shows it: strings as they are, timestamps (epoch seconds) in UTC, an
// ErrorObject as "Type: message", "-" when absent, anything else as JSON.
std::string cell(const Json& object, const char* key) {
  const auto it = object.is_object() ? object.find(key) : object.end();
  if (it == object.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number() && std::string_view(key).ends_with("Timestamp")) {
    if (auto text = iso_time(it->get<double>())) return *text;
  }
  if (it->is_object() && (it->contains("ErrorType") || it->contains("ErrorMessage"))) {
    return fmt::format("{}: {}", cell(*it, "ErrorType"), cell(*it, "ErrorMessage"));
  }
  return it->dump();
}

// Rows in columns as wide as their widest cell, two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

// The whole history, following NextMarker; nullopt when a page failed (said why).
std::optional<Json> read_history(HttpClient& client, const std::string& path, bool include_data) {
  Json events = Json::array();
  std::string marker;
  for (;;) {
    std::string target = path + "/history?IncludeExecutionData=" + (include_data ? "true" : "false");
    if (!marker.empty()) target += "&Marker=" + encode_path_segment(marker);
    const auto body = send(client, "GET", target);
    if (!body) return std::nullopt;
    auto page = parse_answer(*body);
    if (!page) return std::nullopt;
    if (auto it = page->find("Events"); it != page->end() && it->is_array()) {
      for (auto& event : *it) events.push_back(std::move(event));
    }
    const auto next = page->find("NextMarker");
    if (next == page->end() || !next->is_string() || next->get_ref<const std::string&>().empty()) break;
    if (next->get_ref<const std::string&>() == marker) {
      std::fprintf(stderr, "lambdad: the daemon answered the same NextMarker again: %s\n", marker.c_str());
      return std::nullopt;
    }
    marker = next->get<std::string>();
  }
  return Json{{"Events", std::move(events)}};
}

int usage(const char* command, const char* problem) {
  std::fprintf(stderr, "lambdad %s: %s\n", command, problem);
  return 2;
}

}  // namespace

int run_execution(const ExecutionOptions& options) {
  const auto& action = options.action;
  if (action != "get" && action != "history" && action != "stop") return usage("execution", "expected get, history or stop");
  if (options.arn.empty()) return usage("execution", "the durable execution's ARN is empty");
  auto endpoint = parse_endpoint(options.endpoint);
  if (!endpoint) return usage("execution", ("--endpoint: " + endpoint.error().message).c_str());
  // Signed when AWS credentials are in the environment (a daemon started with --credentials).
  HttpClient client(std::move(*endpoint), request_signer_from_environment("us-east-1"));
  const std::string path = kExecutions + encode_path_segment(options.arn);

  if (action == "stop") {
    const auto body = send(client, "POST", path + "/stop", {{"Content-Type", "application/json"}},
                           error_object(options.error));
    if (!body) return 1;
    print_body(*body);
    return 0;
  }
  std::optional<Json> answer;
  if (action == "get") {
    const auto body = send(client, "GET", path);
    if (body) answer = parse_answer(*body);
  } else {
    answer = read_history(client, path, options.include_execution_data);
  }
  if (!answer) return 1;
  if (options.format != "table") {
    std::printf("%s\n", answer->dump(2).c_str());
  } else if (action == "get") {
    const Json& e = *answer;
    const bool failed = e.contains("Error") && !e["Error"].is_null();
    print_table({{"Name", cell(e, "DurableExecutionName")},
                 {"Status", cell(e, "Status")},
                 {"Start", cell(e, "StartTimestamp")},
                 {"End", cell(e, "EndTimestamp")},
                 {failed ? "Error" : "Result", cell(e, failed ? "Error" : "Result")}});
  } else {
    std::vector<std::vector<std::string>> rows{{"EventId", "EventType", "Name/Id", "EventTimestamp"}};
    for (const auto& event : (*answer)["Events"]) {
      const auto name = cell(event, "Name");
      rows.push_back({cell(event, "EventId"), cell(event, "EventType"), name != "-" ? name : cell(event, "Id"),
                      cell(event, "EventTimestamp")});
    }
    print_table(rows);
  }
  return 0;
}

int run_callback(const CallbackOptions& options) {
  const auto& action = options.action;
  if (action != "succeed" && action != "fail" && action != "heartbeat") {
    return usage("callback", "expected succeed, fail or heartbeat");
  }
  if (options.callback_id.empty()) return usage("callback", "the callback id is empty");
  auto endpoint = parse_endpoint(options.endpoint);
  if (!endpoint) return usage("callback", ("--endpoint: " + endpoint.error().message).c_str());
  HttpClient client(std::move(*endpoint), request_signer_from_environment("us-east-1"));

  // succeed: the result's bytes as they are (a blob, as Lambda takes it); fail: an ErrorObject;
  // heartbeat: nothing.
  HttpHeaders headers;
  std::string body;
  if (action == "succeed" && options.result && !options.result->empty()) {
    headers.emplace_back("Content-Type", "application/octet-stream");
    body = *options.result;
  } else if (action == "fail") {
    headers.emplace_back("Content-Type", "application/json");
    body = error_object(options.error);
  }
  const auto answer =
      send(client, "POST", kCallbacks + encode_path_segment(options.callback_id) + "/" + action, headers, body);
  if (!answer) return 1;
  print_body(*answer);
  return 0;
}

}  // namespace lambdad::app
