/*
 * ingest.c — the queues between HTTP threads and writers, and the writer
 * threads' lives: connect (making sure today's partitions exist; the
 * partitions task keeps them ahead, store.h), take everything queued
 * (group commit), write, answer; on connection loss answer 503 and
 * reconnect every second until PostgreSQL is back.
 */
#include "ingest/ingest.h"
#include "store/retention.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/stats.h"
#include "ingest/writer.h"
#include "store/store.h"

#define RECONNECT_NS (1000LL * 1000000) /* a disconnected writer retries every second */
#define IDLE_WAIT_NS (1000LL * 1000000)

struct lo_ingest_queue {
    lo_signal_t signal;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* work queued (or stop) */
    pthread_cond_t retry_cv; /* disconnected writers sleep here: stop only */
    lo_ingest_req_t *head, *tail;
    size_t bytes;   /* held by queued and in-flight requests */
    size_t records; /* queued, not yet taken by a writer */
    double rate;    /* records/s the signal's writers commit together (moving average; 0 = unknown) */
    int connected;  /* writers with a live connection */
    bool unavailable;
};

#define MAX_CONSUMERS 4

struct lo_ingest {
    lo_ingest_settings_t set;
    struct {
        lo_commit_fn fn;
        void *arg;
    } consumers[LO_SIGNAL_COUNT][MAX_CONSUMERS];
    int n_consumers[LO_SIGNAL_COUNT];
    lo_ingest_queue_t q[LO_SIGNAL_COUNT];
    lo_writer_t *w;
    int nw;
    lo_session_cache_t *sessions;
    atomic_bool stopping;
    atomic_llong stop_deadline_ns; /* monotonic; 0 until stop */
    bool started, stopped;
};

int lo_ingest_add_consumer(lo_ingest_t *in, lo_signal_t signal, lo_commit_fn fn, void *arg)
{
    if ((int)signal < 0 || signal >= LO_SIGNAL_COUNT || fn == NULL || in->started ||
        in->n_consumers[signal] >= MAX_CONSUMERS)
        return LO_ERROR;
    int i = in->n_consumers[signal]++;
    in->consumers[signal][i].fn = fn;
    in->consumers[signal][i].arg = arg;
    return LO_OK;
}

const lo_ingest_settings_t *lo_ingest_settings(const lo_ingest_t *in)
{
    return &in->set;
}

lo_session_cache_t *lo_ingest_sessions(lo_ingest_t *in)
{
    return in->sessions;
}

static void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

/* Waits on cv until the monotonic time until_ns (or a signal). */
static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until_ns)
{
    struct timespec ts = { .tv_sec = until_ns / 1000000000, .tv_nsec = until_ns % 1000000000 };
    pthread_cond_timedwait(cv, mu, &ts);
}

lo_ingest_t *lo_ingest_create(const lo_config_t *cfg)
{
    lo_ingest_t *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    in->set.conninfo = strdup(cfg->database_url);
    in->set.batch_max_records = (size_t)cfg->batch_max_records;
    in->set.queue_max_bytes = (size_t)cfg->queue_max_bytes;
    in->set.queue_max_wait_ns = cfg->queue_max_wait_ms * 1000000LL;
    in->set.writers = (int)cfg->writers;
    in->set.session_cache_entries = (size_t)cfg->session_cache_entries;
    in->set.session_cache_ns = cfg->session_cache_seconds * 1000000000LL;
    in->set.session_lend_project = cfg->session_lend_project != 0;
    lo_retention_t ret;
    char rerr[160];
    if (lo_retention_init(&ret, cfg, rerr, sizeof(rerr)) != LO_OK) {
        lo_log_error("bad retention settings", "error=\"%s\"", rerr);
        free(in);
        return NULL;
    }
    in->set.partition_days_back = ret.partitions.days_back;
    in->set.partition_days_ahead = ret.partitions.days_ahead;
    in->set.shutdown_timeout_ns = cfg->shutdown_timeout_seconds * 1000000000LL;
    in->sessions = lo_session_cache_create(in->set.session_cache_entries, in->set.session_cache_ns);
    in->nw = in->set.writers * LO_SIGNAL_COUNT;
    in->w = calloc((size_t)in->nw, sizeof(lo_writer_t));
    if (in->set.conninfo == NULL || in->sessions == NULL || in->w == NULL) {
        lo_session_cache_destroy(in->sessions);
        free(in->w);
        free(in->set.conninfo);
        free(in);
        return NULL;
    }
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        lo_ingest_queue_t *q = &in->q[s];
        q->signal = (lo_signal_t)s;
        pthread_mutex_init(&q->mu, NULL);
        cond_init_mono(&q->cv);
        cond_init_mono(&q->retry_cv);
    }
    for (int i = 0; i < in->nw; i++) {
        lo_writer_t *w = &in->w[i];
        w->in = in;
        w->signal = (lo_signal_t)(i / in->set.writers);
        w->index = i % in->set.writers;
        w->q = &in->q[w->signal];
        lo_writer_init(w);
    }
    return in;
}

/* Answers a list of requests (after commit or failure) and releases their
 * bytes.  r may be freed by done(): next is read first. */
static void answer(lo_ingest_queue_t *q, lo_ingest_req_t *list, int result)
{
    size_t bytes = 0;
    for (lo_ingest_req_t *r = list; r != NULL; r = r->next)
        bytes += r->bytes;
    pthread_mutex_lock(&q->mu);
    assert(q->bytes >= bytes); /* each request's bytes are counted once, until answered */
    q->bytes -= bytes;
    pthread_mutex_unlock(&q->mu);
    lo_stat_add(&lo_stats.buffer_bytes[q->signal], -(long long)bytes);
    for (lo_ingest_req_t *r = list, *next; r != NULL; r = next) {
        next = r->next;
        r->next = NULL;
        r->result = result;
        r->done(r);
    }
}

/* Locked by the caller: takes everything queued. */
static lo_ingest_req_t *take_all(lo_ingest_queue_t *q)
{
    lo_ingest_req_t *list = q->head;
    q->head = q->tail = NULL;
    q->records = 0;
    return list;
}

/* Group commit sizes its batches to the writer's own commit rate: a batch
 * holds about BATCH_TARGET_NS of work (at least BATCH_MIN_RECORDS, at most
 * batch_max_records).  A fixed large batch would hold records in a
 * transaction for seconds when PostgreSQL is slow; with this, a record
 * waits at most queue_max_wait_ms in the queue plus about this long in a
 * batch. */
#define BATCH_TARGET_NS   250000000LL
#define BATCH_MIN_RECORDS 2000

static size_t batch_cap(const lo_writer_t *w, size_t max)
{
    if (w->rate <= 0)
        return max;
    double cap = w->rate * ((double)BATCH_TARGET_NS / 1e9);
    if (cap < BATCH_MIN_RECORDS)
        cap = BATCH_MIN_RECORDS;
    return cap < (double)max ? (size_t)cap : max;
}

static void note_rate(lo_writer_t *w, size_t records, int64_t ns)
{
    if (ns <= 0)
        return;
    double r = (double)records * 1e9 / (double)ns;
    w->rate = w->rate <= 0 ? r : 0.7 * w->rate + 0.3 * r;
    /* the signal's writers work in parallel: together about writers x this */
    if (w->q != NULL && w->in != NULL) {
        double all = r * w->in->set.writers;
        pthread_mutex_lock(&w->q->mu);
        w->q->rate = w->q->rate <= 0 ? all : 0.7 * w->q->rate + 0.3 * all;
        pthread_mutex_unlock(&w->q->mu);
    }
}

/* Locked by the caller: takes requests up to max records (at least one). */
static lo_ingest_req_t *take_batch(lo_ingest_queue_t *q, size_t max, size_t *records)
{
    lo_ingest_req_t *list = q->head, *last = NULL;
    size_t n = 0;
    for (lo_ingest_req_t *r = q->head; r != NULL; r = r->next) {
        if (last != NULL && n + r->batch.n > max)
            break;
        n += r->batch.n;
        last = r;
    }
    q->head = last->next;
    if (q->head == NULL)
        q->tail = NULL;
    last->next = NULL;
    *records = n;
    q->records = q->records > n ? q->records - n : 0;
    return list;
}

static void writer_disconnect(lo_writer_t *w)
{
    if (w->conn == NULL)
        return;
    PQfinish(w->conn);
    w->conn = NULL;
    pthread_mutex_lock(&w->q->mu);
    w->q->connected--;
    pthread_mutex_unlock(&w->q->mu);
}

/* Without any connected writer the signal is unavailable: what is queued
 * is answered 503 now rather than left waiting. */
static void fail_if_none_connected(lo_writer_t *w)
{
    lo_ingest_queue_t *q = w->q;
    lo_ingest_req_t *list = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->connected == 0) {
        q->unavailable = true;
        list = take_all(q);
    }
    pthread_mutex_unlock(&q->mu);
    if (list != NULL) {
        lo_stat_add(&lo_stats.commit_failures[q->signal], 1);
        answer(q, list, LO_UNAVAIL);
    }
}

static int ensure_partitions(lo_writer_t *w)
{
    char err[256];
    const lo_ingest_settings_t *s = &w->in->set;
    int rc = lo_store_ensure_partitions(w->conn, s->partition_days_back, s->partition_days_ahead, err,
                                        sizeof(err));
    if (rc != LO_OK)
        lo_log_error("creating partitions failed", "signal=%s error=\"%s\"", lo_signal_name(w->signal), err);
    return rc;
}

static bool writer_connect(lo_writer_t *w)
{
    char err[256];
    PGconn *c = lo_store_connect(w->in->set.conninfo, err, sizeof(err));
    if (c == NULL) {
        lo_log_debug("writer cannot connect", "signal=%s writer=%d error=\"%s\"", lo_signal_name(w->signal),
                     w->index, err);
        return false;
    }
    w->conn = c;
    /* every writer makes sure today's partitions exist before its first COPY */
    if (ensure_partitions(w) == LO_UNAVAIL) {
        PQfinish(c);
        w->conn = NULL;
        return false;
    }
    lo_ingest_queue_t *q = w->q;
    pthread_mutex_lock(&q->mu);
    bool was_down = q->unavailable;
    q->connected++;
    q->unavailable = false;
    pthread_mutex_unlock(&q->mu);
    if (was_down)
        lo_log_info("database reachable again", "signal=%s", lo_signal_name(w->signal));
    return true;
}

/* Writes a batch; a data error in a batch of several requests is retried
 * per request so that only the offending request fails. */
static void write_and_answer(lo_writer_t *w, lo_ingest_req_t *list, size_t records)
{
    lo_ingest_queue_t *q = w->q;
    int64_t t0 = lo_mono_ns();
    int rc = lo_writer_write(w, list, records);
    if (rc == LO_UNAVAIL && (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK)) {
        /* the connection may only have gone stale (server restarted while
         * idle): one fresh connection and one more try before 503 */
        lo_log_warn("database connection lost", "signal=%s writer=%d error=\"%s\"", lo_signal_name(w->signal),
                    w->index, w->err);
        writer_disconnect(w);
        if (writer_connect(w))
            rc = lo_writer_write(w, list, records);
    }
    if (rc == LO_OK) {
        int64_t ns = lo_mono_ns() - t0;
        note_rate(w, records, ns);
        lo_stat_add(&lo_stats.records_ingested[q->signal], (long long)records);
        lo_stat_add(&lo_stats.batches[q->signal], 1);
        lo_stat_add(&lo_stats.batch_records_sum[q->signal], (long long)records);
        lo_stats_observe_commit(q->signal, ns);
        lo_ingest_t *in = w->in;
        for (int i = 0; i < in->n_consumers[q->signal]; i++)
            in->consumers[q->signal][i].fn(in->consumers[q->signal][i].arg, q->signal, list, records);
        answer(q, list, LO_OK);
        return;
    }
    lo_stat_add(&lo_stats.commit_failures[q->signal], 1);
    if (rc == LO_ERROR && list->next != NULL) {
        for (lo_ingest_req_t *r = list, *next; r != NULL; r = next) {
            next = r->next;
            r->next = NULL;
            write_and_answer(w, r, r->batch.n);
        }
        return;
    }
    if (rc == LO_ERROR)
        lo_log_error("batch rejected by the database", "signal=%s records=%zu error=\"%s\"",
                     lo_signal_name(w->signal), records, w->err);
    else
        lo_log_warn("batch not written", "signal=%s records=%zu error=\"%s\"", lo_signal_name(w->signal),
                    records, w->err);
    if (rc == LO_UNAVAIL && (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK)) {
        writer_disconnect(w);
        answer(q, list, LO_UNAVAIL);
        fail_if_none_connected(w);
        return;
    }
    answer(q, list, rc);
}

static void *writer_main(void *arg)
{
    lo_writer_t *w = arg;
    lo_ingest_t *in = w->in;
    lo_ingest_queue_t *q = w->q;
    int64_t next_connect = 0;
    for (;;) {
        bool stopping = atomic_load(&in->stopping);
        int64_t now = lo_mono_ns();
        int64_t deadline = atomic_load(&in->stop_deadline_ns);

        if (w->conn == NULL) {
            if (now >= next_connect && writer_connect(w))
                continue;
            if (now >= next_connect)
                next_connect = now + RECONNECT_NS;
            fail_if_none_connected(w);
            /* shutting down with the database away: the queue was answered
             * (or a connected writer drains it); do not wait */
            if (stopping)
                break;
            /* not on q->cv: a submit's wake-up belongs to a connected writer */
            pthread_mutex_lock(&q->mu);
            if (!atomic_load(&in->stopping))
                wait_until(&q->retry_cv, &q->mu, next_connect);
            pthread_mutex_unlock(&q->mu);
            continue;
        }

        pthread_mutex_lock(&q->mu);
        if (q->head == NULL) {
            if (stopping) {
                pthread_mutex_unlock(&q->mu);
                break;
            }
            wait_until(&q->cv, &q->mu, now + IDLE_WAIT_NS);
            bool idle = q->head == NULL;
            pthread_mutex_unlock(&q->mu);
            /* idle: a non-blocking read notices a server that went away,
             * so readiness and 503s follow within a second, not at the
             * next request */
            if (idle && !lo_store_conn_alive(w->conn)) {
                lo_log_warn("database connection lost", "signal=%s writer=%d idle=true",
                            lo_signal_name(w->signal), w->index);
                writer_disconnect(w); /* reconnects at once; fails the queue only if that fails */
            }
            continue;
        }
        if (stopping && deadline != 0 && now >= deadline) {
            lo_ingest_req_t *list = take_all(q);
            pthread_mutex_unlock(&q->mu);
            answer(q, list, LO_UNAVAIL);
            continue;
        }
        size_t records;
        lo_ingest_req_t *list = take_batch(q, batch_cap(w, in->set.batch_max_records), &records);
        pthread_mutex_unlock(&q->mu);
        write_and_answer(w, list, records);
    }
    writer_disconnect(w);
    return NULL;
}

int lo_ingest_start(lo_ingest_t *in)
{
    if (in->started)
        return LO_ERROR;
    in->started = true;
    for (int i = 0; i < in->nw; i++) {
        if (pthread_create(&in->w[i].thread, NULL, writer_main, &in->w[i]) != 0) {
            lo_log_error("cannot start writer thread", "errno=%d", errno);
            lo_ingest_stop(in);
            return LO_ERROR;
        }
        in->w[i].started = true;
    }
    return LO_OK;
}

int lo_ingest_submit(lo_ingest_t *in, lo_ingest_req_t *r)
{
    lo_ingest_queue_t *q = &in->q[r->batch.signal];
    r->next = NULL;
    r->enqueued_ns = lo_mono_ns();
    pthread_mutex_lock(&q->mu);
    if (!in->started || atomic_load(&in->stopping) || q->unavailable) {
        pthread_mutex_unlock(&q->mu);
        return LO_UNAVAIL;
    }
    /* bounded; an empty queue takes any request, so one larger than the
     * bound is not refused forever */
    /* and in time: a request is refused when what is queued ahead of it
     * would take the writers longer than queue_max_wait to commit (at their
     * measured rate), or when the oldest waiting request has already waited
     * that long (the writers are behind) */
    double max_wait_s = (double)in->set.queue_max_wait_ns / 1e9;
    if ((q->bytes > 0 && q->bytes + r->bytes > in->set.queue_max_bytes) ||
        (q->records > 0 && q->rate > 0 && (double)(q->records + r->batch.n) > q->rate * max_wait_s) ||
        (q->head != NULL && r->enqueued_ns - q->head->enqueued_ns > in->set.queue_max_wait_ns)) {
        pthread_mutex_unlock(&q->mu);
        return LO_BUSY;
    }
    q->bytes += r->bytes;
    q->records += r->batch.n;
    if (q->tail != NULL)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    lo_stat_add(&lo_stats.buffer_bytes[r->batch.signal], (long long)r->bytes);
    return LO_OK;
}

bool lo_ingest_ready(lo_ingest_t *in)
{
    bool ready = in->started && !atomic_load(&in->stopping);
    for (int s = 0; s < LO_SIGNAL_COUNT && ready; s++) {
        pthread_mutex_lock(&in->q[s].mu);
        ready = in->q[s].connected > 0;
        pthread_mutex_unlock(&in->q[s].mu);
    }
    return ready;
}

void lo_ingest_stop(lo_ingest_t *in)
{
    if (in == NULL || in->stopped)
        return;
    in->stopped = true;
    atomic_store(&in->stop_deadline_ns, lo_mono_ns() + in->set.shutdown_timeout_ns);
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        /* under the lock: a submit sees stopping or its request is drained */
        pthread_mutex_lock(&in->q[s].mu);
        atomic_store(&in->stopping, true);
        pthread_cond_broadcast(&in->q[s].cv);
        pthread_cond_broadcast(&in->q[s].retry_cv);
        pthread_mutex_unlock(&in->q[s].mu);
    }
    for (int i = 0; i < in->nw; i++) {
        if (in->w[i].started) {
            pthread_join(in->w[i].thread, NULL);
            in->w[i].started = false;
        }
    }
    /* nothing can be left (writers exit on an empty queue); be sure */
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        pthread_mutex_lock(&in->q[s].mu);
        lo_ingest_req_t *list = take_all(&in->q[s]);
        pthread_mutex_unlock(&in->q[s].mu);
        if (list != NULL)
            answer(&in->q[s], list, LO_UNAVAIL);
    }
}

void lo_ingest_destroy(lo_ingest_t *in)
{
    if (in == NULL)
        return;
    lo_ingest_stop(in);
    for (int i = 0; i < in->nw; i++)
        lo_writer_free(&in->w[i]);
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        pthread_mutex_destroy(&in->q[s].mu);
        pthread_cond_destroy(&in->q[s].cv);
        pthread_cond_destroy(&in->q[s].retry_cv);
    }
    lo_session_cache_destroy(in->sessions);
    free(in->w);
    free(in->set.conninfo);
    free(in);
}
