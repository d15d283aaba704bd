#!/usr/bin/env bash
# Starts and stops private services for development and tests, each in its
# own directory, on loopback only.
#
#   scripts/services.sh start pg   [DIR] [PORT]   PostgreSQL 15 cluster in DIR/pg
#   scripts/services.sh stop  pg   [DIR]
#   scripts/services.sh start redis [DIR] [PORT]  redis-server (the Valkey protocol) in DIR/redis
#   scripts/services.sh stop  redis [DIR]
#   scripts/services.sh stop  all  [DIR]
#   scripts/services.sh dev-dir                   prints the development DIR
#
# Without DIR (make run, make services-stop) the cluster is this checkout's
# development one; dev_dir below is the one place that says where it lives:
# ./var, or, as root when the postgres user cannot reach ./var (a checkout
# under a mode-700 directory), /var/tmp/lookout-dev-<hash of the checkout's
# path>, which also keeps the checkout's path in a file "checkout" (so that
# scripts/run.sh can name the checkout whose cluster holds a port).
# PORT defaults to $LO_DEV_PG_PORT, else 54329 (redis: $LO_DEV_REDIS_PORT,
# else 56379).  redis-server keeps nothing on disk (no RDB, no AOF): the
# live tail's pub/sub holds no state worth keeping.
#
# As root the cluster runs as the postgres user (PostgreSQL refuses root).
# "start" waits until it accepts connections, creates the database "lookout"
# and prints a libpq URL for it; a cluster already running keeps its port
# (it says so when that is not the one asked for).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
action=${1:?usage: services.sh start|stop pg|redis|all [DIR] [PORT] | dev-dir}
what=${2:-}
if [ "$what" = redis ]; then port=${4:-${LO_DEV_REDIS_PORT:-56379}}; else port=${4:-${LO_DEV_PG_PORT:-54329}}; fi
pgbin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)

as_pg() { # (from /: the postgres user may not be able to enter the current directory)
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "cd / && $*"; else sh -c "$*"; fi
}

# This checkout's development cluster directory (without DIR).
hash_dir="/var/tmp/lookout-dev-$(printf '%s' "$root" | sha256sum | cut -c1-12)"
dev_dir() {
  if [ "$(id -u)" -ne 0 ]; then echo "$root/var"; return; fi
  if [ -d "$hash_dir/pg" ]; then echo "$hash_dir"; return; fi
  # postgres must be able to traverse the path to var/pg
  if su postgres -s /bin/sh -c "cd '$root/var'" 2>/dev/null; then echo "$root/var"; else echo "$hash_dir"; fi
}

# The PID and port of the postmaster in $1/pg/data, when it is running.
pg_running() {
  local pidfile="$1/pg/data/postmaster.pid" pid p
  [ -r "$pidfile" ] || return 1
  pid=$(sed -n 1p "$pidfile"); p=$(sed -n 4p "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid $p"
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
    local running
    running=$(pg_running "$dir" | cut -d' ' -f2 || true)
    if [ -n "$running" ] && [ "$running" != "$port" ]; then
      echo "services: PostgreSQL already running in $d on port $running (not $port; stop it to move it)" >&2
      port=$running
    else
      echo "services: PostgreSQL already running in $d" >&2
    fi
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

redis_start() {
  command -v redis-server >/dev/null || { echo "services: redis-server is not installed (make deps)" >&2; exit 1; }
  local d="$dir/redis" running=""
  mkdir -p "$d"
  if [ -r "$d/redis.pid" ] && kill -0 "$(cat "$d/redis.pid")" 2>/dev/null; then
    running=$(cat "$d/port" 2>/dev/null || true)
    echo "services: redis-server already running in $d${running:+ on port $running}" >&2
    port=${running:-$port}
  else
    echo "services: starting redis-server on 127.0.0.1:$port" >&2
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --pidfile "$d/redis.pid" --logfile "$d/redis.log" --dir "$d" >/dev/null
    for _ in $(seq 1 100); do
      [ -s "$d/redis.pid" ] && redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.05
    done
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 || { tail -n 20 "$d/redis.log" >&2; exit 1; }
  fi
  echo "$port" > "$d/port"
  echo "redis://127.0.0.1:$port"
}

redis_stop() {
  local d="$dir/redis" pid
  [ -r "$d/redis.pid" ] || return 0
  pid=$(cat "$d/redis.pid")
  if kill -0 "$pid" 2>/dev/null; then
    echo "services: stopping redis-server in $d" >&2
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$d/redis.pid"
}

if [ -n "${3:-}" ]; then
  dir=$(realpath -m "$3")
else
  if [ "$action" = start ]; then
    mkdir -p "$root/var"
    if [ "$(id -u)" -eq 0 ]; then chmod 755 "$root/var"; else chmod 700 "$root/var"; fi
  fi
  dir=$(dev_dir)
  if [ "$action" = start ] && [ "$dir" = "$hash_dir" ]; then
    echo "services: the postgres user cannot reach $root/var; the cluster lives in $dir" >&2
    mkdir -p "$dir"
    chmod 755 "$dir"
    echo "$root" > "$dir/checkout"
  fi
fi

case "$action:$what" in
  start:pg) pg_start ;;
  stop:pg) pg_stop ;;
  start:redis) redis_start ;;
  stop:redis) redis_stop ;;
  stop:all) pg_stop; redis_stop ;;
  dev-dir:*) echo "$dir" ;;
  *) echo "services: unknown: $action $what" >&2; exit 2 ;;
esac
