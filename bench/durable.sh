#!/usr/bin/env bash
# Durable executions (docs/decisions/026): what a step costs and how many checkpoints the daemon
# takes per second. One daemon serves Steps (the official @aws/durable-execution-sdk-js, a
# workflow of n steps), Loop (the same loop, plain, not durable) and Raw (a durable function that
# calls CheckpointDurableExecution itself, one step per call, one call at a time). For each of
# RUNS runs, bench/durable/driver.mjs times a synchronous Invoke of Steps with 0 and STEPS
# steps and of Loop, and has Raw make CHECKPOINTS calls (timed inside the function). Prints each
# run and the medians: a step's cost = (time of STEPS steps - time of 0) / STEPS. Never fails on
# timing.
#
#   bench/durable.sh                       # builds build/ (BUILD_DIR=build-bench for a Release build)
#   RUNS=5 STEPS=500 CHECKPOINTS=2000 BUILD_DIR=build-bench bench/durable.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
STEPS=${STEPS:-200}
CHECKPOINTS=${CHECKPOINTS:-1000}
fail() { echo "bench/durable.sh: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
[[ -f $REPO/node_modules/@aws/durable-execution-sdk-js/package.json ]] || fail "run npm ci in $REPO first"
bench_build
bench_workdir durable

# The functions' code: index.mjs and, in its node_modules, the SDKs and their dependencies.
mkdir -p "$WORK/code/node_modules"
cp "$REPO/bench/durable/index.mjs" "$WORK/code/"
node -e '
  const fs = require("fs"), path = require("path");
  const [from, to] = process.argv.slice(1);
  const seen = new Set(), queue = ["@aws/durable-execution-sdk-js", "@aws-sdk/client-lambda"];
  while (queue.length) {
    const name = queue.pop();
    if (seen.has(name)) continue;
    seen.add(name);
    fs.cpSync(path.join(from, name), path.join(to, name), { recursive: true });
    queue.push(...Object.keys(JSON.parse(fs.readFileSync(path.join(from, name, "package.json"))).dependencies || {}));
  }' "$REPO/node_modules" "$WORK/code/node_modules"
cat >"$WORK/template.yaml" <<YAML
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs20.x
    CodeUri: code/
    Timeout: 900
    MemorySize: 512
Resources:
  Steps:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.steps
      DurableConfig: {ExecutionTimeout: 3600}
  Raw:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.raw
      DurableConfig: {ExecutionTimeout: 3600}
  Loop:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.loop
YAML
start_daemon main "$WORK/main.log" --log-level "${LOG_LEVEL:-warn}"
echo "lambdad durable executions: $LAMBDAD, RUNS=$RUNS STEPS=$STEPS CHECKPOINTS=$CHECKPOINTS, $(nproc) cores"
node "$REPO/bench/durable/driver.mjs" "$ENDPOINT" "$RUNS" "$STEPS" "$CHECKPOINTS" ||
  { tail -20 "$WORK/main.log" >&2; fail "the driver failed"; }
[[ -z ${KEEP_LOG:-} ]] || cp "$WORK/main.log" "$KEEP_LOG"
