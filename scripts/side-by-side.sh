#!/usr/bin/env bash
# Side-by-side benchmark: Conclave against the bare Rust broadcaster (and, with
# TARGETS="ceiling socketio", the socket.io chat server) with one load generator, using the kit in
# ../shared/bench (BENCH_KIT to point elsewhere). The kit is copied under target/ (it is read-only
# where it lies); every workload gets a fresh release Conclave on a free port with a temporary
# data folder, the embedded store and rate limits out of the way, so that memory and CPU figures
# belong to that workload alone. Prints the kit's table for each workload, then how much CPU
# time the host took from this machine meanwhile (steal, from /proc/stat): on a shared virtual
# machine that is what moves the p99 most, so a workload with seconds of it is worth running
# again.
#
# Usage: scripts/side-by-side.sh [WORKLOAD ...]    light standard stress idle (default: all four)
# The kit's own settings pass through (CONNS, ROOMS, SENDERS, DURATION, IDLE_CONNS, PIN, …).
set -euo pipefail
cd "$(dirname "$0")/.."
kit_source=${BENCH_KIT:-../shared/bench}
kit="$PWD/target/side-by-side"
if [ ! -d "$kit_source" ]; then
  echo "no benchmark kit at $kit_source (set BENCH_KIT)" >&2
  exit 2
fi
mkdir -p "$kit"
cp -r "$kit_source"/. "$kit"/
export TARGETS=${TARGETS:-ceiling}
cargo build --release --locked -p conclave-server
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(light standard stress idle)
source scripts/temp-server.sh
# CPU time stolen by the host (the eighth field of /proc/stat's cpu line), in seconds.
steal_seconds() { awk '/^cpu /{print $9 / 100}' /proc/stat; }
for workload in "${workloads[@]}"; do
  steal_before=$(steal_seconds)
  (
    CONCLAVE_MESSAGE_BURST=1000000 CONCLAVE_MESSAGE_PER_SECOND=1000000 CONCLAVE_LOGIN_BURST=1000000 \
      CONCLAVE_LOGIN_PER_MINUTE=1000000 CONCLAVE_LOG=warn \
      start_temp_server target/release/conclave
    rm -f "$kit/results/conclave-users.json"
    CONCLAVE_URL="$server_url" CONCLAVE_PID="$server_pid" "$kit/run.sh" "$workload"
  )
  echo "$workload: the host took $(awk -v a="$steal_before" -v b="$(steal_seconds)" 'BEGIN {printf "%.1f", b - a}') CPU-s (steal) during this workload"
done
