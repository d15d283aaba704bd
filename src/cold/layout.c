/* layout.c — the columns of the cold files (layout.h, docs/cold-store.md). */
#include "cold/layout.h"

#define TEXT LO_CT_TEXT
#define UUID LO_CT_UUID
#define HEX  LO_CT_HEX

/* The SPEC's names and order first (id, timestamp, trace_id, span_id,
 * project_id, session_id, service, level, message, attributes), then the
 * other columns of log_entries. */
static const lo_cold_col_t log_cols[] = {
    { "id", LO_CK_STR, false, false, true, "t.id", UUID },
    { "timestamp", LO_CK_TS, false, false, false, "t.time", TEXT },
    { "trace_id", LO_CK_STR, true, true, false, "t.trace_id", HEX },
    { "span_id", LO_CK_STR, true, false, true, "t.span_id", HEX },
    { "project_id", LO_CK_STR, true, false, false, "t.project_id", UUID },
    { "session_id", LO_CK_STR, true, true, false, "t.session_id", UUID },
    { "service", LO_CK_STR, false, false, false, "t.service", TEXT },
    { "level", LO_CK_STR, false, false, false, "t.level", TEXT },
    { "message", LO_CK_STR, false, false, false, "t.message", TEXT },
    { "attributes", LO_CK_JSON, true, false, false, "t.attributes", TEXT },
    { "observed_timestamp", LO_CK_TS, true, false, false, "t.observed_time", TEXT },
    { "user_id", LO_CK_STR, true, false, false, "t.user_id", UUID },
    { "severity_number", LO_CK_I32, false, false, false, "t.severity_number", TEXT },
    { "severity_text", LO_CK_STR, true, false, false, "t.severity_text", TEXT },
    { "resource", LO_CK_JSON, true, false, false, "t.resource", TEXT },
    { "scope_name", LO_CK_STR, true, false, false, "t.scope_name", TEXT },
    { "scope_version", LO_CK_STR, true, false, false, "t.scope_version", TEXT },
    { "event_name", LO_CK_STR, true, false, false, "t.event_name", TEXT },
    { "flags", LO_CK_I32, false, false, false, "t.flags", TEXT },
    { "dropped_attributes_count", LO_CK_I32, false, false, false, "t.dropped_attributes_count", TEXT },
    { "body_kind", LO_CK_I32, true, false, false, "t.body_kind", TEXT },
};

static const lo_cold_col_t span_cols[] = {
    { "trace_id", LO_CK_STR, false, true, false, "t.trace_id", HEX },
    { "span_id", LO_CK_STR, false, false, true, "t.span_id", HEX },
    { "parent_span_id", LO_CK_STR, true, false, true, "t.parent_span_id", HEX },
    { "start_time", LO_CK_TS, false, false, false, "t.start_time", TEXT },
    { "end_time", LO_CK_TS, false, false, false, "t.end_time", TEXT },
    { "duration_ns", LO_CK_I64, false, false, false, "t.duration_ns", TEXT },
    { "project_id", LO_CK_STR, true, false, false, "t.project_id", UUID },
    { "session_id", LO_CK_STR, true, true, false, "t.session_id", UUID },
    { "user_id", LO_CK_STR, true, false, false, "t.user_id", UUID },
    { "service", LO_CK_STR, false, false, false, "t.service", TEXT },
    { "name", LO_CK_STR, false, false, false, "t.name", TEXT },
    { "kind", LO_CK_I32, false, false, false, "t.kind", TEXT },
    { "status_code", LO_CK_I32, false, false, false, "t.status_code", TEXT },
    { "status_message", LO_CK_STR, true, false, false, "t.status_message", TEXT },
    { "trace_state", LO_CK_STR, true, false, false, "t.trace_state", TEXT },
    { "flags", LO_CK_I32, false, false, false, "t.flags", TEXT },
    { "attributes", LO_CK_JSON, true, false, false, "t.attributes", TEXT },
    { "events", LO_CK_JSON, true, false, false, "t.events", TEXT },
    { "links", LO_CK_JSON, true, false, false, "t.links", TEXT },
    { "resource", LO_CK_JSON, true, false, false, "t.resource", TEXT },
    { "scope_name", LO_CK_STR, true, false, false, "t.scope_name", TEXT },
    { "scope_version", LO_CK_STR, true, false, false, "t.scope_version", TEXT },
    { "dropped_attributes_count", LO_CK_I32, false, false, false, "t.dropped_attributes_count", TEXT },
    { "dropped_events_count", LO_CK_I32, false, false, false, "t.dropped_events_count", TEXT },
    { "dropped_links_count", LO_CK_I32, false, false, false, "t.dropped_links_count", TEXT },
};

/* Samples with their series denormalised (s): a file stands alone, and
 * dictionary encoding stores each series' description once per page. */
static const lo_cold_col_t metric_cols[] = {
    { "time", LO_CK_TS, false, false, false, "t.time", TEXT },
    { "series_id", LO_CK_I64, false, true, false, "t.series_id", TEXT },
    { "name", LO_CK_STR, false, false, false, "s.name", TEXT },
    { "type", LO_CK_I32, false, false, false, "s.type", TEXT },
    { "temporality", LO_CK_I32, false, false, false, "s.temporality", TEXT },
    { "monotonic", LO_CK_BOOL, false, false, false, "s.monotonic", TEXT },
    { "unit", LO_CK_STR, true, false, false, "s.unit", TEXT },
    { "description", LO_CK_STR, true, false, false, "s.description", TEXT },
    { "labels", LO_CK_JSON, false, false, false, "s.labels", TEXT },
    { "resource_id", LO_CK_JSON, false, false, false, "s.resource_id", TEXT },
    { "resource", LO_CK_JSON, true, false, false, "s.resource", TEXT },
    { "start_time", LO_CK_TS, true, false, false, "t.start_time", TEXT },
    { "value", LO_CK_F64, true, false, false, "t.value", TEXT },
    { "count", LO_CK_I64, true, false, false, "t.count", TEXT },
    { "sum", LO_CK_F64, true, false, false, "t.sum", TEXT },
    { "min", LO_CK_F64, true, false, false, "t.min", TEXT },
    { "max", LO_CK_F64, true, false, false, "t.max", TEXT },
    { "buckets", LO_CK_JSON, true, false, false, "t.buckets", TEXT },
    { "flags", LO_CK_I32, false, false, false, "t.flags", TEXT },
    { "project_id", LO_CK_STR, true, false, false, "t.project_id", UUID },
    { "session_id", LO_CK_STR, true, false, false, "t.session_id", UUID },
    { "user_id", LO_CK_STR, true, false, false, "t.user_id", UUID },
    { "trace_id", LO_CK_STR, true, false, false, "t.trace_id", HEX },
    { "span_id", LO_CK_STR, true, false, false, "t.span_id", HEX },
    { "service", LO_CK_STR, false, false, false, "t.service", TEXT },
    { "exemplars", LO_CK_JSON, true, false, false, "t.exemplars", TEXT },
};

static const lo_cold_layout_t layouts[LO_SIGNAL_COUNT] = {
    [LO_SIGNAL_LOGS] = { LO_SIGNAL_LOGS, "logs", "logs", "log_entries", "time", "log_entries t",
                         "t.time, t.id", log_cols, LO_ARRAY_LEN(log_cols), 1, 4, 6, 5, 20000 },
    [LO_SIGNAL_SPANS] = { LO_SIGNAL_SPANS, "traces", "spans", "spans", "start_time", "spans t",
                          "t.start_time, t.trace_id, t.span_id", span_cols, LO_ARRAY_LEN(span_cols), 3, 6, 9,
                          7, 20000 },
    /* by metric name, series, then time: a file covers an hour (the
     * catalog prunes by time), and a query reads some series of one
     * metric; sorted so, they are adjacent and the page indexes of name
     * and series_id skip the rest.  Pages of
     * 8,192 rows: a series' hour is one small page of each column to
     * decode, not 20,000 rows (docs/BENCHMARKS.md: 4,096 made files 40 %
     * larger and many-series reads slower) */
    [LO_SIGNAL_METRICS] = { LO_SIGNAL_METRICS, "metrics", "metrics", "metric_samples", "time",
                            "metric_samples t JOIN metric_series s ON s.series_id = t.series_id",
                            "s.name COLLATE \"C\", t.series_id, t.time", metric_cols,
                            LO_ARRAY_LEN(metric_cols), 0, 19, 24, 20, 8192 },
};

const lo_cold_layout_t *lo_cold_layout(lo_signal_t s)
{
    return (int)s >= 0 && s < LO_SIGNAL_COUNT ? &layouts[s] : NULL;
}

int lo_cold_col(const lo_cold_layout_t *L, const char *name)
{
    for (size_t i = 0; i < L->n_cols; i++)
        if (strcmp(L->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

lo_pq_column_t lo_cold_pq_column(const lo_cold_col_t *c)
{
    lo_pq_column_t p = {
        .name = c->name, .optional = c->optional, .bloom = c->bloom, .no_dictionary = c->no_dictionary
    };
    switch (c->kind) {
    case LO_CK_TS:
        p.type = LO_PQ_INT64;
        p.logical = LO_PQ_LOGICAL_TIMESTAMP_MICROS;
        break;
    case LO_CK_I64: p.type = LO_PQ_INT64; break;
    case LO_CK_I32: p.type = LO_PQ_INT32; break;
    case LO_CK_F64: p.type = LO_PQ_DOUBLE; break;
    case LO_CK_BOOL: p.type = LO_PQ_BOOLEAN; break;
    case LO_CK_STR:
        p.type = LO_PQ_BYTE_ARRAY;
        p.logical = LO_PQ_LOGICAL_STRING;
        break;
    case LO_CK_JSON:
        p.type = LO_PQ_BYTE_ARRAY;
        p.logical = LO_PQ_LOGICAL_JSON;
        break;
    }
    return p;
}
