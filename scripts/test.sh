#!/usr/bin/env bash
# Runs every check and test of Conclave: formatting, lints (server and web client), unit and
# table tests, the store conformance suite, the OpenAPI drift check, the black-box tests
# against the real binary, and the browser tests of the web client in headless Chromium.
# Installs the tools it needs itself (scripts/build-client.sh, scripts/e2e.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "formatting (cargo fmt --check)"
cargo fmt --all --check
(cd frontend && cargo fmt --all --check)

step "lints (cargo clippy -D warnings), server and web client"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The client is linted as native code: Debian's wasm toolchain has no clippy.
(cd frontend && cargo clippy --locked --target-dir ../target/client-native -- -D warnings)

step "build (the conclave binary the black-box and browser tests start)"
cargo build --workspace --all-targets --locked

step "web client (frontend/dist)"
./scripts/build-client.sh

step "tests"
cargo test --workspace --locked

step "browser tests (headless Chromium)"
./scripts/e2e.sh
