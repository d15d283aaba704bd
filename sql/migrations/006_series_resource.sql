-- A series is also what produced it (docs/query-api.md, "Series"): two
-- replicas of one service (same name and labels, different
-- service.instance.id or host.name) are two series, so their cumulative
-- counters are differenced apart and never read as resets of each other;
-- and a name sent with two types is two series.
--
-- resource_id holds the identifying resource attributes (service.namespace,
-- service.instance.id, host.name, host.id, container.id, k8s.pod.uid) of
-- the series, '{}' for series written before this version.

ALTER TABLE metric_series ADD COLUMN resource_id jsonb NOT NULL DEFAULT '{}';

DROP INDEX metric_series_identity;
ALTER TABLE metric_series DROP COLUMN identity;
DROP FUNCTION lo_series_identity(uuid, text, text, jsonb);

CREATE FUNCTION lo_series_identity(project uuid, service text, name text, labels jsonb, type smallint,
                                   resource_id jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(coalesce(project::text, '-') || E'\n' ||
                             length(service) || ':' || service || E'\n' ||
                             length(name) || ':' || name || E'\n' || labels::text || E'\n' ||
                             type || E'\n' || resource_id::text, 'UTF8'))
$$;

ALTER TABLE metric_series
    ADD COLUMN identity bytea GENERATED ALWAYS AS
        (lo_series_identity(project_id, service, name, labels, type, resource_id)) STORED;
CREATE UNIQUE INDEX metric_series_identity ON metric_series (identity);
