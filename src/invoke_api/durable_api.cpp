// Durable executions on the Invoke API (lambda-spec §10.1, §10.3; docs/decisions/026). The
// engine decides; this file reads requests and writes answers. The execution ARN and the callback
// id each arrive as one percent-encoded path segment; timestamps go out as epoch seconds.
#include "durable_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>

#include "lambdad/common/ids.hpp"
#include "lambdad/durable/engine.hpp"
#include "lambdad/invocation/function_name.hpp"
#include "lambdad/invoke_api/function_name.hpp"
#include "lambdad/invoke_api/service_error.hpp"

namespace lambdad::invoke_api {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using durable::Engine;
using durable::Execution;

constexpr std::size_t kCallbackResultLimit = 262144;
constexpr std::size_t kCheckpointBodyLimit = 8 << 20;  // the SDKs batch at most 750 KB of updates

double seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

void answer_json(http::Responder& respond, const ojson& body, unsigned status = 200) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("x-amzn-RequestId", ids::request_id());
  r.body = body.dump(-1, ' ', false, ojson::error_handler_t::replace);
  respond(std::move(r));
}

void answer_error(http::Responder& respond, const Error& e) { respond(render(ServiceError::from(e), ids::request_id())); }

ojson execution_json(const Execution& e) {
  ojson j{{"DurableExecutionArn", e.arn},
          {"DurableExecutionName", e.name},
          {"FunctionArn", e.function_arn},
          {"InputPayload", e.input},
          {"StartTimestamp", seconds(e.start_ms)},
          {"Status", durable::name(e.status)}};
  if (e.result) j["Result"] = *e.result;
  if (e.error) j["Error"] = *e.error;
  if (e.end_ms) j["EndTimestamp"] = seconds(*e.end_ms);
  j["Version"] = e.version;
  return j;
}

ojson summary_json(const Execution& e) {
  ojson j{{"DurableExecutionArn", e.arn},
          {"DurableExecutionName", e.name},
          {"FunctionArn", e.function_arn},
          {"Status", durable::name(e.status)},
          {"StartTimestamp", seconds(e.start_ms)}};
  if (e.end_ms) j["EndTimestamp"] = seconds(*e.end_ms);
  return j;
}

// A body that must be a JSON object (or empty, when `empty_ok`); nullopt after answering 400.
std::optional<json> object_body(const http::Request& req, http::Responder& respond, bool empty_ok) {
  if (req.body.empty() && empty_ok) return json::object();
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    respond(render(ServiceError::invalid_request_content("Could not parse request body into json: the body must be "
                                                         "a JSON object."),
                   ids::request_id()));
    return std::nullopt;
  }
  return body;
}

// A MaxItems query value within [0, max]; `fallback` when absent.
std::optional<std::size_t> max_items(const http::Request& req, std::size_t fallback, std::size_t max,
                                     http::Responder& respond) {
  auto v = req.query_param("MaxItems");
  if (!v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || n < 0 || static_cast<std::size_t>(n) > max) {
    respond(render(ServiceError::invalid_member("maxItems", *v,
                                                {fmt::format("Member must have value less than or equal to {}", max),
                                                 "Member must have value greater than or equal to 0"}),
                   ids::request_id()));
    return std::nullopt;
  }
  return n == 0 ? fallback : static_cast<std::size_t>(n);
}

// A timestamp query value: epoch seconds, or ISO 8601 (2026-12-07T10:00:00Z, fractions allowed).
std::optional<std::int64_t> query_time_ms(const std::string& v) {
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (!v.empty() && *end == '\0') return static_cast<std::int64_t>(s * 1000);
  std::tm tm{};
  const char* rest = strptime(v.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  if (*rest == '.') ms += static_cast<std::int64_t>(std::strtod(rest, const_cast<char**>(&rest)) * 1000);
  return ms;
}

bool flag(const http::Request& req, const char* name) { return req.query_param(name).value_or("false") == "true"; }

// Every value of a repeated query parameter (Statuses=RUNNING&Statuses=FAILED).
std::vector<std::string> query_values(const http::Request& req, std::string_view name) {
  std::vector<std::string> out;
  std::string_view q = req.query;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || item.substr(0, eq) != name) continue;
    out.push_back(http::percent_decode(item.substr(eq + 1), true));
  }
  return out;
}

std::optional<json> error_object_body(const http::Request& req, http::Responder& respond) {
  auto body = object_body(req, respond, true);
  if (!body) return std::nullopt;
  json error = json::object();
  for (const char* key : {"ErrorType", "ErrorMessage", "ErrorData"}) {
    if (body->contains(key) && (*body)[key].is_string()) error[key] = (*body)[key];
  }
  if (body->contains("StackTrace") && (*body)["StackTrace"].is_array()) error["StackTrace"] = (*body)["StackTrace"];
  return error;
}

void handle_checkpoint(Engine& engine, http::Request&& req, http::Responder respond) {
  auto body = object_body(req, respond, false);
  if (!body) return;
  if (!body->contains("CheckpointToken") || !(*body)["CheckpointToken"].is_string()) {
    return respond(render(ServiceError::invalid_member("checkpointToken", "null", {"Member must not be null"}),
                          ids::request_id()));
  }
  const json updates = body->value("Updates", json::array());
  auto reply = engine.checkpoint(std::string(req.param("arn")), (*body)["CheckpointToken"].get<std::string>(), updates);
  if (!reply) return answer_error(respond, reply.error());
  ojson ops = ojson::array();
  for (const auto* op : reply->changed) ops.push_back(durable::operation_json(*op, durable::TimeUnit::kSeconds));
  ojson out = ojson::object();
  if (!reply->token.empty()) out["CheckpointToken"] = reply->token;
  out["NewExecutionState"] = {{"Operations", std::move(ops)}, {"NextMarker", ""}};
  answer_json(respond, out);
}

void handle_state(Engine& engine, http::Request&& req, http::Responder respond) {
  auto items = max_items(req, 100, 1000, respond);
  if (!items) return;
  auto page = engine.state(std::string(req.param("arn")), req.query_param("CheckpointToken").value_or(""),
                           req.query_param("Marker").value_or(""), *items);
  if (!page) return answer_error(respond, page.error());
  ojson ops = ojson::array();
  for (const auto* op : page->operations) ops.push_back(durable::operation_json(*op, durable::TimeUnit::kSeconds));
  ojson out{{"Operations", std::move(ops)}};
  if (!page->next_marker.empty()) out["NextMarker"] = page->next_marker;
  answer_json(respond, out);
}

const Execution* find_or_answer(Engine& engine, const http::Request& req, http::Responder& respond) {
  const std::string arn(req.param("arn"));
  const Execution* e = engine.find(arn);
  if (e == nullptr) answer_error(respond, Error{ErrorKind::kNotFound, "ResourceNotFoundException", "Durable execution not found: " + arn});
  return e;
}

void handle_get(Engine& engine, http::Request&& req, http::Responder respond) {
  if (const Execution* e = find_or_answer(engine, req, respond)) answer_json(respond, execution_json(*e));
}

void handle_history(Engine& engine, http::Request&& req, http::Responder respond) {
  const Execution* e = find_or_answer(engine, req, respond);
  if (e == nullptr) return;
  auto items = max_items(req, 100, 1000, respond);
  if (!items) return;
  const bool data = flag(req, "IncludeExecutionData");
  std::size_t from = 0;
  if (auto marker = req.query_param("Marker"); marker && !marker->empty()) from = std::strtoul(marker->c_str(), nullptr, 10);
  std::vector<const durable::HistoryEvent*> events;
  for (const auto& ev : e->history) events.push_back(&ev);
  if (flag(req, "ReverseOrder")) std::reverse(events.begin(), events.end());
  ojson list = ojson::array();
  for (std::size_t i = from; i < events.size() && list.size() < *items; ++i) list.push_back(durable::event_json(*events[i], data));
  ojson out{{"Events", std::move(list)}};
  if (from + out["Events"].size() < events.size()) out["NextMarker"] = std::to_string(from + out["Events"].size());
  answer_json(respond, out);
}

void handle_list(Engine& engine, invocation::Dispatcher& dispatcher, const InvokeApiOptions& options,
                 http::Request&& req, http::Responder respond) {
  auto parsed = invocation::parse_function_name(req.param("name"));
  if (!parsed) {
    return respond(render(ServiceError::invalid_member("functionName", std::string(req.param("name")),
                                                       {"Member must satisfy regular expression pattern: " +
                                                        std::string(kFunctionNamePattern)}),
                          ids::request_id()));
  }
  const std::string name = dispatcher.function_for(parsed->name);
  if (!dispatcher.has_function(name)) {
    return answer_error(respond, Error{ErrorKind::kNotFound, "ResourceNotFoundException",
                                       "Function not found: " + invocation::function_arn(options.region,
                                                                                         options.account_id, name)});
  }
  auto items = max_items(req, 100, 1000, respond);
  if (!items) return;
  const auto qualifier = req.query_param("Qualifier");
  const auto wanted_name = req.query_param("DurableExecutionName");
  const auto statuses = query_values(req, "Statuses");
  std::optional<std::int64_t> after, before;
  if (auto v = req.query_param("StartedAfter")) after = query_time_ms(*v);
  if (auto v = req.query_param("StartedBefore")) before = query_time_ms(*v);
  const std::string prefix = invocation::function_arn(options.region, options.account_id, name) + ":";
  std::vector<const Execution*> found;
  for (const Execution* e : engine.executions()) {
    if (e->function_arn.rfind(prefix, 0) != 0) continue;
    if (qualifier && !qualifier->empty() && e->function_arn != prefix + *qualifier && e->version != *qualifier) continue;
    if (wanted_name && !wanted_name->empty() && e->name != *wanted_name) continue;
    if (!statuses.empty() &&
        std::find(statuses.begin(), statuses.end(), std::string(durable::name(e->status))) == statuses.end()) {
      continue;
    }
    if (after && e->start_ms < *after) continue;
    if (before && e->start_ms > *before) continue;
    found.push_back(e);
  }
  // Newest first unless ReverseOrder, as the service lists them.
  std::stable_sort(found.begin(), found.end(), [](const Execution* a, const Execution* b) { return a->start_ms > b->start_ms; });
  if (flag(req, "ReverseOrder")) std::reverse(found.begin(), found.end());
  std::size_t from = 0;
  if (auto marker = req.query_param("Marker"); marker && !marker->empty()) from = std::strtoul(marker->c_str(), nullptr, 10);
  ojson list = ojson::array();
  for (std::size_t i = from; i < found.size() && list.size() < *items; ++i) list.push_back(summary_json(*found[i]));
  ojson out{{"DurableExecutions", std::move(list)}};
  if (from + out["DurableExecutions"].size() < found.size()) {
    out["NextMarker"] = std::to_string(from + out["DurableExecutions"].size());
  }
  answer_json(respond, out);
}

void handle_stop(Engine& engine, http::Request&& req, http::Responder respond) {
  auto error = error_object_body(req, respond);
  if (!error) return;
  auto stopped = engine.stop(std::string(req.param("arn")), error->empty() ? std::nullopt : std::optional<json>(*error));
  if (!stopped) return answer_error(respond, stopped.error());
  answer_json(respond, ojson{{"StopTimestamp", seconds(*stopped)}});
}

void handle_callback(Engine& engine, durable::CallbackAnswer answer, http::Request&& req, http::Responder respond) {
  std::optional<std::string> result;
  std::optional<json> error;
  if (answer == durable::CallbackAnswer::kSuccess) {
    if (req.body.size() > kCallbackResultLimit) {
      return respond(render(ServiceError::invalid_member("result", "...",
                                                         {fmt::format("Member must have length less than or equal to {}",
                                                                      kCallbackResultLimit)}),
                            ids::request_id()));
    }
    result = req.body;
  } else if (answer == durable::CallbackAnswer::kFailure) {
    error = error_object_body(req, respond);
    if (!error) return;
  }
  auto st = engine.callback(std::string(req.param("id")), answer, std::move(result), std::move(error));
  if (!st) return answer_error(respond, st.error());
  answer_json(respond, ojson::object());
}

}  // namespace

void add_durable_routes(http::Router& router, Engine& engine, invocation::Dispatcher& dispatcher,
                        const InvokeApiOptions& options) {
  auto* e = &engine;
  auto* d = &dispatcher;
  const std::string base = "/2025-12-01/durable-executions/{arn}";
  router.add(http::Method::kPost, base + "/checkpoint", kCheckpointBodyLimit,
             [e](http::Request&& req, http::Responder respond) { handle_checkpoint(*e, std::move(req), std::move(respond)); });
  router.add(http::Method::kGet, base + "/state", 0,
             [e](http::Request&& req, http::Responder respond) { handle_state(*e, std::move(req), std::move(respond)); });
  router.add(http::Method::kGet, base, 0,
             [e](http::Request&& req, http::Responder respond) { handle_get(*e, std::move(req), std::move(respond)); });
  router.add(http::Method::kGet, base + "/history", 0,
             [e](http::Request&& req, http::Responder respond) { handle_history(*e, std::move(req), std::move(respond)); });
  router.add(http::Method::kPost, base + "/stop", 1 << 20,
             [e](http::Request&& req, http::Responder respond) { handle_stop(*e, std::move(req), std::move(respond)); });
  router.add(http::Method::kGet, "/2025-12-01/functions/{name}/durable-executions", 0,
             [e, d, options](http::Request&& req, http::Responder respond) {
               handle_list(*e, *d, options, std::move(req), std::move(respond));
             });
  const std::string callbacks = "/2025-12-01/durable-execution-callbacks/{id}/";
  for (auto [verb, answer] : {std::pair{"succeed", durable::CallbackAnswer::kSuccess},
                              std::pair{"fail", durable::CallbackAnswer::kFailure},
                              std::pair{"heartbeat", durable::CallbackAnswer::kHeartbeat}}) {
    router.add(http::Method::kPost, callbacks + verb, kCallbackResultLimit + 1,
               [e, answer = answer](http::Request&& req, http::Responder respond) {
                 handle_callback(*e, answer, std::move(req), std::move(respond));
               });
  }
}

json durable_status(const Engine& engine) {
  constexpr std::size_t kListed = 50;
  auto all = engine.executions();
  std::stable_sort(all.begin(), all.end(), [](const Execution* a, const Execution* b) { return a->start_ms > b->start_ms; });
  json out = json::object();
  for (const Execution* e : all) {
    auto& group = out[std::string(durable::name(e->status))];
    if (group.is_null()) group = {{"count", 0}, {"executions", json::array()}};
    group["count"] = group["count"].get<std::size_t>() + 1;
    if (group["executions"].size() < kListed) {
      group["executions"].push_back({{"arn", e->arn}, {"name", e->name}, {"functionArn", e->function_arn}});
    }
  }
  return out;
}

void start_durable_invoke(Engine& engine, const http::Request& req, const invocation::Invocation& inv,
                          const invocation::DurableSettings& settings, const std::string& type,
                          const std::string& request_id, http::Responder respond) {
  // The execution ARN pins a version: Lambda takes durable invokes by a qualified name only.
  const auto qualified = std::count(inv.invoked_function_arn.begin(), inv.invoked_function_arn.end(), ':') == 7;
  if (!qualified) {
    return respond(render(ServiceError::invalid_parameter(
                              "A durable function must be invoked with a qualified name or ARN (a version, an alias or "
                              "$LATEST): " + inv.invoked_function_arn),
                          request_id));
  }
  std::string name(req.headers.get("X-Amz-Durable-Execution-Name").value_or(""));
  const bool valid_name = name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (!valid_name) {
    return respond(render(ServiceError::invalid_member("durableExecutionName", name,
                                                       {"Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+",
                                                        "Member must have length less than or equal to 64"}),
                          request_id));
  }
  const std::string function_arn = fmt::format("{}:{}", inv.invoked_function_arn.substr(0, inv.invoked_function_arn.rfind(':')),
                                               inv.version);
  Engine::StartRequest start{function_arn, inv.version, std::move(name), inv.payload, settings.execution_timeout_s,
                             settings.retention_days};
  auto started = engine.start(start);
  if (!started) return respond(render(ServiceError::from(started.error()), request_id));
  auto head = [arn = started->arn, request_id, version = inv.version](unsigned status) {
    http::Response r;
    r.status = status;
    r.headers.add("Content-Type", "application/json");
    r.headers.add("x-amzn-RequestId", request_id);
    r.headers.add("X-Amz-Executed-Version", version);
    r.headers.add("X-Amz-Durable-Execution-Arn", arn);
    return r;
  };
  if (type == "Event") {
    auto r = head(202);
    r.headers.add("x-amzn-Remapped-Content-Length", "0");
    return respond(std::move(r));
  }
  engine.on_end(started->arn, [head, respond = std::move(respond)](const Execution& e) mutable {
    auto r = head(200);
    if (e.status == durable::ExecutionStatus::kSucceeded) {
      r.body = e.result.value_or("");
      if (r.body.empty()) r.body = "null";
    } else {
      r.headers.add("X-Amz-Function-Error", "Unhandled");
      r.body = e.error.value_or(json::object()).dump();
    }
    respond(std::move(r));
  });
}

}  // namespace lambdad::invoke_api
