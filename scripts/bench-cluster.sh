#!/usr/bin/env bash
# Several nodes beside one (issue 15): the same gateway load (conclave-load: 1,000 connections in
# 10 rooms, 50 senders, unless told otherwise) on one Conclave node, then on three nodes through
# Redis with the members and senders spread over them, both on a fresh database of one
# MongoDB-wire server, with release builds and rate limits out of the way. The CPU figure is
# everything that serves (the nodes, Redis, the database); each process's share follows.
#
# Usage: scripts/bench-cluster.sh [conclave-load flags…]      e.g. --rate 2000 --messages 100
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p conclave-server -p conclave-load
./scripts/mongodb-wire.sh install
command -v redis-server >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
work=$(mktemp -d)
pids=()
nodes=()
cleanup() {
  # The nodes first, while their store is there to stop against; then Redis and the database.
  kill "${nodes[@]}" 2>/dev/null || true
  for pid in "${nodes[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

read -r mongo_pid mongo_port < <(./scripts/mongodb-wire.sh start "$work/mongodb")
pids+=("$mongo_pid")
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" &
redis_pid=$!
pids+=("$redis_pid")

# start_node NAME DATABASE [REDIS_URL]: a release node; prints "PID URL" once it listens.
start_node() {
  local dir="$work/$1"
  mkdir -p "$dir"
  if [ -n "${3:-}" ]; then export CONCLAVE_REDIS_URL="$3"; else unset CONCLAVE_REDIS_URL; fi
  CONCLAVE_MONGODB_URI="mongodb://127.0.0.1:$mongo_port/$2" \
    CONCLAVE_KEY_FILE="$work/server.key" CONCLAVE_JWT_SECRET="bench-cluster-secret-0123456789abcdef" \
    CONCLAVE_MESSAGE_BURST=1000000 CONCLAVE_MESSAGE_PER_SECOND=1000000 CONCLAVE_LOGIN_BURST=1000000 \
    CONCLAVE_LOGIN_PER_MINUTE=1000000 CONCLAVE_WS_QUEUE=1024 CONCLAVE_LOG=warn \
    target/release/conclave --bind 127.0.0.1:0 --data-dir "$dir" >"$dir/stdout" 2>"$dir/server.log" &
  local pid=$!
  for _ in $(seq 1 300); do
    grep -q '^conclave listening on ' "$dir/stdout" && break
    sleep 0.1
  done
  local url
  url=$(sed -n 's/^conclave listening on //p' "$dir/stdout" | head -n 1)
  [ -n "$url" ] || { cat "$dir/server.log" >&2; echo "node $1 did not start" >&2; exit 1; }
  echo "$pid $url"
}

echo "== one node (MongoDB-wire pid $mongo_pid)"
read -r one_pid one_url < <(start_node one bench_one)
[ -n "$one_url" ] || exit 1
nodes+=("$one_pid")
echo "   node pid $one_pid"
target/release/conclave-load --url "$one_url" --server-pid "$one_pid" --server-pid "$mongo_pid" "$@"
kill "$one_pid"

echo "== three nodes through Redis (Redis pid $redis_pid, MongoDB-wire pid $mongo_pid)"
flags=()
for n in 1 2 3; do
  read -r pid url < <(start_node "node$n" bench_three "redis://127.0.0.1:$redis_port")
  [ -n "$url" ] || exit 1
  nodes+=("$pid")
  echo "   node $n pid $pid"
  flags+=(--url "$url" --server-pid "$pid")
done
target/release/conclave-load "${flags[@]}" --server-pid "$redis_pid" --server-pid "$mongo_pid" "$@"
