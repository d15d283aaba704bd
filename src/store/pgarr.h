/*
 * pgarr.h — one-dimensional PostgreSQL arrays in binary format, built for
 * a bound parameter (PQexecParams with paramFormats 1).  A whole batch of
 * rows goes to the server as a few arrays and one statement,
 *   INSERT ... SELECT * FROM unnest($1::bytea[], $2::uuid[], ...)
 * so no value is ever spliced into SQL and no row costs a round trip.
 */
#ifndef LO_PGARR_H
#define LO_PGARR_H

#include "core/buf.h"

/* Element type OIDs (pg_type.h) and the matching array type OIDs. */
#define LO_OID_BOOL        16
#define LO_OID_BYTEA       17
#define LO_OID_INT8        20
#define LO_OID_INT2        21
#define LO_OID_INT4        23
#define LO_OID_TEXT        25
#define LO_OID_FLOAT8      701
#define LO_OID_TIMESTAMPTZ 1184
#define LO_OID_UUID        2950
#define LO_OID_JSONB       3802

#define LO_OID_BOOL_ARRAY        1000
#define LO_OID_BYTEA_ARRAY       1001
#define LO_OID_INT2_ARRAY        1005
#define LO_OID_INT4_ARRAY        1007
#define LO_OID_TEXT_ARRAY        1009
#define LO_OID_INT8_ARRAY        1016
#define LO_OID_FLOAT8_ARRAY      1022
#define LO_OID_TIMESTAMPTZ_ARRAY 1185
#define LO_OID_UUID_ARRAY        2951
#define LO_OID_JSONB_ARRAY       3807

typedef struct {
    lo_buf_t buf;
    uint32_t n;
    bool has_null;
} lo_pgarr_t;

void lo_pgarr_init(lo_pgarr_t *a);
void lo_pgarr_free(lo_pgarr_t *a);
/* Starts an empty array of elem_oid (keeps the buffer's capacity). */
void lo_pgarr_begin(lo_pgarr_t *a, uint32_t elem_oid);
/* Appends one element in its binary form; p == NULL appends SQL NULL. */
void lo_pgarr_add(lo_pgarr_t *a, const void *p, size_t len);
void lo_pgarr_add_i16(lo_pgarr_t *a, int16_t v);
void lo_pgarr_add_i32(lo_pgarr_t *a, int32_t v);
void lo_pgarr_add_i64(lo_pgarr_t *a, int64_t v);
void lo_pgarr_add_bool(lo_pgarr_t *a, bool v);
/* timestamptz from Unix nanoseconds (stored as microseconds). */
void lo_pgarr_add_ts(lo_pgarr_t *a, int64_t unix_ns);
/* jsonb: the version byte, then the JSON text; empty text appends NULL. */
void lo_pgarr_add_jsonb(lo_pgarr_t *a, const char *p, size_t len);
/* Completes the header.  LO_OK or the buffer's error (out of memory). */
int lo_pgarr_finish(lo_pgarr_t *a) LO_MUST_USE;

#endif
