/*
 * rows.c — the COPY text of the rows lookout stores from a generated
 * request (rows.h).
 */
#include "rows.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *p;
    size_t len, cap;
} sbuf_t;

/* ---- text building ---- */

static void sb_need(sbuf_t *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        fprintf(stderr, "copybase: out of memory\n");
        exit(1);
    }
    b->p = p;
    b->cap = cap;
}

static void sb_add(sbuf_t *b, const char *s, size_t n)
{
    sb_need(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_puts(sbuf_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    sb_need(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* JSON string body (no quotes) */
static void json_esc(sbuf_t *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            sb_add(b, e, 2);
        } else if (c == '\n') {
            sb_add(b, "\\n", 2);
        } else if (c < 0x20) {
            sb_printf(b, "\\u%04x", c);
        } else {
            sb_add(b, (const char *)&c, 1);
        }
    }
}

static void json_str(sbuf_t *b, const char *s)
{
    sb_add(b, "\"", 1);
    json_esc(b, s);
    sb_add(b, "\"", 1);
}

static void json_attrs(sbuf_t *b, const bg_kv_t *a, int n)
{
    sb_add(b, "{", 1);
    for (int i = 0; i < n; i++) {
        if (i)
            sb_add(b, ",", 1);
        json_str(b, a[i].key);
        sb_add(b, ":", 1);
        switch (a[i].t) {
        case BG_STR: json_str(b, a[i].s); break;
        case BG_INT: sb_printf(b, "%lld", (long long)a[i].i); break;
        case BG_DBL: sb_printf(b, "%.17g", a[i].d); break;
        case BG_BOOL: sb_puts(b, a[i].i ? "true" : "false"); break;
        }
    }
    sb_add(b, "}", 1);
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = 0;
}

/* COPY text field: backslash, tab, newline and CR escaped */
static void copy_field(sbuf_t *b, const char *s, size_t n)
{
    sb_need(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            b->p[b->len++] = '\\';
            b->p[b->len++] = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
        } else {
            b->p[b->len++] = c;
        }
    }
}

static void col_text(sbuf_t *b, const char *s, bool last)
{
    if (s)
        copy_field(b, s, strlen(s));
    else
        sb_add(b, "\\N", 2);
    sb_add(b, last ? "\n" : "\t", 1);
}

static void col_json(sbuf_t *b, sbuf_t *tmp, bool last)
{
    copy_field(b, tmp->p, tmp->len);
    sb_add(b, last ? "\n" : "\t", 1);
}

static void col_time(sbuf_t *b, int64_t ns)
{
    time_t s = (time_t)(ns / 1000000000LL);
    struct tm tm;
    gmtime_r(&s, &tm);
    sb_printf(b, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00\t", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
              tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)(ns % 1000000000LL) / 1000);
}

static void col_uuid(sbuf_t *b, const uint8_t u[16])
{
    char s[37];
    bg_uuid_format(u, s);
    sb_add(b, s, 36);
    sb_add(b, "\t", 1);
}

/* bytea in COPY text: \\x + hex; *at gets the offset of the hex digits */
static void col_bytea(sbuf_t *b, const uint8_t *p, size_t n, size_t *at)
{
    char h[65];
    hex(h, p, n);
    sb_add(b, "\\\\x", 3);
    if (at)
        *at = b->len;
    sb_add(b, h, 2 * n);
    sb_add(b, "\t", 1);
}

static void note_trace(bg_chunk_t *c, size_t at, size_t *cap)
{
    if (c->ntrace == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        c->trace_at = realloc(c->trace_at, *cap * sizeof *c->trace_at);
        if (!c->trace_at) {
            fprintf(stderr, "copybase: out of memory\n");
            exit(1);
        }
    }
    c->trace_at[c->ntrace++] = at;
}

/* ---- rows, as lookout stores them ---- */

static const char *const log_cols =
    "time, observed_time, id, project_id, session_id, user_id, trace_id, span_id, service, level, "
    "severity_number, severity_text, message, attributes, resource, scope_name, scope_version, event_name, "
    "flags, dropped_attributes_count";
static const char *const span_cols =
    "start_time, end_time, duration_ns, trace_id, span_id, parent_span_id, project_id, session_id, user_id, "
    "service, name, kind, status_code, status_message, trace_state, flags, attributes, events, links, "
    "resource, "
    "scope_name, scope_version, dropped_attributes_count, dropped_events_count, dropped_links_count";
static const char *const sample_cols =
    "time, series_id, start_time, value, count, sum, min, max, buckets, flags, project_id, session_id, "
    "user_id, trace_id, span_id, service";

/* Span events and links as the decoder renders them: times as strings
 * (they exceed 2^53), "[]" when there are none. */
static void json_events(sbuf_t *b, const bg_span_t *s)
{
    sb_puts(b, "[");
    for (int i = 0; i < s->nev; i++) {
        sb_printf(b, "%s{\"time_unix_nano\":\"%lld\",\"name\":", i ? "," : "", (long long)s->ev[i].time_ns);
        json_str(b, s->ev[i].name);
        sb_puts(b, ",\"attributes\":");
        json_attrs(b, s->ev[i].attr, s->ev[i].nattr);
        sb_puts(b, ",\"dropped_attributes_count\":0}");
    }
    sb_puts(b, "]");
}

static void json_links(sbuf_t *b, const bg_span_t *s)
{
    char h1[33], h2[17];
    sb_puts(b, "[");
    if (s->has_link) {
        hex(h1, s->link_trace, 16);
        hex(h2, s->link_span, 8);
        sb_printf(
            b, "{\"trace_id\":\"%s\",\"span_id\":\"%s\",\"trace_state\":\"\",\"attributes\":{},\"flags\":0}",
            h1, h2);
    }
    sb_puts(b, "]");
}

static void json_buckets(sbuf_t *b, const bg_metric_t *m, const bg_point_t *p)
{
    sb_puts(b, "{\"bounds\":[");
    for (int i = 0; i < m->nbounds; i++)
        sb_printf(b, "%s%.17g", i ? "," : "", m->bounds[i]);
    sb_puts(b, "],\"counts\":[");
    for (int i = 0; i <= m->nbounds; i++)
        sb_printf(b, "%s%llu", i ? "," : "", (unsigned long long)p->counts[i]);
    sb_puts(b, "]}");
}

static void render_log(sbuf_t *b, sbuf_t *tmp, const bg_res_t *res, const bg_log_t *l, bg_chunk_t *c,
                       size_t *tcap)
{
    col_time(b, l->time_ns);
    col_time(b, l->observed_ns);
    col_uuid(b, l->id);
    col_uuid(b, res->project);
    col_uuid(b, l->session);
    col_uuid(b, l->user);
    if (l->has_trace) {
        size_t at;
        col_bytea(b, l->trace_id, 16, &at);
        note_trace(c, at, tcap);
        col_bytea(b, l->span_id, 8, NULL);
    } else {
        sb_puts(b, "\\N\t\\N\t");
    }
    col_text(b, res->service, false);
    col_text(b, l->level, false);
    sb_printf(b, "%d\t", l->sev);
    col_text(b, l->sev_text, false);
    col_text(b, l->body, false);
    tmp->len = 0;
    json_attrs(tmp, l->attr, l->nattr);
    col_json(b, tmp, false);
    tmp->len = 0;
    json_attrs(tmp, res->attr, res->nattr);
    col_json(b, tmp, false);
    col_text(b, res->scope_name, false);
    col_text(b, res->scope_version, false);
    sb_puts(b, "\\N\t0\t0\n");
}

static void render_span(sbuf_t *b, sbuf_t *tmp, const bg_res_t *res, const bg_span_t *s, bg_chunk_t *c,
                        size_t *tcap)
{
    col_time(b, s->start_ns);
    col_time(b, s->end_ns);
    sb_printf(b, "%lld\t", (long long)(s->end_ns - s->start_ns));
    size_t at;
    col_bytea(b, s->trace_id, 16, &at);
    note_trace(c, at, tcap);
    col_bytea(b, s->span_id, 8, NULL);
    if (s->has_parent)
        col_bytea(b, s->parent, 8, NULL);
    else
        sb_puts(b, "\\N\t");
    col_uuid(b, res->project);
    col_uuid(b, s->session);
    col_uuid(b, s->user);
    col_text(b, res->service, false);
    col_text(b, s->name, false);
    sb_printf(b, "%d\t%d\t", s->kind, s->status);
    col_text(b, s->status_msg, false);
    sb_puts(b, "\\N\t0\t");
    tmp->len = 0;
    json_attrs(tmp, s->attr, s->nattr);
    col_json(b, tmp, false);
    tmp->len = 0;
    json_events(tmp, s);
    col_json(b, tmp, false);
    tmp->len = 0;
    json_links(tmp, s);
    col_json(b, tmp, false);
    tmp->len = 0;
    json_attrs(tmp, res->attr, res->nattr);
    col_json(b, tmp, false);
    col_text(b, res->scope_name, false);
    col_text(b, res->scope_version, false);
    sb_puts(b, "0\t0\t0\n");
}

static void render_point(sbuf_t *b, sbuf_t *tmp, const bg_res_t *res, const bg_metric_t *m,
                         const bg_point_t *p)
{
    col_time(b, p->time_ns);
    sb_printf(b, "%lld\t", (long long)p->series_id);
    col_time(b, p->start_ns);
    if (m->type == 3) {
        sb_printf(b, "\\N\t%llu\t%.17g\t%.17g\t%.17g\t", (unsigned long long)p->count, p->sum, p->min,
                  p->max);
        tmp->len = 0;
        json_buckets(tmp, m, p);
        col_json(b, tmp, false);
    } else {
        sb_printf(b, "%.17g\t\\N\t\\N\t\\N\t\\N\t\\N\t", p->value);
    }
    sb_puts(b, "0\t");
    col_uuid(b, res->project);
    sb_puts(b, "\\N\t\\N\t\\N\t\\N\t");
    col_text(b, res->service, true);
}

int bg_rows_render(const bg_req_t *r, bg_chunk_t *c)
{
    sbuf_t b = { 0 }, tmp = { 0 };
    size_t tcap = 0;
    memset(c, 0, sizeof *c);
    for (int ri = 0; ri < r->nres; ri++) {
        const bg_res_t *res = &r->res[ri];
        for (int j = 0; j < res->nlogs; j++)
            render_log(&b, &tmp, res, &res->logs[j], c, &tcap);
        for (int j = 0; j < res->nspans; j++)
            render_span(&b, &tmp, res, &res->spans[j], c, &tcap);
        for (int mi = 0; mi < res->nmetrics; mi++)
            for (int j = 0; j < res->metrics[mi].npt; j++)
                render_point(&b, &tmp, res, &res->metrics[mi], &res->metrics[mi].pt[j]);
    }
    free(tmp.p);
    c->text = b.p;
    c->len = b.len;
    c->rows = r->nrecords;
    return 0;
}

void bg_chunk_free(bg_chunk_t *c)
{
    if (!c)
        return;
    free(c->text);
    free(c->trace_at);
    memset(c, 0, sizeof *c);
}

const char *bg_rows_copy_sql(bg_signal_t s)
{
    static char sql[3][1024];
    const char *table = s == BG_LOGS ? "log_entries" : s == BG_SPANS ? "spans" : "metric_samples";
    const char *cols = s == BG_LOGS ? log_cols : s == BG_SPANS ? span_cols : sample_cols;
    if (!sql[s][0])
        snprintf(sql[s], sizeof sql[s], "COPY %s (%s) FROM STDIN", table, cols);
    return sql[s];
}
