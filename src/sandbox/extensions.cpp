// The Extensions API's registry and states (docs/decisions/024). The error types and messages are
// Lambda's (lambda-spec §2.3), word for word, so an extension's own error handling sees what it
// would see there.
#include "lambdad/sandbox/extensions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace lambdad::sandbox {
namespace {

constexpr std::string_view kNotAllowed = "State transition is not allowed";

ExtensionError refusal(std::string type, std::string message) { return {std::move(type), std::move(message)}; }

ExtensionError transition_refused(Extensions::State from, std::string_view to, std::string_view who) {
  return refusal("Extension.InvalidExtensionState",
                 fmt::format("State transition from {} to {} failed for extension {}. Error: {}",
                             Extensions::state_name(from), to, who, kNotAllowed));
}

// A UUID as Lambda parses identifiers: 36 characters with dashes or 32 without, any case;
// lowercase with dashes, or empty when it is none.
std::string canonical_uuid(std::string_view s) {
  std::string hex;
  if (s.size() == 36) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != (s[i] == '-')) return {};
      if (!dash) hex.push_back(s[i]);
    }
  } else if (s.size() == 32) {
    hex = std::string(s);
  } else {
    return {};
  }
  for (char& c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace

Extensions::Extensions(ExtensionFunctionInfo function, std::vector<std::string> external_names,
                       std::function<std::string()> new_id)
    : function_(std::move(function)), external_names_(std::move(external_names)), new_id_(std::move(new_id)) {}

std::string_view Extensions::state_name(State s) {
  switch (s) {
    case State::kRegistered:
      return "Registered";
    case State::kReady:
      return "Ready";
    case State::kRunning:
      return "Running";
    case State::kInitError:
      return "InitError";
    case State::kExitError:
      return "ExitError";
  }
  return "Unknown";
}

Extensions::RegisterOutcome Extensions::register_extension(std::string_view name, std::string_view body,
                                                           bool account_id) {
  RegisterOutcome out;
  if (name.empty()) {
    out.error = refusal("Extension.InvalidExtensionName", "Empty extension name");
    return out;
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (body.empty() || j.is_discarded() || !j.is_object()) {
    out.error = refusal("InvalidRequestFormat", body.empty() ? "unexpected end of JSON input"
                                                             : "the request body is not a JSON object");
    return out;
  }
  if (auto keys = j.find("configurationKeys"); keys != j.end() && keys->is_array() && !keys->empty()) {
    out.error = refusal("InvalidRequestFormat", "configurationKeys are deprecated; use environment variables instead");
    return out;
  }
  std::vector<std::string> events;
  if (auto e = j.find("events"); e != j.end() && !e->is_null()) {
    if (!e->is_array() || !std::all_of(e->begin(), e->end(), [](const auto& v) { return v.is_string(); })) {
      out.error = refusal("InvalidRequestFormat", "events must be an array of strings");
      return out;
    }
    for (const auto& v : *e) events.push_back(v.get<std::string>());
  }
  const bool internal = std::find(external_names_.begin(), external_names_.end(), name) == external_names_.end();
  for (const auto& e : events) {
    if (e == "INVOKE" || (e == "SHUTDOWN" && !internal)) continue;
    out.error = refusal("Extension.InvalidEventType",
                        fmt::format("{}: {}", e,
                                    e == "SHUTDOWN" ? "ShutdownEventNotSupportedForInternalExtension"
                                                    : "ErrorInvalidEventType"));
    return out;
  }
  const auto same = std::find_if(list_.begin(), list_.end(), [&](const Extension& x) { return x.name == name; });
  if (!internal && same != list_.end()) {
    // An external extension registers once; its second call is a refused state change.
    out.error = transition_refused(same->state, "Registered", name);
    return out;
  }
  if (internal) {
    if (!open_) {
      out.error = refusal("Extension.RegistrationClosed", "Extension registration closed already");
      return out;
    }
    if (list_.size() >= kMaxExtensions) {
      out.error = refusal("Extension.TooManyExtensions", fmt::format("Extension limit ({}) reached", kMaxExtensions));
      return out;
    }
    if (same != list_.end()) {
      out.error = refusal("Extension.InvalidExtensionState", "Extension with this name already registered");
      return out;
    }
  }
  Extension x;
  x.id = canonical_uuid(new_id_());
  x.name = std::string(name);
  x.internal = internal;
  x.events = events;
  x.invoke = std::find(events.begin(), events.end(), "INVOKE") != events.end();
  x.shutdown = std::find(events.begin(), events.end(), "SHUTDOWN") != events.end();
  list_.push_back(std::move(x));
  was_ready_ = false;
  if (on_registered_) on_registered_(list_.back().name, list_.back().events);
  nlohmann::ordered_json reply = {
      {"functionName", function_.name}, {"functionVersion", function_.version}, {"handler", function_.handler}};
  if (account_id) reply["accountId"] = function_.account_id;
  out.registered = Registered{list_.back().id, reply.dump()};
  if (!internal && externals_registered() && on_externals_) on_externals_();
  return out;
}

Extensions::Identified Extensions::identify(std::optional<std::string_view> header) const {
  Identified out;
  if (!header || header->empty()) {
    out.error = refusal("Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header");
    return out;
  }
  out.id = canonical_uuid(*header);
  if (out.id.empty()) out.error = refusal("Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier");
  return out;
}

std::string Extensions::name_of(const std::string& id) const {
  auto it = std::find_if(list_.begin(), list_.end(), [&](const Extension& x) { return x.id == id; });
  return it == list_.end() ? std::string() : it->name;
}

Extensions::Extension* Extensions::find(const std::string& id) {
  auto it = std::find_if(list_.begin(), list_.end(), [&](const Extension& x) { return x.id == id; });
  return it == list_.end() ? nullptr : &*it;
}

std::optional<ExtensionError> Extensions::next(const std::string& id, Deliver deliver) {
  Extension* x = find(id);
  if (x == nullptr) return refusal("Extension.UnknownExtensionIdentifier", "Unknown extension " + id);
  if (x->state != State::kRegistered && x->state != State::kRunning) return transition_refused(x->state, "Ready", id);
  x->state = State::kReady;
  if (!shutdown_event_.empty() && x->shutdown) {
    x->state = State::kRunning;
    deliver(shutdown_event_);
    return std::nullopt;
  }
  x->waiting = std::move(deliver);
  check_ready();
  return std::nullopt;
}

std::optional<ExtensionError> Extensions::report_error(const std::string& id,
                                                       std::optional<std::string_view> error_type, State to,
                                                       const char* fatal) {
  if (!error_type || error_type->empty()) {
    return refusal("Extension.MissingHeader", "Lambda-Extension-Function-Error-Type not found");
  }
  Extension* x = find(id);
  if (x == nullptr) return refusal("Extension.UnknownExtensionIdentifier", "Unknown Lambda-Extension-Identifier");
  if (x->state == to) return std::nullopt;  // again: only the first error counts
  // /init/error only before the extension's first /event/next; /exit/error from any live state.
  const bool allowed = to == State::kInitError ? x->state == State::kRegistered : x->state != State::kInitError;
  if (!allowed) return transition_refused(x->state, state_name(to), id);
  x->state = to;
  x->error_type = std::string(*error_type);
  x->waiting = nullptr;
  if (fatal_.empty()) {
    fatal_ = fatal;
    if (on_fatal_) on_fatal_();
  }
  return std::nullopt;
}

std::optional<ExtensionError> Extensions::init_error(const std::string& id, std::optional<std::string_view> error_type) {
  return report_error(id, error_type, State::kInitError, "Extension.InitError");
}

std::optional<ExtensionError> Extensions::exit_error(const std::string& id, std::optional<std::string_view> error_type) {
  return report_error(id, error_type, State::kExitError, "Extension.ExitError");
}

bool Extensions::externals_registered() const {
  return std::all_of(external_names_.begin(), external_names_.end(), [&](const std::string& name) {
    return std::any_of(list_.begin(), list_.end(), [&](const Extension& x) { return !x.internal && x.name == name; });
  });
}

bool Extensions::ready() const {
  return std::all_of(list_.begin(), list_.end(), [](const Extension& x) { return x.state == State::kReady; });
}

void Extensions::check_ready() {
  if (was_ready_ || !ready()) return;
  was_ready_ = true;
  if (on_ready_) on_ready_();
}

void Extensions::invoke(const ExtensionInvoke& event) {
  nlohmann::ordered_json j = {{"eventType", "INVOKE"},
                              {"deadlineMs", event.deadline_ms},
                              {"requestId", event.request_id},
                              {"invokedFunctionArn", event.invoked_function_arn}};
  if (!event.trace_id.empty()) j["tracing"] = {{"type", "X-Amzn-Trace-Id"}, {"value", event.trace_id}};
  const std::string text = j.dump();
  std::vector<Deliver> deliveries;
  for (auto& x : list_) {
    if (!x.invoke || x.state != State::kReady || !x.waiting) continue;
    x.state = State::kRunning;
    deliveries.push_back(std::move(x.waiting));
    x.waiting = nullptr;
    was_ready_ = false;
  }
  for (auto& d : deliveries) d(text);
}

bool Extensions::shutdown(std::string_view reason, std::int64_t deadline_ms) {
  nlohmann::ordered_json j = {{"eventType", "SHUTDOWN"}, {"deadlineMs", deadline_ms}, {"shutdownReason", reason}};
  shutdown_event_ = j.dump();
  bool any = false;
  std::vector<Deliver> deliveries;
  for (auto& x : list_) {
    if (!x.shutdown) continue;
    any = true;
    if (x.state != State::kReady || !x.waiting) continue;  // told at its next /event/next
    x.state = State::kRunning;
    deliveries.push_back(std::move(x.waiting));
    x.waiting = nullptr;
  }
  for (auto& d : deliveries) d(shutdown_event_);
  return any;
}

void Extensions::cancel() {
  for (auto& x : list_) x.waiting = nullptr;
  on_ready_ = nullptr;
  on_fatal_ = nullptr;
  on_externals_ = nullptr;
}

std::vector<Extensions::Info> Extensions::describe() const {
  std::vector<Info> out;
  for (const auto& x : list_) out.push_back(Info{x.name, x.internal, x.state, x.events});
  return out;
}

}  // namespace lambdad::sandbox
