/*
 * coldread.h — queries over the cold tier (docs/cold-store.md, "Queries").
 *
 * A query that may reach rotated rows runs in one REPEATABLE READ
 * transaction: the catalog and the hot tables are read in one snapshot, so
 * a rotation that commits meanwhile neither hides rows nor shows them
 * twice.  lo_cold_load reads the catalog entries of a signal that may hold
 * matches (time range, projects, services, sessions), the row groups of
 * those objects that statistics and bloom filters do not exclude, and the
 * rows whose filter columns match, and copies those rows into a temporary
 * table shaped like the hot table (lo_cold_temp_table).  The query then
 * reads "hot UNION ALL temporary" with its own SQL, so both tiers answer
 * with one implementation, in one order, with one set of rules.
 *
 * The rows loaded are a superset of the matches (a filter the reader
 * cannot decide exactly, such as a case-insensitive substring in text that
 * is not ASCII, lets the row through): the query's WHERE clause decides.
 *
 * An object that cannot be read (missing, corrupt, refused) is skipped and
 * named in the report; the query answers with the rest.  Reads go through
 * a bounded LRU cache of byte ranges (footers, bloom filters, column
 * chunks) shared by the process's query threads.
 */
#ifndef LO_COLD_COLDREAD_H
#define LO_COLD_COLDREAD_H

#include <libpq-fe.h>

#include "core/config.h"
#include "core/lo.h"

typedef struct lo_cold_reader lo_cold_reader_t;

/* Opens a reader of the store at cfg->cold_url with a cache of
 * cfg->cold_cache_mb.  NULL with err "" when no cold tier is configured,
 * NULL with a message when the store cannot be opened. */
lo_cold_reader_t *lo_cold_reader_create(const lo_config_t *cfg, char *err, size_t errlen);
/* Frees the reader.  Accepts NULL. */
void lo_cold_reader_destroy(lo_cold_reader_t *r);

/* What may match; NULL members do not filter. */
typedef struct {
    int64_t from_us, to_us; /* the signal's time column in [from, to) */
    const char *projects; /* array literal of readable project UUIDs; NULL: every row, with or without one */
    const char *service;
    const char *session; /* canonical UUID */
    const char *trace;   /* 32 lower-case hex digits */
    const char *levels;  /* array literal of level names ({"warn","error"}) */
    const char *q;       /* case-insensitive substring of the message */
    const char *series;  /* array literal of series ids ({1,2,3}) */
    const char *metric;  /* the series' metric name (metric files are sorted by it) */
    int64_t newest;      /* > 0: only the newest this many matches are wanted (older objects are skipped) */
    const int64_t *seed; /* with newest: times of the hot tier's newest matches (at most newest of them) */
    size_t n_seed;
} lo_cold_filter_t;

#define LO_COLD_MAX_FAILED 8

/* What a load read, and the objects it could not. */
typedef struct {
    int64_t files, row_groups, rows; /* objects and row groups read; rows loaded */
    int64_t n_failed;                /* objects that failed (the first LO_COLD_MAX_FAILED kept) */
    struct {
        char key[192];
        char error[256];
    } failed[LO_COLD_MAX_FAILED];
} lo_cold_report_t;

/* The temporary table a load fills for signal s ("lo_cold_log_entries",
 * ...): the hot table's columns, emptied at commit. */
const char *lo_cold_temp_table(lo_signal_t s);

/* Whether the catalog lists an object of signal s that may hold rows
 * matching f (*any).  LO_OK, or LO_UNAVAIL / LO_ERROR with err. */
int lo_cold_any(PGconn *db, lo_signal_t s, const lo_cold_filter_t *f, bool *any, char *err,
                size_t errlen) LO_MUST_USE;

/* In db's open transaction, loads the cold rows of signal s that may match
 * f into lo_cold_temp_table(s) (creating it on this connection when
 * needed).  Objects that fail are counted and named in rep; the load goes
 * on.  LO_OK; LO_ABSENT when the catalog lists no object that may match
 * (nothing loaded: the hot table answers alone); LO_TOO_LARGE past the
 * rows a load may copy; LO_UNAVAIL (connection lost) or LO_ERROR (the
 * database refused a statement, out of memory) with err set: the
 * transaction must then be rolled back. */
int lo_cold_load(lo_cold_reader_t *r, PGconn *db, lo_signal_t s, const lo_cold_filter_t *f,
                 lo_cold_report_t *rep, char *err, size_t errlen) LO_MUST_USE;

#endif
