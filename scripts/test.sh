#!/usr/bin/env bash
# Runs every check and test of Conclave: formatting, lints (server and web client), unit and
# table tests, the store conformance suite on SQLite and on MongoDB, the OpenAPI drift check,
# the black-box tests against the real binary once per store, an API fuzz run (schemathesis),
# the Autobahn WebSocket cases, the terminal client's full screen under tmux, a 60-second soak,
# and the browser tests of the web client in headless Chromium. Installs the tools it needs
# itself (scripts/build-client.sh, scripts/mongodb-wire.sh, scripts/autobahn.sh,
# scripts/tui-e2e.sh, scripts/e2e.sh, Debian's redis-server for the cluster tests).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s  [%s]\n' "$*" "$(date +%T)"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

wire_install="" wire_pid="" wire_dir=""
cleanup() {
  if [ -n "$wire_install" ]; then kill -- "-$wire_install" 2>/dev/null || true; fi
  if [ -n "$wire_pid" ]; then kill "$wire_pid" 2>/dev/null || true; fi
  if [ -n "$wire_dir" ]; then rm -rf "$wire_dir"; fi
}
trap cleanup EXIT

# The cluster tests run nodes through Debian's redis-server (each test starts its own).
if ! command -v redis-server >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
fi

# The MongoDB-wire server takes minutes to build the first time: build it while the rest builds
# (in a process group of its own, so that stopping early stops its build too).
mkdir -p target
./scripts/mongodb-wire.sh prerequisites
setsid ./scripts/mongodb-wire.sh install >target/mongodb-wire-install.log 2>&1 &
wire_install=$!

step "formatting (cargo fmt --check)"
cargo fmt --all --check
(cd frontend && cargo fmt --all --check)

step "lints (cargo clippy -D warnings), server and web client"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The client is linted as native code: Debian's wasm toolchain has no clippy.
(cd frontend && cargo clippy --locked --target-dir ../target/client-native --all-targets -- -D warnings)
# Its pure parts (how a message body is split into text, links and mentions) have unit tests.
(cd frontend && cargo test --locked --target-dir ../target/client-native)

step "build (the conclave binary the black-box and browser tests start)"
cargo build --workspace --all-targets --locked

step "web client (frontend/dist)"
./scripts/build-client.sh

step "MongoDB-wire server for the MongoDB store (scripts/mongodb-wire.sh)"
if ! wait "$wire_install"; then
  cat target/mongodb-wire-install.log
  exit 1
fi
wire_install=""
wire_dir=$(mktemp -d)
read -r wire_pid wire_port < <(./scripts/mongodb-wire.sh start "$wire_dir")
export CONCLAVE_TEST_MONGODB_URI="mongodb://127.0.0.1:$wire_port"
echo "listening on $CONCLAVE_TEST_MONGODB_URI"

step "tests (store conformance on both stores; black-box tests on the embedded store)"
cargo test --workspace --locked

step "black-box tests again, on MongoDB"
# The test binary the workspace build made, run again: `cargo test -p conclave-tests` would
# resolve features for that package alone and rebuild much of the dependency graph (minutes).
mapfile -t blackbox < <(cargo test --workspace --locked --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if (message.get("reason") == "compiler-artifact" and message.get("executable")
            and message["target"]["kind"] == ["test"] and "#conclave-tests@" in message["package_id"]):
        print(message["executable"])')
[ "${#blackbox[@]}" -eq 1 ] || { echo "the black-box test binary was not found" >&2; exit 1; }
# The cluster and MongoDB-outage tests start servers of their own whatever the store, and
# backups are of the embedded store: the first run has them already.
for binary in "${blackbox[@]}"; do
  (cd tests && CONCLAVE_TEST_STORE=mongodb "$binary" --skip cluster:: --skip mongodb:: --skip backup::)
done

step "API fuzzing (schemathesis against the running server and api-spec/openapi.json)"
./scripts/fuzz-api.sh

step "WebSocket conformance (Autobahn fuzzingclient against /ws; needs a Python 2.7)"
./scripts/autobahn.sh

step "terminal client: conclave-cli tui under tmux, a message each way (scripts/tui-e2e.sh)"
./scripts/tui-e2e.sh

step "soak (60 s of churn against one server; fails when memory, descriptors or tasks grow)"
SOAK_REPORT_SECS=10 ./scripts/soak.sh 60

step "docker-compose.yml (docker compose config)"
# No Docker engine runs on the build machines, but the compose file can still be validated.
if docker compose version >/dev/null 2>&1; then
  docker compose config --quiet && echo "valid"
elif command -v docker >/dev/null 2>&1; then
  # The docker CLI without its compose plugin: Debian's docker-compose validates the same file.
  if ! command -v docker-compose >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose
  fi
  docker-compose config --quiet && echo "valid"
else
  echo "no docker CLI here: skipped"
fi
# The load balancer's configuration, checked by Debian's nginx.
if ! command -v nginx >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light
fi
nginx -q -t -c "$PWD/deploy/nginx.conf" -g "pid $(mktemp -u); error_log stderr;" && echo "deploy/nginx.conf: valid"

step "browser tests (headless Chromium)"
./scripts/e2e.sh
