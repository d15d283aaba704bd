/*
 * layout.h — what a cold file of each signal holds (docs/cold-store.md,
 * "Files"): its Parquet columns, and for each the SQL expression that
 * reads it from the hot tables.  Rotation writes files by this table and
 * cold queries will read them by it: one definition of the mapping.
 */
#ifndef LO_COLD_LAYOUT_H
#define LO_COLD_LAYOUT_H

#include "cold/parquet.h"
#include "core/lo.h"

/* How a column's value comes out of PostgreSQL (text results) and goes
 * into Parquet. */
typedef enum {
    LO_CK_TS,   /* int8 microseconds -> INT64 TIMESTAMP(MICROS, UTC) */
    LO_CK_I64,  /* int8 -> INT64 */
    LO_CK_I32,  /* int2/int4 -> INT32 */
    LO_CK_F64,  /* float8 (NaN, Infinity) -> DOUBLE */
    LO_CK_BOOL, /* t/f -> BOOLEAN */
    LO_CK_STR,  /* text -> BYTE_ARRAY STRING */
    LO_CK_JSON, /* jsonb as text -> BYTE_ARRAY JSON */
} lo_cold_kind_t;

typedef struct {
    const char *name; /* the Parquet column */
    lo_cold_kind_t kind;
    bool optional;      /* may be null */
    bool bloom;         /* a bloom filter per row group (ids looked up one at a time) */
    bool no_dictionary; /* mostly distinct text: dictionary encoding would not pay */
    const char *sql;    /* the expression over the FROM clause's aliases */
} lo_cold_col_t;

typedef struct {
    lo_signal_t signal;
    const char *dir;      /* key directory: otel/{dir}/YYYY-MM-DD/ */
    const char *prefix;   /* file name: {prefix}_{batch id}.parquet */
    const char *table;    /* the partitioned hot table */
    const char *time_col; /* its partitioning time column */
    const char *from;     /* FROM clause; the hot table's alias is t */
    const char *order;    /* ORDER BY of the rows in a file */
    const lo_cold_col_t *cols;
    size_t n_cols;
    /* columns the catalog records (indexes into cols) */
    size_t c_time, c_project, c_service, c_session;
} lo_cold_layout_t;

/* The layout of signal s (LO_SIGNAL_LOGS, _SPANS, _METRICS). */
const lo_cold_layout_t *lo_cold_layout(lo_signal_t s);

/* The Parquet column of a layout column. */
lo_pq_column_t lo_cold_pq_column(const lo_cold_col_t *c);

#endif
