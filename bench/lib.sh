# shellcheck shell=bash
# Shared by the scripts of bench/ (sourced, not run). The caller sets REPO and fail(), and WORK (a
# directory of its own, bench_workdir) for the daemon helpers.

# BUILD_DIR: the build whose helpers (and daemon, without LAMBDAD_BIN) are used; default
# REPO/build, made absolute.
BUILD_DIR=${BUILD_DIR:-$REPO/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO/$BUILD_DIR ;; esac

# Builds the given targets, and the daemon too unless LAMBDAD_BIN names one already built; sets
# LAMBDAD to the daemon to measure.
bench_build() {
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || fail "$BUILD_DIR is not configured (cmake -S $REPO -B $BUILD_DIR -G Ninja)"
  local targets=("$@")
  [[ -n ${LAMBDAD_BIN:-} ]] || targets+=(lambdad)
  if ((${#targets[@]} > 0)); then
    cmake --build "$BUILD_DIR" --target "${targets[@]}" || fail "build failed"
  fi
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

# Copies the C echo runtime (bench/echo_bootstrap.c, built by bench_build lambdad_echo_bootstrap)
# to DIR/bootstrap, the code of a provided.al2023 function with `CodeUri: DIR`.
echo_code() {
  local dir=$1 bin
  bin=$(find_binary lambdad_echo_bootstrap) || fail "lambdad_echo_bootstrap not found under $BUILD_DIR"
  mkdir -p "$dir"
  cp "$bin" "$dir/bootstrap"
  chmod +x "$dir/bootstrap"
}

# bench_workdir TAG: a scratch directory WORK (removed on exit, with every daemon of DAEMON_PIDS
# stopped first).
bench_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/lambdad-$1.XXXXXX")
  DAEMON_PIDS=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  stop_daemons "${DAEMON_PIDS[@]}"
  rm -rf "$WORK"
}

# echo_template TIMEOUT [MORE]: $WORK/template.yaml with the function Echo, the C echo runtime
# (echo_code in $WORK/echo, provided.al2023, 128 MB) and TIMEOUT seconds; MORE: further lines of
# its Properties, indented six spaces.
echo_template() {
  echo_code "$WORK/echo"
  cat >"$WORK/template.yaml" <<EOF
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: echo
      CodeUri: echo/
      Timeout: $1
      MemorySize: 128
EOF
  [[ -z ${2:-} ]] || printf '%s\n' "$2" >>"$WORK/template.yaml"
}

# start_daemon NAME STDERR [serve options...]: `$LAMBDAD serve --template $WORK/template.yaml
# --port 0` with the options, its stderr to the file STDERR; waits (30 s at most) for the ready
# line and sets DAEMON_PID and ENDPOINT (http://ADDRESS:PORT, the Invoke API), adding the pid to
# DAEMON_PIDS. Its stdout is kept in $WORK/NAME.out (with --api-port, the lines after the ready
# line name the API port, its routes and Function URLs: see wait_stdout).
start_daemon() {
  local name=$1 err=$2 line
  shift 2
  mkfifo "$WORK/$name.stdout"
  "$LAMBDAD" serve --template "$WORK/template.yaml" --port 0 "$@" >"$WORK/$name.stdout" 2>"$err" &
  DAEMON_PID=$!
  DAEMON_PIDS+=("$DAEMON_PID")
  exec 3<"$WORK/$name.stdout"
  ENDPOINT=
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if IFS= read -r -t 1 line <&3; then
      printf '%s\n' "$line" >>"$WORK/$name.out"
      if [[ $line =~ Invoke\ API\ listening\ on\ (http://[0-9.]+:[0-9]+) ]]; then
        ENDPOINT=${BASH_REMATCH[1]}
        break
      fi
    elif ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      break
    fi
  done
  if [[ -z $ENDPOINT ]]; then
    [[ ! -f $err ]] || tail -20 "$err" >&2
    fail "lambdad ($name) did not become ready"
  fi
  # Keep draining stdout so the daemon never blocks on a full pipe.
  cat <&3 >>"$WORK/$name.out" &
  exec 3<&-
}

# wait_stdout NAME REGEX: the first line of daemon NAME's stdout matching REGEX (extended), waiting
# for it 10 s at most; fails without one.
wait_stdout() {
  local deadline=$((SECONDS + 10)) line
  while ((SECONDS < deadline)); do
    line=$(grep -m1 -E "$2" "$WORK/$1.out" 2>/dev/null) && { echo "$line"; return 0; }
    sleep 0.1
  done
  fail "lambdad ($1) printed no line matching /$2/: $(cat "$WORK/$1.out")"
}

# SIGTERM to a daemon (default DAEMON_PID), and wait for it.
# shellcheck disable=SC2120  # the argument is optional
stop_daemon() {
  stop_daemons "${1:-$DAEMON_PID}"
}

# The median of the numbers given as arguments, or one a line on stdin without any; nothing for
# none. An even count gives the mean of the middle two.
# shellcheck disable=SC2120  # the arguments are optional
median() {
  if (($#)); then printf '%s\n' "$@"; else cat; fi | sort -g |
    awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else if (NR) printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# wrk prints latency with units (us, ms, s); converts one to microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") f = 1; else if (u == "ms") f = 1000; else if (u == "s") f = 1000000;
    else if (u == "m") f = 60000000; else f = 1;
    printf "%.1f", n * f }'
}

# Figures of one wrk run's output (run with --latency and bench/invoke.lua):
# "<p50 us> <p99 us> <requests/s> <requests> <non-2xx>"; the socket errors line, if any, by wrk_errors.
# nginx_floor: starts nginx answering `return 200` on a free loopback port (a config of its own in
# $WORK/nginx, one worker, no access log); sets NGINX_URL and NGINX_PID. Returns 1 without nginx.
nginx_floor() {
  local bin port dir=$WORK/nginx
  bin=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
  [[ -x $bin ]] || return 1
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $dir/logs/error.log;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  server { listen 127.0.0.1:$port; location / { return 200; } }
}
EOF
  "$bin" -p "$dir" -c "$dir/nginx.conf" &
  NGINX_PID=$!
  DAEMON_PIDS+=("$NGINX_PID")
  NGINX_URL="http://127.0.0.1:$port/"
  local _
  for _ in $(seq 100); do
    curl -s -o /dev/null "$NGINX_URL" && return 0
    sleep 0.05
  done
  fail "nginx did not answer on $NGINX_URL: $(cat "$dir/logs/error.log" 2>/dev/null)"
}

wrk_figures() {
  local p50 p99
  p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$1")")
  p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$1")")
  echo "$p50 $p99 $(awk '$1 == "Requests/sec:" { print $2 }' <<<"$1") $(wrk_requests "$1")" \
    "$(awk '/^non-2xx responses:/ { print $3 }' <<<"$1")"
}
wrk_requests() { awk '/ requests in / { print $1 }' <<<"$1"; }
wrk_errors() { grep -E '^ *Socket errors' <<<"$1" || true; }

# Microseconds of one clock tick, the unit of cpu_of.
# shellcheck disable=SC2034  # used by the scripts that source this file
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# "<utime ticks> <stime ticks>" of a process (all its threads).
cpu_of() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'; }

# "N CPUs, MODEL; KERNEL" of this machine.
machine_line() {
  local cpu
  cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
  echo "$(nproc) CPUs, ${cpu:-unknown CPU}; $(uname -sr)"
}
