/*
 * ingest_harness.h — building requests by hand (no decoder needed) and running
 * an ingest against a fresh, migrated test database.
 */
#ifndef LO_INGEST_HARNESS_H
#define LO_INGEST_HARNESS_H

#include <pthread.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/config.h"
#include "ingest/ingest.h"
#include "pg_harness.h"
#include "store/store.h"

#define S(lit) LO_STR_LIT(lit)

typedef struct {
    lo_ingest_req_t req;
    lo_arena_t *arena;
    bool finished;
    int result;
} treq_t;

static pthread_mutex_t treq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t treq_cv = PTHREAD_COND_INITIALIZER;

static inline void treq_done(lo_ingest_req_t *r)
{
    treq_t *t = r->user;
    pthread_mutex_lock(&treq_mu);
    t->finished = true;
    t->result = r->result;
    pthread_cond_broadcast(&treq_cv);
    pthread_mutex_unlock(&treq_mu);
}

static inline treq_t *treq_new(lo_signal_t s)
{
    treq_t *t = calloc(1, sizeof(*t));
    t->arena = lo_arena_create(4096, 0);
    lo_otlp_batch_init(&t->req.batch, s, t->arena);
    t->req.bytes = 1000;
    t->req.done = treq_done;
    t->req.user = t;
    return t;
}

static inline void treq_free(treq_t *t)
{
    if (t == NULL)
        return;
    lo_otlp_batch_free(&t->req.batch);
    lo_arena_destroy(t->arena);
    free(t);
}

/* Waits for done(); returns the result (fails the test after timeout). */
static inline int treq_wait(treq_t *t, int timeout_ms)
{
    int64_t until = lo_mono_ns() + (int64_t)timeout_ms * 1000000;
    pthread_mutex_lock(&treq_mu);
    while (!t->finished && lo_mono_ns() < until) {
        pthread_mutex_unlock(&treq_mu);
        usleep(2000);
        pthread_mutex_lock(&treq_mu);
    }
    bool fin = t->finished;
    int rc = t->result;
    pthread_mutex_unlock(&treq_mu);
    if (!fin)
        fail_msg("request not answered within %d ms", timeout_ms);
    return rc;
}

static inline bool treq_finished(treq_t *t)
{
    pthread_mutex_lock(&treq_mu);
    bool fin = t->finished;
    pthread_mutex_unlock(&treq_mu);
    return fin;
}

/* A fresh database with the schema; its conninfo in out. */
static inline void it_fresh_schema(const char *db, char *out, size_t outlen)
{
    char err[256];
    pgt_fresh_db(db, out, outlen);
    PGconn *c = lo_store_connect(out, err, sizeof(err));
    assert_non_null(c);
    if (lo_store_migrate(c, err, sizeof(err)) != LO_OK)
        fail_msg("migrate: %s", err);
    PQfinish(c);
}

/* extra: NULL-terminated name, value pairs of further settings. */
static inline lo_ingest_t *it_start_with(const char *conninfo, int writers, const char *queue_max,
                                         bool wait_ready, const char *const *extra)
{
    lo_config_t cfg;
    char err[256];
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    for (int i = 0; extra != NULL && extra[i] != NULL; i += 2)
        assert_int_equal(lo_config_set(&cfg, extra[i], extra[i + 1], err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "database_url", conninfo, err, sizeof(err)), LO_OK);
    char w[8];
    snprintf(w, sizeof(w), "%d", writers);
    assert_int_equal(lo_config_set(&cfg, "writers", w, err, sizeof(err)), LO_OK);
    if (queue_max != NULL)
        assert_int_equal(lo_config_set(&cfg, "queue_max_bytes", queue_max, err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "shutdown_timeout_seconds", "10", err, sizeof(err)), LO_OK);
    lo_ingest_t *in = lo_ingest_create(&cfg);
    lo_config_free(&cfg);
    assert_non_null(in);
    assert_int_equal(lo_ingest_start(in), LO_OK);
    for (int i = 0; wait_ready && i < 500 && !lo_ingest_ready(in); i++)
        usleep(10000);
    if (wait_ready)
        assert_true(lo_ingest_ready(in));
    return in;
}

static inline lo_ingest_t *it_start(const char *conninfo, int writers, const char *queue_max, bool wait_ready)
{
    return it_start_with(conninfo, writers, queue_max, wait_ready, NULL);
}

static inline void fill_uuid(uint8_t u[16], uint8_t seed)
{
    for (int i = 0; i < 16; i++)
        u[i] = (uint8_t)(seed * 16 + i);
    u[6] = (uint8_t)(0x40 | (u[6] & 0x0f));
    u[8] = (uint8_t)(0x80 | (u[8] & 0x3f));
}

/* An advisory-free way to stall writers: hold a lock on the table. */
static inline PGconn *it_lock_table(const char *conninfo, const char *table)
{
    PGconn *c = pgt_connect(conninfo);
    pgt_exec(c, "BEGIN");
    char sql[128];
    snprintf(sql, sizeof(sql), "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", table);
    pgt_exec(c, sql);
    return c;
}

static inline void it_unlock(PGconn *c)
{
    pgt_exec(c, "COMMIT");
    PQfinish(c);
}

#endif
