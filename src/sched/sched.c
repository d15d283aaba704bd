/* sched.c — periodic tasks on threads of their own (sched.h). */
#include "sched/sched.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "core/log.h"
#include "core/stats.h"
#include "store/store.h"

#define MAX_TASKS    16
#define RECONNECT_MS 1000 /* between attempts to reach the database */

enum { R_OK, R_FAILED, R_UNAVAIL, R_SKIPPED, R_COUNT };
static const char *const result_names[R_COUNT] = { "ok", "failed", "unavailable", "skipped" };

typedef struct {
    lo_task_t t;
    lo_sched_t *s;
    pthread_t thread;
    bool started;
    PGconn *db;
    atomic_llong runs[R_COUNT];
    atomic_llong last_us; /* duration of the last run that ran */
    bool wake;            /* run now, not at the end of the wait (under s->mu) */
} task_t;

struct lo_sched {
    char *conninfo;
    task_t tasks[MAX_TASKS];
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

lo_sched_t *lo_sched_create(const char *conninfo)
{
    lo_sched_t *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    return s;
}

static bool name_ok(const char *n)
{
    if (n == NULL || *n == '\0' || strlen(n) > 40)
        return false;
    for (; *n != '\0'; n++)
        if (!((*n >= 'a' && *n <= 'z') || *n == '_'))
            return false;
    return true;
}

static task_t *find(lo_sched_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->tasks[i].t.name, name) == 0)
            return &s->tasks[i];
    return NULL;
}

int lo_sched_add(lo_sched_t *s, const lo_task_t *t)
{
    if (s->n >= MAX_TASKS || !name_ok(t->name) || t->period_ms <= 0 || t->jitter_ms < 0 || t->run == NULL ||
        find(s, t->name) != NULL)
        return LO_ERROR;
    task_t *k = &s->tasks[s->n++];
    memset(k, 0, sizeof(*k));
    k->t = *t;
    k->s = s;
    return LO_OK;
}

static int64_t jitter(int64_t max_ms)
{
    uint32_t r = 0;
    if (max_ms <= 0 || getrandom(&r, sizeof(r), 0) != sizeof(r))
        return 0;
    return (int64_t)(r % (uint64_t)(max_ms + 1));
}

/* Sleeps until ms from now, until stop, or until k (may be NULL) is woken
 * (lo_sched_wake); true when stopping. */
static bool wait_ms(lo_sched_t *s, task_t *k, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && (k == NULL || !k->wake) && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0)
        ;
    if (k != NULL)
        k->wake = false;
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* One statement about the election lock; LO_OK (got it / released),
 * LO_BUSY (held elsewhere) or LO_UNAVAIL. */
static int lock_op(PGconn *db, const char *fn, int64_t key)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT %s(%lld)", fn, (long long)key);
    PGresult *r = PQexec(db, sql);
    int rc = LO_UNAVAIL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? LO_OK : LO_BUSY;
    PQclear(r);
    return rc;
}

/* One run on db, with the election lock when the task has one. */
static int run_once(task_t *k, PGconn *db, char *err, size_t errlen)
{
    err[0] = '\0';
    if (k->t.lock_key != 0) {
        int lr = lock_op(db, "pg_try_advisory_lock", k->t.lock_key);
        if (lr != LO_OK) {
            lo_stat_add(&k->runs[lr == LO_BUSY ? R_SKIPPED : R_UNAVAIL], 1);
            snprintf(err, errlen, "%s",
                     lr == LO_BUSY ? "another node runs it" : "cannot take the election lock");
            return lr;
        }
    }
    int64_t t0 = lo_mono_ns();
    int rc = k->t.run(db, k->t.arg, err, errlen);
    atomic_store(&k->last_us, (lo_mono_ns() - t0) / 1000);
    lo_stat_add(&k->runs[rc == LO_OK ? R_OK : rc == LO_UNAVAIL ? R_UNAVAIL : R_FAILED], 1);
    if (k->t.lock_key != 0 && PQstatus(db) == CONNECTION_OK)
        (void)lock_op(db, "pg_advisory_unlock", k->t.lock_key);
    return rc;
}

static void *task_main(void *arg)
{
    task_t *k = arg;
    lo_sched_t *s = k->s;
    char err[256];
    if (wait_ms(s, NULL, jitter(k->t.jitter_ms)))
        return NULL;
    for (;;) {
        if (k->db == NULL || PQstatus(k->db) != CONNECTION_OK || !lo_store_conn_alive(k->db)) {
            if (k->db != NULL)
                PQfinish(k->db);
            k->db = lo_store_connect(s->conninfo, err, sizeof(err));
            if (k->db == NULL) {
                lo_stat_add(&k->runs[R_UNAVAIL], 1);
                if (wait_ms(s, NULL, RECONNECT_MS))
                    break;
                continue;
            }
        }
        int rc = run_once(k, k->db, err, sizeof(err));
        if (rc == LO_ERROR || (rc == LO_UNAVAIL && err[0] != '\0'))
            lo_log_warn("task failed", "task=%s error=\"%s\"", k->t.name, err);
        else if (rc == LO_OK)
            lo_log_debug("task ran", "task=%s ms=%lld", k->t.name,
                         (long long)(atomic_load(&k->last_us) / 1000));
        if (wait_ms(s, k, k->t.period_ms + jitter(k->t.jitter_ms)))
            break;
    }
    if (k->db != NULL)
        PQfinish(k->db);
    k->db = NULL;
    return NULL;
}

bool lo_sched_stopping(lo_sched_t *s)
{
    if (s == NULL)
        return false;
    pthread_mutex_lock(&s->mu);
    bool st = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return st;
}

int lo_sched_start(lo_sched_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (pthread_create(&s->tasks[i].thread, NULL, task_main, &s->tasks[i]) != 0) {
            lo_sched_stop(s);
            return LO_ERROR;
        }
        s->tasks[i].started = true;
    }
    return LO_OK;
}

int lo_sched_run_now(lo_sched_t *s, const char *name, char *err, size_t errlen)
{
    task_t *k = find(s, name);
    if (k == NULL) {
        snprintf(err, errlen, "no task named \"%s\"", name);
        return LO_NOT_FOUND;
    }
    PGconn *db = lo_store_connect(s->conninfo, err, errlen);
    if (db == NULL)
        return LO_UNAVAIL;
    int rc = run_once(k, db, err, errlen);
    PQfinish(db);
    return rc;
}

void lo_sched_describe(const lo_sched_t *s, lo_buf_t *out)
{
    for (size_t i = 0; i < s->n; i++)
        lo_buf_printf(out, "%s every %lld s%s\n", s->tasks[i].t.name,
                      (long long)(s->tasks[i].t.period_ms / 1000),
                      s->tasks[i].t.lock_key != 0 ? ", on one node at a time" : "");
}

void lo_sched_wake(lo_sched_t *s, const char *name)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->tasks[i].t.name, name) == 0)
            s->tasks[i].wake = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void lo_sched_stop(lo_sched_t *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < s->n; i++) {
        if (s->tasks[i].started)
            pthread_join(s->tasks[i].thread, NULL);
        s->tasks[i].started = false;
    }
}

void lo_sched_destroy(lo_sched_t *s)
{
    if (s == NULL)
        return;
    lo_sched_stop(s);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->conninfo);
    free(s);
}

void lo_sched_render_metrics(void *arg, lo_buf_t *b)
{
    lo_sched_t *s = arg;
    lo_buf_puts(b,
                "# HELP lookout_task_runs_total Runs of the periodic tasks by result (skipped: another node "
                "held the election lock).\n# TYPE lookout_task_runs_total counter\n");
    for (size_t i = 0; i < s->n; i++)
        for (int r = 0; r < R_COUNT; r++)
            lo_buf_printf(b, "lookout_task_runs_total{task=\"%s\",result=\"%s\"} %lld\n", s->tasks[i].t.name,
                          result_names[r], (long long)atomic_load(&s->tasks[i].runs[r]));
    lo_buf_puts(b, "# HELP lookout_task_last_run_seconds Duration of the last run of each task.\n"
                   "# TYPE lookout_task_last_run_seconds gauge\n");
    for (size_t i = 0; i < s->n; i++)
        lo_buf_printf(b, "lookout_task_last_run_seconds{task=\"%s\"} %.6f\n", s->tasks[i].t.name,
                      (double)atomic_load(&s->tasks[i].last_us) / 1e6);
}
