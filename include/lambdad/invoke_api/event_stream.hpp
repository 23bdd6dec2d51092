// invoke_api: the application/vnd.amazon.eventstream framing of InvokeWithResponseStream
// (lambda-spec §3.3). A message is
//   total length u32 | headers length u32 | prelude CRC32 (of those 8 bytes)
//   headers | payload | message CRC32 (of everything before it)
// big-endian, CRC32 as in zlib; each header is name length u8 | name | type u8 (7 = string) |
// value length u16 | value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lambdad::invoke_api::event_stream {

struct Header {
  std::string name;
  std::string value;  // always the string type (7), the only one Lambda's events use
};

// One encoded message. Header names are at most 255 bytes and values at most 65535 (the format's
// field widths; longer ones are a bug and abort).
std::string encode(const std::vector<Header>& headers, std::string_view payload);

// A PayloadChunk event: the bytes as the function streamed them.
std::string payload_chunk(std::string_view bytes);

// The InvokeComplete event that ends every stream; `json` is its body
// ({"ErrorCode":...,"ErrorDetails":...,"LogResult":...}, members omitted when absent).
std::string invoke_complete(std::string_view json);

}  // namespace lambdad::invoke_api::event_stream
