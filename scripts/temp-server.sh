# Sourced by scripts that need a throw-away Conclave: `start_temp_server BINARY [FLAG…]` starts
# BINARY on a free port with a temporary data folder (environment variables pass through),
# waits for it to listen, and sets `server_url`, `server_pid` and `server_data`. The server is
# stopped and its folder removed when the calling script exits.
start_temp_server() {
  local binary="$1"
  shift
  server_data=$(mktemp -d)
  "$binary" --bind 127.0.0.1:0 --data-dir "$server_data" "$@" >"$server_data/stdout" 2>"$server_data/server.log" &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -rf "$server_data"' EXIT
  for _ in $(seq 1 100); do
    grep -q '^conclave listening on ' "$server_data/stdout" && break
    sleep 0.1
  done
  server_url=$(sed -n 's/^conclave listening on //p' "$server_data/stdout" | head -n 1)
  if [ -z "$server_url" ]; then
    cat "$server_data/server.log" >&2
    echo "the server did not start" >&2
    exit 1
  fi
}
