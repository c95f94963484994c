#!/usr/bin/env bash
# API fuzzing (schemathesis, from PyPI) against the running server and the checked-in OpenAPI
# document: no 5xx, and every response conforms to the document (status codes, content types,
# headers, schemas). Installs schemathesis once into target/tools/schemathesis (a venv).
# Runs the debug binary (`cargo build` first); arguments go to `st run`, e.g. `--max-examples 5`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/target/tools/schemathesis"
version=4.32.5

if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

source scripts/temp-server.sh
CONCLAVE_MESSAGE_BURST=1000000 CONCLAVE_LOGIN_BURST=1000000 CONCLAVE_ACCESS_TOKEN_TTL_SECS=86400 \
  CONCLAVE_LOG=warn start_temp_server "${CONCLAVE_BIN:-target/debug/conclave}" --client-dir /nonexistent
base="$server_url"

# A user whose token the fuzzer sends, and a room it can find by id in its examples.
curl -fsS -X POST "$base/api/auth/signup" -H 'content-type: application/json' \
  -d '{"username": "fuzzer", "password": "fuzzing all the way down"}' >/dev/null
token=$(curl -fsS -X POST "$base/api/auth/login" -H 'content-type: application/json' \
  -d '{"username": "fuzzer", "password": "fuzzing all the way down"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

status=0
# Run from the server's temporary folder: schemathesis keeps a cache in its working directory.
(cd "$server_data" && "$venv/bin/st" --config-file "$root/scripts/schemathesis.toml" run "$root/api-spec/openapi.json" --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks "${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}" \
  --exclude-path /ws \
  --max-examples "${FUZZ_EXAMPLES:-30}" --seed 1 --workers 1 --no-color \
  --generation-database none --report-dir "$server_data/report" "$@") || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log" >&2
  tail -n 50 "$server_data/server.log" >&2
fi
exit "$status"
