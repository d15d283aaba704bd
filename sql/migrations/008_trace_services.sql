-- The services a trace touched (docs/query-api.md, "GET /api/observe/traces"),
-- kept in its summary as spans arrive, so the trace search returns them —
-- also for traces whose spans rotated to the cold tier (summaries stay hot).
-- Summaries written before this version get theirs from the spans still
-- in PostgreSQL (none when they rotated: the search then shows the root's).
ALTER TABLE traces ADD COLUMN services text[];

UPDATE traces t SET services = s.services
FROM (SELECT trace_id, project_id, array_agg(DISTINCT service ORDER BY service) AS services
      FROM spans GROUP BY trace_id, project_id) s
WHERE s.trace_id = t.trace_id AND s.project_id IS NOT DISTINCT FROM t.project_id;
