#!/usr/bin/env bash
# Invoke latency and throughput of lambdad with a C echo runtime (bench/echo_bootstrap.c), so the
# figures are lambdad's own overhead: Invoke API -> Runtime API -> back.
#
#   bench/run.sh            # builds with `cmake --build build`, then measures
#   BUILD_DIR=build-bench RUNS=5 DURATION=5s bench/run.sh
#   LAMBDAD_BIN=build/lambdad BUILD_DIR=build-bench bench/run.sh   # daemon built elsewhere
#
# Prints the cold (first) invoke time, each wrk run, and the medians of p50/p99/requests per
# second. Never fails on timing; exits non-zero only if it cannot run. Installs nothing: curl and
# wrk come from the project's install script.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO/$BUILD_DIR ;; esac
RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}

fail() { echo "bench: $*" >&2; exit 1; }

missing=()
for tool in cmake curl wrk; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
((${#missing[@]} == 0)) || fail "missing tools: ${missing[*]} (the project's install script provides them)"

echo "== building ($BUILD_DIR)"
[[ -f $BUILD_DIR/CMakeCache.txt ]] || fail "$BUILD_DIR is not configured (cmake -S $REPO -B $BUILD_DIR -G Ninja)"
# LAMBDAD_BIN=path measures an already built daemon; then only the echo runtime is built here.
targets=(lambdad_echo_bootstrap)
[[ -n ${LAMBDAD_BIN:-} ]] || targets+=(lambdad)
cmake --build "$BUILD_DIR" --target "${targets[@]}" || fail "build failed"

# The newest of the places CMake may put a target (the output directory is the top level's choice).
find_binary() {
  local name=$1 path best=
  for path in "$BUILD_DIR/$name" "$BUILD_DIR/bench/$name" "$BUILD_DIR/src/$name"; do
    [[ -x $path && ( -z $best || $path -nt $best ) ]] && best=$path
  done
  [[ -n $best ]] && echo "$best"
}
if [[ -n ${LAMBDAD_BIN:-} ]]; then
  LAMBDAD=$LAMBDAD_BIN
  [[ -x $LAMBDAD ]] || fail "LAMBDAD_BIN=$LAMBDAD is not executable"
else
  LAMBDAD=$(find_binary lambdad) || fail "lambdad binary not found under $BUILD_DIR"
fi
ECHO_BOOTSTRAP=$(find_binary lambdad_echo_bootstrap) || fail "lambdad_echo_bootstrap not found under $BUILD_DIR"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lambdad-bench.XXXXXX")
DAEMON_PID=
cleanup() {
  if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/echo"
cp "$ECHO_BOOTSTRAP" "$WORK/echo/bootstrap"
chmod +x "$WORK/echo/bootstrap"
cat >"$WORK/template.yaml" <<'EOF'
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: echo
      CodeUri: echo/
      Timeout: 30
      MemorySize: 128
EOF

echo "== starting lambdad"
mkfifo "$WORK/stdout"
"$LAMBDAD" serve --template "$WORK/template.yaml" --port 0 >"$WORK/stdout" 2>"$WORK/daemon.log" &
DAEMON_PID=$!
exec 3<"$WORK/stdout"
ENDPOINT=
# Poll the ready line (the daemon's first stdout line); give up after 30 s.
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
  if IFS= read -r -t 1 line <&3; then
    if [[ $line =~ Invoke\ API\ listening\ on\ (http://[0-9.]+:[0-9]+) ]]; then
      ENDPOINT=${BASH_REMATCH[1]}
      break
    fi
  elif ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    break
  fi
done
if [[ -z $ENDPOINT ]]; then
  cat "$WORK/daemon.log" >&2
  fail "lambdad did not become ready"
fi
# Keep draining stdout so the daemon never blocks on a full pipe.
cat <&3 >/dev/null &
exec 3<&-
URL="$ENDPOINT/2015-03-31/functions/Echo/invocations"
echo "endpoint: $ENDPOINT"

cold=$(curl -sS -o "$WORK/cold.out" -w '%{http_code} %{time_total}' -X POST \
  -H 'Content-Type: application/json' --data '{"bench":"cold"}' "$URL") || fail "cold invoke failed"
read -r cold_status cold_seconds <<<"$cold"
[[ $cold_status == 200 ]] || { cat "$WORK/daemon.log" >&2; fail "cold invoke returned HTTP $cold_status: $(cat "$WORK/cold.out")"; }
[[ $(cat "$WORK/cold.out") == '{"bench":"cold"}' ]] || fail "echo returned $(cat "$WORK/cold.out")"
warm=$(curl -sS -o /dev/null -w '%{time_total}' -X POST --data '{"bench":"warm"}' "$URL") || fail "warm invoke failed"
awk -v c="$cold_seconds" -v w="$warm" 'BEGIN { printf "cold invoke (first, incl. runtime start): %.2f ms; next warm invoke: %.2f ms (curl time_total)\n", c * 1000, w * 1000 }'

# wrk prints latency with units (us, ms, s); convert to microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") f = 1; else if (u == "ms") f = 1000; else if (u == "s") f = 1000000;
    else if (u == "m") f = 60000000; else f = 1;
    printf "%.1f", n * f }'
}

p50s=() p99s=() rpss=()
for ((run = 1; run <= RUNS; run++)); do
  out=$(wrk -t1 -c1 -d"$DURATION" --latency -s "$REPO/bench/invoke.lua" "$URL") || fail "wrk failed: $out"
  p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  rps=$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")
  non2xx=$(awk '/^non-2xx responses:/ { print $3 }' <<<"$out")
  errs=$(grep -E '^ *Socket errors' <<<"$out" || true)
  printf 'run %d: p50 %8.1f us  p99 %8.1f us  %10.1f req/s  non-2xx %s%s\n' \
    "$run" "$p50" "$p99" "$rps" "${non2xx:-?}" "${errs:+  ($errs)}"
  p50s+=("$p50") p99s+=("$p99") rpss+=("$rps")
done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo
echo "method: wrk -t1 -c1 -d$DURATION --latency, $RUNS runs, POST of the small JSON event in bench/invoke.lua to a provided.al2023 C echo runtime (bench/echo_bootstrap.c), one keep-alive connection; cold invoke by curl"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; $(uname -sr)"
printf 'median of %d runs: p50 %.1f us, p99 %.1f us, %.1f requests/s\n' \
  "$RUNS" "$(median "${p50s[@]}")" "$(median "${p99s[@]}")" "$(median "${rpss[@]}")"
