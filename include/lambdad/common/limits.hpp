// common: Lambda's size and time limits (lambda-spec §7).
#pragma once

#include <cstddef>

namespace lambdad::limits {

inline constexpr std::size_t kSyncRequestPayload = 6291456;   // 6 MB, Invoke request body
inline constexpr std::size_t kBufferedResponse = 6291556;     // 6 MiB + 100, runtime /response
inline constexpr std::size_t kRuntimeErrorBody = 6291556;     // /error and /init/error bodies
inline constexpr int kDefaultMemoryMb = 128;
inline constexpr int kDefaultTimeoutSeconds = 3;
inline constexpr int kMinMemoryMb = 128;
inline constexpr int kMaxMemoryMb = 10240;
inline constexpr int kMinTimeoutSeconds = 1;
inline constexpr int kMaxTimeoutSeconds = 900;
inline constexpr int kMaxLayers = 5;
inline constexpr int kInitTimeoutSeconds = 10;

}  // namespace lambdad::limits
