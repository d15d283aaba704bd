#!/usr/bin/env bash
# Development server (make run): a private PostgreSQL 15 in ./var on port
# 54329, the schema, a development project and token (kept in var/dev-token,
# mode 600, reused while it is valid), then `bin/lookout serve` in the
# foreground.  Your own LOOKOUT_* variables are passed through
# (LOOKOUT_DATABASE_URL excepted: it points at the private cluster).
# Stop the cluster afterwards with `make services-stop`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "run: $*" >&2; }

bin=${LO_BIN:-bin/lookout}
[ -x "$bin" ] || { say "$bin is not built (make)"; exit 1; }
mkdir -p var
chmod 700 var 2>/dev/null || true
pg_port=${LO_PG_PORT:-54329}

# As root PostgreSQL runs as "postgres", which must be able to reach the data
# directory.  If it cannot traverse the path to ./var, use /var/tmp instead.
pg_dir="$root/var"
if [ "$(id -u)" -eq 0 ]; then
  chmod 755 var
  if ! su postgres -s /bin/sh -c "cd '$root/var'" 2>/dev/null; then
    pg_dir="/var/tmp/lookout-dev-$(printf '%s' "$root" | sha256sum | cut -c1-12)"
    mkdir -p "$pg_dir"
    chmod 755 "$pg_dir"
    say "the postgres user cannot reach $root/var; the cluster lives in $pg_dir instead"
  fi
fi

say "starting PostgreSQL ($pg_dir/pg, 127.0.0.1:$pg_port)"
db_url=$(scripts/services.sh start pg "$pg_dir" "$pg_port")
export LOOKOUT_DATABASE_URL="$db_url"

say "bin/lookout migrate"
"$bin" migrate

psql_q() { psql "$db_url" -qAtX -v ON_ERROR_STOP=1 "$@"; }

project=$(psql_q -c "select id from projects where name = 'dev'")
if [ -z "$project" ]; then
  say "creating project \"dev\""
  project=$("$bin" project create --name dev)
fi

token=""
if [ -s var/dev-token ]; then
  token=$(cat var/dev-token)
  # still valid? (only its SHA-256 is stored)
  # (psql interpolates :'tok' only in scripts read from stdin, not in -c)
  ok=$(psql_q -v tok="$token" <<<"select 1 from api_tokens where token_sha256 = sha256(convert_to(:'tok', 'UTF8')) and revoked_at is null" || true)
  if [ "$ok" != 1 ]; then
    say "var/dev-token is not known to this database; creating a new one"
    token=""
  fi
fi
if [ -z "$token" ]; then
  say "creating a development token (scopes ingest, observe:read, alert:manage; project dev)"
  token=$("$bin" token create --name "dev-$(date -u +%Y%m%dT%H%M%S)" \
    --scope ingest,observe:read,alert:manage --project "$project")
  (umask 077 && printf '%s\n' "$token" > var/dev-token)
fi
chmod 600 var/dev-token

otlp_addr=${LOOKOUT_OTLP_ADDR:-127.0.0.1:4318}
api_addr=${LOOKOUT_API_ADDR:-127.0.0.1:8080}
cat >&2 <<EOF

  lookout (development)
  database:  $db_url
  project:   dev ($project)
  token:     $token   (saved in var/dev-token)
  OTLP:      http://$otlp_addr/v1/{traces,logs,metrics}
  API:       http://$api_addr   (/healthz, /readyz, /metrics)

  Point an OpenTelemetry SDK or Collector at it:

export OTEL_EXPORTER_OTLP_ENDPOINT=http://$otlp_addr
export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20$token"

  Stop PostgreSQL afterwards with: $( [ "$pg_dir" = "$root/var" ] && echo "make services-stop" || echo "scripts/services.sh stop pg $pg_dir")

EOF
say "exec $bin serve"
exec "$bin" serve
