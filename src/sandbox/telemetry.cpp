// The Telemetry and Logs APIs of one environment (docs/decisions/025, lambda-spec §2.5).
#include "lambdad/sandbox/telemetry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <ctime>

namespace lambdad::sandbox {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view kSchemas[] = {"2022-07-01", "2022-12-13", "2025-01-29"};
// A batch that failed is tried again this many times (its subscriber may not listen yet: it
// subscribed before its server was up), then dropped and reported as dropped.
constexpr int kAttempts = 3;

TelemetryReply validation_error(const std::string& message) {
  return TelemetryReply{400, ojson{{"errorMessage", message}, {"errorType", "ValidationError"}}.dump()};
}

std::string_view api_name(TelemetryApi api) { return api == TelemetryApi::kLogs ? "Logs" : "Telemetry"; }

// http://HOST[:PORT][/PATH], HOST a name of the environment's own address (sandbox.localdomain,
// sandbox, localhost) or a loopback address: a subscriber listens inside its environment.
std::optional<TelemetryDestination> parse_uri(const std::string& uri, std::string& why) {
  constexpr std::string_view scheme = "http://";
  if (!uri.starts_with(scheme)) {
    why = "destination.URI must be an http:// URI";
    return std::nullopt;
  }
  std::string_view rest = std::string_view(uri).substr(scheme.size());
  TelemetryDestination d;
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  d.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const auto colon = authority.rfind(':');
  d.host = std::string(authority.substr(0, colon));
  d.port = 80;
  if (colon != std::string_view::npos) {
    auto p = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc{} || end != p.data() + p.size() || value == 0 || value > 65535) {
      why = "destination.URI has an invalid port";
      return std::nullopt;
    }
    d.port = static_cast<std::uint16_t>(value);
  }
  std::transform(d.host.begin(), d.host.end(), d.host.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool local = d.host == "sandbox.localdomain" || d.host == "sandbox" || d.host == "localhost" ||
                     d.host.starts_with("127.");
  if (!local) {
    why = "destination.URI must name the execution environment (http://sandbox.localdomain:PORT)";
    return std::nullopt;
  }
  return d;
}

}  // namespace

struct Telemetry::Subscription {
  TelemetryApi api = TelemetryApi::kTelemetry;
  std::string name;    // the extension's
  std::string schema;  // Telemetry API only
  bool platform = false, function = false, extension = false;
  std::size_t max_items = 0, max_bytes = 0;
  std::chrono::milliseconds timeout{0};
  TelemetryDestination destination;
  std::deque<std::string> queue;  // rendered events, not yet sent
  std::size_t queue_bytes = 0;
  bool in_flight = false;
  int attempts = 0;  // of the batch in flight
  std::unique_ptr<Timer> timer;
  bool timer_armed = false;
  std::uint64_t dropped_records = 0;
  std::uint64_t dropped_bytes = 0;
  // What the batch in flight reported as dropped: counted again if it does not arrive.
  std::uint64_t reported_records = 0;
  std::uint64_t reported_bytes = 0;
  bool wants(TelemetryStream s) const {
    return s == TelemetryStream::kPlatform ? platform : s == TelemetryStream::kFunction ? function : extension;
  }
};

Telemetry::Telemetry(const Clock& clock, Timers& timers, TelemetryTransport* transport, bool function_logs_json,
                     std::string sandbox_address)
    : clock_(clock),
      timers_(timers),
      transport_(transport),
      function_logs_json_(function_logs_json),
      sandbox_address_(std::move(sandbox_address)) {}

Telemetry::~Telemetry() { lifetime_.end(); }

std::string Telemetry::timestamp(std::int64_t epoch_ms) {
  const std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, epoch_ms % 1000);
}

TelemetryReply Telemetry::subscribe(TelemetryApi api, const std::string& extension, std::string_view body) {
  if (!open_) {
    const auto name = api_name(api);
    return TelemetryReply{403, ojson{{"errorMessage", fmt::format("{} API subscription is closed", name)},
                                     {"errorType", fmt::format("{}.SubscriptionClosed", name)}}
                                   .dump()};
  }
  json req = json::parse(body, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return validation_error("The request body is not a JSON object");
  auto sub = std::make_shared<Subscription>();
  sub->api = api;
  sub->name = extension;
  if (api == TelemetryApi::kTelemetry) {
    auto v = req.find("schemaVersion");
    if (v == req.end() || !v->is_string()) return validation_error("schemaVersion is required");
    sub->schema = v->get<std::string>();
    if (std::find(std::begin(kSchemas), std::end(kSchemas), sub->schema) == std::end(kSchemas)) {
      return validation_error(fmt::format("schemaVersion {} is not supported (2022-07-01, 2022-12-13, 2025-01-29)",
                                          sub->schema));
    }
  }
  auto types = req.find("types");
  if (types == req.end() || !types->is_array() || types->empty()) {
    return validation_error("types must be a non-empty array of \"platform\", \"function\", \"extension\"");
  }
  std::vector<std::string> type_names;
  for (const auto& t : *types) {
    const std::string s = t.is_string() ? t.get<std::string>() : t.dump();
    if (s == "platform") {
      sub->platform = true;
    } else if (s == "function") {
      sub->function = true;
    } else if (s == "extension") {
      sub->extension = true;
    } else {
      return validation_error(fmt::format("types: {} is not one of \"platform\", \"function\", \"extension\"", s));
    }
    type_names.push_back(s);
  }
  auto dest = req.find("destination");
  if (dest == req.end() || !dest->is_object()) return validation_error("destination is required");
  const std::string protocol = dest->value("protocol", "");
  std::optional<TelemetryDestination> d;
  if (protocol == "HTTP") {
    auto uri = dest->find("URI");
    if (uri == dest->end() || !uri->is_string()) return validation_error("destination.URI is required");
    std::string why;
    d = parse_uri(uri->get<std::string>(), why);
    if (!d) return validation_error(why);
  } else if (protocol == "TCP") {
    // {"protocol":"TCP","port":N}: the subscriber listens on sandbox.localdomain:N.
    auto port = dest->find("port");
    if (port == dest->end() || !port->is_number_integer() || port->get<long long>() < 1 ||
        port->get<long long>() > 65535) {
      return validation_error("destination.port must be an integer between 1 and 65535");
    }
    d = TelemetryDestination{TelemetryDestination::Protocol::kTcp, "sandbox.localdomain",
                             static_cast<std::uint16_t>(port->get<long long>()), ""};
  } else {
    return validation_error("destination.protocol must be HTTP or TCP");
  }
  // The names of the environment's own address, as its /etc/hosts has them.
  if (d->host == "sandbox.localdomain" || d->host == "sandbox") d->host = sandbox_address_;
  if (d->host == "localhost") d->host = "127.0.0.1";
  sub->destination = std::move(*d);

  sub->max_items = limits_.default_items;
  sub->max_bytes = limits_.default_bytes;
  long long timeout = limits_.default_timeout_ms;
  if (auto b = req.find("buffering"); b != req.end() && !b->is_null()) {
    if (!b->is_object()) return validation_error("buffering must be an object");
    auto field = [&](const char* name, long long lo, long long hi, long long& out) -> std::optional<TelemetryReply> {
      auto f = b->find(name);
      if (f == b->end() || f->is_null()) return std::nullopt;
      if (!f->is_number_integer() || f->get<long long>() < lo || f->get<long long>() > hi) {
        return validation_error(fmt::format("buffering.{} must be an integer between {} and {}", name, lo, hi));
      }
      out = f->get<long long>();
      return std::nullopt;
    };
    long long items = static_cast<long long>(sub->max_items), bytes = static_cast<long long>(sub->max_bytes);
    if (auto e = field("maxItems", static_cast<long long>(limits_.min_items), static_cast<long long>(limits_.max_items), items)) return *e;
    if (auto e = field("maxBytes", static_cast<long long>(limits_.min_bytes), static_cast<long long>(limits_.max_bytes), bytes)) return *e;
    if (auto e = field("timeoutMs", limits_.min_timeout_ms, limits_.max_timeout_ms, timeout)) return *e;
    sub->max_items = static_cast<std::size_t>(items);
    sub->max_bytes = static_cast<std::size_t>(bytes);
  }
  sub->timeout = std::chrono::milliseconds(timeout);
  sub->timer = timers_.make_timer();

  // Replaces the extension's earlier subscription on this API.
  subscriptions_.erase(std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                                      [&](const auto& s) { return s->api == api && s->name == extension; }),
                       subscriptions_.end());
  Subscription& added = *subscriptions_.emplace_back(std::move(sub));
  // What happened since the environment started, then the subscription itself.
  for (const auto& event : kept_) deliver(added, event);
  if (kept_dropped_ > 0) {
    added.dropped_records += kept_dropped_;
    added.dropped_bytes += kept_dropped_bytes_;
  }
  ojson types_json = ojson::array();
  for (const auto& t : type_names) types_json.push_back(t);
  const bool logs = api == TelemetryApi::kLogs;
  platform(logs ? "platform.logsSubscription" : "platform.telemetrySubscription",
           ojson{{"name", extension}, {"state", "Subscribed"}, {"types", types_json}});
  return TelemetryReply{200, "OK"};
}

void Telemetry::platform(std::string_view type, ojson record) {
  if (!wanted()) return;
  Event e;
  e.time_ms = clock_.epoch_ms();
  e.stream = TelemetryStream::kPlatform;
  e.type = std::string(type);
  e.record = std::move(record);
  distribute(std::move(e));
}

void Telemetry::log_line(TelemetryStream stream, std::string_view line) {
  if (!wanted()) return;
  Event e;
  e.time_ms = clock_.epoch_ms();
  e.stream = stream;
  e.line = std::string(line);
  distribute(std::move(e));
}

void Telemetry::distribute(Event event) {
  for (auto& sub : subscriptions_) deliver(*sub, event);
  if (!keeping_) return;
  const std::size_t size = event.line.size() + event.type.size() + 64;
  if (kept_.size() >= limits_.default_items || kept_bytes_ + size > limits_.default_bytes) {
    ++kept_dropped_;
    kept_dropped_bytes_ += size;
    return;
  }
  kept_bytes_ += size;
  kept_.push_back(std::move(event));
}

void Telemetry::close_subscriptions() {
  open_ = false;
  keeping_ = false;
  kept_.clear();
  kept_.shrink_to_fit();
}

std::optional<std::string> Telemetry::render(const Subscription& sub, const Event& e) const {
  if (!sub.wants(e.stream)) return std::nullopt;
  ojson out;
  out["time"] = timestamp(e.time_ms);
  if (e.stream != TelemetryStream::kPlatform) {
    out["type"] = e.stream == TelemetryStream::kFunction ? "function" : "extension";
    // Schema 2022-12-13 and later deliver a JSON-format function's log line as its object.
    if (sub.api == TelemetryApi::kTelemetry && sub.schema != "2022-07-01" && function_logs_json_ &&
        e.stream == TelemetryStream::kFunction && !e.line.empty() && e.line.front() == '{') {
      auto parsed = ojson::parse(e.line, nullptr, false);
      if (!parsed.is_discarded() && parsed.is_object()) {
        out["record"] = std::move(parsed);
        return out.dump();
      }
    }
    out["record"] = e.line;
    return out.dump();
  }
  if (sub.api == TelemetryApi::kTelemetry) {
    if (e.type == "platform.fault" || e.type == "platform.logsSubscription") return std::nullopt;
    out["type"] = e.type;
    out["record"] = e.record;
    return out.dump();
  }
  // The Logs API's older shapes: START, END and REPORT, extensions, its own subscriptions, faults.
  if (e.type == "platform.start") {
    out["type"] = e.type;
    out["record"] = ojson{{"requestId", e.record.value("requestId", "")}, {"version", e.record.value("version", "")}};
  } else if (e.type == "platform.runtimeDone") {
    out["type"] = "platform.end";
    out["record"] = ojson{{"requestId", e.record.value("requestId", "")}};
  } else if (e.type == "platform.report") {
    out["type"] = e.type;
    ojson record{{"requestId", e.record.value("requestId", "")}};
    if (e.record.contains("metrics")) record["metrics"] = e.record["metrics"];
    out["record"] = std::move(record);
  } else if (e.type == "platform.extension" || e.type == "platform.logsSubscription" ||
             e.type == "platform.fault" || e.type == "platform.logsDropped") {
    out["type"] = e.type;
    out["record"] = e.record;
  } else {
    return std::nullopt;  // init and restore events, telemetrySubscription: not in the Logs API
  }
  return out.dump();
}

void Telemetry::deliver(Subscription& sub, const Event& event) {
  auto item = render(sub, event);
  if (item) enqueue(sub, std::move(*item));
}

void Telemetry::enqueue(Subscription& sub, std::string item) {
  // One batch may wait while one is on its way; beyond that, the subscriber is too slow.
  if (sub.queue.size() >= sub.max_items || sub.queue_bytes + item.size() > sub.max_bytes) {
    ++sub.dropped_records;
    sub.dropped_bytes += item.size();
    return;
  }
  sub.queue_bytes += item.size();
  sub.queue.push_back(std::move(item));
  const bool full = sub.queue.size() >= sub.max_items || sub.queue_bytes >= sub.max_bytes;
  if (sub.in_flight) return;
  if (full) return send(sub);
  arm_batch(sub);
}

void Telemetry::arm_batch(Subscription& sub) {
  if (sub.timer_armed) return;
  sub.timer_armed = true;
  sub.timer->arm(clock_.now() + sub.timeout, lifetime_.guard([this, s = &sub] {
    s->timer_armed = false;
    send(*s);
  }));
}

void Telemetry::flush() {
  for (auto& sub : subscriptions_) {
    if (!sub->in_flight) send(*sub);
  }
}

void Telemetry::send(Subscription& sub) {
  if (sub.in_flight || (sub.queue.empty() && sub.dropped_records == 0)) return;
  sub.timer->cancel();
  sub.timer_armed = false;
  std::vector<std::string> batch;
  if (sub.dropped_records > 0 && sub.platform) {
    ojson dropped{{"time", timestamp(clock_.epoch_ms())},
                  {"type", "platform.logsDropped"},
                  {"record",
                   {{"droppedBytes", sub.dropped_bytes},
                    {"droppedRecords", sub.dropped_records},
                    {"reason", "Some logs were dropped because the downstream consumer is slower than the logs "
                               "production rate"}}}};
    batch.push_back(dropped.dump());
  }
  sub.reported_records = sub.platform ? sub.dropped_records : 0;
  sub.reported_bytes = sub.platform ? sub.dropped_bytes : 0;
  if (sub.platform) {
    sub.dropped_records = 0;
    sub.dropped_bytes = 0;
  }
  std::size_t bytes = 0;
  while (!sub.queue.empty() && batch.size() < sub.max_items && bytes + sub.queue.front().size() <= sub.max_bytes) {
    bytes += sub.queue.front().size();
    sub.queue_bytes -= sub.queue.front().size();
    batch.push_back(std::move(sub.queue.front()));
    sub.queue.pop_front();
  }
  if (batch.empty()) return;
  std::weak_ptr<Subscription> weak;
  for (const auto& s : subscriptions_) {
    if (s.get() == &sub) weak = s;
  }
  // HTTP: a JSON array; TCP: newline-delimited JSON.
  const bool tcp = sub.destination.protocol == TelemetryDestination::Protocol::kTcp;
  std::string body = tcp ? "" : "[";
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i > 0 && !tcp) body += ',';
    body += batch[i];
    if (tcp) body += '\n';
  }
  if (!tcp) body += ']';
  sub.in_flight = true;
  if (transport_ == nullptr) {
    sub.timer->arm(clock_.now(), lifetime_.guard([this, weak, batch = std::move(batch)]() mutable {
      if (auto s = weak.lock()) sent(*s, std::move(batch), false);
    }));
    return;
  }
  transport_->post(sub.destination, std::move(body),
                  lifetime_.guard([this, weak, batch = std::move(batch)](bool ok) mutable {
                    if (auto s = weak.lock()) sent(*s, std::move(batch), ok);  // not if it was replaced
                  }));
}

void Telemetry::sent(Subscription& sub, std::vector<std::string> batch, bool ok) {
  sub.in_flight = false;
  if (!ok) {  // its report of what was dropped did not arrive either
    sub.dropped_records += sub.reported_records;
    sub.dropped_bytes += sub.reported_bytes;
    if (sub.reported_records > 0) batch.erase(batch.begin());
  }
  sub.reported_records = 0;
  sub.reported_bytes = 0;
  if (ok) {
    sub.attempts = 0;
  } else if (++sub.attempts < kAttempts) {
    // Again, first, once its timeout has passed (the subscriber's server may not be up yet).
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      sub.queue_bytes += it->size();
      sub.queue.push_front(std::move(*it));
    }
  } else {
    sub.attempts = 0;
    for (const auto& item : batch) {
      ++sub.dropped_records;
      sub.dropped_bytes += item.size();
    }
  }
  if (sub.queue.empty() && sub.dropped_records == 0) return;
  const bool full = sub.queue.size() >= sub.max_items || sub.queue_bytes >= sub.max_bytes;
  if (full && ok) return send(sub);
  arm_batch(sub);
}

}  // namespace lambdad::sandbox
