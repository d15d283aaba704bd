/*
 * cold_gen.c — days of rotated data written directly as cold files, for the
 * cold query benchmark (bench/cold_query_bench.sh; docs/BENCHMARKS.md,
 * "Cold tier: queries").  Loading weeks of rows into PostgreSQL and
 * rotating them would take hours; this writes what rotation would have
 * written (docs/cold-store.md, "Files" and "Rotation"):
 *
 *   - per hour of DAYS days ending END_MS, one Parquet file per signal under
 *     otel/{logs,traces,metrics}/YYYY-MM-DD/{logs,spans,metrics}_{batch}.parquet,
 *     with the columns of lo_cold_layout() (lo_cold_pq_column: the schema is
 *     rotation's), rows in the layout's order, the codec and row group size
 *     of the settings (LOOKOUT_COLD_CODEC, LOOKOUT_COLD_ROW_GROUP_ROWS), put
 *     through the object store as rotation puts them;
 *   - a cold_files row per file (times, hour, rows, bytes, projects,
 *     services, sessions: NULL past rotation's limits);
 *   - the projects, and the metric_series rows of the series (the query
 *     API resolves series in the hot table).
 *
 * The values are bench/query_load.sql's, derived from the row number the
 * same way (services, levels, message templates, sessions s0..s99999 as
 * md5('s' || s)::uuid in projects md5('p' || s % 10)::uuid, users,
 * traces md5('t' || t) of 10 spans, series k named bench_metric_{k % (SERIES
 * / 100)} with labels {"host": "h{k / (SERIES / 100)}"}); the ids that only
 * need to look random (log ids after their time part, span ids, the hashes
 * in messages) come from XXH3 rather than md5, which is cheaper.  Row
 * numbers run on across the days, so every day holds other log ids and
 * other traces.
 *
 *   cold_gen DSN URL END_MS DAYS LOGS SPANS SERIES
 *
 * URL is the store (file:///dir or s3://...); END_MS the end of the last
 * hour (Unix ms, a whole hour); LOGS, SPANS (a multiple of 10) and SERIES (a
 * multiple of 100) are per day, 0 for none.  Prints a summary per signal
 * to stderr.
 */
#include <libpq-fe.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <xxhash.h>

#include "cold/layout.h"
#include "cold/objstore.h"
#include "cold/parquet.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/ids.h"

#define HOUR_US      (3600LL * 1000000)
#define DAY_US       (24 * HOUR_US)
#define BATCH_ROWS   16384
#define N_SESSIONS   100000
#define N_LOG_TRACES 100000 /* the traces logs name: md5('t' || (i / 2) % 100000) */
#define N_USERS      5000
#define N_PROJECTS   10
#define MAX_SESSIONS 10000 /* the catalog's sessions array: NULL past this (as src/cold/rotate.c) */
#define MAX_COLS     32

static const char *const SERVICES20[20] = { "api",    "web",      "auth",   "billing", "search",
                                            "cart",   "checkout", "email",  "notify",  "users",
                                            "orders", "stock",    "ship",   "pay",     "ledger",
                                            "report", "export",   "import", "gateway", "worker" };
static const char *const SERVICES5[5] = { "api", "web", "auth", "billing", "search" };

/* ---- ids ---- */

static char session_uuid[N_SESSIONS][37], user_uuid[N_USERS][37], project_uuid[N_PROJECTS][37];

/* md5(prefix || n) as PostgreSQL's md5() of the text gives it, raw. */
static void md5_of(const char *prefix, int64_t n, uint8_t out[16])
{
    char s[40];
    int len = snprintf(s, sizeof s, "%s%lld", prefix, (long long)n);
    unsigned int olen = 16;
    if (!EVP_Digest(s, (size_t)len, out, &olen, EVP_md5(), NULL)) {
        fprintf(stderr, "cold_gen: md5 failed\n");
        exit(1);
    }
}

static void md5_uuid(const char *prefix, int64_t n, char out[37])
{
    uint8_t d[16];
    md5_of(prefix, n, d);
    lo_uuid_format(d, out);
}

static void md5_hex(const char *prefix, int64_t n, char out[33])
{
    uint8_t d[16];
    md5_of(prefix, n, d);
    *lo_hex_put(out, d, 16) = '\0';
}

/* 32 hex digits that look random, from a row number and a seed. */
static void rand_hex32(int64_t i, uint64_t seed, char out[32])
{
    XXH128_hash_t h = XXH3_128bits_withSeed(&i, sizeof i, seed);
    uint8_t b[16];
    for (int k = 0; k < 8; k++) {
        b[k] = (uint8_t)(h.high64 >> (56 - 8 * k));
        b[8 + k] = (uint8_t)(h.low64 >> (56 - 8 * k));
    }
    lo_hex_put(out, b, 16);
}

/* A UUIDv7 of the row's millisecond, as ingest mints log ids and as
 * bench/logs_load.sql builds them: 12 hex digits of the time, '7', 19 more. */
static void log_id(int64_t i, int64_t t_us, char out[37])
{
    char hex[32], r[32];
    uint64_t ms = (uint64_t)(t_us / 1000);
    for (int k = 0; k < 12; k++)
        hex[k] = lo_hex_digits[(ms >> (44 - 4 * k)) & 15];
    hex[12] = '7';
    rand_hex32(i, 0x6c, r);
    memcpy(hex + 13, r, 19);
    static const int dash[4] = { 8, 12, 16, 20 };
    int o = 0, src = 0;
    for (int d = 0; d <= 4; d++) {
        int end = d < 4 ? dash[d] : 32;
        while (src < end)
            out[o++] = hex[src++];
        if (d < 4)
            out[o++] = '-';
    }
    out[36] = '\0';
}

static void random_bytes(uint8_t *b, size_t n)
{
    if (getrandom(b, n, 0) != (ssize_t)n) {
        fprintf(stderr, "cold_gen: getrandom failed\n");
        exit(1);
    }
}

/* ---- one batch of rows, column by column ---- */

typedef struct {
    int64_t i64[BATCH_ROWS];
    int32_t i32[BATCH_ROWS];
    double f64[BATCH_ROWS];
    uint8_t b[BATCH_ROWS];
    size_t off[BATCH_ROWS], len[BATCH_ROWS];
    lo_str_t s[BATCH_ROWS];
    uint8_t nulls[BATCH_ROWS];
} colbuf_t;

typedef struct {
    const lo_cold_layout_t *L;
    size_t n; /* rows in the batch */
    colbuf_t *col[MAX_COLS];
    lo_buf_t arena; /* the bytes of the batch's text values */
} batch_t;

/* A new row: every column null until set. */
static void row_begin(batch_t *b)
{
    for (size_t c = 0; c < b->L->n_cols; c++)
        b->col[c]->nulls[b->n] = 1;
}

static void put_i64(batch_t *b, int c, int64_t v)
{
    if (c < 0)
        return;
    b->col[c]->i64[b->n] = v;
    b->col[c]->nulls[b->n] = 0;
}

static void put_i32(batch_t *b, int c, int32_t v)
{
    if (c < 0)
        return;
    b->col[c]->i32[b->n] = v;
    b->col[c]->nulls[b->n] = 0;
}

static void put_f64(batch_t *b, int c, double v)
{
    if (c < 0)
        return;
    b->col[c]->f64[b->n] = v;
    b->col[c]->nulls[b->n] = 0;
}

static void put_bool(batch_t *b, int c, bool v)
{
    if (c < 0)
        return;
    b->col[c]->b[b->n] = v;
    b->col[c]->nulls[b->n] = 0;
}

static void put_str(batch_t *b, int c, const char *p, size_t n)
{
    if (c < 0)
        return;
    b->col[c]->off[b->n] = b->arena.len;
    b->col[c]->len[b->n] = n;
    b->col[c]->nulls[b->n] = 0;
    lo_buf_append(&b->arena, p, n);
}

static void put_cstr(batch_t *b, int c, const char *s)
{
    put_str(b, c, s, strlen(s));
}

static void put_fmt(batch_t *b, int c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put_fmt(batch_t *b, int c, const char *fmt, ...)
{
    char s[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    put_str(b, c, s, n < (int)sizeof s ? (size_t)n : sizeof s - 1);
}

/* ---- one file ---- */

typedef struct {
    const lo_cold_layout_t *L;
    lo_objstore_t *store;
    PGconn *db;
    const lo_config_t *cfg;
    /* the open file */
    lo_pq_writer_t *w;
    lo_buf_t bytes;
    int64_t t0, rows, min_us, max_us;
    bool projects[N_PROJECTS];
    bool services[20];
    uint8_t *sessions; /* N_SESSIONS flags */
    size_t n_sessions;
    /* totals of the signal */
    int64_t files, total_rows, total_bytes;
} file_t;

static int sink(void *ud, const void *p, size_t n)
{
    file_t *f = ud;
    return lo_buf_append(&f->bytes, p, n) == LO_OK ? LO_OK : LO_ERROR;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "cold_gen: %s: %s\n", what, why);
    exit(1);
}

static void file_open(file_t *f, int64_t t0)
{
    lo_pq_column_t cols[MAX_COLS];
    if (f->L->n_cols > MAX_COLS)
        die(f->L->dir, "too many columns");
    for (size_t i = 0; i < f->L->n_cols; i++)
        cols[i] = lo_cold_pq_column(&f->L->cols[i]);
    lo_pq_schema_t schema = { cols, f->L->n_cols };
    lo_pq_options_t opt;
    lo_pq_options_default(&opt);
    /* as src/cold/rotate.c sets them */
    opt.codec = strcmp(f->cfg->cold_codec, "zstd") == 0 ? LO_PQ_ZSTD : LO_PQ_SNAPPY;
    opt.row_group_rows = (size_t)f->cfg->cold_row_group_rows;
    opt.page_rows = f->L->page_rows;
    char err[256];
    lo_buf_reset(&f->bytes);
    if (!(f->w = lo_pq_writer_open(&schema, &opt, sink, f, err, sizeof err)))
        die("parquet", err);
    f->t0 = t0;
    f->rows = 0;
    f->min_us = INT64_MAX;
    f->max_us = INT64_MIN;
    memset(f->projects, 0, sizeof f->projects);
    memset(f->services, 0, sizeof f->services);
    memset(f->sessions, 0, N_SESSIONS);
    f->n_sessions = 0;
}

/* Writes the batch into the open file, ending row groups as they fill. */
static void file_write(file_t *f, batch_t *b)
{
    const lo_cold_layout_t *L = f->L;
    size_t off = 0;
    for (size_t c = 0; c < L->n_cols; c++) {
        colbuf_t *cb = b->col[c];
        for (size_t k = 0; k < b->n; k++) {
            if (cb->nulls[k] && !L->cols[c].optional)
                die(L->cols[c].name, "a required column without a value");
            if (L->cols[c].kind == LO_CK_STR || L->cols[c].kind == LO_CK_JSON)
                cb->s[k] = cb->nulls[k] ? LO_STR_NULL : lo_str(b->arena.p + cb->off[k], cb->len[k]);
        }
    }
    if (b->arena.err)
        die("batch", "out of memory");
    while (off < b->n) {
        size_t room = lo_pq_writer_room(f->w), k = b->n - off < room ? b->n - off : room;
        for (size_t c = 0; c < L->n_cols; c++) {
            colbuf_t *cb = b->col[c];
            const uint8_t *nulls = L->cols[c].optional ? cb->nulls + off : NULL;
            int rc = LO_ERROR;
            switch (L->cols[c].kind) {
            case LO_CK_TS:
            case LO_CK_I64: rc = lo_pq_write_i64(f->w, c, cb->i64 + off, nulls, k); break;
            case LO_CK_I32: rc = lo_pq_write_i32(f->w, c, cb->i32 + off, nulls, k); break;
            case LO_CK_F64: rc = lo_pq_write_f64(f->w, c, cb->f64 + off, nulls, k); break;
            case LO_CK_BOOL: rc = lo_pq_write_bool(f->w, c, cb->b + off, nulls, k); break;
            case LO_CK_STR:
            case LO_CK_JSON: rc = lo_pq_write_bytes(f->w, c, cb->s + off, nulls, k); break;
            }
            if (rc != LO_OK)
                die(L->cols[c].name, lo_pq_writer_error(f->w));
        }
        off += k;
        if (lo_pq_writer_room(f->w) == 0 && lo_pq_writer_end_row_group(f->w) != LO_OK)
            die("row group", lo_pq_writer_error(f->w));
    }
    const colbuf_t *tc = b->col[L->c_time];
    for (size_t k = 0; k < b->n; k++) {
        if (tc->i64[k] < f->min_us)
            f->min_us = tc->i64[k];
        if (tc->i64[k] > f->max_us)
            f->max_us = tc->i64[k];
    }
    f->rows += (int64_t)b->n;
    b->n = 0;
    lo_buf_reset(&b->arena);
}

/* {"a","b"} of the flagged names */
static void names_literal(lo_buf_t *o, const bool *on, const char *const *names, size_t n, bool is_uuid)
{
    lo_buf_putc(o, '{');
    bool first = true;
    for (size_t i = 0; i < n; i++)
        if (on[i]) {
            lo_buf_printf(o, "%s\"%s\"", first ? "" : ",", is_uuid ? project_uuid[i] : names[i]);
            first = false;
        }
    lo_buf_putc(o, '}');
    lo_buf_putc(o, '\0');
}

/* Ends the file: footer, put, catalog row (src/cold/rotate.c, catalog()). */
static void file_close(file_t *f)
{
    char err[512];
    if (lo_pq_writer_close(f->w) != LO_OK)
        die("parquet", lo_pq_writer_error(f->w));
    lo_pq_writer_destroy(f->w);
    f->w = NULL;
    if (f->bytes.err)
        die("file", "out of memory");
    if (f->rows == 0)
        return;
    uint8_t u[16];
    char batch[33], id[37], key[LO_OBJSTORE_KEY_MAX], day[11];
    random_bytes(u, 16);
    *lo_hex_put(batch, u, 16) = '\0';
    random_bytes(u, 16);
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    lo_uuid_format(u, id);
    time_t tt = (time_t)(f->t0 / 1000000);
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(key, sizeof key, "otel/%s/%s/%s_%s.parquet", f->L->dir, day, f->L->prefix, batch);
    if (lo_objstore_put(f->store, key, f->bytes.p, f->bytes.len, err, sizeof err) != LO_OK)
        die("put", err);

    lo_buf_t p, s, x;
    lo_buf_init(&p, 0);
    lo_buf_init(&s, 0);
    lo_buf_init(&x, 0);
    names_literal(&p, f->projects, NULL, N_PROJECTS, true);
    names_literal(&s, f->services, SERVICES20, 20, false);
    if (f->n_sessions <= MAX_SESSIONS) {
        lo_buf_putc(&x, '{');
        bool first = true;
        for (size_t i = 0; i < N_SESSIONS; i++)
            if (f->sessions[i]) {
                lo_buf_printf(&x, "%s%s", first ? "" : ",", session_uuid[i]);
                first = false;
            }
        lo_buf_putc(&x, '}');
        lo_buf_putc(&x, '\0');
    }
    char mn[24], mx[24], s0[24], s1[24], rows[24], bytes[24];
    snprintf(mn, sizeof mn, "%lld", (long long)f->min_us);
    snprintf(mx, sizeof mx, "%lld", (long long)f->max_us);
    snprintf(s0, sizeof s0, "%lld", (long long)f->t0);
    snprintf(s1, sizeof s1, "%lld", (long long)(f->t0 + HOUR_US));
    snprintf(rows, sizeof rows, "%lld", (long long)f->rows);
    snprintf(bytes, sizeof bytes, "%zu", f->bytes.len);
    const char *vals[13] = { id,
                             lo_signal_name(f->L->signal),
                             key,
                             mn,
                             mx,
                             s0,
                             s1,
                             rows,
                             bytes,
                             p.p,
                             "f",
                             s.p,
                             f->n_sessions <= MAX_SESSIONS ? x.p : NULL };
    PGresult *r = PQexecParams(
        f->db,
        "INSERT INTO cold_files (id, signal, key, min_time, max_time, slice_start, slice_end, rows, bytes, "
        "projects, has_null_project, services, sessions) VALUES ($1, $2, $3, lo_us_ts($4), lo_us_ts($5), "
        "lo_us_ts($6), lo_us_ts($7), $8, $9, $10, $11, $12, $13)",
        13, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("cold_files", PQresultErrorMessage(r));
    PQclear(r);
    lo_buf_free(&p);
    lo_buf_free(&s);
    lo_buf_free(&x);
    f->files++;
    f->total_rows += f->rows;
    f->total_bytes += (int64_t)f->bytes.len;
}

static void note(file_t *f, int project, int service, int session)
{
    if (project >= 0)
        f->projects[project] = true;
    f->services[service] = true;
    if (session >= 0 && !f->sessions[session]) {
        f->sessions[session] = 1;
        f->n_sessions++;
    }
}

/* ---- the signals ---- */

typedef struct {
    int id, timestamp, trace_id, span_id, project_id, session_id, service, level, message, attributes,
        observed_timestamp, user_id, severity_number, severity_text, resource, scope_name, scope_version,
        event_name, flags, dropped;
} log_cols_t;

/* The rows of one hour of logs: row numbers [i0, i0 + n), evenly in time. */
static void gen_logs(file_t *f, batch_t *b, const log_cols_t *c, int64_t h0, int64_t i0, int64_t n)
{
    static char trace_hex[N_LOG_TRACES][33];
    static bool traces_ready;
    if (!traces_ready) {
        for (int t = 0; t < N_LOG_TRACES; t++)
            md5_hex("t", t, trace_hex[t]);
        traces_ready = true;
    }
    file_open(f, h0);
    for (int64_t k = 0; k < n; k++) {
        int64_t i = i0 + k, t = h0 + k * HOUR_US / n;
        char buf[40];
        row_begin(b);
        put_i64(b, c->timestamp, t);
        log_id(i, t, buf);
        put_str(b, c->id, buf, 36);
        if (i % 2 == 0) {
            put_str(b, c->trace_id, trace_hex[(i / 2) % N_LOG_TRACES], 32);
            rand_hex32(i, 0x7370, buf);
            put_str(b, c->span_id, buf, 16);
        }
        int s = (int)(i % N_SESSIONS), p = s % N_PROJECTS, svc = (int)((i * 7) % 20);
        put_str(b, c->project_id, project_uuid[p], 36);
        put_str(b, c->session_id, session_uuid[s], 36);
        put_str(b, c->user_id, user_uuid[i % N_USERS], 36);
        put_cstr(b, c->service, SERVICES20[svc]);
        int lv = (int)((i / 20) % 100);
        put_cstr(b, c->level,
                 lv < 55   ? "info"
                 : lv < 80 ? "debug"
                 : lv < 92 ? "warn"
                 : lv < 98 ? "error"
                           : "trace");
        put_i32(b, c->severity_number, lv < 55 ? 9 : lv < 80 ? 5 : lv < 92 ? 13 : lv < 98 ? 17 : 1);
        char h[33];
        rand_hex32(i, 0x6d, h);
        h[32] = '\0';
        int m = (int)(i % 10);
        if (i % 100000 == 77)
            put_fmt(b, c->message, "xylophone calibration failed on %s", h);
        else if (m < 3)
            put_fmt(b, c->message, "request GET /api/v1/items/%d completed status=200 in %d ms",
                    (int)(i % 5000), (int)(i % 997));
        else if (m < 5)
            put_fmt(b, c->message, "cache miss for key %s", h);
        else if (m < 7)
            put_fmt(b, c->message, "user %d signed in from 10.%d.%d.7", s, (int)(i % 255),
                    (int)((i / 255) % 255));
        else if (m < 9)
            put_fmt(b, c->message, "job %s finished after %d retries", h, (int)(i % 60));
        else
            put_fmt(b, c->message, "connection pool exhausted, waiting %d ms", (int)(i % 100));
        /* as jsonb prints them: keys by length, then bytes */
        put_fmt(b, c->attributes, "{\"worker\": %d, \"http.status_code\": %d}", (int)(i % 16),
                200 + (int)(i % 5) * 100);
        put_fmt(b, c->resource, "{\"host.name\": \"node-%d\", \"service.name\": \"svc\"}", (int)(i % 8));
        put_i32(b, c->flags, 0);
        put_i32(b, c->dropped, 0);
        note(f, p, svc, s);
        if (++b->n == BATCH_ROWS)
            file_write(f, b);
    }
    if (b->n)
        file_write(f, b);
    file_close(f);
}

typedef struct {
    int trace_id, span_id, parent_span_id, start_time, end_time, duration_ns, project_id, session_id, service,
        name, kind, status_code, flags, attributes, events, links, dropped_attributes, dropped_events,
        dropped_links;
} span_cols_t;

/* The spans starting in [h0, h0 + 1 h) of day d: traces of 10 spans 2 ms
 * apart, traces evenly spread over the day (per_day traces). */
static void gen_spans(file_t *f, batch_t *b, const span_cols_t *c, int64_t day0, int64_t d, int64_t h0,
                      int64_t per_day)
{
    file_open(f, h0);
    /* the first trace of the day that starts at or after h0, less one: its
     * last spans may fall in this hour */
    int64_t q0 = ((h0 - day0) * per_day + DAY_US - 1) / DAY_US - 1;
    if (q0 < 0)
        q0 = 0;
    for (int64_t q = q0; q < per_day; q++) {
        int64_t ts = day0 + q * DAY_US / per_day;
        if (ts >= h0 + HOUR_US)
            break;
        int64_t ti = d * per_day + q; /* the trace's number over all days */
        char trace[33], root[33], buf[33];
        md5_hex("t", ti, trace);
        rand_hex32(ti * 10, 0x7370, root);
        int s = (int)(ti % N_SESSIONS), p = s % N_PROJECTS, svc = (int)(ti % 5);
        for (int r = 0; r < 10; r++) {
            int64_t i = ti * 10 + r, st = ts + r * 2000;
            if (st < h0 || st >= h0 + HOUR_US)
                continue;
            row_begin(b);
            put_str(b, c->trace_id, trace, 32);
            rand_hex32(i, 0x7370, buf);
            put_str(b, c->span_id, buf, 16);
            if (r > 0)
                put_str(b, c->parent_span_id, root, 16);
            put_i64(b, c->start_time, st);
            put_i64(b, c->end_time, st + (10 - r) * 5000);
            put_i64(b, c->duration_ns, (10 - r) * 5000000LL);
            put_str(b, c->project_id, project_uuid[p], 36);
            put_str(b, c->session_id, session_uuid[s], 36);
            put_cstr(b, c->service, SERVICES5[svc]);
            if (r == 0)
                put_cstr(b, c->name, "GET /api/v1/items");
            else
                put_fmt(b, c->name, "step %d", r);
            put_i32(b, c->kind, r == 0 ? 2 : 1);
            put_i32(b, c->status_code, i % 97 == 0 ? 2 : 0);
            put_i32(b, c->flags, 0);
            put_fmt(b, c->attributes, "{\"i\": %d, \"http.route\": \"/api/v1/items\"}", r);
            put_cstr(b, c->events, "[]");
            put_cstr(b, c->links, "[]");
            put_i32(b, c->dropped_attributes, 0);
            put_i32(b, c->dropped_events, 0);
            put_i32(b, c->dropped_links, 0);
            note(f, p, svc, s); /* SERVICES5 are SERVICES20's first five */
            if (++b->n == BATCH_ROWS)
                file_write(f, b);
        }
    }
    if (b->n)
        file_write(f, b);
    file_close(f);
}

typedef struct {
    int time, series_id, name, type, temporality, monotonic, unit, labels, resource_id, value, flags,
        project_id, service;
} metric_cols_t;

static int cmp_metric_name(const void *a, const void *b)
{
    char x[32], y[32];
    snprintf(x, sizeof x, "bench_metric_%lld", *(const long long *)a);
    snprintf(y, sizeof y, "bench_metric_%lld", *(const long long *)b);
    return strcmp(x, y);
}

/* One sample a minute of every series over [h0, h0 + 1 h), by metric name
 * (as bytes), series, then time, as the layout orders them; minute is the
 * number of h0's minute since the first hour. */
static void gen_metrics(file_t *f, batch_t *b, const metric_cols_t *c, int64_t h0, int64_t minute,
                        int64_t series)
{
    file_open(f, h0);
    long long names = series / 100, by_name[1000]; /* (at most 100,000 series) */
    for (long long i = 0; i < names; i++)
        by_name[i] = i;
    qsort(by_name, (size_t)names, sizeof by_name[0], cmp_metric_name);
    for (int64_t j = 0; j < series; j++) {
        int64_t k = by_name[j / 100] + (j % 100) * names; /* series k is named k % names */
        for (int m = 0; m < 60; m++) {
            row_begin(b);
            put_i64(b, c->time, h0 + m * 60000000LL);
            put_i64(b, c->series_id, k);
            put_fmt(b, c->name, "bench_metric_%lld", (long long)(k % names));
            put_i32(b, c->type, 1);
            put_i32(b, c->temporality, 0);
            put_bool(b, c->monotonic, false);
            put_cstr(b, c->unit, "ms");
            put_fmt(b, c->labels, "{\"host\": \"h%lld\"}", (long long)(k / names));
            put_cstr(b, c->resource_id, "{}");
            put_f64(b, c->value, (double)(k % 50) + sin((double)(minute + m) / 30.0) * 10);
            put_i32(b, c->flags, 0);
            put_str(b, c->project_id, project_uuid[k % N_PROJECTS], 36);
            put_cstr(b, c->service, "api");
            note(f, (int)(k % N_PROJECTS), 0, -1);
            if (++b->n == BATCH_ROWS)
                file_write(f, b);
        }
    }
    if (b->n)
        file_write(f, b);
    file_close(f);
}

/* ---- the hot side: projects and series ---- */

static void exec_sql(PGconn *db, const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(sql, PQresultErrorMessage(r));
    PQclear(r);
}

static int64_t arg_i64(const char *s, const char *what)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0)
        die(what, "not a count");
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: cold_gen DSN URL END_MS DAYS LOGS SPANS SERIES\n");
        return 2;
    }
    int64_t end_us = arg_i64(argv[3], "END_MS") * 1000, days = arg_i64(argv[4], "DAYS");
    int64_t logs = arg_i64(argv[5], "LOGS"), spans = arg_i64(argv[6], "SPANS"),
            series = arg_i64(argv[7], "SERIES");
    if (end_us % HOUR_US != 0)
        die("END_MS", "not a whole hour");
    if (spans % 10 != 0 || spans / 10 > DAY_US / 20000)
        die("SPANS", "must be a multiple of 10, and traces at least 20 ms apart (spans in time order)");
    if (series % 100 != 0 || series > 100000)
        die("SERIES", "must be a multiple of 100, at most 100,000");
    if (logs > 1000000000)
        die("LOGS", "at most 1,000,000,000 a day");

    lo_config_t cfg;
    char err[512];
    if (lo_config_defaults(&cfg) != LO_OK || lo_config_load_env(&cfg, err, sizeof err) != LO_OK)
        die("settings", err);
    PGconn *db = PQconnectdb(argv[1]);
    if (PQstatus(db) != CONNECTION_OK)
        die("database", PQerrorMessage(db));
    lo_objstore_t *store = lo_objstore_open(argv[2], err, sizeof err);
    if (!store)
        die("store", err);

    for (int i = 0; i < N_SESSIONS; i++)
        md5_uuid("s", i, session_uuid[i]);
    for (int i = 0; i < N_USERS; i++)
        md5_uuid("u", i, user_uuid[i]);
    for (int i = 0; i < N_PROJECTS; i++)
        md5_uuid("p", i, project_uuid[i]);

    exec_sql(db,
             "INSERT INTO projects (id, name, public) SELECT md5('p' || p)::uuid, 'bench-' || p, p = 9 "
             "FROM generate_series(0, 9) p ON CONFLICT DO NOTHING",
             0, NULL);
    if (series > 0)
        exec_sql(
            db,
            "INSERT INTO metric_series (series_id, project_id, service, name, type, temporality, monotonic, "
            "unit, labels) SELECT k, md5('p' || k % 10)::uuid, 'api', 'bench_metric_' || k % ($1::int8 / "
            "100), 1, 0, false, 'ms', jsonb_build_object('host', 'h' || k / ($1::int8 / 100)) "
            "FROM generate_series(0, $1::int8 - 1) k ON CONFLICT DO NOTHING",
            1, (const char *[]){ argv[7] });

    file_t files[LO_SIGNAL_COUNT];
    batch_t batch[LO_SIGNAL_COUNT];
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        memset(&files[s], 0, sizeof files[s]);
        files[s].L = lo_cold_layout((lo_signal_t)s);
        files[s].store = store;
        files[s].db = db;
        files[s].cfg = &cfg;
        files[s].sessions = calloc(N_SESSIONS, 1);
        lo_buf_init(&files[s].bytes, 0);
        memset(&batch[s], 0, sizeof batch[s]);
        batch[s].L = files[s].L;
        lo_buf_init(&batch[s].arena, 0);
        for (size_t c = 0; c < files[s].L->n_cols; c++)
            if (!(batch[s].col[c] = calloc(1, sizeof(colbuf_t))))
                die("batch", "out of memory");
        if (!files[s].sessions)
            die("batch", "out of memory");
    }
    const lo_cold_layout_t *LL = files[LO_SIGNAL_LOGS].L, *LS = files[LO_SIGNAL_SPANS].L,
                           *LM = files[LO_SIGNAL_METRICS].L;
    const log_cols_t lc = { lo_cold_col(LL, "id"),
                            lo_cold_col(LL, "timestamp"),
                            lo_cold_col(LL, "trace_id"),
                            lo_cold_col(LL, "span_id"),
                            lo_cold_col(LL, "project_id"),
                            lo_cold_col(LL, "session_id"),
                            lo_cold_col(LL, "service"),
                            lo_cold_col(LL, "level"),
                            lo_cold_col(LL, "message"),
                            lo_cold_col(LL, "attributes"),
                            lo_cold_col(LL, "observed_timestamp"),
                            lo_cold_col(LL, "user_id"),
                            lo_cold_col(LL, "severity_number"),
                            lo_cold_col(LL, "severity_text"),
                            lo_cold_col(LL, "resource"),
                            lo_cold_col(LL, "scope_name"),
                            lo_cold_col(LL, "scope_version"),
                            lo_cold_col(LL, "event_name"),
                            lo_cold_col(LL, "flags"),
                            lo_cold_col(LL, "dropped_attributes_count") };
    const span_cols_t sc = { lo_cold_col(LS, "trace_id"),
                             lo_cold_col(LS, "span_id"),
                             lo_cold_col(LS, "parent_span_id"),
                             lo_cold_col(LS, "start_time"),
                             lo_cold_col(LS, "end_time"),
                             lo_cold_col(LS, "duration_ns"),
                             lo_cold_col(LS, "project_id"),
                             lo_cold_col(LS, "session_id"),
                             lo_cold_col(LS, "service"),
                             lo_cold_col(LS, "name"),
                             lo_cold_col(LS, "kind"),
                             lo_cold_col(LS, "status_code"),
                             lo_cold_col(LS, "flags"),
                             lo_cold_col(LS, "attributes"),
                             lo_cold_col(LS, "events"),
                             lo_cold_col(LS, "links"),
                             lo_cold_col(LS, "dropped_attributes_count"),
                             lo_cold_col(LS, "dropped_events_count"),
                             lo_cold_col(LS, "dropped_links_count") };
    const metric_cols_t mc = { lo_cold_col(LM, "time"),        lo_cold_col(LM, "series_id"),
                               lo_cold_col(LM, "name"),        lo_cold_col(LM, "type"),
                               lo_cold_col(LM, "temporality"), lo_cold_col(LM, "monotonic"),
                               lo_cold_col(LM, "unit"),        lo_cold_col(LM, "labels"),
                               lo_cold_col(LM, "resource_id"), lo_cold_col(LM, "value"),
                               lo_cold_col(LM, "flags"),       lo_cold_col(LM, "project_id"),
                               lo_cold_col(LM, "service") };

    int64_t start_us = end_us - days * DAY_US, t_begin = lo_mono_ns();
    for (int64_t d = 0; d < days; d++) {
        int64_t day0 = start_us + d * DAY_US;
        for (int64_t h = 0; h < 24; h++) {
            int64_t h0 = day0 + h * HOUR_US;
            if (logs > 0) {
                int64_t a = logs * h / 24, z = logs * (h + 1) / 24;
                gen_logs(&files[LO_SIGNAL_LOGS], &batch[LO_SIGNAL_LOGS], &lc, h0, d * logs + a, z - a);
            }
            if (spans > 0)
                gen_spans(&files[LO_SIGNAL_SPANS], &batch[LO_SIGNAL_SPANS], &sc, day0, d, h0, spans / 10);
            if (series > 0)
                gen_metrics(&files[LO_SIGNAL_METRICS], &batch[LO_SIGNAL_METRICS], &mc, h0,
                            (h0 - start_us) / 60000000, series);
        }
        fprintf(stderr, "cold_gen: day %lld of %lld written (%.0f s)\n", (long long)d + 1, (long long)days,
                (double)(lo_mono_ns() - t_begin) / 1e9);
    }
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        file_t *f = &files[s];
        if (f->files)
            fprintf(stderr, "cold_gen: %s: %lld rows in %lld files, %.1f MB (%.1f B/row)\n",
                    lo_signal_name((lo_signal_t)s), (long long)f->total_rows, (long long)f->files,
                    (double)f->total_bytes / 1e6, (double)f->total_bytes / (double)f->total_rows);
        free(f->sessions);
        lo_buf_free(&f->bytes);
        lo_buf_free(&batch[s].arena);
        for (size_t c = 0; c < f->L->n_cols; c++)
            free(batch[s].col[c]);
    }
    exec_sql(db, "ANALYZE cold_files", 0, NULL);
    lo_objstore_close(store);
    PQfinish(db);
    lo_config_free(&cfg);
    return 0;
}
