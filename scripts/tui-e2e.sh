#!/usr/bin/env bash
# End-to-end run of the terminal client's full screen under tmux (issue 17): a throw-away
# server, two users; alice in `conclave-cli tui` in an 80×24 tmux pane, bob with the scriptable
# commands. A message each way, live, a reaction and an edit; then Ctrl-Q, which must end the client with status 0 and
# give the terminal back. Installs Debian's tmux when it is missing. Leaves the last screen in
# target/tui-screen.txt. Uses the debug build (`cargo build --workspace` makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v tmux >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux
fi
cli_bin="$PWD/target/debug/conclave-cli"
source scripts/temp-server.sh
start_temp_server target/debug/conclave
work=$(mktemp -d)
socket="conclave-tui-$$"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$work"; kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -rf "$server_data"' EXIT
export CONCLAVE_SERVER="$server_url" CONCLAVE_PASSWORD="correct horse battery staple"
as() { CONCLAVE_CONFIG_DIR="$work/$1" "$cli_bin" "${@:2}"; }
as alice signup alice >/dev/null
as bob signup bob >/dev/null
as alice rooms create general --topic "all of us" >/dev/null
as bob rooms join general >/dev/null
as bob send general "good morning" >/dev/null
as bob send general --sticker wave >/dev/null
as bob send general "the minutes are in the wiki" --color teal >/dev/null

# The pane's shell writes the client's exit status down (tmux's own record of it is racy).
tmux -L "$socket" -f /dev/null new-session -d -s tui -x 80 -y 24 \
  "env CONCLAVE_CONFIG_DIR=$work/alice TERM=xterm-256color $cli_bin tui; echo \$? >$work/tui.status"
tmux -L "$socket" set-option -t tui remain-on-exit on >/dev/null
screen() { tmux -L "$socket" capture-pane -p -t tui; }
# Waits (up to 10 s) until the screen shows TEXT.
shows() {
  for _ in $(seq 1 100); do
    if screen | grep -qF -- "$1"; then return 0; fi
    sleep 0.1
  done
  echo "not on the screen after 10 s: $1" >&2
  screen >&2
  exit 1
}
shows "connected"
shows "good morning"
as bob send general "hello from bob" >/dev/null
shows "hello from bob"
echo "alice's screen shows bob's message, live"
tmux -L "$socket" send-keys -t tui "hi bob, from the terminal" Enter
for _ in $(seq 1 100); do
  if as bob --json history general --limit 5 | grep -qF "hi bob, from the terminal"; then break; fi
  sleep 0.1
done
as bob --json history general --limit 5 | grep -qF "hi bob, from the terminal" || { echo "bob did not get alice's message" >&2; exit 1; }
shows "hi bob, from the terminal"
echo "bob has alice's message, sent from the full screen"
as bob send general "ship it?" >/dev/null
shows "ship it?"
tmux -L "$socket" send-keys -t tui "/react 👍" Enter
shows "👍 1"
as bob --json history general --limit 1 | grep -qF '"emoji": "👍"' || { echo "the reaction is not stored" >&2; exit 1; }
echo "a reaction from the full screen, stored and counted"
tmux -L "$socket" send-keys -t tui "/edit hi bob, from the full screen" Enter
shows "hi bob, from the full screen (edited)"
as bob --json history general --limit 5 | grep -qF '"body": "hi bob, from the full screen"' || { echo "the edit is not stored" >&2; exit 1; }
echo "an edit from the full screen, stored"
screen >target/tui-screen.txt
tmux -L "$socket" send-keys -t tui C-q
for _ in $(seq 1 100); do
  if [ -s "$work/tui.status" ]; then break; fi
  sleep 0.1
done
status=$(cat "$work/tui.status" 2>/dev/null || echo "still running after 10 s")
if [ "$status" != 0 ]; then
  echo "the client ended with status '$status'" >&2
  screen >&2
  exit 1
fi
echo "Ctrl-Q ended the client with status 0"
