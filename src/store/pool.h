/*
 * pool.h — a small pool of PostgreSQL connections for request handlers
 * that may block (the query API, token look-ups).  Ingest writers own their
 * connections and do not use the pool.
 */
#ifndef LO_POOL_H
#define LO_POOL_H

#include <libpq-fe.h>

#include "core/lo.h"

typedef struct lo_pg_pool lo_pg_pool_t;

/* Creates a pool of at most size connections (opened lazily). */
lo_pg_pool_t *lo_pg_pool_create(const char *conninfo, int size);
/* Closes every connection; accepts NULL.  No connection may be out. */
void lo_pg_pool_destroy(lo_pg_pool_t *p);
/* Takes a connection, waiting at most wait_ms for one to be free; opens or
 * reopens it as needed.  NULL when the database is unreachable or the wait
 * timed out (the caller answers 503). */
PGconn *lo_pg_pool_get(lo_pg_pool_t *p, int wait_ms) LO_MUST_USE;
/* Returns a connection.  broken: close it (after a connection-level error). */
void lo_pg_pool_put(lo_pg_pool_t *p, PGconn *c, bool broken);

#endif
