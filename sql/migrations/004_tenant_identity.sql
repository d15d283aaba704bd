-- Identities that one project cannot forge onto another's data
-- (docs/auth.md, "Isolation between projects").

-- ---- metric series: identified by what they are, not by a client's hash ----
--
-- A series is its project, service, name and labels.  The identity digest
-- is SHA-256 of exactly those stored values (labels in jsonb's canonical
-- text form, so the order of the pairs on the wire does not matter), and a
-- unique index on it decides whether a series exists: two different series
-- can only share a row if SHA-256 collides.  series_id is a surrogate the
-- database hands out; the writer learns it once per series and caches it by
-- the exact identity bytes (src/ingest/series.c).  Series written before
-- this version keep their ids.
--
-- convert_to() is only STABLE (it depends on the database encoding); the
-- encoding of a database never changes, so the digest is immutable here.
CREATE FUNCTION lo_series_identity(project uuid, service text, name text, labels jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(coalesce(project::text, '-') || E'\n' ||
                             length(service) || ':' || service || E'\n' ||
                             length(name) || ':' || name || E'\n' || labels::text, 'UTF8'))
$$;

ALTER TABLE metric_series
    ADD COLUMN identity bytea GENERATED ALWAYS AS (lo_series_identity(project_id, service, name, labels)) STORED;
CREATE UNIQUE INDEX metric_series_identity ON metric_series (identity);
-- (ids handed out start far above the small numbers of hand-made rows)
CREATE SEQUENCE metric_series_id_seq AS bigint START WITH 4294967296 OWNED BY metric_series.series_id;
ALTER TABLE metric_series ALTER COLUMN series_id SET DEFAULT nextval('metric_series_id_seq');

-- ---- trace summaries: one per trace and project ----
--
-- Trace ids cross organisations in traceparent headers, so two projects
-- may send spans of one trace; each has its own summary, made of its own
-- spans only.  A NULL project (records from an unbound token that name
-- none) is one more owner: NULLS NOT DISTINCT.
ALTER TABLE traces DROP CONSTRAINT traces_pkey;
ALTER TABLE traces ADD CONSTRAINT traces_trace_project UNIQUE NULLS NOT DISTINCT (trace_id, project_id);

-- Summaries written before this version may mix projects: rebuild them
-- from the spans, per trace and project, as the writer aggregates them.
TRUNCATE traces;
INSERT INTO traces (trace_id, project_id, session_id, user_id, service, root_span_name,
                    start_time, end_time, status_code, span_count, error_count)
SELECT trace_id, project_id,
       (array_agg(session_id ORDER BY start_time) FILTER (WHERE session_id IS NOT NULL))[1],
       (array_agg(user_id ORDER BY start_time) FILTER (WHERE user_id IS NOT NULL))[1],
       coalesce((array_agg(service ORDER BY start_time) FILTER (WHERE parent_span_id IS NULL))[1],
                (array_agg(service ORDER BY start_time))[1]),
       (array_agg(name ORDER BY start_time) FILTER (WHERE parent_span_id IS NULL))[1],
       min(start_time), max(end_time),
       max(CASE WHEN status_code BETWEEN 0 AND 2 THEN status_code ELSE 0 END),
       count(*), count(*) FILTER (WHERE status_code = 2)
FROM spans
GROUP BY trace_id, project_id;
