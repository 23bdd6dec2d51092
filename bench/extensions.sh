#!/usr/bin/env bash
# What an extension costs a warm invoke (docs/decisions/024): one daemon serves Echo (the C echo
# runtime, bench/echo_bootstrap.c) and EchoExt (the same, with a layer whose extensions/echo-extension
# is that program again, an external extension subscribed to INVOKE that asks /event/next again
# at once). wrk at one connection, RUNS runs of DURATION each, alternating the two functions run by
# run after a warm-up of each. Prints each run, the medians of p50 and requests/s, and the ratio
# with/without. Never fails on timing.
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

echo_template 10 "  EchoExt:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: echo
      CodeUri: echo/
      Timeout: 10
      MemorySize: 128
      Layers: [!Ref Probe]
  Probe:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: probe/"
mkdir -p "$WORK/probe/extensions"
cp "$WORK/echo/bootstrap" "$WORK/probe/extensions/echo-extension"

start_daemon main "$WORK/main.log"
url() { echo "$ENDPOINT/2015-03-31/functions/$1/invocations"; }
for fn in Echo EchoExt; do
  out=$(curl -sS -X POST --data '{"bench":"warm-up"}' "$(url "$fn")") || fail "$fn: invoke failed"
  [[ $out == '{"bench":"warm-up"}' ]] || fail "$fn returned $out"
  wrk -t1 -c1 -d1s -s "$REPO/bench/invoke.lua" "$(url "$fn")" >/dev/null 2>&1 || true
done

declare -A P50 RPS
for ((run = 1; run <= RUNS; run++)); do
  for fn in Echo EchoExt; do
    out=$(wrk -t1 -c1 -d"$DURATION" --latency -s "$REPO/bench/invoke.lua" "$(url "$fn")") || fail "wrk failed: $out"
    read -r p50 _ rps _ non2xx <<<"$(wrk_figures "$out")"
    printf 'run %d: %-8s p50 %8.1f us  %10.1f req/s  non-2xx %s\n' "$run" "$fn" "$p50" "$rps" "${non2xx:-?}"
    P50[$fn]+="$p50 " RPS[$fn]+="$rps "
  done
done
# shellcheck disable=SC2086
{
  p50_plain=$(median ${P50[Echo]}) p50_ext=$(median ${P50[EchoExt]})
  rps_plain=$(median ${RPS[Echo]}) rps_ext=$(median ${RPS[EchoExt]})
}
echo
printf 'medians: without an extension p50 %.1f us, %.1f requests/s; with one p50 %.1f us, %.1f requests/s\n' \
  "$p50_plain" "$rps_plain" "$p50_ext" "$rps_ext"
awk -v a="$rps_ext" -v b="$rps_plain" -v c="$p50_ext" -v d="$p50_plain" \
  'BEGIN { printf "with/without: requests/s %.2fx, p50 %.2fx\n", (b > 0 ? a / b : 0), (d > 0 ? c / d : 0) }'
envs=$(curl -sS "$ENDPOINT/_lambdad/status" | /usr/bin/python3 -c 'import json, sys
fs = {f["name"]: len(f["environments"]) for f in json.load(sys.stdin)["functions"]}
print("environments at the end: Echo {}, EchoExt {} (an invoke that finds the only one still waiting for its extension starts another, as on Lambda)".format(fs.get("Echo"), fs.get("EchoExt")))')
echo "$envs"
echo "method: wrk -t1 -c1 -d$DURATION --latency, $RUNS runs per function alternated, the small JSON event of bench/invoke.lua; the extension is bench/echo_bootstrap.c run as extensions/echo-extension (INVOKE, asks again at once)"
machine_line
