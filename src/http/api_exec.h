/*
 * api_exec.h — private to src/http: the threads that run database-bound API
 * requests, off the listener's threads.  The API listener suspends such a
 * request's connection and submits a job; a worker runs it and resumes the
 * connection.  So /healthz, /readyz and /metrics, answered on the listener's
 * own threads, never wait behind a slow query (docs/http.md).
 *
 * The queue is bounded: a job that finds it full is refused (LO_BUSY) and
 * the request answered 429 at once.
 */
#ifndef LO_HTTP_API_EXEC_H
#define LO_HTTP_API_EXEC_H

#include <stdatomic.h>

#include "core/lo.h"

typedef struct lo_api_exec lo_api_exec_t;

/* A job: run(arg, false) on a worker, or run(arg, true) when the executor
 * stops before it ran (the job must still answer and resume). */
typedef void (*lo_api_job_fn)(void *arg, bool cancelled);

/* Starts threads workers.  NULL when out of memory or threads fail. */
lo_api_exec_t *lo_api_exec_create(int threads, int queue_max);
/* LO_OK (queued) or LO_BUSY (queue full or stopping). */
int lo_api_exec_submit(lo_api_exec_t *e, lo_api_job_fn fn, void *arg) LO_MUST_USE;
/* Jobs queued and running now. */
long lo_api_exec_depth(const lo_api_exec_t *e);
/* Lets the running jobs finish, cancels the queued ones and joins the
 * workers; later submits are refused.  Idempotent; accepts NULL. */
void lo_api_exec_stop(lo_api_exec_t *e);
/* Stops e and frees it.  Accepts NULL. */
void lo_api_exec_destroy(lo_api_exec_t *e);

/* Counters for /metrics (all executors of the process). */
extern atomic_llong lo_api_exec_refused; /* jobs refused: queue full */
extern atomic_llong lo_api_exec_run;     /* jobs run */
extern atomic_llong lo_api_exec_busy;    /* jobs queued or running now */

#endif
