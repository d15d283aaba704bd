/*
 * pb.h — a protobuf wire reader: the body is read as a stream of
 * (field number, wire type, value or view) without generated code and
 * without allocating.  Every length is checked against what remains;
 * groups (wire types 3/4) and wire types 6/7 are errors.  The schema lives
 * in the callers (pb_logs.c, pb_traces.c, pb_metrics.c), which switch on
 * field numbers and skip what they do not know.
 */
#ifndef LO_OTLP_PB_H
#define LO_OTLP_PB_H

#include "core/lo.h"

enum { LO_PB_VARINT = 0, LO_PB_I64 = 1, LO_PB_LEN = 2, LO_PB_I32 = 5 };

/* lo_pb_next results: a field, the end, or why the bytes are not protobuf. */
enum {
    LO_PB_FIELD = 1,
    LO_PB_END = 0,
    LO_PB_E_TRUNC = -1,    /* a value or length runs past the end */
    LO_PB_E_VARINT = -2,   /* varint longer than 10 bytes or above 2^64 */
    LO_PB_E_WIRETYPE = -3, /* group or reserved wire type */
    LO_PB_E_FIELDNUM = -4  /* field number 0 or above 2^29-1 */
};

typedef struct {
    const uint8_t *p, *end;
} lo_pb_reader_t;

typedef struct {
    uint32_t num;
    uint32_t wt;
    uint64_t v;       /* VARINT, I64, I32: the value */
    const uint8_t *p; /* LEN: view into the input */
    size_t n;
} lo_pb_field_t;

static inline void lo_pb_init(lo_pb_reader_t *r, const uint8_t *p, size_t n)
{
    r->p = p;
    r->end = p + n;
}

/* Reads a varint at *pp (< end).  LO_PB_FIELD, LO_PB_E_TRUNC or LO_PB_E_VARINT. */
static inline int lo_pb_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *out = *p;
        *pp = p + 1;
        return LO_PB_FIELD;
    }
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= end)
            return LO_PB_E_TRUNC;
        uint8_t c = *p++;
        if (shift == 63 && c > 1)
            return LO_PB_E_VARINT;
        v |= (uint64_t)(c & 0x7F) << shift;
        if (c < 0x80) {
            *out = v;
            *pp = p;
            return LO_PB_FIELD;
        }
    }
    return LO_PB_E_VARINT;
}

static inline uint64_t lo_pb_rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t lo_pb_rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

/* Reads the next field.  LO_PB_FIELD (f filled), LO_PB_END, or an error
 * (f->num says which field when the tag was readable, else 0). */
static inline int lo_pb_next(lo_pb_reader_t *r, lo_pb_field_t *f)
{
    if (r->p >= r->end)
        return LO_PB_END;
    uint64_t tag;
    f->num = 0;
    int rc = lo_pb_varint(&r->p, r->end, &tag);
    if (rc != LO_PB_FIELD)
        return rc;
    if (tag > 0xFFFFFFFFu || (tag >> 3) == 0)
        return LO_PB_E_FIELDNUM;
    f->num = (uint32_t)(tag >> 3);
    f->wt = (uint32_t)(tag & 7);
    size_t left;
    switch (f->wt) {
    case LO_PB_VARINT: return lo_pb_varint(&r->p, r->end, &f->v);
    case LO_PB_I64:
        if ((size_t)(r->end - r->p) < 8)
            return LO_PB_E_TRUNC;
        f->v = lo_pb_rd64(r->p);
        r->p += 8;
        return LO_PB_FIELD;
    case LO_PB_I32:
        if ((size_t)(r->end - r->p) < 4)
            return LO_PB_E_TRUNC;
        f->v = lo_pb_rd32(r->p);
        r->p += 4;
        return LO_PB_FIELD;
    case LO_PB_LEN: {
        uint64_t n;
        rc = lo_pb_varint(&r->p, r->end, &n);
        if (rc != LO_PB_FIELD)
            return rc;
        left = (size_t)(r->end - r->p);
        if (n > left)
            return LO_PB_E_TRUNC;
        f->p = r->p;
        f->n = (size_t)n;
        r->p += n;
        return LO_PB_FIELD;
    }
    default: return LO_PB_E_WIRETYPE;
    }
}

/* Human words for a lo_pb_next error. */
const char *lo_pb_strerror(int rc);

static inline int32_t lo_pb_zigzag32(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

/* Iterates a repeated scalar field occurrence, packed or not.  For a
 * packed occurrence (LEN) call lo_pb_packed_* over its view; an unpacked
 * occurrence carries the one value in f->v. */
typedef struct {
    const uint8_t *p, *end;
} lo_pb_packed_t;

/* Next packed fixed64 / varint.  1 = value, 0 = end, <0 = error. */
static inline int lo_pb_packed_next64(lo_pb_packed_t *k, uint64_t *v)
{
    if (k->p >= k->end)
        return 0;
    if ((size_t)(k->end - k->p) < 8)
        return LO_PB_E_TRUNC;
    *v = lo_pb_rd64(k->p);
    k->p += 8;
    return 1;
}

static inline int lo_pb_packed_next_varint(lo_pb_packed_t *k, uint64_t *v)
{
    if (k->p >= k->end)
        return 0;
    return lo_pb_varint(&k->p, k->end, v);
}

/* ---- writing, for the response bodies ---- */

/* Encodes v as a varint into out (>= 10 bytes); returns the length. */
static inline size_t lo_pb_put_varint(uint8_t *out, uint64_t v)
{
    size_t i = 0;
    while (v >= 0x80) {
        out[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[i++] = (uint8_t)v;
    return i;
}

#endif
