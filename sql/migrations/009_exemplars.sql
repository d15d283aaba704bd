-- Exemplars of metric data points (docs/query-api.md, "GET /api/observe/metrics",
-- exemplars=true): a JSON array per sample, each with its time, value,
-- trace and span ids and filtered attributes, so a chart point links to a
-- trace.  Nullable and without a default: adding it rewrites nothing.
ALTER TABLE metric_samples ADD COLUMN exemplars jsonb;
