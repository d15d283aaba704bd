-- lookout schema, version 1: what ingest needs.
-- Telemetry tables are range-partitioned by day on their time column;
-- lo_ensure_partitions() creates the partitions (the server calls it at
-- start and every hour).  Ids of traces and spans are raw bytes (bytea);
-- session, project and user ids are UUIDs.

CREATE TABLE projects (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    public      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    token_sha256  bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    scopes        text[] NOT NULL,
    project_ids   uuid[] NOT NULL DEFAULT '{}',  -- empty: not bound to projects
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE agent_sessions (
    session_id  uuid PRIMARY KEY,
    project_id  uuid NOT NULL,
    user_id     uuid NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE log_entries (
    time                 timestamptz NOT NULL,
    observed_time        timestamptz,
    id                   uuid NOT NULL,
    project_id           uuid,
    session_id           uuid,
    user_id              uuid,
    trace_id             bytea,
    span_id              bytea,
    service              text NOT NULL,
    level                text NOT NULL,
    severity_number      smallint NOT NULL,
    severity_text        text,
    message              text NOT NULL,
    attributes           jsonb,
    resource             jsonb,
    scope_name           text,
    scope_version        text,
    event_name           text,
    flags                integer NOT NULL DEFAULT 0,
    dropped_attributes_count integer NOT NULL DEFAULT 0
) PARTITION BY RANGE (time);

CREATE INDEX log_entries_service_time ON log_entries (service, time);
CREATE INDEX log_entries_trace ON log_entries (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX log_entries_session ON log_entries (session_id, time) WHERE session_id IS NOT NULL;

CREATE TABLE spans (
    start_time           timestamptz NOT NULL,
    end_time             timestamptz NOT NULL,
    duration_ns          bigint NOT NULL,
    trace_id             bytea NOT NULL,
    span_id              bytea NOT NULL,
    parent_span_id       bytea,
    project_id           uuid,
    session_id           uuid,
    user_id              uuid,
    service              text NOT NULL,
    name                 text NOT NULL,
    kind                 smallint NOT NULL,
    status_code          smallint NOT NULL,
    status_message       text,
    trace_state          text,
    flags                integer NOT NULL DEFAULT 0,
    attributes           jsonb,
    events               jsonb,
    links                jsonb,
    resource             jsonb,
    scope_name           text,
    scope_version        text,
    dropped_attributes_count integer NOT NULL DEFAULT 0,
    dropped_events_count integer NOT NULL DEFAULT 0,
    dropped_links_count  integer NOT NULL DEFAULT 0
) PARTITION BY RANGE (start_time);

CREATE INDEX spans_trace ON spans (trace_id);
CREATE INDEX spans_session ON spans (session_id, start_time) WHERE session_id IS NOT NULL;

-- One summary row per trace, kept current as spans arrive in any order and
-- in any request: writers upsert with least/greatest/sums.  Not partitioned:
-- its key (the trace id) says nothing of time; rotation deletes by end_time.
CREATE TABLE traces (
    trace_id        bytea PRIMARY KEY,
    project_id      uuid,
    session_id      uuid,
    user_id         uuid,
    service         text,            -- service of the root span, else of the first span seen
    root_span_name  text,            -- NULL until the root span arrives
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL,
    status_code     smallint NOT NULL DEFAULT 0,   -- 2 if any span errored, else 1 if any ok, else 0
    span_count      integer NOT NULL DEFAULT 0,
    error_count     integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX traces_start ON traces (start_time);
CREATE INDEX traces_service_start ON traces (service, start_time);
CREATE INDEX traces_session ON traces (session_id) WHERE session_id IS NOT NULL;

-- A series is name + labels + service + project.  Its id is a 64-bit hash
-- of that identity computed by the server, so samples are written without a
-- round trip to learn it.
CREATE TABLE metric_series (
    series_id    bigint PRIMARY KEY,
    project_id   uuid,
    service      text NOT NULL,
    name         text NOT NULL,
    type         smallint NOT NULL,   -- 1 gauge 2 sum 3 histogram 4 exponential histogram 5 summary
    temporality  smallint NOT NULL DEFAULT 0,
    monotonic    boolean NOT NULL DEFAULT false,
    unit         text,
    description  text,
    labels       jsonb NOT NULL,
    resource     jsonb,
    first_seen   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX metric_series_name ON metric_series (name);

CREATE TABLE metric_samples (
    time         timestamptz NOT NULL,
    series_id    bigint NOT NULL,
    start_time   timestamptz,
    value        double precision,     -- gauge and sum
    count        bigint,               -- histogram, exponential histogram, summary
    sum          double precision,
    min          double precision,
    max          double precision,
    buckets      jsonb,
    flags        integer NOT NULL DEFAULT 0,
    project_id   uuid,
    session_id   uuid,
    user_id      uuid,
    trace_id     bytea,
    span_id      bytea,
    service      text NOT NULL
) PARTITION BY RANGE (time);

CREATE INDEX metric_samples_series_time ON metric_samples (series_id, time);

-- Creates the daily partitions of every telemetry table from days_back
-- before today to days_ahead after it.  Idempotent.
CREATE FUNCTION lo_ensure_partitions(days_back integer, days_ahead integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    d date;
BEGIN
    FOREACH t IN ARRAY ARRAY['log_entries', 'spans', 'metric_samples'] LOOP
        FOR d IN SELECT generate_series((now() AT TIME ZONE 'UTC')::date - days_back,
                                        (now() AT TIME ZONE 'UTC')::date + days_ahead, '1 day')::date LOOP
            IF to_regclass(format('%I', t || '_' || to_char(d, 'YYYYMMDD'))) IS NULL THEN
                EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                               t || '_' || to_char(d, 'YYYYMMDD'), t,
                               (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
            END IF;
        END LOOP;
    END LOOP;
END
$$;
