#!/usr/bin/env bash
# The live tail's benchmark (make bench-tail; docs/BENCHMARKS.md).
#
# A throw-away PostgreSQL and redis-server, one `lookout serve` with
# valkey_url set (the path entries take between nodes), then:
#   1. latency: one tail, logs at LO_TB_RATE per second (default 10000) for
#      LO_TB_SECONDS (default 10): p50/p99 from a request's 200 to each of
#      its entries' arrival at the tail;
#   2. ingest with tails: the load generator (logs, 8 connections,
#      LO_TB_LOAD_SECONDS each, default 15) with no tail, with 50 tails of
#      mixed filters open (read by one client process), and with none again,
#      in one run: the ratio of the middle rate to the mean of the others;
#   3. fan-out: 100 unfiltered tails on one process, logs sent as fast as two
#      connections can: messages received per second in total.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
BUILD=${BUILD:-build}
LO_BIN=${LO_BIN:-bin/lookout}
LOADGEN=$BUILD/bench/loadgen
RATE=${LO_TB_RATE:-10000}
SECS=${LO_TB_SECONDS:-10}
LOAD_SECS=${LO_TB_LOAD_SECONDS:-15}
for f in "$LO_BIN" "$LOADGEN"; do [ -x "$f" ] || { echo "tail-bench: $f is missing (make bench-tail builds it)" >&2; exit 1; }; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d /tmp/lookout-tbench.XXXXXX)
chmod 755 "$dir"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  "$here/scripts/services.sh" stop all "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

DB=$(scripts/services.sh start pg "$dir" "$(free_port)" 2>/dev/null)
RURL=$(scripts/services.sh start redis "$dir" "$(free_port)" 2>/dev/null)
otlp_port=$(free_port); api_port=$(free_port)
export LOOKOUT_DATABASE_URL="$DB"
"$LO_BIN" migrate >"$dir/migrate.log" 2>&1 || { cat "$dir/migrate.log" >&2; exit 1; }
TOKEN=$("$LO_BIN" token create --name tail-bench --scope ingest,observe:read 2>/dev/null)
LOOKOUT_OTLP_ADDR="127.0.0.1:$otlp_port" LOOKOUT_API_ADDR="127.0.0.1:$api_port" LOOKOUT_VALKEY_URL="$RURL" \
  LOOKOUT_TAIL_MAX_PER_TOKEN=500 LOOKOUT_HTTP_CONNECTIONS_PER_IP=0 "$LO_BIN" serve >"$dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
API=http://127.0.0.1:$api_port
OTLP=http://127.0.0.1:$otlp_port
echo "tail-bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); server with valkey_url (redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'))"

echo "tail-bench: 1. latency, one tail, $RATE logs/s for ${SECS}s"
node bench/tail_bench.mjs latency "$API" "$OTLP" "$TOKEN" "$SECS" "$RATE" | tee "$dir/lat.out"

load() {
  "$LOADGEN" --url "$OTLP" --token "$TOKEN" --signal logs --connections 8 --duration "$LOAD_SECS" --batch 1000 2>&1 \
    | sed -n 's/.* records_per_s=\([0-9]*\).*/\1/p'
}
echo "tail-bench: 2. ingest rate (loadgen logs, 8 connections, ${LOAD_SECS}s each): no tails, 50 tails, no tails"
r0=$(load)
coproc HOLD { node bench/tail_bench.mjs hold "$API" "$TOKEN" 50; }
read -r ready <&"${HOLD[0]}"
[ "$ready" = READY ] || { echo "tail-bench: the 50 tails did not open" >&2; exit 1; }
r50=$(load)
exec {HOLD[1]}>&-
read -r held <&"${HOLD[0]}" || true
wait "$HOLD_PID" 2>/dev/null || true
r0b=$(load)
awk -v a="$r0" -v b="$r50" -v c="$r0b" -v h="$held" 'BEGIN {
  printf "RESULT mode=ingest no_tails=%d tails_50=%d no_tails_again=%d ratio=%.3f (%s)\n", a, b, c, b / ((a + c) / 2), h }'

echo "tail-bench: 3. fan-out, 100 unfiltered tails, ${SECS}s"
node bench/tail_bench.mjs fanout "$API" "$OTLP" "$TOKEN" 100 "$SECS"
grep -E '^lookout_tail_(dropped|closed)' <(curl -fsS "$API/metrics") | sed 's/^/  /'
