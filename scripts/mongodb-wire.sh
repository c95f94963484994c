#!/usr/bin/env bash
# A MongoDB-wire server for the MongoDB store's tests: secantusd-rs from the crate secantus-mdb
# (no mongod can be installed on the build machines; see ARCHITECTURE.md). Users' deployments
# use the official mongo image instead (docker-compose.yml).
#
#   scripts/mongodb-wire.sh prerequisites  install what building it needs (cmake), if missing
#   scripts/mongodb-wire.sh install      build it once into target/tools (skipped when present)
#   scripts/mongodb-wire.sh start DIR [PORT [FLAG…]]
#                                        start it with DIR as its storage, on PORT or a free port
#                                        (0), with extra flags (--standalone: no replica set);
#                                        prints "PID PORT" once it listens
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(pwd)/target/tools"
version="0.5.3-beta.196"
binary="$tools/bin/secantusd-rs"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

prerequisites() {
  # WiredTiger, inside it, is built with cmake.
  if ! command -v cmake >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake
  fi
}

case "${1:-}" in
  prerequisites)
    prerequisites
    ;;
  install)
    if "$binary" --help 2>/dev/null | head -n 1 | grep -q "secantusd-rs $version"; then
      exit 0
    fi
    prerequisites
    # Its release profile (thin LTO, one codegen unit, full optimisation) is for shipping it;
    # for tests, parallel codegen at opt-level 1 builds it in a fraction of the time (its storage
    # engine, WiredTiger, is C and keeps its own optimisation).
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
      cargo install --root "$tools" secantus-mdb --version "$version" --locked --ignore-rust-version
    ;;
  start)
    storage="${2:?usage: $0 start DIR [PORT [FLAG…]]}"
    # The database in a folder of its own; the log beside it.
    mkdir -p "$storage/db"
    port="${3:-0}"
    shift $(($# < 3 ? $# : 3))
    # A restart on the port it had may find the port not free yet: a few tries, a second apart.
    for attempt in 1 2 3; do
      "$binary" --host 127.0.0.1 --port "$port" --storage-path "$storage/db" --log-level WARNING --cache-size 256M "$@" \
        >"$storage/server.log" 2>&1 &
      pid=$!
      for _ in $(seq 1 300); do
        if [ -f "$storage/server.log" ]; then
          listening=$(sed -n 's/^secantusd-rs listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$storage/server.log")
          if [ -n "$listening" ]; then
            echo "$pid $listening"
            exit 0
          fi
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
          status=0
          wait "$pid" || status=$?
          echo "secantusd-rs exited with status $status (attempt $attempt):" >&2
          cat "$storage/server.log" >&2 || true
          break
        fi
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then
        echo "secantusd-rs did not listen within 30 s" >&2
        kill "$pid"
        exit 1
      fi
      sleep 1
    done
    exit 1
    ;;
  *)
    echo "usage: $0 prerequisites | install | start DIR [PORT [FLAG…]]" >&2
    exit 2
    ;;
esac
