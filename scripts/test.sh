#!/usr/bin/env bash
# Second command of the README (and what CI runs): install, build from scratch, run the tests.
#   1. Release (-O3): every unit, fuzz-seed and end-to-end test (real daemon, AWS CLI v2, boto3,
#      @aws-sdk/client-lambda, our runtimes, the official aws-lambda-ric).
#   2. ASan+UBSan (Debug): every unit and fuzz-seed test, and the end-to-end suites but five
#      (see below) against the sanitized daemon.
#   3. TSan (-O1): the daemon and the unit tests of the modules that run threads, and the
#      end-to-end suites that drive those threads (ctest label `threads`, tests/e2e/CMakeLists.txt).
# The whole suite passes under both sanitizers (README, "Building and testing by hand"); the
# split keeps this script within its time budget on a 2-core machine. Each phase's time is
# printed at the end. LAMBDAD_SKIP_SANITIZERS=1 runs phase 1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

timings=()
phase_start=$(date +%s)
phase() {  # ends the running phase (recording its time) and names the next one
  local now
  now=$(date +%s)
  [[ -n "${current_phase:-}" ]] && timings+=("$(printf '%-28s %4d s' "$current_phase" $((now - phase_start)))")
  current_phase="$1"
  phase_start=$now
  [[ -n "$1" ]] && echo "==> $1"
  return 0
}
report() {
  kill $(jobs -p) 2>/dev/null || true  # a background install still running when a step failed
  phase ""
  echo "==> time per phase"
  printf '    %s\n' "${timings[@]}"
}
trap report EXIT

phase "install (apt)"
scripts/install-deps.sh apt
jobs="$(nproc)"
# `npm ci` spends minutes compiling aws-lambda-ric's native addon, mostly on one core: it runs
# beside the Release build, and the tests wait for it.
npm_log=$(mktemp)
scripts/install-deps.sh npm >"$npm_log" 2>&1 &
npm_pid=$!

phase "build (Release), npm ci"
rm -rf build
BUILD_DIR=build BUILD_TYPE=Release scripts/build.sh
phase "npm ci (what was left)"
npm_status=0
wait "$npm_pid" || npm_status=$?
cat "$npm_log"
rm -f "$npm_log"
if [ "$npm_status" -ne 0 ]; then
  echo "scripts/install-deps.sh npm failed ($npm_status)" >&2
  exit "$npm_status"
fi
phase "tests (Release)"
ctest --test-dir build --output-on-failure -j"$jobs"

if [ "${LAMBDAD_SKIP_SANITIZERS:-0}" != "1" ]; then
  phase "build (ASan+UBSan)"
  rm -rf build-asan
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DLAMBDAD_SANITIZE=address -DLAMBDAD_BUILD_BENCH=OFF
  phase "tests (ASan+UBSan)"
  # Left to phase 1: the soak (10^5 invokes, the daemon's footprint; under ASan every other
  # suite's daemon is checked for leaks at exit instead), and the suites of settings, template
  # loading and generate-event, whose code the unit tests and the fuzz seeds run under ASan here.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" \
      -E '^e2e\.test_(soak|config|overrides|serverless|generate_event)$'

  phase "build (TSan)"
  rm -rf build-tsan
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DLAMBDAD_SANITIZE=thread -DLAMBDAD_BUILD_BENCH=OFF
  threaded_modules=(process sandbox control_plane observability)  # the modules whose code runs threads
  cmake --build build-tsan -j"$jobs" --target lambdad "${threaded_modules[@]/#/lambdad_unit_}"
  phase "tests (TSan)"
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
  for m in "${threaded_modules[@]}"; do
    echo "--- lambdad_unit_$m"
    (cd "build-tsan/tests/unit/$m" && "./lambdad_unit_$m" --gtest_brief=1)
  done
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L threads
fi
phase ""
echo "==> all tests passed"
