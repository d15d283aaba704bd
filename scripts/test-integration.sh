#!/usr/bin/env bash
# Integration tests: drives the built server from outside with real clients.
#
#   LO_BIN=bin/lookout scripts/test-integration.sh [TEST_FILE...]   (make integration)
#
# Starts a throw-away PostgreSQL 15 cluster (scripts/services.sh, in a fresh
# temporary directory, on a free port), runs `lookout migrate`, creates two
# projects and a few tokens with the CLI, starts `lookout serve` on free
# loopback ports, waits for /healthz, then runs `node --test` over
# tests/integration/*.test.mjs (or the files given) with everything the tests
# need in LO_TEST_* variables.  Everything is stopped on exit; the exit status
# is the tests'.  The server's stderr goes to a log printed on failure;
# LO_TEST_KEEP=1 keeps the temporary directory (logs, cluster) afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

LO_BIN=${LO_BIN:-bin/lookout}
[ -x "$LO_BIN" ] || { echo "integration: $LO_BIN is not built (make)" >&2; exit 1; }
LO_BIN=$(realpath "$LO_BIN")
command -v node >/dev/null || { echo "integration: node is missing (make deps)" >&2; exit 1; }
[ -d tests/integration/node_modules ] || { echo "integration: npm packages missing (make deps)" >&2; exit 1; }

say() { echo "integration: $*" >&2; }

tmp=$(mktemp -d /tmp/lookout-itest.XXXXXX)
chmod 755 "$tmp"   # PostgreSQL runs as "postgres" when we are root: it must reach $tmp/pg
server_pid=""
status=1

free_port() {
  node -e 'const s=require("net").createServer(); s.listen(0,"127.0.0.1",()=>{console.log(s.address().port); s.close()})'
}
http_ok() { # URL -> exit 0 when it answers 2xx within a second
  node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(1000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$1"
}

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

cleanup() {
  set +e
  stop_server
  if [ "$status" -ne 0 ]; then
    for f in "$tmp"/server*.log; do
      [ -s "$f" ] || continue
      echo "---- $(basename "$f") (last 150 lines) ----" >&2
      tail -n 150 "$f" >&2
    done
    if [ -f "$tmp/pg/pg.log" ]; then
      echo "---- PostgreSQL log (last 30 lines) ----" >&2
      tail -n 30 "$tmp/pg/pg.log" >&2
    fi
  fi
  # clusters the tests started themselves live under $tmp too
  for d in "$tmp" "$tmp"/*/; do
    [ -f "$d/pg/data/PG_VERSION" ] && "$root/scripts/services.sh" stop pg "$d" >/dev/null 2>&1
    [ -f "$d/redis/redis.pid" ] && "$root/scripts/services.sh" stop redis "$d" >/dev/null 2>&1
  done
  if [ -n "${LO_TEST_KEEP:-}" ]; then say "kept $tmp (LO_TEST_KEEP)"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! scripts/readme-settings.sh --check 2>/dev/null; then
  say "warning: the settings table in README.md differs from '$LO_BIN serve --help' (run scripts/readme-settings.sh)"
fi

pg_port=$(free_port)
say "starting PostgreSQL in $tmp/pg on 127.0.0.1:$pg_port"
db_url=$("$root/scripts/services.sh" start pg "$tmp" "$pg_port")
export LOOKOUT_DATABASE_URL="$db_url"
redis_port=$(free_port)
say "starting redis-server in $tmp/redis on 127.0.0.1:$redis_port (the live tail's Valkey)"
redis_url=$("$root/scripts/services.sh" start redis "$tmp" "$redis_port")

say "lookout migrate"
"$LO_BIN" migrate >"$tmp/migrate.log" 2>&1 || { cat "$tmp/migrate.log" >&2; exit 1; }

cli() { # runs the CLI; its stdout is the value, stderr goes to the log
  "$LO_BIN" "$@" 2>>"$tmp/cli.log" || { say "failed: lookout $*"; cat "$tmp/cli.log" >&2; exit 1; }
}
say "creating projects and tokens"
project_a=$(cli project create --name itest-a)
project_b=$(cli project create --name itest-b)
token=$(cli token create --name itest-ingest --scope ingest)
token_a=$(cli token create --name itest-ingest-a --scope ingest --project "$project_a")
token_read=$(cli token create --name itest-read --scope observe:read)
token_admin=$(cli token create --name itest-admin --scope admin)
for v in project_a project_b token token_a token_read token_admin; do
  [ -n "${!v}" ] || { say "empty $v from the CLI"; exit 1; }
done

otlp_port=$(free_port)
api_port=$(free_port)
while [ "$api_port" = "$otlp_port" ]; do api_port=$(free_port); done
say "starting lookout serve (OTLP 127.0.0.1:$otlp_port, API 127.0.0.1:$api_port), log in $tmp/server.log"
# alert rules are evaluated every second, so the alert tests run in seconds
LOOKOUT_OTLP_ADDR="127.0.0.1:$otlp_port" LOOKOUT_API_ADDR="127.0.0.1:$api_port" LOOKOUT_ALERT_INTERVAL=1 \
  LOOKOUT_ALERT_RESEND_SECONDS=10 \
  "$LO_BIN" serve >"$tmp/server.log" 2>&1 &
server_pid=$!

ready=0
for _ in $(seq 1 150); do
  if ! kill -0 "$server_pid" 2>/dev/null; then say "lookout serve exited during start-up"; exit 1; fi
  if http_ok "http://127.0.0.1:$api_port/healthz"; then ready=1; break; fi
  sleep 0.1
done
[ "$ready" = 1 ] || { say "lookout serve did not answer /healthz within 15 s"; exit 1; }
say "server is up (pid $server_pid)"

export LO_BIN
export LO_TEST_DATABASE_URL="$db_url"
export LO_TEST_OTLP_URL="http://127.0.0.1:$otlp_port"
export LO_TEST_API_URL="http://127.0.0.1:$api_port"
export LO_TEST_SERVER_PID="$server_pid"
export LO_TEST_TOKEN="$token"             # scope ingest, not bound to projects
export LO_TEST_TOKEN_A="$token_a"         # scope ingest, bound to project A
export LO_TEST_TOKEN_READ="$token_read"   # scope observe:read only (no ingest)
export LO_TEST_TOKEN_ADMIN="$token_admin"
export LO_TEST_PROJECT_A="$project_a"
export LO_TEST_PROJECT_B="$project_b"
export LO_TEST_TMP="$tmp"                 # scratch space; tests that need their own cluster put it here
export LO_TEST_SERVICES="$root/scripts/services.sh"
export LO_TEST_PG_DIR="$tmp"
export LO_TEST_PG_PORT="$pg_port"
export LO_TEST_REDIS_URL="$redis_url"     # the main server runs without it (the tail in process)
export LO_TEST_REDIS_DIR="$tmp"
export LO_TEST_REDIS_PORT="$redis_port"

if [ "$#" -gt 0 ]; then files=("$@"); else files=(tests/integration/*.test.mjs); fi
say "node --test ${files[*]}"
set +e
# One file at a time, each test at most 180 s.  Debian 12's Node.js 18 has
# neither option: there each file runs in its own `node --test`, in turn, for
# at most 30 minutes.
if node --test-concurrency=1 --test-timeout=1 -e 0 2>/dev/null; then
  node --test --test-concurrency=1 --test-timeout=180000 "${files[@]}"
  status=$?
else
  status=0
  for f in "${files[@]}"; do
    timeout -k 10 1800 node --test "$f" || { say "$f failed"; status=1; }
  done
fi
set -e
if ! kill -0 "$server_pid" 2>/dev/null; then
  say "the server died during the tests"; status=1
else
  # a clean shutdown is part of the test: SIGTERM -> exit 0 (under ASan also: no leaks)
  kill -TERM "$server_pid"
  rc=0
  for _ in $(seq 1 300); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    say "the server did not exit within 30 s of SIGTERM"; kill -KILL "$server_pid"; rc=1
  fi
  wait "$server_pid" || rc=$?
  server_pid=""
  if [ "$rc" -ne 0 ]; then say "the server exited with status $rc after SIGTERM"; status=1; fi
fi
# sanitizer reports in any server log fail the run
if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$tmp"/server*.log >/dev/null 2>&1; then
  say "sanitizer reports in: $(grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$tmp"/server*.log | xargs -n1 basename | tr '\n' ' ')"
  status=1
fi
say "tests finished with status $status"
exit "$status"
