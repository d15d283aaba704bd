/*
 * exec.h — the query API's executors apart from its HTTP rendering
 * (docs/architecture.md, "One query"): typed specs in, rows or points out
 * to a function of the caller's.  The API's handlers render them as JSON;
 * alert rules (src/alert) evaluate them.  One implementation of each
 * search: no second SQL builder.
 *
 * The executors take the request (its connection req->db, and
 * req->db_broken) and write an error answer to resp when they fail, as
 * the handlers do; a caller outside HTTP reads the message from there.
 */
#ifndef LO_QUERY_EXEC_H
#define LO_QUERY_EXEC_H

#include <libpq-fe.h>

#include "cold/coldread.h"
#include "http/api.h"
#include "query/query.h"

/* A row function: sees each result row as row 0 of r, in order; false
 * ends the delivery. */
typedef bool (*lo_q_row_fn)(void *ud, const PGresult *r);

/* Writes "YYYY-MM-DDTHH:MM:SS.ffffffZ" (28 bytes + NUL) for Unix microseconds. */
void lo_q_fmt_time(int64_t us, char out[32]);

/* Appends s (len bytes) to an array literal being built in out, quoted;
 * first: no comma before it. */
void lo_q_array_item(lo_buf_t *out, const char *s, size_t len, bool first);

/* ---- logs.c, traces.c ---- */

/* A log search, parsed and checked; NULL members do not filter. */
typedef struct {
    int64_t from_us, to_us;
    int64_t limit, offset;
    const char *session; /* canonical UUID */
    const char *trace;   /* 32 lower-case hex digits */
    const char *levels;  /* array literal of level names: {"warn","error"} */
    const char *service;
    const char *q;          /* substring of the message, case-insensitive */
    lo_cold_report_t *cold; /* NULL, or where cold objects that could not be read are named */
} lo_log_spec_t;

/* A level filter ("warn,error": up to 8 names of [a-z0-9_.-], any case)
 * as the array literal of lo_log_spec_t.levels into out (cap bytes; 400
 * hold any valid list).  LO_OK or LO_INVALID. */
int lo_q_parse_levels(const char *v, char *out, size_t cap) LO_MUST_USE;

/* Streams the logs spec matches in the projects of vis, newest first (time,
 * then id), as rows of lo_columns_select(logs): offset rows skipped, then
 * at most limit + 1, so the caller learns whether there are more.  LO_OK,
 * or an error with the answer written to resp. */
int lo_q_logs_run(lo_api_req_t *req, lo_api_resp_t *resp, const lo_log_spec_t *spec, const lo_q_vis_t *vis,
                  lo_q_row_fn row, void *ud) LO_MUST_USE;
/* Counts the logs spec matches in the projects of vis (limit and offset
 * do not apply): one row (NULL, count) — or, by_service, a row
 * (service, count) per service that has matches, at most 10,001 — as
 * text columns.  LO_OK, or an error with the answer written to resp. */
int lo_q_logs_count(lo_api_req_t *req, lo_api_resp_t *resp, const lo_log_spec_t *spec, const lo_q_vis_t *vis,
                    bool by_service, lo_q_row_fn row, void *ud) LO_MUST_USE;

/* A trace search, parsed and checked; NULL members and status -1 do not
 * filter. */
typedef struct {
    int64_t from_us, to_us;
    int64_t limit, offset;
    const char *session; /* canonical UUID */
    const char *service; /* one of the services the trace touched */
    int status;          /* index of lo_span_status_names: the trace's (its worst span's) */
    /* span conditions: a trace matches when one of its spans starting in
     * [from_us, to_us) meets them all */
    const char *span_name;
    int64_t min_duration_ns, max_duration_ns; /* 0 / INT64_MAX: none */
    const char *attrs;                        /* JSON object of attribute values (as text), or NULL */
} lo_trace_spec_t;

/* The columns of a trace search row. */
enum {
    LO_TRACE_ID,
    LO_TRACE_START,
    LO_TRACE_END,
    LO_TRACE_ROOT_NAME,
    LO_TRACE_SERVICE,
    LO_TRACE_STATUS,
    LO_TRACE_SPAN_COUNT,
    LO_TRACE_ERROR_COUNT,
    LO_TRACE_PROJECT_ID,
    LO_TRACE_SESSION_ID,
    LO_TRACE_USER_ID,
    LO_TRACE_SERVICES,     /* text[]: the services the trace touched */
    LO_TRACE_MATCHED_SPANS /* spans meeting the span conditions (every span without any) */
};

/* Streams the traces spec matches in the projects of vis, newest first,
 * one row per trace (columns LO_TRACE_*; times as Unix microseconds), with
 * the paging of lo_q_logs_run. */
int lo_q_traces_run(lo_api_req_t *req, lo_api_resp_t *resp, const lo_trace_spec_t *spec,
                    const lo_q_vis_t *vis, lo_q_row_fn row, void *ud) LO_MUST_USE;

/* ---- metric_query.c: the metric query apart from its rendering ---- */

/* A metric query, parsed and checked (the API's parameters, or an alert
 * rule's).  agg indexes lo_metric_agg_names.  Output series: one per
 * distinct label set; with group_by, one per distinct set of those label
 * keys' values; with merge, one for everything.  Steps start at multiples
 * of step_s from the Unix epoch, or, with align_from, from from_us (one
 * step of step_s == to - from then covers the range exactly). */
typedef struct {
    const char *name;
    const char *labels;   /* JSON object of exact matches, or NULL */
    const char *resource; /* JSON object of exact matches on the resource attributes, or NULL */
    const char *service;  /* the series' service, or NULL */
    int type;             /* 1 gauge .. 5 summary; 0: any (a name sent with two types is two metrics) */
    const char
        *group_by; /* array literal of label keys and resource.KEY: {"route","resource.host.name"}, or NULL */
    int agg;
    double q;          /* the quantile of a percentile agg (0.5 for p50, 0.999 for p99.9) */
    char agg_name[12]; /* as written back: "avg", "p99.9" */
    bool merge;        /* one output series for everything matched (group=none) */
    bool align_from;
    bool exemplars; /* also the exemplars of the matched series in [from, to) (sink.exemplar) */
    int64_t from_us, to_us, step_s;
    lo_cold_report_t *cold; /* NULL, or where cold objects that could not be read are named */
} lo_metric_spec_t;

extern const char *const lo_metric_agg_names[]; /* avg sum min max count rate increase p50 p90 p95 p99 */
/* An aggregation's name: one of lo_metric_agg_names, any percentile
 * pNN / pNN.N / pNN.NN / pNN.NNN strictly between p0 and p100, or
 * "buckets" (a histogram's bucket counts per step, for heatmaps), any case.
 * Sets spec->agg, spec->q and spec->agg_name.  LO_OK or LO_INVALID. */
int lo_metric_agg_parse(const char *s, lo_metric_spec_t *spec) LO_MUST_USE;

/* Where lo_q_metric_run puts its answer: begin once (the metric's type
 * and unit, NULL when unknown), then per output series its labels (raw
 * JSON) and member count, its points in time order, and its end. */
typedef struct {
    void *ud;
    void (*begin)(void *ud, const char *type, const char *unit);
    void (*series)(void *ud, const char *labels, size_t labels_len, int members);
    void (*point)(void *ud, int64_t ts_ms, double value);
    void (*series_end)(void *ud);
    /* agg=buckets only (NULL: the sink takes none): after series, the
     * series' bucket upper bounds (ascending; a last +Inf bucket follows
     * them), then per step with data the count of each of the nb + 1
     * buckets instead of point */
    void (*bounds)(void *ud, const double *bounds, int nb);
    void (*counts)(void *ud, int64_t ts_ms, const double *counts, int n);
    /* with spec.exemplars (NULL: the sink takes none): after the series,
     * each exemplar as a JSON object (its series' id and labels added to
     * the stored object: otlp.h), newest first, at most LO_Q_MAX_EXEMPLARS;
     * more says that there were more */
    void (*exemplar)(void *ud, const char *json, size_t len);
    void (*exemplars_end)(void *ud, bool more);
} lo_metric_sink_t;

#define LO_Q_MAX_EXEMPLARS 1000 /* exemplars in one answer */

/* Runs spec for the projects in vis into sink.  LO_OK, or another code
 * with the error answer written to resp (400 for queries it cannot
 * answer, 5xx for failures). */
int lo_q_metric_run(lo_api_req_t *req, lo_api_resp_t *resp, const lo_metric_spec_t *spec,
                    const lo_q_vis_t *vis, const lo_metric_sink_t *sink) LO_MUST_USE;

#endif
