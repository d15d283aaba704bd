/* layout.c — the columns of the cold files (layout.h, docs/cold-store.md). */
#include "cold/layout.h"

#define US(col)  "(extract(epoch FROM " col ") * 1000000)::int8"
#define HEX(col) "encode(" col ", 'hex')"

/* The SPEC's names and order first (id, timestamp, trace_id, span_id,
 * project_id, session_id, service, level, message, attributes), then the
 * other columns of log_entries. */
static const lo_cold_col_t log_cols[] = {
    { "id", LO_CK_STR, false, false, true, "t.id::text" },
    { "timestamp", LO_CK_TS, false, false, false, US("t.time") },
    { "trace_id", LO_CK_STR, true, true, false, HEX("t.trace_id") },
    { "span_id", LO_CK_STR, true, false, true, HEX("t.span_id") },
    { "project_id", LO_CK_STR, true, false, false, "t.project_id::text" },
    { "session_id", LO_CK_STR, true, true, false, "t.session_id::text" },
    { "service", LO_CK_STR, false, false, false, "t.service" },
    { "level", LO_CK_STR, false, false, false, "t.level" },
    { "message", LO_CK_STR, false, false, false, "t.message" },
    { "attributes", LO_CK_JSON, true, false, false, "t.attributes::text" },
    { "observed_timestamp", LO_CK_TS, true, false, false, US("t.observed_time") },
    { "user_id", LO_CK_STR, true, false, false, "t.user_id::text" },
    { "severity_number", LO_CK_I32, false, false, false, "t.severity_number" },
    { "severity_text", LO_CK_STR, true, false, false, "t.severity_text" },
    { "resource", LO_CK_JSON, true, false, false, "t.resource::text" },
    { "scope_name", LO_CK_STR, true, false, false, "t.scope_name" },
    { "scope_version", LO_CK_STR, true, false, false, "t.scope_version" },
    { "event_name", LO_CK_STR, true, false, false, "t.event_name" },
    { "flags", LO_CK_I32, false, false, false, "t.flags" },
    { "dropped_attributes_count", LO_CK_I32, false, false, false, "t.dropped_attributes_count" },
};

static const lo_cold_col_t span_cols[] = {
    { "trace_id", LO_CK_STR, false, true, false, HEX("t.trace_id") },
    { "span_id", LO_CK_STR, false, false, true, HEX("t.span_id") },
    { "parent_span_id", LO_CK_STR, true, false, true, HEX("t.parent_span_id") },
    { "start_time", LO_CK_TS, false, false, false, US("t.start_time") },
    { "end_time", LO_CK_TS, false, false, false, US("t.end_time") },
    { "duration_ns", LO_CK_I64, false, false, false, "t.duration_ns" },
    { "project_id", LO_CK_STR, true, false, false, "t.project_id::text" },
    { "session_id", LO_CK_STR, true, true, false, "t.session_id::text" },
    { "user_id", LO_CK_STR, true, false, false, "t.user_id::text" },
    { "service", LO_CK_STR, false, false, false, "t.service" },
    { "name", LO_CK_STR, false, false, false, "t.name" },
    { "kind", LO_CK_I32, false, false, false, "t.kind" },
    { "status_code", LO_CK_I32, false, false, false, "t.status_code" },
    { "status_message", LO_CK_STR, true, false, false, "t.status_message" },
    { "trace_state", LO_CK_STR, true, false, false, "t.trace_state" },
    { "flags", LO_CK_I32, false, false, false, "t.flags" },
    { "attributes", LO_CK_JSON, true, false, false, "t.attributes::text" },
    { "events", LO_CK_JSON, true, false, false, "t.events::text" },
    { "links", LO_CK_JSON, true, false, false, "t.links::text" },
    { "resource", LO_CK_JSON, true, false, false, "t.resource::text" },
    { "scope_name", LO_CK_STR, true, false, false, "t.scope_name" },
    { "scope_version", LO_CK_STR, true, false, false, "t.scope_version" },
    { "dropped_attributes_count", LO_CK_I32, false, false, false, "t.dropped_attributes_count" },
    { "dropped_events_count", LO_CK_I32, false, false, false, "t.dropped_events_count" },
    { "dropped_links_count", LO_CK_I32, false, false, false, "t.dropped_links_count" },
};

/* Samples with their series denormalised (s): a file stands alone, and
 * dictionary encoding stores each series' description once per page. */
static const lo_cold_col_t metric_cols[] = {
    { "time", LO_CK_TS, false, false, false, US("t.time") },
    { "series_id", LO_CK_I64, false, true, false, "t.series_id" },
    { "name", LO_CK_STR, false, false, false, "s.name" },
    { "type", LO_CK_I32, false, false, false, "s.type" },
    { "temporality", LO_CK_I32, false, false, false, "s.temporality" },
    { "monotonic", LO_CK_BOOL, false, false, false, "s.monotonic" },
    { "unit", LO_CK_STR, true, false, false, "s.unit" },
    { "description", LO_CK_STR, true, false, false, "s.description" },
    { "labels", LO_CK_JSON, false, false, false, "s.labels::text" },
    { "resource_id", LO_CK_JSON, false, false, false, "s.resource_id::text" },
    { "resource", LO_CK_JSON, true, false, false, "s.resource::text" },
    { "start_time", LO_CK_TS, true, false, false, US("t.start_time") },
    { "value", LO_CK_F64, true, false, false, "t.value" },
    { "count", LO_CK_I64, true, false, false, "t.count" },
    { "sum", LO_CK_F64, true, false, false, "t.sum" },
    { "min", LO_CK_F64, true, false, false, "t.min" },
    { "max", LO_CK_F64, true, false, false, "t.max" },
    { "buckets", LO_CK_JSON, true, false, false, "t.buckets::text" },
    { "flags", LO_CK_I32, false, false, false, "t.flags" },
    { "project_id", LO_CK_STR, true, false, false, "t.project_id::text" },
    { "session_id", LO_CK_STR, true, false, false, "t.session_id::text" },
    { "user_id", LO_CK_STR, true, false, false, "t.user_id::text" },
    { "trace_id", LO_CK_STR, true, false, false, HEX("t.trace_id") },
    { "span_id", LO_CK_STR, true, false, false, HEX("t.span_id") },
    { "service", LO_CK_STR, false, false, false, "t.service" },
};

static const lo_cold_layout_t layouts[LO_SIGNAL_COUNT] = {
    [LO_SIGNAL_LOGS] = { LO_SIGNAL_LOGS, "logs", "logs", "log_entries", "time", "log_entries t", "t.time, t.id",
                         log_cols, LO_ARRAY_LEN(log_cols), 1, 4, 6, 5 },
    [LO_SIGNAL_SPANS] = { LO_SIGNAL_SPANS, "traces", "spans", "spans", "start_time", "spans t",
                          "t.start_time, t.trace_id, t.span_id", span_cols, LO_ARRAY_LEN(span_cols), 3, 6, 9, 7 },
    /* by series, then time: a file covers an hour (the catalog prunes by
     * time), and a query reads series; sorted so, a series' samples are
     * adjacent and the page index of series_id skips the rest */
    [LO_SIGNAL_METRICS] = { LO_SIGNAL_METRICS, "metrics", "metrics", "metric_samples", "time",
                            "metric_samples t JOIN metric_series s ON s.series_id = t.series_id",
                            "t.series_id, t.time", metric_cols, LO_ARRAY_LEN(metric_cols), 0, 19, 24, 20 },
};

const lo_cold_layout_t *lo_cold_layout(lo_signal_t s)
{
    return (int)s >= 0 && s < LO_SIGNAL_COUNT ? &layouts[s] : NULL;
}

lo_pq_column_t lo_cold_pq_column(const lo_cold_col_t *c)
{
    lo_pq_column_t p = { .name = c->name, .optional = c->optional, .bloom = c->bloom,
                         .no_dictionary = c->no_dictionary };
    switch (c->kind) {
    case LO_CK_TS: p.type = LO_PQ_INT64; p.logical = LO_PQ_LOGICAL_TIMESTAMP_MICROS; break;
    case LO_CK_I64: p.type = LO_PQ_INT64; break;
    case LO_CK_I32: p.type = LO_PQ_INT32; break;
    case LO_CK_F64: p.type = LO_PQ_DOUBLE; break;
    case LO_CK_BOOL: p.type = LO_PQ_BOOLEAN; break;
    case LO_CK_STR: p.type = LO_PQ_BYTE_ARRAY; p.logical = LO_PQ_LOGICAL_STRING; break;
    case LO_CK_JSON: p.type = LO_PQ_BYTE_ARRAY; p.logical = LO_PQ_LOGICAL_JSON; break;
    }
    return p;
}
