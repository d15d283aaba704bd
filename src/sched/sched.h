/*
 * sched.h — periodic tasks (docs/architecture.md, "Periodic tasks").
 *
 * Modules hand the scheduler tasks {name, period, jitter, election lock,
 * function}; `serve` starts them.  Each task runs on a thread of its own
 * with a database connection of its own (reconnected when lost), first
 * after a random share of its jitter, then every period plus a random
 * jitter.  A task with an election lock runs on one node at a time: each
 * run first takes PostgreSQL's session advisory lock of that key without
 * waiting (pg_try_advisory_lock), and a node that does not get it skips
 * the run.  The same tasks run once on demand from the command line
 * (lo_sched_run_now).  Per-task counters go to /metrics.
 */
#ifndef LO_SCHED_H
#define LO_SCHED_H

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/lo.h"

/* One run.  LO_OK, LO_UNAVAIL (the database: the connection is checked and
 * reopened for the next run) or LO_ERROR; err says why (never telemetry). */
typedef int (*lo_task_fn)(PGconn *db, void *arg, char *err, size_t errlen);

typedef struct {
    const char *name;  /* [a-z_]+, unique; in logs, metrics and `lookout task run NAME` */
    int64_t period_ms; /* between the end of a run and the start of the next */
    int64_t jitter_ms; /* a random 0..jitter_ms added to each wait */
    int64_t lock_key;  /* election lock (store/locks.h); 0: every node runs the task */
    lo_task_fn run;
    void *arg;
} lo_task_t;

typedef struct lo_sched lo_sched_t;

/* A scheduler whose tasks connect with conninfo (copied).  NULL: out of memory. */
lo_sched_t *lo_sched_create(const char *conninfo);
/* Adds a task (copied; name and arg must outlive s).  LO_ERROR when the
 * name repeats, is malformed, the period is not positive or the table is
 * full. */
int lo_sched_add(lo_sched_t *s, const lo_task_t *t) LO_MUST_USE;
/* Starts a thread per task.  LO_OK or LO_ERROR. */
int lo_sched_start(lo_sched_t *s) LO_MUST_USE;
/* Runs the task named name once, now, on this thread with a connection of
 * its own, with its election lock (LO_BUSY when another node holds it).
 * LO_NOT_FOUND: no such task. */
int lo_sched_run_now(lo_sched_t *s, const char *name, char *err, size_t errlen) LO_MUST_USE;
/* Each line "name period_ms lock" of the tasks, for `lookout task list`. */
void lo_sched_describe(const lo_sched_t *s, lo_buf_t *out);
/* Has the task named name start its next run now rather than at the end
 * of its wait (a run in progress finishes first; wakes before the task's
 * thread waits again are merged).  Any thread.  Unknown names and NULL s
 * are ignored. */
void lo_sched_wake(lo_sched_t *s, const char *name);
/* True once lo_sched_stop has begun: a long run checks it between units of
 * work and returns early.  NULL s: false. */
bool lo_sched_stopping(lo_sched_t *s);
/* Asks every task thread to stop, lets a run in progress finish, joins
 * them.  Idempotent. */
void lo_sched_stop(lo_sched_t *s);
/* Stops and frees.  Accepts NULL. */
void lo_sched_destroy(lo_sched_t *s);

/* Appends the per-task counters in Prometheus text format
 * (lookout_task_runs_total{task,result}, lookout_task_last_run_seconds). */
void lo_sched_render_metrics(void *s, lo_buf_t *out);

#endif
