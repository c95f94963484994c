#!/usr/bin/env bash
# Runs every check and test of Conclave: formatting, lints, unit and table tests, the store
# conformance suite, the OpenAPI drift check, and the black-box tests against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "formatting (cargo fmt --check)"
cargo fmt --all --check

step "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build (the conclave binary the black-box tests start)"
cargo build --workspace --all-targets --locked

step "tests"
cargo test --workspace --locked
