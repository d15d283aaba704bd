/*
 * ingest.h — the hand-off between the HTTP threads and the batch writers.
 *
 * An HTTP thread decodes a request into a lo_otlp_batch_t, wraps it in a
 * lo_ingest_req_t and submits it.  Per signal, `writers` threads each own a
 * PostgreSQL connection; a writer takes everything queued (up to
 * batch_max_records), writes it with COPY in one transaction (group commit),
 * then calls done() on every request of the batch.  HTTP threads never touch
 * the database: they suspend the connection and done() resumes it.
 *
 * The bytes queued per signal are bounded (queue_max_bytes), and so is the
 * time the queue holds (queue_max_wait_ms: the records ahead must be
 * committable within it at the writers' measured rate, and the oldest
 * queued request must not have waited longer): past any bound
 * submit answers LO_BUSY (429).  While the database is unreachable submit
 * answers LO_UNAVAIL (503) and the writers reconnect by themselves.
 */
#ifndef LO_INGEST_H
#define LO_INGEST_H

#include "core/config.h"
#include "otlp/otlp.h"

typedef struct lo_ingest lo_ingest_t;
typedef struct lo_ingest_req lo_ingest_req_t;

struct lo_ingest_req {
    lo_ingest_req_t *next; /* owned by the queue */
    lo_otlp_batch_t batch; /* the records; read by a writer until done() */
    size_t bytes;          /* memory this request holds (body + arena + records) */
    int64_t enqueued_ns;   /* monotonic, set by submit */
    /* Set by the writer before done(): LO_OK (committed), LO_UNAVAIL
     * (database unreachable: 503), LO_ERROR (rejected by the database). */
    int result;
    /* Called once, from a writer thread, after commit or failure. */
    void (*done)(lo_ingest_req_t *r);
    void *user;
};

/* Post-commit consumers (the live tail's publisher, ...).  After a batch of
 * one signal commits, and before its requests are answered (their records
 * are still valid), the writer calls each consumer registered for that
 * signal with the batch's requests, linked by next; records of every
 * request were committed.  A consumer runs on the writer's thread: it must
 * copy what it keeps into a bounded hand-off of its own and return at once,
 * dropping (and counting) what does not fit — it can never block or slow
 * the writers.  Consumers are registered before lo_ingest_start (at most 4
 * per signal). */
typedef void (*lo_commit_fn)(void *arg, lo_signal_t signal, const lo_ingest_req_t *list, size_t records);
int lo_ingest_add_consumer(lo_ingest_t *in, lo_signal_t signal, lo_commit_fn fn, void *arg) LO_MUST_USE;

/* Creates the writers (not started).  NULL on failure. */
lo_ingest_t *lo_ingest_create(const lo_config_t *cfg);
/* Connects and starts the writer threads.  LO_OK even if the database is
 * down (writers keep retrying); LO_ERROR if threads cannot start. */
int lo_ingest_start(lo_ingest_t *in) LO_MUST_USE;
/* Queues r.  LO_OK: done() will be called.  LO_BUSY (queue full) or
 * LO_UNAVAIL (database down): r was not queued, done() will not be called. */
int lo_ingest_submit(lo_ingest_t *in, lo_ingest_req_t *r) LO_MUST_USE;
/* True while the writers can reach the database. */
bool lo_ingest_ready(lo_ingest_t *in);
/* Stops accepting, commits everything queued (waiting at most
 * shutdown_timeout_seconds), answers every queued request, joins the threads. */
void lo_ingest_stop(lo_ingest_t *in);
/* Frees everything; accepts NULL and a stopped or never-started ingest. */
void lo_ingest_destroy(lo_ingest_t *in);

#endif
