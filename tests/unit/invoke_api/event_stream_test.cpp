// The event-stream framing of InvokeWithResponseStream, byte for byte. Expected frames come from
// outside this code: the empty message is the AWS event-stream test suite's "empty_message"
// vector; the Lambda frames were encoded with Python (struct + binascii.crc32); the large-frame
// test checks lengths and CRCs with a bitwise CRC32 written here, not zlib's.
#include "lambdad/invoke_api/event_stream.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace lambdad::invoke_api::event_stream {
namespace {

std::string bytes(std::initializer_list<unsigned> v) {
  std::string out;
  for (unsigned b : v) out.push_back(static_cast<char>(b));
  return out;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// CRC-32/ISO-HDLC (the IEEE polynomial, reflected), one bit at a time.
std::uint32_t reference_crc32(std::string_view data) {
  std::uint32_t crc = 0xffffffffu;
  for (char c : data) {
    crc ^= static_cast<unsigned char>(c);
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(EventStreamTest, EmptyMessageMatchesTheAwsTestVector) {
  EXPECT_EQ(encode({}, ""), bytes({0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d,
                                   0x98, 0xc8, 0xff}));
}

TEST(EventStreamTest, PayloadChunkIsByteExact) {
  static constexpr char kExpected[] =
      "\x00\x00\x00\x6f\x00\x00\x00\x5a\xf5\xfe\x87\x1f"                            // prelude + CRC
      "\x0d:message-type\x07\x00\x05" "event"                                       // header 1
      "\x0b:event-type\x07\x00\x0c" "PayloadChunk"                                  // header 2
      "\x0d:content-type\x07\x00\x18" "application/octet-stream"                    // header 3
      "hello"                                                                       // payload
      "\x4f\xe0\x61\xf2";                                                           // message CRC
  static_assert(sizeof kExpected - 1 == 111);
  EXPECT_EQ(payload_chunk("hello"), std::string(kExpected, sizeof kExpected - 1));
}

TEST(EventStreamTest, InvokeCompleteIsByteExact) {
  static constexpr char kExpected[] =
      "\x00\x00\x00\x66\x00\x00\x00\x54\x1f\x56\xc8\x69"
      "\x0d:message-type\x07\x00\x05" "event"
      "\x0b:event-type\x07\x00\x0e" "InvokeComplete"
      "\x0d:content-type\x07\x00\x10" "application/json"
      "{}"
      "\xfa\xce\x25\x9a";
  static_assert(sizeof kExpected - 1 == 102);
  EXPECT_EQ(invoke_complete("{}"), std::string(kExpected, sizeof kExpected - 1));
}

TEST(EventStreamTest, LargeBinaryPayloadFramesAndChecksums) {
  std::string payload;
  for (int i = 0; i < 3 * 65536 + 7; ++i) payload.push_back(static_cast<char>(i * 31 % 256));
  const auto frame = payload_chunk(payload);
  ASSERT_GT(frame.size(), payload.size() + 16);
  const std::uint32_t total = be32(frame, 0);
  const std::uint32_t headers_len = be32(frame, 4);
  EXPECT_EQ(total, frame.size());
  EXPECT_EQ(headers_len, 90u);  // the three PayloadChunk headers
  EXPECT_EQ(be32(frame, 8), reference_crc32(std::string_view(frame).substr(0, 8)));
  EXPECT_EQ(frame.substr(12 + headers_len, payload.size()), payload);
  EXPECT_EQ(be32(frame, frame.size() - 4), reference_crc32(std::string_view(frame).substr(0, frame.size() - 4)));
}

TEST(EventStreamTest, HeadersAreWrittenInOrderAsStrings) {
  const auto frame = encode({{"a", "b"}, {":x", ""}}, "p");
  // prelude(12) | 01 'a' 07 00 01 'b' | 02 ':x' 07 00 00 | 'p' | crc(4)
  EXPECT_EQ(be32(frame, 0), 12u + 6u + 6u + 1u + 4u);
  EXPECT_EQ(be32(frame, 4), 12u);
  EXPECT_EQ(frame.substr(12, 12), std::string("\x01" "a\x07\x00\x01" "b\x02:x\x07\x00\x00", 12));
  EXPECT_EQ(frame[24], 'p');
}

}  // namespace
}  // namespace lambdad::invoke_api::event_stream
