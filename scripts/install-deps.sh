#!/usr/bin/env bash
# Installs what lambdad needs on Debian 12: Debian packages via apt and the npm packages of
# package.json (the JS SDK and the official Node runtime client used by the tests). Safe to run
# again: apt and `npm ci` skip what is already there.
#
#   scripts/install-deps.sh [apt|npm|serve]   # apt and npm by default; one part alone (CI runs
#                                             # `npm ci`, which compiles aws-lambda-ric's native
#                                             # addon, beside its build); serve: only what building
#                                             # the daemon and running the bundled runtimes need
set -euo pipefail
cd "$(dirname "$0")/.."
part="${1:-all}"
case "$part" in all | apt | npm | serve) ;; *) echo "usage: $0 [apt|npm|serve]" >&2; exit 2 ;; esac

SERVE_PACKAGES=(
  # build the daemon
  g++ cmake ninja-build pkg-config
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev
  # the control plane: function zips and their SHA-256
  libzip-dev libssl-dev
  # durable executions' store (docs/decisions/026)
  libsqlite3-dev
  # the bundled Python runtime client runs on the host's python3 (Node: see below)
  python3
  # the README's first invokes (cmake already depends on libcurl)
  curl
)
TEST_PACKAGES=(
  libgtest-dev libgmock-dev
  # tests: real clients
  awscli python3-boto3 python3-pytest
  # tests/e2e/js/browser.test.mjs: headless Chromium, and a font for its screenshot's text
  # (fontconfig pulls one in today; named so that the screenshot never shows boxes)
  chromium fonts-dejavu-core
  # aws-lambda-ric builds a native addon (aws-lambda-cpp + curl) from source
  make autoconf automake libtool unzip
  # benchmarks
  wrk hyperfine
  # bench/run.sh: the floor of one loopback HTTP hop (nginx answering `return 200`)
  nginx-light
)
APT_PACKAGES=("${SERVE_PACKAGES[@]}")
[ "$part" = serve ] || APT_PACKAGES+=("${TEST_PACKAGES[@]}")

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm: any installation on PATH will do (some images ship Node from another
# distribution, whose bundled npm conflicts with Debian's npm package); Debian's otherwise. The
# bundled Node runtime client needs node alone.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
[ "$part" = serve ] || command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "$part" != npm ] && [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages (node_modules is not committed). The lock file pins versions.
case "$part" in apt | serve) exit 0 ;; esac
# aws-lambda-ric's native addon is built by its install script (package.json allowScripts: npm 11
# skips dependencies' scripts otherwise), so a tree without it is installed again.
if [ ! -f node_modules/aws-lambda-ric/rapid-client.node ] || [ ! -d node_modules/@aws-sdk/client-lambda ] \
   || [ ! -d node_modules/@aws-lambda-powertools/tracer ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi
