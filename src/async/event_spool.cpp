#include "lambdad/async/event_spool.hpp"

#include <algorithm>
#include <cstdio>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lambdad/common/base64.hpp"
#include "lambdad/common/error_types.hpp"
#include "posix_file.hpp"

namespace lambdad::async {
namespace {

constexpr int kFormat = 1;
constexpr std::string_view kEventSuffix = ".event";
constexpr std::string_view kTempSuffix = ".tmp";
constexpr std::string_view kCorruptSuffix = ".corrupt";
constexpr std::size_t kOpenDrafts = 64;  // files put_all writes before it fsyncs them

Error bad_event(std::string message) {
  return Error{ErrorKind::kInvalidInput, std::string(error_types::kServiceException), std::move(message)};
}

// Request ids become file names: only what a UUID (or a client's own id) is made of.
bool is_safe_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

nlohmann::ordered_json header_of(const SpooledEvent& e) {
  nlohmann::ordered_json h = {{"format", kFormat},
                              {"requestId", e.request_id},
                              {"functionName", e.function_name},
                              {"qualifier", e.qualifier},
                              {"version", e.version},
                              {"invokedFunctionArn", e.invoked_function_arn},
                              {"traceId", e.trace_id},
                              {"receivedEpochMs", e.received_epoch_ms},
                              {"attempts", e.attempts},
                              {"nextAttemptEpochMs", e.next_attempt_epoch_ms},
                              {"payloadBytes", e.payload.size()}};
  // The client context is arbitrary decoded bytes; base64 keeps the header valid JSON.
  if (e.client_context) h["clientContext"] = base64::encode(*e.client_context);
  if (e.tenant_id) h["tenantId"] = *e.tenant_id;
  if (e.last_response) {
    h["responseBytes"] = e.last_response->payload.size();
    h["responseVersion"] = e.last_response->executed_version;
  }
  return h;
}

Result<SpooledEvent> event_from_header(const nlohmann::json& h) {
  SpooledEvent e;
  try {
    if (h.at("format").get<int>() != kFormat) return bad_event("unknown spool format");
    e.request_id = h.at("requestId").get<std::string>();
    e.function_name = h.at("functionName").get<std::string>();
    e.qualifier = h.at("qualifier").get<std::string>();
    e.version = h.at("version").get<std::string>();
    e.invoked_function_arn = h.at("invokedFunctionArn").get<std::string>();
    e.trace_id = h.at("traceId").get<std::string>();
    e.received_epoch_ms = h.at("receivedEpochMs").get<std::int64_t>();
    e.attempts = h.at("attempts").get<int>();
    e.next_attempt_epoch_ms = h.at("nextAttemptEpochMs").get<std::int64_t>();
    if (h.contains("clientContext")) {
      auto decoded = base64::decode(h.at("clientContext").get<std::string>());
      if (!decoded) return bad_event("clientContext is not base64");
      e.client_context = std::move(*decoded);
    }
    if (h.contains("tenantId")) e.tenant_id = h.at("tenantId").get<std::string>();
    if (h.contains("responseVersion")) {
      e.last_response = AttemptResponse{{}, h.at("responseVersion").get<std::string>()};
    }
  } catch (const nlohmann::json::exception& ex) {
    return bad_event(fmt::format("bad header: {}", ex.what()));
  }
  if (!is_safe_id(e.request_id)) return bad_event("bad request id");
  return e;
}

}  // namespace

std::string encode(const SpooledEvent& event) {
  // dump() escapes every control character, so the header is exactly one line.
  std::string out = header_of(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.push_back('\n');
  out.append(event.payload);
  if (event.last_response) out.append(event.last_response->payload);
  return out;
}

Result<SpooledEvent> decode(std::string_view bytes) {
  const auto newline = bytes.find('\n');
  if (newline == std::string_view::npos) return bad_event("no header line");
  const auto header = nlohmann::json::parse(bytes.substr(0, newline), nullptr, false);
  if (header.is_discarded() || !header.is_object()) return bad_event("the header is not a JSON object");
  auto event = event_from_header(header);
  if (!event) return event;
  const auto payload_bytes = header.value("payloadBytes", std::uint64_t{0});
  const auto response_bytes = header.value("responseBytes", std::uint64_t{0});
  const std::string_view body = bytes.substr(newline + 1);
  if (payload_bytes + response_bytes != body.size()) {
    return bad_event(fmt::format("{} bytes after the header, expected {}", body.size(), payload_bytes + response_bytes));
  }
  event->payload.assign(body.substr(0, payload_bytes));
  if (event->last_response) event->last_response->payload.assign(body.substr(payload_bytes));
  return event;
}

EventSpool::EventSpool(std::filesystem::path dir, bool durable) : dir_(std::move(dir)), durable_(durable) {}

std::filesystem::path EventSpool::path_of(const std::string& request_id) const {
  return dir_ / (request_id + std::string(kEventSuffix));
}

Status EventSpool::replace(const SpooledEvent& event) const {
  if (!is_safe_id(event.request_id)) return bad_event(fmt::format("request id {} cannot name a file", event.request_id));
  const auto final_path = path_of(event.request_id);
  auto temp_path = final_path;
  temp_path.replace_extension(kTempSuffix);
  auto written = posix::write_file(temp_path, encode(event), durable_);
  if (!written) {
    std::error_code ec;
    std::filesystem::remove(temp_path, ec);
    return written;
  }
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    auto failed = posix::os_error("cannot rename to", final_path);
    std::error_code ec;
    std::filesystem::remove(temp_path, ec);
    return failed;
  }
  return Ok{};
}

Status EventSpool::sync_directory() const {
  if (!durable_) return Ok{};
  return posix::sync_directory(dir_);
}

Status EventSpool::put(const SpooledEvent& event) const { return put_all({&event}).statuses.at(0); }

SpoolPuts EventSpool::put_all(const std::vector<const SpooledEvent*>& events) const {
  struct Draft {
    posix::Fd fd;
    std::filesystem::path temp;
    std::size_t index = 0;
  };
  SpoolPuts out;
  out.statuses.assign(events.size(), Ok{});
  std::vector<std::size_t> placed;
  // In groups, so that a large batch never holds more than kOpenDrafts descriptors.
  for (std::size_t first = 0; first < events.size(); first += kOpenDrafts) {
    std::vector<Draft> drafts;
    for (std::size_t i = first; i < std::min(events.size(), first + kOpenDrafts); ++i) {
      const SpooledEvent& event = *events[i];
      if (!is_safe_id(event.request_id)) {
        out.statuses[i] = bad_event(fmt::format("request id {} cannot name a file", event.request_id));
        continue;
      }
      auto temp = path_of(event.request_id);
      temp.replace_extension(kTempSuffix);
      auto fd = posix::write_file_open(temp, encode(event), durable_);
      if (!fd) {
        std::error_code ec;
        std::filesystem::remove(temp, ec);
        out.statuses[i] = fd.error();
        continue;
      }
      drafts.push_back(Draft{std::move(fd).value(), std::move(temp), i});
    }
    for (auto& d : drafts) {
      const auto final_path = path_of(events[d.index]->request_id);
      Status st = durable_ ? posix::sync_file(d.fd, d.temp) : Status(Ok{});
      if (st && ::rename(d.temp.c_str(), final_path.c_str()) != 0) st = posix::os_error("cannot rename to", final_path);
      if (!st) {
        std::error_code ec;
        std::filesystem::remove(d.temp, ec);
        out.statuses[d.index] = std::move(st);
        continue;
      }
      placed.push_back(d.index);
    }
  }
  if (!placed.empty() && durable_) {
    out.directory_synced = true;
    // Renamed into place, but not known to be durable: refused. The next start may still find
    // such a file and run it, as after a kill between the rename and the 202.
    if (auto st = posix::sync_directory(dir_); !st) {
      for (auto i : placed) out.statuses[i] = st;
    }
  }
  return out;
}

void EventSpool::remove(const std::string& request_id) const {
  if (!is_safe_id(request_id)) return;
  std::error_code ec;
  std::filesystem::remove(path_of(request_id), ec);
}

SpoolLoad EventSpool::load() const {
  SpoolLoad out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const auto& path = entry.path();
    const std::string ext = path.extension().string();
    if (ext == kTempSuffix) {
      // A write that was never renamed into place was never acknowledged with a 202.
      std::error_code rm;
      std::filesystem::remove(path, rm);
      continue;
    }
    if (ext != kEventSuffix) continue;
    auto bytes = posix::read_file(path);
    Result<SpooledEvent> event = bytes ? decode(*bytes) : Result<SpooledEvent>(bytes.error());
    if (event && event->request_id != path.stem().string()) event = bad_event("the file name is not its request id");
    if (!event) {
      auto aside = path;
      aside += std::string(kCorruptSuffix);
      std::error_code mv;
      std::filesystem::rename(path, aside, mv);
      out.problems.push_back(fmt::format("{}: {}; set aside as {}", path.string(), event.error().message, aside.string()));
      continue;
    }
    out.events.push_back(std::move(event).value());
  }
  if (ec) out.problems.push_back(fmt::format("cannot list {}: {}", dir_.string(), ec.message()));
  std::sort(out.events.begin(), out.events.end(), [](const SpooledEvent& a, const SpooledEvent& b) {
    return a.received_epoch_ms != b.received_epoch_ms ? a.received_epoch_ms < b.received_epoch_ms
                                                      : a.request_id < b.request_id;
  });
  return out;
}

}  // namespace lambdad::async
