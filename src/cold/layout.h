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

/* What a column holds in Parquet; its PostgreSQL type follows (read with
 * binary COPY): timestamptz, int2/int4/int8, float8, bool, text/uuid/bytea
 * (lo_cold_text_t), jsonb. */
typedef enum {
    LO_CK_TS,   /* timestamptz -> INT64 TIMESTAMP(MICROS, UTC) */
    LO_CK_I64,  /* int8 -> INT64 */
    LO_CK_I32,  /* int2/int4 -> INT32 */
    LO_CK_F64,  /* float8 (NaN, infinities kept) -> DOUBLE */
    LO_CK_BOOL, /* bool -> BOOLEAN */
    LO_CK_STR,  /* text, uuid or bytea (lo_cold_text_t) -> BYTE_ARRAY STRING */
    LO_CK_JSON, /* jsonb -> BYTE_ARRAY JSON (its text) */
} lo_cold_kind_t;

/* How a LO_CK_STR column's PostgreSQL value becomes text. */
typedef enum {
    LO_CT_TEXT, /* text as is */
    LO_CT_UUID, /* uuid -> 8-4-4-4-12 lower-case hex */
    LO_CT_HEX,  /* bytea -> lower-case hex */
} lo_cold_text_t;

typedef struct {
    const char *name; /* the Parquet column */
    lo_cold_kind_t kind;
    bool optional;      /* may be null */
    bool bloom;         /* a bloom filter per row group (ids looked up one at a time) */
    bool no_dictionary; /* mostly distinct text: dictionary encoding would not pay */
    const char *sql;    /* the column, over the FROM clause's aliases */
    lo_cold_text_t text;
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
    size_t page_rows; /* most rows in a data page (lo_pq_options_t.page_rows) */
} lo_cold_layout_t;

/* The layout of signal s (LO_SIGNAL_LOGS, _SPANS, _METRICS). */
const lo_cold_layout_t *lo_cold_layout(lo_signal_t s);

/* The index of the column named name in L, or -1. */
int lo_cold_col(const lo_cold_layout_t *L, const char *name);

/* The Parquet column of a layout column. */
lo_pq_column_t lo_cold_pq_column(const lo_cold_col_t *c);

#endif
