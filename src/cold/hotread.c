/* hotread.c — a binary COPY of a hot table into column batches (hotread.h). */
#include "cold/hotread.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/ids.h"

#define PG_EPOCH_US  946684800000000LL /* 2000-01-01, PostgreSQL's epoch, in Unix microseconds */
#define HEADER_BYTES 19                /* signature, flags, extension length */
#define ARENA_CHUNK  ((size_t)4 << 20)

static const uint8_t SIGNATURE[11] = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0 };

typedef struct {
    const lo_cold_layout_t *L;
    lo_cold_batch_t b;
    lo_arena_t *arena; /* the batch's text */
    lo_buf_t in;       /* received, not yet parsed */
    bool header, trailer;
    char *err;
    size_t errlen;
} rd_t;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int bad(rd_t *r, const lo_cold_col_t *c, const char *what)
{
    snprintf(r->err, r->errlen, "%s.%s: %s", r->L->table, c ? c->name : "(row)", what);
    return LO_ERROR;
}

/* A signed big-endian integer of 2, 4 or 8 bytes. */
static bool int_of(const uint8_t *p, int32_t len, int64_t *out)
{
    switch (len) {
    case 2: *out = (int16_t)(uint16_t)((uint16_t)p[0] << 8 | p[1]); return true;
    case 4: *out = (int32_t)be32(p); return true;
    case 8: *out = (int64_t)be64(p); return true;
    default: return false;
    }
}

static char *text_of(rd_t *r, size_t n)
{
    return lo_arena_alloc(r->arena, n ? n : 1);
}

/* Row i of column j from a field of len bytes at p (len -1: null). */
static int put(rd_t *r, size_t j, size_t i, const uint8_t *p, int32_t len)
{
    const lo_cold_col_t *c = &r->L->cols[j];
    lo_cold_colbuf_t *cb = &r->b.cols[j];
    cb->nulls[i] = len < 0;
    if (len < 0) {
        if (!c->optional)
            return bad(r, c, "a null in a column that cannot hold one");
        switch (c->kind) {
        case LO_CK_TS:
        case LO_CK_I64: cb->v.i64[i] = 0; break;
        case LO_CK_I32: cb->v.i32[i] = 0; break;
        case LO_CK_F64: cb->v.f64[i] = 0; break;
        case LO_CK_BOOL: cb->v.b[i] = 0; break;
        case LO_CK_STR:
        case LO_CK_JSON: cb->v.s[i] = LO_STR_NULL; break;
        }
        return LO_OK;
    }
    int64_t v;
    switch (c->kind) {
    case LO_CK_TS:
        if (len != 8)
            return bad(r, c, "not a timestamp");
        v = (int64_t)be64(p);
        /* infinity (never written by ingest) stays at the extreme */
        cb->v.i64[i] = v == INT64_MAX || v == INT64_MIN ? v : v + PG_EPOCH_US;
        return LO_OK;
    case LO_CK_I64:
        if (!int_of(p, len, &v))
            return bad(r, c, "not an integer");
        cb->v.i64[i] = v;
        return LO_OK;
    case LO_CK_I32:
        if (!int_of(p, len, &v) || v < INT32_MIN || v > INT32_MAX)
            return bad(r, c, "not a 32-bit integer");
        cb->v.i32[i] = (int32_t)v;
        return LO_OK;
    case LO_CK_F64: {
        if (len != 8)
            return bad(r, c, "not a double");
        uint64_t u = be64(p);
        memcpy(&cb->v.f64[i], &u, 8);
        return LO_OK;
    }
    case LO_CK_BOOL:
        if (len != 1)
            return bad(r, c, "not a boolean");
        cb->v.b[i] = p[0] != 0;
        return LO_OK;
    case LO_CK_JSON:
        if (len < 1 || p[0] != 1)
            return bad(r, c, "not jsonb of version 1");
        p++, len--;
        break;
    case LO_CK_STR: break;
    }
    char *t;
    size_t n;
    switch (c->kind == LO_CK_STR ? c->text : LO_CT_TEXT) {
    case LO_CT_UUID:
        if (len != 16)
            return bad(r, c, "not a uuid");
        if (!(t = text_of(r, 37)))
            return bad(r, c, "out of memory");
        lo_uuid_format(p, t);
        n = 36;
        break;
    case LO_CT_HEX:
        if (!(t = text_of(r, (size_t)len * 2)))
            return bad(r, c, "out of memory");
        lo_hex_put(t, p, (size_t)len);
        n = (size_t)len * 2;
        break;
    default:
        if (!(t = text_of(r, (size_t)len)))
            return bad(r, c, "out of memory");
        memcpy(t, p, (size_t)len);
        n = (size_t)len;
    }
    cb->v.s[i] = lo_str(t, n);
    return LO_OK;
}

/* One tuple from the front of r->in into the batch.  1: done (or the
 * trailer), 0: more bytes needed, LO_ERROR. */
static int tuple(rd_t *r, size_t *used)
{
    const uint8_t *p = (const uint8_t *)r->in.p + *used, *end = (const uint8_t *)r->in.p + r->in.len;
    if (end - p < 2)
        return 0;
    int n = (int16_t)(uint16_t)((uint16_t)p[0] << 8 | p[1]);
    if (n == -1) {
        r->trailer = true;
        *used += 2;
        return 1;
    }
    if (n != (int)r->L->n_cols)
        return bad(r, NULL, "a row of another number of columns");
    const uint8_t *q = p + 2;
    for (int j = 0; j < n; j++) { /* whole? */
        if (end - q < 4)
            return 0;
        int32_t len = (int32_t)be32(q);
        q += 4;
        if (len < -1)
            return bad(r, &r->L->cols[j], "a negative length");
        if (len > 0) {
            if (end - q < len)
                return 0;
            q += len;
        }
    }
    q = p + 2;
    for (int j = 0; j < n; j++) {
        int32_t len = (int32_t)be32(q);
        q += 4;
        if (put(r, (size_t)j, r->b.n, q, len) != LO_OK)
            return LO_ERROR;
        if (len > 0)
            q += len;
    }
    r->b.n++;
    *used = (size_t)(q - (const uint8_t *)r->in.p);
    return 1;
}

/* Parses what r->in holds, handing full batches to fn. */
static int parse(rd_t *r, size_t cap, lo_cold_batch_fn fn, void *ud)
{
    size_t used = 0;
    if (!r->header) {
        if (r->in.len < HEADER_BYTES)
            return LO_OK;
        const uint8_t *p = (const uint8_t *)r->in.p;
        if (memcmp(p, SIGNATURE, sizeof SIGNATURE) != 0 || (be32(p + 11) & 0x10000u) != 0)
            return bad(r, NULL, "not a binary COPY stream without OIDs");
        uint32_t ext = be32(p + 15);
        if (r->in.len < HEADER_BYTES + (size_t)ext)
            return LO_OK;
        used = HEADER_BYTES + ext;
        r->header = true;
    }
    while (!r->trailer) {
        int rc = tuple(r, &used);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (r->b.n == cap) {
            if ((rc = fn(ud, &r->b)) != LO_OK)
                return rc;
            r->b.n = 0;
            lo_arena_reset(r->arena);
        }
    }
    memmove(r->in.p, r->in.p + used, r->in.len - used);
    r->in.len -= used;
    return LO_OK;
}

int lo_cold_read(PGconn *db, const lo_cold_layout_t *L, int64_t from_us, int64_t to_us, size_t batch_rows,
                 lo_cold_batch_fn fn, void *ud, char *err, size_t errlen)
{
    rd_t r = { .L = L, .err = err, .errlen = errlen };
    lo_buf_init(&r.in, 0);
    int rc = LO_ERROR;
    lo_buf_t q;
    lo_buf_init(&q, 0);
    lo_buf_puts(&q, "COPY (SELECT ");
    for (size_t i = 0; i < L->n_cols; i++)
        lo_buf_printf(&q, "%s%s", i ? ", " : "", L->cols[i].sql);
    /* the bounds are integers computed here, never input */
    lo_buf_printf(&q,
                  " FROM %s WHERE t.%s >= lo_us_ts(%lld) AND t.%s < lo_us_ts(%lld) ORDER BY %s) TO STDOUT "
                  "(FORMAT binary)",
                  L->from, L->time_col, (long long)from_us, L->time_col, (long long)to_us, L->order);
    lo_buf_putc(&q, '\0');
    r.b.cols = calloc(L->n_cols, sizeof *r.b.cols);
    r.arena = lo_arena_create(ARENA_CHUNK, 0);
    bool ok = q.err == LO_OK && r.b.cols && r.arena && batch_rows > 0;
    for (size_t j = 0; ok && j < L->n_cols; j++) {
        r.b.cols[j].nulls = malloc(batch_rows);
        r.b.cols[j].v.s = malloc(batch_rows * sizeof(lo_str_t));
        ok = r.b.cols[j].nulls && r.b.cols[j].v.s;
    }
    if (!ok) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    PGresult *res = PQexec(db, q.p);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(res));
        rc = PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
        PQclear(res);
        goto done;
    }
    PQclear(res);
    rc = LO_OK;
    for (;;) {
        char *chunk = NULL;
        int n = PQgetCopyData(db, &chunk, 0);
        if (n < 0)
            break;
        /* after a failure the rest of the stream is read and dropped: the
         * connection must leave the COPY state */
        if (rc == LO_OK && lo_buf_append(&r.in, chunk, (size_t)n) != LO_OK) {
            snprintf(err, errlen, "out of memory");
            rc = LO_ERROR;
        }
        PQfreemem(chunk);
        if (rc == LO_OK)
            rc = parse(&r, batch_rows, fn, ud);
    }
    while ((res = PQgetResult(db)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == LO_OK) {
            snprintf(err, errlen, "%s", PQresultErrorMessage(res));
            rc = PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
        }
        PQclear(res);
    }
    if (rc == LO_OK && PQstatus(db) != CONNECTION_OK) {
        snprintf(err, errlen, "the database connection was lost");
        rc = LO_UNAVAIL;
    }
    if (rc == LO_OK && (!r.trailer || r.in.len != 0))
        rc = bad(&r, NULL, "the COPY stream ended early or with bytes after its end");
    if (rc == LO_OK && r.b.n > 0)
        rc = fn(ud, &r.b);
done:
    for (size_t j = 0; r.b.cols && j < L->n_cols; j++) {
        free(r.b.cols[j].nulls);
        free(r.b.cols[j].v.s);
    }
    free(r.b.cols);
    lo_arena_destroy(r.arena);
    lo_buf_free(&r.in);
    lo_buf_free(&q);
    return rc;
}
