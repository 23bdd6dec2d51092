#include "lambdad/common/ids.hpp"

#include <fmt/format.h>

#include <random>

namespace lambdad::ids {
namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
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

std::string trace_header(std::int64_t epoch_seconds) {
  return fmt::format("Root=1-{:08x}-{};Parent={};Sampled=0", epoch_seconds, hex_id(24),
                     hex_id(16));
}

}  // namespace lambdad::ids
