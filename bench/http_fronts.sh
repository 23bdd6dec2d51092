#!/usr/bin/env bash
# Requests/s and latency of the HTTP fronts beside the Invoke API: one function on the C echo
# runtime (bench/echo_bootstrap.c) reached three ways on one daemon, so the differences are the
# fronts' own cost (route match, payload 2.0 event, response mapping) over an Invoke's:
#   invoke   POST /2015-03-31/functions/Echo/invocations on the Invoke API port
#   url      its Function URL (FunctionUrlConfig, AuthType NONE): POST / on the API port with
#            `Host: <function>.lambda-url.localhost:<port>` (decision 020)
#   httpapi  its HTTP API route (Events: Type HttpApi, POST /echo, payload 2.0) on the API port
#
#   bench/http_fronts.sh
#   BUILD_DIR=build-bench RUNS=3 DURATION=3s bench/http_fronts.sh
#   LAMBDAD_BIN=build-bench/lambdad CONNECTIONS="1 4 16" API_PORT=3000 bench/http_fronts.sh
#
# Per connection count (CONNECTIONS, default "1 16"): a 1 s wrk warm-up of each target, then RUNS
# (default 5) rounds of one wrk run of DURATION (default 5s) per target, the targets' order
# rotating from round to round, so that the drifts of a shared machine hit every target alike.
# Every request is bench/invoke.lua's POST of a small JSON event; the echo runtime returns the
# event it got, so an Invoke answers the 23-byte body and a front answers its payload 2.0 event
# (about 0.8 kB, the sizes are printed) as a JSON body. Prints each run, the medians of requests/s,
# p50, p99 and the daemon's CPU time per request (utime + stime of /proc/PID/stat over the run
# divided by the requests wrk completed) per target, and each front's ratios to the Invoke API:
# per round (the three runs of a round share the machine's conditions), and their median.
# Serves on API_PORT (default 0: a free port). Never fails on timing; exits non-zero only if it
# cannot run (a tool or the build missing, the daemon not starting, a target not answering 200).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-1 16}
API_PORT=${API_PORT:-0}
TARGETS=(invoke url httpapi)

fail() { echo "bench/http_fronts.sh: $*" >&2; exit 1; }
for tool in cmake curl wrk; do command -v "$tool" >/dev/null 2>&1 || fail "missing tool: $tool"; done
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
echo "== building ($BUILD_DIR)"
bench_build lambdad_echo_bootstrap >/dev/null

bench_workdir fronts

echo_template 60 "      FunctionUrlConfig:
        AuthType: NONE
      Events:
        Echo:
          Type: HttpApi
          Properties:
            Path: /echo
            Method: POST"

start_daemon fronts "$WORK/fronts.log" --api-port "$API_PORT"
api=$(wait_stdout fronts '^API listening on http://')
API_BASE=${api#API listening on }
# "  URL http://echo.lambda-url.localhost:PORT/ -> Echo (also ...)"
url_line=$(wait_stdout fronts '^ +URL http://[^ ]+\.lambda-url\.localhost:[0-9]+/ -> Echo')
URL_HOST=$(sed -E 's#^ +URL http://([^/]+)/.*#\1#' <<<"$url_line")
wait_stdout fronts '^ +POST /echo -> Echo ' >/dev/null

# target NAME: sets T_URL and T_HOST (a Host header, or empty for the URL's own).
target() {
  T_HOST=
  case $1 in
    invoke) T_URL=$ENDPOINT/2015-03-31/functions/Echo/invocations ;;
    url) T_URL=$API_BASE/ T_HOST=$URL_HOST ;;
    httpapi) T_URL=$API_BASE/echo ;;
  esac
}

# One request per target, checked: 200, and the answer is what that front sends (the event back
# from an Invoke; a payload 2.0 event with the front's routeKey and host from the fronts).
BODY='{"bench":"echo","n":42}'
declare -A SIZE_OF
for t in "${TARGETS[@]}"; do
  target "$t"
  host=()
  [[ -z $T_HOST ]] || host=(-H "Host: $T_HOST")
  res=$(curl -sS -o "$WORK/$t.body" -w '%{http_code} %{size_download}' -X POST "${host[@]}" \
    -H 'Content-Type: application/json' --data "$BODY" "$T_URL") || fail "$t: curl failed"
  read -r status size <<<"$res"
  got=$(cat "$WORK/$t.body")
  [[ $status == 200 ]] || { tail -20 "$WORK/fronts.log" >&2; fail "$t ($T_URL) answered HTTP $status: $got"; }
  # shellcheck disable=SC2016  # $default is API Gateway's route key, not a variable
  case $t in
    invoke) [[ $got == "$BODY" ]] ;;
    url) [[ $got == *'"routeKey":"$default"'* && $got == *"\"domainName\":\"${URL_HOST%%:*}"* ]] ;;
    httpapi) [[ $got == *'"routeKey":"POST /echo"'* ]] ;;
  esac || fail "$t ($T_URL) answered what its front does not send: $got"
  SIZE_OF[$t]=$size
done

# run_wrk TARGET CONNS DURATION [wrk options...]: wrk's output.
run_wrk() {
  local threads=$(($2 < 2 ? $2 : 2)) t=$1 conns=$2 duration=$3
  shift 3
  target "$t"
  local host=()
  [[ -z $T_HOST ]] || host=(-H "Host: $T_HOST")
  wrk -t"$threads" -c"$conns" -d"$duration" "$@" "${host[@]}" -s "$REPO/bench/invoke.lua" "$T_URL"
}

build_type=unknown
if [[ -z ${LAMBDAD_BIN:-} ]]; then
  build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$BUILD_DIR/CMakeCache.txt")
fi
echo "daemon: $LAMBDAD (CMAKE_BUILD_TYPE ${build_type:-none}), serve --api-port $API_PORT, log level info, stderr to a file"
echo "machine: $(machine_line); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "targets: invoke $ENDPOINT/2015-03-31/functions/Echo/invocations; url $API_BASE/ with Host: $URL_HOST; httpapi $API_BASE/echo"
echo "answer bodies: invoke ${SIZE_OF[invoke]} bytes, url ${SIZE_OF[url]} bytes, httpapi ${SIZE_OF[httpapi]} bytes"
echo "method: wrk -t min(N,2) -cN -d$DURATION --latency -s bench/invoke.lua, $RUNS rounds per N after a 1 s warm-up per target, targets rotating within each round, keep-alive connections"

# ratio A B: A / B with two decimals (0 when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

declare -A P50S P99S RPSS CPUS RATIO_RPS RATIO_P50 RATIO_CPU
for conns in $CONNECTIONS; do
  echo
  echo "== $conns connection(s)"
  # Warm-up: the first $conns concurrent requests start $conns environments (cold starts).
  for t in "${TARGETS[@]}"; do run_wrk "$t" "$conns" 1s >/dev/null 2>&1 || true; done
  for ((run = 1; run <= RUNS; run++)); do
    declare -A ROUND_RPS=() ROUND_P50=() ROUND_CPU=()
    for ((i = 0; i < ${#TARGETS[@]}; i++)); do
      t=${TARGETS[$(((run - 1 + i) % ${#TARGETS[@]}))]}
      read -r u0 s0 <<<"$(cpu_of "$DAEMON_PID")"
      out=$(run_wrk "$t" "$conns" "$DURATION" --latency) || fail "wrk failed: $out"
      read -r u1 s1 <<<"$(cpu_of "$DAEMON_PID")"
      read -r p50 p99 rps reqs non2xx <<<"$(wrk_figures "$out")"
      cpu=$(awk -v c="$((u1 + s1 - u0 - s0))" -v r="$reqs" -v t="$TICK_US" 'BEGIN { printf "%.1f", (r > 0 ? c * t / r : 0) }')
      errs=$(wrk_errors "$out")
      printf 'run %d %-7s p50 %8.1f us  p99 %8.1f us  %10.1f req/s  daemon CPU %6.1f us/req  non-2xx %s%s\n' \
        "$run" "$t" "$p50" "$p99" "$rps" "$cpu" "${non2xx:-?}" "${errs:+  ($errs)}"
      P50S[$t,$conns]+=" $p50" P99S[$t,$conns]+=" $p99" RPSS[$t,$conns]+=" $rps" CPUS[$t,$conns]+=" $cpu"
      ROUND_RPS[$t]=$rps ROUND_P50[$t]=$p50 ROUND_CPU[$t]=$cpu
    done
    line=
    for t in "${TARGETS[@]:1}"; do
      r_rps=$(ratio "${ROUND_RPS[$t]}" "${ROUND_RPS[invoke]}")
      r_p50=$(ratio "${ROUND_P50[$t]}" "${ROUND_P50[invoke]}")
      r_cpu=$(ratio "${ROUND_CPU[$t]}" "${ROUND_CPU[invoke]}")
      RATIO_RPS[$t,$conns]+=" $r_rps" RATIO_P50[$t,$conns]+=" $r_p50" RATIO_CPU[$t,$conns]+=" $r_cpu"
      line+="${line:+; }$t req/s ${r_rps}x, p50 ${r_p50}x, CPU ${r_cpu}x"
    done
    echo "  round $run, to invoke: $line"
  done
done
stop_daemon

echo
echo "medians of $RUNS runs (to invoke: the median of the rounds' ratios of the front's run to the Invoke API's):"
# shellcheck disable=SC2086  # the lists are space-separated numbers
for conns in $CONNECTIONS; do
  for t in "${TARGETS[@]}"; do
    read -r rps p50 p99 cpu <<<"$(median ${RPSS[$t,$conns]}) $(median ${P50S[$t,$conns]}) $(median ${P99S[$t,$conns]}) $(median ${CPUS[$t,$conns]})"
    to=
    if [[ $t != invoke ]]; then
      to=$(printf '  to invoke: req/s %.2fx, p50 %.2fx, CPU %.2fx' "$(median ${RATIO_RPS[$t,$conns]})" \
        "$(median ${RATIO_P50[$t,$conns]})" "$(median ${RATIO_CPU[$t,$conns]})")
    fi
    printf '  %2d conn %-7s %10.1f req/s  p50 %8.1f us  p99 %8.1f us  daemon CPU %6.1f us/req%s\n' \
      "$conns" "$t" "$rps" "$p50" "$p99" "$cpu" "$to"
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
