#!/usr/bin/env bash
# RFC 6455 conformance of /ws with the Autobahn|Testsuite fuzzing client (`wstest -m
# fuzzingclient`, from PyPI), against a throw-away server built in debug (`cargo build` first;
# CONCLAVE_BIN to use another). Autobahn needs Python 2.7: AUTOBAHN_PYTHON, else pyenv's
# 2.7.18 if the machine has it; without one this says so and stops (exit 0), leaving the
# raw-frame tests of tests/tests/it/websocket_protocol.rs to cover the protocol alone.
# The suite and its dependencies go once into target/tools/autobahn.
#
# `/ws` is a chat gateway, not an echo server: a client speaks only after it authenticates,
# and Autobahn cannot. The cases run (141 of cases 1-7) are those whose outcome does not depend
# on a message echoed back: pings and pongs, reserved bits and opcodes, control frames
# fragmented or too long, invalid UTF-8 whole and in fragments, fragments out of order, and the
# closing handshake with every close code and reason. Each must end OK, NON-STRICT or
# INFORMATIONAL, in behaviour and in close.
# The report is written to target/autobahn (index.html).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${AUTOBAHN_PYTHON:-$HOME/.pyenv/versions/2.7.18/bin/python}
if [ ! -x "$python" ] || ! "$python" --version 2>&1 | grep -q '^Python 2\.7'; then
  echo "Autobahn skipped: no Python 2.7 at $python (set AUTOBAHN_PYTHON); the raw-frame tests cover /ws"
  exit 0
fi
version=25.10.1
tools="$root/target/tools/autobahn"
if [ ! -f "$tools/installed-$version" ]; then
  rm -rf "$tools"
  mkdir -p "$tools"
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$tools/lib" "autobahntestsuite==$version" 2>&1 | grep -v DEPRECATION || true
  "$python" -c "import site; site.addsitedir('$tools/lib'); import autobahntestsuite.wstest"
  touch "$tools/installed-$version"
fi

source scripts/temp-server.sh
CONCLAVE_LOG=warn start_temp_server "${CONCLAVE_BIN:-target/debug/conclave}" --client-dir /nonexistent
report="$root/target/autobahn"
rm -rf "$report"
mkdir -p "$report"
python3 - "$server_url" "$report" >"$server_data/fuzzingclient.json" <<'EOF'
import json, sys
url, report = sys.argv[1], sys.argv[2]
# Cases 1 to 7: framing, pings and pongs, reserved bits, reserved opcodes, fragmentation, UTF-8
# and the closing handshake. Left out: the cases whose expected outcome is a message echoed
# back (the gateway answers an unauthenticated message with `malformed_frame` instead), each
# listed with what it sends first; 9 (echo throughput), 10 (echo of large messages), 12 and 13
# (permessage-deflate, not offered).
cases = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*"]
echoes = [
    "1.*",                            # text and binary messages of every size
    "3.2", "3.3", "3.4",              # a valid message before the reserved bit
    "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5",  # a valid message before the reserved opcode
    "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.15", "5.19", "5.20",  # valid fragmented messages
    "6.1.*", "6.2.*", "6.5.*", "6.6.2", "6.6.5", "6.6.7", "6.6.9", "6.6.11", "6.7.*", "6.9.*",
    "6.11.1", "6.11.2", "6.11.3", "6.11.4", "6.22.*", "6.23.*",  # valid UTF-8 text
    "7.1.1",                          # a message, then the close
]
print(json.dumps({
    "outdir": report,
    "servers": [{"agent": "conclave", "url": url.replace("http://", "ws://") + "/ws"}],
    "cases": cases,
    "exclude-cases": echoes,
    "exclude-agent-cases": {},
}))
EOF
(cd "$server_data" && "$python" -c "
import site, sys
site.addsitedir('$tools/lib')
from autobahntestsuite import wstest
sys.argv = ['wstest', '-m', 'fuzzingclient', '-s', '$server_data/fuzzingclient.json']
wstest.run()
" >"$server_data/wstest.log" 2>&1) || { tail -n 30 "$server_data/wstest.log" >&2; exit 1; }

python3 - "$report/index.json" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["conclave"]
good = {"OK", "NON-STRICT", "INFORMATIONAL"}
def key(case):
    return tuple(int(part) for part in case.split("."))
failed = [(case, r["behavior"], r["behaviorClose"]) for case, r in sorted(results.items(), key=lambda kv: key(kv[0]))
          if r["behavior"] not in good or r["behaviorClose"] not in good]
print(f"Autobahn fuzzingclient: {len(results) - len(failed)} of {len(results)} cases pass (report: target/autobahn/index.html)")
for case, behavior, close in failed:
    print(f"  {case}: behaviour {behavior}, close {close}")
sys.exit(1 if failed else 0)
EOF
