#!/usr/bin/env bash
# Where lambdad's CPU goes under load: the daemon's CPU time per request at CONNS (default 16)
# keep-alive connections of Invokes to the C echo runtime (bench/echo_bootstrap.c), for a few
# daemon configurations, then a perf profile of the default one.
#
#   bench/profile.sh
#   BUILD_DIR=build-bench LAMBDAD_BIN=/tmp/lambdad-prof/lambdad OUT=/tmp/prof bench/profile.sh
#   CONNS=16 DURATION=10s RUNS=3 CONFIGS="default quiet" PERF=0 bench/profile.sh
#
# Configurations (CONFIGS, default all, in this order):
#   default  serve as bench/run.sh does: log level info, stderr to a file
#   devnull  the same with stderr to /dev/null (formatting kept, the write(2) is cheaper)
#   quiet    --log-level off: no daemon lines and no START/END/REPORT lines at all
#   nomem    --memory-enforcement off: no cgroup, so no per-invoke reset and read of the
#            cgroup's peak (the REPORT's peak then comes from /proc/PID/status, also per invoke)
#   lean     --log-level off --memory-enforcement off: both of the above
# One daemon per configuration, all started (and warmed up by 2 s of wrk) first; then RUNS
# (default 5) rounds, each one wrk run of DURATION (default 5s) per configuration in turn, so that
# drifts of this shared machine hit every configuration alike. Per run: the daemon's user and
# system CPU (utime/stime of /proc/PID/stat) divided by the requests wrk completed, and the echo
# runtimes' CPU per request alongside; then the medians per configuration.
#
# Syscalls (STRACE=1, the default, when strace is installed): `strace -c` of the default daemon
# during a short wrk run, as calls per request (strace slows the daemon; the counts hold).
#
# Profile (PERF=1, the default, when `perf record` works here): `perf record -g` of the daemon
# during one more wrk run of the default configuration; prints the top symbols by self and by
# inclusive ("children") cost and the split by shared object; the full reports are kept in OUT
# (default: a temporary directory, removed at the end). Call chains are unwound from DWARF
# (PERF_CALLGRAPH=dwarf, the default: the Release daemon has no frame pointers; about 3 MB of
# perf.data per second at PERF_FREQ=499); PERF_CALLGRAPH=fp suits a daemon built with
# -fno-omit-frame-pointer.
# Never fails on timing; exits non-zero only if it cannot run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONNS=${CONNS:-16}
WRK_THREADS=$((CONNS < 2 ? CONNS : 2))
DURATION=${DURATION:-5s}
RUNS=${RUNS:-5}
CONFIGS=${CONFIGS:-default devnull quiet nomem lean}
STRACE=${STRACE:-1}
PERF=${PERF:-1}
PERF_FREQ=${PERF_FREQ:-499}
PERF_CALLGRAPH=${PERF_CALLGRAPH:-dwarf}
TOP=${TOP:-25}

fail() { echo "profile: $*" >&2; exit 1; }
for tool in cmake curl wrk; do command -v "$tool" >/dev/null 2>&1 || fail "missing tool: $tool"; done
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_build lambdad_echo_bootstrap >/dev/null

bench_workdir profile
OUT=${OUT:-}
[[ -z $OUT ]] || mkdir -p "$OUT"

echo_template 30

# start_daemon (bench/lib.sh) with the Invoke URL of the function: sets DAEMON_PID and URL.
start_echo_daemon() {
  start_daemon "$@"
  URL=$ENDPOINT/2015-03-31/functions/Echo/invocations
}

# Summed utime+stime ticks of a daemon's direct children (the runtimes).
children_ticks() {
  local total=0 c ut st
  # shellcheck disable=SC2013  # the children files are space-separated pids
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    read -r ut st < <(sed 's/^.*) //' "/proc/$c/stat" 2>/dev/null | awk '{ print $12, $13 }') || continue
    total=$((total + ut + st))
  done
  echo "$total"
}
declare -A PID_OF URL_OF LOG_OF USERS SYSS TOTALS RTS RPSS
echo "== daemon CPU per request: wrk -t"$WRK_THREADS" -c$CONNS -d$DURATION, $RUNS rounds over the configurations"
for config in $CONFIGS; do
  err=$WORK/$config.log
  opts=()
  case $config in
    default) ;;
    devnull) err=/dev/null ;;
    quiet) opts=(--log-level off) ;;
    nomem) opts=(--memory-enforcement off) ;;
    lean) opts=(--log-level off --memory-enforcement off) ;;
    *) fail "unknown configuration $config" ;;
  esac
  start_echo_daemon "$config" "$err" "${opts[@]}"
  PID_OF[$config]=$DAEMON_PID URL_OF[$config]=$URL LOG_OF[$config]=$err
  wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$REPO/bench/invoke.lua" "$URL" >/dev/null 2>&1 || true
done
for ((run = 1; run <= RUNS; run++)); do
  for config in $CONFIGS; do
    pid=${PID_OF[$config]}
    read -r u0 s0 <<<"$(cpu_of "$pid")"
    c0=$(children_ticks "$pid")
    out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" -s "$REPO/bench/invoke.lua" "${URL_OF[$config]}") || fail "wrk failed: $out"
    read -r u1 s1 <<<"$(cpu_of "$pid")"
    c1=$(children_ticks "$pid")
    reqs=$(wrk_requests "$out")
    rps=$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")
    ((reqs > 0)) || fail "wrk completed no request: $out"
    read -r user sys total rt < <(awk -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v c="$((c1 - c0))" \
      -v r="$reqs" -v t="$TICK_US" 'BEGIN { printf "%.2f %.2f %.2f %.2f\n", u * t / r, s * t / r, (u + s) * t / r, c * t / r }')
    printf 'run %d %-8s %7d requests, %8.1f req/s; daemon CPU per request: user %6.2f us, sys %6.2f us, total %6.2f us; runtimes %6.2f us\n' \
      "$run" "$config" "$reqs" "$rps" "$user" "$sys" "$total" "$rt"
    USERS[$config]+=" $user" SYSS[$config]+=" $sys" TOTALS[$config]+=" $total" RTS[$config]+=" $rt" RPSS[$config]+=" $rps"
  done
done
for config in $CONFIGS; do stop_daemon "${PID_OF[$config]}"; done
if [[ " $CONFIGS " == *" default "* ]]; then
  log=${LOG_OF[default]}
  echo "default: the daemon's stderr (a file) got $(wc -l <"$log") lines, $(wc -c <"$log") bytes over the warm-up and runs"
fi
echo
echo "medians (CPU per request; runtimes = the echo runtimes' CPU):"
for config in $CONFIGS; do
  # shellcheck disable=SC2086  # the lists are space-separated numbers
  printf '  %-8s %8.1f req/s; daemon user %6.2f us, sys %6.2f us, total %6.2f us; runtimes %6.2f us\n' "$config" \
    "$(median ${RPSS[$config]})" "$(median ${USERS[$config]})" "$(median ${SYSS[$config]})" \
    "$(median ${TOTALS[$config]})" "$(median ${RTS[$config]})"
done

# ---- syscalls per request -------------------------------------------------------------------
echo
if ((STRACE == 0)) || ! command -v strace >/dev/null 2>&1; then
  echo "== syscalls per request: skipped (STRACE=0 or no strace)"
else
  echo "== syscalls per request: strace -c of the daemon (default configuration) during wrk -c$CONNS -d3s"
  start_echo_daemon strace "$WORK/strace.log"
  wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$REPO/bench/invoke.lua" "$URL" >/dev/null 2>&1 || true
  strace -c -f -p "$DAEMON_PID" -o "$WORK/strace.txt" >/dev/null 2>&1 &
  strace_pid=$!
  sleep 0.5
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d3s -s "$REPO/bench/invoke.lua" "$URL") || fail "wrk failed: $out"
  kill -INT "$strace_pid" 2>/dev/null || true
  wait "$strace_pid" 2>/dev/null || true
  stop_daemon
  reqs=$(wrk_requests "$out")
  [[ -z $OUT ]] || cp "$WORK/strace.txt" "$OUT/strace.txt"
  # strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
  awk -v r="$reqs" '
    $1 ~ /^[0-9.]+$/ && NF >= 5 { name = $NF; calls = $4; if (name != "total") { n[name] = calls; order[++k] = name } else total = calls }
    END {
      printf "%d requests; %.2f syscalls per request:", r, total / r
      for (i = 1; i <= k; i++) if (n[order[i]] / r >= 0.05) printf " %s %.2f", order[i], n[order[i]] / r
      printf "\n"
    }' "$WORK/strace.txt"
fi

# ---- perf profile --------------------------------------------------------------------------
echo
if ((PERF == 0)); then
  echo "== perf profile: skipped (PERF=0)"
  exit 0
fi
if ! command -v perf >/dev/null 2>&1 || ! perf record -o "$WORK/probe.data" -q -- true >/dev/null 2>&1; then
  echo "== perf profile: skipped (perf missing or not usable on this kernel)"
  exit 0
fi
echo "== perf profile: perf record -F $PERF_FREQ --call-graph $PERF_CALLGRAPH of the daemon (default configuration) during wrk -c$CONNS -d$DURATION"
start_echo_daemon perf "$WORK/perf.log"
wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$REPO/bench/invoke.lua" "$URL" >/dev/null 2>&1 || true
perf_data=${OUT:-$WORK}/perf.data
perf record -q -F "$PERF_FREQ" --call-graph "$PERF_CALLGRAPH" -p "$DAEMON_PID" -o "$perf_data" >/dev/null 2>&1 &
perf_pid=$!
sleep 0.5
out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" -s "$REPO/bench/invoke.lua" "$URL") || fail "wrk failed: $out"
kill -INT "$perf_pid" 2>/dev/null || true
wait "$perf_pid" 2>/dev/null || true
stop_daemon
echo "wrk under perf: $(wrk_requests "$out") requests, $(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out") req/s"
report() {  # NAME perf-report options...
  local name=$1
  shift
  perf report -i "$perf_data" --stdio --percent-limit 0.3 "$@" 2>/dev/null >"$WORK/$name.txt" || true
  [[ -z $OUT ]] || cp "$WORK/$name.txt" "$OUT/$name.txt"
}
report self --no-children -g none --sort sym
report children --children -g none --sort sym
report dso --no-children -g none --sort dso
report callers --no-children -g caller,0.5,callee,function,percent --sort sym
top_of() { grep -E '^ +[0-9]' "$1" | head -"$TOP" | sed -E 's/ +$//' | cut -c1-160; }
echo
echo "-- by shared object (self):"
top_of "$WORK/dso.txt"
echo
echo "-- top $TOP symbols by self cost:"
top_of "$WORK/self.txt"
echo
echo "-- top $TOP symbols by inclusive cost (children):"
top_of "$WORK/children.txt"
[[ -z $OUT ]] || echo "full reports and perf.data in $OUT (callers.txt: call chains of each hot symbol)"
