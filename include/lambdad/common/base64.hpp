// common: base64 (RFC 4648, with padding), for X-Amz-Log-Result and X-Amz-Client-Context.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lambdad::base64 {

std::string encode(std::string_view data);
// nullopt when `text` is not valid base64.
std::optional<std::string> decode(std::string_view text);

}  // namespace lambdad::base64
