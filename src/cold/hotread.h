/*
 * hotread.h — reading rows of a hot table for the cold tier: a binary COPY
 * of a layout's columns (cold/layout.h), decoded into column batches ready
 * for the Parquet writer.  Binary COPY streams (PostgreSQL produces rows
 * while this side encodes them) and spares both sides text conversions.
 */
#ifndef LO_COLD_HOTREAD_H
#define LO_COLD_HOTREAD_H

#include <libpq-fe.h>

#include "cold/layout.h"
#include "core/lo.h"

/* One column of a batch: a slot per row. */
typedef struct {
    uint8_t *nulls; /* 1 = null */
    union {
        int64_t *i64; /* TS (Unix microseconds), I64 */
        int32_t *i32; /* I32 */
        double *f64;  /* F64 */
        uint8_t *b;   /* BOOL */
        lo_str_t *s;  /* STR, JSON: valid until the callback returns */
    } v;
} lo_cold_colbuf_t;

typedef struct {
    size_t n;               /* rows */
    lo_cold_colbuf_t *cols; /* one per layout column, in order */
} lo_cold_batch_t;

/* Called with each batch; a value other than LO_OK stops the read. */
typedef int (*lo_cold_batch_fn)(void *ud, const lo_cold_batch_t *b);

/* Runs `COPY (SELECT <L's columns> FROM <L's from> WHERE <time column> in
 * [from_us, to_us) ORDER BY <L's order>) TO STDOUT (FORMAT binary)` on db
 * (inside the caller's transaction, if any) and hands the rows to fn in
 * batches of up to batch_rows.  A null in a column that cannot hold one, a
 * value of an unexpected size or a malformed stream is LO_ERROR naming the
 * column.  LO_OK, the callback's code, LO_UNAVAIL (connection lost) or
 * LO_ERROR, with err set; the connection is left ready for the next
 * command either way. */
int lo_cold_read(PGconn *db, const lo_cold_layout_t *L, int64_t from_us, int64_t to_us, size_t batch_rows,
                 lo_cold_batch_fn fn, void *ud, char *err, size_t errlen) LO_MUST_USE;

#endif
