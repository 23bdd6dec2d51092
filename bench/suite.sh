#!/usr/bin/env bash
# `lambdad test` on generated suites of CASES (default 1000) cases: one against the C echo runtime
# (bench/echo_bootstrap.c: lambdad's own cost per case) and one against a Python function (the
# bundled Python runtime client on the host's python3). Each case sends a distinct event and
# expects it back exactly, so every result is checked.
#
#   bench/suite.sh
#   CASES=1000 RUNS=3 JOBS="4 8" BUILD_DIR=build-rel bench/suite.sh
#
# Prints, per suite and --jobs value, the wall time of each run (hyperfine-free: date +%s%N
# around the whole command, so process start, template load, cold starts and the report are
# included) and their median, with the runner's own summary line. Never fails on timing.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CASES=${CASES:-1000}
RUNS=${RUNS:-3}
JOBS=${JOBS:-"4 8"}

fail() { echo "bench: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_build lambdad_echo_bootstrap
ECHO_BOOTSTRAP=$(find_binary lambdad_echo_bootstrap) || fail "lambdad_echo_bootstrap not found under $BUILD_DIR"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lambdad-bench-suite.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/echo" "$WORK/py" "$WORK/cases-echo" "$WORK/cases-py"
cp "$ECHO_BOOTSTRAP" "$WORK/echo/bootstrap"
chmod +x "$WORK/echo/bootstrap"
printf 'def handler(event, context):\n    return event\n' >"$WORK/py/app.py"
cat >"$WORK/template.yaml" <<'YAML'
Transform: AWS::Serverless-2016-10-31
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, Handler: bootstrap, CodeUri: echo/}
  PyEcho:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: py/}
YAML
# One file per suite, CASES cases, each with its own event and exact expectation.
for fn in Echo PyEcho; do
  dir=$WORK/cases-$([[ $fn == Echo ]] && echo echo || echo py)
  {
    echo "function: $fn"
    echo "cases:"
    for ((i = 0; i < CASES; i++)); do
      echo "  - {name: case-$i, event: {id: $i, text: hello}, expect: {result: {id: $i, text: hello}}}"
    done
  } >"$dir/all.case.yaml"
done

echo "== lambdad test: $CASES cases per suite, $RUNS runs, $(nproc) cores ($(uname -m))"
for suite in echo py; do
  for jobs in $JOBS; do
    times=()
    for ((r = 1; r <= RUNS; r++)); do
      start=$(date +%s%N)
      summary=$("$LAMBDAD" test --template "$WORK/template.yaml" "$WORK/cases-$suite" --jobs "$jobs" 2>/dev/null | tail -1) \
        || echo "  (run $r: some cases failed)"
      end=$(date +%s%N)
      ms=$(( (end - start) / 1000000 ))
      times+=("$ms")
      echo "  $suite --jobs $jobs run $r: ${ms} ms  [$summary]"
    done
    echo "  $suite --jobs $jobs median: $(printf '%s\n' "${times[@]}" | median) ms"
  done
done
echo "method: wall time of the whole \`lambdad test\` process (start, template load, cold starts, $CASES invocations with exact result checks, summary), median of $RUNS runs"
