#include "lambdad/sandbox/runtime_state.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <utility>

namespace lambdad::sandbox {
namespace {

using S = RuntimeState;
using E = RuntimeEvent;

// The full transition table: every state x every event. nullopt = refused with 403.
const std::map<std::pair<S, E>, std::optional<S>>& expected_table() {
  static const std::map<std::pair<S, E>, std::optional<S>> table = {
      {{S::kStarted, E::kNext}, S::kReady},
      {{S::kStarted, E::kResponse}, std::nullopt},
      {{S::kStarted, E::kError}, std::nullopt},
      {{S::kStarted, E::kInitError}, S::kInitError},
      {{S::kInitError, E::kNext}, std::nullopt},
      {{S::kInitError, E::kResponse}, std::nullopt},
      {{S::kInitError, E::kError}, std::nullopt},
      {{S::kInitError, E::kInitError}, std::nullopt},
      {{S::kReady, E::kNext}, S::kReady},
      {{S::kReady, E::kResponse}, std::nullopt},
      {{S::kReady, E::kError}, std::nullopt},
      {{S::kReady, E::kInitError}, std::nullopt},
      {{S::kRunning, E::kNext}, S::kRunning},
      {{S::kRunning, E::kResponse}, S::kResponseSent},
      {{S::kRunning, E::kError}, S::kResponseSent},
      {{S::kRunning, E::kInitError}, std::nullopt},
      {{S::kResponseSent, E::kNext}, S::kReady},
      {{S::kResponseSent, E::kResponse}, std::nullopt},
      {{S::kResponseSent, E::kError}, std::nullopt},
      {{S::kResponseSent, E::kInitError}, std::nullopt},
      {{S::kStarted, E::kRestoreNext}, S::kRestoring},
      {{S::kStarted, E::kRestoreError}, std::nullopt},
      {{S::kInitError, E::kRestoreNext}, std::nullopt},
      {{S::kInitError, E::kRestoreError}, std::nullopt},
      {{S::kReady, E::kRestoreNext}, std::nullopt},
      {{S::kReady, E::kRestoreError}, std::nullopt},
      {{S::kRunning, E::kRestoreNext}, std::nullopt},
      {{S::kRunning, E::kRestoreError}, std::nullopt},
      {{S::kResponseSent, E::kRestoreNext}, std::nullopt},
      {{S::kResponseSent, E::kRestoreError}, std::nullopt},
      {{S::kRestoring, E::kNext}, S::kReady},
      {{S::kRestoring, E::kResponse}, std::nullopt},
      {{S::kRestoring, E::kError}, std::nullopt},
      {{S::kRestoring, E::kInitError}, std::nullopt},
      {{S::kRestoring, E::kRestoreNext}, std::nullopt},
      {{S::kRestoring, E::kRestoreError}, S::kRestoreError},
      {{S::kRestoreError, E::kNext}, std::nullopt},
      {{S::kRestoreError, E::kResponse}, std::nullopt},
      {{S::kRestoreError, E::kError}, std::nullopt},
      {{S::kRestoreError, E::kInitError}, std::nullopt},
      {{S::kRestoreError, E::kRestoreNext}, std::nullopt},
      {{S::kRestoreError, E::kRestoreError}, std::nullopt},
  };
  return table;
}

TEST(RuntimeStateTest, TableCoversEveryStateAndEvent) {
  EXPECT_EQ(expected_table().size(), std::size(kAllRuntimeStates) * std::size(kAllRuntimeEvents));
}

TEST(RuntimeStateTest, EveryTransitionMatchesTheTable) {
  for (S s : kAllRuntimeStates) {
    for (E e : kAllRuntimeEvents) {
      auto want = expected_table().at({s, e});
      EXPECT_EQ(transition(s, e), want) << state_name(s) << " + " << event_target_name(e);
    }
  }
}

TEST(RuntimeStateTest, NamesAreLambdas) {
  EXPECT_EQ(state_name(S::kStarted), "Started");
  EXPECT_EQ(state_name(S::kInitError), "InitError");
  EXPECT_EQ(state_name(S::kReady), "Ready");
  EXPECT_EQ(state_name(S::kRunning), "Running");
  EXPECT_EQ(state_name(S::kResponseSent), "RuntimeResponseSentState");
  EXPECT_EQ(event_target_name(E::kNext), "Ready");
  EXPECT_EQ(event_target_name(E::kResponse), "InvocationResponse");
  EXPECT_EQ(event_target_name(E::kError), "InvocationErrorResponse");
  EXPECT_EQ(event_target_name(E::kInitError), "InitError");
  EXPECT_EQ(state_name(S::kRestoring), "Restoring");
  EXPECT_EQ(state_name(S::kRestoreError), "RestoreError");
  EXPECT_EQ(event_target_name(E::kRestoreNext), "RestoreReady");
  EXPECT_EQ(event_target_name(E::kRestoreError), "RestoreError");
}

TEST(RuntimeStateTest, RefusalMessageIsExact) {
  EXPECT_EQ(transition_error_message(S::kResponseSent, E::kResponse),
            "State transition from RuntimeResponseSentState to InvocationResponse failed for runtime. "
            "Error: State transition is not allowed");
  EXPECT_EQ(transition_error_message(S::kRunning, E::kInitError),
            "State transition from Running to InitError failed for runtime. Error: State transition is not allowed");
}

}  // namespace
}  // namespace lambdad::sandbox
