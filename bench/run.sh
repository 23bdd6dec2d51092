#!/usr/bin/env bash
# Invoke latency and throughput of lambdad with a C echo runtime (bench/echo_bootstrap.c), so the
# figures are lambdad's own overhead: Invoke API -> Runtime API -> back. Then how far one
# function scales, what the daemon costs in memory at that scale, and cold-start overhead.
#
#   bench/run.sh            # builds with `cmake --build build`, then measures
#   BUILD_DIR=build-bench RUNS=5 DURATION=5s bench/run.sh
#   LAMBDAD_BIN=build/lambdad BUILD_DIR=build-bench bench/run.sh   # daemon built elsewhere
#   CONNECTIONS="1 4 16" SCALE=200 SCALE_SLEEP_MS=5000 COLD_RUNS=10 bench/run.sh
#
# Prints, in order:
#   - the cold (first) invoke time and the next warm one (curl);
#   - per connection count (CONNECTIONS, default 1 4 16): each wrk run and the medians of
#     p50/p99/requests per second, then the requests/s of the most connections relative to one;
#   - scaling, on a fresh daemon: SCALE (default 200) invokes sent at once over SCALE
#     connections opened beforehand (bench/burst.c), each held SCALE_SLEEP_MS (default 5000) by
#     the C runtime ({"sleep_ms":N}), so every one needs its own environment: how many answered
#     200 / 429, how many distinct environments (runtime pids) served them, the most environments
#     /_lambdad/status showed busy at once (polled every ~0.2 s), the answers' latency spread
#     (how long the daemon took to start them all), its CPU over the burst, the Init Durations,
#     and its RSS, threads and open fds before, at that peak and after (environments idle, alive);
#   - cold start: Init Duration (spawn to the runtime's first /next, as REPORT prints it) of
#     COLD_RUNS (default 10) invokes of the C echo runtime under --force-cold, and curl's time
#     of a cold invoke against a warm one.
# Never fails on timing; exits non-zero only if it cannot run. Installs nothing: curl and wrk
# come from the project's install script. Sections the daemon does not support yet (no status
# endpoint, no --force-cold) are reported as skipped.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-1 4 16}
SCALE=${SCALE:-200}
SCALE_SLEEP_MS=${SCALE_SLEEP_MS:-5000}
COLD_RUNS=${COLD_RUNS:-10}

fail() { echo "bench: $*" >&2; exit 1; }

missing=()
for tool in cmake curl wrk; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
((${#missing[@]} == 0)) || fail "missing tools: ${missing[*]} (the project's install script provides them)"

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
echo "== building ($BUILD_DIR)"
# LAMBDAD_BIN=path measures an already built daemon; then only the helpers are built here.
bench_build lambdad_echo_bootstrap lambdad_burst
BURST=$(find_binary lambdad_burst) || fail "lambdad_burst not found under $BUILD_DIR"

bench_workdir bench

echo_template 60

echo "== starting lambdad"
start_daemon main "$WORK/main.log"
URL="$ENDPOINT/2015-03-31/functions/Echo/invocations"
echo "endpoint: $ENDPOINT"

cold=$(curl -sS -o "$WORK/cold.out" -w '%{http_code} %{time_total}' -X POST \
  -H 'Content-Type: application/json' --data '{"bench":"cold"}' "$URL") || fail "cold invoke failed"
read -r cold_status cold_seconds <<<"$cold"
[[ $cold_status == 200 ]] || { cat "$WORK/main.log" >&2; fail "cold invoke returned HTTP $cold_status: $(cat "$WORK/cold.out")"; }
[[ $(cat "$WORK/cold.out") == '{"bench":"cold"}' ]] || fail "echo returned $(cat "$WORK/cold.out")"
warm=$(curl -sS -o /dev/null -w '%{time_total}' -X POST --data '{"bench":"warm"}' "$URL") || fail "warm invoke failed"
awk -v c="$cold_seconds" -v w="$warm" 'BEGIN { printf "cold invoke (first, incl. runtime start): %.2f ms; next warm invoke: %.2f ms (curl time_total)\n", c * 1000, w * 1000 }'

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
    read -r p50 p99 rps _ non2xx <<<"$(wrk_figures "$out")"
    errs=$(wrk_errors "$out")
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

# ---- the floor: one loopback HTTP hop ---------------------------------------------------------------
# An invoke is two loopback HTTP hops (client -> Invoke API, Runtime API -> runtime and back). nginx
# answering `return 200` is one hop done about as cheaply as it gets; its requests/s at one
# connection, alternated run by run with lambdad's, is the floor lambdad's one connection is
# measured against (half of it: the two-hop floor).
echo
echo "== floor: one HTTP hop to nginx (return 200) at 1 connection, alternating with lambdad's invokes"
if nginx_floor; then
  nginx_rps=() lambdad_rps=()
  for ((run = 1; run <= RUNS; run++)); do
    out=$(wrk -t1 -c1 -d"$DURATION" "$NGINX_URL") || fail "wrk (nginx) failed: $out"
    read -r _ _ n_rps _ <<<"$(wrk_figures "$out")"
    out=$(wrk -t1 -c1 -d"$DURATION" -s "$REPO/bench/invoke.lua" "$URL") || fail "wrk failed: $out"
    read -r _ _ l_rps _ <<<"$(wrk_figures "$out")"
    printf 'run %d: nginx %10.1f req/s  lambdad %10.1f req/s  ratio %.2f\n' "$run" "$n_rps" "$l_rps" \
      "$(awk -v a="$l_rps" -v b="$n_rps" 'BEGIN { print (b > 0 ? a / b : 0) }')"
    nginx_rps+=("$n_rps") lambdad_rps+=("$l_rps")
  done
  awk -v l="$(median "${lambdad_rps[@]}")" -v n="$(median "${nginx_rps[@]}")" 'BEGIN {
    printf "medians: lambdad %.1f req/s, nginx %.1f req/s: lambdad at 1 connection is %.2fx one hop, %.2fx the two-hop floor\n",
      l, n, l / n, 2 * l / n }'
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
else
  echo "skipped: no nginx (the project's install script provides nginx-light)"
fi

stop_daemon

# ---- scaling: how many environments one function reaches --------------------------------------
echo
echo "== scaling: $SCALE invokes at once of the C runtime holding each for $SCALE_SLEEP_MS ms (fresh daemon)"
scale_opts=()
((SCALE <= 1000)) || scale_opts+=(--account-concurrency "$SCALE")
start_daemon scale "$WORK/scale.log" "${scale_opts[@]}"
URL="$ENDPOINT/2015-03-31/functions/Echo/invocations"
# "<VmRSS kB> <VmHWM kB> <threads> <open fds>" of the daemon.
daemon_footprint() {
  local rss hwm thr fds
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
  thr=$(awk '/^Threads:/ { print $2 }' "/proc/$DAEMON_PID/status")
  fds=$(find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  echo "$rss $hwm $thr $fds"
}
print_footprint() {  # LABEL "<rss> <hwm> <threads> <fds>"
  local rss hwm thr fds
  read -r rss hwm thr fds <<<"$2"
  awk -v l="$1" -v r="$rss" -v h="$hwm" -v t="$thr" -v f="$fds" \
    'BEGIN { printf "daemon %s: VmRSS %.1f MB, VmHWM %.1f MB, %d threads, %d open fds\n", l, r / 1024, h / 1024, t, f }'
}
# "<live> <busy> <idle> <initializing>" of the (only) function per /_lambdad/status; empty if none.
env_counts() {
  local st
  st=$(curl -sS -f --max-time 5 "$ENDPOINT/_lambdad/status" 2>/dev/null) || return 0
  local busy idle init dead all
  busy=$(grep -o '"state":"busy"' <<<"$st" | wc -l)
  idle=$(grep -o '"state":"idle"' <<<"$st" | wc -l)
  init=$(grep -o '"state":"initializing"' <<<"$st" | wc -l)
  dead=$(grep -o '"state":"dead"' <<<"$st" | wc -l)
  all=$(grep -o '"state":"[a-z]*"' <<<"$st" | wc -l)
  echo "$((all - dead)) $busy $idle $init"
}
cpu_ticks() { sed 's/^.*) //' "/proc/$DAEMON_PID/stat" | awk '{ print $12 + $13 }'; }
base=$(daemon_footprint)
[[ -n $(env_counts) ]] && have_status=1 || have_status=0
cpu0=$(cpu_ticks)
scale_start=$(date +%s.%N)
"$BURST" -n "$SCALE" -d "{\"sleep_ms\":$SCALE_SLEEP_MS}" -t $((SCALE_SLEEP_MS / 1000 + 120)) "$URL" \
  >"$WORK/scale.out" 2>"$WORK/scale.err" &
burst_pid=$!
# While the invokes are in flight, keep the footprint at the moment the most were busy.
peak_busy=-1 peak_counts='' peak_fp=''
while kill -0 "$burst_pid" 2>/dev/null; do
  if ((have_status)); then
    counts=$(env_counts)
    fp=$(daemon_footprint)
    if [[ -n $counts ]]; then
      read -r _ busy _ _ <<<"$counts"
      if ((busy >= peak_busy)); then peak_busy=$busy peak_counts=$counts peak_fp=$fp; fi
    fi
  else
    fp=$(daemon_footprint)
    read -r rss _ <<<"$fp"
    if [[ -z $peak_fp ]] || ((rss >= ${peak_fp%% *})); then peak_fp=$fp; fi
  fi
  sleep 0.2
done
wait "$burst_pid" || fail "lambdad_burst failed: $(cat "$WORK/scale.err")"
scale_end=$(date +%s.%N)
cpu1=$(cpu_ticks)
ok=$(awk '$1 == 200' "$WORK/scale.out" | wc -l)
throttled=$(awk '$1 == 429' "$WORK/scale.out" | wc -l)
failed=$(awk '$1 == 0' "$WORK/scale.out" | wc -l)
other=$((SCALE - ok - throttled - failed))
distinct=$({ grep -o '"pid":[0-9]*' "$WORK/scale.out" || true; } | sort -u | wc -l)
echo "client: $(cat "$WORK/scale.err")"
awk -v a="$scale_start" -v b="$scale_end" -v n="$SCALE" -v ok="$ok" -v t="$throttled" -v f="$failed" -v o="$other" -v d="$distinct" \
  'BEGIN { printf "%d invokes in %.2f s wall: %d answered 200, %d throttled (429), %d other status, %d no answer; %d distinct environments (pids) served them\n", n, b - a, ok, t, o, f, d }'
if ((ok > 0)); then
  # Latency of the answered: the first are the sleep plus one cold start; the spread to the last
  # is how long the daemon took to start all the environments.
  awk '$1 == 200 { print $2 }' "$WORK/scale.out" | sort -g | awk -v s="$SCALE_SLEEP_MS" '
    { a[NR] = $1 } END { printf "latency of the 200s: min %.0f ms, median %.0f ms, max %.0f ms (sleep %d ms; max - min %.0f ms)\n", a[1], a[int((NR + 1) / 2)], a[NR], s, a[NR] - a[1] }'
fi
if ((have_status)); then
  if [[ -n $peak_counts ]]; then
    read -r live busy idle init <<<"$peak_counts"
    echo "status endpoint, most busy at once: $busy busy of $live live environments ($idle idle, $init initializing)"
  else
    echo "status endpoint: no answer while the invokes were in flight"
  fi
  read -r live busy idle init <<<"$(env_counts)"
  echo "status endpoint, after the burst: $live live environments ($busy busy, $idle idle, $init initializing)"
else
  echo "status endpoint: not available (skipped)"
fi
after=$(daemon_footprint)
nofile=$(awk '/^Max open files/ { print $4 }' "/proc/$DAEMON_PID/limits")
# The daemon's own CPU over the burst (its runtimes not included): mostly starting environments.
awk -v t="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" -v d="$distinct" \
  'BEGIN { printf "daemon CPU over the burst: %.2f s (%.1f ms per environment started)\n", t / hz, d ? t / hz * 1000 / d : 0 }'
# Init Duration (spawn to first /next) of the cold starts, from the REPORT lines: it includes
# the time a runtime's /next waited for the daemon, busy starting the other environments.
mapfile -t inits < <(grep -o 'Init Duration: [0-9.]*' "$WORK/scale.log" | awk '{ print $3 }' || true)
if ((${#inits[@]} > 0)); then
  printf '%s\n' "${inits[@]}" | sort -g | awk '{ a[NR] = $1 } END {
    printf "Init Duration of the %d cold starts: min %.1f ms, median %.1f ms, max %.1f ms\n", NR, a[1], a[int((NR + 1) / 2)], a[NR] }'
fi
print_footprint "before the burst (no environment)" "$base"
print_footprint "with the most environments busy" "$peak_fp"
print_footprint "after, $distinct environments idle" "$after"
read -r base_rss _ <<<"$base"
read -r after_rss _ _ after_fds <<<"$after"
read -r _ _ _ base_fds <<<"$base"
if ((distinct > 0)); then
  awk -v a="$base_rss" -v b="$after_rss" -v fa="$base_fds" -v fb="$after_fds" -v d="$distinct" \
    'BEGIN { printf "per environment: %.1f kB of daemon RSS, %.1f fds\n", (b - a) / d, (fb - fa) / d }'
fi
echo "daemon's soft open-file limit: $nofile (the fds at the peak: one per client connection plus the environments')"
stop_daemon

# ---- cold start: spawn to first /next ------------------------------------------------------------
echo
echo "== cold start: $COLD_RUNS invokes of the C echo runtime with --force-cold"
if "$LAMBDAD" serve --help 2>&1 | grep -q -- --force-cold; then
  start_daemon cold "$WORK/cold.log" --force-cold
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
  # The runtime's own start: exec, loading and its setup, up to where it would send its first
  # /next (`bootstrap --start-only`), timed by hyperfine without a shell.
  if command -v hyperfine >/dev/null 2>&1 && ((${#inits[@]} > 0)); then
    own_ms=$(AWS_LAMBDA_RUNTIME_API=127.0.0.1:9 hyperfine -N --runs 200 --warmup 20 --export-json "$WORK/own.json" \
      "$WORK/echo/bootstrap --start-only" >/dev/null 2>&1 &&
      /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"] * 1000)' "$WORK/own.json")
    if [[ -n $own_ms ]]; then
      awk -v own="$own_ms" -v init="$(median "${inits[@]}")" 'BEGIN {
        printf "the runtime'"'"'s own start (hyperfine -N, 200 runs of bootstrap --start-only): median %.2f ms; Init Duration above it: %.2f ms\n",
          own, init - own }'
    fi
  fi
else
  echo "skipped: this lambdad has no --force-cold"
fi

echo
echo "method: wrk -t min(N,2) -cN -d$DURATION --latency, $RUNS runs per N after a 1 s warm-up, POST of the small JSON event in bench/invoke.lua to a provided.al2023 C echo runtime (bench/echo_bootstrap.c), keep-alive connections; cold invoke by curl; scaling by bench/burst.c: $SCALE connections opened, then $SCALE invokes of {\"sleep_ms\":$SCALE_SLEEP_MS} sent back to back to the same C runtime"
echo "machine: $(machine_line)"
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
