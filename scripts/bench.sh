#!/usr/bin/env bash
# Gateway benchmark: starts a release server on a free port with a temporary data folder and
# runs the load tool against it (defaults: 1,000 connections in 10 rooms, 50 senders).
# Arguments go to the load tool, e.g. `scripts/bench.sh --rate 2000 --messages 100`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p conclave-server -p conclave-load
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
source scripts/temp-server.sh
CONCLAVE_MESSAGE_BURST=1000000 CONCLAVE_LOGIN_BURST=1000000 CONCLAVE_WS_QUEUE=1024 CONCLAVE_LOG=warn \
  start_temp_server target/release/conclave
target/release/conclave-load --url "$server_url" --server-pid "$server_pid" "$@"
