#!/usr/bin/env bash
# What an extension costs a warm invoke (docs/decisions/024, 025): one daemon serves Echo (the C
# echo runtime, bench/echo_bootstrap.c), EchoExt (the same, with a layer whose
# extensions/echo-extension is that program again, an external extension subscribed to INVOKE
# that asks /event/next again at once) and EchoTel (the same, with bench/telemetry_subscriber.py
# as its extension: no event, a Telemetry API subscription to the platform and function streams,
# batches every 25 ms). wrk at one connection, RUNS runs of DURATION each, alternating
# the functions run by run after a warm-up of each. Prints each run, the medians of p50 and
# requests/s, and the ratios to Echo. Never fails on timing.
#
#   bench/extensions.sh                 # builds build/ (BUILD_DIR=build-bench for a Release build)
#   RUNS=5 DURATION=5s BUILD_DIR=build-bench bench/extensions.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
DURATION=${DURATION:-3s}
fail() { echo "bench/extensions.sh: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
command -v wrk >/dev/null || fail "wrk is needed (scripts/install.sh installs it)"
bench_build lambdad_echo_bootstrap
bench_workdir extensions

# The echo function with one layer, whose extensions/ holds the extension.
with_layer() {  # FUNCTION LAYER DIR
  printf '  %s:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: provided.al2023\n' "$1"
  printf '      Handler: echo\n      CodeUri: echo/\n      Timeout: 10\n      MemorySize: 128\n      Layers: [!Ref %s]\n' "$2"
  printf '  %s:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: %s/\n' "$2" "$3"
}
echo_template 10 "$(with_layer EchoExt Probe probe)
$(with_layer EchoTel Subscriber subscriber)"
mkdir -p "$WORK/probe/extensions" "$WORK/subscriber/extensions"
cp "$WORK/echo/bootstrap" "$WORK/probe/extensions/echo-extension"
cp "$REPO/bench/telemetry_subscriber.py" "$WORK/subscriber/extensions/telemetry-subscriber"

start_daemon main "$WORK/main.log"
url() { echo "$ENDPOINT/2015-03-31/functions/$1/invocations"; }
FUNCTIONS=(Echo EchoExt EchoTel)
for fn in "${FUNCTIONS[@]}"; do
  out=$(curl -sS -X POST --data '{"bench":"warm-up"}' "$(url "$fn")") || fail "$fn: invoke failed"
  [[ $out == '{"bench":"warm-up"}' ]] || fail "$fn returned $out"
  wrk -t1 -c1 -d1s -s "$REPO/bench/invoke.lua" "$(url "$fn")" >/dev/null 2>&1 || true
done

declare -A P50 RPS
for ((run = 1; run <= RUNS; run++)); do
  for fn in "${FUNCTIONS[@]}"; do
    out=$(wrk -t1 -c1 -d"$DURATION" --latency -s "$REPO/bench/invoke.lua" "$(url "$fn")") || fail "wrk failed: $out"
    read -r p50 _ rps _ non2xx <<<"$(wrk_figures "$out")"
    printf 'run %d: %-8s p50 %8.1f us  %10.1f req/s  non-2xx %s\n' "$run" "$fn" "$p50" "$rps" "${non2xx:-?}"
    P50[$fn]+="$p50 " RPS[$fn]+="$rps "
  done
done
echo
# shellcheck disable=SC2086
p50_plain=$(median ${P50[Echo]}) rps_plain=$(median ${RPS[Echo]})
for fn in "${FUNCTIONS[@]}"; do
  # shellcheck disable=SC2086
  p50=$(median ${P50[$fn]}) rps=$(median ${RPS[$fn]})
  awk -v f="$fn" -v p="$p50" -v r="$rps" -v p0="$p50_plain" -v r0="$rps_plain" \
    'BEGIN { printf "median %-8s p50 %8.1f us  %10.1f req/s  (to Echo: requests/s %.2fx, p50 %.2fx)\n", f, p, r, (r0 > 0 ? r / r0 : 0), (p0 > 0 ? p / p0 : 0) }'
done
envs=$(curl -sS "$ENDPOINT/_lambdad/status" | /usr/bin/python3 -c 'import json, sys
fs = {f["name"]: len(f["environments"]) for f in json.load(sys.stdin)["functions"]}
print("environments at the end: Echo {}, EchoExt {}, EchoTel {} (an invoke that finds the only one still waiting for its extension starts another, as on Lambda)".format(fs.get("Echo"), fs.get("EchoExt"), fs.get("EchoTel")))')
echo "$envs"
echo "method: wrk -t1 -c1 -d$DURATION --latency, $RUNS runs per function alternated, the small JSON event of bench/invoke.lua; the extension is bench/echo_bootstrap.c run as extensions/echo-extension (INVOKE, asks again at once); the subscriber bench/telemetry_subscriber.py (Python, no event, platform and function streams, 25 ms batches)"
machine_line
