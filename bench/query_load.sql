-- The query benchmark's data set (bench/query_bench.sh), generated inside
-- PostgreSQL with generate_series: logs over the last 24 h, spans in traces
-- of 10, and metric series sampled every minute for 24 h.
--
-- psql variables: logs, spans, series (counts).  Everything is derived from
-- the row number, so a run is repeatable and the runner can name a trace,
-- a session or a series that exists:
--   session s (0..99999):   md5('s' || s)::uuid, project md5('p' || s % 10)::uuid
--   trace t (spans / 10):   decode(md5('t' || t), 'hex')
--   series k:               name 'bench_metric_' || k % (series / 100), labels {"host": "h" || k / (series / 100)}
--                           (every name has 100 series, host h0..h99)
-- Messages: ~30% contain "request" (the common word), one in 100,000
-- "xylophone" (the rare word).
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SELECT lo_ensure_partitions(2, 1);

INSERT INTO projects (id, name, public)
SELECT md5('p' || p)::uuid, 'bench-' || p, p = 9 FROM generate_series(0, 9) p
ON CONFLICT DO NOTHING;

\set log_end_ago '0 hours'
\set log_span '24 hours'
\ir logs_load.sql

DROP INDEX IF EXISTS spans_trace, spans_session;
INSERT INTO spans (start_time, end_time, duration_ns, trace_id, span_id, parent_span_id, project_id, session_id,
                   service, name, kind, status_code, attributes, events, links)
SELECT st, st + (10 - i % 10) * interval '5 ms', (10 - i % 10) * 5000000,
       decode(md5('t' || i / 10), 'hex'),
       substring(decode(md5('sp' || i), 'hex') FROM 1 FOR 8),
       CASE WHEN i % 10 > 0 THEN substring(decode(md5('sp' || (i / 10) * 10), 'hex') FROM 1 FOR 8) END,
       md5('p' || ((i / 10) % 100000) % 10)::uuid,
       md5('s' || (i / 10) % 100000)::uuid,
       (ARRAY['api', 'web', 'auth', 'billing', 'search'])[1 + (i / 10) % 5],
       CASE WHEN i % 10 = 0 THEN 'GET /api/v1/items' ELSE 'step ' || i % 10 END,
       CASE WHEN i % 10 = 0 THEN 2 ELSE 1 END,
       CASE WHEN i % 97 = 0 THEN 2 ELSE 0 END,
       jsonb_build_object('http.route', '/api/v1/items', 'i', i % 10), '[]', '[]'
FROM generate_series(0, :spans - 1) i,
     LATERAL (SELECT now() - ((i / 10)::float8 / (:spans / 10)) * interval '24 hours' + (i % 10) * interval '2 ms' AS st) t;
CREATE INDEX spans_trace ON spans (trace_id);
CREATE INDEX spans_session ON spans (session_id, start_time) WHERE session_id IS NOT NULL;

INSERT INTO traces (trace_id, project_id, session_id, service, root_span_name, start_time, end_time, status_code,
                    span_count, error_count, services)
SELECT trace_id, min(project_id::text)::uuid, min(session_id::text)::uuid, min(service), 'GET /api/v1/items',
       min(start_time), max(end_time), max(status_code), count(*), count(*) FILTER (WHERE status_code = 2),
       array_agg(DISTINCT service ORDER BY service)
FROM spans GROUP BY trace_id
ON CONFLICT DO NOTHING;

INSERT INTO metric_series (series_id, project_id, service, name, type, temporality, monotonic, unit, labels)
SELECT k, md5('p' || k % 10)::uuid, 'api', 'bench_metric_' || k % (:series / 100), 1, 0, false, 'ms',
       jsonb_build_object('host', 'h' || k / (:series / 100))
FROM generate_series(0, :series - 1) k
ON CONFLICT DO NOTHING;

DROP INDEX IF EXISTS metric_samples_series_time;
INSERT INTO metric_samples (time, series_id, value, project_id, service)
SELECT date_trunc('minute', now()) - m * interval '1 minute', k, (k % 50) + sin(m / 30.0) * 10,
       md5('p' || k % 10)::uuid, 'api'
FROM generate_series(0, :series - 1) k, generate_series(0, 1439) m;
CREATE INDEX metric_samples_series_time ON metric_samples (series_id, time) INCLUDE (value); -- as migration 003

-- what autovacuum does to an insert-only table: statistics and the visibility
-- map (index-only scans of metric_samples need it)
VACUUM ANALYZE;
