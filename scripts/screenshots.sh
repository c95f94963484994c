#!/usr/bin/env bash
# Takes screenshots of every page of the web client (desktop and phone width, light and dark)
# into target/screenshots, or the folder given as the first argument.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p conclave-server --bin conclave
./scripts/build-client.sh
E2E_ONLY_SETUP=1 ./scripts/e2e.sh
node e2e/screenshots.mjs "${1:-target/screenshots}"
