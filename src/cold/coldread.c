/*
 * coldread.c — loading the cold rows a query may need into a temporary
 * table (coldread.h, docs/cold-store.md "Queries").
 *
 * Per object, newest first: footer → row groups kept by the time (and
 * service) statistics and the bloom filters of trace_id, session_id and
 * series_id → the filter columns, which decide the rows → the other
 * columns of those rows, as COPY text into the temporary table.  Each
 * object's rows go in under a savepoint, so an object whose rows the
 * database refuses fails alone.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cold/coldread.h"
#include "cold/layout.h"
#include "cold/objstore.h"
#include "cold/parquet.h"
#include "core/buf.h"

#define CACHE_BUCKETS    4096
#define COPY_FLUSH       (1u << 20)        /* bytes of COPY text sent at a time */
#define COPY_MAX         ((size_t)1 << 30) /* COPY text of one row group */
#define BATCH_BYTES      (4u << 20)        /* COPY text gathered across objects before it is sent */
#define BATCH_MAX        (32u << 20)       /* ... and past which it is sent within an object */
#define MAX_LOAD_ROWS    2000000           /* rows one load may copy (docs/cold-store.md) */
#define MAX_SERIES       100000            /* ids in a series filter */
#define MAX_BLOOM_PROBES 64                /* series ids probed in a bloom filter */
#define TEXT_STATS_MAX   64                /* text min/max this long may be truncated (the writer's) */

/* ---- a bounded LRU cache of byte ranges ---- */

typedef struct entry {
    struct entry *prev, *next; /* LRU list, newest first */
    struct entry *hnext;       /* hash chain */
    uint64_t hash;
    uint64_t off;
    size_t n;
    char *key;
    uint8_t *data;
} entry_t;

struct lo_cold_reader {
    lo_objstore_t *store;
    pthread_mutex_t mu;
    size_t cap, used;
    entry_t *buckets[CACHE_BUCKETS];
    entry_t *head, *tail;
};

static uint64_t range_hash(const char *key, uint64_t off, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    h = (h ^ off) * 1099511628211ULL;
    return (h ^ n) * 1099511628211ULL;
}

static size_t entry_cost(const entry_t *e)
{
    return sizeof *e + strlen(e->key) + 1 + e->n;
}

static void lru_unlink(lo_cold_reader_t *r, entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        r->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        r->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(lo_cold_reader_t *r, entry_t *e)
{
    e->next = r->head;
    e->prev = NULL;
    if (r->head)
        r->head->prev = e;
    r->head = e;
    if (!r->tail)
        r->tail = e;
}

static void entry_drop(lo_cold_reader_t *r, entry_t *e)
{
    entry_t **pp = &r->buckets[e->hash % CACHE_BUCKETS];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(r, e);
    r->used -= entry_cost(e);
    free(e->key);
    free(e->data);
    free(e);
}

static bool cache_get(lo_cold_reader_t *r, const char *key, uint64_t off, void *dst, size_t n)
{
    if (r->cap == 0)
        return false;
    uint64_t h = range_hash(key, off, n);
    bool hit = false;
    pthread_mutex_lock(&r->mu);
    for (entry_t *e = r->buckets[h % CACHE_BUCKETS]; e; e = e->hnext)
        if (e->hash == h && e->off == off && e->n == n && strcmp(e->key, key) == 0) {
            memcpy(dst, e->data, n);
            lru_unlink(r, e);
            lru_push(r, e);
            hit = true;
            break;
        }
    pthread_mutex_unlock(&r->mu);
    return hit;
}

static void cache_put(lo_cold_reader_t *r, const char *key, uint64_t off, const void *src, size_t n)
{
    if (n > r->cap / 4)
        return;
    entry_t *e = calloc(1, sizeof *e);
    if (!e)
        return;
    e->key = strdup(key);
    e->data = malloc(n ? n : 1);
    if (!e->key || !e->data) {
        free(e->key);
        free(e->data);
        free(e);
        return;
    }
    memcpy(e->data, src, n);
    e->off = off;
    e->n = n;
    e->hash = range_hash(key, off, n);
    pthread_mutex_lock(&r->mu);
    bool dup = false;
    for (entry_t *o = r->buckets[e->hash % CACHE_BUCKETS]; o; o = o->hnext)
        dup |= o->hash == e->hash && o->off == off && o->n == n && strcmp(o->key, key) == 0;
    if (!dup) {
        e->hnext = r->buckets[e->hash % CACHE_BUCKETS];
        r->buckets[e->hash % CACHE_BUCKETS] = e;
        lru_push(r, e);
        r->used += entry_cost(e);
        while (r->used > r->cap && r->tail && r->tail != e)
            entry_drop(r, r->tail);
    }
    pthread_mutex_unlock(&r->mu);
    if (dup) {
        free(e->key);
        free(e->data);
        free(e);
    }
}

lo_cold_reader_t *lo_cold_reader_create(const lo_config_t *cfg, char *err, size_t errlen)
{
    err[0] = '\0';
    if (cfg->cold_url == NULL || cfg->cold_url[0] == '\0')
        return NULL;
    lo_cold_reader_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->store = lo_objstore_open(cfg->cold_url, err, errlen);
    if (!r->store) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->cap = (size_t)cfg->cold_cache_mb << 20;
    return r;
}

void lo_cold_reader_destroy(lo_cold_reader_t *r)
{
    if (!r)
        return;
    while (r->head)
        entry_drop(r, r->head);
    pthread_mutex_destroy(&r->mu);
    lo_objstore_close(r->store);
    free(r);
}

/* ---- reading an object ---- */

typedef struct {
    lo_cold_reader_t *r;
    const char *key;
    lo_buf_t buf;
    char err[256];
} source_t;

static int read_at(void *ud, uint64_t off, void *dst, size_t n)
{
    source_t *s = ud;
    if (n == 0 || cache_get(s->r, s->key, off, dst, n))
        return LO_OK;
    int rc = lo_objstore_read_exact(s->r->store, s->key, off, dst, n, &s->buf, s->err, sizeof s->err);
    if (rc != LO_OK)
        return rc;
    cache_put(s->r, s->key, off, dst, n);
    return LO_OK;
}

/* ---- the temporary tables ---- */

static const char *const TEMP[LO_SIGNAL_COUNT] = {
    [LO_SIGNAL_LOGS] = "lo_cold_log_entries",
    [LO_SIGNAL_SPANS] = "lo_cold_spans",
    [LO_SIGNAL_METRICS] = "lo_cold_metric_samples",
};

const char *lo_cold_temp_table(lo_signal_t s)
{
    return (int)s >= 0 && s < LO_SIGNAL_COUNT ? TEMP[s] : NULL;
}

static int db_fail(PGconn *db, PGresult *res, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(db));
    err[strcspn(err, "\n")] = '\0';
    PQclear(res);
    return PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
}

static int run(PGconn *db, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(db, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return db_fail(db, res, sql, err, errlen);
    PQclear(res);
    return LO_OK;
}

static int ensure_temp(PGconn *db, const lo_cold_layout_t *L, char *err, size_t errlen)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "DO $$BEGIN IF to_regclass('pg_temp.%s') IS NULL THEN CREATE TEMP TABLE %s (LIKE %s INCLUDING "
             "DEFAULTS) ON COMMIT DELETE ROWS; END IF; END$$",
             TEMP[L->signal], TEMP[L->signal], L->table);
    return run(db, sql, err, errlen);
}

/* ---- one load ---- */

typedef struct {
    lo_cold_reader_t *r;
    PGconn *db;
    const lo_cold_layout_t *L;
    const lo_cold_filter_t *f;
    lo_cold_report_t *rep;
    int64_t *series; /* sorted */
    size_t n_series;
    int64_t *heap; /* times of the newest exact matches (a min-heap), when only those are needed */
    size_t heap_n, heap_cap;
    lo_buf_t copy;       /* COPY text not sent yet */
    bool careful;        /* each object's rows under a savepoint, sent per row group; else in
                          * batches across objects (a refusal restarts the load carefully) */
    size_t obj_start;    /* batches: where the current object's COPY text starts */
    bool obj_sent;       /* batches: some of the current object's rows were sent */
    bool savepoint;      /* the current object's savepoint is open */
    int64_t object_rows; /* rows of the current object sent */
    int64_t *obj_times;  /* times of the current object's exact matches: into heap once it is in */
    size_t obj_n, obj_cap;
    bool q_exact;             /* q is ASCII: the reader decides it exactly for ASCII text */
    const char *copy_sql;     /* COPY ... FROM STDIN */
    lo_pq_scratch_t *scratch; /* decoding buffers, from one object to the next */
    char *err;
    size_t errlen;
} load_t;

static void heap_push(load_t *ld, int64_t t)
{
    if (ld->heap_cap == 0)
        return;
    int64_t *h = ld->heap;
    if (ld->heap_n == ld->heap_cap) {
        if (t <= h[0])
            return;
        h[0] = t; /* replace the smallest, sift down */
        for (size_t i = 0;;) {
            size_t l = 2 * i + 1, m = i;
            if (l < ld->heap_n && h[l] < h[m])
                m = l;
            if (l + 1 < ld->heap_n && h[l + 1] < h[m])
                m = l + 1;
            if (m == i)
                break;
            int64_t x = h[i];
            h[i] = h[m], h[m] = x, i = m;
        }
        return;
    }
    size_t i = ld->heap_n++;
    h[i] = t;
    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        int64_t x = h[i];
        h[i] = h[(i - 1) / 2], h[(i - 1) / 2] = x, i = (i - 1) / 2;
    }
}

/* Rows older than this cannot be among the newest wanted (INT64_MIN: any
 * may be). */
static int64_t heap_floor(const load_t *ld)
{
    return ld->heap_cap && ld->heap_n == ld->heap_cap ? ld->heap[0] : INT64_MIN;
}

static int obj_time(load_t *ld, int64_t t)
{
    if (ld->heap_cap == 0)
        return LO_OK;
    if (ld->obj_n == ld->obj_cap) {
        size_t cap = ld->obj_cap ? 2 * ld->obj_cap : 1024;
        int64_t *p = realloc(ld->obj_times, cap * sizeof *p);
        if (!p)
            return LO_ERROR;
        ld->obj_times = p;
        ld->obj_cap = cap;
    }
    ld->obj_times[ld->obj_n++] = t;
    return LO_OK;
}

/* Parses "{1,2,3}" into a sorted array. */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int parse_series(load_t *ld, const char *lit)
{
    size_t cap = 1;
    for (const char *p = lit; *p; p++)
        cap += *p == ',';
    if (cap > MAX_SERIES) {
        snprintf(ld->err, ld->errlen, "too many series for the cold tier (at most %d)", MAX_SERIES);
        return LO_INVALID;
    }
    ld->series = malloc(cap * sizeof(int64_t));
    if (!ld->series)
        return LO_ERROR;
    for (const char *p = lit; *p;) {
        if (*p == '{' || *p == ',' || *p == '}' || *p == ' ') {
            p++;
            continue;
        }
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            snprintf(ld->err, ld->errlen, "series filter is not a list of ids");
            return LO_INVALID;
        }
        ld->series[ld->n_series++] = v;
        p = end;
    }
    qsort(ld->series, ld->n_series, sizeof(int64_t), cmp_i64);
    return LO_OK;
}

/* Whether some of the n sorted ids lies in [lo, hi]. */
static bool any_id_in(const int64_t *ids, size_t n, int64_t lo, int64_t hi)
{
    size_t a = 0, b = n;
    while (a < b) { /* the first id >= lo */
        size_t m = a + (b - a) / 2;
        if (ids[m] < lo)
            a = m + 1;
        else
            b = m;
    }
    return a < n && ids[a] <= hi;
}

static bool has_series(const load_t *ld, int64_t id)
{
    return bsearch(&id, ld->series, ld->n_series, sizeof(int64_t), cmp_i64) != NULL;
}

static int64_t le64(const char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | (uint8_t)p[i];
    return (int64_t)v;
}

static int cmp_bytes(lo_str_t a, const char *b)
{
    size_t bn = strlen(b), n = a.len < bn ? a.len : bn;
    int c = n ? memcmp(a.p, b, n) : 0;
    return c ? c : (a.len > bn) - (a.len < bn);
}

/* ---- COPY text ---- */

static void put_escaped(lo_buf_t *b, const char *p, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i], e = 0;
        switch (c) {
        case '\\': e = '\\'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        case '\t': e = 't'; break;
        default: break;
        }
        if (!e)
            continue;
        lo_buf_append(b, p + run, i - run);
        lo_buf_putc(b, '\\');
        lo_buf_putc(b, e);
        run = i + 1;
    }
    lo_buf_append(b, p + run, n - run);
}

static void put_time(lo_buf_t *b, int64_t us)
{
    int64_t s = us / 1000000, frac = us % 1000000;
    if (frac < 0)
        frac += 1000000, s--;
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    lo_buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
}

static bool is_hex(lo_str_t s)
{
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static bool is_uuid(lo_str_t s)
{
    if (s.len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s.p[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* Appends value k of v as COPY text of a column of kind c; false when the
 * value cannot be what the column says (a corrupt object). */
static bool put_value(lo_buf_t *b, const lo_cold_col_t *c, const lo_pq_values_t *v, size_t k)
{
    if (v == NULL || (v->nulls && v->nulls[k])) {
        lo_buf_puts(b, "\\N");
        return c->optional;
    }
    switch (c->kind) {
    case LO_CK_TS: put_time(b, v->v.i64[k]); return true;
    case LO_CK_I64: lo_buf_printf(b, "%lld", (long long)v->v.i64[k]); return true;
    case LO_CK_I32: lo_buf_printf(b, "%d", v->v.i32[k]); return true;
    case LO_CK_BOOL: lo_buf_putc(b, v->v.b[k] ? 't' : 'f'); return true;
    case LO_CK_F64: {
        double d = v->v.f64[k];
        if (isnan(d))
            lo_buf_puts(b, "NaN");
        else if (isinf(d))
            lo_buf_puts(b, d > 0 ? "Infinity" : "-Infinity");
        else
            lo_buf_printf(b, "%.17g", d);
        return true;
    }
    case LO_CK_STR:
    case LO_CK_JSON: {
        lo_str_t s = v->v.s[k];
        if (memchr(s.p, '\0', s.len))
            return false;
        if (c->kind == LO_CK_STR && c->text == LO_CT_UUID && !is_uuid(s))
            return false;
        if (c->kind == LO_CK_STR && c->text == LO_CT_HEX) {
            if (s.len % 2 || !is_hex(s))
                return false;
            lo_buf_puts(b, "\\\\x");
        }
        put_escaped(b, s.p, s.len);
        return true;
    }
    }
    return false;
}

/* Sends the COPY text gathered: carefully, one row group's (the object's
 * savepoint opened first); in batches, what several objects gathered.
 * COPY is open only while this runs, never across reads of the object
 * store.  LO_OK; LO_INVALID when the database refuses the rows (message in
 * why), or in batches LO_DECLINED (the load starts again, carefully);
 * LO_UNAVAIL or LO_ERROR (ld->err) otherwise. */
static int copy_send(load_t *ld, char *why, size_t whylen)
{
    if (ld->copy.len == 0)
        return LO_OK;
    if (ld->copy.err) {
        snprintf(ld->err, ld->errlen, "out of memory");
        return LO_ERROR;
    }
    int rc;
    if (ld->careful && !ld->savepoint) {
        if ((rc = run(ld->db, "SAVEPOINT lo_cold", ld->err, ld->errlen)) != LO_OK)
            return rc;
        ld->savepoint = true;
    }
    PGresult *res = PQexec(ld->db, ld->copy_sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        return db_fail(ld->db, res, "COPY", ld->err, ld->errlen);
    PQclear(res);
    for (size_t off = 0; off < ld->copy.len; off += COPY_FLUSH) {
        size_t n = ld->copy.len - off < COPY_FLUSH ? ld->copy.len - off : COPY_FLUSH;
        if (PQputCopyData(ld->db, ld->copy.p + off, (int)n) != 1)
            return db_fail(ld->db, NULL, "COPY", ld->err, ld->errlen);
    }
    lo_buf_reset(&ld->copy);
    if (PQputCopyEnd(ld->db, NULL) != 1)
        return db_fail(ld->db, NULL, "COPY", ld->err, ld->errlen);
    res = PQgetResult(ld->db);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
        snprintf(why, whylen, "the database refused its rows: %s", PQresultErrorMessage(res));
        why[strcspn(why, "\n")] = '\0';
    }
    PQclear(res);
    while ((res = PQgetResult(ld->db)) != NULL)
        PQclear(res);
    if (PQstatus(ld->db) != CONNECTION_OK)
        return db_fail(ld->db, NULL, "COPY", ld->err, ld->errlen);
    return ok ? LO_OK : ld->careful ? LO_INVALID : LO_DECLINED;
}

/* After a row group's rows: sent now when careful, else once a batch is
 * big enough (within an object only past BATCH_MAX). */
static int copy_flush(load_t *ld, char *why, size_t whylen)
{
    if (!ld->careful && ld->copy.len < BATCH_MAX)
        return LO_OK;
    if (!ld->careful)
        ld->obj_sent = true;
    int rc = copy_send(ld, why, whylen);
    ld->obj_start = 0;
    return rc;
}

/* ---- filters ---- */

typedef struct {
    const lo_pq_file_t *pf;
    int *field; /* per layout column: its field in the file, or -1 */
    lo_pq_values_t *vals;
    bool *have;
    size_t rg;
    size_t lo, hi; /* the rows of the row group that may match (the page indexes' say) */
    size_t *from;  /* per layout column: the row its values start at (vals[col] is [from, ...)) */
    char err[256];
} group_t;

/* The values of layout column col for rows [from, to) of the group, or for
 * those it already has (g->from[col] says where they start); NULL when the
 * file has no such column or the chunk is null in every row. */
static int need_rows(group_t *g, lo_pq_file_t *pf, size_t col, size_t from, size_t to,
                     const lo_pq_values_t **out)
{
    *out = NULL;
    if (g->field[col] < 0)
        return LO_OK;
    const lo_pq_chunk_t *ch = &pf->row_groups[g->rg].columns[g->field[col]];
    if (ch->stats.has_null_count && ch->stats.null_count == ch->num_values &&
        ch->num_values == pf->row_groups[g->rg].num_rows)
        return LO_OK;
    if (!g->have[col]) {
        int rc =
            lo_pq_read_rows(pf, g->rg, (size_t)g->field[col], from, to, &g->vals[col], g->err, sizeof g->err);
        if (rc != LO_OK)
            return LO_INVALID; /* the object's failure: a corrupt or unreadable chunk */
        g->have[col] = true;
        g->from[col] = from;
    }
    *out = &g->vals[col];
    return LO_OK;
}

/* need_rows for the rows the filters look at, [g->lo, g->hi). */
static int need_col(group_t *g, lo_pq_file_t *pf, size_t col, const lo_pq_values_t **out)
{
    return need_rows(g, pf, col, g->lo, g->hi, out);
}

static bool str_is(const lo_pq_values_t *v, size_t k, const char *want)
{
    if (v == NULL || (v->nulls && v->nulls[k]))
        return false;
    return cmp_bytes(v->v.s[k], want) == 0;
}

/* Case-insensitive ASCII search; *exact false when the text is not ASCII
 * (then the row is kept and the query decides). */
static bool ci_contains(lo_str_t s, const char *q, size_t qn, bool *exact)
{
    for (size_t i = 0; i < s.len; i++)
        if ((uint8_t)s.p[i] >= 0x80) {
            *exact = false;
            return true;
        }
    if (qn == 0)
        return true;
    for (size_t i = 0; i + qn <= s.len; i++) {
        size_t j = 0;
        while (j < qn) {
            char a = s.p[i + j], b = q[j];
            if (a >= 'A' && a <= 'Z')
                a = (char)(a - 'A' + 'a');
            if (b >= 'A' && b <= 'Z')
                b = (char)(b - 'A' + 'a');
            if (a != b)
                break;
            j++;
        }
        if (j == qn)
            return true;
    }
    return false;
}

/* Whether the statistics and bloom filters of row group rg exclude it. */
static bool group_excluded(load_t *ld, lo_pq_file_t *pf, group_t *g)
{
    const lo_cold_layout_t *L = ld->L;
    const lo_cold_filter_t *f = ld->f;
    const lo_pq_row_group_t *rg = &pf->row_groups[g->rg];
    int tf = g->field[L->c_time];
    if (tf >= 0) {
        const lo_pq_stats_t *st = &rg->columns[tf].stats;
        /* past the range, or older than the newest matches already found */
        if (st->has_min_max && st->min.len == 8 && st->max.len == 8 &&
            (le64(st->max.p) < f->from_us || le64(st->min.p) >= f->to_us || le64(st->max.p) < heap_floor(ld)))
            return true;
    }
    /* (a max truncated by the writer is a prefix of the largest value: no
     * upper bound) */
    int sf = g->field[L->c_service];
    if (f->service && sf >= 0) {
        const lo_pq_stats_t *st = &rg->columns[sf].stats;
        if (st->has_min_max && !st->legacy &&
            (cmp_bytes(st->min, f->service) > 0 || (st->max_exact && cmp_bytes(st->max, f->service) < 0)))
            return true;
    }
    int nc = lo_cold_col(L, "name");
    if (f->metric && nc >= 0 && g->field[nc] >= 0) {
        const lo_pq_stats_t *st = &rg->columns[g->field[nc]].stats;
        if (st->has_min_max && !st->legacy &&
            (cmp_bytes(st->min, f->metric) > 0 || (st->max_exact && cmp_bytes(st->max, f->metric) < 0)))
            return true;
    }
    struct {
        const char *name, *value;
    } probes[] = { { "trace_id", f->trace }, { "session_id", f->session } };
    for (size_t i = 0; i < LO_ARRAY_LEN(probes); i++) {
        int c = lo_cold_col(L, probes[i].name);
        bool maybe = true;
        if (probes[i].value && c >= 0 && L->cols[c].bloom && g->field[c] >= 0 &&
            lo_pq_bloom_check(pf, g->rg, (size_t)g->field[c], probes[i].value, strlen(probes[i].value),
                              &maybe, g->err, sizeof g->err) == LO_OK &&
            !maybe)
            return true;
    }
    int sc = lo_cold_col(L, "series_id");
    if (ld->series && sc >= 0 && g->field[sc] >= 0) {
        /* files are sorted by name and series: a row group holds a range of them */
        const lo_pq_stats_t *st = &rg->columns[g->field[sc]].stats;
        if (st->has_min_max && st->min.len == 8 && st->max.len == 8 &&
            !any_id_in(ld->series, ld->n_series, le64(st->min.p), le64(st->max.p)))
            return true;
    }
    if (ld->series && sc >= 0 && g->field[sc] >= 0 && ld->n_series <= MAX_BLOOM_PROBES) {
        bool any = false;
        for (size_t i = 0; i < ld->n_series && !any; i++) {
            uint8_t le[8];
            uint64_t v = (uint64_t)ld->series[i];
            for (int b = 0; b < 8; b++)
                le[b] = (uint8_t)(v >> (8 * b));
            bool maybe = true;
            if (lo_pq_bloom_check(pf, g->rg, (size_t)g->field[sc], le, 8, &maybe, g->err, sizeof g->err) !=
                LO_OK)
                maybe = true;
            any = maybe;
        }
        if (!any) {
            g->err[0] = '\0';
            return true;
        }
    }
    g->err[0] = '\0'; /* a bloom filter that could not be read only prunes nothing */
    return false;
}

/* What a page of a column may hold, by its min and max (PLAIN values):
 * 1 may match, 0 cannot, -1 the index is not of the column's kind. */
typedef struct {
    int64_t lo, hi;     /* INT64: a value in [lo, hi] */
    const int64_t *ids; /* ... and one of these (sorted), when set */
    size_t n_ids;
    const char *text; /* text: this value */
} page_want_t;

static int page_may(const page_want_t *w, lo_str_t min, lo_str_t max)
{
    if (w->text) /* a max the writer truncated (as long as its limit) bounds nothing */
        return cmp_bytes(min, w->text) <= 0 && (max.len >= TEXT_STATS_MAX || cmp_bytes(max, w->text) >= 0);
    if (min.len != 8 || max.len != 8)
        return -1;
    int64_t mn = le64(min.p), mx = le64(max.p);
    if (mx < w->lo || mn > w->hi)
        return 0;
    return !w->ids || any_id_in(w->ids, w->n_ids, mn, mx);
}

/* Narrows [g->lo, g->hi) to the pages of layout column col whose min/max
 * may hold what w wants: the rows between the first and the last such
 * page.  A column without a column index narrows nothing. */
static void narrow_by_pages(lo_pq_file_t *pf, group_t *g, int col, const page_want_t *w)
{
    if (col < 0 || g->field[col] < 0)
        return;
    lo_pq_page_index_t pi;
    char err[128];
    if (lo_pq_read_page_index(pf, g->rg, (size_t)g->field[col], &pi, err, sizeof err) != LO_OK)
        return;
    size_t rows = (size_t)pf->row_groups[g->rg].num_rows, first = rows, end = 0;
    bool usable = pi.has_column_index;
    for (size_t i = 0; usable && i < pi.n_pages; i++) {
        size_t r0 = (size_t)pi.pages[i].first_row;
        size_t r1 = i + 1 < pi.n_pages ? (size_t)pi.pages[i + 1].first_row : rows;
        if (pi.pages[i].first_row < 0 || r0 > r1 || r1 > rows) {
            usable = false;
            break;
        }
        if (pi.null_pages[i])
            continue;
        int may = page_may(w, pi.min[i], pi.max[i]);
        usable = may >= 0;
        if (may > 0) {
            first = r0 < first ? r0 : first;
            end = r1 > end ? r1 : end;
        }
    }
    lo_pq_page_index_free(&pi);
    if (!usable)
        return;
    if (first >= end) { /* no page may match */
        g->hi = g->lo;
        return;
    }
    g->lo = first > g->lo ? first : g->lo;
    g->hi = end < g->hi ? end : g->hi;
    if (g->hi < g->lo)
        g->hi = g->lo;
}

/* Decides the rows of the row group (keep[k]), reading only the filter
 * columns.  LO_OK with *n_keep set, or a read error. */
static int filter_group(load_t *ld, lo_pq_file_t *pf, group_t *g, uint8_t *keep, uint8_t *exact, size_t n,
                        size_t *n_keep)
{
    const lo_cold_layout_t *L = ld->L;
    const lo_cold_filter_t *f = ld->f;
    const lo_pq_values_t *v;
    memset(keep, 1, n);
    memset(exact, 1, n);
    size_t left = n;
#define NEED(col)                             \
    do {                                      \
        int rc_ = need_col(g, pf, (col), &v); \
        if (rc_ != LO_OK)                     \
            return rc_;                       \
    } while (0)
#define DROP_IF(cond)              \
    for (size_t k = 0; k < n; k++) \
        if (keep[k] && (cond))     \
            keep[k] = 0, left--;

    NEED(L->c_time);
    if (!v) {
        snprintf(g->err, sizeof g->err, "no column %s", L->cols[L->c_time].name);
        return LO_INVALID;
    }
    int64_t floor = heap_floor(ld);
    DROP_IF(v->v.i64[k] < f->from_us || v->v.i64[k] >= f->to_us || v->v.i64[k] < floor);
    if (left && f->projects) {
        NEED(L->c_project);
        DROP_IF(v == NULL || (v->nulls && v->nulls[k]) || v->v.s[k].len != 36 ||
                !memmem(f->projects, strlen(f->projects), v->v.s[k].p, 36));
    }
    if (left && f->service) {
        NEED(L->c_service);
        DROP_IF(!str_is(v, k, f->service));
    }
    if (left && f->session) {
        NEED(L->c_session);
        DROP_IF(!str_is(v, k, f->session));
    }
    int c;
    if (left && f->trace && (c = lo_cold_col(L, "trace_id")) >= 0) {
        NEED((size_t)c);
        DROP_IF(!str_is(v, k, f->trace));
    }
    if (left && f->levels && (c = lo_cold_col(L, "level")) >= 0) {
        NEED((size_t)c);
        for (size_t k = 0; k < n; k++) {
            if (!keep[k])
                continue;
            char word[70];
            lo_str_t s = v && !(v->nulls && v->nulls[k]) ? v->v.s[k] : LO_STR_NULL;
            bool ok = s.len <= 64 && memchr(s.p ? s.p : "", '"', s.len) == NULL;
            if (ok) {
                int wn = snprintf(word, sizeof word, "\"%.*s\"", (int)s.len, s.p ? s.p : "");
                ok = memmem(f->levels, strlen(f->levels), word, (size_t)wn) != NULL;
            }
            if (!ok)
                keep[k] = 0, left--;
        }
    }
    if (left && ld->series && (c = lo_cold_col(L, "series_id")) >= 0) {
        NEED((size_t)c);
        /* files are sorted by series: one lookup per run of an id */
        int64_t last = 0;
        bool last_in = false, have_last = false;
        for (size_t k = 0; k < n; k++) {
            if (!keep[k])
                continue;
            if (v == NULL) {
                keep[k] = 0, left--;
                continue;
            }
            int64_t id = v->v.i64[k];
            if (!have_last || id != last) {
                last = id, have_last = true;
                last_in = has_series(ld, id);
            }
            if (!last_in)
                keep[k] = 0, left--;
        }
    }
    if (left && f->q && !ld->q_exact) {
        /* case folding beyond ASCII is the database's (its locale): it decides */
        memset(exact, 0, n);
    } else if (left && f->q && (c = lo_cold_col(L, "message")) >= 0) {
        NEED((size_t)c);
        size_t qn = strlen(f->q);
        for (size_t k = 0; k < n; k++) {
            bool ex = true;
            if (keep[k] && !ci_contains(v->v.s[k], f->q, qn, &ex))
                keep[k] = 0, left--;
            exact[k] = ex;
        }
    }
#undef NEED
#undef DROP_IF
    *n_keep = left;
    return LO_OK;
}

/* Copies the kept rows of the row group (keep[k] for row g->lo + k): the
 * columns not read by the filters only for the rows from the first kept to
 * the last (the pages that hold them). */
static int copy_group(load_t *ld, lo_pq_file_t *pf, group_t *g, const uint8_t *keep, const uint8_t *exact,
                      size_t n)
{
    const lo_cold_layout_t *L = ld->L;
    const lo_pq_values_t *cols[64] = { 0 };
    size_t first = 0, last = n;
    while (first < n && !keep[first])
        first++;
    while (last > first && !keep[last - 1])
        last--;
    if (first == last)
        return LO_OK;
    for (size_t i = 0; i < L->n_cols && i < 64; i++) {
        if (strncmp(L->cols[i].sql, "t.", 2) != 0)
            continue;
        int rc = need_rows(g, pf, i, g->lo + first, g->lo + last, &cols[i]);
        if (rc != LO_OK)
            return rc;
        /* rows [g->lo + first, g->lo + last) must be among those read */
        if (cols[i] && (g->from[i] > g->lo + first || g->from[i] + cols[i]->n < g->lo + last)) {
            snprintf(g->err, sizeof g->err, "column %s has too few values for its row group",
                     L->cols[i].name);
            return LO_INVALID;
        }
    }
    const lo_pq_values_t *tv = cols[L->c_time];
    for (size_t k = first; k < last; k++) {
        if (!keep[k])
            continue;
        if (ld->rep->rows + ld->object_rows >= MAX_LOAD_ROWS) {
            snprintf(ld->err, ld->errlen,
                     "the range holds more than %d matching rows in the cold tier; narrow from/to or add "
                     "filters",
                     MAX_LOAD_ROWS);
            return LO_TOO_LARGE;
        }
        bool sep = false;
        for (size_t i = 0; i < L->n_cols; i++) {
            if (strncmp(L->cols[i].sql, "t.", 2) != 0)
                continue;
            if (sep)
                lo_buf_putc(&ld->copy, '\t');
            sep = true;
            if (!put_value(&ld->copy, &L->cols[i], cols[i], cols[i] ? g->lo + k - g->from[i] : 0)) {
                snprintf(g->err, sizeof g->err, "column %s holds a value its type cannot", L->cols[i].name);
                return LO_INVALID;
            }
        }
        lo_buf_putc(&ld->copy, '\n');
        ld->object_rows++;
        if (exact[k] && tv && obj_time(ld, tv->v.i64[g->lo + k - g->from[L->c_time]]) != LO_OK) {
            snprintf(ld->err, ld->errlen, "out of memory");
            return LO_ERROR;
        }
    }
    return copy_flush(ld, g->err, sizeof g->err);
}

static void group_free(group_t *g, size_t ncols)
{
    for (size_t i = 0; i < ncols; i++)
        if (g->have[i]) {
            lo_pq_values_free(&g->vals[i]);
            g->have[i] = false;
        }
}

static void report_failure(load_t *ld, const char *key, const char *why)
{
    lo_cold_report_t *rep = ld->rep;
    if (rep->n_failed < LO_COLD_MAX_FAILED) {
        snprintf(rep->failed[rep->n_failed].key, sizeof rep->failed[0].key, "%s", key);
        snprintf(rep->failed[rep->n_failed].error, sizeof rep->failed[0].error, "%s", why);
    }
    rep->n_failed++;
}

/* Ends the current object: its rows stay (savepoint released or the batch
 * sent once big enough, its matches' times into the heap) or go (rolled
 * back to the savepoint, or cut from the batch; LO_DECLINED when some were
 * sent already). */
static int object_end(load_t *ld, bool keep_rows)
{
    int rc = LO_OK;
    if (ld->savepoint) {
        rc = run(ld->db,
                 keep_rows ? "RELEASE SAVEPOINT lo_cold"
                           : "ROLLBACK TO SAVEPOINT lo_cold; RELEASE SAVEPOINT lo_cold",
                 ld->err, ld->errlen);
        ld->savepoint = false;
    }
    if (ld->careful) {
        lo_buf_reset(&ld->copy);
    } else if (!keep_rows) {
        if (ld->obj_sent)
            rc = LO_DECLINED;
        ld->copy.len = ld->obj_start;
    } else if (ld->copy.len >= BATCH_BYTES) {
        char why[256];
        rc = copy_send(ld, why, sizeof why);
    }
    if (keep_rows && rc == LO_OK) {
        ld->rep->rows += ld->object_rows;
        for (size_t i = 0; i < ld->obj_n; i++)
            heap_push(ld, ld->obj_times[i]);
    }
    ld->obj_n = 0;
    ld->object_rows = 0;
    ld->obj_start = ld->copy.len;
    ld->obj_sent = false;
    return rc;
}

/* Reads one object, newest row group first.  LO_OK (when the object failed
 * alone, it is reported and its rows are rolled back), LO_TOO_LARGE, or a
 * database failure that ends the load. */
static int load_object(load_t *ld, const char *key, uint64_t size)
{
    const lo_cold_layout_t *L = ld->L;
    source_t src = { .r = ld->r, .key = key };
    lo_buf_init(&src.buf, 0);
    lo_pq_file_t *pf = NULL;
    char why[256] = "";
    int field[64], rc;
    lo_pq_values_t vals[64];
    bool have[64] = { 0 };
    size_t from[64] = { 0 };
    group_t g = { .field = field, .vals = vals, .have = have, .from = from };
    uint8_t *keep = NULL, *exact = NULL;
    ld->object_rows = 0;
    ld->obj_n = 0;

    rc = lo_pq_open(size, read_at, &src, NULL, &pf, why, sizeof why);
    if (rc != LO_OK) {
        if (src.err[0])
            snprintf(why, sizeof why, "%s", src.err);
        goto failed;
    }
    lo_pq_give_scratch(pf, ld->scratch);
    ld->scratch = NULL;
    g.pf = pf;
    for (size_t i = 0; i < L->n_cols; i++) {
        field[i] = -1;
        lo_pq_column_t want = lo_cold_pq_column(&L->cols[i]);
        for (size_t j = 0; j < pf->n_fields; j++)
            if (lo_str_eq(pf->fields[j].name, L->cols[i].name)) {
                if (pf->fields[j].type != want.type) {
                    snprintf(why, sizeof why, "column %s has another type", L->cols[i].name);
                    goto failed;
                }
                field[i] = (int)j;
            }
        if (field[i] < 0 && !L->cols[i].optional) {
            snprintf(why, sizeof why, "no column %s", L->cols[i].name);
            goto failed;
        }
    }
    ld->rep->files++;
    /* rows are in time order within a file: the newest row groups first, so
     * a search for the newest matches can stop early */
    for (size_t i = pf->n_row_groups; i-- > 0;) {
        int64_t rows = pf->row_groups[i].num_rows;
        size_t n_keep = 0;
        g.rg = i;
        g.err[0] = '\0';
        if (rows <= 0 || group_excluded(ld, pf, &g))
            continue;
        if ((uint64_t)rows > pf->limits.max_rows) {
            snprintf(why, sizeof why, "row group %zu: %lld rows is past the limit", i, (long long)rows);
            goto failed;
        }
        g.lo = 0;
        g.hi = (size_t)rows;
        /* rows are sorted by time (logs, spans) or by series (metrics): the
         * page indexes narrow the rows to read to a run of pages */
        int64_t t_lo = ld->f->from_us > heap_floor(ld) ? ld->f->from_us : heap_floor(ld);
        if (ld->f->to_us > t_lo)
            narrow_by_pages(pf, &g, (int)L->c_time, &(page_want_t){ .lo = t_lo, .hi = ld->f->to_us - 1 });
        if (ld->f->metric)
            narrow_by_pages(pf, &g, lo_cold_col(L, "name"), &(page_want_t){ .text = ld->f->metric });
        if (ld->series)
            narrow_by_pages(
                pf, &g, lo_cold_col(L, "series_id"),
                &(page_want_t){ .lo = INT64_MIN, .hi = INT64_MAX, .ids = ld->series, .n_ids = ld->n_series });
        if (g.hi == g.lo)
            continue;
        size_t n = g.hi - g.lo;
        ld->rep->row_groups++;
        uint8_t *k2 = realloc(keep, n), *e2 = k2 ? realloc(exact, n) : NULL;
        if (k2)
            keep = k2;
        if (!k2 || !e2) {
            snprintf(ld->err, ld->errlen, "out of memory");
            rc = LO_ERROR;
            goto out;
        }
        exact = e2;
        rc = filter_group(ld, pf, &g, keep, exact, n, &n_keep);
        if (rc == LO_OK && n_keep > 0)
            rc = copy_group(ld, pf, &g, keep, exact, n);
        group_free(&g, L->n_cols);
        if (rc == LO_INVALID) {
            snprintf(why, sizeof why, "%s", src.err[0] ? src.err : g.err[0] ? g.err : "corrupt");
            goto failed;
        }
        if (rc != LO_OK)
            goto out;
    }
    rc = object_end(ld, true);
    goto done;

failed:
    report_failure(ld, key, why[0] ? why : "unreadable");
    rc = LO_OK;
out:
    if (ld->savepoint || ld->obj_n || ld->object_rows) {
        int erc = object_end(ld, false);
        if (rc == LO_OK)
            rc = erc;
    }
done:
    group_free(&g, L->n_cols);
    free(keep);
    free(exact);
    if (pf)
        ld->scratch = lo_pq_take_scratch(pf);
    lo_pq_close(pf);
    lo_buf_free(&src.buf);
    return rc;
}

/* Files of the signal that may hold matches, newest first: key, bytes,
 * newest row (Unix microseconds). */
static const char CATALOG_SQL[] =
    "SELECT key, bytes, (extract(epoch FROM max_time) * 1000000)::int8 FROM cold_files "
    "WHERE signal = $1 AND ($2::int8 IS NULL OR max_time >= lo_us_ts($2::int8)) "
    "AND ($3::int8 IS NULL OR min_time < lo_us_ts($3::int8)) "
    "AND ($4::uuid[] IS NULL OR projects IS NULL OR projects && $4::uuid[]) "
    "AND ($5::text IS NULL OR services IS NULL OR $5 = ANY(services)) "
    "AND ($6::uuid IS NULL OR sessions IS NULL OR $6::uuid = ANY(sessions)) "
    "ORDER BY max_time DESC, key LIMIT $7::int8";

/* The catalog rows of CATALOG_SQL (at most limit; NULL: all), or NULL with
 * *rc and err set. */
static PGresult *catalog_rows(PGconn *db, lo_signal_t s, const lo_cold_filter_t *f, const char *limit,
                              int *rc, char *err, size_t errlen)
{
    char from_s[24], to_s[24];
    snprintf(from_s, sizeof from_s, "%lld", (long long)f->from_us);
    snprintf(to_s, sizeof to_s, "%lld", (long long)f->to_us);
    /* no bound where the filter has none (a trace by id) */
    const char *vals[7] = { lo_signal_name(s),
                            f->from_us > INT64_MIN / 2 ? from_s : NULL,
                            f->to_us < INT64_MAX / 2 ? to_s : NULL,
                            f->projects,
                            f->service,
                            f->session,
                            limit };
    PGresult *cat = PQexecParams(db, CATALOG_SQL, 7, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(cat) != PGRES_TUPLES_OK) {
        *rc = db_fail(db, cat, "reading the cold catalog", err, errlen);
        return NULL;
    }
    return cat;
}

int lo_cold_any(PGconn *db, lo_signal_t s, const lo_cold_filter_t *f, bool *any, char *err, size_t errlen)
{
    int rc = LO_OK;
    err[0] = '\0';
    PGresult *cat = catalog_rows(db, s, f, "1", &rc, err, errlen);
    *any = cat && PQntuples(cat) > 0;
    PQclear(cat);
    return rc;
}

/* Loads the objects of the catalog's answer, newest first, from an empty
 * start (the heap seeded with the hot tier's newest matches). */
static int load_objects(load_t *ld, PGresult *cat)
{
    const lo_cold_filter_t *f = ld->f;
    ld->heap_n = 0;
    /* the hot tier's newest matches: cold rows older than the newest that
     * many need not be read */
    for (size_t i = 0; ld->heap_cap && i < f->n_seed; i++)
        heap_push(ld, f->seed[i]);
    lo_buf_reset(&ld->copy);
    ld->obj_start = 0;
    ld->obj_sent = false;
    int rc = LO_OK;
    for (int i = 0; i < PQntuples(cat) && rc == LO_OK; i++) {
        int64_t newest = strtoll(PQgetvalue(cat, i, 2), NULL, 10);
        if (ld->heap_cap && ld->heap_n == ld->heap_cap && newest < ld->heap[0])
            break; /* every later object is older than the newest matches already found */
        rc = load_object(ld, PQgetvalue(cat, i, 0), (uint64_t)strtoull(PQgetvalue(cat, i, 1), NULL, 10));
    }
    if (rc == LO_OK && !ld->careful) {
        char why[256];
        rc = copy_send(ld, why, sizeof why);
    }
    return rc;
}

int lo_cold_load(lo_cold_reader_t *r, PGconn *db, lo_signal_t s, const lo_cold_filter_t *f,
                 lo_cold_report_t *rep, char *err, size_t errlen)
{
    const lo_cold_layout_t *L = lo_cold_layout(s);
    lo_buf_t sql;
    load_t ld = { .r = r, .db = db, .L = L, .f = f, .rep = rep, .err = err, .errlen = errlen };
    PGresult *cat = NULL;
    int rc;

    err[0] = '\0';
    if (!L || L->n_cols > 64) {
        snprintf(err, errlen, "no cold layout for this signal");
        return LO_ERROR;
    }
    /* no object may hold a match: nothing to load, the hot table answers alone */
    if ((cat = catalog_rows(db, s, f, NULL, &rc, err, errlen)) == NULL)
        return rc;
    if (PQntuples(cat) == 0) {
        PQclear(cat);
        return LO_ABSENT;
    }
    lo_buf_init(&sql, 0);
    lo_buf_init(&ld.copy, COPY_MAX);
    if ((rc = ensure_temp(db, L, err, errlen)) != LO_OK)
        goto out;
    lo_buf_printf(&sql, "COPY %s (", TEMP[s]);
    bool first = true;
    for (size_t i = 0; i < L->n_cols; i++)
        if (strncmp(L->cols[i].sql, "t.", 2) == 0) {
            lo_buf_printf(&sql, "%s%s", first ? "" : ", ", L->cols[i].sql + 2);
            first = false;
        }
    lo_buf_puts(&sql, ") FROM STDIN");
    lo_buf_putc(&sql, '\0');
    if (sql.err) {
        snprintf(err, errlen, "out of memory");
        rc = LO_ERROR;
        goto out;
    }
    ld.copy_sql = sql.p;
    if (f->series && (rc = parse_series(&ld, f->series)) != LO_OK)
        goto out;
    if (f->newest > 0) {
        ld.heap = malloc((size_t)f->newest * sizeof(int64_t));
        if (!ld.heap) {
            snprintf(err, errlen, "out of memory");
            rc = LO_ERROR;
            goto out;
        }
        ld.heap_cap = (size_t)f->newest;
    }
    ld.q_exact = true;
    for (const char *p = f->q; p && *p; p++)
        ld.q_exact &= (uint8_t)*p < 0x80;
    /* the rows go in batches across objects; should the database refuse a
     * batch, everything is rolled back and loaded again with a savepoint per
     * object, so that the objects whose rows it refuses fail alone */
    if ((rc = run(db, "SAVEPOINT lo_cold_load", err, errlen)) != LO_OK)
        goto out;
    lo_cold_report_t *before = malloc(sizeof *before);
    if (!before) {
        snprintf(err, errlen, "out of memory");
        rc = LO_ERROR;
        goto out;
    }
    *before = *rep;
    rc = load_objects(&ld, cat);
    if (rc == LO_DECLINED) {
        *rep = *before;
        ld.careful = true;
        rc = run(db, "ROLLBACK TO SAVEPOINT lo_cold_load", err, errlen);
        if (rc == LO_OK)
            rc = load_objects(&ld, cat);
    }
    free(before);
    if (rc == LO_OK)
        rc = run(db, "RELEASE SAVEPOINT lo_cold_load", err, errlen);
out:
    PQclear(cat);
    free(ld.obj_times);
    free(ld.series);
    free(ld.heap);
    lo_pq_scratch_free(ld.scratch);
    lo_buf_free(&ld.copy);
    lo_buf_free(&sql);
    return rc;
}
