/* api_exec.c — a fixed pool of threads over a bounded FIFO (api_exec.h). */
#include "http/api_exec.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/stats.h"

atomic_llong lo_api_exec_refused;
atomic_llong lo_api_exec_run;
atomic_llong lo_api_exec_busy;

typedef struct {
    lo_api_job_fn fn;
    void *arg;
} job_t;

struct lo_api_exec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *ring;
    size_t cap, head, n; /* n queued, from ring[head]; the ring holds queue_max + threads */
    size_t queue_max;
    long running;
    bool stopping;
    pthread_t *threads;
    int nthreads;
};

static void *worker(void *arg)
{
    lo_api_exec_t *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (e->n == 0 && !e->stopping)
            pthread_cond_wait(&e->cv, &e->mu);
        if (e->n == 0)
            break; /* stopping and nothing left to take */
        if (e->stopping)
            break; /* queued jobs are cancelled by destroy */
        job_t j = e->ring[e->head];
        e->head = (e->head + 1) % e->cap;
        e->n--;
        e->running++;
        pthread_mutex_unlock(&e->mu);
        j.fn(j.arg, false);
        lo_stat_add(&lo_api_exec_run, 1);
        lo_stat_add(&lo_api_exec_busy, -1);
        pthread_mutex_lock(&e->mu);
        e->running--;
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

lo_api_exec_t *lo_api_exec_create(int threads, int queue_max)
{
    if (threads < 1 || queue_max < 1)
        return NULL;
    lo_api_exec_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    /* a job may sit in the ring a moment before an idle worker takes it:
     * the bound is on what waits beyond the workers, queued + running */
    e->queue_max = (size_t)queue_max;
    e->cap = (size_t)queue_max + (size_t)threads;
    e->ring = calloc(e->cap, sizeof(job_t));
    e->threads = calloc((size_t)threads, sizeof(pthread_t));
    if (e->ring == NULL || e->threads == NULL) {
        free(e->ring);
        free(e->threads);
        free(e);
        return NULL;
    }
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&e->threads[i], NULL, worker, e) != 0) {
            lo_api_exec_destroy(e);
            return NULL;
        }
        e->nthreads++;
    }
    return e;
}

int lo_api_exec_submit(lo_api_exec_t *e, lo_api_job_fn fn, void *arg)
{
    pthread_mutex_lock(&e->mu);
    if (e->stopping || e->n + (size_t)e->running >= e->queue_max + (size_t)e->nthreads || e->n == e->cap) {
        pthread_mutex_unlock(&e->mu);
        lo_stat_add(&lo_api_exec_refused, 1);
        return LO_BUSY;
    }
    e->ring[(e->head + e->n) % e->cap] = (job_t){ fn, arg };
    e->n++;
    lo_stat_add(&lo_api_exec_busy, 1);
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return LO_OK;
}

long lo_api_exec_depth(const lo_api_exec_t *e)
{
    lo_api_exec_t *m = (lo_api_exec_t *)e;
    pthread_mutex_lock(&m->mu);
    long d = (long)m->n + m->running;
    pthread_mutex_unlock(&m->mu);
    return d;
}

void lo_api_exec_stop(lo_api_exec_t *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->mu);
    bool was = e->stopping;
    e->stopping = true;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    if (was)
        return;
    for (int i = 0; i < e->nthreads; i++)
        pthread_join(e->threads[i], NULL);
    e->nthreads = 0;
    /* what no worker took: answered as cancelled */
    pthread_mutex_lock(&e->mu);
    while (e->n > 0) {
        job_t j = e->ring[e->head];
        e->head = (e->head + 1) % e->cap;
        e->n--;
        pthread_mutex_unlock(&e->mu);
        j.fn(j.arg, true);
        lo_stat_add(&lo_api_exec_busy, -1);
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
}

void lo_api_exec_destroy(lo_api_exec_t *e)
{
    if (e == NULL)
        return;
    lo_api_exec_stop(e);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e->ring);
    free(e->threads);
    free(e);
}
