#!/usr/bin/env bash
# Configures and builds into build/ (the daemon is build/lambdad), with the tests and benchmarks
# unless told otherwise. Extra arguments go to CMake's configure step, e.g.
# scripts/build.sh -DLAMBDAD_SANITIZE=address; TARGETS="lambdad" builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
# The options are named each time: a build directory keeps what an earlier configure chose
# (scripts/quickstart.sh turns the tests off).
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DLAMBDAD_BUILD_TESTS=ON -DLAMBDAD_BUILD_BENCH=ON -DLAMBDAD_UNITY_BUILD=OFF "$@"
# shellcheck disable=SC2086  # TARGETS is a list of names
cmake --build "$BUILD_DIR" -j"$(nproc)" ${TARGETS:+--target $TARGETS}
