#!/usr/bin/env bash
# Runs the fuzz targets under libFuzzer (clang, ASan + UBSan), one after the other.
#
#   scripts/fuzz.sh [-t SECONDS] [-j JOBS] [target...]
#
# -t: how long each target runs (default 600 = 10 min); -j: build jobs (2); targets: invoke_api runtime_api
# sam_template serverless event_stream test_case (default: all). Builds into build-fuzz/
# (CC=clang CXX=clang++ -DLAMBDAD_FUZZ=ON), installs clang and libFuzzer via apt if missing.
# Each target grows a working corpus in build-fuzz/corpus/<target> (seeded from
# fuzz/corpus/<target>, which stays as committed); findings land in build-fuzz/findings/<target>.
# Prints each run's executions, exec/s, coverage (cov/ft), corpus size, findings and slow
# inputs (replay one alone to see whether it is slow: `build-fuzz/fuzz/<target>_fuzz FILE`).
# Exits 1 if any target found something (a crash, leak, timeout or out-of-memory).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=600
JOBS=2
while getopts "t:j:h" opt; do
  case "$opt" in
    t) SECONDS_PER_TARGET="$OPTARG" ;;
    j) JOBS="$OPTARG" ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
ALL=(invoke_api runtime_api sam_template serverless event_stream test_case)
TARGETS=("$@")
[[ $# -eq 0 ]] && TARGETS=("${ALL[@]}")

# Largest input each target is given (bytes): requests up to a few pipelined exchanges,
# templates and case files of a realistic size.
declare -A MAX_LEN=([invoke_api]=16384 [runtime_api]=16384 [sam_template]=16384 [serverless]=16384
                    [event_stream]=70000 [test_case]=8192)

CLANG_RT_DIR=$(ls -d /usr/lib/llvm-*/lib/clang/*/lib/linux 2>/dev/null | sort -V | tail -1 || true)
if ! command -v clang++ >/dev/null || [[ -z "$CLANG_RT_DIR" ]] || ! ls "$CLANG_RT_DIR"/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz.sh: installing clang and libFuzzer (libclang-rt-14-dev)" >&2
  sudo=(); [[ $EUID -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get install -y clang libclang-rt-14-dev
fi

BUILD_DIR=build-fuzz
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLAMBDAD_FUZZ=ON -DLAMBDAD_BUILD_TESTS=OFF -DLAMBDAD_BUILD_BENCH=OFF "${launcher[@]}"
fi
ninja -C "$BUILD_DIR" -j"$JOBS" "${TARGETS[@]/%/_fuzz}"

status=0
summary=()
for t in "${TARGETS[@]}"; do
  corpus="$BUILD_DIR/corpus/$t"
  findings="$BUILD_DIR/findings/$t"
  log="$BUILD_DIR/fuzz-$t.log"
  mkdir -p "$corpus" "$findings"
  echo "== $t: ${SECONDS_PER_TARGET}s, max_len ${MAX_LEN[$t]}, log $log"
  set +e
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice -n 10 "$BUILD_DIR/fuzz/${t}_fuzz" "$corpus" "fuzz/corpus/$t" \
      -max_total_time="$SECONDS_PER_TARGET" -max_len="${MAX_LEN[$t]}" -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
  rc=$?
  set -e
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
  # crash-/leak-/timeout-/oom- files are findings. A slow-unit- file (an input that took over 10 s
  # once) is kept for a look but is not one by itself: on a loaded machine any input can be slow.
  found=$(find "$findings" -type f ! -name 'slow-unit-*' | wc -l)
  slow=$(find "$findings" -type f -name 'slow-unit-*' | wc -l)
  line="$t: rc=$rc execs=${execs:-?} exec/s=${rate:-?} findings=$found slow_units=$slow | ${last:-no stats}"
  echo "$line"
  summary+=("$line")
  if [[ $rc -ne 0 || $found -ne 0 ]]; then
    status=1
    grep -E 'ERROR|SUMMARY|fuzz:|artifact' "$log" | head -20 || true
  fi
done
echo
echo "== summary (${SECONDS_PER_TARGET}s each)"
printf '%s\n' "${summary[@]}"
exit $status
