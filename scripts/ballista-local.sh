#!/usr/bin/env bash
# A local Apache Ballista cluster on loopback: one scheduler and two executors,
# each a `phm cluster …` process (phm built with `--features ballista`).
#
#   scripts/ballista-local.sh start [PORT]   # scheduler on PORT (default 50050);
#                                            # prints the --engine URL to use
#   scripts/ballista-local.sh stop [PORT]
#
# Then: phm features --engine ballista://127.0.0.1:PORT --extract DIR --out F.parquet
# Logs and pids go to ${PHM_CLUSTER_DIR:-/tmp/phm-ballista-PORT}. The executors
# read the extract's Parquet files by path, so they must see the same files
# (on one machine they do; on a real cluster use shared storage).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
PHM="${PHM:-${CARGO_TARGET_DIR:-$HOME/.cache/phm-target}/release/phm}"
cmd="${1:-start}"
port="${2:-50050}"
dir="${PHM_CLUSTER_DIR:-/tmp/phm-ballista-$port}"

stop() {
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

wait_port() { # port, name
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "ballista-local: $2 did not listen on port $1; see $dir/$2.log" >&2
  stop
  exit 1
}

case "$cmd" in
  start)
    if [ ! -x "$PHM" ]; then
      echo "ballista-local: $PHM not found; build it: cargo build --release --features ballista" >&2
      exit 1
    fi
    if ! "$PHM" cluster --help >/dev/null 2>&1; then
      echo "ballista-local: $PHM was built without Ballista; cargo build --release --features ballista" >&2
      exit 1
    fi
    mkdir -p "$dir"
    stop
    "$PHM" cluster scheduler --port "$port" >"$dir/scheduler.log" 2>&1 &
    echo $! >"$dir/scheduler.pid"
    wait_port "$port" scheduler
    for i in 1 2; do
      flight=$((port + 10 * i))
      grpc=$((flight + 1))
      mkdir -p "$dir/executor$i"
      "$PHM" cluster executor --port "$flight" --grpc-port "$grpc" \
        --scheduler-port "$port" --concurrent-tasks "${PHM_EXECUTOR_TASKS:-1}" \
        --work-dir "$dir/executor$i" >"$dir/executor$i.log" 2>&1 &
      echo $! >"$dir/executor$i.pid"
      wait_port "$flight" "executor$i"
    done
    echo "ballista://127.0.0.1:$port"
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: $0 start|stop [PORT]" >&2
    exit 2
    ;;
esac
