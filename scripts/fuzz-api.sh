#!/usr/bin/env bash
# API fuzzing (schemathesis, from PyPI) against the running server and the checked-in OpenAPI
# document: no 5xx; every response conforms to the document (status codes, content types,
# headers, schemas); what the document allows is accepted and what it forbids is refused; the
# stateful phase follows the document's links. Installs schemathesis once into
# target/tools/schemathesis (a venv). Runs the debug binary (`cargo build` first); arguments go to `st run`, e.g. `--max-examples 5`.
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

# Every check runs, in every phase (examples, coverage, fuzzing, stateful), but one:
# `ensure_resource_availability` reads any 404 that follows a creation as the created resource
# gone, while a send's 404 may name what its body points to (`attachment_not_found`, or
# `message_not_found` for `reply_to`), not the room; schemathesis applies that check to every
# operation or to none. `scripts/schemathesis.toml` names, per operation, the refusals that
# depend on state a document cannot describe.
status=0
# Run from the server's temporary folder: schemathesis keeps a cache in its working directory.
(cd "$server_data" && "$venv/bin/st" --config-file "$root/scripts/schemathesis.toml" run "$root/api-spec/openapi.json" --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks all --exclude-checks ensure_resource_availability \
  --exclude-path /ws \
  --max-examples "${FUZZ_EXAMPLES:-30}" --seed 1 --workers 1 --no-color \
  --generation-database none --report-dir "$server_data/report" "$@") || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log" >&2
  tail -n 50 "$server_data/server.log" >&2
fi
exit "$status"
