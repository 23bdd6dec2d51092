# shellcheck shell=bash
# Shared by bench/run.sh and bench/profile.sh (sourced, not run). The caller sets REPO, BUILD_DIR
# and fail().

# Builds the given targets, and the daemon too unless LAMBDAD_BIN names one already built; sets
# LAMBDAD to the daemon to measure.
bench_build() {
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || fail "$BUILD_DIR is not configured (cmake -S $REPO -B $BUILD_DIR -G Ninja)"
  local targets=("$@")
  [[ -n ${LAMBDAD_BIN:-} ]] || targets+=(lambdad)
  cmake --build "$BUILD_DIR" --target "${targets[@]}" || fail "build failed"
  if [[ -n ${LAMBDAD_BIN:-} ]]; then
    LAMBDAD=$LAMBDAD_BIN
    [[ -x $LAMBDAD ]] || fail "LAMBDAD_BIN=$LAMBDAD is not executable"
  else
    LAMBDAD=$(find_binary lambdad) || fail "lambdad binary not found under $BUILD_DIR"
  fi
}

# The newest of the places CMake may put a target (the output directory is the top level's choice).
find_binary() {
  local name=$1 path best=
  for path in "$BUILD_DIR/$name" "$BUILD_DIR/bench/$name" "$BUILD_DIR/src/$name"; do
    [[ -x $path && ( -z $best || $path -nt $best ) ]] && best=$path
  done
  [[ -n $best ]] && echo "$best"
}

# SIGTERM to each daemon still running, and wait for it.
stop_daemons() {
  local pid
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
