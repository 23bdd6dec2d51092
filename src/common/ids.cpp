#include "lambdad/common/ids.hpp"

#include <fmt/format.h>

#include <cctype>
#include <optional>
#include <random>

namespace lambdad::ids {
namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

// Calls f(key, value, field) for each "key=value" field of a trace header.
template <typename F>
void for_each_trace_field(std::string_view header, F&& f) {
  while (!header.empty()) {
    const auto end = header.find(';');
    std::string_view field = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
    while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    f(field.substr(0, eq), field.substr(eq + 1), field);
  }
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::string hex_id(std::size_t chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(chars, '0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < chars; ++i) {
    if (i % 16 == 0) bits = generator()();
    out[i] = kHex[bits & 0xF];
    bits >>= 4;
  }
  return out;
}

std::string request_id() {
  std::string h = hex_id(32);
  h[12] = '4';                                           // version 4
  h[16] = "89ab"[static_cast<unsigned char>(h[16]) % 4];  // RFC 4122 variant
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4),
                     h.substr(16, 4), h.substr(20, 12));
}

std::string trace_header(std::int64_t epoch_seconds, bool sampled) {
  return fmt::format("Root=1-{:08x}-{};Parent={};Sampled={}", epoch_seconds, hex_id(24), hex_id(16),
                     sampled ? 1 : 0);
}

std::string_view trace_field(std::string_view header, std::string_view name) {
  std::optional<std::string_view> found;
  for_each_trace_field(header, [&](std::string_view key, std::string_view value, std::string_view) {
    if (!found && same_name(key, name)) found = value;
  });
  return found.value_or(std::string_view{});
}

std::string invocation_trace_header(std::string_view incoming, bool active, std::int64_t epoch_seconds) {
  const std::string_view root = trace_field(incoming, "Root");
  if (root.empty()) return trace_header(epoch_seconds, active);
  const std::string_view parent = trace_field(incoming, "Parent");
  std::string_view sampled = trace_field(incoming, "Sampled");
  if (sampled != "0" && sampled != "1") sampled = active ? "1" : "0";
  std::string out = fmt::format("Root={};Parent={};Sampled={}", root, parent.empty() ? hex_id(16) : std::string(parent),
                                sampled);
  // The caller's other fields (Lineage=..., Self=...) follow.
  for_each_trace_field(incoming, [&](std::string_view key, std::string_view, std::string_view field) {
    if (same_name(key, "Root") || same_name(key, "Parent") || same_name(key, "Sampled")) return;
    out += ';';
    out += field;
  });
  return out;
}

}  // namespace lambdad::ids
