/*
 * store.h — the PostgreSQL schema: migrations, partitions, readiness.
 *
 * The migrations are the files sql/migrations/NNN_name.sql, embedded into the
 * binary at build time (build/gen/migrations.c) and applied in order of NNN,
 * each in its own transaction, recording NNN in schema_migrations.  A
 * session-level advisory lock serializes concurrent migrators, so several
 * `lookout serve` processes may start at once.  A migration must be valid
 * inside a transaction (no CREATE INDEX CONCURRENTLY).
 */
#ifndef LO_STORE_H
#define LO_STORE_H

#include <libpq-fe.h>

#include "core/lo.h"

/* One embedded migration (build/gen/migrations.c). */
typedef struct {
    int version;      /* NNN of the file name */
    const char *name; /* the file name, e.g. "001_init.sql" */
    const char *sql;  /* its text, NUL-terminated */
} lo_migration_t;

extern const lo_migration_t lo_migrations[];
extern const size_t lo_migrations_count;

/* The newest version this binary knows. */
int lo_store_latest_version(void);

/* Opens a connection (libpq conninfo or URI; a 5 s connect timeout and
 * TCP keepalives unless conninfo sets its own).  NULL with a message in
 * err when it fails. */
PGconn *lo_store_connect(const char *conninfo, char *err, size_t errlen);

/* Without blocking: false when the server closed c (restart, termination,
 * idle timeout) although no query noticed yet.  For idle connections. */
bool lo_store_conn_alive(PGconn *c);

/* Applies every migration not yet recorded (each one applied is logged).
 * LO_OK (also when nothing was to do), LO_UNAVAIL (connection lost) or
 * LO_ERROR; err says why. */
int lo_store_migrate(PGconn *c, char *err, size_t errlen) LO_MUST_USE;

/* Creates the daily partitions of the telemetry tables from days_back days
 * before today (UTC) to days_ahead after it.  Idempotent; safe to call from
 * several connections at once.  LO_OK, LO_UNAVAIL or LO_ERROR. */
int lo_store_ensure_partitions(PGconn *c, int days_back, int days_ahead, char *err,
                               size_t errlen) LO_MUST_USE;

/* The partition range the partitions task keeps (days before and after today). */
typedef struct {
    int days_back, days_ahead;
} lo_partition_range_t;

/* The periodic task (sched.h) that keeps partitions ahead: arg is a
 * lo_partition_range_t. */
int lo_store_partitions_task(PGconn *db, void *arg, char *err, size_t errlen) LO_MUST_USE;

/* Readiness (/readyz): LO_OK when the schema is at (or past) the version
 * this binary knows, LO_BEHIND when migrations are missing, LO_UNAVAIL
 * when the database cannot be asked. */
int lo_store_schema_current(PGconn *c) LO_MUST_USE;

/* Classifies a failed result: LO_UNAVAIL when the connection or the server
 * is the problem (connection lost, shutting down, out of resources),
 * LO_ERROR when the statement itself was rejected. */
int lo_store_error_class(PGconn *c, const PGresult *res);

/* Runs sql with n text parameters: the result of a statement that
 * succeeded (free it), or NULL with the server's message (trailing
 * newlines dropped) in err. */
PGresult *lo_store_exec(PGconn *c, const char *sql, int n, const char *const *vals, char *err, size_t errlen);

/* Copies a one-line description of the last error into err. */
void lo_store_errmsg(PGconn *c, const PGresult *res, char *err, size_t errlen);

#endif
