#!/usr/bin/env bash
# The query benchmark (make bench-query; docs/BENCHMARKS.md).
#
# Starts a throw-away PostgreSQL, migrates it, loads bench/query_load.sql
# (logs over 24 h, spans in traces of 10, metric series sampled every
# minute for 24 h), then times each query of the issue and prints p50/p99
# in ms: first in-process (bench/query_run.c: lo_query_handle on one
# connection, no HTTP), then over HTTP against `lookout serve` on one
# keep-alive connection (skipped when the server does not start).
#
# Knobs (environment):
#   LO_QB_LOGS     log entries        (default 10000000)
#   LO_QB_SPANS    spans, 10 a trace  (default 1000000)
#   LO_QB_SERIES   metric series      (default 10000; 1,440 samples each)
#   LO_QB_RUNS     timed runs a query (default 50, after 3 warm-up runs)
#   LO_QB_PG_PORT, LO_QB_API_PORT, LO_QB_OTLP_PORT (default: free ports)
#   LO_QB_KEEP=DIR keep the loaded cluster in DIR and reuse it next time
#   LO_QB_ALERTS=0 skip the alert benchmark (bench/alert_bench.py) that follows
set -euo pipefail
cd "$(dirname "$0")/.."

LO_BIN=${LO_BIN:-bin/lookout}
BUILD=${BUILD:-build}
QRUN=$BUILD/bench/query_run
LOGS=${LO_QB_LOGS:-10000000}
SPANS=${LO_QB_SPANS:-1000000}
SERIES=${LO_QB_SERIES:-10000}
RUNS=${LO_QB_RUNS:-50}
for f in "$LO_BIN" "$QRUN"; do
  [ -x "$f" ] || { echo "query-bench: $f is missing (make bench-query builds it)" >&2; exit 1; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
say() { echo "query-bench: $*" >&2; }

if [ -n "${LO_QB_KEEP:-}" ]; then dir=$LO_QB_KEEP; mkdir -p "$dir"; else dir=$(mktemp -d /tmp/lookout-qbench.XXXXXX); fi
chmod 755 "$dir"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -z "${LO_QB_KEEP:-}" ]; then
    scripts/services.sh stop pg "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

pg_port=${LO_QB_PG_PORT:-$(cat "$dir/pg/port" 2>/dev/null || free_port)}
DB=$(scripts/services.sh start pg "$dir" "$pg_port")
export LOOKOUT_DATABASE_URL=$DB
"$LO_BIN" migrate >"$dir/migrate.log" 2>&1 || { cat "$dir/migrate.log" >&2; exit 1; }

if [ ! -f "$dir/loaded" ]; then
  say "loading $LOGS logs, $SPANS spans, $SERIES series x 1440 samples"
  t0=$(date +%s)
  psql "$DB" -q -v logs="$LOGS" -v spans="$SPANS" -v series="$SERIES" -f bench/query_load.sql >/dev/null
  say "loaded in $(( $(date +%s) - t0 )) s"
  touch "$dir/loaded"
fi
psql "$DB" -qAtc "SELECT 'log_entries: ' || (SELECT count(*) FROM log_entries) || ' rows, '
    || pg_size_pretty(sum(pg_table_size(inhrelid))) || ' table, '
    || pg_size_pretty(sum(pg_indexes_size(inhrelid))) || ' all indexes, '
    || (SELECT pg_size_pretty(sum(pg_relation_size(c.oid))) FROM pg_class c JOIN pg_am a ON a.oid = c.relam
        WHERE a.amname = 'gin' AND c.relkind = 'i') || ' trigram'
    FROM pg_inherits WHERE inhparent = 'log_entries'::regclass" >&2 || true

# The queries, as NAME=PATH?QUERY (percent-encoded).
specs_py='
import hashlib, os, time, urllib.parse, uuid
traces = int(os.environ["LO_QB_SPANS"]) // 10
now = int(time.time() * 1000)
hour, day = 3600 * 1000, 86400 * 1000
md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
def url(path, **q):
    return path + ("?" + urllib.parse.urlencode(q) if q else "")
last = lambda ms: {"from": now - ms, "to": now}
for name, path in [
    ("logs service+level, last hour", url("/api/observe/logs", service="api", level="error", **last(hour))),
    ("logs q rare word, 24 h", url("/api/observe/logs", q="xylophone", **last(day))),
    ("logs q common word, 24 h, limit 100", url("/api/observe/logs", q="request", limit=100, **last(day))),
    ("logs newest 100, no filter, last hour", url("/api/observe/logs", **last(hour))),
    ("trace by id", "/api/observe/traces/" + md5("t%d" % (traces // 2))),
    ("trace list by service, last hour", url("/api/observe/traces", service="api", **last(hour))),
    ("metric 24 h step 60, one series", url("/api/observe/metrics", name="bench_metric_7", labels="{\"host\":\"h1\"}",
                                            step=60, **last(day))),
    ("metric 24 h step 60, sum over 100 series", url("/api/observe/metrics", name="bench_metric_7", agg="sum",
                                                     group="none", step=60, **last(day))),
    ("session timeline, limit 100", "/api/observe/sessions/%s/timeline" % uuid.UUID(hex=md5("s4242"))),
]:
    print(name + "=" + path)
'
mapfile -t specs < <(LO_QB_SPANS="$SPANS" python3 -c "$specs_py")

echo "## in-process (lo_query_handle, no HTTP), $RUNS runs"
"$QRUN" "$DB" "$RUNS" "${specs[@]}"

api_port=${LO_QB_API_PORT:-$(free_port)}
otlp_port=${LO_QB_OTLP_PORT:-$(free_port)}
token=$("$LO_BIN" token create --name "qbench-$$" --scope observe:read 2>>"$dir/cli.log") || token=""
# alert rules evaluated every second: the alert benchmark's latency run
LOOKOUT_API_ADDR="127.0.0.1:$api_port" LOOKOUT_OTLP_ADDR="127.0.0.1:$otlp_port" LOOKOUT_ALERT_INTERVAL=1 \
  "$LO_BIN" serve >"$dir/server.log" 2>&1 &
server_pid=$!
up=0
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && { up=1; break; }
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ "$up" != 1 ] || [ -z "$token" ]; then
  say "lookout serve did not start; HTTP timings skipped ($(tail -n 1 "$dir/server.log"))"
  exit 0
fi

http_py='
import http.client, os, sys, time, urllib.parse
api = urllib.parse.urlparse(os.environ["LO_QB_API"])
runs = int(os.environ["LO_QB_RUNS"])
conn = http.client.HTTPConnection(api.hostname, api.port, timeout=60)
hdr = {"Authorization": "Bearer " + os.environ["LO_QB_TOKEN"]}
print("| query | p50 ms | p99 ms | answer |")
print("|---|---:|---:|---|")
for spec in sys.argv[1:]:
    name, path = spec.split("=", 1)
    times = []
    for i in range(runs + 3):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=hdr)
        r = conn.getresponse()
        body = r.read()
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print("| %s | %.1f | %.1f | %d, %d bytes |" % (name, p(0.50), p(0.99), r.status, len(body)))
'
echo
echo "## over HTTP (lookout serve, one keep-alive connection), $RUNS runs"
LO_QB_API="http://127.0.0.1:$api_port" LO_QB_TOKEN="$token" LO_QB_RUNS="$RUNS" python3 -c "$http_py" "${specs[@]}"

# The alert benchmark over the same data (LO_QB_ALERTS=0 skips it): it stops
# the server before its timed evaluation of 1,000 rules.
if [ "${LO_QB_ALERTS:-1}" != 0 ]; then
  admin=$("$LO_BIN" token create --name "abench-$$" --scope admin,ingest 2>>"$dir/cli.log")
  psql "$DB" -qc "DELETE FROM alert_rules WHERE name LIKE 'scale %' OR name LIKE 'latency %'"
  echo
  LO_AB_SERVER_PID=$server_pid LO_QB_SERIES="$SERIES" \
    python3 bench/alert_bench.py "http://127.0.0.1:$api_port" "$admin" "$DB" "$LO_BIN" "http://127.0.0.1:$otlp_port"
fi
