#!/usr/bin/env bash
# First command of the README: install what building and serving need, build the daemon alone
# (no tests, no benchmarks), and serve the bundled examples on 127.0.0.1:3001.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh serve
export BUILD_DIR="${BUILD_DIR:-build}"
TARGETS=lambdad scripts/build.sh -DLAMBDAD_BUILD_TESTS=OFF -DLAMBDAD_BUILD_BENCH=OFF -DLAMBDAD_UNITY_BUILD=ON
PORT="${PORT:-3001}"
cat <<MSG

lambdad is starting on http://127.0.0.1:${PORT} with examples/template.yaml.
In another terminal:

  curl -s -w '\n' http://127.0.0.1:${PORT}/2015-03-31/functions/HelloPython/invocations -d '{"name":"you"}'

  or, with the AWS CLI:

  aws lambda invoke --endpoint-url http://127.0.0.1:${PORT} --no-sign-request --region us-east-1 \\
      --function-name HelloPython --cli-binary-format raw-in-base64-out \\
      --payload '{"name":"you"}' /dev/stdout

  (HelloNode and HelloProvided work the same way.)  Stop the daemon with Ctrl-C.

MSG
exec "$BUILD_DIR/lambdad" serve --template examples/template.yaml --port "$PORT"
