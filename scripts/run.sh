#!/usr/bin/env bash
# Runs Conclave on the embedded store, web client included: http://127.0.0.1:8080 unless
# CONCLAVE_BIND says otherwise. The first run installs the wasm toolchain (scripts/build-client.sh).
# Every setting is an environment variable or a flag (see README "Configuration"); extra
# arguments are passed to the server, e.g. `scripts/run.sh --bind 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-client.sh
exec cargo run --release --locked -p conclave-server --bin conclave -- "$@"
