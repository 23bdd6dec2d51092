#!/usr/bin/env bash
# First command of the README: install, build, and serve the bundled examples on 127.0.0.1:3001.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
PORT="${PORT:-3001}"
cat <<MSG

lambdad is starting on http://127.0.0.1:${PORT} with examples/template.yaml.
In another terminal:

  aws lambda invoke --endpoint-url http://127.0.0.1:${PORT} --no-sign-request \\
      --function-name HelloPython --cli-binary-format raw-in-base64-out \\
      --payload '{"name":"you"}' /dev/stdout

  (HelloNode and HelloProvided work the same way.)  Stop the daemon with Ctrl-C.

MSG
exec build/lambdad serve --template examples/template.yaml --port "$PORT"
