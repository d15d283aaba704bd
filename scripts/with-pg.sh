#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL 15 cluster:
#   scripts/with-pg.sh CMD [ARGS...]
# The cluster lives in a fresh temporary directory on a free port and is
# removed afterwards; CMD sees LO_TEST_DATABASE_URL (database "lookout").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/lookout-pg.XXXXXX)
chmod 755 "$dir"
cleanup() { "$here/services.sh" stop pg "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
# A port found free can be taken by someone else before PostgreSQL binds it
# (several test runs share the machine): try another one then.
for attempt in 1 2 3; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if LO_TEST_DATABASE_URL=$("$here/services.sh" start pg "$dir" "$port"); then break; fi
  [ "$attempt" -lt 3 ] || exit 1
  echo "with-pg: PostgreSQL did not start on port $port; trying another port" >&2
done
export LO_TEST_DATABASE_URL
"$@"
