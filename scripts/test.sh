#!/usr/bin/env bash
# Second command of the README (and what CI runs): install, build from scratch, run the tests.
#   1. ASan+UBSan (Debug): every unit, fuzz-seed and end-to-end test (real daemon, AWS CLI v2,
#      boto3, @aws-sdk/client-lambda, our runtimes, the official aws-lambda-ric) but the soak.
#   2. TSan (-Og, built beside phase 1's tests at the lowest priority): the daemon and the unit tests of the modules that run threads, and the
#      end-to-end suites that drive those threads (ctest label `threads`, tests/e2e/CMakeLists.txt).
#      Being optimized, this build also checks the daemon's code for the warnings only an
#      optimizing compile gives (-Werror: -Og runs the flow analysis behind -Wmaybe-uninitialized),
#      as an optimized (Release) build would. -Og compiled the largest unit in 20.6 s against
#      25.9-32.2 s at -O1.
# The soak (10^5 invokes, the daemon's footprint) is left to `ctest -R soak` on an optimized build
# and to bench/soak.sh; CI keeps within its time budget on a 2-core machine. Each phase's time is
# printed at the end. The builds are unity builds (LAMBDAD_UNITY_BUILD, CMakeLists.txt), which
# compile from scratch in less time, and ctest runs each module's unit tests in one process
# (LAMBDAD_UNIT_TEST_PER_TEST=OFF, tests/CMakeLists.txt); the ASan build's executables are not
# position-independent (cmake/Sanitizers.cmake), which halves their start. LAMBDAD_SKIP_SANITIZERS=1 runs phase 1 only, without
# sanitizers (Release).
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
# beside the first build, and the tests wait for it.
npm_log=$(mktemp)
scripts/install-deps.sh npm >"$npm_log" 2>&1 &
npm_pid=$!

release_only="${LAMBDAD_SKIP_SANITIZERS:-0}"
if [ "$release_only" = "1" ]; then
  phase "build (Release), npm ci"
  rm -rf build
  BUILD_DIR=build BUILD_TYPE=Release scripts/build.sh -DLAMBDAD_BUILD_BENCH=OFF -DLAMBDAD_UNITY_BUILD=ON \
    -DLAMBDAD_UNIT_TEST_PER_TEST=OFF
  test_dir=build
else
  phase "build (ASan+UBSan), npm ci"
  rm -rf build-asan
  # -g1: line tables for the sanitizers' reports, without the full debug information (faster).
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DLAMBDAD_SANITIZE=address -DLAMBDAD_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS_DEBUG="-g1" -DLAMBDAD_UNITY_BUILD=ON -DLAMBDAD_UNIT_TEST_PER_TEST=OFF
  test_dir=build-asan
fi
phase "npm ci (what was left)"
npm_status=0
wait "$npm_pid" || npm_status=$?
cat "$npm_log"
rm -f "$npm_log"
if [ "$npm_status" -ne 0 ]; then
  echo "scripts/install-deps.sh npm failed ($npm_status)" >&2
  exit "$npm_status"
fi
threaded_modules=(common process sandbox control_plane observability async http)  # the modules whose code runs threads (async: the spool writer on the blocking pool; http: connections on their own strands)
tsan_pid=""
if [ "$release_only" != "1" ]; then
  # The TSan build runs beside the tests at the lowest priority: the end-to-end tests mostly wait
  # on processes and the network, and the compiler takes what CPU they leave.
  rm -rf build-tsan
  tsan_log=$(mktemp)
  (cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-Og -g1" \
     -DLAMBDAD_SANITIZE=thread -DLAMBDAD_BUILD_BENCH=OFF -DLAMBDAD_UNITY_BUILD=ON -DLAMBDAD_UNIT_TEST_PER_TEST=OFF &&
   nice -n 19 cmake --build build-tsan -j"$jobs" --target lambdad "${threaded_modules[@]/#/lambdad_unit_}") \
    >"$tsan_log" 2>&1 &
  tsan_pid=$!
fi
phase "tests ($test_dir${tsan_pid:+; the TSan build beside})"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$test_dir" --output-on-failure -j"$jobs" -E '^e2e\.test_soak$'

if [ "$release_only" != "1" ]; then
  phase "build (TSan, what was left)"
  tsan_status=0
  wait "$tsan_pid" || tsan_status=$?
  tail -n 40 "$tsan_log"
  rm -f "$tsan_log"
  if [ "$tsan_status" -ne 0 ]; then
    echo "the TSan build failed ($tsan_status)" >&2
    exit "$tsan_status"
  fi
  phase "tests (TSan)"
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
  # The unit tests run beside the end-to-end suites, which mostly wait (on timeouts, processes,
  # the network): one more of those at a time than there are cores, and the CPU they leave goes
  # to the unit tests.
  unit_log=$(mktemp)
  (for m in "${threaded_modules[@]}"; do
     echo "--- lambdad_unit_$m"
     (cd "build-tsan/tests/unit/$m" && "./lambdad_unit_$m" --gtest_brief=1) || exit 1
   done) >"$unit_log" 2>&1 &
  unit_pid=$!
  ctest_status=0
  ctest --test-dir build-tsan --output-on-failure -j"$((jobs + 1))" -L threads || ctest_status=$?
  unit_status=0
  wait "$unit_pid" || unit_status=$?
  cat "$unit_log"
  rm -f "$unit_log"
  if [ "$unit_status" -ne 0 ] || [ "$ctest_status" -ne 0 ]; then
    echo "TSan tests failed (unit $unit_status, end-to-end $ctest_status)" >&2
    exit 1
  fi
fi
phase ""
echo "==> all tests passed"
