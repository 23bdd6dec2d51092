#!/usr/bin/env bash
# Invoke latency and throughput of lambdad with a C echo runtime (bench/echo_bootstrap.c), so the
# figures are lambdad's own overhead: Invoke API -> Runtime API -> back. Then how far one
# function scales, what the daemon costs in memory at that scale, and cold-start overhead.
#
#   bench/run.sh            # builds with `cmake --build build`, then measures
#   BUILD_DIR=build-bench RUNS=5 DURATION=5s bench/run.sh
#   LAMBDAD_BIN=build/lambdad BUILD_DIR=build-bench bench/run.sh   # daemon built elsewhere
#   CONNECTIONS="1 4 16" SCALE=200 COLD_RUNS=10 bench/run.sh
#
# Prints, in order:
#   - the cold (first) invoke time and the next warm one (curl);
#   - per connection count (CONNECTIONS, default 1 4 16): each wrk run and the medians of
#     p50/p99/requests per second, then the requests/s of the most connections relative to one;
#   - scaling: SCALE (default 200) concurrent invokes of a provided function that sleeps 1 s;
#     how many answered 200 / 429, how many distinct environments served them, the pool as
#     /_lambdad/status sees it, and the daemon's RSS with those environments alive;
#   - cold start: Init Duration (spawn to the runtime's first /next, as REPORT prints it) of
#     COLD_RUNS (default 10) invokes of the C echo runtime under --force-cold, and curl's time
#     of a cold invoke against a warm one.
# Never fails on timing; exits non-zero only if it cannot run. Installs nothing: curl and wrk
# come from the project's install script. Sections the daemon does not support yet (no status
# endpoint, no --force-cold) are reported as skipped.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO/$BUILD_DIR ;; esac
RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-1 4 16}
SCALE=${SCALE:-200}
COLD_RUNS=${COLD_RUNS:-10}

fail() { echo "bench: $*" >&2; exit 1; }

missing=()
for tool in cmake curl wrk xargs; do
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
DAEMON_PIDS=()
cleanup() {
  local pid
  for pid in "${DAEMON_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/echo" "$WORK/sleeper"
cp "$ECHO_BOOTSTRAP" "$WORK/echo/bootstrap"
chmod +x "$WORK/echo/bootstrap"
# A provided runtime in bash + curl that holds each invoke for 1 s and answers with its pid, so
# concurrent invokes need concurrent environments and the answers tell them apart.
cat >"$WORK/sleeper/bootstrap" <<'EOF'
#!/usr/bin/env bash
set -u
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
headers=$(mktemp)
while true; do
  curl -sS -D "$headers" -o /dev/null "$api/next" || exit 1
  id=$(tr -d '\r' <"$headers" | awk -F': ' 'tolower($1) == "lambda-runtime-aws-request-id" { print $2 }')
  sleep 1
  curl -sS -o /dev/null -X POST --data "{\"pid\":$$}" "$api/$id/response" || exit 1
done
EOF
chmod +x "$WORK/sleeper/bootstrap"
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
  Sleeper:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: sleep
      CodeUri: sleeper/
      Timeout: 60
      MemorySize: 128
EOF

# start_daemon NAME [serve options...]: starts lambdad, waits for its ready line, sets ENDPOINT
# and DAEMON_PID; its log goes to $WORK/NAME.log.
start_daemon() {
  local name=$1 line
  shift
  mkfifo "$WORK/$name.stdout"
  "$LAMBDAD" serve --template "$WORK/template.yaml" --port 0 "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.log" &
  DAEMON_PID=$!
  DAEMON_PIDS+=("$DAEMON_PID")
  exec 3<"$WORK/$name.stdout"
  ENDPOINT=
  # Poll the ready line (the daemon's first stdout line); give up after 30 s.
  local deadline=$((SECONDS + 30))
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
    cat "$WORK/$name.log" >&2
    fail "lambdad did not become ready"
  fi
  # Keep draining stdout so the daemon never blocks on a full pipe.
  cat <&3 >/dev/null &
  exec 3<&-
}

stop_daemon() {
  kill -TERM "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
}

echo "== starting lambdad"
start_daemon main
URL="$ENDPOINT/2015-03-31/functions/Echo/invocations"
echo "endpoint: $ENDPOINT"

cold=$(curl -sS -o "$WORK/cold.out" -w '%{http_code} %{time_total}' -X POST \
  -H 'Content-Type: application/json' --data '{"bench":"cold"}' "$URL") || fail "cold invoke failed"
read -r cold_status cold_seconds <<<"$cold"
[[ $cold_status == 200 ]] || { cat "$WORK/main.log" >&2; fail "cold invoke returned HTTP $cold_status: $(cat "$WORK/cold.out")"; }
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
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A MED_P50 MED_P99 MED_RPS
for conns in $CONNECTIONS; do
  threads=$((conns < 2 ? conns : 2))
  echo
  echo "== wrk -t$threads -c$conns"
  # Warm-up: the first $conns concurrent invokes start $conns environments (cold starts).
  wrk -t"$threads" -c"$conns" -d1s -s "$REPO/bench/invoke.lua" "$URL" >/dev/null 2>&1 || true
  p50s=() p99s=() rpss=()
  for ((run = 1; run <= RUNS; run++)); do
    out=$(wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -s "$REPO/bench/invoke.lua" "$URL") || fail "wrk failed: $out"
    p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
    p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    rps=$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")
    non2xx=$(awk '/^non-2xx responses:/ { print $3 }' <<<"$out")
    errs=$(grep -E '^ *Socket errors' <<<"$out" || true)
    printf 'run %d: p50 %8.1f us  p99 %8.1f us  %10.1f req/s  non-2xx %s%s\n' \
      "$run" "$p50" "$p99" "$rps" "${non2xx:-?}" "${errs:+  ($errs)}"
    p50s+=("$p50") p99s+=("$p99") rpss+=("$rps")
  done
  MED_P50[$conns]=$(median "${p50s[@]}")
  MED_P99[$conns]=$(median "${p99s[@]}")
  MED_RPS[$conns]=$(median "${rpss[@]}")
  printf 'median of %d runs at %d connection(s): p50 %.1f us, p99 %.1f us, %.1f requests/s\n' \
    "$RUNS" "$conns" "${MED_P50[$conns]}" "${MED_P99[$conns]}" "${MED_RPS[$conns]}"
done

# ---- scaling: how many environments one function reaches --------------------------------------
echo
echo "== scaling: $SCALE concurrent invokes of a provided function that sleeps 1 s"
status_json() { curl -sS -f "$ENDPOINT/_lambdad/status" 2>/dev/null; }
SLEEP_URL="$ENDPOINT/2015-03-31/functions/Sleeper/invocations"
mkdir -p "$WORK/scale"
scale_start=$(date +%s.%N)
# Each curl writes "<http status> <body>" to its own file.
seq "$SCALE" | xargs -P "$SCALE" -I{} sh -c \
  'curl -sS -o "$1/{}.body" -w "%{http_code}" -X POST --data "{}" --max-time 120 "$2" >"$1/{}.code" 2>/dev/null || echo 000 >"$1/{}.code"' \
  _ "$WORK/scale" "$SLEEP_URL"
scale_end=$(date +%s.%N)
# (grep exits 1 when nothing matches; that is a count of 0, not a failure.)
count_codes() { { grep -lx "$1" "$WORK"/scale/*.code 2>/dev/null || true; } | wc -l; }
ok=$(count_codes 200)
throttled=$(count_codes 429)
other=$((SCALE - ok - throttled))
distinct=$({ cat "$WORK"/scale/*.body 2>/dev/null || true; } | { grep -o '"pid":[0-9]*' || true; } | sort -u | wc -l)
awk -v a="$scale_start" -v b="$scale_end" -v n="$SCALE" -v ok="$ok" -v t="$throttled" -v o="$other" -v d="$distinct" \
  'BEGIN { printf "%d invokes in %.2f s: %d answered 200, %d throttled (429), %d other; %d distinct environments (pids) served them\n", n, b - a, ok, t, o, d }'
if st=$(status_json); then
  # Only the Sleeper entry; environments not dead. No JSON tool is assumed: python3 if present.
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$st" <<'EOF'
import json, sys
st = json.loads(sys.argv[1])
for f in st["functions"]:
    if f["name"] == "Sleeper":
        live = [e for e in f["environments"] if e["state"] != "dead"]
        states = {}
        for e in live:
            states[e["state"]] = states.get(e["state"], 0) + 1
        print(f"status endpoint: {len(live)} live environments {states}, coldStarts {f['coldStarts']}, "
              f"throttles {f['throttles']}, invocations {f['invocations']}")
EOF
  fi
else
  echo "status endpoint: not available (skipped)"
fi
rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
threads_n=$(awk '/^Threads:/ { print $2 }' "/proc/$DAEMON_PID/status")
fds=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
printf 'daemon with %d environments alive: VmRSS %.1f MB, VmHWM %.1f MB, %d threads, %d open fds\n' \
  "$distinct" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" "$(awk -v k="$hwm_kb" 'BEGIN { print k / 1024 }')" \
  "$threads_n" "$fds"
stop_daemon

# ---- cold start: spawn to first /next ------------------------------------------------------------
echo
echo "== cold start: $COLD_RUNS invokes of the C echo runtime with --force-cold"
if "$LAMBDAD" serve --help 2>&1 | grep -q -- --force-cold; then
  start_daemon cold --force-cold
  URL="$ENDPOINT/2015-03-31/functions/Echo/invocations"
  times=()
  for ((i = 1; i <= COLD_RUNS; i++)); do
    t=$(curl -sS -o /dev/null -w '%{time_total}' -X POST --data '{"bench":"cold"}' "$URL") || fail "cold invoke failed"
    times+=("$(awk -v t="$t" 'BEGIN { printf "%.3f", t * 1000 }')")
  done
  # REPORT lines may be logged just after the response: poll until all are there (bounded).
  deadline=$((SECONDS + 10))
  while (($(grep -c 'Init Duration: ' "$WORK/cold.log" || true) < COLD_RUNS && SECONDS < deadline)); do sleep 0.1; done
  mapfile -t inits < <(grep -o 'Init Duration: [0-9.]*' "$WORK/cold.log" | awk '{ print $3 }')
  if ((${#inits[@]} > 0)); then
    min=$(printf '%s\n' "${inits[@]}" | sort -g | head -1)
    max=$(printf '%s\n' "${inits[@]}" | sort -g | tail -1)
    printf 'Init Duration (spawn to first /next) over %d cold invokes: median %.2f ms, min %.2f ms, max %.2f ms\n' \
      "${#inits[@]}" "$(median "${inits[@]}")" "$min" "$max"
  else
    echo "no Init Duration in the daemon's REPORT lines"
  fi
  printf 'cold invoke end to end (curl time_total): median %.2f ms\n' "$(median "${times[@]}")"
  stop_daemon
else
  echo "skipped: this lambdad has no --force-cold"
fi

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo
echo "method: wrk -t min(N,2) -cN -d$DURATION --latency, $RUNS runs per N after a 1 s warm-up, POST of the small JSON event in bench/invoke.lua to a provided.al2023 C echo runtime (bench/echo_bootstrap.c), keep-alive connections; cold invoke by curl; scaling by $SCALE parallel curls (xargs -P) to a bash+curl runtime sleeping 1 s"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; $(uname -sr)"
summary=
for conns in $CONNECTIONS; do
  summary+=$(printf '%s%d conn: p50 %.1f us, p99 %.1f us, %.1f req/s' "${summary:+; }" "$conns" \
    "${MED_P50[$conns]}" "${MED_P99[$conns]}" "${MED_RPS[$conns]}")
done
echo "medians: $summary"
first=${CONNECTIONS%% *}
last=${CONNECTIONS##* }
if [[ $first != "$last" ]]; then
  awk -v a="${MED_RPS[$first]}" -v b="${MED_RPS[$last]}" -v f="$first" -v l="$last" \
    'BEGIN { if (a > 0) printf "requests/s at %d connections / at %d: %.2fx\n", l, f, b / a }'
fi
