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

# init DAEMON FUNCTION / curl DAEMON FUNCTION: the medians.
init() { grep -o "\[$2\] REPORT.*Init Duration: [0-9.]*" "$WORK/$1.log" | grep -o '[0-9.]*$' | median; }
curlm() { median <"$WORK/$2.$1.curl"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

printf '\n%-22s %12s %12s\n' "function" "init (ms)" "curl (ms)"
for fn in "${functions[@]}"; do
  printf '%-22s %12s %12s\n' "$fn" "$(init now "$fn")" "$(curlm now "$fn")"
done
if [[ -n ${BASELINE_RUNTIMES:-} ]]; then
  for fn in "${ours[@]}"; do
    printf '%-22s %12s %12s\n' "$fn (baseline)" "$(init base "$fn")" "$(curlm base "$fn")"
  done
fi
py_floor=$(median <"$WORK/python.floor")
node_floor=$(median <"$WORK/node.floor")
printf '%-22s %12s\n' "python3 -S -c pass" "$py_floor"
printf '%-22s %12s\n' "node -e 0" "$node_floor"

echo
echo "ours/official (Node, HelloNode/RicNode): init $(ratio "$(init now HelloNode)" "$(init now RicNode)")," \
  "curl $(ratio "$(curlm now HelloNode)" "$(curlm now RicNode)")"
for fn in HelloPython MinimalPython; do
  echo "$fn over the interpreter's start: init $(ratio "$(init now "$fn")" "$py_floor")x," \
    "curl $(ratio "$(curlm now "$fn")" "$py_floor")x"
done
echo "  (the official Python client, awslambdaric, comes from PyPI, which this machine does not reach)"
for fn in HelloNode MinimalNode RicNode; do
  echo "$fn over the interpreter's start: init $(ratio "$(init now "$fn")" "$node_floor")x," \
    "curl $(ratio "$(curlm now "$fn")" "$node_floor")x"
done
if [[ -n ${BASELINE_RUNTIMES:-} ]]; then
  for fn in "${ours[@]}"; do
    echo "$fn now/baseline: init $(ratio "$(init now "$fn")" "$(init base "$fn")"), curl $(ratio "$(curlm now "$fn")" "$(curlm base "$fn")")"
  done
fi
echo "(medians; Init Duration from the daemons' REPORT lines, curl's time_total for the whole cold"
echo " invoke, the floors timed around the interpreter's process from this shell)"
