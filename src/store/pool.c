/*
 * pool.c — a fixed number of slots, each holding an open connection, no
 * connection yet, or a connection lent out.  Connections are opened lazily,
 * outside the lock, so a slow or failing connect never blocks other users.
 */
#include "store/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "store/store.h"

typedef struct {
    PGconn *conn; /* NULL: not opened yet (or closed after a failure) */
    bool busy;
} slot_t;

struct lo_pg_pool {
    char *conninfo;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    int size;
    slot_t *slots;
};

lo_pg_pool_t *lo_pg_pool_create(const char *conninfo, int size)
{
    if (conninfo == NULL || size < 1)
        return NULL;
    lo_pg_pool_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->size = size;
    p->conninfo = strdup(conninfo);
    p->slots = calloc((size_t)size, sizeof(slot_t));
    if (p->conninfo == NULL || p->slots == NULL) {
        free(p->conninfo);
        free(p->slots);
        free(p);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

void lo_pg_pool_destroy(lo_pg_pool_t *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].conn != NULL)
            PQfinish(p->slots[i].conn);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p->slots);
    free(p->conninfo);
    free(p);
}

/* A free slot, preferring one with an open connection; -1 when all are out. */
static int find_free(lo_pg_pool_t *p)
{
    int empty = -1;
    for (int i = 0; i < p->size; i++) {
        if (p->slots[i].busy)
            continue;
        if (p->slots[i].conn != NULL)
            return i;
        if (empty < 0)
            empty = i;
    }
    return empty;
}

PGconn *lo_pg_pool_get(lo_pg_pool_t *p, int wait_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&p->mu);
    int i;
    while ((i = find_free(p)) < 0) {
        if (wait_ms <= 0 || pthread_cond_timedwait(&p->freed, &p->mu, &deadline) == ETIMEDOUT) {
            i = find_free(p);
            break;
        }
    }
    if (i < 0) {
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    slot_t *s = &p->slots[i];
    s->busy = true;
    PGconn *c = s->conn;
    s->conn = NULL; /* the slot holds it again on put */
    pthread_mutex_unlock(&p->mu);

    /* A non-blocking read notices a connection the server closed while it
     * sat in the pool (restart, idle timeout), so the caller never gets it. */
    if (c != NULL && !lo_store_conn_alive(c)) {
        PQfinish(c);
        c = NULL;
    }
    if (c == NULL) {
        char err[256];
        c = lo_store_connect(p->conninfo, err, sizeof(err));
        if (c == NULL) {
            lo_log_warn("database connection failed", "error=\"%s\"", err);
            pthread_mutex_lock(&p->mu);
            s->busy = false;
            pthread_cond_signal(&p->freed);
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
    }
    return c;
}

void lo_pg_pool_put(lo_pg_pool_t *p, PGconn *c, bool broken)
{
    if (c == NULL)
        return;
    /* A connection left inside a transaction (or copy) is not reusable. */
    if (!broken && (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE))
        broken = true;
    if (broken) {
        PQfinish(c);
        c = NULL;
    }
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->size; i++) {
        if (p->slots[i].busy && p->slots[i].conn == NULL) {
            p->slots[i].busy = false;
            p->slots[i].conn = c;
            break;
        }
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}
