#!/usr/bin/env bash
# Configures and builds into build/ (the daemon is build/lambdad). Extra arguments go to CMake's
# configure step, e.g. scripts/build.sh -DLAMBDAD_SANITIZE=address.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$BUILD_DIR" -j"$(nproc)"
