/*
 * columns.h — the one column schema of each telemetry table, read by the
 * COPY encoders (src/ingest/copy_*.c, which expand these lists in order),
 * the query API's SELECT lists and row rendering (src/query), and later the
 * Parquet writer and reader.  A column added here without its encoder,
 * or an encoder out of this order, does not compile.
 *
 * Each entry: X(ENUM, sql_name, read) where read says how the query API
 * selects the column back: LO_COL_PLAIN (as PostgreSQL prints it),
 * LO_COL_TIME_US (timestamptz as Unix microseconds) or LO_COL_HEX (bytea
 * as lower-case hex).
 */
#ifndef LO_STORE_COLUMNS_H
#define LO_STORE_COLUMNS_H

#include "core/lo.h"

typedef enum { LO_COL_PLAIN, LO_COL_TIME_US, LO_COL_HEX } lo_col_read_t;

typedef struct {
    const char *name;
    lo_col_read_t read;
} lo_column_t;

#define LO_LOG_COLUMNS(X)                                               \
    X(TIME, time, LO_COL_TIME_US)                                       \
    X(OBSERVED_TIME, observed_time, LO_COL_TIME_US)                     \
    X(ID, id, LO_COL_PLAIN)                                             \
    X(PROJECT_ID, project_id, LO_COL_PLAIN)                             \
    X(SESSION_ID, session_id, LO_COL_PLAIN)                             \
    X(USER_ID, user_id, LO_COL_PLAIN)                                   \
    X(TRACE_ID, trace_id, LO_COL_HEX)                                   \
    X(SPAN_ID, span_id, LO_COL_HEX)                                     \
    X(SERVICE, service, LO_COL_PLAIN)                                   \
    X(LEVEL, level, LO_COL_PLAIN)                                       \
    X(SEVERITY_NUMBER, severity_number, LO_COL_PLAIN)                   \
    X(SEVERITY_TEXT, severity_text, LO_COL_PLAIN)                       \
    X(MESSAGE, message, LO_COL_PLAIN)                                   \
    X(ATTRIBUTES, attributes, LO_COL_PLAIN)                             \
    X(RESOURCE, resource, LO_COL_PLAIN)                                 \
    X(SCOPE_NAME, scope_name, LO_COL_PLAIN)                             \
    X(SCOPE_VERSION, scope_version, LO_COL_PLAIN)                       \
    X(EVENT_NAME, event_name, LO_COL_PLAIN)                             \
    X(FLAGS, flags, LO_COL_PLAIN)                                       \
    X(DROPPED_ATTRIBUTES_COUNT, dropped_attributes_count, LO_COL_PLAIN) \
    X(BODY_KIND, body_kind, LO_COL_PLAIN)

#define LO_SPAN_COLUMNS(X)                                              \
    X(START_TIME, start_time, LO_COL_TIME_US)                           \
    X(END_TIME, end_time, LO_COL_TIME_US)                               \
    X(DURATION_NS, duration_ns, LO_COL_PLAIN)                           \
    X(TRACE_ID, trace_id, LO_COL_HEX)                                   \
    X(SPAN_ID, span_id, LO_COL_HEX)                                     \
    X(PARENT_SPAN_ID, parent_span_id, LO_COL_HEX)                       \
    X(PROJECT_ID, project_id, LO_COL_PLAIN)                             \
    X(SESSION_ID, session_id, LO_COL_PLAIN)                             \
    X(USER_ID, user_id, LO_COL_PLAIN)                                   \
    X(SERVICE, service, LO_COL_PLAIN)                                   \
    X(NAME, name, LO_COL_PLAIN)                                         \
    X(KIND, kind, LO_COL_PLAIN)                                         \
    X(STATUS_CODE, status_code, LO_COL_PLAIN)                           \
    X(STATUS_MESSAGE, status_message, LO_COL_PLAIN)                     \
    X(TRACE_STATE, trace_state, LO_COL_PLAIN)                           \
    X(FLAGS, flags, LO_COL_PLAIN)                                       \
    X(ATTRIBUTES, attributes, LO_COL_PLAIN)                             \
    X(EVENTS, events, LO_COL_PLAIN)                                     \
    X(LINKS, links, LO_COL_PLAIN)                                       \
    X(RESOURCE, resource, LO_COL_PLAIN)                                 \
    X(SCOPE_NAME, scope_name, LO_COL_PLAIN)                             \
    X(SCOPE_VERSION, scope_version, LO_COL_PLAIN)                       \
    X(DROPPED_ATTRIBUTES_COUNT, dropped_attributes_count, LO_COL_PLAIN) \
    X(DROPPED_EVENTS_COUNT, dropped_events_count, LO_COL_PLAIN)         \
    X(DROPPED_LINKS_COUNT, dropped_links_count, LO_COL_PLAIN)

#define LO_SAMPLE_COLUMNS(X)                  \
    X(TIME, time, LO_COL_TIME_US)             \
    X(SERIES_ID, series_id, LO_COL_PLAIN)     \
    X(START_TIME, start_time, LO_COL_TIME_US) \
    X(VALUE, value, LO_COL_PLAIN)             \
    X(COUNT, count, LO_COL_PLAIN)             \
    X(SUM, sum, LO_COL_PLAIN)                 \
    X(MIN, min, LO_COL_PLAIN)                 \
    X(MAX, max, LO_COL_PLAIN)                 \
    X(BUCKETS, buckets, LO_COL_PLAIN)         \
    X(FLAGS, flags, LO_COL_PLAIN)             \
    X(PROJECT_ID, project_id, LO_COL_PLAIN)   \
    X(SESSION_ID, session_id, LO_COL_PLAIN)   \
    X(USER_ID, user_id, LO_COL_PLAIN)         \
    X(TRACE_ID, trace_id, LO_COL_HEX)         \
    X(SPAN_ID, span_id, LO_COL_HEX)           \
    X(SERVICE, service, LO_COL_PLAIN)         \
    X(EXEMPLARS, exemplars, LO_COL_PLAIN)

#define LO_COL_ENUM_LOG_(E, n, r)    LO_LOG_##E,
#define LO_COL_ENUM_SPAN_(E, n, r)   LO_SPAN_##E,
#define LO_COL_ENUM_SAMPLE_(E, n, r) LO_SAMPLE_##E,
typedef enum { LO_LOG_COLUMNS(LO_COL_ENUM_LOG_) LO_LOG_NCOLS } lo_log_col_t;
typedef enum { LO_SPAN_COLUMNS(LO_COL_ENUM_SPAN_) LO_SPAN_NCOLS } lo_span_col_t;
typedef enum { LO_SAMPLE_COLUMNS(LO_COL_ENUM_SAMPLE_) LO_SAMPLE_NCOLS } lo_sample_col_t;

/* The table of signal s (log_entries, spans, metric_samples), its columns
 * and their number. */
const char *lo_columns_table(lo_signal_t s);
const lo_column_t *lo_columns(lo_signal_t s, size_t *n);
/* "time, observed_time, ...": the column list for COPY and INSERT. */
const char *lo_columns_list(lo_signal_t s);
/* The SELECT list reading every column back as its read kind says, in
 * table order (so result column i is the enum's i). */
const char *lo_columns_select(lo_signal_t s);

/* The values of spans.kind and spans.status_code by name (OTLP's SpanKind
 * and Status.code), NULL-terminated for lo_q_enum.  Values outside them
 * are stored as sent (docs/query-api.md). */
extern const char *const lo_span_kind_names[];
extern const char *const lo_span_status_names[];
/* The name of a span kind or status code, or, for a value this version
 * does not know (kept as sent), its number as text in buf. */
const char *lo_span_kind_name(int64_t kind, char buf[24]);
const char *lo_span_status_name(int64_t code, char buf[24]);
/* The stored level a usual spelling of a log level stands for, any case
 * ("WARNING", "err", "critical" -> "warn", "error", "fatal"; the six
 * names themselves too), or NULL when p (n bytes) is none of them
 * (docs/query-api.md, "Levels"). */
const char *lo_level_alias(const char *p, size_t n);

#endif
