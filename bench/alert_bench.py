#!/usr/bin/env python3
"""The alert benchmark (docs/BENCHMARKS.md, "Alerts"), run by bench/query_bench.sh
over the query benchmark's data (logs over 24 h, 10k metric series).

1. Latency: a rule whose condition holds (for_seconds 0) is created through the
   API of a server evaluating every second; the time from the evaluation that
   fired it (the event's fired_at, the database's clock) to the webhook's
   arrival at a local receiver, over LO_AB_LATENCY_RUNS rules: error logs of a
   service above 10 in 5 min, sent over OTLP just before, and errors of a
   service over an hour of the loaded data.
2. Scale: 1,000 rules (half metric, half log; a tenth grouped) created through
   the API, then one evaluation of all of them timed with
   `lookout task run alert_eval`: the total, and per rule (last_duration_ms).

Arguments: API base URL, admin token (with ingest), database URL, lookout
binary, OTLP base URL.  The
server must be running with LOOKOUT_ALERT_INTERVAL=1; it is asked to stop
(SIGTERM to LO_AB_SERVER_PID) before the scale run, so that the timed run is
the only evaluator.
"""
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime

api, token, db, lo_bin, otlp = sys.argv[1:6]
runs = int(os.environ.get("LO_AB_LATENCY_RUNS", "20"))
n_rules = int(os.environ.get("LO_AB_RULES", "1000"))
series = int(os.environ.get("LO_QB_SERIES", "10000"))
names = max(series // 100, 1)
SERVICES = ["api", "web", "auth", "billing", "search", "cart", "checkout", "email", "notify", "users",
            "orders", "stock", "ship", "pay", "ledger", "report", "export", "import", "gateway", "worker"]


def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def psql(sql):
    return subprocess.run(["psql", db, "-qAtc", sql], check=True, capture_output=True, text=True).stdout.strip()


arrivals = {}


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        t = time.time()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("status") == "firing":
            arrivals[body["rule"]["id"]] = (t, body["fired_at"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=hook.serve_forever, daemon=True).start()
hook_url = "http://127.0.0.1:%d/hook" % hook.server_address[1]

# ---- 1. latency ----
pick = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))]


def send_errors(service, n):
    """n error records of service, stamped now, through the OTLP/HTTP JSON endpoint."""
    now_ns = str(time.time_ns())
    body = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                              "scopeLogs": [{"logRecords": [
                                  {"timeUnixNano": now_ns, "severityNumber": 17, "severityText": "ERROR",
                                   "body": {"stringValue": "payment declined %d" % i}} for i in range(n)]}]}]}
    req = urllib.request.Request(otlp + "/v1/logs", method="POST", data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()


def latency(label, query, threshold, fresh):
    """runs rules one at a time; prints evaluation start to webhook arrival."""
    lat, evals, after = [], [], []
    for i in range(runs):
        if fresh:
            send_errors(query["filter"]["service"], 11)
        rule = call("POST", "/api/observe/alerts", {
            "name": "latency %s %d" % (label, i), "query": query,
            "condition": "gt", "threshold": threshold, "targets": [{"type": "webhook", "url": hook_url}]})
        end = time.time() + 20
        while rule["id"] not in arrivals and time.time() < end:
            time.sleep(0.005)
        ev_ms = None
        for _ in range(100):  # the evaluation's own duration is recorded just after its commit
            ev_ms = call("GET", "/api/observe/alerts/" + rule["id"])["last_duration_ms"]
            if ev_ms is not None:
                break
            time.sleep(0.01)
        call("DELETE", "/api/observe/alerts/" + rule["id"])
        if rule["id"] in arrivals:
            t, fired = arrivals[rule["id"]]
            ms = (t - datetime.fromisoformat(fired.replace("Z", "+00:00")).timestamp()) * 1000
            lat.append(ms)
            if ev_ms is not None:
                evals.append(ev_ms)
                after.append(ms - ev_ms)
    lat.sort()
    evals.sort()
    after.sort()
    if lat:
        print("| %s | %d of %d | %.1f / %.1f / %.1f | %s | %s |" % (
            label, len(lat), runs, pick(lat, .5), pick(lat, .99), lat[-1],
            "%.1f / %.1f" % (pick(evals, .5), pick(evals, .99)) if evals else "-",
            "%.1f / %.1f" % (pick(after, .5), pick(after, .99)) if after else "-"))
    else:
        print("| %s | no webhook arrived | | | |" % label)


print("## alerts: evaluation to webhook (%d rules each, for_seconds 0, server evaluating every second)" % runs)
print("| rule | delivered | evaluation start to arrival p50 / p99 / max ms | the evaluation itself (query, transaction) p50 / p99 ms | its end to arrival p50 / p99 ms |")
print("|---|---:|---:|---:|---:|")
# the target's case: errors of one service above 10 in 5 min, just sent
latency("errors of checkout > 10 in 5 min, 11 sent just before", {
    "type": "log", "filter": {"level": "error", "service": "checkout"}, "window_seconds": 300}, 10, True)
# a rule whose query reads an hour of the loaded data (~20 k rows)
latency("errors of api > 0 in 1 h (loaded data)", {
    "type": "log", "filter": {"level": "error", "service": "api"}, "window_seconds": 3600}, 0, False)
print()

# ---- 2. 1,000 rules in one evaluation ----
aggs = ["avg", "max", "min", "sum", "count"]
levels = ["error", "warn", "error,warn", "info", "debug"]
t0 = time.time()
for i in range(n_rules):
    grouped = i % 10 == 0
    if i % 2 == 0:
        q = {"type": "metric", "name": "bench_metric_%d" % (i // 2 % names), "agg": aggs[i % 5],
             "window_seconds": 300}
        if grouped:
            q["group_by"] = ["host"]
        elif i % 4 == 2:
            q["labels"] = {"host": "h%d" % (i % 100)}
    else:
        q = {"type": "log", "filter": {"level": levels[i % 5]}, "window_seconds": 300}
        if grouped:
            q["group_by"] = ["service"]
        else:
            q["filter"]["service"] = SERVICES[i % 20]
        if i % 7 == 1:
            q["filter"]["q"] = "request"
    call("POST", "/api/observe/alerts", {"name": "scale %d" % i, "query": q, "condition": "gt",
                                         "threshold": 1e12, "enabled": False})
created = time.time() - t0
pid = int(os.environ.get("LO_AB_SERVER_PID", "0"))
if pid:
    os.kill(pid, signal.SIGTERM)
    for _ in range(300):
        try:
            os.kill(pid, 0)
            time.sleep(0.1)
        except ProcessLookupError:
            break
psql("UPDATE alert_rules SET enabled = true, last_evaluated_at = NULL, last_duration_ms = NULL; "
     "UPDATE alert_evaluator SET last_run_at = NULL")
env = dict(os.environ, LOOKOUT_DATABASE_URL=db)
t0 = time.time()
r = subprocess.run([lo_bin, "task", "run", "alert_eval"], env=env, capture_output=True, text=True)
total = time.time() - t0
if r.returncode != 0:
    print("alert_eval failed: " + r.stderr.strip()[-500:])
    sys.exit(1)
stats = psql("SELECT count(*) FILTER (WHERE last_evaluated_at IS NOT NULL), count(last_error), "
             "round(percentile_cont(0.5) WITHIN GROUP (ORDER BY last_duration_ms)::numeric, 2), "
             "round(percentile_cont(0.99) WITHIN GROUP (ORDER BY last_duration_ms)::numeric, 2), "
             "round(max(last_duration_ms)::numeric, 2), round(sum(last_duration_ms)::numeric / 1000, 2) "
             "FROM alert_rules WHERE name LIKE 'scale %'").split("|")
kinds = psql("SELECT string_agg(k || ' ' || n || ' rules: p50 ' || p50 || ' ms, p99 ' || p99 || ' ms', '; ') FROM ("
             "SELECT rule->'query'->>'type' || CASE WHEN rule->'query' ? 'group_by' THEN ' grouped' ELSE '' END AS k, "
             "count(*) n, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY last_duration_ms)::numeric, 1) p50, "
             "round(percentile_cont(0.99) WITHIN GROUP (ORDER BY last_duration_ms)::numeric, 1) p99 "
             "FROM alert_rules WHERE name LIKE 'scale %' GROUP BY 1 ORDER BY 1) x")
print()
print("## alerts: %d rules in one evaluation (`lookout task run alert_eval`)" % n_rules)
print("| rules evaluated | failed | total s | per rule p50 ms | p99 ms | max ms | sum of rules s |")
print("|---:|---:|---:|---:|---:|---:|---:|")
print("| %s | %s | %.2f | %s | %s | %s | %s |" % (stats[0], stats[1], total, stats[2], stats[3], stats[4], stats[5]))
print("by kind: " + kinds)
print("(rules created through the API in %.1f s)" % created)
