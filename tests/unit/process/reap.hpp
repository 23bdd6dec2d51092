// Process unit tests: bounded reaping of a child the test started, so a test that went wrong fails
// instead of waiting forever.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <optional>

namespace lambdad::process {

// Reaps `pid`, a child of ours: its wait status if it exits within `limit`; otherwise it is killed
// (and reaped all the same) and the answer is nullopt.
inline std::optional<int> reap_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  do {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    ::usleep(10000);
  } while (std::chrono::steady_clock::now() < deadline);
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return std::nullopt;
}

}  // namespace lambdad::process
