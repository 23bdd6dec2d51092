// fuzz target: the event-stream encoder (invoke_api/event_stream.cpp). The input describes
// headers and a payload; each message is encoded, then read back by a small decoder written
// here from the format's description (not from the encoder), which checks the lengths, both
// CRC32s, and that the headers and payload come back unchanged. PayloadChunk and InvokeComplete
// events are checked the same way.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/invoke_api/event_stream.hpp"

namespace {

namespace es = lambdad::invoke_api::event_stream;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "event-stream round trip: %s\n", what);
  std::abort();
}

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit.
std::uint32_t crc32(std::string_view s) {
  std::uint32_t c = 0xffffffffu;
  for (char ch : s) {
    c ^= static_cast<std::uint8_t>(ch);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::uint32_t be32(std::string_view s, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + i])); };
  return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
}

struct Decoded {
  std::vector<es::Header> headers;
  std::string payload;
};

Decoded decode(std::string_view m) {
  if (m.size() < 16) fail("message shorter than prelude and CRC");
  const std::uint32_t total = be32(m, 0);
  const std::uint32_t headers_len = be32(m, 4);
  if (total != m.size()) fail("total length differs from the message's size");
  if (be32(m, 8) != crc32(m.substr(0, 8))) fail("prelude CRC mismatch");
  if (be32(m, total - 4) != crc32(m.substr(0, total - 4))) fail("message CRC mismatch");
  if (std::size_t(headers_len) + 16 > total) fail("headers length past the end");
  Decoded d;
  std::string_view h = m.substr(12, headers_len);
  while (!h.empty()) {
    const std::size_t name_len = std::uint8_t(h[0]);
    if (h.size() < 1 + name_len + 3) fail("truncated header");
    es::Header header;
    header.name = std::string(h.substr(1, name_len));
    if (h[1 + name_len] != 7) fail("header type is not string (7)");
    const std::size_t value_len = (std::size_t(std::uint8_t(h[2 + name_len])) << 8) | std::uint8_t(h[3 + name_len]);
    if (h.size() < 4 + name_len + value_len) fail("truncated header value");
    header.value = std::string(h.substr(4 + name_len, value_len));
    d.headers.push_back(std::move(header));
    h.remove_prefix(4 + name_len + value_len);
  }
  d.payload = std::string(m.substr(12 + headers_len, total - 16 - headers_len));
  return d;
}

// Reads the input as: a header count, then per header a name and a value (each a length byte
// pair and bytes), the rest being the payload.
struct Reader {
  std::string_view in;
  std::size_t take_len(std::size_t max) {
    if (in.size() < 2) return 0;
    const std::size_t n = ((std::size_t(std::uint8_t(in[0])) << 8) | std::uint8_t(in[1])) % (max + 1);
    in.remove_prefix(2);
    return n;
  }
  std::string take(std::size_t n) {
    n = std::min(n, in.size());
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

void expect_event(const Decoded& d, std::string_view event_type, std::string_view payload) {
  if (d.payload != payload) fail("event payload differs");
  bool found = false;
  for (const auto& h : d.headers) found = found || (h.name == ":event-type" && h.value == event_type);
  if (!found) fail("event type header missing");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r{std::string_view(reinterpret_cast<const char*>(data), size)};
  std::vector<es::Header> headers;
  const std::size_t count = r.in.empty() ? 0u : static_cast<std::size_t>(static_cast<std::uint8_t>(r.in[0]) % 8u);
  if (!r.in.empty()) r.in.remove_prefix(1);
  for (std::size_t i = 0; i < count && !r.in.empty(); ++i) {
    es::Header h;
    h.name = r.take(r.take_len(255));
    h.value = r.take(r.take_len(65535));
    headers.push_back(std::move(h));
  }
  const std::string payload(r.in);

  const Decoded d = decode(es::encode(headers, payload));
  if (d.payload != payload) fail("payload differs");
  if (d.headers.size() != headers.size()) fail("header count differs");
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (d.headers[i].name != headers[i].name || d.headers[i].value != headers[i].value) fail("header differs");
  }
  expect_event(decode(es::payload_chunk(payload)), "PayloadChunk", payload);
  expect_event(decode(es::invoke_complete(payload)), "InvokeComplete", payload);
  return 0;
}
