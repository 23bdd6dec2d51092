#!/usr/bin/env bash
# Cold-start cost of the Lambda-shaped root (docs/decisions/014): two daemons on the bundled
# examples with --force-cold, one with --filesystem lambda (a root per environment), one with
# --filesystem host, invoked in alternation so that both see the same machine load. Prints, per
# function, the median Init Duration (spawn to the runtime's first /next, from REPORT) and the
# median time curl waits for a cold invoke, and the ratio lambda/host. Needs root (a root cannot
# be made otherwise). Never fails on timing.
#
#   bench/cold_start.sh [RUNS]        # default 20 cold starts per function and mode
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-20}
fail() { echo "bench/cold_start.sh: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
[[ $(id -u) == 0 ]] || fail "needs root: without it no Lambda-shaped root can be made"
if [[ -n ${LAMBDAD_BIN:-} ]]; then LAMBDAD=$LAMBDAD_BIN; else bench_build; fi
WORK=$(mktemp -d)
pids=()
trap 'stop_daemons "${pids[@]}"; rm -rf "$WORK"' EXIT

start() {  # start MODE: serves the examples; sets url_MODE
  local mode=$1
  "$LAMBDAD" serve --template "$REPO/examples/template.yaml" --port 0 --force-cold --filesystem "$mode" \
    >"$WORK/$mode.out" 2>"$WORK/$mode.log" &
  pids+=($!)
  for _ in $(seq 200); do
    grep -q "Invoke API listening" "$WORK/$mode.out" 2>/dev/null && break
    sleep 0.05
  done
  local url
  url=$(grep -o 'http://[0-9.:]*' "$WORK/$mode.out") || fail "$mode daemon did not start: $(cat "$WORK/$mode.log")"
  printf -v "url_$mode" '%s' "$url"
}
start lambda
start host
grep -q "functions run in a Lambda-shaped root" "$WORK/lambda.log" || fail "no Lambda-shaped root: $(cat "$WORK/lambda.log")"

echo "== cold starts: $RUNS per function and mode, alternating (--force-cold, examples/template.yaml)"
printf '%-14s %20s %20s %8s %20s %20s %8s\n' function "init lambda (ms)" "init host (ms)" ratio "curl lambda (ms)" "curl host (ms)" ratio
for fn in HelloPython HelloNode HelloProvided; do
  : >"$WORK/$fn.lambda.curl"; : >"$WORK/$fn.host.curl"
  for _ in $(seq "$RUNS"); do
    for mode in lambda host; do
      url_var="url_$mode"
      curl -sS -o /dev/null -w '%{time_total}\n' -X POST --data '{"name":"bench"}' \
        "${!url_var}/2015-03-31/functions/$fn/invocations" | awk '{ print $1 * 1000 }' >>"$WORK/$fn.$mode.curl"
    done
  done
  for mode in lambda host; do
    grep -o "\[$fn\] REPORT.*Init Duration: [0-9.]*" "$WORK/$mode.log" | grep -o '[0-9.]*$' | median >"$WORK/$fn.$mode.init"
    median <"$WORK/$fn.$mode.curl" >"$WORK/$fn.$mode.curlm"
  done
  read -r il <"$WORK/$fn.lambda.init"; read -r ih <"$WORK/$fn.host.init"
  read -r cl <"$WORK/$fn.lambda.curlm"; read -r ch <"$WORK/$fn.host.curlm"
  printf '%-14s %20s %20s %8s %20s %20s %8s\n' "$fn" "$il" "$ih" "$(awk -v a="$il" -v b="$ih" 'BEGIN { printf "%.2f", a / b }')" \
    "$cl" "$ch" "$(awk -v a="$cl" -v b="$ch" 'BEGIN { printf "%.2f", a / b }')"
done
echo "(medians; Init Duration from the daemons' REPORT lines, curl's time_total for the whole cold invoke)"
