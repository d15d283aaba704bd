-- The cold tier's catalog (docs/cold-store.md, "Rotation").
--
-- cold_files: one row per Parquet object that holds rows which left the
-- hot tier.  The row is written in the same transaction that removes those
-- rows from the hot tables, so a row is in exactly one tier at any moment.
-- projects, services and sessions are what the object holds (NULL: more
-- than the catalog keeps; the object must be read to know).
CREATE TABLE cold_files (
    id          uuid PRIMARY KEY,
    signal      text NOT NULL CHECK (signal IN ('logs', 'spans', 'metrics')),
    key         text NOT NULL UNIQUE,
    min_time    timestamptz NOT NULL,
    max_time    timestamptz NOT NULL,
    slice_start timestamptz NOT NULL,
    slice_end   timestamptz NOT NULL,
    rows        bigint NOT NULL,
    bytes       bigint NOT NULL,
    projects    uuid[],
    has_null_project boolean NOT NULL DEFAULT false,
    services    text[],
    sessions    uuid[],
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX cold_files_signal_time ON cold_files (signal, min_time, max_time);
CREATE INDEX cold_files_projects ON cold_files USING gin (projects);
CREATE INDEX cold_files_services ON cold_files USING gin (services);
CREATE INDEX cold_files_sessions ON cold_files USING gin (sessions);

-- Objects that may exist in the store without a catalog row: written
-- (committed) before an upload starts or an expired object is deleted, and
-- removed with the catalog change that settles it.  A row left behind by a
-- crash names an object to delete on the next run.
CREATE TABLE cold_pending (
    key        text PRIMARY KEY,
    signal     text NOT NULL,
    why        text NOT NULL CHECK (why IN ('upload', 'expire')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Rotation finds the rows of an hour by their time: BRIN indexes cost
-- almost nothing at ingest (rows arrive nearly in time order) and let an
-- hour without rows be skipped without reading the day.
CREATE INDEX spans_start_brin ON spans USING brin (start_time);
CREATE INDEX metric_samples_time_brin ON metric_samples USING brin (time);
