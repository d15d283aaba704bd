#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL 15 cluster:
#   scripts/with-pg.sh CMD [ARGS...]
# The cluster lives in a fresh temporary directory on a free port and is
# removed afterwards; CMD sees LO_TEST_DATABASE_URL (database "lookout").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/lookout-pg.XXXXXX)
chmod 755 "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { "$here/services.sh" stop pg "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
LO_TEST_DATABASE_URL=$("$here/services.sh" start pg "$dir" "$port")
export LO_TEST_DATABASE_URL
"$@"
