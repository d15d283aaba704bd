/*
 * copybase.c — the raw COPY baseline of the ingest benchmark.
 *
 * Renders the rows lookout would store from loadgen's requests (same
 * generator, seed and request numbering: bench/gen.c) as COPY text, then
 * streams them with PQputCopyData over --connections connections (use the
 * server's `writers` setting), one COPY statement of --batch rows per
 * transaction, for --duration seconds.  Trace ids are rewritten per batch
 * exactly as loadgen does per request.  Prints rows/s; the last line is
 * machine-readable (RESULT key=value ...).
 *
 *   copybase --dsn URL --signal logs|spans|metrics [--connections 2]
 *            [--duration 10] [--batch 20000] [--request-records 1000]
 *            [--bodies 16] [--dump FILE]
 *
 * What is not in it, on purpose: the server's side tables (traces summary
 * upserts for spans, metric_series upserts), which are extra work the
 * server does beyond "the same rows".
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"

typedef struct {
    char *p;
    size_t len, cap;
} sbuf_t;

typedef struct {
    char *text;
    size_t len;
    size_t *trace_at; /* offsets of the 32 hex digits of trace ids */
    size_t ntrace;
    int rows;
} chunk_t;

typedef struct {
    int id;
    pthread_t th;
    long rows, batches, errors;
} worker_t;

static struct {
    const char *dsn;
    bg_signal_t signal;
    int connections, batch, request_records, bodies;
    double duration;
    uint64_t seed;
    const char *dump;
} opt;

static chunk_t *chunks;
static int64_t deadline_ns;

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

static void note_trace(chunk_t *c, size_t at, size_t *cap)
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
    "service, name, kind, status_code, status_message, trace_state, flags, attributes, events, links, resource, "
    "scope_name, scope_version, dropped_attributes_count, dropped_events_count, dropped_links_count";
static const char *const sample_cols =
    "time, series_id, start_time, value, count, sum, min, max, buckets, flags, project_id, session_id, "
    "user_id, trace_id, span_id, service";

static void render_log(sbuf_t *b, sbuf_t *tmp, const bg_res_t *res, const bg_log_t *l, chunk_t *c,
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

static void render_span(sbuf_t *b, sbuf_t *tmp, const bg_res_t *res, const bg_span_t *s, chunk_t *c,
                        size_t *tcap)
{
    char h1[33], h2[17];
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
    if (s->nev) {
        tmp->len = 0;
        sb_puts(tmp, "[");
        for (int i = 0; i < s->nev; i++) {
            sb_printf(tmp, "%s{\"time_unix_nano\":%lld,\"name\":", i ? "," : "", (long long)s->ev[i].time_ns);
            json_str(tmp, s->ev[i].name);
            sb_puts(tmp, ",\"attributes\":");
            json_attrs(tmp, s->ev[i].attr, s->ev[i].nattr);
            sb_puts(tmp, ",\"dropped_attributes_count\":0}");
        }
        sb_puts(tmp, "]");
        col_json(b, tmp, false);
    } else {
        sb_puts(b, "\\N\t");
    }
    if (s->has_link) {
        hex(h1, s->link_trace, 16);
        hex(h2, s->link_span, 8);
        tmp->len = 0;
        sb_printf(tmp, "[{\"trace_id\":\"%s\",\"span_id\":\"%s\",\"trace_state\":\"\",\"attributes\":{},\"flags\":0}]",
                  h1, h2);
        col_json(b, tmp, false);
    } else {
        sb_puts(b, "\\N\t");
    }
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
        sb_printf(b, "\\N\t%llu\t%.17g\t%.17g\t%.17g\t", (unsigned long long)p->count, p->sum, p->min, p->max);
        tmp->len = 0;
        sb_puts(tmp, "{\"bounds\":[");
        for (int i = 0; i < m->nbounds; i++)
            sb_printf(tmp, "%s%.17g", i ? "," : "", m->bounds[i]);
        sb_puts(tmp, "],\"counts\":[");
        for (int i = 0; i <= m->nbounds; i++)
            sb_printf(tmp, "%s%llu", i ? "," : "", (unsigned long long)p->counts[i]);
        sb_puts(tmp, "]}");
        col_json(b, tmp, false);
    } else {
        sb_printf(b, "%.17g\t\\N\t\\N\t\\N\t\\N\t\\N\t", p->value);
    }
    sb_puts(b, "0\t");
    col_uuid(b, res->project);
    sb_puts(b, "\\N\t\\N\t\\N\t\\N\t");
    col_text(b, res->service, true);
}

static int build_chunks(void)
{
    chunks = calloc((size_t)opt.bodies, sizeof *chunks);
    if (!chunks)
        return -1;
    int64_t now = bg_now_ns();
    sbuf_t tmp = { 0 };
    size_t total = 0;
    for (int i = 0; i < opt.bodies; i++) {
        bg_req_t r;
        if (bg_req_build(&r, opt.signal, opt.request_records, opt.seed, i, now) != 0)
            return -1;
        sbuf_t b = { 0 };
        chunk_t *c = &chunks[i];
        size_t tcap = 0;
        for (int ri = 0; ri < r.nres; ri++) {
            const bg_res_t *res = &r.res[ri];
            for (int j = 0; j < res->nlogs; j++)
                render_log(&b, &tmp, res, &res->logs[j], c, &tcap);
            for (int j = 0; j < res->nspans; j++)
                render_span(&b, &tmp, res, &res->spans[j], c, &tcap);
            for (int mi = 0; mi < res->nmetrics; mi++)
                for (int j = 0; j < res->metrics[mi].npt; j++)
                    render_point(&b, &tmp, res, &res->metrics[mi], &res->metrics[mi].pt[j]);
        }
        c->text = b.p;
        c->len = b.len;
        c->rows = r.nrecords;
        total += b.len;
        bg_req_free(&r);
    }
    free(tmp.p);
    fprintf(stderr, "copybase: %d chunks of %d %s rows, %.0f bytes of COPY text per row\n", opt.bodies,
            opt.request_records, bg_signal_name(opt.signal),
            (double)total / ((double)opt.bodies * opt.request_records));
    return 0;
}

/* ---- streaming ---- */

static const char *copy_sql(void)
{
    static char sql[1024];
    const char *table = opt.signal == BG_LOGS ? "log_entries" : opt.signal == BG_SPANS ? "spans" : "metric_samples";
    const char *cols = opt.signal == BG_LOGS ? log_cols : opt.signal == BG_SPANS ? span_cols : sample_cols;
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN", table, cols);
    return sql;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    PGconn *db = PQconnectdb(opt.dsn);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "copybase: connect: %s", PQerrorMessage(db));
        PQfinish(db);
        w->errors++;
        return NULL;
    }
    size_t maxlen = 0;
    for (int i = 0; i < opt.bodies; i++)
        if (chunks[i].len > maxlen)
            maxlen = chunks[i].len;
    char *work = malloc(maxlen);
    if (!work) {
        PQfinish(db);
        w->errors++;
        return NULL;
    }
    int ci = w->id % opt.bodies;
    uint64_t seq = 0;
    static const char hx[] = "0123456789abcdef";
    while (bg_mono_ns() < deadline_ns) {
        PGresult *res = PQexec(db, copy_sql());
        if (PQresultStatus(res) != PGRES_COPY_IN) {
            fprintf(stderr, "copybase: %s", PQerrorMessage(db));
            PQclear(res);
            w->errors++;
            break;
        }
        PQclear(res);
        int rows = 0;
        bool ok = true;
        while (rows < opt.batch) {
            const chunk_t *c = &chunks[ci];
            ci = (ci + 1) % opt.bodies;
            memcpy(work, c->text, c->len);
            uint64_t tag = ((uint64_t)(w->id + 1) << 40) | seq++;
            for (size_t i = 0; i < c->ntrace; i++)
                for (int k = 0; k < 16; k++)
                    work[c->trace_at[i] + (size_t)k] = hx[(tag >> (60 - 4 * k)) & 15];
            if (PQputCopyData(db, work, (int)c->len) != 1) {
                ok = false;
                break;
            }
            rows += c->rows;
        }
        if (PQputCopyEnd(db, ok ? NULL : "aborted") != 1)
            ok = false;
        while ((res = PQgetResult(db)) != NULL) {
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, "copybase: COPY failed: %s", PQerrorMessage(db));
                ok = false;
            }
            PQclear(res);
        }
        if (!ok) {
            w->errors++;
            break;
        }
        w->rows += rows;
        w->batches++;
    }
    free(work);
    PQfinish(db);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: copybase --dsn URL --signal logs|spans|metrics [--connections 2] [--duration 10]\n"
                    "                [--batch 20000] [--request-records 1000] [--bodies 16] [--seed 1]\n"
                    "                [--dump FILE]\n");
}

int main(int argc, char **argv)
{
    opt.signal = BG_LOGS;
    opt.connections = 2;
    opt.duration = 10;
    opt.batch = 20000;
    opt.request_records = 1000;
    opt.bodies = 16;
    opt.seed = 1;
    static const struct option lo[] = {
        { "dsn", 1, 0, 'd' },     { "signal", 1, 0, 's' },          { "connections", 1, 0, 'c' },
        { "duration", 1, 0, 't' }, { "batch", 1, 0, 'b' },          { "request-records", 1, 0, 'r' },
        { "bodies", 1, 0, 'B' },  { "seed", 1, 0, 'S' },            { "dump", 1, 0, 'D' },
        { "help", 0, 0, 'h' },    { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'd': opt.dsn = optarg; break;
        case 's': {
            int s = bg_signal_parse(optarg);
            if (s < 0) {
                usage();
                return 2;
            }
            opt.signal = (bg_signal_t)s;
            break;
        }
        case 'c': opt.connections = atoi(optarg); break;
        case 't': opt.duration = atof(optarg); break;
        case 'b': opt.batch = atoi(optarg); break;
        case 'r': opt.request_records = atoi(optarg); break;
        case 'B': opt.bodies = atoi(optarg); break;
        case 'S': opt.seed = strtoull(optarg, NULL, 10); break;
        case 'D': opt.dump = optarg; break;
        default: usage(); return ch == 'h' ? 0 : 2;
        }
    }
    if ((!opt.dsn && !opt.dump) || opt.connections < 1 || opt.connections > 64 || opt.batch < 1 ||
        opt.request_records < 1 || opt.request_records > 100000 || opt.bodies < 1 || opt.bodies > 1024 ||
        opt.duration <= 0) {
        usage();
        return 2;
    }
    if (build_chunks() != 0) {
        fprintf(stderr, "copybase: cannot render rows\n");
        return 1;
    }
    if (opt.dump) {
        FILE *f = fopen(opt.dump, "wb");
        if (!f || fwrite(chunks[0].text, 1, chunks[0].len, f) != chunks[0].len || fclose(f) != 0) {
            fprintf(stderr, "copybase: cannot write %s\n", opt.dump);
            return 1;
        }
        if (!opt.dsn)
            return 0;
    }
    worker_t *w = calloc((size_t)opt.connections, sizeof *w);
    if (!w)
        return 1;
    int64_t t0 = bg_mono_ns();
    deadline_ns = t0 + (int64_t)(opt.duration * 1e9);
    for (int i = 0; i < opt.connections; i++) {
        w[i].id = i;
        if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0)
            return 1;
    }
    long rows = 0, errors = 0, batches = 0;
    for (int i = 0; i < opt.connections; i++) {
        pthread_join(w[i].th, NULL);
        rows += w[i].rows;
        errors += w[i].errors;
        batches += w[i].batches;
    }
    double secs = (double)(bg_mono_ns() - t0) / 1e9;
    printf("copy %s: %ld rows in %.1f s over %d connections = %.0f rows/s (%ld COPYs of %d rows)\n",
           bg_signal_name(opt.signal), rows, secs, opt.connections, (double)rows / secs, batches, opt.batch);
    printf("RESULT signal=%s seconds=%.2f rows=%ld rows_per_s=%.0f connections=%d errors=%ld\n",
           bg_signal_name(opt.signal), secs, rows, (double)rows / secs, opt.connections, errors);
    free(w);
    return errors ? 1 : 0;
}
