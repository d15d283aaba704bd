/* pgarr.c — binary array parameters (see pgarr.h); the format is
 * array_recv's: ndim, flags (has nulls), element oid, then per dimension
 * its size and lower bound, then each element as length + bytes (-1: NULL),
 * every integer in network byte order. */
#include "store/pgarr.h"

#define HEADER 20 /* ndim, flags, oid, dim size, lower bound */

static void put32(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
}

void lo_pgarr_init(lo_pgarr_t *a)
{
    memset(a, 0, sizeof(*a));
    lo_buf_init(&a->buf, 0);
}

void lo_pgarr_free(lo_pgarr_t *a)
{
    if (a != NULL)
        lo_buf_free(&a->buf);
}

void lo_pgarr_begin(lo_pgarr_t *a, uint32_t elem_oid)
{
    lo_buf_reset(&a->buf);
    a->n = 0;
    a->has_null = false;
    if (lo_buf_reserve(&a->buf, HEADER) != LO_OK)
        return;
    char *p = a->buf.p;
    put32(p, 1);
    put32(p + 4, 0);
    put32(p + 8, elem_oid);
    put32(p + 12, 0);
    put32(p + 16, 1);
    a->buf.len = HEADER;
}

void lo_pgarr_add(lo_pgarr_t *a, const void *p, size_t len)
{
    if (lo_buf_reserve(&a->buf, 4 + (p != NULL ? len : 0)) != LO_OK)
        return;
    char *w = a->buf.p + a->buf.len;
    if (p == NULL) {
        put32(w, 0xFFFFFFFFu);
        a->buf.len += 4;
        a->has_null = true;
    } else {
        put32(w, (uint32_t)len);
        memcpy(w + 4, p, len);
        a->buf.len += 4 + len;
    }
    a->n++;
}

void lo_pgarr_add_i16(lo_pgarr_t *a, int16_t v)
{
    uint8_t b[2] = { (uint8_t)((uint16_t)v >> 8), (uint8_t)v };
    lo_pgarr_add(a, b, 2);
}

void lo_pgarr_add_i32(lo_pgarr_t *a, int32_t v)
{
    char b[4];
    put32(b, (uint32_t)v);
    lo_pgarr_add(a, b, 4);
}

void lo_pgarr_add_i64(lo_pgarr_t *a, int64_t v)
{
    char b[8];
    put32(b, (uint32_t)((uint64_t)v >> 32));
    put32(b + 4, (uint32_t)v);
    lo_pgarr_add(a, b, 8);
}

void lo_pgarr_add_bool(lo_pgarr_t *a, bool v)
{
    uint8_t b = v ? 1 : 0;
    lo_pgarr_add(a, &b, 1);
}

void lo_pgarr_add_ts(lo_pgarr_t *a, int64_t unix_ns)
{
    /* microseconds since 2000-01-01 UTC (floor: exact before 1970 too) */
    int64_t us = unix_ns / 1000 - (unix_ns % 1000 < 0);
    lo_pgarr_add_i64(a, us - 946684800000000LL);
}

void lo_pgarr_add_jsonb(lo_pgarr_t *a, const char *p, size_t len)
{
    if (len == 0) {
        lo_pgarr_add(a, NULL, 0);
        return;
    }
    if (lo_buf_reserve(&a->buf, 5 + len) != LO_OK)
        return;
    char *w = a->buf.p + a->buf.len;
    put32(w, (uint32_t)(len + 1));
    w[4] = 1; /* jsonb binary format version */
    memcpy(w + 5, p, len);
    a->buf.len += 5 + len;
    a->n++;
}

int lo_pgarr_finish(lo_pgarr_t *a)
{
    if (a->buf.err != LO_OK)
        return a->buf.err;
    if (a->buf.len < HEADER)
        return LO_ERROR;
    if (a->n == 0) {
        /* the empty array has no dimensions */
        put32(a->buf.p, 0);
        a->buf.len = 12;
        return LO_OK;
    }
    put32(a->buf.p + 4, a->has_null ? 1 : 0);
    put32(a->buf.p + 12, a->n);
    return LO_OK;
}
