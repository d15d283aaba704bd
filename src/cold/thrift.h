/*
 * thrift.h — the Thrift compact protocol, as Parquet uses it for its
 * metadata (page headers, the footer, page indexes, bloom filter headers).
 *
 * The encoder appends to a lo_buf_t and remembers the last field id of each
 * open struct; errors stay in the buffer (lo_buf_t.err), so a caller checks
 * once at the end.  The decoder walks a byte range as a stream of
 * (field id, wire type, value), in the manner of a pull parser: the caller
 * keeps the last field id of the struct it is reading, asks for the next
 * field, reads the value it knows and skips the others.  Every length, list
 * size and nesting depth is checked against the bytes that remain and the
 * depth limit; nothing reads past the input.
 */
#ifndef LO_COLD_THRIFT_H
#define LO_COLD_THRIFT_H

#include "core/buf.h"
#include "core/lo.h"

/* Compact protocol wire types (the low nibble of a field header). */
enum {
    LO_THRIFT_STOP = 0,
    LO_THRIFT_TRUE = 1, /* a bool field whose value is true; also the bool element type */
    LO_THRIFT_FALSE = 2,
    LO_THRIFT_BYTE = 3,
    LO_THRIFT_I16 = 4,
    LO_THRIFT_I32 = 5,
    LO_THRIFT_I64 = 6,
    LO_THRIFT_DOUBLE = 7,
    LO_THRIFT_BINARY = 8,
    LO_THRIFT_LIST = 9,
    LO_THRIFT_SET = 10,
    LO_THRIFT_MAP = 11,
    LO_THRIFT_STRUCT = 12,
};

/* The deepest struct nesting either side handles (Parquet's own is 6). */
#define LO_THRIFT_MAX_DEPTH 32

/* ---- encoder ---- */

/* An encoder: the output buffer and the last field id of each open struct. */
typedef struct {
    lo_buf_t *out;
    int depth;
    int16_t last[LO_THRIFT_MAX_DEPTH + 1];
} lo_thrift_w_t;

/* Starts encoding one top-level struct into out (appended after its bytes). */
void lo_thrift_w_init(lo_thrift_w_t *w, lo_buf_t *out);
/* Ends the top-level struct (its stop byte).  LO_OK, or the buffer's error. */
LO_MUST_USE int lo_thrift_w_finish(lo_thrift_w_t *w);

/* A field header: short form when the id is 1..15 above the last, else long. */
void lo_thrift_w_field(lo_thrift_w_t *w, int16_t id, int type);
/* Fields of scalar types (the header, then the value). */
void lo_thrift_w_bool(lo_thrift_w_t *w, int16_t id, bool v);
void lo_thrift_w_i32(lo_thrift_w_t *w, int16_t id, int32_t v);
void lo_thrift_w_i64(lo_thrift_w_t *w, int16_t id, int64_t v);
void lo_thrift_w_double(lo_thrift_w_t *w, int16_t id, double v);
void lo_thrift_w_binary(lo_thrift_w_t *w, int16_t id, const void *p, size_t n);
/* A struct field: its header, then its fields, then lo_thrift_w_struct_end. */
void lo_thrift_w_struct_begin(lo_thrift_w_t *w, int16_t id);
/* A struct that is a list element (no field header). */
void lo_thrift_w_elem_struct_begin(lo_thrift_w_t *w);
/* Ends the innermost open struct (its stop byte). */
void lo_thrift_w_struct_end(lo_thrift_w_t *w);
/* A list field's header; its n elements follow (lo_thrift_w_elem_*). */
void lo_thrift_w_list_begin(lo_thrift_w_t *w, int16_t id, int elem_type, size_t n);
/* List elements of scalar types. */
void lo_thrift_w_elem_bool(lo_thrift_w_t *w, bool v);
void lo_thrift_w_elem_i32(lo_thrift_w_t *w, int32_t v);
void lo_thrift_w_elem_i64(lo_thrift_w_t *w, int64_t v);
void lo_thrift_w_elem_binary(lo_thrift_w_t *w, const void *p, size_t n);

/* Appends an unsigned LEB128 varint (also used by Parquet's encodings). */
void lo_varint_put(lo_buf_t *b, uint64_t v);
/* Zigzag mapping of a signed integer onto an unsigned one, and back. */
static inline uint64_t lo_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t lo_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}
/* Reads an unsigned LEB128 varint of at most 10 bytes from [*p, end);
 * advances *p.  LO_OK or LO_INVALID (truncated or too long). */
LO_MUST_USE int lo_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* ---- decoder ---- */

/* A decoder over [p, end).  err names the first problem found. */
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    int depth;
    int max_depth;
    const char *err;
} lo_thrift_r_t;

/* Starts decoding n bytes at p; max_depth (<= LO_THRIFT_MAX_DEPTH, 0 for
 * that) bounds struct nesting. */
void lo_thrift_r_init(lo_thrift_r_t *r, const void *p, size_t n, int max_depth);
/* Enters a struct (the top-level one, or a field or element of type
 * STRUCT): checks the type and the depth.  LO_OK or LO_INVALID. */
LO_MUST_USE int lo_thrift_r_enter(lo_thrift_r_t *r, int type);
/* Leaves the struct entered last (after lo_thrift_r_field said LO_ABSENT). */
void lo_thrift_r_leave(lo_thrift_r_t *r);
/* The next field of the current struct: its id (from *last, which it
 * updates) and wire type.  LO_OK, LO_ABSENT at the struct's stop byte, or
 * LO_INVALID. */
LO_MUST_USE int lo_thrift_r_field(lo_thrift_r_t *r, int16_t *last, int16_t *id, int *type);
/* Skips a value of the given wire type (nested values included). */
LO_MUST_USE int lo_thrift_r_skip(lo_thrift_r_t *r, int type);
/* Scalar values: type is the field's (or the list's element) wire type,
 * checked against what the value may be; integers are range-checked. */
LO_MUST_USE int lo_thrift_r_bool(lo_thrift_r_t *r, int type, bool *v, bool in_list);
LO_MUST_USE int lo_thrift_r_i32(lo_thrift_r_t *r, int type, int32_t *v);
LO_MUST_USE int lo_thrift_r_i64(lo_thrift_r_t *r, int type, int64_t *v);
LO_MUST_USE int lo_thrift_r_double(lo_thrift_r_t *r, int type, double *v);
/* A binary value: a view into the input, bounded by what remains. */
LO_MUST_USE int lo_thrift_r_binary(lo_thrift_r_t *r, int type, const uint8_t **p, size_t *n);
/* A list (or set) header: element type and count; the count is bounded by
 * the bytes that remain (every element takes at least one). */
LO_MUST_USE int lo_thrift_r_list(lo_thrift_r_t *r, int type, int *elem_type, size_t *n);
/* Bytes consumed so far from the start given to lo_thrift_r_init. */
static inline size_t lo_thrift_r_pos(const lo_thrift_r_t *r, const void *start)
{
    return (size_t)(r->p - (const uint8_t *)start);
}

#endif
