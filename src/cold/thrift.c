#include "cold/thrift.h"

#include <assert.h>

/* ---- encoder ---- */

void lo_varint_put(lo_buf_t *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    lo_buf_append(b, tmp, n);
}

void lo_thrift_w_init(lo_thrift_w_t *w, lo_buf_t *out)
{
    w->out = out;
    w->depth = 0;
    w->last[0] = 0;
}

int lo_thrift_w_finish(lo_thrift_w_t *w)
{
    assert(w->depth == 0);
    lo_buf_putc(w->out, 0);
    return w->out->err;
}

void lo_thrift_w_field(lo_thrift_w_t *w, int16_t id, int type)
{
    int delta = id - w->last[w->depth];
    if (delta > 0 && delta <= 15) {
        lo_buf_putc(w->out, (char)((delta << 4) | type));
    } else {
        lo_buf_putc(w->out, (char)type);
        lo_varint_put(w->out, lo_zigzag(id));
    }
    w->last[w->depth] = id;
}

void lo_thrift_w_bool(lo_thrift_w_t *w, int16_t id, bool v)
{
    /* a bool field's value is its type nibble */
    lo_thrift_w_field(w, id, v ? LO_THRIFT_TRUE : LO_THRIFT_FALSE);
}

void lo_thrift_w_i32(lo_thrift_w_t *w, int16_t id, int32_t v)
{
    lo_thrift_w_field(w, id, LO_THRIFT_I32);
    lo_varint_put(w->out, lo_zigzag(v));
}

void lo_thrift_w_i64(lo_thrift_w_t *w, int16_t id, int64_t v)
{
    lo_thrift_w_field(w, id, LO_THRIFT_I64);
    lo_varint_put(w->out, lo_zigzag(v));
}

void lo_thrift_w_double(lo_thrift_w_t *w, int16_t id, double v)
{
    uint64_t u;
    uint8_t le[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(u >> (8 * i));
    lo_thrift_w_field(w, id, LO_THRIFT_DOUBLE);
    lo_buf_append(w->out, le, 8);
}

void lo_thrift_w_binary(lo_thrift_w_t *w, int16_t id, const void *p, size_t n)
{
    lo_thrift_w_field(w, id, LO_THRIFT_BINARY);
    lo_thrift_w_elem_binary(w, p, n);
}

void lo_thrift_w_struct_begin(lo_thrift_w_t *w, int16_t id)
{
    lo_thrift_w_field(w, id, LO_THRIFT_STRUCT);
    lo_thrift_w_elem_struct_begin(w);
}

void lo_thrift_w_elem_struct_begin(lo_thrift_w_t *w)
{
    assert(w->depth < LO_THRIFT_MAX_DEPTH);
    w->last[++w->depth] = 0;
}

void lo_thrift_w_struct_end(lo_thrift_w_t *w)
{
    assert(w->depth > 0);
    lo_buf_putc(w->out, 0);
    w->depth--;
}

void lo_thrift_w_list_begin(lo_thrift_w_t *w, int16_t id, int elem_type, size_t n)
{
    lo_thrift_w_field(w, id, LO_THRIFT_LIST);
    if (n < 15) {
        lo_buf_putc(w->out, (char)((n << 4) | (size_t)elem_type));
    } else {
        lo_buf_putc(w->out, (char)(0xF0 | elem_type));
        lo_varint_put(w->out, n);
    }
}

void lo_thrift_w_elem_bool(lo_thrift_w_t *w, bool v)
{
    lo_buf_putc(w->out, v ? LO_THRIFT_TRUE : LO_THRIFT_FALSE);
}

void lo_thrift_w_elem_i32(lo_thrift_w_t *w, int32_t v)
{
    lo_varint_put(w->out, lo_zigzag(v));
}

void lo_thrift_w_elem_i64(lo_thrift_w_t *w, int64_t v)
{
    lo_varint_put(w->out, lo_zigzag(v));
}

void lo_thrift_w_elem_binary(lo_thrift_w_t *w, const void *p, size_t n)
{
    lo_varint_put(w->out, n);
    lo_buf_append(w->out, p, n);
}

/* ---- decoder ---- */

int lo_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    const uint8_t *q = *p;
    for (int shift = 0; shift < 64; shift += 7) {
        if (q >= end)
            return LO_INVALID;
        uint8_t b = *q++;
        if (shift == 63 && b > 1)
            return LO_INVALID; /* past 64 bits */
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *v = x;
            return LO_OK;
        }
    }
    return LO_INVALID;
}

static int fail(lo_thrift_r_t *r, const char *why)
{
    if (r->err == NULL)
        r->err = why;
    return LO_INVALID;
}

void lo_thrift_r_init(lo_thrift_r_t *r, const void *p, size_t n, int max_depth)
{
    r->p = p;
    r->end = r->p + n;
    r->depth = 0;
    r->max_depth = max_depth > 0 && max_depth <= LO_THRIFT_MAX_DEPTH ? max_depth : LO_THRIFT_MAX_DEPTH;
    r->err = NULL;
}

int lo_thrift_r_enter(lo_thrift_r_t *r, int type)
{
    if (type != LO_THRIFT_STRUCT)
        return fail(r, "thrift: a struct was expected");
    if (r->depth >= r->max_depth)
        return fail(r, "thrift: structs nested too deep");
    r->depth++;
    return LO_OK;
}

void lo_thrift_r_leave(lo_thrift_r_t *r)
{
    assert(r->depth > 0);
    r->depth--;
}

int lo_thrift_r_field(lo_thrift_r_t *r, int16_t *last, int16_t *id, int *type)
{
    if (r->p >= r->end)
        return fail(r, "thrift: struct truncated");
    uint8_t b = *r->p++;
    if (b == 0)
        return LO_ABSENT;
    int t = b & 0x0f, delta = b >> 4;
    if (t > LO_THRIFT_STRUCT)
        return fail(r, "thrift: unknown wire type");
    if (delta != 0) {
        if (*last > INT16_MAX - delta)
            return fail(r, "thrift: field id out of range");
        *id = (int16_t)(*last + delta);
    } else {
        uint64_t u;
        if (lo_varint_get(&r->p, r->end, &u) != LO_OK)
            return fail(r, "thrift: bad field id");
        int64_t v = lo_unzigzag(u);
        if (v < INT16_MIN || v > INT16_MAX)
            return fail(r, "thrift: field id out of range");
        *id = (int16_t)v;
    }
    *last = *id;
    *type = t;
    return LO_OK;
}

static int get_zigzag(lo_thrift_r_t *r, int64_t *v)
{
    uint64_t u;
    if (lo_varint_get(&r->p, r->end, &u) != LO_OK)
        return fail(r, "thrift: bad varint");
    *v = lo_unzigzag(u);
    return LO_OK;
}

int lo_thrift_r_i64(lo_thrift_r_t *r, int type, int64_t *v)
{
    if (type == LO_THRIFT_BYTE) {
        if (r->p >= r->end)
            return fail(r, "thrift: byte truncated");
        *v = (int8_t)*r->p++;
        return LO_OK;
    }
    if (type != LO_THRIFT_I16 && type != LO_THRIFT_I32 && type != LO_THRIFT_I64)
        return fail(r, "thrift: an integer was expected");
    return get_zigzag(r, v);
}

int lo_thrift_r_i32(lo_thrift_r_t *r, int type, int32_t *v)
{
    int64_t x;
    if (type == LO_THRIFT_I64)
        return fail(r, "thrift: a 32-bit integer was expected");
    if (lo_thrift_r_i64(r, type, &x) != LO_OK)
        return LO_INVALID;
    if (x < INT32_MIN || x > INT32_MAX)
        return fail(r, "thrift: integer out of range");
    *v = (int32_t)x;
    return LO_OK;
}

int lo_thrift_r_bool(lo_thrift_r_t *r, int type, bool *v, bool in_list)
{
    if (!in_list) {
        if (type != LO_THRIFT_TRUE && type != LO_THRIFT_FALSE)
            return fail(r, "thrift: a bool was expected");
        *v = type == LO_THRIFT_TRUE;
        return LO_OK;
    }
    if (type != LO_THRIFT_TRUE && type != LO_THRIFT_FALSE)
        return fail(r, "thrift: a list of bools was expected");
    if (r->p >= r->end)
        return fail(r, "thrift: bool truncated");
    *v = *r->p++ == LO_THRIFT_TRUE;
    return LO_OK;
}

int lo_thrift_r_double(lo_thrift_r_t *r, int type, double *v)
{
    if (type != LO_THRIFT_DOUBLE)
        return fail(r, "thrift: a double was expected");
    if (r->end - r->p < 8)
        return fail(r, "thrift: double truncated");
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    memcpy(v, &u, 8);
    return LO_OK;
}

int lo_thrift_r_binary(lo_thrift_r_t *r, int type, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (type != LO_THRIFT_BINARY)
        return fail(r, "thrift: binary was expected");
    if (lo_varint_get(&r->p, r->end, &len) != LO_OK)
        return fail(r, "thrift: bad binary length");
    if (len > (uint64_t)(r->end - r->p))
        return fail(r, "thrift: binary longer than its input");
    *p = r->p;
    *n = (size_t)len;
    r->p += len;
    return LO_OK;
}

int lo_thrift_r_list(lo_thrift_r_t *r, int type, int *elem_type, size_t *n)
{
    if (type != LO_THRIFT_LIST && type != LO_THRIFT_SET)
        return fail(r, "thrift: a list was expected");
    if (r->p >= r->end)
        return fail(r, "thrift: list truncated");
    uint8_t b = *r->p++;
    uint64_t size = b >> 4;
    if (size == 15 && lo_varint_get(&r->p, r->end, &size) != LO_OK)
        return fail(r, "thrift: bad list size");
    *elem_type = b & 0x0f;
    if (*elem_type == LO_THRIFT_STOP || *elem_type > LO_THRIFT_STRUCT)
        return fail(r, "thrift: unknown list element type");
    if (size > (uint64_t)(r->end - r->p))
        return fail(r, "thrift: list longer than its input");
    *n = (size_t)size;
    return LO_OK;
}

int lo_thrift_r_skip(lo_thrift_r_t *r, int type)
{
    int64_t i;
    double d;
    bool b;
    const uint8_t *p;
    size_t n;
    switch (type) {
    case LO_THRIFT_TRUE:
    case LO_THRIFT_FALSE: return LO_OK; /* field form: the value was the type */
    case LO_THRIFT_BYTE:
    case LO_THRIFT_I16:
    case LO_THRIFT_I32:
    case LO_THRIFT_I64: return lo_thrift_r_i64(r, type, &i);
    case LO_THRIFT_DOUBLE: return lo_thrift_r_double(r, type, &d);
    case LO_THRIFT_BINARY: return lo_thrift_r_binary(r, type, &p, &n);
    case LO_THRIFT_LIST:
    case LO_THRIFT_SET: {
        int et;
        if (lo_thrift_r_list(r, type, &et, &n) != LO_OK)
            return LO_INVALID;
        if (r->depth >= r->max_depth)
            return fail(r, "thrift: values nested too deep");
        r->depth++;
        int rc = LO_OK;
        for (size_t k = 0; k < n && rc == LO_OK; k++)
            rc = et == LO_THRIFT_TRUE || et == LO_THRIFT_FALSE ? lo_thrift_r_bool(r, et, &b, true)
                                                               : lo_thrift_r_skip(r, et);
        r->depth--;
        return rc;
    }
    case LO_THRIFT_MAP: {
        uint64_t size;
        if (lo_varint_get(&r->p, r->end, &size) != LO_OK)
            return fail(r, "thrift: bad map size");
        if (size == 0)
            return LO_OK;
        if (r->p >= r->end || size > (uint64_t)(r->end - r->p))
            return fail(r, "thrift: map longer than its input");
        int kt = *r->p >> 4, vt = *r->p & 0x0f;
        r->p++;
        if (kt == LO_THRIFT_STOP || kt > LO_THRIFT_STRUCT || vt == LO_THRIFT_STOP || vt > LO_THRIFT_STRUCT)
            return fail(r, "thrift: unknown map element type");
        if (r->depth >= r->max_depth)
            return fail(r, "thrift: values nested too deep");
        r->depth++;
        int rc = LO_OK;
        for (uint64_t k = 0; k < size && rc == LO_OK; k++) {
            rc = kt <= LO_THRIFT_FALSE ? lo_thrift_r_bool(r, kt, &b, true) : lo_thrift_r_skip(r, kt);
            if (rc == LO_OK)
                rc = vt <= LO_THRIFT_FALSE ? lo_thrift_r_bool(r, vt, &b, true) : lo_thrift_r_skip(r, vt);
        }
        r->depth--;
        return rc;
    }
    case LO_THRIFT_STRUCT: {
        if (lo_thrift_r_enter(r, type) != LO_OK)
            return LO_INVALID;
        int16_t last = 0, id;
        int t, rc;
        while ((rc = lo_thrift_r_field(r, &last, &id, &t)) == LO_OK)
            if (lo_thrift_r_skip(r, t) != LO_OK)
                return LO_INVALID;
        if (rc != LO_ABSENT)
            return LO_INVALID;
        lo_thrift_r_leave(r);
        return LO_OK;
    }
    default: return fail(r, "thrift: unknown wire type");
    }
}
