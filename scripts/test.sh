#!/usr/bin/env bash
# Second command of the README (and what CI runs): install, build from scratch, run every test.
#   1. the normal build: all unit tests and all end-to-end tests (real daemon, AWS CLI v2, boto3,
#      @aws-sdk/client-lambda, our runtimes, the official aws-lambda-ric);
#   2. an ASan+UBSan build: all unit tests and the end-to-end tests again against the
#      sanitized daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs="$(nproc)"
echo "==> build (RelWithDebInfo)"
rm -rf build
BUILD_DIR=build scripts/build.sh
echo "==> tests (RelWithDebInfo)"
ctest --test-dir build --output-on-failure -j"$jobs"

if [ "${LAMBDAD_SKIP_SANITIZERS:-0}" != "1" ]; then
  echo "==> build (ASan+UBSan)"
  rm -rf build-asan
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DLAMBDAD_SANITIZE=address -DLAMBDAD_BUILD_BENCH=OFF
  echo "==> tests (ASan+UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"
fi
echo "==> all tests passed"
