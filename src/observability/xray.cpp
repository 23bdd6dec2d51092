// observability: the local X-Ray daemon (UDP listener, datagram parser, what was received).
#include "lambdad/observability/xray.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "lambdad/common/ids.hpp"
#include "lambdad/observability/logging.hpp"

namespace lambdad::observability {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

// The largest UDP payload; the SDKs send at most 64 KiB per datagram.
constexpr std::size_t kMaxDatagram = 65536;

std::size_t count_subsegments(const json& doc) {
  std::size_t n = 0;
  if (auto it = doc.find("subsegments"); it != doc.end() && it->is_array()) {
    for (const auto& sub : *it) n += 1 + (sub.is_object() ? count_subsegments(sub) : 0);
  }
  return n;
}

bool string_member(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

// "Root=1-...;Parent=...;Sampled=1" -> "1-..." when sampled, else empty.
std::string sampled_root(std::string_view trace_header) {
  if (ids::trace_field(trace_header, "Sampled") != "1") return {};
  return std::string(ids::trace_field(trace_header, "Root"));
}

}  // namespace

std::optional<XRayDocument> parse_xray_datagram(std::string_view datagram) {
  const auto newline = datagram.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  const json header = json::parse(datagram.substr(0, newline), nullptr, false);
  if (!header.is_object() || header.value("format", json()) != "json" || header.value("version", json()) != 1) {
    return std::nullopt;
  }
  json doc = json::parse(datagram.substr(newline + 1), nullptr, false);
  if (!doc.is_object() || !string_member(doc, "name") || !string_member(doc, "id") || !string_member(doc, "trace_id")) {
    return std::nullopt;
  }
  XRayDocument out;
  out.trace_id = doc["trace_id"].get<std::string>();
  out.name = doc["name"].get<std::string>();
  out.subsegment = doc.value("type", json()) == "subsegment";
  out.subsegments = count_subsegments(doc);
  out.document = std::move(doc);
  return out;
}

void XRayRecorder::note_trace(std::string_view trace_header, const std::string& function) {
  std::string root = sampled_root(trace_header);
  if (root.empty() || capacity_ == 0) return;
  auto [it, added] = function_by_trace_.insert_or_assign(root, function);
  if (!added) return;
  trace_order_.push_back(std::move(root));
  if (trace_order_.size() > capacity_) {
    function_by_trace_.erase(trace_order_.front());
    trace_order_.pop_front();
  }
}

void XRayRecorder::receive(std::string_view datagram) {
  auto doc = parse_xray_datagram(datagram);
  if (!doc) {
    ++malformed_;
    daemon_log()->debug("X-Ray: dropped a datagram that is not a segment document ({} bytes)", datagram.size());
    return;
  }
  ++received_;
  std::string function;
  if (auto it = function_by_trace_.find(doc->trace_id); it != function_by_trace_.end()) function = it->second;
  auto log = daemon_log();
  const std::string prefix = function.empty() ? std::string() : "[" + function + "] ";
  log->info("{}X-Ray {} {} trace {} ({} subsegments)", prefix, doc->subsegment ? "subsegment" : "segment", doc->name,
            doc->trace_id, doc->subsegments);
  if (log->should_log(spdlog::level::debug)) log->debug("{}X-Ray document: {}", prefix, doc->document.dump());
  if (capacity_ == 0) return;
  kept_.push_back(Kept{std::move(function), std::move(*doc)});
  if (kept_.size() > capacity_) kept_.pop_front();
}

json XRayRecorder::to_json(std::string_view trace_id) const {
  json segments = json::array();
  for (const auto& k : kept_) {
    if (!trace_id.empty() && k.doc.trace_id != trace_id) continue;
    segments.push_back({{"function", k.function.empty() ? json() : json(k.function)},
                        {"traceId", k.doc.trace_id},
                        {"name", k.doc.name},
                        {"type", k.doc.subsegment ? "subsegment" : "segment"},
                        {"document", k.doc.document}});
  }
  return {{"received", received_}, {"malformed", malformed_}, {"kept", kept_.size()}, {"segments", std::move(segments)}};
}

// --- the socket ---------------------------------------------------------------------------------

struct XRayListener::State : std::enable_shared_from_this<XRayListener::State> {
  explicit State(const Executor& executor) : socket(executor) {}
  asio::ip::udp::socket socket;
  asio::ip::udp::endpoint sender;
  std::array<char, kMaxDatagram> buffer{};
  XRayRecorder recorder;

  void receive_next() {
    socket.async_receive_from(asio::buffer(buffer), sender,
                              [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                if (ec == asio::error::operation_aborted || !self->socket.is_open()) return;
                                if (!ec) self->recorder.receive(std::string_view(self->buffer.data(), n));
                                self->receive_next();
                              });
  }
};

Result<std::unique_ptr<XRayListener>> XRayListener::open(const Executor& executor, std::uint16_t port) {
  auto state = std::make_shared<State>(executor);
  boost::system::error_code ec;
  const asio::ip::udp::endpoint at(asio::ip::make_address_v4("127.0.0.1"), port);
  state->socket.open(at.protocol(), ec);
  if (!ec) state->socket.bind(at, ec);
  if (ec) {
    return Error{ErrorKind::kInternal, "XRayListener", fmt::format("cannot bind UDP 127.0.0.1:{}: {}", port, ec.message())};
  }
  const std::uint16_t bound = state->socket.local_endpoint(ec).port();
  state->receive_next();
  return std::unique_ptr<XRayListener>(new XRayListener(std::move(state), bound));
}

XRayListener::~XRayListener() {
  boost::system::error_code ignored;
  state_->socket.close(ignored);
}

XRayRecorder& XRayListener::recorder() { return state_->recorder; }
const XRayRecorder& XRayListener::recorder() const { return state_->recorder; }

}  // namespace lambdad::observability
