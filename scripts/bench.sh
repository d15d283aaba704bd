#!/usr/bin/env bash
# The ingest benchmark (make bench; docs/BENCHMARKS.md).
#
# Starts a throw-away PostgreSQL and a lookout server, then for logs, spans
# and metrics: runs the load generator against the server, truncates, and
# runs the raw COPY baseline of the same rows over as many connections as
# the server has writers.  Then an overload run (many connections, no think
# time) for peak RSS and 429s.  Prints a table; also writes it to
# $BUILD/bench/results.md.
#
# Knobs (environment):
#   LO_BENCH_SECONDS      each load and COPY run (default 20)
#   LO_BENCH_CONNECTIONS  load generator connections (default 8)
#   LO_BENCH_BATCH        records per request (default 1000)
#   LO_BENCH_OVERLOAD_CONNECTIONS / LO_BENCH_OVERLOAD_SECONDS (default 128 / 15)
#   LO_BENCH_SIGNALS      subset, e.g. "logs" (default "logs spans metrics")
#   LO_BENCH_INDEX_COST=0 skip the logs COPY run without the GIN (full-text) indexes
#   LO_BENCH_PERF=1       profile the server and PostgreSQL (perf, whole machine) during the logs run
#   LO_BENCH_PG_PORT, LO_BENCH_OTLP_PORT, LO_BENCH_API_PORT (default: free ports)
#   LOOKOUT_*             passed to the server as usual (LOOKOUT_WRITERS also
#                         sets the baseline's connections)
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)

BUILD=${BUILD:-build}
LO_BIN=${LO_BIN:-bin/lookout}
LOADGEN=$BUILD/bench/loadgen
COPYBASE=$BUILD/bench/copybase
PATHCOST=$BUILD/bench/pathcost
SECS=${LO_BENCH_SECONDS:-20}
CONNS=${LO_BENCH_CONNECTIONS:-8}
BATCH=${LO_BENCH_BATCH:-1000}
OVER_CONNS=${LO_BENCH_OVERLOAD_CONNECTIONS:-128}
OVER_SECS=${LO_BENCH_OVERLOAD_SECONDS:-15}
SIGNALS=${LO_BENCH_SIGNALS:-logs spans metrics}
WRITERS=${LOOKOUT_WRITERS:-2}
COPY_BATCH=${LOOKOUT_BATCH_MAX_RECORDS:-20000}

for f in "$LO_BIN" "$LOADGEN" "$COPYBASE" "$PATHCOST"; do
  [ -x "$f" ] || { echo "bench: $f is missing (make bench builds it)" >&2; exit 1; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

dir=$(mktemp -d /tmp/lookout-bench.XXXXXX)
chmod 755 "$dir"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  "$here/scripts/services.sh" stop pg "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

pg_port=${LO_BENCH_PG_PORT:-$(free_port)}
otlp_port=${LO_BENCH_OTLP_PORT:-$(free_port)}
api_port=${LO_BENCH_API_PORT:-$(free_port)}

echo "bench: machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: starting PostgreSQL in $dir"
DB=$("$here/scripts/services.sh" start pg "$dir" "$pg_port" 2>/dev/null)
export LOOKOUT_DATABASE_URL="$DB"
export LOOKOUT_OTLP_ADDR="127.0.0.1:$otlp_port"
export LOOKOUT_API_ADDR="127.0.0.1:$api_port"
psql_q() { psql "$DB" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

echo "bench: migrating"
"$LO_BIN" migrate >"$dir/migrate.log" 2>&1 || { cat "$dir/migrate.log" >&2; exit 1; }
TOKEN=$("$LO_BIN" token create --name bench --scope ingest 2>"$dir/token.log") \
  || { cat "$dir/token.log" >&2; exit 1; }
export LO_BENCH_TOKEN="$TOKEN"

echo "bench: starting lookout serve on $LOOKOUT_OTLP_ADDR (writers=$WRITERS)"
"$LO_BIN" serve >"$dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "bench: server exited" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$api_port/readyz" >/dev/null || { echo "bench: server not ready" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }

# ---- helpers ----
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
# PostgreSQL's CPU: the postmaster's own and its exited children's time plus
# every live backend's (comm is "postgres": no spaces to shift the fields)
pg_ticks() {
  local pm t=0 p
  pm=$(head -n1 "$dir/pg/data/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for p in $(ps --ppid "$pm" -o pid=); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
cores() { awk -v d="$1" -v hz="$ticks_per_s" -v s="$2" 'BEGIN { if (s > 0) printf "%.2f", d / hz / s; else print "-" }'; }
reset_peak() { echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null || true; }
peak_rss_mib() { awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status"; }
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }
truncate_all() {
  psql_q "TRUNCATE log_entries, spans, traces, metric_samples; CHECKPOINT;" >/dev/null
}
table_of() { case $1 in logs) echo log_entries ;; spans) echo spans ;; metrics) echo metric_samples ;; esac; }

declare -A R
ticks_per_s=$(getconf CLK_TCK)

for sig in $SIGNALS; do
  truncate_all
  echo "bench: $sig — loadgen, $CONNS connections, ${SECS}s"
  reset_peak
  perf_pid=""
  if [ "${LO_BENCH_PERF:-0}" = 1 ] && [ "$sig" = logs ] && command -v perf >/dev/null; then
    # whole machine (the server and PostgreSQL), sorted out per process below
    perf record -q -a -F 499 -o "$dir/perf.data" -- sleep "$((SECS > 4 ? SECS - 2 : 2))" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  t0=$(cpu_ticks); g0=$(pg_ticks)
  out=$("$LOADGEN" --url "http://127.0.0.1:$otlp_port" --signal "$sig" --connections "$CONNS" \
        --duration "$SECS" --batch "$BATCH" 2>&1) || true
  t1=$(cpu_ticks); g1=$(pg_ticks)
  echo "$out" | sed 's/^/  /'
  res=$(grep '^RESULT' <<<"$out" || true)
  [ -n "$res" ] || { echo "bench: loadgen failed" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" || true
    perf report -i "$dir/perf.data" --stdio --pid "$server_pid" --sort dso,symbol 2>/dev/null \
      | grep -E '^ +[0-9]' | head -n 20 >"$BUILD/bench/perf-logs-server.txt" || true
    perf report -i "$dir/perf.data" --stdio --comms postgres --sort dso,symbol 2>/dev/null \
      | grep -E '^ +[0-9]' | head -n 20 >"$BUILD/bench/perf-logs-postgres.txt" || true
    echo "  perf, server (share of all samples on the machine; $BUILD/bench/perf-logs-server.txt):"
    head -n 12 "$BUILD/bench/perf-logs-server.txt" | sed 's/^/    /'
    echo "  perf, PostgreSQL ($BUILD/bench/perf-logs-postgres.txt):"
    head -n 12 "$BUILD/bench/perf-logs-postgres.txt" | sed 's/^/    /'
  fi
  stored=$(psql_q "SELECT count(*) FROM $(table_of "$sig")")
  R[$sig.rps]=$(field records_per_s "$res")
  R[$sig.mbps]=$(field mb_per_s "$res")
  R[$sig.p50]=$(field p50_ms "$res")
  R[$sig.p99]=$(field p99_ms "$res")
  R[$sig.records]=$(field records "$res")
  R[$sig.s429]=$(field s429 "$res")
  R[$sig.rss]=$(peak_rss_mib)
  R[$sig.stored]=$stored
  R[$sig.secs]=$(field seconds "$res")
  R[$sig.srv_cores]=$(cores $((t1 - t0)) "${R[$sig.secs]}")
  R[$sig.pg_cores]=$(cores $((g1 - g0)) "${R[$sig.secs]}")
  R[$sig.cli_cores]=$(awk -v c="$(field client_cpu_s "$res")" -v s="${R[$sig.secs]}" 'BEGIN { printf "%.2f", c / s }')
  R[$sig.cpu_us]=$(awk -v d=$((t1 - t0)) -v hz="$ticks_per_s" -v n="${R[$sig.records]}" \
                   'BEGIN { if (n > 0) printf "%.2f", d / hz * 1e6 / n; else print "-" }')
  echo "  stored rows: $stored; server CPU: $(((t1 - t0) * 1000 / ticks_per_s)) ms = ${R[$sig.cpu_us]} µs/record;" \
       "cores busy: server ${R[$sig.srv_cores]}, PostgreSQL ${R[$sig.pg_cores]}, load generator ${R[$sig.cli_cores]}"

  truncate_all
  echo "bench: $sig — raw COPY baseline, $WRITERS connections, ${SECS}s"
  g0=$(pg_ticks)
  cout=$("$COPYBASE" --dsn "$DB" --signal "$sig" --connections "$WRITERS" --duration "$SECS" \
         --batch "$COPY_BATCH" --request-records "$BATCH" 2>&1) || true
  echo "$cout" | sed 's/^/  /'
  sleep 0.3; g1=$(pg_ticks)  # let the postmaster reap the COPY backends
  cres=$(grep '^RESULT' <<<"$cout" || true)
  R[$sig.copy]=$(field rows_per_s "$cres")
  R[$sig.copy_pg_cores]=$(cores $((g1 - g0)) "$(field seconds "$cres")")
  echo "  cores busy: PostgreSQL ${R[$sig.copy_pg_cores]}"

  # What the full-text (GIN) indexes on log messages cost: the same COPY
  # without them.  They are put back (empty table: instant) afterwards.
  if [ "$sig" = logs ] && [ "${LO_BENCH_INDEX_COST:-1}" = 1 ]; then
    gin_defs=$(psql_q "SELECT indexdef FROM pg_indexes WHERE tablename = 'log_entries' AND indexdef LIKE '%USING gin%'")
    if [ -n "$gin_defs" ]; then
      gin_names=$(psql_q "SELECT string_agg(indexname, ', ') FROM pg_indexes WHERE tablename = 'log_entries' AND indexdef LIKE '%USING gin%'")
      truncate_all
      for ix in $(psql_q "SELECT indexname FROM pg_indexes WHERE tablename = 'log_entries' AND indexdef LIKE '%USING gin%'"); do
        psql_q "DROP INDEX \"$ix\"" >/dev/null
      done
      echo "bench: logs — raw COPY baseline without $gin_names, ${SECS}s"
      nout=$("$COPYBASE" --dsn "$DB" --signal logs --connections "$WRITERS" --duration "$SECS" \
             --batch "$COPY_BATCH" --request-records "$BATCH" 2>&1) || true
      echo "$nout" | grep -v '^copybase:' | sed 's/^/  /'
      R[logs.copy_nogin]=$(field rows_per_s "$(grep '^RESULT' <<<"$nout" || true)")
      truncate_all
      # the parent's definition reads "ON ONLY": recreate it for every partition
      while IFS= read -r def; do [ -n "$def" ] && psql_q "${def/ ON ONLY / ON }" >/dev/null; done <<<"$gin_defs"
      echo "  put back: $(psql_q "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'log\_entries\_%' AND indexdef LIKE '%USING gin%'") partition GIN indexes"
    fi
  fi
  R[$sig.ratio]=$(awk -v a="${R[$sig.rps]}" -v b="${R[$sig.copy]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
done

truncate_all
echo "bench: overload — logs, $OVER_CONNS connections, no think time, ${OVER_SECS}s"
reset_peak
# --timeout 10: an OpenTelemetry SDK gives up on an export after 10 s
oout=$("$LOADGEN" --url "http://127.0.0.1:$otlp_port" --signal logs --connections "$OVER_CONNS" \
       --duration "$OVER_SECS" --batch "$BATCH" --timeout 10 2>&1) || true
echo "$oout" | sed 's/^/  /'
ores=$(grep '^RESULT' <<<"$oout" || true)
over_rss=$(peak_rss_mib)
over_429=$(field s429 "$ores")
over_503=$(field s503 "$ores")
over_timeouts=$(field timeouts "$ores")
over_p50=$(field p50_ms "$ores")
over_p99=$(field p99_ms "$ores")
over_200=$(field s200 "$ores")
over_rps=$(field records_per_s "$ores")
over_offered=$(field offered_per_s "$ores")
alive=yes
kill -0 "$server_pid" 2>/dev/null || alive=no

echo "bench: in-process cost of decode and COPY encoding (one core, CPU time)"
pathcost=$("$PATHCOST" --seconds 1 2>&1) || true
grep -v '^RESULT' <<<"$pathcost" | sed 's/^/  /'

decode=""
if grep -q '^bench-decode:' Makefile; then
  echo "bench: decode micro-benchmark (make bench-decode)"
  decode=$(make --no-print-directory BUILD="$BUILD" bench-decode 2>&1 | tail -n 20) || true
  echo "$decode" | sed 's/^/  /'
fi

results="$BUILD/bench/results.md"
{
  echo "| signal | records/s | MB/s | p50 ms | p99 ms | peak RSS MiB | server CPU µs/record | COPY rows/s ($WRITERS conn) | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for sig in $SIGNALS; do
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "$sig" "${R[$sig.rps]}" "${R[$sig.mbps]}" \
      "${R[$sig.p50]}" "${R[$sig.p99]}" "${R[$sig.rss]}" "${R[$sig.cpu_us]}" "${R[$sig.copy]:--}" "${R[$sig.ratio]}"
  done
  echo
  if [ -n "${R[logs.copy_nogin]:-}" ]; then
    echo "Logs COPY without the GIN (full-text) indexes on log_entries ($gin_names): ${R[logs.copy_nogin]} rows/s, against ${R[logs.copy]} with them."
    echo
  fi
  echo "Overload (logs, $OVER_CONNS connections): peak RSS ${over_rss} MiB; answers 200=${over_200} 429=${over_429} 503=${over_503}, ${over_timeouts} requests timed out after 10 s; latency of 200s p50 ${over_p50} ms, p99 ${over_p99} ms; ${over_rps} records/s committed of ${over_offered} offered; server alive afterwards: $alive"
  echo
  echo "| signal | acknowledged | rows stored | 429s | cores busy: server | PostgreSQL | load generator | PostgreSQL during COPY |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for sig in $SIGNALS; do
    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$sig" "${R[$sig.records]}" "${R[$sig.stored]}" "${R[$sig.s429]}" \
      "${R[$sig.srv_cores]}" "${R[$sig.pg_cores]}" "${R[$sig.cli_cores]}" "${R[$sig.copy_pg_cores]}"
  done
  echo
  echo "In process, one core (bench/pathcost.c, CPU time):"
  echo
  grep -v '^RESULT' <<<"$pathcost" | sed 's/^/    /'
  if [ -n "$decode" ]; then echo; echo '```'; echo "$decode"; echo '```'; fi
  echo
  echo "Settings: loadgen $CONNS connections x $BATCH records/request, ${SECS}s per run; writers=$WRITERS, COPY batch $COPY_BATCH rows; $(nproc) cores; load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$results"
echo
echo "== results (also in $results)"
cat "$results"
