/*
 * writer.h — inside the ingest module: what a writer thread owns and the
 * steps of writing one batch.  Not for use outside src/ingest.
 *
 * A batch is a list of requests (lo_ingest_req_t, linked by next) of one
 * signal.  lo_writer_write() writes all their records in one transaction:
 *   sessions  fill project/user from agent_sessions (sessions.c)
 *   metrics   insert unknown series and learn their ids (series.c), COPY metric_samples
 *   spans     COPY spans, upsert the traces summary (trace_summary.c)
 *   logs      COPY log_entries
 *   sessions  upsert the mappings records taught
 * and commits.  Caches learn only after the commit.
 */
#ifndef LO_INGEST_WRITER_H
#define LO_INGEST_WRITER_H

#include <libpq-fe.h>
#include <pthread.h>

#include "ingest/copy.h"
#include "ingest/ingest.h"
#include "store/pgarr.h"

/* ---- agent session mappings, shared by all writers (sessions.c) ---- */

typedef struct lo_session_cache lo_session_cache_t;

lo_session_cache_t *lo_session_cache_create(size_t entries, int64_t ttl_ns);
void lo_session_cache_destroy(lo_session_cache_t *c);

/* The session ids of one batch (sessions.c). */
typedef struct lo_sess_batch lo_sess_batch_t;

/* ---- metric series ids (series.c) ---- */

/* A series the cache did not know, once per batch: its identity bytes
 * (in the writer's new_keys), then the id the database holds for it. */
typedef struct {
    const lo_sample_rec_t *rec;
    uint64_t hash;
    size_t off;
    size_t len;
    int64_t id;
    bool found;
} lo_new_series_t;

/* Learned series ids by exact identity bytes (open addressing; hash 0 is
 * an empty slot).  Bounded in slots and key bytes: emptied when full. */
typedef struct {
    uint64_t hash;
    int64_t id;
    uint32_t off, len; /* the identity in keys */
} lo_series_slot_t;

typedef struct {
    lo_series_slot_t *slots;
    size_t cap, count;
    lo_buf_t keys;
    uint64_t seed; /* random per writer: chains cannot be planned from outside */
} lo_series_cache_t;

/* ---- trace summaries (trace_summary.c) ---- */

#define LO_TRACE_BATCH_SERVICES 16 /* services of one trace noted per batch (the summary keeps 64) */

typedef struct {
    uint8_t trace_id[16];
    uint8_t project[16], session[16], user[16];
    bool has_project, has_session, has_user, has_root, used;
    int16_t status;
    lo_str_t service, root_name;
    int64_t start_ns, end_ns;
    int32_t spans, errors;
    lo_str_t services[LO_TRACE_BATCH_SERVICES]; /* the distinct services of the batch's spans */
    uint8_t n_services;
} lo_trace_agg_t;

/* ---- the writer ---- */

typedef struct lo_ingest_queue lo_ingest_queue_t;

typedef struct lo_writer {
    double rate; /* records/s this writer commits (moving average; 0 = not yet known) */
    lo_ingest_t *in;
    lo_ingest_queue_t *q;
    lo_signal_t signal;
    int index;
    pthread_t thread;
    bool started;
    PGconn *conn;
    char err[256]; /* why the last write failed (no telemetry content) */

    lo_copy_ctx_t ctx;
    lo_buf_t copy;      /* the COPY stream, sent in chunks */
    lo_pgarr_t arr[12]; /* array parameters of the upserts */

    /* per batch scratch, reused */
    lo_sess_batch_t *sessb;
    lo_trace_agg_t *traces;
    size_t traces_cap;
    lo_trace_agg_t **sorted_traces;
    int64_t *series_ids;  /* one per sample of the batch */
    uint32_t *series_ref; /* per sample: index in new_series, or UINT32_MAX (cached) */
    size_t series_ids_cap;
    lo_new_series_t *new_series;
    size_t new_series_n, new_series_cap;
    uint32_t *new_tab; /* new_series by identity: index + 1, 0 empty */
    size_t new_tab_cap;
    lo_buf_t new_keys, idkey;
    lo_buf_t svc_lit; /* a trace's services as an array literal */
    lo_series_cache_t series;
    /* the identifying resource attributes of the last resource seen
     * (series.c), valid while the batch's requests are */
    const char *rid_src;
    size_t rid_src_len;
    lo_buf_t rid;
} lo_writer_t;

/* Settings the writers read (copied from lo_config_t at create). */
typedef struct {
    char *conninfo;
    size_t batch_max_records;
    size_t queue_max_bytes;
    int64_t queue_max_wait_ns;
    int writers;
    size_t session_cache_entries;
    int64_t session_cache_ns;
    bool session_lend_project; /* records without a project take the mapping's (docs/auth.md) */
    int partition_days_back, partition_days_ahead;
    int64_t shutdown_timeout_ns;
} lo_ingest_settings_t;

/* What writers need from the ingest object. */
const lo_ingest_settings_t *lo_ingest_settings(const lo_ingest_t *in);
lo_session_cache_t *lo_ingest_sessions(lo_ingest_t *in);

/* Empty buffers; allocates nothing (they grow on first use). */
void lo_writer_init(lo_writer_t *w);
void lo_writer_free(lo_writer_t *w);

/* Writes the records of the requests in list (linked by next) in one
 * transaction.  LO_OK (committed), LO_UNAVAIL (connection or server
 * trouble: w->conn may be unusable) or LO_ERROR (the data was rejected).
 * w->err says why.  Touches no request's result. */
int lo_writer_write(lo_writer_t *w, lo_ingest_req_t *list, size_t records) LO_MUST_USE;

/* Steps of lo_writer_write (sessions.c, series.c, trace_summary.c).  The ones
 * taking the connection return LO_OK, LO_UNAVAIL or LO_ERROR. */
int lo_sessions_resolve(lo_writer_t *w, lo_ingest_req_t *list, size_t *learn) LO_MUST_USE;
int lo_sessions_upsert(lo_writer_t *w) LO_MUST_USE;
void lo_sessions_commit(lo_writer_t *w);
void lo_sessions_free(lo_writer_t *w);

/* prepare: the cached id of every sample, the others listed as new;
 * upsert: inserts the new series and reads their ids (inside the batch's
 * transaction); fill: gives those ids to their samples; commit: the cache
 * learns them (only once the batch is committed). */
int lo_series_prepare(lo_writer_t *w, lo_ingest_req_t *list, size_t records) LO_MUST_USE;
int lo_series_upsert(lo_writer_t *w) LO_MUST_USE;
void lo_series_fill(lo_writer_t *w, size_t records);
void lo_series_commit(lo_writer_t *w);
void lo_series_cache_free(lo_series_cache_t *c);

int lo_traces_upsert(lo_writer_t *w, lo_ingest_req_t *list, size_t records) LO_MUST_USE;

/* Runs a statement with binary array parameters; LO_OK or the error class,
 * with w->err set.  result_binary: results in binary format; *out (may be
 * NULL) receives the result, to be PQclear'ed by the caller. */
int lo_writer_exec(lo_writer_t *w, const char *what, const char *sql, int nparams, const uint32_t *types,
                   PGresult **out) LO_MUST_USE;

/* The envelope is every record's first field. */
static inline lo_envelope_t *lo_ingest_env(const lo_otlp_batch_t *b, size_t i, size_t size)
{
    return (lo_envelope_t *)((char *)b->recs + i * size);
}

#endif
