// sandbox: the Runtime API state machine of one execution environment, as the runtime sees it
// (lambda-spec §1.7/§1.8). A pure function decides every transition, so handlers validate before
// anything moves and the 403 message names the states exactly as Lambda does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lambdad::sandbox {

enum class RuntimeState {
  kStarted,       // process started, has not called /next yet (init phase)
  kInitError,     // posted /runtime/init/error
  kReady,         // waiting in /next, no invocation delivered
  kRunning,       // an invocation was delivered and is unanswered
  kResponseSent,  // /response or /error accepted; the next /next releases the invocation
  kRestoring,     // SnapStart: /restore/next answered; after-restore hooks run until /next (lambda-spec §14)
  kRestoreError,  // posted /runtime/restore/error
};

enum class RuntimeEvent { kNext, kResponse, kError, kInitError, kRestoreNext, kRestoreError };

inline constexpr RuntimeState kAllRuntimeStates[] = {RuntimeState::kStarted, RuntimeState::kInitError,
                                                     RuntimeState::kReady, RuntimeState::kRunning,
                                                     RuntimeState::kResponseSent, RuntimeState::kRestoring,
                                                     RuntimeState::kRestoreError};
inline constexpr RuntimeEvent kAllRuntimeEvents[] = {RuntimeEvent::kNext, RuntimeEvent::kResponse,
                                                     RuntimeEvent::kError, RuntimeEvent::kInitError,
                                                     RuntimeEvent::kRestoreNext, RuntimeEvent::kRestoreError};

// Lambda's names: "Started", "InitError", "Ready", "Running", "RuntimeResponseSentState", "Restoring",
// "RestoreError".
std::string_view state_name(RuntimeState s);
// Target names in the 403 message: "Ready", "InvocationResponse", "InvocationErrorResponse", "InitError",
// "RestoreReady", "RestoreError".
std::string_view event_target_name(RuntimeEvent e);

// The state after `event` in `from`, or nullopt when Lambda refuses the transition. /restore/next
// from Started is allowed here; the environment refuses it too unless it was started for SnapStart.
std::optional<RuntimeState> transition(RuntimeState from, RuntimeEvent event);

// "State transition from <from> to <target> failed for runtime. Error: State transition is not allowed"
std::string transition_error_message(RuntimeState from, RuntimeEvent event);

}  // namespace lambdad::sandbox
