/*
 * gen.h — the synthetic telemetry of the ingest benchmark, as a model that
 * both bench programs render: loadgen encodes it as OTLP protobuf, copybase
 * as the COPY text of the rows the server would store from it.  Generating
 * both from one model is what makes the COPY baseline "the same rows".
 *
 * A request is a few resources (services); each holds records of one signal.
 * Generation is deterministic for a seed.  Strings live in the request's
 * pool and stay valid until bg_req_free.
 */
#ifndef BG_GEN_H
#define BG_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { BG_LOGS = 0, BG_SPANS = 1, BG_METRICS = 2 } bg_signal_t;

typedef enum { BG_STR, BG_INT, BG_DBL, BG_BOOL } bg_vtype_t;

#define BG_MAX_ATTR   12
#define BG_MAX_BOUNDS 12

typedef struct {
    const char *key;
    bg_vtype_t t;
    const char *s; /* BG_STR */
    int64_t i;     /* BG_INT, BG_BOOL */
    double d;      /* BG_DBL */
} bg_kv_t;

typedef struct {
    int64_t time_ns, observed_ns;
    int sev;
    const char *sev_text;
    const char *level; /* what the server stores (the level mapping of docs/ingest-storage.md) */
    const char *body;
    uint8_t trace_id[16], span_id[8];
    bool has_trace;
    uint8_t session[16], user[16]; /* also present in attr as strings */
    uint8_t id[16];                /* the row id the baseline stores */
    bg_kv_t attr[BG_MAX_ATTR];
    int nattr;
} bg_log_t;

typedef struct {
    int64_t time_ns;
    const char *name;
    bg_kv_t attr[4];
    int nattr;
} bg_event_t;

typedef struct {
    uint8_t trace_id[16], span_id[8], parent[8];
    bool has_parent;
    const char *name;
    int kind;
    int64_t start_ns, end_ns;
    int status;
    const char *status_msg;
    uint8_t session[16], user[16];
    bg_kv_t attr[BG_MAX_ATTR];
    int nattr;
    bg_event_t ev[2];
    int nev;
    bool has_link;
    uint8_t link_trace[16], link_span[8];
} bg_span_t;

typedef struct {
    bg_kv_t label[4];
    int nlabel;
    int64_t start_ns, time_ns;
    double value;   /* gauge/sum */
    uint64_t count; /* histogram */
    double sum, min, max;
    uint64_t counts[BG_MAX_BOUNDS + 1];
    uint64_t series_id; /* what the baseline stores */
} bg_point_t;

typedef struct {
    const char *name, *desc, *unit;
    int type; /* 1 gauge, 2 sum, 3 histogram */
    int temporality;
    bool monotonic;
    int nbounds;
    const double *bounds;
    bg_point_t *pt;
    int npt;
} bg_metric_t;

typedef struct {
    const char *service;
    uint8_t project[16];
    bg_kv_t attr[8]; /* resource attributes, service.name first */
    int nattr;
    const char *scope_name, *scope_version;
    bg_log_t *logs;
    int nlogs;
    bg_span_t *spans;
    int nspans;
    bg_metric_t *metrics;
    int nmetrics;
} bg_res_t;

#define BG_MAX_RES 8

typedef struct {
    bg_signal_t signal;
    int nres;
    bg_res_t res[BG_MAX_RES];
    int nrecords; /* log records, spans or data points */
    char *pool;   /* strings */
    size_t pool_len, pool_cap;
} bg_req_t;

/* Builds request number `index` of a run: `records` records of `signal`
 * stamped around now_ns.  Returns 0, or -1 on OOM. */
int bg_req_build(bg_req_t *r, bg_signal_t signal, int records, uint64_t seed, int index, int64_t now_ns);
void bg_req_free(bg_req_t *r);

/* "logs", "spans", "metrics"; parse returns -1 if unknown. */
const char *bg_signal_name(bg_signal_t s);
int bg_signal_parse(const char *s);

/* Wall-clock and monotonic nanoseconds. */
int64_t bg_now_ns(void);
int64_t bg_mono_ns(void);

/* Writes 36 characters + NUL. */
void bg_uuid_format(const uint8_t u[16], char out[37]);

#endif
