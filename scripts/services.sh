#!/usr/bin/env bash
# Starts and stops private services for development and tests, each in its
# own directory, on loopback only.
#
#   scripts/services.sh start pg   [DIR] [PORT]   PostgreSQL 15 cluster in DIR/pg
#   scripts/services.sh stop  pg   [DIR]
#   scripts/services.sh stop  all  [DIR]
#
# DIR defaults to ./var, PORT to 54329.  As root the cluster runs as the
# postgres user (PostgreSQL refuses root).  "start" waits until it accepts
# connections, creates the database "lookout" and prints a libpq URL for it.
set -euo pipefail

action=${1:?usage: services.sh start|stop pg|all [DIR] [PORT]}
what=${2:?usage: services.sh start|stop pg|all [DIR] [PORT]}
dir=$(realpath -m "${3:-./var}")
port=${4:-54329}
pgbin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

pg_start() {
  [ -n "$pgbin" ] || { echo "services: PostgreSQL 15 is not installed (make deps)" >&2; exit 1; }
  local d="$dir/pg"
  mkdir -p "$d"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$d"; chmod 700 "$d"; fi
  if [ ! -f "$d/data/PG_VERSION" ]; then
    echo "services: initdb $d/data" >&2
    as_pg "$pgbin/initdb -D '$d/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >'$d/initdb.log' 2>&1" \
      || { cat "$d/initdb.log" >&2; exit 1; }
  fi
  if as_pg "$pgbin/pg_ctl -D '$d/data' status" >/dev/null 2>&1; then
    echo "services: PostgreSQL already running in $d" >&2
  else
    echo "services: starting PostgreSQL on 127.0.0.1:$port" >&2
    # fsync stays on: durability tests need real commits
    as_pg "$pgbin/pg_ctl -D '$d/data' -l '$d/pg.log' -w -t 60 start -o \"-p $port -k '$d' \
      -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=512MB \
      -c max_wal_size=4GB -c checkpoint_timeout=15min -c wal_compression=on\"" >/dev/null \
      || { tail -n 20 "$d/pg.log" >&2; exit 1; }
  fi
  echo "$port" > "$d/port"
  for _ in $(seq 1 100); do
    psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc "select 1" >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc \
      "select 1 from pg_database where datname='lookout'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "create database lookout" >/dev/null
  fi
  echo "postgresql://postgres@127.0.0.1:$port/lookout"
}

pg_stop() {
  local d="$dir/pg"
  [ -n "$pgbin" ] && [ -f "$d/data/PG_VERSION" ] || return 0
  if as_pg "$pgbin/pg_ctl -D '$d/data' status" >/dev/null 2>&1; then
    echo "services: stopping PostgreSQL in $d" >&2
    as_pg "$pgbin/pg_ctl -D '$d/data' -m fast -w stop" >/dev/null || true
  fi
}

case "$action:$what" in
  start:pg) pg_start ;;
  stop:pg) pg_stop ;;
  stop:all) pg_stop ;;
  *) echo "services: unknown: $action $what" >&2; exit 2 ;;
esac
