/*
 * trace_summary.c — the traces summary (one row per trace and project: trace ids
 * cross organisations, so each project summarises only its own spans;
 * docs/auth.md), kept current as spans arrive in any order and in any
 * request.  A batch's spans are aggregated per (trace, project) here, then
 * one statement upserts every summary of the batch with least/greatest/sums,
 * so the result does not depend on arrival order.  Rows go sorted by trace
 * id and project: concurrent writers lock them in one order and cannot
 * deadlock.
 */
#include "ingest/writer.h"

#include <stdlib.h>

static int ensure_table(lo_writer_t *w, size_t records)
{
    size_t cap = 64;
    while (cap < 2 * records)
        cap *= 2;
    if (cap > w->traces_cap) {
        lo_trace_agg_t *t = calloc(cap, sizeof(*t));
        lo_trace_agg_t **s = malloc(cap * sizeof(*s));
        if (t == NULL || s == NULL) {
            free(t);
            free(s);
            return LO_ERROR;
        }
        free(w->traces);
        free(w->sorted_traces);
        w->traces = t;
        w->sorted_traces = s;
        w->traces_cap = cap;
    }
    return LO_OK;
}

static const uint8_t NO_PROJECT[16];

/* The summary of (trace, project) in the batch's table, added if absent. */
static lo_trace_agg_t *agg_get(lo_writer_t *w, const lo_envelope_t *e, size_t *n)
{
    const uint8_t *project = e->has_project ? e->project_id : NO_PROJECT;
    size_t mask = w->traces_cap - 1, i = lo_hash64(project, 16, lo_hash64(e->trace_id, 16, 2)) & mask;
    while (w->traces[i].used) {
        const lo_trace_agg_t *t = &w->traces[i];
        if (memcmp(t->trace_id, e->trace_id, 16) == 0 && t->has_project == e->has_project &&
            memcmp(t->project, project, 16) == 0)
            return &w->traces[i];
        i = (i + 1) & mask;
    }
    lo_trace_agg_t *a = &w->traces[i];
    memset(a, 0, sizeof(*a));
    memcpy(a->trace_id, e->trace_id, 16);
    a->has_project = e->has_project;
    memcpy(a->project, project, 16);
    a->used = true;
    a->start_ns = INT64_MAX;
    a->end_ns = INT64_MIN;
    w->sorted_traces[(*n)++] = a;
    return a;
}

static void agg_add(lo_trace_agg_t *a, const lo_span_rec_t *s)
{
    const lo_envelope_t *e = &s->env;
    if (a->spans == 0)
        a->service = e->service; /* the first span seen, until a root comes */
    a->spans++;
    if (s->status_code == 2)
        a->errors++;
    if (s->status_code > a->status && s->status_code <= 2)
        a->status = (int16_t)s->status_code;
    if (s->start_ns < a->start_ns)
        a->start_ns = s->start_ns;
    if (s->end_ns > a->end_ns)
        a->end_ns = s->end_ns;
    bool seen = false;
    for (size_t i = 0; i < a->n_services && !seen; i++)
        seen = a->services[i].len == e->service.len &&
               memcmp(a->services[i].p, e->service.p, e->service.len) == 0;
    if (!seen && a->n_services < LO_TRACE_BATCH_SERVICES)
        a->services[a->n_services++] = e->service;
    if (!s->has_parent) {
        a->has_root = true;
        a->root_name = s->name;
        a->service = e->service;
    }
    if (!a->has_session && e->has_session) {
        memcpy(a->session, e->session_id, 16);
        a->has_session = true;
    }
    if (!a->has_user && e->has_user) {
        memcpy(a->user, e->user_id, 16);
        a->has_user = true;
    }
}

/* The services of a as an array literal ({"a","b\"c"}) into out. */
static void services_literal(const lo_trace_agg_t *a, lo_buf_t *out)
{
    lo_buf_reset(out);
    lo_buf_putc(out, '{');
    for (size_t i = 0; i < a->n_services; i++) {
        lo_buf_puts(out, i ? ",\"" : "\"");
        for (size_t k = 0; k < a->services[i].len; k++) {
            char c = a->services[i].p[k];
            if (c == '"' || c == '\\')
                lo_buf_putc(out, '\\');
            lo_buf_putc(out, c);
        }
        lo_buf_putc(out, '"');
    }
    lo_buf_putc(out, '}');
}

static int cmp_trace(const void *pa, const void *pb)
{
    const lo_trace_agg_t *a = *(lo_trace_agg_t *const *)pa, *b = *(lo_trace_agg_t *const *)pb;
    int c = memcmp(a->trace_id, b->trace_id, 16);
    if (c == 0)
        c = (a->has_project > b->has_project) - (a->has_project < b->has_project);
    return c != 0 ? c : memcmp(a->project, b->project, 16);
}

int lo_traces_upsert(lo_writer_t *w, lo_ingest_req_t *list, size_t records)
{
    if (ensure_table(w, records) != LO_OK) {
        snprintf(w->err, sizeof(w->err), "traces: out of memory");
        return LO_ERROR;
    }
    size_t n = 0;
    for (lo_ingest_req_t *q = list; q != NULL; q = q->next)
        for (size_t i = 0; i < q->batch.n; i++)
            if (q->batch.spans[i].env.has_trace_id)
                agg_add(agg_get(w, &q->batch.spans[i].env, &n), &q->batch.spans[i]);
    /* the table is empty again for the next batch (only used slots touched) */
    for (size_t i = 0; i < n; i++)
        w->sorted_traces[i]->used = false;
    if (n == 0)
        return LO_OK;
    qsort(w->sorted_traces, n, sizeof(lo_trace_agg_t *), cmp_trace);

    static const uint32_t oids[] = { LO_OID_BYTEA, LO_OID_UUID, LO_OID_UUID,        LO_OID_UUID,
                                     LO_OID_TEXT,  LO_OID_TEXT, LO_OID_TIMESTAMPTZ, LO_OID_TIMESTAMPTZ,
                                     LO_OID_INT2,  LO_OID_INT4, LO_OID_INT4,        LO_OID_TEXT };
    static const uint32_t types[] = { LO_OID_BYTEA_ARRAY,       LO_OID_UUID_ARRAY,        LO_OID_UUID_ARRAY,
                                      LO_OID_UUID_ARRAY,        LO_OID_TEXT_ARRAY,        LO_OID_TEXT_ARRAY,
                                      LO_OID_TIMESTAMPTZ_ARRAY, LO_OID_TIMESTAMPTZ_ARRAY, LO_OID_INT2_ARRAY,
                                      LO_OID_INT4_ARRAY,        LO_OID_INT4_ARRAY,        LO_OID_TEXT_ARRAY };
    for (size_t i = 0; i < LO_ARRAY_LEN(oids); i++)
        lo_pgarr_begin(&w->arr[i], oids[i]);
    for (size_t i = 0; i < n; i++) {
        const lo_trace_agg_t *a = w->sorted_traces[i];
        lo_pgarr_add(&w->arr[0], a->trace_id, 16);
        lo_pgarr_add(&w->arr[1], a->has_project ? a->project : NULL, 16);
        lo_pgarr_add(&w->arr[2], a->has_session ? a->session : NULL, 16);
        lo_pgarr_add(&w->arr[3], a->has_user ? a->user : NULL, 16);
        lo_pgarr_add(&w->arr[4], a->service.p != NULL ? a->service.p : "", a->service.len);
        /* a root with an empty name is still a root: "" is not NULL */
        lo_pgarr_add(&w->arr[5], a->has_root ? (a->root_name.p != NULL ? a->root_name.p : "") : NULL,
                     a->root_name.len);
        lo_pgarr_add_ts(&w->arr[6], a->start_ns);
        lo_pgarr_add_ts(&w->arr[7], a->end_ns);
        lo_pgarr_add_i16(&w->arr[8], a->status);
        lo_pgarr_add_i32(&w->arr[9], a->spans);
        lo_pgarr_add_i32(&w->arr[10], a->errors);
        services_literal(a, &w->svc_lit);
        lo_pgarr_add(&w->arr[11], w->svc_lit.p, w->svc_lit.len);
    }
    return lo_writer_exec(
        w, "traces upsert",
        "INSERT INTO traces AS t (trace_id, project_id, session_id, user_id, service, root_span_name, "
        "start_time, end_time, status_code, span_count, error_count, services) "
        "SELECT a, b, c, d, e, f, g, h, i, j, k, l::text[] FROM unnest($1::bytea[], $2::uuid[], $3::uuid[], "
        "$4::uuid[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::int2[], $10::int4[], "
        "$11::int4[], $12::text[]) u(a, b, c, d, e, f, g, h, i, j, k, l) "
        "ON CONFLICT (trace_id, project_id) DO UPDATE SET "
        "session_id = coalesce(t.session_id, excluded.session_id), "
        "user_id = coalesce(t.user_id, excluded.user_id), "
        "service = CASE WHEN excluded.root_span_name IS NOT NULL THEN excluded.service "
        "ELSE coalesce(t.service, excluded.service) END, "
        "root_span_name = coalesce(excluded.root_span_name, t.root_span_name), "
        "start_time = least(t.start_time, excluded.start_time), "
        "end_time = greatest(t.end_time, excluded.end_time), "
        "status_code = greatest(t.status_code, excluded.status_code), "
        "span_count = t.span_count + excluded.span_count, "
        "error_count = t.error_count + excluded.error_count, "
        "services = (SELECT array_agg(x ORDER BY x) FROM (SELECT DISTINCT x FROM "
        "unnest(coalesce(t.services, '{}') || excluded.services) x ORDER BY x LIMIT 64) y), "
        "updated_at = now()",
        (int)LO_ARRAY_LEN(types), types, NULL);
}
