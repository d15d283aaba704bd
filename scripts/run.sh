#!/usr/bin/env bash
# Development server (make run): this checkout's private PostgreSQL 15
# (scripts/services.sh: in ./var, or as root under /var/tmp when the postgres
# user cannot reach ./var) on port $LO_DEV_PG_PORT (default 54329), a private
# redis-server for the live tail on $LO_DEV_REDIS_PORT (default 56379; set
# LOOKOUT_VALKEY_URL to use your own, or to "" for none), the
# schema, a development project and token (kept in var/dev-token, mode 600,
# reused while it is valid), then `bin/lookout serve` in the foreground on
# $LOOKOUT_OTLP_ADDR / $LOOKOUT_API_ADDR (default 127.0.0.1:4318 / :8080),
# with the cold tier in var/cold (set LOOKOUT_COLD_URL to use another store,
# or to "" for none).
# Your own LOOKOUT_* variables are passed through (LOOKOUT_DATABASE_URL
# excepted: it points at the private cluster).  Stop the cluster afterwards
# with `make services-stop`.
#
# First it checks the three ports: when one is taken (and not by this
# checkout's own cluster) it prints one line saying by what, when it can tell,
# and how to stop it or choose other ports, and exits 1.
#   scripts/run.sh --check-ports   only that check (the Makefile runs it first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "run: $*" >&2; }

pg_port=${LO_DEV_PG_PORT:-54329}
redis_port=${LO_DEV_REDIS_PORT:-56379}
otlp_addr=${LOOKOUT_OTLP_ADDR:-127.0.0.1:4318}
api_addr=${LOOKOUT_API_ADDR:-127.0.0.1:8080}
dev_dir=$(scripts/services.sh dev-dir)

# --- ports -----------------------------------------------------------------

taken() { # HOST PORT -> 0 when something accepts connections there
  local h=${1#[}; h=${h%]}
  case "$h" in ""|"*"|0.0.0.0) h=127.0.0.1 ;; "::") h=::1 ;; esac
  timeout 2 bash -c "exec 3<>/dev/tcp/$h/$2" 2>/dev/null
}

# pid and port of the postmaster of the cluster in DIR/pg, when it runs
cluster_pid_port() {
  local f="$1/pg/data/postmaster.pid" pid
  [ -r "$f" ] || return 1
  pid=$(sed -n 1p "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid $(sed -n 4p "$f")"
}

# "the development PostgreSQL of ..." for the cluster in DIR/pg, pid PID
describe_cluster() {
  local d=$1 pid=$2 co=""
  if [ "$d" = "$dev_dir" ]; then echo "this checkout's development PostgreSQL (pid $pid)"; return; fi
  if [ -s "$d/checkout" ]; then co=$(head -n 1 "$d/checkout")
  elif [ "${d##*/}" = var ]; then co=${d%/var}; fi
  if [ -n "$co" ] && [ -f "$co/scripts/services.sh" ]; then
    echo "the development PostgreSQL of the checkout $co (pid $pid; stop it with 'make services-stop' in $co)"
  elif [ -n "$co" ]; then
    echo "the development PostgreSQL of $co, which is gone (pid $pid; stop it with 'scripts/services.sh stop pg $d')"
  else
    echo "the PostgreSQL in $d/pg (pid $pid; stop it with 'scripts/services.sh stop pg $d')"
  fi
}

# What listens on PORT, as far as we can tell ("" when we cannot).
holder() {
  local port=$1 d pp pid="" cmd data
  for d in "$dev_dir" /var/tmp/lookout-dev-*; do
    pp=$(cluster_pid_port "$d") || continue
    [ "${pp#* }" = "$port" ] || continue
    describe_cluster "$d" "${pp% *}"; return
  done
  if command -v ss >/dev/null; then
    pid=$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
  fi
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
  cmd=$(tr '\0\n\t' '   ' <"/proc/$pid/cmdline" | tr -s ' ' | cut -c1-80); cmd=${cmd% }
  data=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n '/^-D$/{n;p;q}')
  if [ -n "$data" ] && [ "${data%/pg/data}" != "$data" ]; then
    describe_cluster "${data%/pg/data}" "$pid"; return
  fi
  local cwd; cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
  echo "process $pid ($cmd${cwd:+, started in $cwd}; stop it with 'kill $pid')"
}

# a port after PORT that nothing answers on (for the suggestion)
free_after() {
  local h=$1 p=$2 i
  for i in $(seq 1 50); do taken "$h" $((p + i)) || { echo $((p + i)); return; }; done
  echo $((p + 1))
}

check_ports() { # prints one line and returns 1 when a port is taken
  local holders=() fixes=() h p what i
  declare -A ports=()   # holder -> the addresses it holds
  note() { # ADDR (WHAT) HOLDER FIX
    [ -n "${ports[$2]+x}" ] || holders+=("$2")
    ports[$2]+="${ports[$2]:+ and }$1"
    fixes+=("$3")
  }
  if ! cluster_pid_port "$dev_dir" >/dev/null && taken 127.0.0.1 "$pg_port"; then
    note "127.0.0.1:$pg_port (PostgreSQL)" "$(holder "$pg_port")" "LO_DEV_PG_PORT=$(free_after 127.0.0.1 "$pg_port")"
  fi
  if [ -z "${LOOKOUT_VALKEY_URL+x}" ] && ! { [ -r "$dev_dir/redis/redis.pid" ] && kill -0 "$(cat "$dev_dir/redis/redis.pid")" 2>/dev/null; } \
      && taken 127.0.0.1 "$redis_port"; then
    note "127.0.0.1:$redis_port (redis)" "$(holder "$redis_port")" "LO_DEV_REDIS_PORT=$(free_after 127.0.0.1 "$redis_port")"
  fi
  for what in OTLP:LOOKOUT_OTLP_ADDR:"$otlp_addr" API:LOOKOUT_API_ADDR:"$api_addr"; do
    local name=${what%%:*} rest=${what#*:}; local var=${rest%%:*} addr=${rest#*:}
    h=${addr%:*}; p=${addr##*:}
    taken "$h" "$p" || continue
    note "$addr ($name)" "$(holder "$p")" "$var=$h:$(free_after "$h" "$p")"
  done
  ((${#holders[@]})) || return 0
  local line=""
  for i in "${holders[@]}"; do
    case "${ports[$i]}" in *" and "*) line+="${ports[$i]} are taken" ;; *) line+="${ports[$i]} is taken" ;; esac
    line+="${i:+ by $i}; "
  done
  say "${line}or choose other ports: ${fixes[*]} make run"
  return 1
}

if [ "${1:-}" = --check-ports ]; then check_ports; exit; fi
check_ports || exit 1

# --- start -----------------------------------------------------------------

bin=${LO_BIN:-bin/lookout}
[ -x "$bin" ] || { say "$bin is not built (make)"; exit 1; }
mkdir -p var

db_url=$(scripts/services.sh start pg)
pg_dir=$(scripts/services.sh dev-dir)
export LOOKOUT_DATABASE_URL="$db_url"
if [ -z "${LOOKOUT_VALKEY_URL+x}" ]; then
  LOOKOUT_VALKEY_URL=$(scripts/services.sh start redis "" "$redis_port")
  export LOOKOUT_VALKEY_URL
fi

# the cold tier in var/cold, so rotation and cold queries work out of the box
if [ -z "${LOOKOUT_COLD_URL+x}" ]; then
  mkdir -p var/cold
  LOOKOUT_COLD_URL="file://$root/var/cold"
  export LOOKOUT_COLD_URL
fi

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

cat >&2 <<EOF

  lookout (development)
  database:  $db_url   (cluster in $pg_dir/pg)
  project:   dev ($project)
  token:     $token   (saved in var/dev-token)
  OTLP:      http://$otlp_addr/v1/{traces,logs,metrics}
  API:       http://$api_addr   (/healthz, /readyz, /metrics)
  live tail: ${LOOKOUT_VALKEY_URL:-in process (no Valkey)}
  cold tier: ${LOOKOUT_COLD_URL:-none (rows stay in PostgreSQL)}

  Follow new logs:  bin/lookout tail --url http://$api_addr --token $token
  Rotate now:       LOOKOUT_DATABASE_URL=$db_url LOOKOUT_COLD_URL=${LOOKOUT_COLD_URL:-} bin/lookout rotate

  Point an OpenTelemetry SDK or Collector at it:

export OTEL_EXPORTER_OTLP_ENDPOINT=http://$otlp_addr
export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20$token"

  Stop PostgreSQL and redis afterwards with: make services-stop

EOF
say "exec $bin serve"
exec "$bin" serve
