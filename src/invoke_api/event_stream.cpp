#include "lambdad/invoke_api/event_stream.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstdlib>

namespace lambdad::invoke_api::event_stream {
namespace {

constexpr std::uint8_t kStringType = 7;
constexpr std::size_t kPreludeSize = 12;
constexpr std::size_t kCrcSize = 4;

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t crc32_of(std::string_view bytes) {
  // zlib's crc32 takes uInt lengths; messages are far below 4 GiB.
  auto crc = ::crc32(0L, Z_NULL, 0);
  crc = ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
  return static_cast<std::uint32_t>(crc);
}

}  // namespace

std::string encode(const std::vector<Header>& headers, std::string_view payload) {
  std::string encoded_headers;
  for (const auto& h : headers) {
    if (h.name.size() > 0xff || h.value.size() > 0xffff) std::abort();  // a bug: names and values are ours
    encoded_headers.push_back(static_cast<char>(h.name.size()));
    encoded_headers += h.name;
    encoded_headers.push_back(static_cast<char>(kStringType));
    put_u16(encoded_headers, static_cast<std::uint16_t>(h.value.size()));
    encoded_headers += h.value;
  }
  const std::size_t total = kPreludeSize + encoded_headers.size() + payload.size() + kCrcSize;
  std::string out;
  out.reserve(total);
  put_u32(out, static_cast<std::uint32_t>(total));
  put_u32(out, static_cast<std::uint32_t>(encoded_headers.size()));
  put_u32(out, crc32_of(out));
  out += encoded_headers;
  out.append(payload.data(), payload.size());
  put_u32(out, crc32_of(out));
  return out;
}

std::string payload_chunk(std::string_view bytes) {
  return encode({{":message-type", "event"}, {":event-type", "PayloadChunk"}, {":content-type", "application/octet-stream"}},
                bytes);
}

std::string invoke_complete(std::string_view json) {
  return encode({{":message-type", "event"}, {":event-type", "InvokeComplete"}, {":content-type", "application/json"}},
                json);
}

}  // namespace lambdad::invoke_api::event_stream
