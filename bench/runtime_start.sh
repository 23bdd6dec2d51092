#!/usr/bin/env bash
# Cold starts of lambdad's own runtime clients against the official one: one daemon with
# --force-cold serves HelloPython and HelloNode (examples/, our runtimes/python and
# runtimes/nodejs), MinimalPython and MinimalNode (the same answer without logging: what is left
# is the runtime's own start) and RicNode, HelloNode's code (examples/functions/hello-node) run by
# the official Node runtime interface client (npm aws-lambda-ric, from node_modules, as a layer at
# /opt as tests/e2e/functions/ric does; its bootstrap is a shell that execs node on the client's
# entry point, as Lambda's own /var/runtime/bootstrap does). The functions are invoked in
# alternation, RUNS times each, and so are the interpreters' own starts (`python3 -S -c pass`,
# `node -e 0`, outside any sandbox, in an empty environment as the functions' nearly is): the
# floor under which no runtime of that interpreter can go. Prints per function the median Init
# Duration (spawn to the runtime's first /next, from REPORT) and the median curl time_total of a
# cold invoke; the ratios ours/official for Node and, for Python, whose official client
# (awslambdaric, from PyPI) is not a dependency here, ours/floor.
#
# BASELINE_RUNTIMES=DIR adds a second daemon whose runtime clients are DIR (--runtimes-dir, e.g.
# a copy of runtimes/ from an earlier commit), serving our functions in the same alternation, and
# the ratios now/baseline. Never fails on timing.
#
#   bench/runtime_start.sh [RUNS]        # default 20 cold starts per function
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-20}
fail() { echo "bench/runtime_start.sh: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
RIC=$REPO/node_modules/aws-lambda-ric
[[ -f $RIC/package.json ]] || fail "the official aws-lambda-ric is not installed at $RIC (npm ci)"
bench_build
bench_workdir runtime-start

# The interpreters lambdad runs (it looks in Lambda's PATH directories, in this order).
interpreter() {
  local dir
  for dir in /usr/local/bin /usr/bin /bin; do
    [[ -x $dir/$1 ]] && { echo "$dir/$1"; return; }
  done
  fail "no $1 in /usr/local/bin, /usr/bin or /bin"
}
PYTHON=$(interpreter python3)
NODE=$(interpreter node)

# RicNode's code: the hello world, and a bootstrap that execs the official client on it.
ric_entry=$("$NODE" -e 'const p=require(process.argv[1]);const b=typeof p.bin==="string"?p.bin:Object.values(p.bin||{})[0];process.stdout.write(b||"bin/index.mjs")' "$RIC/package.json")
mkdir -p "$WORK/ric"
cp "$REPO/examples/functions/hello-node/index.mjs" "$WORK/ric/"
cat >"$WORK/ric/bootstrap" <<EOF
#!/bin/sh
# In a Lambda-shaped root the node_modules layer is /opt; on host paths, the repository's.
if [ -f /opt/aws-lambda-ric/package.json ]; then ric=/opt/aws-lambda-ric; else ric='$RIC'; fi
exec '$NODE' "\$ric/$ric_entry" "\$_HANDLER"
EOF
chmod +x "$WORK/ric/bootstrap"
mkdir -p "$WORK/minimal-python" "$WORK/minimal-node"
cat >"$WORK/minimal-python/app.py" <<'EOF'
def handler(event, context):
    return {"message": "hello from python", "event": event, "requestId": context.aws_request_id}
EOF
cat >"$WORK/minimal-node/index.mjs" <<'EOF'
export const handler = async (event, context) => ({ message: 'hello from node', event, requestId: context.awsRequestId });
EOF

cat >"$WORK/template.yaml" <<EOF
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        GREETING: hello
Resources:
  HelloPython:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: $REPO/examples/functions/hello-python/
  HelloNode:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      CodeUri: $REPO/examples/functions/hello-node/
  MinimalPython:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: minimal-python/
  MinimalNode:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      CodeUri: minimal-node/
  NodeModules:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: $(cd "$REPO/node_modules" && pwd -P)
  RicNode:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: index.handler
      CodeUri: ric/
      Layers: [!Ref NodeModules]
EOF

start_daemon now "$WORK/now.log" --force-cold
# shellcheck disable=SC2034  # url_now and url_base are read as ${!url_var}
url_now=$ENDPOINT
if [[ -n ${BASELINE_RUNTIMES:-} ]]; then
  [[ -f $BASELINE_RUNTIMES/python/bootstrap.py ]] || fail "BASELINE_RUNTIMES=$BASELINE_RUNTIMES has no python/bootstrap.py"
  start_daemon base "$WORK/base.log" --force-cold --runtimes-dir "$BASELINE_RUNTIMES"
  # shellcheck disable=SC2034
  url_base=$ENDPOINT
fi

# Milliseconds since an EPOCHREALTIME reading.
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }'; }
invoke() {  # invoke DAEMON FUNCTION: appends curl's time_total (ms) to $WORK/FUNCTION.DAEMON.curl
  local url_var="url_$1"
  curl -sS -o "$WORK/body" -w '%{time_total}\n' -X POST --data '{"name":"bench"}' \
    "${!url_var}/2015-03-31/functions/$2/invocations" | awk '{ print $1 * 1000 }' >>"$WORK/$2.$1.curl"
  grep -q "from " "$WORK/body" || fail "$2 ($1) answered $(cat "$WORK/body")"
}

ours=(HelloPython MinimalPython HelloNode MinimalNode)
functions=("${ours[@]}" RicNode)
echo "== $RUNS cold starts per function, alternating (--force-cold); $(machine_line)"
echo "   python: $PYTHON ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])')), node: $NODE ($("$NODE" --version))"
for _ in $(seq "$RUNS"); do
  for fn in "${functions[@]}"; do invoke now "$fn"; done
  if [[ -n ${BASELINE_RUNTIMES:-} ]]; then
    for fn in "${ours[@]}"; do invoke base "$fn"; done
  fi
  t=$EPOCHREALTIME; env -i "$PYTHON" -S -c pass; ms_since "$t" >>"$WORK/python.floor"
  t=$EPOCHREALTIME; env -i "$NODE" -e 0; ms_since "$t" >>"$WORK/node.floor"
done

# The figures of run i are on line i of $WORK/FUNCTION.DAEMON.{init,curl} (REPORT lines come in
# the order of the invokes) and of $WORK/{python,node}.floor.
for daemon in now ${BASELINE_RUNTIMES:+base}; do
  for fn in "${functions[@]}"; do
    grep -o "\[$fn\] REPORT.*Init Duration: [0-9.]*" "$WORK/$daemon.log" | grep -o '[0-9.]*$' >"$WORK/$fn.$daemon.init" || true
  done
done
# figure KIND DAEMON FUNCTION: the median; FUNCTION "floor" with DAEMON python or node.
figure() { if [[ $3 == floor ]]; then median <"$WORK/$2.floor"; else median <"$WORK/$3.$2.$1"; fi; }
# ratio KIND DAEMON_A FUNCTION_A DAEMON_B FUNCTION_B: the median of the ratios of the runs' figures,
# run by run (each pair was measured moments apart, whatever the machine's load did meanwhile).
ratio() {
  local a b
  if [[ $3 == floor ]]; then a=$WORK/$2.floor; else a=$WORK/$3.$2.$1; fi
  if [[ $5 == floor ]]; then b=$WORK/$4.floor; else b=$WORK/$5.$4.$1; fi
  paste "$a" "$b" | awk 'NF == 2 && $2 > 0 { printf "%.3f\n", $1 / $2 }' | median
}

printf '\n%-24s %10s %10s\n' "function" "init (ms)" "curl (ms)"
for fn in "${functions[@]}"; do
  printf '%-24s %10s %10s\n' "$fn" "$(figure init now "$fn")" "$(figure curl now "$fn")"
done
if [[ -n ${BASELINE_RUNTIMES:-} ]]; then
  for fn in "${ours[@]}"; do
    printf '%-24s %10s %10s\n' "$fn (baseline)" "$(figure init base "$fn")" "$(figure curl base "$fn")"
  done
fi
printf '%-24s %10s\n' "python3 -S -c pass" "$(figure - python floor)" "node -e 0" "$(figure - node floor)"

echo
echo "ratios (median of the run-by-run ratios)                  init    curl"
pair() {  # pair LABEL DAEMON_A FUNCTION_A DAEMON_B FUNCTION_B
  printf '%-56s %6s  %6s\n' "$1" "$(ratio init "${@:2}")" "$(ratio curl "${@:2}")"
}
pair "ours/official, Node: HelloNode/RicNode" now HelloNode now RicNode
pair "  MinimalNode/RicNode" now MinimalNode now RicNode
for fn in HelloNode MinimalNode RicNode; do pair "$fn / node -e 0" now "$fn" node floor; done
for fn in HelloPython MinimalPython; do pair "$fn / python3 -S -c pass" now "$fn" python floor; done
echo "(the official Python client, awslambdaric, comes from PyPI, which this machine does not reach)"
if [[ -n ${BASELINE_RUNTIMES:-} ]]; then
  for fn in "${ours[@]}"; do pair "$fn now/baseline" now "$fn" base "$fn"; done
fi
echo "(Init Duration from the daemons' REPORT lines; curl's time_total for the whole cold invoke;"
echo " the floors timed around the interpreter's process from this shell)"
