-- lookout schema, version 2: indexes for the query API (docs/query-api.md).
--
-- q (case-insensitive substring) is answered with ILIKE '%...%' through a
-- trigram GIN index: it serves any substring of 3+ characters, in any
-- language, with the same semantics as the unindexed query, where a
-- tsvector would only find whole words after stemming.  Measurements are in
-- docs/BENCHMARKS.md.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX log_entries_message_trgm ON log_entries USING gin (message gin_trgm_ops);
-- newest-first pages without other filters, and the time window of every filter
CREATE INDEX log_entries_time ON log_entries (time);
-- project-bound tokens always filter by project
CREATE INDEX log_entries_project_time ON log_entries (project_id, time);

CREATE INDEX traces_project_start ON traces (project_id, start_time);

CREATE INDEX metric_series_project_name ON metric_series (project_id, name);
