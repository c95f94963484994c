#!/usr/bin/env bash
# Soak: `conclave-soak` (crates/loadtest) churns against one fresh Conclave for SECONDS
# (default 1800; a sixth of it warms up): users connect and drop their sockets (closed or cut),
# resume, send over the gateway and REST, type, upload, leave and join rooms, refresh their
# sessions, beside one socket per user that stays and takes every message. Every
# SOAK_REPORT_SECS (60) it prints the server's resident memory, file descriptors, threads,
# sessions and gateway connections (two tasks each); at the end, with every client gone, they
# must be back near the warm-up's (it exits 1 when one grew). Runs the debug server unless CONCLAVE_BIN
# names another (the README's 30-minute figures are of the release build):
#   scripts/soak.sh 60                                                  (what test.sh runs)
#   cargo build --release -p conclave-server && CONCLAVE_BIN=target/release/conclave scripts/soak.sh
# Arguments after SECONDS go to conclave-soak (`--users 48`, `--rooms 8`).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-1800}
shift || true
cargo build --locked -q -p conclave-load --bin conclave-soak
source scripts/temp-server.sh
CONCLAVE_MESSAGE_BURST=1000000 CONCLAVE_MESSAGE_PER_SECOND=1000000 CONCLAVE_LOGIN_BURST=1000000 \
  CONCLAVE_LOGIN_PER_MINUTE=1000000 CONCLAVE_LOG=warn \
  start_temp_server "${CONCLAVE_BIN:-target/debug/conclave}" --client-dir /nonexistent
target/debug/conclave-soak --url "$server_url" --server-pid "$server_pid" --seconds "$seconds" \
  --report-secs "${SOAK_REPORT_SECS:-60}" "$@"
