-- Alert rules, their per-group state, the events they raise, the
-- notifications owed for each event (an outbox) and every delivery
-- attempt; the audit log of changes made through the API
-- (docs/alerts.md).
--
-- Times of state and events come from the database's clock (now()), so
-- several lookout processes on one database agree on them.

-- Unix microseconds (what the evaluator computes with) as a timestamptz, exactly.
CREATE FUNCTION lo_us_ts(us bigint) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;

CREATE TABLE alert_rules (
    id                 uuid PRIMARY KEY,
    project_id         uuid REFERENCES projects (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    enabled            boolean NOT NULL DEFAULT true,
    rule               jsonb NOT NULL,          -- the validated rule as the API reads it back (src/alert/rule.c)
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    created_by         bigint,                  -- api_tokens.id
    last_evaluated_at  timestamptz,
    last_value         double precision,
    last_error         text,
    last_duration_ms   double precision
);
CREATE INDEX alert_rules_project ON alert_rules (project_id, name);

-- One row per rule and group that is pending or firing; a group with no
-- row is inactive.  group_key is the group's labels in canonical JSON
-- ('{}' for a rule without group_by).
CREATE TABLE alert_instances (
    rule_id          uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    group_key        text NOT NULL,
    state            text NOT NULL CHECK (state IN ('pending', 'firing')),
    pending_since    timestamptz NOT NULL,
    firing_since     timestamptz,
    event_id         bigint,                    -- the open event while firing
    last_value       double precision,
    resent_at        timestamptz,               -- last Alertmanager refresh
    PRIMARY KEY (rule_id, group_key)
);

CREATE TABLE alert_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id         uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    group_key       text NOT NULL,
    value           double precision,           -- when it fired
    threshold       double precision,
    fired_at        timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolved_value  double precision
);
CREATE INDEX alert_events_rule ON alert_events (rule_id, id DESC);

-- The outbox: written in the evaluator's transaction, sent by the
-- dispatcher.  A row is one message to one target: kind 'firing',
-- 'resolved', or 'refresh' (Alertmanager's re-send while firing).
CREATE TABLE alert_notifications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         bigint REFERENCES alert_events (id) ON DELETE SET NULL, -- kept when the rule is deleted
    kind             text NOT NULL CHECK (kind IN ('firing', 'resolved', 'refresh')),
    target_kind      text NOT NULL CHECK (target_kind IN ('webhook', 'alertmanager')),
    url              text NOT NULL,
    secret           text,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    finished_at      timestamptz
);
CREATE INDEX alert_notifications_due ON alert_notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX alert_notifications_event ON alert_notifications (event_id);

CREATE TABLE alert_deliveries (
    notification_id  bigint NOT NULL REFERENCES alert_notifications (id) ON DELETE CASCADE,
    attempt          integer NOT NULL,
    at               timestamptz NOT NULL DEFAULT now(),
    http_status      integer,
    error            text,
    duration_ms      double precision,
    PRIMARY KEY (notification_id, attempt)
);

-- Changes made through the API: who (token id), what, when; never telemetry.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    token_id    bigint,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL,
    changes     jsonb
);
CREATE INDEX audit_log_at ON audit_log (at DESC);

-- When the evaluator last ran (any node): a node skips its run when
-- another ran within most of an interval, so several nodes evaluate at
-- the pace of one.
CREATE TABLE alert_evaluator (
    id           integer PRIMARY KEY CHECK (id = 1),
    last_run_at  timestamptz
);
INSERT INTO alert_evaluator VALUES (1, NULL);
