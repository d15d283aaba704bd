#!/usr/bin/env bash
# The cold tier's benchmark (make bench-cold; docs/BENCHMARKS.md, "Cold tier").
#
# Starts a throw-away PostgreSQL, migrates it, loads two ten-hour windows of
# log entries (bench/logs_load.sql, 62-72 h and 50-60 h old, with every
# index of log_entries), then times `lookout rotate --signal logs` over the
# first window (Snappy, the default) and the second (zstd), end to end:
# PostgreSQL read, Parquet, write to a directory, check, catalog, delete.
# Prints rows/s and bytes per row of each, and the same rows' size in
# PostgreSQL.  With ClickHouse installed (Debian's clickhouse-server), the
# first window's rows go into a private ClickHouse server's MergeTree table
# of the same columns (its default LZ4) and its bytes per row are printed
# beside ours, measured in the same run.
#
# Knobs (environment):
#   LO_CB_LOGS        log entries per window (default 1000000)
#   LO_CB_CLICKHOUSE  0 skips ClickHouse
#   LO_CB_KEEP        a path prefix: the scanned files are kept as PREFIX.{snappy,zstd}.parquet
set -euo pipefail
cd "$(dirname "$0")/.."

LO_BIN=${LO_BIN:-bin/lookout}
LOGS=${LO_CB_LOGS:-1000000}
[ -x "$LO_BIN" ] || { echo "cold-bench: $LO_BIN is missing (make bench-cold builds it)" >&2; exit 1; }
say() { echo "cold-bench: $*" >&2; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

dir=$(mktemp -d /tmp/lookout-cbench.XXXXXX)
chmod 755 "$dir"
ch_pid=""
cleanup() {
  [ -n "$ch_pid" ] && kill "$ch_pid" 2>/dev/null || true
  scripts/services.sh stop pg "$dir/pg" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

DB=$(scripts/services.sh start pg "$dir/pg" "$(free_port)" | tail -n 1)
export LOOKOUT_DATABASE_URL=$DB
"$LO_BIN" migrate 2>/dev/null
t0=$(date +%s)
for end in 62 50; do
  psql "$DB" -q -v ON_ERROR_STOP=1 -v logs="$LOGS" -v log_end_ago="$end hours" -v log_span='10 hours' \
    -c 'SET synchronous_commit = off' -f bench/logs_load.sql >/dev/null
done
psql "$DB" -qc "VACUUM ANALYZE log_entries"
say "loaded 2 x $LOGS logs in $(( $(date +%s) - t0 )) s"
pg_bytes=$(psql "$DB" -qAtc "SELECT sum(pg_table_size(inhrelid) + pg_indexes_size(inhrelid))
                              FROM pg_inherits WHERE inhparent = 'log_entries'::regclass")
pg_heap=$(psql "$DB" -qAtc "SELECT sum(pg_table_size(inhrelid)) FROM pg_inherits
                             WHERE inhparent = 'log_entries'::regclass")

# the first window as TSV for ClickHouse, before it leaves PostgreSQL
ch=""
if [ "${LO_CB_CLICKHOUSE:-1}" != 0 ] && command -v clickhouse-server >/dev/null; then
  psql "$DB" -qc "\\copy (SELECT id, (extract(epoch FROM time) * 1000000)::int8, coalesce(encode(trace_id, 'hex'), ''),
      coalesce(encode(span_id, 'hex'), ''), coalesce(project_id::text, ''), coalesce(session_id::text, ''),
      service, level, message, coalesce(attributes::text, ''), coalesce(user_id::text, ''), severity_number,
      coalesce(resource::text, '') FROM log_entries WHERE time < now() - interval '61 hours') TO '$dir/logs.tsv'"
  ch=1
fi

mkdir "$dir/cold"
rotate() { # codec older-than
  local s e
  s=$(date +%s.%N)
  # no compaction: each window's files stay apart, in their own codec
  LOOKOUT_COLD_URL="file://$dir/cold" LOOKOUT_COLD_CODEC=$1 LOOKOUT_COLD_COMPACT_FILES=10000 "$LO_BIN" rotate --signal logs --older-than "$2" >"$dir/rotate-$1.out"
  e=$(date +%s.%N)
  python3 -c "print('%.2f' % ($e - $s))"
}
snappy_s=$(rotate snappy 61h)
snappy=$(psql "$DB" -qAtc "SELECT sum(rows), sum(bytes), count(*) FROM cold_files")
zstd_s=$(rotate zstd 49h)
zstd=$(psql "$DB" -qAtc "SELECT sum(rows), sum(bytes), count(*) FROM cold_files WHERE key NOT IN
                          (SELECT key FROM cold_files ORDER BY created_at LIMIT ${snappy##*|})")

row() { # label seconds rows|bytes|files
  IFS='|' read -r n b f <<<"$3"
  python3 -c "print('| %s | %d | %d | %.0f k rows/s | %.1f |' % ('$1', $n, $f, $n / $2 / 1000, $b / $n))"
}
echo "## cold tier: rotation of logs ($LOGS rows a window; file backend)"
echo "| codec | rows | files | rotation (read, Parquet, write, check, catalog, delete) | bytes per row in Parquet |"
echo "|---|---:|---:|---:|---:|"
row snappy "$snappy_s" "$snappy"
row zstd "$zstd_s" "$zstd"
python3 -c "print('PostgreSQL held the same rows in %.1f B/row (heap and TOAST) and %.1f B/row with indexes' % ($pg_heap / (2 * $LOGS), $pg_bytes / (2 * $LOGS)))"

# Our reader beside DuckDB scanning one column of the same file, one thread
# each, best of 5 (bench/pq_scan.c, bench/duck_scan.mjs): the biggest file
# of each codec.
if [ -x "${BUILD:-build}/bench/pq_scan" ] && [ -d tests/integration/node_modules/@duckdb ]; then
  nsnappy=${snappy##*|}
  snappy_file=$(psql "$DB" -qAtc "SELECT key FROM (SELECT key, bytes FROM cold_files ORDER BY created_at LIMIT $nsnappy) x
                                   ORDER BY bytes DESC LIMIT 1")
  zstd_file=$(psql "$DB" -qAtc "SELECT key FROM cold_files WHERE key NOT IN (SELECT key FROM cold_files ORDER BY created_at
                                 LIMIT $nsnappy) ORDER BY bytes DESC LIMIT 1")
  echo
  echo "## cold tier: scanning one column of one file (one thread each, best of 5 runs)"
  echo "| codec | column | rows | ours | DuckDB $(node -e "const {createRequire}=require('module');console.log(createRequire(process.cwd()+'/tests/integration/package.json')('@duckdb/node-api/package.json').version)" 2>/dev/null) | DuckDB time / ours |"
  echo "|---|---|---:|---:|---:|---:|"
  for pair in "snappy:$snappy_file" "zstd:$zstd_file"; do
    codec=${pair%%:*}; f="$dir/cold/${pair#*:}"
    [ -n "${LO_CB_KEEP:-}" ] && cp "$f" "$LO_CB_KEEP.$codec.parquet"
    for col in timestamp id service level message attributes trace_id; do
      read -r _ n ours _ < <("${BUILD:-build}/bench/pq_scan" "$f" "$col" 5)
      read -r _ _ duck < <(node bench/duck_scan.mjs "$f" "$col" 5)
      python3 -c "print('| $codec | $col | $n | %.1f ms | %.1f ms | %.2f |' % ($ours * 1e3, $duck * 1e3, $duck / $ours))"
    done
  done
fi

if [ -n "$ch" ]; then
  port=$(free_port)
  mkdir -p "$dir/ch/data" "$dir/ch/tmp" "$dir/ch/user_files" "$dir/ch/schemas"
  cat >"$dir/ch/config.xml" <<EOF
<yandex>
  <logger><level>warning</level><log>$dir/ch/server.log</log><errorlog>$dir/ch/server.err.log</errorlog></logger>
  <tcp_port>$port</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/ch/data/</path>
  <tmp_path>$dir/ch/tmp/</tmp_path>
  <user_files_path>$dir/ch/user_files/</user_files_path>
  <format_schema_path>$dir/ch/schemas/</format_schema_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
</yandex>
EOF
  clickhouse-server --config-file="$dir/ch/config.xml" >/dev/null 2>&1 &
  ch_pid=$!
  chc() { clickhouse-client --port "$port" "$@"; }
  for _ in $(seq 1 100); do chc -q 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
  chc -q "CREATE TABLE logs (id String, ts UInt64, trace_id String, span_id String, project_id String,
      session_id String, service String, level String, message String, attributes String, user_id String,
      severity_number Int16, resource String) ENGINE = MergeTree ORDER BY (service, ts)"
  chc -q "INSERT INTO logs FORMAT TabSeparated" <"$dir/logs.tsv"
  chc -q "OPTIMIZE TABLE logs FINAL"
  chb=$(chc -q "SELECT sum(rows), sum(bytes_on_disk) FROM system.parts WHERE table = 'logs' AND active" | tr '\t' '|')
  ver=$(chc -q 'SELECT version()')
  IFS='|' read -r n b <<<"$chb"
  IFS='|' read -r sn sb _ <<<"$snappy"
  IFS='|' read -r zn zb _ <<<"$zstd"
  python3 -c "
ch = $b / $n
print('ClickHouse %s (MergeTree ORDER BY (service, ts), default LZ4), the first window\'s %d rows: %.1f B/row;' % ('$ver', $n, ch))
print('ours / ClickHouse: Snappy %.2f, zstd %.2f (target: at most 0.6)' % ($sb / $sn / ch, $zb / $zn / ch))"
fi
