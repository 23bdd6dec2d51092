#!/usr/bin/env bash
# SnapStart restores (docs/decisions/023) against ordinary cold starts of the same Python
# functions: one daemon with --force-cold serves HelloPython (examples/functions/hello-python,
# our Python runtime) and HelloPythonSnap (the same code, SnapStart: ApplyOn: PublishedVersions,
# invoked through its alias), and HeavyPython/HeavyPythonSnap, whose init also imports json,
# decimal, asyncio and email (about 30 ms of imports) as a function with real dependencies would.
# The functions are invoked in alternation, RUNS times each, after one warm-up invoke each (the
# snapshot's own init). Prints per function the median of Init Duration or Restore Duration (the
# environment's start to its runtime's first /next, from REPORT; for a restore, the cold start
# answering the copy's /restore/next to its first /next) and of curl's time_total for the whole
# cold invoke, and the ratios snap/plain. Needs root (a non-root daemon restores in place). Never
# fails on timing.
#
#   bench/snapstart.sh [RUNS]        # default 20 cold starts per function
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-20}
fail() { echo "bench/snapstart.sh: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
[[ $(id -u) == 0 ]] || fail "restores fork into new environments only as root; as another user they run in place"
bench_build
bench_workdir snapstart

mkdir -p "$WORK/heavy"
cat >"$WORK/heavy/app.py" <<'EOF'
import asyncio, decimal, email.parser, json  # noqa: E401,F401  what a function with dependencies pays at init


def handler(event, context):
    return {"message": "hello from python", "requestId": context.aws_request_id}
EOF
cat >"$WORK/template.yaml" <<EOF
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        GREETING: hello
Resources:
  HelloPython:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: $REPO/examples/functions/hello-python/
  HelloPythonSnap:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: $REPO/examples/functions/hello-python/
      AutoPublishAlias: live
      SnapStart: {ApplyOn: PublishedVersions}
  HeavyPython:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: heavy/
  HeavyPythonSnap:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: heavy/
      AutoPublishAlias: live
      SnapStart: {ApplyOn: PublishedVersions}
EOF

start_daemon now "$WORK/now.log" --force-cold
invoke() {  # invoke FUNCTION [QUALIFIER]: appends curl's time_total (ms) to $WORK/FUNCTION.curl
  curl -sS -o "$WORK/body" -w '%{time_total}\n' -X POST --data '{"name":"bench"}' \
    "$ENDPOINT/2015-03-31/functions/$1${2:+:$2}/invocations" | awk '{ print $1 * 1000 }' >>"$WORK/$1.curl"
  grep -q "from python" "$WORK/body" || fail "$1 answered $(cat "$WORK/body")"
}
plain=(HelloPython HeavyPython)
echo "== $RUNS cold starts per function, alternating (--force-cold); $(machine_line)"
for fn in "${plain[@]}"; do invoke "$fn"; invoke "${fn}Snap" live; done  # warm-up: the snapshots' init
for fn in "${plain[@]}" "${plain[@]/%/Snap}"; do : >"$WORK/$fn.curl"; done
for _ in $(seq "$RUNS"); do
  for fn in "${plain[@]}"; do
    invoke "$fn"
    invoke "${fn}Snap" live
  done
done

# REPORT lines come in the order of the invokes; the first of each Snap function is the
# warm-up's, as is each plain function's first.
for fn in "${plain[@]}"; do
  grep -o "\[$fn\] REPORT.*Init Duration: [0-9.]*" "$WORK/now.log" | grep -o '[0-9.]*$' | tail -n "$RUNS" >"$WORK/$fn.start"
  grep "\[${fn}Snap:1\] REPORT.*Restore Duration" "$WORK/now.log" | sed -E 's/.*\tRestore Duration: ([0-9.]+) ms.*/\1/' |
    tail -n "$RUNS" >"$WORK/${fn}Snap.start"
done
snap_inits=$(grep -c "Snap:1\] INIT_REPORT Init Duration" "$WORK/now.log" || true)
ratio() { paste "$WORK/$1" "$WORK/$2" | awk 'NF == 2 && $2 > 0 { printf "%.3f\n", $1 / $2 }' | median; }

printf '\n%-22s %22s %12s\n' "function" "init/restore (ms)" "curl (ms)"
for fn in "${plain[@]}"; do
  printf '%-22s %22s %12s\n' "$fn" "$(median <"$WORK/$fn.start") init" "$(median <"$WORK/$fn.curl")"
  printf '%-22s %22s %12s\n' "${fn}Snap" "$(median <"$WORK/${fn}Snap.start") restore" "$(median <"$WORK/${fn}Snap.curl")"
done
echo
echo "ratios snap/plain (median of the run-by-run ratios)   start    curl"
for fn in "${plain[@]}"; do
  printf '%-52s %6s  %6s\n' "$fn" "$(ratio "${fn}Snap.start" "$fn.start")" "$(ratio "${fn}Snap.curl" "$fn.curl")"
done
echo "(the Snap functions initialised $snap_inits time(s) in all: once each, for their snapshot;"
echo " start = Init Duration or Restore Duration from the daemon's REPORT lines, invoke to first /next;"
echo " curl = time_total of the whole cold invoke)"
