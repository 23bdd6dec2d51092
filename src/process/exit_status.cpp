// ExitStatus::describe(): the words Go's os/exec uses ("exit status 2", "signal: killed"), which
// is what Lambda prints in Runtime.ExitError messages.
#include <array>
#include <string>
#include <string_view>

#include "lambdad/process/child_process.hpp"

namespace lambdad::process {
namespace {

// Go's Linux signal table (syscall.Signal.String()). A fixed table rather than strsignal(),
// which depends on the locale and is not thread-safe.
constexpr std::array<std::string_view, 32> kSignalNames = {
    "",
    "hangup",
    "interrupt",
    "quit",
    "illegal instruction",
    "trace/breakpoint trap",
    "aborted",
    "bus error",
    "floating point exception",
    "killed",
    "user defined signal 1",
    "segmentation fault",
    "user defined signal 2",
    "broken pipe",
    "alarm clock",
    "terminated",
    "stack fault",
    "child exited",
    "continued",
    "stopped (signal)",
    "stopped",
    "stopped (tty input)",
    "stopped (tty output)",
    "urgent I/O condition",
    "CPU time limit exceeded",
    "file size limit exceeded",
    "virtual timer expired",
    "profiling timer expired",
    "window changed",
    "I/O possible",
    "power failure",
    "bad system call",
};

}  // namespace

std::string ExitStatus::describe() const {
  if (!signaled) return "exit status " + std::to_string(code);
  std::string out = "signal: ";
  if (code > 0 && static_cast<std::size_t>(code) < kSignalNames.size()) {
    out += kSignalNames[static_cast<std::size_t>(code)];
  } else {
    out += "signal " + std::to_string(code);  // Go's wording for real-time and unknown signals
  }
  return out;
}

}  // namespace lambdad::process
