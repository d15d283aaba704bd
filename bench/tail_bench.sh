#!/usr/bin/env bash
# The live tail's benchmark (make bench-tail; docs/BENCHMARKS.md).
#
# A throw-away PostgreSQL and redis-server, one `lookout serve` with
# valkey_url set (the path entries take between nodes), then:
#   1. latency: one tail, logs at LO_TB_RATE per second (default 10000) for
#      LO_TB_SECONDS (default 10): p50/p99 from a request's 200 to each of
#      its entries' arrival at the tail;
#   2. ingest with tails: the load generator (logs, 8 connections,
#      LO_TB_LOAD_SECONDS each, default 15) with no tail and with 50 tails
#      of mixed filters open (held by bench/tailhold, which skips frames
#      unparsed), alternating for LO_TB_ROUNDS rounds (default 3), then
#      with none once more: the ratio of the mean with tails to the mean
#      without; then 50 tails of which 10 unfiltered;
#   3. fan-out: 100 unfiltered tails on one process under the load
#      generator: messages received per second in total.
# Server and redis-server CPU are reported for each run.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
BUILD=${BUILD:-build}
LO_BIN=${LO_BIN:-bin/lookout}
LOADGEN=$BUILD/bench/loadgen
RATE=${LO_TB_RATE:-10000}
SECS=${LO_TB_SECONDS:-10}
LOAD_SECS=${LO_TB_LOAD_SECONDS:-15}
for f in "$LO_BIN" "$LOADGEN" "$BUILD/bench/tailhold"; do [ -x "$f" ] || { echo "tail-bench: $f is missing (make bench-tail builds it)" >&2; exit 1; }; done

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

TAILHOLD=$BUILD/bench/tailhold
load() { # seconds -> records/s
  "$LOADGEN" --url "$OTLP" --token "$TOKEN" --signal logs --connections 8 --duration "$1" --batch 1000 2>&1 \
    | sed -n 's/.* records_per_s=\([0-9]*\).*/\1/p'
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { curl -fsS "$API/metrics" | sed -n "s/^$1 \([0-9]*\)$/\1/p"; }
redis_pid=$(cat "$dir/redis/redis.pid")

# Runs tailhold with N tails and the given filters while loadgen runs for
# S seconds; prints "<records/s> <messages> <server cores> <redis cores>".
with_tails() {
  local n=$1 s=$2; shift 2
  coproc HOLD { "$TAILHOLD" 127.0.0.1 "$api_port" "$TOKEN" "$n" "$@"; }
  local ready; read -r ready <&"${HOLD[0]}"
  [ "$ready" = READY ] || { echo "tail-bench: the tails did not open" >&2; exit 1; }
  sleep 1.5 # every node learns of the subscriptions
  local c0 r0 rate c1 r1 res
  c0=$(cpu "$server_pid"); r0=$(cpu "$redis_pid")
  rate=$(load "$s")
  c1=$(cpu "$server_pid"); r1=$(cpu "$redis_pid")
  exec {HOLD[1]}>&-
  read -r res <&"${HOLD[0]}" || true
  wait "$HOLD_PID" 2>/dev/null || true
  awk -v r="$rate" -v m="$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' <<<"$res")" -v c=$((c1 - c0)) -v d=$((r1 - r0)) \
      -v hz="$(getconf CLK_TCK)" -v s="$s" 'BEGIN { printf "%d %d %.2f %.2f\n", r, m, c / hz / s, d / hz / s }'
}
plain() { # S seconds without tails: same four fields
  local c0 r0 rate c1 r1
  c0=$(cpu "$server_pid"); r0=$(cpu "$redis_pid")
  rate=$(load "$1")
  c1=$(cpu "$server_pid"); r1=$(cpu "$redis_pid")
  awk -v r="$rate" -v c=$((c1 - c0)) -v d=$((r1 - r0)) -v hz="$(getconf CLK_TCK)" -v s="$1" \
      'BEGIN { printf "%d 0 %.2f %.2f\n", r, c / hz / s, d / hz / s }'
}

ROUNDS=${LO_TB_ROUNDS:-3}
echo "tail-bench: 2. ingest rate (loadgen logs, 8 connections, ${LOAD_SECS}s each): $ROUNDS rounds of no tails then 50 tails of mixed filters, then no tails once more"
MIXED=("level=error" "level=warn,error" "service=checkout" "q=timeout" "service=payments&level=error")
plains=() tails=()
for _ in $(seq 1 "$ROUNDS"); do
  p=$(plain "$LOAD_SECS"); t=$(with_tails 50 "$LOAD_SECS" "${MIXED[@]}")
  echo "  records/s, messages to tails, server cores, redis cores: none: $p | 50 tails: $t"
  plains+=("${p%% *}"); tails+=("${t%% *}")
done
c=$(plain "$LOAD_SECS"); plains+=("${c%% *}")
echo "  none: $c"
pmean=$(awk -v p="${plains[*]}" 'BEGIN { n = split(p, P, " "); s = 0; for (i = 1; i <= n; i++) s += P[i]; printf "%d", s / n }')
# the mean of the tail runs over the mean of the runs without, which
# alternate with them (the machine's drift counts on both sides)
awk -v p="${plains[*]}" -v t="${tails[*]}" 'BEGIN {
  np = split(p, P, " "); nt = split(t, T, " "); sp = 0; st = 0
  for (i = 1; i <= np; i++) sp += P[i]; for (i = 1; i <= nt; i++) st += T[i]
  printf "RESULT mode=ingest rounds=%d no_tails_mean=%d tails_50_mean=%d ratio=%.3f\n", nt, sp / np, st / nt, (st / nt) / (sp / np) }'
echo "  the same with 10 of the 50 unfiltered (every entry to each of them):"
d=$(with_tails 50 "$LOAD_SECS" "" "${MIXED[@]:0:4}")
echo "  50 tails (10 unfiltered): $d"
awk -v a="$pmean" -v b="${d%% *}" 'BEGIN {
  printf "RESULT mode=ingest_unfiltered no_tails_mean=%d tails_50=%d ratio=%.3f\n", a, b, b / a }'

echo "tail-bench: 3. fan-out: 100 unfiltered tails on one process, ${SECS}s of load"
s0=$(metric lookout_tail_messages_sent_total)
f=$(with_tails 100 "$SECS" "")
s1=$(metric lookout_tail_messages_sent_total)
read -r frate fmsgs fcpu fredis <<<"$f"
awk -v r="$frate" -v m="$fmsgs" -v q=$((s1 - s0)) -v s="$SECS" -v c="$fcpu" -v d="$fredis" 'BEGIN {
  printf "RESULT mode=fanout clients=100 entries_per_s=%d messages_received_per_s=%.0f server_queued_per_s=%.0f server_cores=%s redis_cores=%s\n", r, m / s, q / s, c, d }'
curl -fsS "$API/metrics" | grep -E '^lookout_tail_(dropped|closed)' | sed 's/^/  /'
