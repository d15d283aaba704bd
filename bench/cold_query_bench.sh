#!/usr/bin/env bash
# The cold tier's query benchmark (make bench-cold-query; docs/BENCHMARKS.md,
# "Cold tier: queries").
#
# Starts a throw-away PostgreSQL, migrates it, and writes DAYS days of
# rotated data ending 48 h before now (past the hot window) directly as cold
# files into a file:// directory with their cold_files rows and the
# metric_series rows (bench/cold_gen.c; the query benchmark's daily volume
# and values by default).  The hot tables stay empty: every row is cold.
# Then times four queries over the cold days in process (bench/query_run.c
# with a cold reader), first over the hourly files as rotation writes them,
# then again after `lookout rotate` has compacted the days of spans and
# metrics (a day of logs is past compaction's 256 MiB and stays hourly),
# each time three ways:
#   cold:     every run a first run: a new reader (empty cache) and the
#             files dropped from the page cache before it (no warm-up)
#   no cache: LOOKOUT_COLD_CACHE_MB=0, the files in the page cache
#   warm:     the reader's cache on (256 MB), after 3 warm-up runs
# and checks each answer (rows of the right service and level, the trace's
# spans, one point per step).
#
# Knobs (environment):
#   LO_CQ_DAYS    days of cold data          (default 7)
#   LO_CQ_LOGS    log entries a day          (default 10000000)
#   LO_CQ_SPANS   spans a day, 10 a trace    (default 1000000)
#   LO_CQ_SERIES  metric series, 60 samples an hour each (default 10000)
#   LO_CQ_RUNS    timed runs a query and way (default 20)
#   LO_CQ_PG_PORT (default: a free port)
#   LO_CQ_COMPACT=0 skip the compacted round
#   LO_CQ_KEEP=DIR keep the cluster and the cold files in DIR and reuse them next time
#                  (once compacted, only the compacted round runs)
#   LOOKOUT_COLD_CODEC, LOOKOUT_COLD_ROW_GROUP_ROWS: as for rotation (the generator reads them)
set -euo pipefail
cd "$(dirname "$0")/.."

LO_BIN=${LO_BIN:-bin/lookout}
BUILD=${BUILD:-build}
QRUN=$BUILD/bench/query_run
GEN=$BUILD/bench/cold_gen
DAYS=${LO_CQ_DAYS:-7}
LOGS=${LO_CQ_LOGS:-10000000}
SPANS=${LO_CQ_SPANS:-1000000}
SERIES=${LO_CQ_SERIES:-10000}
RUNS=${LO_CQ_RUNS:-20}
for f in "$LO_BIN" "$QRUN" "$GEN"; do
  [ -x "$f" ] || { echo "cold-query-bench: $f is missing (make bench-cold-query builds it)" >&2; exit 1; }
done
say() { echo "cold-query-bench: $*" >&2; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

if [ -n "${LO_CQ_KEEP:-}" ]; then dir=$LO_CQ_KEEP; mkdir -p "$dir"; else dir=$(mktemp -d /tmp/lookout-cqbench.XXXXXX); fi
chmod 755 "$dir"
cleanup() {
  if [ -z "${LO_CQ_KEEP:-}" ]; then
    scripts/services.sh stop pg "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

pg_port=${LO_CQ_PG_PORT:-$(cat "$dir/pg/port" 2>/dev/null || free_port)}
DB=$(scripts/services.sh start pg "$dir" "$pg_port" | tail -n 1)
export LOOKOUT_DATABASE_URL=$DB
"$LO_BIN" migrate >"$dir/migrate.log" 2>&1 || { cat "$dir/migrate.log" >&2; exit 1; }
mkdir -p "$dir/cold"
URL="file://$(cd "$dir/cold" && pwd)"

# the data ends at the hour 48 h ago: every hour of it is past the hot window
if [ ! -f "$dir/generated" ]; then
  end_ms=$(( ($(date +%s) - 48 * 3600) / 3600 * 3600 * 1000 ))
  say "writing $DAYS days of $LOGS logs, $SPANS spans and $SERIES series x 1440 samples a day"
  t0=$(date +%s)
  "$GEN" "$DB" "$URL" "$end_ms" "$DAYS" "$LOGS" "$SPANS" "$SERIES"
  say "written in $(( $(date +%s) - t0 )) s: $(du -sh "$dir/cold" | cut -f1) in $(find "$dir/cold" -type f | wc -l) files"
  echo "$end_ms $DAYS $LOGS $SPANS $SERIES" >"$dir/generated"
fi
# what the kept directory holds, whatever the knobs say now
read -r end_ms DAYS LOGS SPANS SERIES <"$dir/generated"
psql "$DB" -qAtc "SELECT signal || ': ' || count(*) || ' files, ' || sum(rows) || ' rows, '
    || pg_size_pretty(sum(bytes)) FROM cold_files GROUP BY signal ORDER BY signal" | sed 's/^/cold-query-bench: /' >&2

# The queries, as NAME=PATH?QUERY (percent-encoded), over the cold days.
specs_py='
import hashlib, os, urllib.parse
end = int(os.environ["END_MS"]); days = int(os.environ["DAYS"]); spans = int(os.environ["SPANS"])
metric = "bench_metric_%d" % (7 % (int(os.environ["SERIES"]) // 100))  # 100 series of it, hosts h0..h99
start, day = end - days * 86400000, 86400000
span = "%d day%s" % (days, "" if days == 1 else "s")
def url(path, **q):
    return path + ("?" + urllib.parse.urlencode(q) if q else "")
trace = hashlib.md5(("t%d" % (days * spans // 10 // 2)).encode()).hexdigest()
for name, path in [
    ("logs service+level, " + span, url("/api/observe/logs", service="api", level="error", **{"from": start, "to": end})),
    ("trace by id", "/api/observe/traces/" + trace),
    ("metric one series, " + span + ", step 300",
     url("/api/observe/metrics", name=metric, labels="{\"host\":\"h1\"}", step=300, **{"from": start, "to": end})),
    ("metric sum over 100 series, 24 h, step 60",
     url("/api/observe/metrics", name=metric, agg="sum", group="none", step=60, **{"from": end - day, "to": end})),
]:
    print(name + "=" + path)
'
mapfile -t specs < <(END_MS="$end_ms" DAYS="$DAYS" SPANS="$SPANS" SERIES="$SERIES" python3 -c "$specs_py")

# Times the queries three ways into $dir/$1.{cold,nocache,warm}.md, checks
# the answers, prints the table.
measure() {
  local label=$1
  say "$label: timing cold (every run a first run), $RUNS runs"
  "$QRUN" --cold "$URL" --fresh "$dir/cold" "$DB" "$RUNS" "${specs[@]}" >"$dir/$label.cold.md"
  say "$label: timing without the reader's cache, $RUNS runs"
  LOOKOUT_COLD_CACHE_MB=0 "$QRUN" --cold "$URL" "$DB" "$RUNS" "${specs[@]}" >"$dir/$label.nocache.md"
  say "$label: timing warm, $RUNS runs"
  mkdir -p "$dir/answers/$label"
  "$QRUN" --cold "$URL" --dump "$dir/answers/$label" "$DB" "$RUNS" "${specs[@]}" >"$dir/$label.warm.md"
  SERIES="$SERIES" DAYS="$DAYS" python3 -c "$check_py" "$dir/answers/$label" ||
    { say "$label: an answer is wrong (answers in $dir/answers/$label)"; LO_CQ_KEEP=1; exit 1; }
  echo
  echo "## cold tier: queries over $DAYS days of rotated data, $label ($LOGS logs, $SPANS spans, $SERIES series a day; $RUNS runs)"
  psql "$DB" -qAtc "SELECT string_agg(signal || ' ' || n || ' files', ', ' ORDER BY signal) FROM
      (SELECT signal, count(*) n FROM cold_files GROUP BY signal) c"
  echo
  python3 -c "$table_py" "$dir/$label.cold.md" "$dir/$label.nocache.md" "$dir/$label.warm.md"
}

# Every answer must be the rows the data holds: a fast wrong answer measures nothing.
check_py='
import json, os, sys
d = sys.argv[1]; series = int(os.environ["SERIES"]); days = int(os.environ["DAYS"])
a = [json.load(open("%s/%d.json" % (d, i))) for i in range(4)]
logs = a[0]["logs"]
assert len(logs) == 100 and a[0]["has_more"], "logs: %d rows" % len(logs)
assert all(l["service"] == "api" and l["level"] == "error" for l in logs), "logs: other rows"
assert [l["time"] for l in logs] == sorted((l["time"] for l in logs), reverse=True), "logs: order"
count = lambda spans: sum(1 + count(s.get("children", [])) for s in spans)
assert a[1]["span_count"] == 10 and count(a[1]["spans"]) == 10, "trace: %d spans" % count(a[1]["spans"])
for i, want in ((2, days * 288), (3, 1440)):
    s = a[i]["series"]
    assert len(s) == 1, "metric %d: %d series" % (i, len(s))
    n = sum(1 for p in s[0]["points"] if p[1] is not None)
    assert n == want, "metric %d: %d points, %d wanted" % (i, n, want)
assert all("cold_errors" not in x for x in a), "cold errors"
'

table_py='
import sys
def rows(f):
    out = {}
    for line in open(f):
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(c) == 4 and c[1] not in ("p50 ms", "---:"):
            out[c[0]] = (c[1], c[2], c[3])
    return out
cold, nocache, warm = rows(sys.argv[1]), rows(sys.argv[2]), rows(sys.argv[3])
targets = ["< 500", "< 200", "< 100", "< 300"]
print("| query | cold p50 / p99 ms | no reader cache p50 / p99 ms | warm p50 / p99 ms | target p50 ms | answer |")
print("|---|---:|---:|---:|---:|---|")
for i, name in enumerate(warm):
    f = lambda r: "%s / %s" % (r[name][0], r[name][1]) if name in r else "-"
    print("| %s | %s | %s | %s | %s | %s |" % (name, f(cold), f(nocache), f(warm), targets[i], warm[name][2]))
'

# As rotation leaves them: one file per signal and hour.
if [ ! -f "$dir/compacted" ]; then
  measure "hourly files"
fi
# As the rotate task's compaction leaves them (docs/cold-store.md,
# "Compaction"): a day's files of a signal merged into one when they hold
# at most 256 MiB together (spans and metrics here; a day of logs is more).
if [ "${LO_CQ_COMPACT:-1}" != 0 ]; then
  if [ ! -f "$dir/compacted" ]; then
    say "compacting: lookout rotate --signal spans --signal metrics"
    LOOKOUT_COLD_URL=$URL "$LO_BIN" rotate --signal spans --signal metrics >"$dir/compact.log" 2>&1 ||
      { cat "$dir/compact.log" >&2; exit 1; }
    grep -i compact "$dir/compact.log" | sed 's/^/cold-query-bench: /' >&2 || true
    touch "$dir/compacted"
  fi
  measure "days compacted"
fi
