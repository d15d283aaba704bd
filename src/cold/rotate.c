/*
 * rotate.c — moving rows to the cold tier (rotate.h, docs/cold-store.md).
 *
 * One hour of one signal (a slice) at a time:
 *   1. a cold_pending row names the slice's key prefix, committed before
 *      anything is uploaded, so an object a crash leaves behind is found;
 *   2. in a REPEATABLE READ transaction the slice's rows are read with a
 *      binary COPY (cold/hotread.h) into Parquet files (a new file past FILE_MAX_BYTES), each
 *      uploaded, its size checked and its footer read back;
 *   3. still in that transaction: a cold_files row per file, the slice's
 *      rows deleted (only those the snapshot saw: a late record inserted
 *      meanwhile stays for the next run), the cold_pending row removed;
 *      commit.  A row is in one tier or the other at every moment.
 * A failure at any step rolls back and removes what was uploaded (or leaves
 * the cold_pending row for the next run to do so).
 */
#include "cold/rotate.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "cold/hotread.h"
#include "cold/layout.h"
#include "cold/objstore.h"
#include "cold/parquet.h"
#include "core/buf.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/stats.h"
#include "http/metrics.h"
#include "store/locks.h"
#include "store/store.h"

#define HOUR_US          (3600LL * 1000000)
#define DAY_US           (24 * HOUR_US)
#define READ_BATCH_ROWS  4096
#define FILE_MAX_BYTES   ((size_t)256 << 20) /* a slice past this is written as several files */
#define MAX_PROJECTS     1000                /* catalog arrays: past these, NULL (read the file) */
#define MAX_SERVICES     1000
#define MAX_SESSIONS     10000
#define EXPIRE_BATCH     "1000"
#define ROTATE_JITTER_MS (30 * 1000) /* at most; a tenth of a shorter interval */
#define DROP_LOCK_WAIT   "SET lock_timeout = '2s'"
#define COMPACT_GRACE    "30 minutes" /* longer than any query's reads of the objects it listed */
#define COMPACT_DAYS     "8"          /* days compacted per signal and run, at most */

typedef struct {
    atomic_llong runs, failures, orphans, expired, dropped, compacted;
    atomic_llong files[LO_SIGNAL_COUNT], rows[LO_SIGNAL_COUNT], bytes[LO_SIGNAL_COUNT];
} rot_stats_t;

struct lo_rotate {
    const lo_config_t *cfg;
    const lo_retention_t *ret;
    lo_objstore_t *store;
    lo_sched_t *sched;
    lo_buf_t spare; /* a file's bytes, kept between the files of a run (no page faults for each) */
    rot_stats_t st;
};

/* ---- a bounded set of strings (what a file holds, for the catalog) ---- */

typedef struct {
    char **slot;
    size_t cap, n, max;
    bool over; /* more than max (or out of memory): the catalog says NULL */
} strset_t;

static uint64_t str_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static void set_free(strset_t *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i]);
    free(s->slot);
    s->slot = NULL;
    s->cap = s->n = 0;
}

static void set_add(strset_t *s, const char *p, size_t n)
{
    if (s->over)
        return;
    if ((s->n + 1) * 2 > s->cap) {
        if (s->n + 1 > s->max) {
            set_free(s);
            s->over = true;
            return;
        }
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **slot = calloc(cap, sizeof(*slot));
        if (!slot) {
            set_free(s);
            s->over = true;
            return;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i])
                continue;
            size_t j = str_hash(s->slot[i], strlen(s->slot[i])) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t j = str_hash(p, n) & (s->cap - 1);
    for (; s->slot[j]; j = (j + 1) & (s->cap - 1))
        if (strlen(s->slot[j]) == n && memcmp(s->slot[j], p, n) == 0)
            return;
    if (!(s->slot[j] = strndup(p, n))) {
        set_free(s);
        s->over = true;
        return;
    }
    s->n++;
}

/* A PostgreSQL array literal of the set ({"a","b\"c"}); false when over. */
static bool set_literal(const strset_t *s, lo_buf_t *out)
{
    if (s->over)
        return false;
    lo_buf_putc(out, '{');
    bool first = true;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slot[i])
            continue;
        if (!first)
            lo_buf_putc(out, ',');
        first = false;
        lo_buf_putc(out, '"');
        for (const char *c = s->slot[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                lo_buf_putc(out, '\\');
            lo_buf_putc(out, *c);
        }
        lo_buf_putc(out, '"');
    }
    lo_buf_putc(out, '}');
    lo_buf_putc(out, '\0');
    return out->err == LO_OK;
}

/* ---- small helpers ---- */

static bool cmd(PGconn *db, const char *q, int n, const char *const *vals, char *err, size_t errlen)
{
    PGresult *r = lo_store_exec(db, q, n, vals, err, errlen);
    PQclear(r);
    return r != NULL;
}

static void rollback(PGconn *db)
{
    PQclear(PQexec(db, "ROLLBACK"));
}

static int db_rc(PGconn *db)
{
    return PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
}

static void say(const lo_rotate_opts_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const lo_rotate_opts_t *o, const char *fmt, ...)
{
    if (!o->report)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->report(o->ud, line);
}

static void i64s(char out[24], int64_t v)
{
    snprintf(out, 24, "%lld", (long long)v);
}

/* "2026-11-28T03:00:00Z" */
static void iso(int64_t us, char out[24])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t floor_to(int64_t us, int64_t unit)
{
    return (us >= 0 ? us / unit : (us - unit + 1) / unit) * unit;
}

/* ---- one output file ---- */

typedef struct {
    char key[LO_OBJSTORE_KEY_MAX];
    char id[37];
    lo_buf_t bytes;
    uint64_t size;
    lo_pq_writer_t *w;
    bool done; /* written, uploaded and checked */
    int64_t rows, min_us, max_us;
    strset_t projects, services, sessions;
    bool null_project;
} cfile_t;

static int sink(void *ud, const void *p, size_t n)
{
    cfile_t *f = ud;
    return lo_buf_append(&f->bytes, p, n) == LO_OK ? LO_OK : LO_ERROR;
}

static void cfile_free(cfile_t *f)
{
    lo_pq_writer_destroy(f->w);
    lo_buf_free(&f->bytes);
    set_free(&f->projects);
    set_free(&f->services);
    set_free(&f->sessions);
}

/* ---- one slice ---- */

typedef struct {
    lo_rotate_t *r;
    PGconn *db;
    const lo_cold_layout_t *L;
    int64_t t0, t1;
    char prefix[128]; /* otel/{dir}/YYYY-MM-DD/{prefix}_{batch}: every file of the slice starts so */
    char batch[33];
    cfile_t *files;
    size_t n_files;
    int64_t rows;
    char *err;
    size_t errlen;
} slice_t;

static void random_hex(uint8_t b[16], char out[33])
{
    if (getrandom(b, 16, 0) != 16) {
        /* getrandom does not fail for 16 bytes once the pool is ready; fall back to the clocks */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t m = lo_mono_ns();
        memcpy(b, &ts, sizeof ts < 8 ? sizeof ts : 8);
        memcpy(b + 8, &m, 8);
    }
    *lo_hex_put(out, b, 16) = '\0';
}

static int open_file(slice_t *sl)
{
    cfile_t *nf = realloc(sl->files, (sl->n_files + 1) * sizeof(*nf));
    if (!nf)
        return LO_ERROR;
    sl->files = nf;
    cfile_t *f = &sl->files[sl->n_files++];
    memset(f, 0, sizeof(*f));
    f->bytes = sl->r->spare;
    lo_buf_init(&sl->r->spare, 0);
    lo_buf_reset(&f->bytes);
    f->projects.max = MAX_PROJECTS;
    f->services.max = MAX_SERVICES;
    f->sessions.max = MAX_SESSIONS;
    f->min_us = INT64_MAX;
    f->max_us = INT64_MIN;
    uint8_t u[16];
    char hex[33];
    random_hex(u, hex);
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* a version 4 UUID */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    lo_uuid_format(u, f->id);
    if (sl->n_files == 1)
        snprintf(f->key, sizeof f->key, "%s.parquet", sl->prefix);
    else
        snprintf(f->key, sizeof f->key, "%s-%zu.parquet", sl->prefix, sl->n_files);
    lo_pq_column_t cols[32];
    if (sl->L->n_cols > LO_ARRAY_LEN(cols))
        return LO_ERROR;
    for (size_t i = 0; i < sl->L->n_cols; i++)
        cols[i] = lo_cold_pq_column(&sl->L->cols[i]);
    lo_pq_schema_t schema = { cols, sl->L->n_cols };
    lo_pq_options_t opt;
    lo_pq_options_default(&opt);
    opt.codec = strcmp(sl->r->cfg->cold_codec, "zstd") == 0 ? LO_PQ_ZSTD : LO_PQ_SNAPPY;
    opt.row_group_rows = (size_t)sl->r->cfg->cold_row_group_rows;
    opt.page_rows = sl->L->page_rows;
    f->w = lo_pq_writer_open(&schema, &opt, sink, f, sl->err, sl->errlen);
    return f->w ? LO_OK : LO_ERROR;
}

/* Reads of the verifying footer read-back, through the store. */
typedef struct {
    lo_objstore_t *store;
    const char *key;
    lo_buf_t buf;
    char err[256];
} readback_t;

static int read_at(void *ud, uint64_t off, void *dst, size_t n)
{
    readback_t *rb = ud;
    return lo_objstore_read_exact(rb->store, rb->key, off, dst, n, &rb->buf, rb->err, sizeof rb->err);
}

/* Ends f's Parquet file, uploads it, and checks it: the stored size, and
 * the footer read back from the store holds f's rows. */
static int finish_file(slice_t *sl, cfile_t *f)
{
    int rc = lo_pq_writer_close(f->w);
    if (rc != LO_OK) {
        snprintf(sl->err, sl->errlen, "writing %s: %s", f->key, lo_pq_writer_error(f->w));
        return rc;
    }
    if (f->bytes.err != LO_OK) {
        snprintf(sl->err, sl->errlen, "writing %s: out of memory", f->key);
        return LO_ERROR;
    }
    lo_pq_writer_destroy(f->w);
    f->w = NULL;
    f->size = f->bytes.len;
    if ((rc = lo_objstore_put(sl->r->store, f->key, f->bytes.p, f->bytes.len, sl->err, sl->errlen)) != LO_OK)
        return rc;
    sl->r->spare = f->bytes; /* for the next file */
    lo_buf_init(&f->bytes, 0);
    uint64_t size = 0;
    if ((rc = lo_objstore_head(sl->r->store, f->key, &size, sl->err, sl->errlen)) != LO_OK)
        return rc;
    if (size != f->size) {
        snprintf(sl->err, sl->errlen, "%s: stored %llu bytes of %llu", f->key, (unsigned long long)size,
                 (unsigned long long)f->size);
        return LO_ERROR;
    }
    readback_t rb = { .store = sl->r->store, .key = f->key };
    lo_buf_init(&rb.buf, 0);
    lo_pq_file_t *pf = NULL;
    char perr[256] = "";
    rc = lo_pq_open(size, read_at, &rb, NULL, &pf, perr, sizeof perr);
    if (rc == LO_OK && pf->num_rows != f->rows) {
        snprintf(perr, sizeof perr, "the footer says %lld rows, %lld were written", (long long)pf->num_rows,
                 (long long)f->rows);
        rc = LO_ERROR;
    }
    lo_pq_close(pf);
    lo_buf_free(&rb.buf);
    if (rc != LO_OK) {
        snprintf(sl->err, sl->errlen, "checking %s: %s", f->key, rb.err[0] ? rb.err : perr);
        return rc;
    }
    f->done = true;
    return LO_OK;
}

/* Column j of rows [off, off + k) of a batch into f's writer. */
static int write_column(slice_t *sl, cfile_t *f, const lo_cold_batch_t *b, size_t j, size_t off, size_t k)
{
    const lo_cold_colbuf_t *c = &b->cols[j];
    const uint8_t *nulls = sl->L->cols[j].optional ? c->nulls + off : NULL;
    switch (sl->L->cols[j].kind) {
    case LO_CK_TS:
    case LO_CK_I64: return lo_pq_write_i64(f->w, j, c->v.i64 + off, nulls, k);
    case LO_CK_I32: return lo_pq_write_i32(f->w, j, c->v.i32 + off, nulls, k);
    case LO_CK_F64: return lo_pq_write_f64(f->w, j, c->v.f64 + off, nulls, k);
    case LO_CK_BOOL: return lo_pq_write_bool(f->w, j, c->v.b + off, nulls, k);
    case LO_CK_STR:
    case LO_CK_JSON: return lo_pq_write_bytes(f->w, j, c->v.s + off, nulls, k);
    }
    return LO_ERROR;
}

/* What the catalog records of rows [off, off + k). */
static void note_rows(slice_t *sl, cfile_t *f, const lo_cold_batch_t *b, size_t off, size_t k)
{
    const lo_cold_layout_t *L = sl->L;
    const lo_cold_colbuf_t *tc = &b->cols[L->c_time], *pc = &b->cols[L->c_project],
                           *sc = &b->cols[L->c_service], *xc = &b->cols[L->c_session];
    for (size_t i = off; i < off + k; i++) {
        int64_t t = tc->v.i64[i];
        if (t < f->min_us)
            f->min_us = t;
        if (t > f->max_us)
            f->max_us = t;
        if (pc->nulls[i])
            f->null_project = true;
        else
            set_add(&f->projects, pc->v.s[i].p, pc->v.s[i].len);
        set_add(&f->services, sc->v.s[i].p, sc->v.s[i].len);
        if (!xc->nulls[i])
            set_add(&f->sessions, xc->v.s[i].p, xc->v.s[i].len);
    }
}

/* One batch of rows into the slice's files (lo_cold_batch_fn). */
static int write_batch(void *ud, const lo_cold_batch_t *b)
{
    slice_t *sl = ud;
    size_t off = 0;
    while (off < b->n) {
        cfile_t *f = sl->n_files ? &sl->files[sl->n_files - 1] : NULL;
        if (!f || f->done) {
            if (open_file(sl) != LO_OK) {
                if (!sl->err[0])
                    snprintf(sl->err, sl->errlen, "out of memory");
                return LO_ERROR;
            }
            f = &sl->files[sl->n_files - 1];
        }
        size_t room = lo_pq_writer_room(f->w);
        size_t k = b->n - off < room ? b->n - off : room;
        for (size_t j = 0; j < sl->L->n_cols; j++)
            if (write_column(sl, f, b, j, off, k) != LO_OK) {
                snprintf(sl->err, sl->errlen, "writing %s: %s", f->key, lo_pq_writer_error(f->w));
                return LO_ERROR;
            }
        note_rows(sl, f, b, off, k);
        f->rows += (int64_t)k;
        sl->rows += (int64_t)k;
        off += k;
        if (lo_pq_writer_room(f->w) == 0) {
            if (lo_pq_writer_end_row_group(f->w) != LO_OK) {
                snprintf(sl->err, sl->errlen, "writing %s: %s", f->key, lo_pq_writer_error(f->w));
                return LO_ERROR;
            }
            /* a big slice goes into several files, so memory stays bounded */
            if (lo_pq_writer_offset(f->w) >= FILE_MAX_BYTES) {
                int rc = finish_file(sl, f);
                if (rc != LO_OK)
                    return rc;
            }
        }
    }
    return LO_OK;
}

/* The catalog row of a written file, in the slice's transaction. */
static bool catalog(slice_t *sl, cfile_t *f)
{
    char mn[24], mx[24], s0[24], s1[24], rows[24], bytes[24];
    i64s(mn, f->min_us);
    i64s(mx, f->max_us);
    i64s(s0, sl->t0);
    i64s(s1, sl->t1);
    i64s(rows, f->rows);
    i64s(bytes, (int64_t)f->size);
    lo_buf_t p, s, x;
    lo_buf_init(&p, 0);
    lo_buf_init(&s, 0);
    lo_buf_init(&x, 0);
    const char *pv = set_literal(&f->projects, &p) ? p.p : NULL;
    const char *sv = set_literal(&f->services, &s) ? s.p : NULL;
    const char *xv = set_literal(&f->sessions, &x) ? x.p : NULL;
    bool ok =
        cmd(sl->db,
            "INSERT INTO cold_files (id, signal, key, min_time, max_time, slice_start, slice_end, rows, "
            "bytes, projects, has_null_project, services, sessions) VALUES ($1, $2, $3, lo_us_ts($4), "
            "lo_us_ts($5), lo_us_ts($6), lo_us_ts($7), $8, $9, $10, $11, $12, $13)",
            13,
            (const char *[]){ f->id, lo_signal_name(sl->L->signal), f->key, mn, mx, s0, s1, rows, bytes, pv,
                              f->null_project ? "t" : "f", sv, xv },
            sl->err, sl->errlen);
    lo_buf_free(&p);
    lo_buf_free(&s);
    lo_buf_free(&x);
    return ok;
}

/* Deletes every object under prefix.  LO_OK when none is left. */
typedef struct {
    lo_objstore_t *store;
    int64_t n;
    char *err;
    size_t errlen;
} purge_t;

static int purge_one(void *ud, const char *key, uint64_t size)
{
    purge_t *p = ud;
    (void)size;
    p->n++;
    return lo_objstore_delete(p->store, key, p->err, p->errlen);
}

static int purge(lo_rotate_t *r, const char *prefix, int64_t *n, char *err, size_t errlen)
{
    purge_t p = { r->store, 0, err, errlen };
    int rc = lo_objstore_list(r->store, prefix, purge_one, &p, err, errlen);
    if (n)
        *n = p.n;
    return rc;
}

/* Ends a slice that failed after its cold_pending row was written: what it
 * uploaded is deleted, and then the row; when the store cannot be reached
 * the row stays and the next run removes the objects. */
static void abandon(slice_t *sl)
{
    char err[256];
    if (purge(sl->r, sl->prefix, NULL, err, sizeof err) == LO_OK)
        (void)cmd(sl->db, "DELETE FROM cold_pending WHERE key = $1", 1, (const char *[]){ sl->prefix }, err,
                  sizeof err);
}

/* After a failure: the transaction (if open) rolled back, what the slice
 * uploaded removed (abandon). */
static void slice_fail(slice_t *sl, bool in_tx)
{
    if (in_tx && PQstatus(sl->db) == CONNECTION_OK)
        rollback(sl->db);
    if (PQstatus(sl->db) == CONNECTION_OK)
        abandon(sl);
}

static void slice_free(slice_t *sl)
{
    for (size_t i = 0; i < sl->n_files; i++)
        cfile_free(&sl->files[i]);
    free(sl->files);
}

/* Moves the rows of [t0, t1) of layout L.  LO_ABSENT when there are none. */
static int rotate_slice(lo_rotate_t *r, PGconn *db, const lo_cold_layout_t *L, int64_t t0, int64_t t1,
                        const lo_rotate_opts_t *o, char *err, size_t errlen)
{
    char a[24], b[24], q[2048], when[24];
    i64s(a, t0);
    i64s(b, t1);
    iso(t0, when);
    const char *bounds[] = { a, b };
    snprintf(q, sizeof q, "SELECT 1 FROM %s t WHERE t.%s >= lo_us_ts($1) AND t.%s < lo_us_ts($2) LIMIT 1",
             L->table, L->time_col, L->time_col);
    PGresult *res = lo_store_exec(db, q, 2, bounds, err, errlen);
    if (!res)
        return db_rc(db);
    bool any = PQntuples(res) > 0;
    PQclear(res);
    if (!any)
        return LO_ABSENT;
    if (o->dry_run) {
        snprintf(q, sizeof q, "SELECT count(*) FROM %s t WHERE t.%s >= lo_us_ts($1) AND t.%s < lo_us_ts($2)",
                 L->table, L->time_col, L->time_col);
        if (!(res = lo_store_exec(db, q, 2, bounds, err, errlen)))
            return db_rc(db);
        say(o, "would move %s %s +1h: %s rows", lo_signal_name(L->signal), when, PQgetvalue(res, 0, 0));
        PQclear(res);
        return LO_OK;
    }

    slice_t sl = { .r = r, .db = db, .L = L, .t0 = t0, .t1 = t1, .err = err, .errlen = errlen };
    uint8_t u[16];
    random_hex(u, sl.batch);
    char day[11];
    memcpy(day, when, 10);
    day[10] = '\0';
    snprintf(sl.prefix, sizeof sl.prefix, "otel/%s/%s/%s_%s", L->dir, day, L->prefix, sl.batch);
    err[0] = '\0';
    if (!cmd(db, "INSERT INTO cold_pending (key, signal, why) VALUES ($1, $2, 'upload')", 2,
             (const char *[]){ sl.prefix, lo_signal_name(L->signal) }, err, errlen))
        return db_rc(db);

    int rc = LO_ERROR;
    bool in_tx = false;
    if (!cmd(db, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, err, errlen))
        goto fail_db;
    in_tx = true;
    if ((rc = lo_cold_read(db, L, t0, t1, READ_BATCH_ROWS, write_batch, &sl, err, errlen)) != LO_OK)
        goto fail;
    for (size_t i = 0; i < sl.n_files; i++)
        if (!sl.files[i].done && (rc = finish_file(&sl, &sl.files[i])) != LO_OK)
            goto fail;
    rc = LO_ERROR;
    for (size_t i = 0; i < sl.n_files; i++)
        if (!catalog(&sl, &sl.files[i]))
            goto fail_db;
    snprintf(q, sizeof q, "DELETE FROM %s t WHERE t.%s >= lo_us_ts($1) AND t.%s < lo_us_ts($2)", L->table,
             L->time_col, L->time_col);
    if (!(res = lo_store_exec(db, q, 2, bounds, err, errlen)))
        goto fail_db;
    int64_t deleted = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    if (deleted != sl.rows) {
        snprintf(err, errlen, "%s: %lld rows read but %lld would be deleted", L->table, (long long)sl.rows,
                 (long long)deleted);
        goto fail;
    }
    /* trace summaries stay hot (the trace search reads them); retention
     * removes them with the spans' files */
    if (!cmd(db, "DELETE FROM cold_pending WHERE key = $1", 1, (const char *[]){ sl.prefix }, err, errlen) ||
        !cmd(db, "COMMIT", 0, NULL, err, errlen))
        goto fail_db;
    in_tx = false;
    rc = LO_OK;
    for (size_t i = 0; i < sl.n_files; i++) {
        cfile_t *f = &sl.files[i];
        lo_stat_add(&r->st.files[L->signal], 1);
        lo_stat_add(&r->st.rows[L->signal], f->rows);
        lo_stat_add(&r->st.bytes[L->signal], (long long)f->size);
        lo_log_info("rotated", "signal=%s hour=%s rows=%lld bytes=%llu key=%s", lo_signal_name(L->signal),
                    when, (long long)f->rows, (unsigned long long)f->size, f->key);
        say(o, "moved %s %s +1h: %lld rows, %llu bytes -> %s", lo_signal_name(L->signal), when,
            (long long)f->rows, (unsigned long long)f->size, f->key);
    }
    goto done;
fail_db:
    rc = db_rc(db);
fail:
    slice_fail(&sl, in_tx);
done:
    slice_free(&sl);
    return rc;
}

/* ---- compaction ---- */

/* Every row of one cold file into the slice's output, row group by row
 * group.  The file must be of L's layout. */
static int merge_source(slice_t *sl, const char *key, lo_buf_t *buf)
{
    const lo_cold_layout_t *L = sl->L;
    char perr[256] = "";
    lo_buf_reset(buf);
    int rc = lo_objstore_get(sl->r->store, key, buf, sl->err, sl->errlen);
    if (rc != LO_OK)
        return rc;
    lo_pq_file_t *pf = NULL;
    if ((rc = lo_pq_open_buffer(buf->p, buf->len, NULL, &pf, perr, sizeof perr)) != LO_OK) {
        snprintf(sl->err, sl->errlen, "reading %s: %s", key, perr);
        return rc;
    }
    /* the current layout, or an older one that lacks optional columns the
     * layout has since added at its end (null in the merged file) */
    size_t have = pf->n_fields;
    uint8_t *absent = NULL;
    rc = have <= L->n_cols ? LO_OK : LO_INVALID;
    for (size_t i = 0; i < L->n_cols && rc == LO_OK; i++) {
        lo_pq_column_t c = lo_cold_pq_column(&L->cols[i]);
        if (i >= have ? !c.optional
                      : !lo_str_eq(pf->fields[i].name, c.name) || pf->fields[i].type != c.type ||
                            pf->fields[i].optional != c.optional)
            rc = LO_INVALID;
    }
    if (rc != LO_OK)
        snprintf(sl->err, sl->errlen, "%s: not of the current %s layout", key, lo_signal_name(L->signal));
    lo_pq_values_t vals[32];
    lo_cold_colbuf_t cols[32];
    for (size_t g = 0; g < pf->n_row_groups && rc == LO_OK; g++) {
        size_t n = (size_t)pf->row_groups[g].num_rows;
        memset(vals, 0, sizeof vals);
        if (have < L->n_cols) {
            uint8_t *a = realloc(absent, n ? n : 1);
            if (a == NULL) {
                snprintf(sl->err, sl->errlen, "out of memory");
                rc = LO_ERROR;
                break;
            }
            absent = a;
            memset(absent, 1, n);
        }
        for (size_t i = 0; i < L->n_cols && rc == LO_OK; i++) {
            if (i >= have) {
                memset(&cols[i], 0, sizeof cols[i]);
                cols[i].nulls = absent;
                continue;
            }
            if ((rc = lo_pq_read_column(pf, g, i, &vals[i], perr, sizeof perr)) != LO_OK || vals[i].n != n ||
                (L->cols[i].optional && vals[i].nulls == NULL && n > 0)) {
                snprintf(sl->err, sl->errlen, "reading %s: %s", key, perr[0] ? perr : "a column is short");
                rc = rc != LO_OK ? rc : LO_INVALID;
                break;
            }
            cols[i].nulls = vals[i].nulls;
            switch (L->cols[i].kind) {
            case LO_CK_TS:
            case LO_CK_I64: cols[i].v.i64 = vals[i].v.i64; break;
            case LO_CK_I32: cols[i].v.i32 = vals[i].v.i32; break;
            case LO_CK_F64: cols[i].v.f64 = vals[i].v.f64; break;
            case LO_CK_BOOL: cols[i].v.b = vals[i].v.b; break;
            case LO_CK_STR:
            case LO_CK_JSON: cols[i].v.s = vals[i].v.s; break;
            }
        }
        if (rc == LO_OK && n > 0)
            rc = write_batch(sl, &(lo_cold_batch_t){ n, cols });
        for (size_t i = 0; i < L->n_cols; i++)
            lo_pq_values_free(&vals[i]);
    }
    free(absent);
    lo_pq_close(pf);
    return rc;
}

/* Merges the files of one day of L (src: key, rows, slice start, slice
 * end, in time order) into one, then swaps them in the catalog in one
 * transaction; the replaced objects are deleted by a later run, after
 * COMPACT_GRACE. */
static int compact_day(lo_rotate_t *r, PGconn *db, const lo_cold_layout_t *L, const char *day, PGresult *src,
                       const lo_rotate_opts_t *o, char *err, size_t errlen)
{
    int n = PQntuples(src);
    slice_t sl = { .r = r, .db = db, .L = L, .t0 = INT64_MAX, .t1 = INT64_MIN, .err = err, .errlen = errlen };
    int64_t want = 0;
    lo_buf_t keys, buf;
    lo_buf_init(&keys, 0);
    lo_buf_init(&buf, 0);
    lo_buf_putc(&keys, '{');
    for (int i = 0; i < n; i++) {
        int64_t a = strtoll(PQgetvalue(src, i, 2), NULL, 10), b = strtoll(PQgetvalue(src, i, 3), NULL, 10);
        sl.t0 = a < sl.t0 ? a : sl.t0;
        sl.t1 = b > sl.t1 ? b : sl.t1;
        want += strtoll(PQgetvalue(src, i, 1), NULL, 10);
        lo_buf_printf(&keys, "%s\"%s\"", i ? "," : "", PQgetvalue(src, i, 0));
    }
    lo_buf_putc(&keys, '}');
    lo_buf_putc(&keys, '\0');
    uint8_t u[16];
    random_hex(u, sl.batch);
    snprintf(sl.prefix, sizeof sl.prefix, "otel/%s/%s/%s_%s", L->dir, day, L->prefix, sl.batch);
    err[0] = '\0';
    int rc = LO_ERROR;
    bool in_tx = false;
    if (keys.err != LO_OK) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (!cmd(db, "INSERT INTO cold_pending (key, signal, why) VALUES ($1, $2, 'upload')", 2,
             (const char *[]){ sl.prefix, lo_signal_name(L->signal) }, err, errlen)) {
        rc = db_rc(db);
        goto out;
    }
    for (int i = 0; i < n; i++)
        if ((rc = merge_source(&sl, PQgetvalue(src, i, 0), &buf)) != LO_OK)
            goto fail;
    for (size_t i = 0; i < sl.n_files; i++)
        if (!sl.files[i].done && (rc = finish_file(&sl, &sl.files[i])) != LO_OK)
            goto fail;
    rc = LO_ERROR;
    if (sl.rows != want) {
        snprintf(err, errlen, "%s %s: the catalog says %lld rows, the files hold %lld",
                 lo_signal_name(L->signal), day, (long long)want, (long long)sl.rows);
        goto fail;
    }
    if (!cmd(db, "BEGIN", 0, NULL, err, errlen))
        goto fail_db;
    in_tx = true;
    PGresult *res = lo_store_exec(db, "DELETE FROM cold_files WHERE signal = $1 AND key = ANY($2::text[])", 2,
                                  (const char *[]){ lo_signal_name(L->signal), keys.p }, err, errlen);
    if (!res)
        goto fail_db;
    bool same = strtoll(PQcmdTuples(res), NULL, 10) == n;
    PQclear(res);
    if (!same) {
        snprintf(err, errlen, "%s %s: the catalog changed meanwhile", lo_signal_name(L->signal), day);
        goto fail;
    }
    for (size_t i = 0; i < sl.n_files; i++)
        if (!catalog(&sl, &sl.files[i]))
            goto fail_db;
    if (!cmd(db,
             "INSERT INTO cold_pending (key, signal, why) SELECT k, $2, 'expire' FROM unnest($1::text[]) k "
             "ON CONFLICT DO NOTHING",
             2, (const char *[]){ keys.p, lo_signal_name(L->signal) }, err, errlen) ||
        !cmd(db, "DELETE FROM cold_pending WHERE key = $1", 1, (const char *[]){ sl.prefix }, err, errlen) ||
        !cmd(db, "COMMIT", 0, NULL, err, errlen))
        goto fail_db;
    in_tx = false;
    rc = LO_OK;
    lo_stat_add(&r->st.compacted, n);
    lo_log_info("compacted", "signal=%s day=%s files=%d rows=%lld", lo_signal_name(L->signal), day, n,
                (long long)sl.rows);
    for (size_t i = 0; i < sl.n_files; i++)
        say(o, "compacted %d %s files of %s: %lld rows, %llu bytes -> %s", n, lo_signal_name(L->signal), day,
            (long long)sl.files[i].rows, (unsigned long long)sl.files[i].size, sl.files[i].key);
    goto out;
fail_db:
    rc = db_rc(db);
fail:
    slice_fail(&sl, in_tx);
out:
    slice_free(&sl);
    lo_buf_free(&keys);
    lo_buf_free(&buf);
    return rc;
}

/* Merges the days of signal s that hold many small files. */
static int compact_signal(lo_rotate_t *r, PGconn *db, lo_signal_t s, const lo_rotate_opts_t *o, char *err,
                          size_t errlen)
{
    const lo_cold_layout_t *L = lo_cold_layout(s);
    char min_files[24], max_bytes[24], dirlen[24];
    i64s(min_files, r->cfg->cold_compact_files);
    i64s(max_bytes, (int64_t)FILE_MAX_BYTES);
    i64s(dirlen, (int64_t)strlen("otel/") + (int64_t)strlen(L->dir) + 1);
    /* the day is the key's directory: otel/{dir}/YYYY-MM-DD/ */
    PGresult *days =
        lo_store_exec(db,
                      "SELECT substr(key, $3::int + 1, 10), count(*), sum(bytes) FROM cold_files "
                      "WHERE signal = $1 GROUP BY 1 HAVING count(*) >= $2::int AND sum(bytes) <= "
                      "$4::int8 ORDER BY 1 LIMIT " COMPACT_DAYS,
                      4, (const char *[]){ lo_signal_name(s), min_files, dirlen, max_bytes }, err, errlen);
    if (!days)
        return db_rc(db);
    int rc = LO_OK;
    for (int i = 0; i < PQntuples(days) && rc == LO_OK && !lo_sched_stopping(r->sched); i++) {
        const char *day = PQgetvalue(days, i, 0);
        if (o->dry_run) {
            say(o, "would compact %s %s files of %s (%s bytes)", PQgetvalue(days, i, 1), lo_signal_name(s),
                day, PQgetvalue(days, i, 2));
            continue;
        }
        char like[64];
        snprintf(like, sizeof like, "otel/%s/%s/%%", L->dir, day);
        PGresult *src =
            lo_store_exec(db,
                          "SELECT key, rows, (extract(epoch FROM slice_start) * 1000000)::int8, "
                          "(extract(epoch FROM slice_end) * 1000000)::int8 FROM cold_files WHERE signal = $1 "
                          "AND key LIKE $2 ORDER BY min_time, key",
                          2, (const char *[]){ lo_signal_name(s), like }, err, errlen);
        if (!src) {
            rc = db_rc(db);
            break;
        }
        rc = compact_day(r, db, L, day, src, o, err, errlen);
        PQclear(src);
        if (rc != LO_OK && rc != LO_UNAVAIL) {
            /* that day stays as it is; the others are still merged */
            lo_log_warn("compaction failed", "signal=%s day=%s error=\"%.300s\"", lo_signal_name(s), day,
                        err);
            say(o, "%s %s: compaction failed: %s", lo_signal_name(s), day, err);
            rc = LO_OK;
        }
    }
    PQclear(days);
    return rc;
}

/* ---- the run ---- */

/* Objects named by cold_pending rows a crash (or an unreachable store) left:
 * uploads never cataloged and expired objects not yet deleted. */
static int remove_orphans(lo_rotate_t *r, PGconn *db, const lo_rotate_opts_t *o, char *err, size_t errlen)
{
    /* objects replaced by compaction stay a while: a query that read the
     * catalog before the swap may still be reading them */
    PGresult *res =
        lo_store_exec(db,
                      "SELECT key, why FROM cold_pending WHERE why = 'upload' OR created_at < now() - "
                      "interval '" COMPACT_GRACE "' ORDER BY created_at",
                      0, NULL, err, errlen);
    if (!res)
        return db_rc(db);
    int rc = LO_OK;
    for (int i = 0; i < PQntuples(res) && rc == LO_OK; i++) {
        const char *key = PQgetvalue(res, i, 0);
        if (o->dry_run) {
            say(o, "would remove objects under %s (%s not finished)", key, PQgetvalue(res, i, 1));
            continue;
        }
        int64_t n = 0;
        if ((rc = purge(r, key, &n, err, errlen)) != LO_OK)
            break;
        if (!cmd(db, "DELETE FROM cold_pending WHERE key = $1", 1, (const char *[]){ key }, err, errlen)) {
            rc = db_rc(db);
            break;
        }
        lo_stat_add(&r->st.orphans, n);
        if (n > 0) {
            lo_log_info("removed objects of an unfinished rotation", "prefix=%s objects=%lld", key,
                        (long long)n);
            say(o, "removed %lld object(s) under %s (%s not finished)", (long long)n, key,
                PQgetvalue(res, i, 1));
        }
    }
    PQclear(res);
    return rc;
}

/* Deletes the cold files of signal s whose newest row is past retention. */
static int expire(lo_rotate_t *r, PGconn *db, lo_signal_t s, int64_t days, const lo_rotate_opts_t *o,
                  char *err, size_t errlen)
{
    char d[24];
    i64s(d, days);
    PGresult *res = lo_store_exec(
        db,
        "SELECT id::text, key FROM cold_files WHERE signal = $1 AND max_time < now() - $2::int8 * "
        "interval '1 day' ORDER BY max_time LIMIT " EXPIRE_BATCH,
        2, (const char *[]){ lo_signal_name(s), d }, err, errlen);
    if (!res)
        return db_rc(db);
    int rc = LO_OK;
    for (int i = 0; i < PQntuples(res) && rc == LO_OK; i++) {
        const char *id = PQgetvalue(res, i, 0), *key = PQgetvalue(res, i, 1);
        if (o->dry_run) {
            say(o, "would expire %s", key);
            continue;
        }
        /* the catalog row goes first (queries stop reading the object), and
         * cold_pending remembers the object until it is deleted */
        if (!cmd(db, "BEGIN", 0, NULL, err, errlen) ||
            !cmd(db,
                 "INSERT INTO cold_pending (key, signal, why) VALUES ($1, $2, 'expire') ON CONFLICT DO "
                 "NOTHING",
                 2, (const char *[]){ key, lo_signal_name(s) }, err, errlen) ||
            !cmd(db, "DELETE FROM cold_files WHERE id = $1", 1, (const char *[]){ id }, err, errlen) ||
            !cmd(db, "COMMIT", 0, NULL, err, errlen)) {
            rc = db_rc(db);
            if (PQstatus(db) == CONNECTION_OK)
                rollback(db);
            break;
        }
        if ((rc = lo_objstore_delete(r->store, key, err, errlen)) != LO_OK)
            break;
        if (!cmd(db, "DELETE FROM cold_pending WHERE key = $1", 1, (const char *[]){ key }, err, errlen)) {
            rc = db_rc(db);
            break;
        }
        lo_stat_add(&r->st.expired, 1);
        say(o, "expired %s", key);
    }
    PQclear(res);
    /* the summaries of traces whose spans are past retention */
    if (rc == LO_OK && s == LO_SIGNAL_SPANS && !o->dry_run &&
        !cmd(db, "DELETE FROM traces WHERE end_time < now() - $1::int8 * interval '1 day'", 1,
             (const char *[]){ d }, err, errlen))
        rc = db_rc(db);
    return rc;
}

/* The daily partitions of L's table: their names and first instants. */
static PGresult *partitions(PGconn *db, const lo_cold_layout_t *L, char *err, size_t errlen)
{
    return lo_store_exec(
        db,
        "SELECT c.relname, (extract(epoch FROM to_date(right(c.relname, 8), 'YYYYMMDD')::timestamp AT TIME "
        "ZONE 'UTC') * 1000000)::int8 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass AND c.relname ~ ('^' || $1 || '_[0-9]{8}$') ORDER BY 2",
        1, (const char *[]){ L->table }, err, errlen);
}

/* Drops the partitions of days that rotation emptied and that no accepted
 * record can reach (store/retention.h): a whole day goes at once, rather
 * than being vacuumed. */
static int drop_emptied(lo_rotate_t *r, PGconn *db, const lo_cold_layout_t *L, PGresult *parts, int64_t limit,
                        const lo_rotate_opts_t *o, char *err, size_t errlen)
{
    int64_t before = lo_retention_droppable_before(r->ret, lo_now_ns()) / 1000;
    if (limit < before)
        before = limit;
    for (int i = 0; i < PQntuples(parts); i++) {
        int64_t day = strtoll(PQgetvalue(parts, i, 1), NULL, 10);
        if (day + DAY_US > before)
            break;
        char *ident = PQescapeIdentifier(db, PQgetvalue(parts, i, 0), strlen(PQgetvalue(parts, i, 0)));
        if (!ident)
            return db_rc(db);
        char q[256];
        snprintf(q, sizeof q, "SELECT 1 FROM %s LIMIT 1", ident);
        PGresult *res = lo_store_exec(db, q, 0, NULL, err, errlen);
        bool empty = res && PQntuples(res) == 0;
        PQclear(res);
        if (empty && o->dry_run) {
            say(o, "would drop the emptied partition %s", PQgetvalue(parts, i, 0));
        } else if (empty) {
            /* dropping a partition locks its parent: never wait long behind a query */
            snprintf(q, sizeof q, "DROP TABLE %s", ident);
            if (!cmd(db, "BEGIN", 0, NULL, err, errlen) || !cmd(db, DROP_LOCK_WAIT, 0, NULL, err, errlen) ||
                !cmd(db, q, 0, NULL, err, errlen) || !cmd(db, "COMMIT", 0, NULL, err, errlen)) {
                if (PQstatus(db) == CONNECTION_OK)
                    rollback(db);
                PQfreemem(ident);
                return db_rc(db);
            }
            lo_stat_add(&r->st.dropped, 1);
            say(o, "dropped the emptied partition %s", PQgetvalue(parts, i, 0));
        }
        PQfreemem(ident);
        if (!res)
            return db_rc(db);
    }
    return LO_OK;
}

static int64_t hot_us(const lo_rotate_t *r, lo_signal_t s)
{
    return (int64_t)(r->ret->hot_ns[s] / 1000);
}

/* Moves every whole hour of signal s older than its limit. */
static int rotate_signal(lo_rotate_t *r, PGconn *db, lo_signal_t s, const lo_rotate_opts_t *o, char *err,
                         size_t errlen)
{
    const lo_cold_layout_t *L = lo_cold_layout(s);
    int64_t now = lo_now_ns() / 1000;
    int64_t limit = floor_to(now - (o->older_than_us > 0 ? o->older_than_us : hot_us(r, s)), HOUR_US);
    PGresult *parts = partitions(db, L, err, errlen);
    if (!parts)
        return db_rc(db);
    int rc = LO_OK;
    int64_t start = PQntuples(parts) > 0 ? strtoll(PQgetvalue(parts, 0, 1), NULL, 10) : limit;
    for (int64_t h = start; h < limit && rc == LO_OK; h += HOUR_US) {
        if (lo_sched_stopping(r->sched))
            break;
        rc = rotate_slice(r, db, L, h, h + HOUR_US, o, err, errlen);
        if (rc == LO_ABSENT)
            rc = LO_OK;
    }
    if (rc == LO_OK && !lo_sched_stopping(r->sched))
        rc = drop_emptied(r, db, L, parts, limit, o, err, errlen);
    PQclear(parts);
    return rc;
}

int lo_rotate_run(lo_rotate_t *r, PGconn *db, const lo_rotate_opts_t *o, char *err, size_t errlen)
{
    err[0] = '\0';
    lo_stat_add(&r->st.runs, 1);
    int first = remove_orphans(r, db, o, err, errlen);
    if (first == LO_UNAVAIL)
        goto out;
    const int64_t keep[LO_SIGNAL_COUNT] = { r->cfg->retention_logs_days, r->cfg->retention_spans_days,
                                            r->cfg->retention_metrics_days };
    char err2[512];
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        if (o->signals && !(o->signals & (1u << s)))
            continue;
        int rc = rotate_signal(r, db, (lo_signal_t)s, o, err2, sizeof err2);
        if (rc == LO_OK && (rc = compact_signal(r, db, (lo_signal_t)s, o, err2, sizeof err2)) != LO_OK &&
            rc != LO_UNAVAIL) {
            /* compaction only saves reads: the run goes on, the next one tries again */
            lo_log_warn("compaction failed", "signal=%s error=\"%.300s\"", lo_signal_name((lo_signal_t)s),
                        err2);
            say(o, "%s: compaction failed: %s", lo_signal_name((lo_signal_t)s), err2);
            rc = LO_OK;
        }
        if (rc == LO_OK && keep[s] > 0)
            rc = expire(r, db, (lo_signal_t)s, keep[s], o, err2, sizeof err2);
        if (rc != LO_OK) {
            lo_log_warn("rotation failed", "signal=%s error=\"%.300s\"", lo_signal_name((lo_signal_t)s),
                        err2);
            say(o, "%s: failed: %s", lo_signal_name((lo_signal_t)s), err2);
            if (first == LO_OK) {
                first = rc;
                snprintf(err, errlen, "%s: %s", lo_signal_name((lo_signal_t)s), err2);
            }
            if (rc == LO_UNAVAIL)
                break;
        }
    }
out:
    lo_buf_free(&r->spare); /* runs are minutes apart */
    if (first != LO_OK)
        lo_stat_add(&r->st.failures, 1);
    return first;
}

/* ---- the module ---- */

static int task(PGconn *db, void *arg, char *err, size_t errlen)
{
    lo_rotate_opts_t o = { 0 };
    return lo_rotate_run(arg, db, &o, err, errlen);
}

static void render_metrics(void *arg, lo_buf_t *out)
{
    rot_stats_t *s = &((lo_rotate_t *)arg)->st;
    lo_buf_printf(
        out,
        "# HELP lookout_rotate_runs_total Rotations run on this node, and those that failed.\n"
        "# TYPE lookout_rotate_runs_total counter\n"
        "lookout_rotate_runs_total{result=\"ok\"} %lld\nlookout_rotate_runs_total{result=\"error\"} %lld\n"
        "# HELP lookout_rotate_orphans_removed_total Objects of unfinished rotations removed.\n"
        "# TYPE lookout_rotate_orphans_removed_total counter\nlookout_rotate_orphans_removed_total %lld\n"
        "# HELP lookout_cold_expired_files_total Cold files deleted by retention.\n"
        "# TYPE lookout_cold_expired_files_total counter\nlookout_cold_expired_files_total %lld\n"
        "# HELP lookout_rotate_partitions_dropped_total Hot partitions dropped once emptied.\n"
        "# TYPE lookout_rotate_partitions_dropped_total counter\n"
        "lookout_rotate_partitions_dropped_total %lld\n"
        "# HELP lookout_cold_compacted_files_total Cold files merged into bigger ones by compaction.\n"
        "# TYPE lookout_cold_compacted_files_total counter\nlookout_cold_compacted_files_total %lld\n",
        (long long)(atomic_load(&s->runs) - atomic_load(&s->failures)), (long long)atomic_load(&s->failures),
        (long long)atomic_load(&s->orphans), (long long)atomic_load(&s->expired),
        (long long)atomic_load(&s->dropped), (long long)atomic_load(&s->compacted));
    static const char *const what[3][2] = {
        { "files", "Cold files written" },
        { "rows", "Rows moved to the cold tier" },
        { "bytes", "Bytes of cold files written" },
    };
    for (int k = 0; k < 3; k++) {
        lo_buf_printf(out, "# HELP lookout_rotate_%s_total %s.\n# TYPE lookout_rotate_%s_total counter\n",
                      what[k][0], what[k][1], what[k][0]);
        for (int sig = 0; sig < LO_SIGNAL_COUNT; sig++) {
            atomic_llong *c = k == 0 ? &s->files[sig] : k == 1 ? &s->rows[sig] : &s->bytes[sig];
            lo_buf_printf(out, "lookout_rotate_%s_total{signal=\"%s\"} %lld\n", what[k][0],
                          lo_signal_name((lo_signal_t)sig), (long long)atomic_load(c));
        }
    }
}

lo_rotate_t *lo_rotate_create(const lo_config_t *cfg, const lo_retention_t *ret, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!cfg->cold_url || !cfg->cold_url[0])
        return NULL;
    lo_rotate_t *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->ret = ret;
    char e[512];
    if (!(r->store = lo_objstore_open(cfg->cold_url, e, sizeof e))) {
        snprintf(err, errlen, "cold_url: %s", e);
        free(r);
        return NULL;
    }
    return r;
}

int lo_rotate_add_task(lo_rotate_t *r, lo_sched_t *sched)
{
    r->sched = sched;
    lo_task_t t = { .name = "rotate",
                    .period_ms = r->cfg->rotate_interval * 1000,
                    .jitter_ms = r->cfg->rotate_interval * 100 < ROTATE_JITTER_MS
                                     ? r->cfg->rotate_interval * 100
                                     : ROTATE_JITTER_MS,
                    .lock_key = LO_LOCK_TASK_ROTATE,
                    .run = task,
                    .arg = r };
    return lo_sched_add(sched, &t);
}

int lo_rotate_register(lo_rotate_t *r, lo_sched_t *sched)
{
    return lo_rotate_add_task(r, sched) == LO_OK && lo_metrics_add_renderer(render_metrics, r) == LO_OK
               ? LO_OK
               : LO_ERROR;
}

void lo_rotate_destroy(lo_rotate_t *r)
{
    if (!r)
        return;
    lo_objstore_close(r->store);
    lo_buf_free(&r->spare);
    free(r);
}
