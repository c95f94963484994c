#!/usr/bin/env bash
# Runs the browser tests (e2e/) in headless Chromium against target/debug/conclave and the
# built client in frontend/dist. Installs what it needs first, idempotently: Debian's chromium
# (never a downloaded browser) and the pinned playwright-core from e2e/package-lock.json.
# Screenshots of failing tests land in target/e2e-artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/bin/chromium ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
# Reactions and the emoji picker are drawn with an emoji font, as on people's machines.
if [ ! -d /usr/share/fonts/truetype/noto ] || ! ls /usr/share/fonts/truetype/noto/NotoColorEmoji* >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji
fi
if ! command -v npm >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm
fi
if [ ! -f e2e/node_modules/playwright-core/package.json ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
  npm ci --prefix e2e --no-audit --no-fund --silent
fi
for needed in target/debug/conclave frontend/dist/index.html; do
  [ -e "$needed" ] || { echo "missing $needed: run cargo build and scripts/build-client.sh first" >&2; exit 1; }
done
# scripts/screenshots.sh wants the set-up only.
[ -z "${E2E_ONLY_SETUP:-}" ] || exit 0
rm -rf target/e2e-artifacts
node --test --test-concurrency=1 e2e/tests/
