#!/usr/bin/env bash
# Builds the web client into frontend/dist, installing what it needs first (idempotently):
# a wasm32 Rust toolchain (rustup's target if present, else Debian's rustc-web with build-std),
# wasm-bindgen-cli at exactly the lockfile's wasm-bindgen version, and wasm-opt from npm binaryen.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="$root/target/client-tools"
mkdir -p "$tools"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. The wasm32 toolchain: rustup's target when it has one, else Debian's rustc-web, which
#    builds std for wasm32 from source (build-std).
if rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'; then
  cargo_cmd=(cargo build)
else
  if ! dpkg -s rustc-web cargo-web rust-web-src rust-web-llvm lld-22 >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src rust-web-llvm lld-22
  fi
  cargo_cmd=(env -u RUSTUP_TOOLCHAIN RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build -Zbuild-std=std,panic_abort)
fi

# 2. wasm-bindgen-cli, the version the client's lockfile pins.
version=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p}' frontend/Cargo.lock | head -n 1)
if ! "$tools/bin/wasm-bindgen" --version 2>/dev/null | grep -q " $version\$"; then
  # A build tool run once per build: compiled for speed of building, not of running.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install --root "$tools" wasm-bindgen-cli --version "$version"
fi

# 3. wasm-opt from npm's binaryen (Debian's binaryen 108 produces broken modules).
if ! command -v npm >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm
fi
if [ ! -x "$tools/node_modules/.bin/wasm-opt" ]; then
  npm install --silent --prefix "$tools" binaryen@132.0.0
fi

# 4. Build.
(cd frontend && "${cargo_cmd[@]}" --release --locked --target wasm32-unknown-unknown --target-dir "$root/target/client")
rm -rf frontend/dist && mkdir -p frontend/dist/pkg
"$tools/bin/wasm-bindgen" --target web --no-typescript --out-name conclave_web --out-dir frontend/dist/pkg \
  "$root/target/client/wasm32-unknown-unknown/release/conclave-web.wasm"
"$tools/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  -o frontend/dist/pkg/conclave_web_bg.wasm frontend/dist/pkg/conclave_web_bg.wasm
cp frontend/static/* frontend/dist/
echo "web client built: $(gzip -c frontend/dist/pkg/conclave_web_bg.wasm | wc -c) bytes of wasm, gzipped"
