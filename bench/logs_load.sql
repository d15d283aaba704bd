-- Log entries for the benchmarks (bench/query_load.sql, bench/cold_bench.sh),
-- generated inside PostgreSQL; see bench/query_load.sql for what is derived
-- from the row number.
--
-- psql variables: logs (count), log_end_ago and log_span (intervals: the
-- newest row is log_end_ago before now, the oldest log_span before that).
-- Indexes are dropped during the load and rebuilt after it (much faster
-- than maintaining them row by row); their definitions are 001's and 002's.
DROP INDEX IF EXISTS log_entries_message_trgm, log_entries_time, log_entries_project_time,
    log_entries_service_time, log_entries_trace, log_entries_session;

INSERT INTO log_entries (time, id, project_id, session_id, user_id, trace_id, span_id, service, level,
                         severity_number, message, attributes, resource)
SELECT tm.t,
       -- a UUIDv7 of the row's millisecond, as ingest mints log ids (docs/ingest-storage.md)
       (lpad(to_hex((extract(epoch FROM tm.t) * 1000)::int8), 12, '0') || '7' || substr(md5('l' || i), 1, 19))::uuid,
       md5('p' || (i % 100000) % 10)::uuid,
       md5('s' || i % 100000)::uuid,
       md5('u' || i % 5000)::uuid,
       CASE WHEN i % 2 = 0 THEN decode(md5('t' || (i / 2) % 100000), 'hex') END,
       CASE WHEN i % 2 = 0 THEN substring(decode(md5('sp' || i), 'hex') FROM 1 FOR 8) END,
       (ARRAY['api', 'web', 'auth', 'billing', 'search', 'cart', 'checkout', 'email', 'notify', 'users',
              'orders', 'stock', 'ship', 'pay', 'ledger', 'report', 'export', 'import', 'gateway', 'worker'])[1 + (i * 7) % 20],
       lv.level, lv.sev,
       CASE WHEN i % 100000 = 77 THEN 'xylophone calibration failed on ' || md5(i::text)
            WHEN i % 10 < 3 THEN 'request GET /api/v1/items/' || i % 5000 || ' completed status=200 in ' || i % 997 || ' ms'
            WHEN i % 10 < 5 THEN 'cache miss for key ' || md5(i::text)
            WHEN i % 10 < 7 THEN 'user ' || i % 100000 || ' signed in from 10.' || i % 255 || '.' || (i / 255) % 255 || '.7'
            WHEN i % 10 < 9 THEN 'job ' || md5(i::text) || ' finished after ' || i % 60 || ' retries'
            ELSE 'connection pool exhausted, waiting ' || i % 100 || ' ms' END,
       jsonb_build_object('http.status_code', 200 + (i % 5) * 100, 'worker', i % 16),
       jsonb_build_object('service.name', 'svc', 'host.name', 'node-' || i % 8)
FROM generate_series(0, :logs - 1) i,
     LATERAL (SELECT now() - :'log_end_ago'::interval - (i::float8 / :logs) * :'log_span'::interval AS t) tm,
     LATERAL (SELECT CASE WHEN (i / 20) % 100 < 55 THEN 'info' WHEN (i / 20) % 100 < 80 THEN 'debug'
                          WHEN (i / 20) % 100 < 92 THEN 'warn' WHEN (i / 20) % 100 < 98 THEN 'error' ELSE 'trace' END AS level,
                     CASE WHEN (i / 20) % 100 < 55 THEN 9 WHEN (i / 20) % 100 < 80 THEN 5
                          WHEN (i / 20) % 100 < 92 THEN 13 WHEN (i / 20) % 100 < 98 THEN 17 ELSE 1 END AS sev) lv;

CREATE INDEX log_entries_service_time ON log_entries (service, time);
CREATE INDEX log_entries_trace ON log_entries (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX log_entries_session ON log_entries (session_id, time) WHERE session_id IS NOT NULL;
CREATE INDEX log_entries_time ON log_entries (time);
CREATE INDEX log_entries_project_time ON log_entries (project_id, time);
CREATE INDEX log_entries_message_trgm ON log_entries USING gin (message gin_trgm_ops);

