#!/usr/bin/env bash
# Managed instances (docs/decisions/028) against classic environments, with the C echo runtime
# (bench/echo_bootstrap.c, which serves AWS_LAMBDA_MAX_CONCURRENCY invokes at once in as many
# processes): requests/s and latency at CONNECTIONS (default 16) connections of
#   - one managed-instances environment with PerExecutionEnvironmentMaxConcurrency CONNECTIONS
#     (FunctionScalingConfig 1..1), and
#   - classic environments, one per connection (the pool starts them on demand; a warm-up run
#     first, so neither side measures its starts).
# Each side on a daemon of its own, RUNS (default 5) wrk runs of DURATION (default 5s), medians
# printed with the ratio. Never fails on timing.
#
#   BUILD_DIR=build-bench bench/managed.sh
#   LAMBDAD_BIN=build/lambdad CONNECTIONS=32 RUNS=3 bench/managed.sh
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-16}

fail() { echo "bench: $*" >&2; exit 1; }
for tool in cmake curl wrk; do
  command -v "$tool" >/dev/null 2>&1 || fail "missing tool: $tool (the project's install script provides it)"
done

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
echo "== building ($BUILD_DIR)"
bench_build lambdad_echo_bootstrap
bench_workdir managed

measure() {  # NAME: wrk at CONNECTIONS against the Echo function of a fresh daemon; prints the medians
  local name=$1 out p50 p99 rps non2xx
  local -a p50s=() p99s=() rpss=()
  start_daemon "$name" "$WORK/$name.log" --log-level warn
  local url="$ENDPOINT/2015-03-31/functions/Echo/invocations"
  curl -fsS -o /dev/null -X POST -d '{}' "$url" || fail "$name: the first invoke failed"
  wrk -t2 -c"$CONNECTIONS" -d2s -s "$REPO/bench/invoke.lua" "$url" >/dev/null 2>&1 || true
  for ((i = 1; i <= RUNS; i++)); do
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$REPO/bench/invoke.lua" "$url") || fail "wrk failed: $out"
    read -r p50 p99 rps _ non2xx <<<"$(wrk_figures "$out")"
    printf '  %s run %d: p50 %s us, p99 %s us, %s requests/s, %s non-2xx\n' "$name" "$i" "$p50" "$p99" "$rps" "$non2xx"
    p50s+=("$p50") p99s+=("$p99") rpss+=("$rps")
  done
  curl -fsS "$ENDPOINT/_lambdad/status" | /usr/bin/python3 -c '
import json, sys
fn = [f for f in json.load(sys.stdin)["functions"] if f["name"] == "Echo"][0]
live = [e for e in fn["environments"] if e["state"] != "dead"]
print("  %d environment(s), %d throttle(s)" % (len(live), fn["throttles"]))'
  stop_daemon
  RESULT="$(median "${p50s[@]}") $(median "${p99s[@]}") $(median "${rpss[@]}")"
}

echo_template 30 "      MemorySize: 2048
      CapacityProviderConfig:
        Arn: arn:aws:lambda:us-east-1:123456789012:capacity-provider:bench
        PerExecutionEnvironmentMaxConcurrency: $CONNECTIONS
      FunctionScalingConfig:
        MinExecutionEnvironments: 1
        MaxExecutionEnvironments: 1"
# The template's MemorySize line for the classic side stays 128; the managed side needs 2048.
sed -i '0,/      MemorySize: 128/{/      MemorySize: 128/d}' "$WORK/template.yaml"
echo "== one managed-instances environment, $CONNECTIONS slots"
measure managed
read -r m_p50 m_p99 m_rps <<<"$RESULT"

echo_template 30
echo "== classic environments, one per connection"
measure classic
read -r c_p50 c_p99 c_rps <<<"$RESULT"

machine_line
awk -v c="$CONNECTIONS" -v mp="$m_p50" -v m9="$m_p99" -v mr="$m_rps" -v cp="$c_p50" -v c9="$c_p99" -v cr="$c_rps" 'BEGIN {
  printf "medians at %d connections: managed p50 %.0f us p99 %.0f us %.0f req/s; classic p50 %.0f us p99 %.0f us %.0f req/s\n", c, mp, m9, mr, cp, c9, cr
  printf "managed / classic requests/s: %.2f\n", mr / cr }'
