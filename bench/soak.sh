#!/usr/bin/env bash
# Soak and load: N (default 1 000 000) mixed invokes against one lambdad (bench/soak/soak.py:
# C echo, Python, Node.js, handled errors, timeouts, Event invokes with destinations) from a few
# keep-alive connections, sampling the daemon's RSS, open fds, threads and child processes every
# INTERVAL seconds (default 10) into a CSV, then a summary: invokes by kind and outcome,
# throughput, the footprint at start, after warm-up (the first 10 %) and at the end, the maxima
# and the RSS slope.
#
#   bench/soak.sh                 # builds lambdad and the C runtime in build-rel (RelWithDebInfo)
#   bench/soak.sh 100000
#   LAMBDAD_BIN=build/lambdad BUILD_DIR=build bench/soak.sh 100000   # daemon built elsewhere
#   CONCURRENCY=4 INTERVAL=10 OUT=/tmp/soak bench/soak.sh
#
# Writes samples.csv and summary.json under OUT, and keeps the daemon's log there as lambdad.log in its
# work directory
# (OUT defaults to a new directory under TMPDIR). Exits non-zero only if an answer was wrong, an
# Event was lost, or it could not run; never on timing.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build-rel}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO/$BUILD_DIR ;; esac
N=${1:-1000000}
CONCURRENCY=${CONCURRENCY:-4}
INTERVAL=${INTERVAL:-10}

fail() { echo "soak: $*" >&2; exit 1; }

for tool in cmake python3 node; do
  command -v "$tool" >/dev/null 2>&1 || fail "missing tool: $tool"
done

if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  echo "== configuring $BUILD_DIR (RelWithDebInfo)"
  launcher=()
  command -v ccache >/dev/null 2>&1 &&
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null ||
    fail "cmake failed"
fi
echo "== building ($BUILD_DIR)"
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_build lambdad_echo_bootstrap
ECHO_BOOTSTRAP=$(find_binary lambdad_echo_bootstrap) || fail "lambdad_echo_bootstrap not found under $BUILD_DIR"

OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/lambdad-soak.XXXXXX")}
mkdir -p "$OUT"
echo "== $N invokes, $CONCURRENCY connections, a sample every $INTERVAL s; output in $OUT"
echo "daemon: $LAMBDAD"
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM; $(uname -sr)"
python3 "$REPO/bench/soak/soak.py" --lambdad "$LAMBDAD" --echo-bootstrap "$ECHO_BOOTSTRAP" -n "$N" \
  --concurrency "$CONCURRENCY" --interval "$INTERVAL" --csv "$OUT/samples.csv" --json "$OUT/summary.json" \
  --workdir "$OUT/work"
