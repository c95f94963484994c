#!/usr/bin/env bash
# Gateway benchmark: starts a release server on a free port with a temporary data folder and
# runs the load tool against it (defaults: 1,000 connections in 10 rooms, 50 senders).
# Arguments go to the load tool, e.g. `scripts/bench.sh --rate 2000 --messages 100`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p conclave-server -p conclave-load
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
data=$(mktemp -d)
CONCLAVE_MESSAGE_BURST=1000000 CONCLAVE_LOGIN_BURST=1000000 CONCLAVE_WS_QUEUE=1024 CONCLAVE_LOG=warn \
  target/release/conclave --bind 127.0.0.1:0 --data-dir "$data" >"$data/stdout" 2>"$data/stderr" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  grep -q '^conclave listening on ' "$data/stdout" && break
  sleep 0.1
done
url=$(sed -n 's/^conclave listening on //p' "$data/stdout" | head -n 1)
[ -n "$url" ] || { cat "$data/stderr"; echo "the server did not start" >&2; exit 1; }
target/release/conclave-load --url "$url" --server-pid "$pid" "$@"
