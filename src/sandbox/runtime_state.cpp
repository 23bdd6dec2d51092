#include "lambdad/sandbox/runtime_state.hpp"

#include <fmt/format.h>

namespace lambdad::sandbox {

std::string_view state_name(RuntimeState s) {
  switch (s) {
    case RuntimeState::kStarted: return "Started";
    case RuntimeState::kInitError: return "InitError";
    case RuntimeState::kReady: return "Ready";
    case RuntimeState::kRunning: return "Running";
    case RuntimeState::kResponseSent: return "RuntimeResponseSentState";
    case RuntimeState::kRestoring: return "Restoring";
    case RuntimeState::kRestoreError: return "RestoreError";
  }
  return "Unknown";
}

std::string_view event_target_name(RuntimeEvent e) {
  switch (e) {
    case RuntimeEvent::kNext: return "Ready";
    case RuntimeEvent::kResponse: return "InvocationResponse";
    case RuntimeEvent::kError: return "InvocationErrorResponse";
    case RuntimeEvent::kInitError: return "InitError";
    case RuntimeEvent::kRestoreNext: return "RestoreReady";
    case RuntimeEvent::kRestoreError: return "RestoreError";
  }
  return "Unknown";
}

std::optional<RuntimeState> transition(RuntimeState from, RuntimeEvent event) {
  using S = RuntimeState;
  using E = RuntimeEvent;
  switch (from) {
    case S::kStarted:
      if (event == E::kNext) return S::kReady;
      if (event == E::kInitError) return S::kInitError;
      if (event == E::kRestoreNext) return S::kRestoring;
      return std::nullopt;
    case S::kInitError:
    case S::kRestoreError:
      return std::nullopt;
    case S::kRestoring:
      // The after-restore hooks ran: the runtime asks for its first invocation, or says they failed.
      if (event == E::kNext) return S::kReady;
      if (event == E::kRestoreError) return S::kRestoreError;
      return std::nullopt;
    case S::kReady:
      // A new /next while one is parked replaces it (a runtime client that lost its connection
      // and retried); see docs/decisions/002-runtime-api-state-machine.md.
      if (event == E::kNext) return S::kReady;
      return std::nullopt;
    case S::kRunning:
      // /next while running re-delivers the same invocation, as Lambda's emulator does.
      if (event == E::kNext) return S::kRunning;
      if (event == E::kResponse || event == E::kError) return S::kResponseSent;
      return std::nullopt;
    case S::kResponseSent:
      if (event == E::kNext) return S::kReady;
      return std::nullopt;
  }
  return std::nullopt;
}

std::string transition_error_message(RuntimeState from, RuntimeEvent event) {
  return fmt::format("State transition from {} to {} failed for runtime. Error: State transition is not allowed",
                     state_name(from), event_target_name(event));
}

}  // namespace lambdad::sandbox
