#!/usr/bin/env bash
# scripts/run.sh when a port it needs is held by some other process (a plain
# listener): one line naming the process (when ss can see it) and the
# variable that moves the port, exit 1, nothing started.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/lookout-tooling.XXXXXX)
listener=""
cleanup() { [ -z "$listener" ] || kill "$listener" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
copy_checkout "$T/co"

busy=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(600)' "$busy" &
listener=$!
for _ in $(seq 1 50); do port_open "$busy" && break; sleep 0.1; done

check() { # VAR WHAT VALUE: run.sh with VAR=VALUE, which points at the busy port
  local var=$1 what=$2 addr=$3 rc
  set +e
  env LO_DEV_PG_PORT="$(free_port)" LOOKOUT_OTLP_ADDR="127.0.0.1:$(free_port)" LOOKOUT_API_ADDR="127.0.0.1:$(free_port)" \
    "$var=$3" LO_BIN=/nonexistent "$T/co/scripts/run.sh" >"$T/out" 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || { cat "$T/out" >&2; fail "$var busy: exit $rc, not 1"; }
  one_line "$T/out" || { cat "$T/out" >&2; fail "$var busy: not one line"; }
  [[ $addr == *:* ]] || addr=127.0.0.1:$addr
  grep -qF "$addr ($what) is taken" "$T/out" && grep -qF "$var=" "$T/out" \
    || { cat "$T/out" >&2; fail "$var busy: the line names neither the port nor $var"; }
  if command -v ss >/dev/null; then
    grep -qF "process $listener (" "$T/out" || { cat "$T/out" >&2; fail "$var busy: the listener (pid $listener) is not named"; }
  fi
  [ ! -e "$T/co/var/pg" ] || fail "$var busy: a cluster was started"
  say "$(cat "$T/out")"
}
check LO_DEV_PG_PORT PostgreSQL "$busy"
check LOOKOUT_API_ADDR API "127.0.0.1:$busy"
check LOOKOUT_OTLP_ADDR OTLP "0.0.0.0:$busy"
