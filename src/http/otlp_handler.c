/*
 * otlp_handler.c — the OTLP listener: POST /v1/{traces,logs,metrics}.
 *
 * A request goes through: route and method (404/405); token (401/403/503);
 * Content-Type and Content-Encoding (415); declared length (413) — all
 * before the body is read.  Then the body is accumulated within
 * max_body_bytes, inflated within max_decompressed_bytes, decoded into a
 * batch whose arena is bounded, checked record by record (the token's
 * projects, the accepted time window), charged to the projects' rate limits,
 * and handed to the writers.  The connection stays suspended until a writer
 * has committed the batch (or failed), then the handler is called again and
 * answers.  Everything a request holds is freed when libmicrohttpd reports
 * it completed.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/log.h"
#include "core/stats.h"
#include "http/gzip.h"
#include "http/guard.h"
#include "http/listener.h"
#include "ingest/admit.h"

#define CT_PROTOBUF            "application/x-protobuf"
#define CT_JSON                "application/json"
/* google.rpc.Code values used in Status bodies */
#define RPC_INVALID_ARGUMENT   3
#define RPC_NOT_FOUND          5
#define RPC_PERMISSION_DENIED  7
#define RPC_RESOURCE_EXHAUSTED 8
#define RPC_UNIMPLEMENTED      12
#define RPC_INTERNAL           13
#define RPC_UNAVAILABLE        14
#define RPC_UNAUTHENTICATED    16
/* An oversized body without Content-Length is read and thrown away (so the
 * client gets its 413) up to this multiple of max_body_bytes; past it the
 * connection is closed. */
#define DISCARD_FACTOR         4
/* Distinct projects whose records are counted at once for the rate limit. */

_Static_assert(offsetof(lo_log_rec_t, env) == 0, "records start with their envelope");
_Static_assert(offsetof(lo_span_rec_t, env) == 0, "records start with their envelope");
_Static_assert(offsetof(lo_sample_rec_t, env) == 0, "records start with their envelope");

/* An answer decided from the headers alone. */
typedef enum { EARLY_PLAIN, EARLY_ALLOW_POST, EARLY_RETRY, EARLY_RETRY_CLOSE } early_kind_t;
typedef struct {
    unsigned status;
    int32_t code;
    early_kind_t kind;
    char msg[160];
} early_t;

typedef enum { REQ_BODY, REQ_DISCARD, REQ_WAITING } req_state_t;

typedef struct {
    lo_http_t *h;
    struct MHD_Connection *conn;
    lo_signal_t signal;
    lo_content_type_t ct;
    lo_content_encoding_t ce;
    lo_principal_t who;
    req_state_t state;
    uint8_t *body; /* as received; kept NUL-terminated */
    size_t len, cap;
    uint64_t discarded;
    size_t held;  /* bytes counted in lo_http_held_bytes */
    bool refused; /* REQ_DISCARD: answer early, not 413 */
    early_t early;
    uint8_t *plain; /* inflated body (gzip) */
    size_t plain_len;
    lo_arena_t *arena;
    lo_ingest_req_t ir; /* ir.batch: the decoded records */
    /* hand-off with the writer thread */
    pthread_mutex_t mu;
    bool submitted, suspended, finished;
    int result;
} otlp_req_t;

static const char *ctype_of(lo_content_type_t ct)
{
    return ct == LO_CT_PROTOBUF ? CT_PROTOBUF : CT_JSON;
}

/* An error answer: google.rpc.Status in the request's encoding (JSON when
 * the request's own is unknown). */
static enum MHD_Result reply_status(struct MHD_Connection *c, lo_content_type_t ct, unsigned status,
                                    int32_t code, const char *message, const lo_http_hdr_t *extra)
{
    /* Refusals are the client's business (debug); failures of ours warn.
     * The message is ours: decoders name fields, never echo input. */
    char why[200];
    size_t k = 0;
    for (const char *m = message; *m != '\0' && k + 1 < sizeof(why); m++)
        why[k++] = (*m == '"' || *m == '\\' || (unsigned char)*m < 0x20) ? '\'' : *m;
    why[k] = '\0';
    lo_log(status >= 500 && status != 503 ? LO_LOG_WARN : LO_LOG_DEBUG, "otlp request refused",
           "status=%u reason=\"%s\"", status, why);
    lo_buf_t b;
    lo_buf_init(&b, 64 * 1024);
    int rc =
        ct == LO_CT_PROTOBUF ? lo_otlp_pb_status(code, message, &b) : lo_otlp_json_status(code, message, &b);
    enum MHD_Result r;
    if (rc == LO_OK)
        r = lo_http_reply(c, LO_LISTENER_OTLP, status, ct == LO_CT_PROTOBUF ? CT_PROTOBUF : CT_JSON, b.p,
                          b.len, extra);
    else
        r = lo_http_reply(c, LO_LISTENER_OTLP, status, "text/plain", message, strlen(message), extra);
    lo_buf_free(&b);
    return r;
}

/* 429 / 503 with Retry-After. */
static enum MHD_Result reply_retry(struct MHD_Connection *c, lo_content_type_t ct, unsigned status,
                                   const char *message, int64_t seconds, bool close)
{
    char ra[24];
    snprintf(ra, sizeof(ra), "%" PRId64, seconds > 0 ? seconds : 1);
    lo_http_hdr_t hdr[] = { { MHD_HTTP_HEADER_RETRY_AFTER, ra },
                            { close ? MHD_HTTP_HEADER_CONNECTION : NULL, "close" },
                            { NULL, NULL } };
    return reply_status(c, ct, status, status == 429 ? RPC_RESOURCE_EXHAUSTED : RPC_UNAVAILABLE, message,
                        hdr);
}

static bool route(const char *url, lo_signal_t *out)
{
    if (strcmp(url, "/v1/logs") == 0)
        *out = LO_SIGNAL_LOGS;
    else if (strcmp(url, "/v1/traces") == 0)
        *out = LO_SIGNAL_SPANS;
    else if (strcmp(url, "/v1/metrics") == 0)
        *out = LO_SIGNAL_METRICS;
    else
        return false;
    return true;
}

/* Counts n more bytes against the listener's budget; false when over it. */
static bool hold(otlp_req_t *r, size_t n)
{
    long long now = atomic_fetch_add(&lo_http_held_bytes, (long long)n) + (long long)n;
    if (now > r->h->held_max) {
        atomic_fetch_sub(&lo_http_held_bytes, (long long)n);
        return false;
    }
    r->held += n;
    return true;
}

static void req_free(otlp_req_t *r)
{
    if (r == NULL)
        return;
    atomic_fetch_sub(&lo_http_held_bytes, (long long)r->held);
    lo_otlp_batch_free(&r->ir.batch);
    lo_arena_destroy(r->arena);
    free(r->plain);
    free(r->body);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- first call: everything that can be decided from the headers ---- */

static bool early(early_t *e, unsigned status, int32_t code, early_kind_t kind, const char *msg)
{
    e->status = status;
    e->code = code;
    e->kind = kind;
    snprintf(e->msg, sizeof(e->msg), "%s", msg);
    return false;
}

static enum MHD_Result reply_early(lo_http_t *h, struct MHD_Connection *c, lo_content_type_t ct,
                                   const early_t *e)
{
    lo_http_hdr_t allow[] = { { MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST }, { NULL, NULL } };
    switch (e->kind) {
    case EARLY_ALLOW_POST: return reply_status(c, ct, e->status, e->code, e->msg, allow);
    case EARLY_RETRY: return reply_retry(c, ct, e->status, e->msg, h->cfg->retry_after_seconds, false);
    case EARLY_RETRY_CLOSE: return reply_retry(c, ct, e->status, e->msg, h->cfg->retry_after_seconds, true);
    default: return reply_status(c, ct, e->status, e->code, e->msg, NULL);
    }
}

/* Route, method, token, Content-Type, Content-Encoding and declared length.
 * false with *e filled when the request must be refused. */
static bool check_headers(lo_http_t *h, struct MHD_Connection *c, const char *url, const char *method,
                          otlp_req_t *r, uint64_t *declared, bool *has_len, early_t *e)
{
    const lo_config_t *cfg = h->cfg;
    if (!route(url, &r->signal))
        return early(e, MHD_HTTP_NOT_FOUND, RPC_NOT_FOUND, EARLY_PLAIN,
                     "not found: POST to /v1/traces, /v1/logs or /v1/metrics");
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return early(e, MHD_HTTP_METHOD_NOT_ALLOWED, RPC_UNIMPLEMENTED, EARLY_ALLOW_POST,
                     "method not allowed: use POST");
    lo_stat_add(&lo_stats.requests[r->signal], 1);
    if (atomic_load(&h->stopping) || h->d.ingest == NULL) {
        lo_stat_add(&lo_stats.requests_unavail[r->signal], 1);
        return early(e, MHD_HTTP_SERVICE_UNAVAILABLE, RPC_UNAVAILABLE, EARLY_RETRY_CLOSE,
                     "server is shutting down");
    }

    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    int rc = authz != NULL ? lo_auth_check(h->d.auth, authz, &r->who) : LO_DENIED;
    if (rc == LO_DENIED)
        return early(e, MHD_HTTP_UNAUTHORIZED, RPC_UNAUTHENTICATED, EARLY_PLAIN,
                     authz == NULL ? "missing Authorization: Bearer token" : "unknown or revoked token");
    if (rc == LO_UNAVAIL) {
        lo_stat_add(&lo_stats.requests_unavail[r->signal], 1);
        return early(e, MHD_HTTP_SERVICE_UNAVAILABLE, RPC_UNAVAILABLE, EARLY_RETRY,
                     "cannot check the token: database unavailable");
    }
    if (rc == LO_BUSY) {
        lo_stat_add(&lo_stats.requests_busy[r->signal], 1);
        return early(e, MHD_HTTP_TOO_MANY_REQUESTS, RPC_RESOURCE_EXHAUSTED, EARLY_RETRY,
                     "too many unknown tokens being checked, retry later");
    }
    if (rc != LO_OK)
        return early(e, MHD_HTTP_INTERNAL_SERVER_ERROR, RPC_INTERNAL, EARLY_PLAIN, "token check failed");
    if (!lo_principal_has_scope(&r->who, LO_SCOPE_INGEST))
        return early(e, MHD_HTTP_FORBIDDEN, RPC_PERMISSION_DENIED, EARLY_PLAIN, "token lacks scope ingest");

    if (r->ct != LO_CT_PROTOBUF && r->ct != LO_CT_JSON)
        return early(e, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, RPC_INVALID_ARGUMENT, EARLY_PLAIN,
                     "Content-Type must be application/x-protobuf or application/json");
    r->ce = lo_http_content_encoding(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING));
    if (r->ce == LO_CE_UNSUPPORTED)
        return early(e, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, RPC_INVALID_ARGUMENT, EARLY_PLAIN,
                     "Content-Encoding must be gzip or identity");
    if (*has_len && *declared > (uint64_t)cfg->max_body_bytes) {
        char msg[128];
        snprintf(msg, sizeof(msg), "body larger than %" PRId64 " bytes", cfg->max_body_bytes);
        return early(e, MHD_HTTP_CONTENT_TOO_LARGE, RPC_INVALID_ARGUMENT, EARLY_PLAIN, msg);
    }
    return true;
}

static enum MHD_Result begin(lo_http_t *h, struct MHD_Connection *c, const char *url, const char *method,
                             void **con_cls)
{
    lo_content_type_t ct =
        lo_http_content_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
    uint64_t declared = 0;
    bool has_len = lo_http_content_length(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH), &declared);
    otlp_req_t *r = calloc(1, sizeof(*r));
    if (r == NULL || pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return reply_status(c, ct, MHD_HTTP_INTERNAL_SERVER_ERROR, RPC_INTERNAL, "out of memory", NULL);
    }
    r->h = h;
    r->conn = c;
    r->ct = ct;
    r->state = REQ_BODY;
    early_t e;
    bool refuse = !check_headers(h, c, url, method, r, &declared, &has_len, &e);
    if (!refuse && has_len && declared > 0 && !hold(r, (size_t)declared + 1)) {
        lo_stat_add(&lo_stats.requests_busy[r->signal], 1);
        refuse = !early(&e, MHD_HTTP_TOO_MANY_REQUESTS, RPC_RESOURCE_EXHAUSTED, EARLY_RETRY,
                        "too many request bodies in flight, retry later");
    }
    if (refuse) {
        /* A client that sends its body without waiting (no Expect:
         * 100-continue) would find the connection reset under its feet
         * and may never read our answer: read the body, keep none of it,
         * then answer.  Bodies far over the limit are not worth reading. */
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        bool body_follows =
            (has_len && declared > 0) ||
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
        bool waits = expect != NULL && strcasecmp(expect, "100-continue") == 0;
        uint64_t worth = (uint64_t)h->cfg->max_body_bytes * DISCARD_FACTOR;
        if (!body_follows || waits || (has_len && declared > worth)) {
            req_free(r);
            return reply_early(h, c, ct, &e);
        }
        r->state = REQ_DISCARD;
        r->refused = true;
        r->early = e;
        atomic_fetch_add(&h->active, 1);
        *con_cls = r;
        return MHD_YES;
    }
    if (has_len && declared > 0) {
        /* The declared size is within max_body_bytes: reserve it at once. */
        r->body = malloc((size_t)declared + 1);
        if (r->body == NULL) {
            req_free(r);
            return reply_status(c, ct, MHD_HTTP_INTERNAL_SERVER_ERROR, RPC_INTERNAL, "out of memory", NULL);
        }
        r->cap = (size_t)declared + 1;
    }
    atomic_fetch_add(&h->active, 1);
    *con_cls = r;
    return MHD_YES;
}

/* ---- body chunks ---- */

static enum MHD_Result take_chunk(otlp_req_t *r, const char *data, size_t n)
{
    size_t max = (size_t)r->h->cfg->max_body_bytes;
    if (r->state == REQ_DISCARD) {
        r->discarded += n;
        return r->discarded > (uint64_t)max * DISCARD_FACTOR ? MHD_NO : MHD_YES;
    }
    if (n > max - r->len) {
        /* Over the limit: drop what we have, read on without keeping. */
        r->discarded = r->len + n;
        free(r->body);
        r->body = NULL;
        r->len = r->cap = 0;
        r->state = REQ_DISCARD;
        return MHD_YES;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap < 64 * 1024 ? 64 * 1024 : r->cap;
        while (cap < r->len + n + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        if (!hold(r, cap - r->cap)) {
            lo_stat_add(&lo_stats.requests_busy[r->signal], 1);
            early(&r->early, MHD_HTTP_TOO_MANY_REQUESTS, RPC_RESOURCE_EXHAUSTED, EARLY_RETRY,
                  "too many request bodies in flight, retry later");
            r->refused = true;
            r->discarded = r->len + n;
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            r->state = REQ_DISCARD;
            return MHD_YES;
        }
        uint8_t *p = realloc(r->body, cap);
        if (p == NULL)
            return MHD_NO;
        r->body = p;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return MHD_YES;
}

/* ---- answers ---- */

static enum MHD_Result reply_ok(otlp_req_t *r)
{
    lo_otlp_batch_t *b = &r->ir.batch;
    lo_buf_t out;
    lo_buf_init(&out, 64 * 1024);
    const char *msg = b->rejected > 0 ? b->reject_reason : NULL;
    int rc = r->ct == LO_CT_PROTOBUF ? lo_otlp_pb_response(r->signal, b->rejected, msg, &out)
                                     : lo_otlp_json_response(r->signal, b->rejected, msg, &out);
    enum MHD_Result res;
    if (rc == LO_OK)
        res = lo_http_reply(r->conn, LO_LISTENER_OTLP, MHD_HTTP_OK, ctype_of(r->ct), out.p, out.len, NULL);
    else
        res = reply_status(r->conn, r->ct, MHD_HTTP_INTERNAL_SERVER_ERROR, RPC_INTERNAL,
                           "cannot encode the response", NULL);
    lo_buf_free(&out);
    return res;
}

/* The writer's verdict, once done() has been called. */
static enum MHD_Result reply_result(otlp_req_t *r)
{
    const lo_config_t *cfg = r->h->cfg;
    switch (r->result) {
    case LO_OK: return reply_ok(r);
    case LO_BUSY:
        lo_stat_add(&lo_stats.requests_busy[r->signal], 1);
        return reply_retry(r->conn, r->ct, MHD_HTTP_TOO_MANY_REQUESTS, "writers busy, retry later",
                           cfg->retry_after_seconds, false);
    case LO_UNAVAIL:
        lo_stat_add(&lo_stats.requests_unavail[r->signal], 1);
        return reply_retry(r->conn, r->ct, MHD_HTTP_SERVICE_UNAVAILABLE, "storage unavailable, retry later",
                           cfg->retry_after_seconds, false);
    default:
        return reply_status(r->conn, r->ct, MHD_HTTP_INTERNAL_SERVER_ERROR, RPC_INTERNAL,
                            "the database refused the records", NULL);
    }
}

/* Called once, on a writer thread. */
static void on_done(lo_ingest_req_t *ir)
{
    otlp_req_t *r = ir->user;
    pthread_mutex_lock(&r->mu);
    r->result = ir->result;
    r->finished = true;
    if (r->suspended)
        MHD_resume_connection(r->conn);
    pthread_mutex_unlock(&r->mu);
}

static enum MHD_Result decode_failed(otlp_req_t *r, int rc)
{
    lo_otlp_batch_t *b = &r->ir.batch;
    if (rc == LO_INVALID) {
        lo_stat_add(&lo_stats.requests_invalid[r->signal], 1);
        return reply_status(r->conn, r->ct, MHD_HTTP_BAD_REQUEST, RPC_INVALID_ARGUMENT,
                            b->error[0] != '\0' ? b->error : "malformed payload", NULL);
    }
    return reply_status(r->conn, r->ct, MHD_HTTP_CONTENT_TOO_LARGE, RPC_INVALID_ARGUMENT,
                        "payload too large to decode", NULL);
}

/* ---- last call: the whole body is here ---- */

/* The body as the decoder reads it: unpacked when gzip, and within the
 * decompressed-size limit.  false when it has answered instead (*ret). */
static bool plain_body(otlp_req_t *r, const uint8_t **p, size_t *n, enum MHD_Result *ret)
{
    const lo_config_t *cfg = r->h->cfg;
    struct MHD_Connection *c = r->conn;
    char msg[160];
    *p = r->body != NULL ? r->body : (const uint8_t *)"";
    *n = r->len;
    if (r->ce != LO_CE_GZIP) {
        if (*n <= (size_t)cfg->max_decompressed_bytes)
            return true;
        snprintf(msg, sizeof(msg), "body larger than %" PRId64 " bytes", cfg->max_decompressed_bytes);
        *ret = reply_status(c, r->ct, MHD_HTTP_CONTENT_TOO_LARGE, RPC_INVALID_ARGUMENT, msg, NULL);
        return false;
    }
    int rc = lo_gunzip(*p, *n, (size_t)cfg->max_decompressed_bytes, &r->plain, &r->plain_len);
    if (rc == LO_INVALID) {
        lo_stat_add(&lo_stats.requests_invalid[r->signal], 1);
        *ret = reply_status(c, r->ct, MHD_HTTP_BAD_REQUEST, RPC_INVALID_ARGUMENT, "body is not valid gzip",
                            NULL);
        return false;
    }
    if (rc == LO_TOO_LARGE) {
        snprintf(msg, sizeof(msg), "decompressed body larger than %" PRId64 " bytes",
                 cfg->max_decompressed_bytes);
        *ret = reply_status(c, r->ct, MHD_HTTP_CONTENT_TOO_LARGE, RPC_INVALID_ARGUMENT, msg, NULL);
        return false;
    }
    if (rc != LO_OK) {
        *ret = reply_status(c, r->ct, MHD_HTTP_INTERNAL_SERVER_ERROR, RPC_INTERNAL, "out of memory", NULL);
        return false;
    }
    free(r->body); /* the records will point into plain */
    r->body = NULL;
    r->len = r->cap = 0;
    if (!hold(r, r->plain_len)) {
        lo_stat_add(&lo_stats.requests_busy[r->signal], 1);
        *ret = reply_retry(c, r->ct, MHD_HTTP_TOO_MANY_REQUESTS,
                           "too many request bodies in flight, retry later", cfg->retry_after_seconds, false);
        return false;
    }
    *p = r->plain;
    *n = r->plain_len;
    return true;
}

/* Decodes p[0..n) into the request's batch, in an arena sized for it.
 * What one request may make us hold is bounded by what the writers may
 * buffer: JSON renderings of attributes may outgrow their protobuf by
 * escaping (up to 6x for control characters), so 8x the body bounds the
 * arena; and a body of empty records (two bytes each) must not grow the
 * record array past the same budget.  The decoder's code, or LO_ERROR
 * with no arena when the arena cannot be made. */
static int decode(otlp_req_t *r, const uint8_t *p, size_t n, int64_t now)
{
    const lo_config_t *cfg = r->h->cfg;
    size_t budget = (size_t)cfg->queue_max_bytes;
    size_t limit = n <= (SIZE_MAX - (1u << 20)) / 8 ? n * 8 + (1u << 20) : SIZE_MAX;
    if (limit > budget)
        limit = budget;
    r->arena = lo_arena_create(64 * 1024, limit);
    if (r->arena == NULL)
        return LO_ERROR;
    lo_otlp_batch_init(&r->ir.batch, r->signal, r->arena);
    r->ir.batch.max_records = budget / lo_otlp_rec_size(r->signal);
    lo_decode_opts_t opts = { .max_depth = (int)cfg->max_attr_depth,
                              .receive_ns = now,
                              .redact = r->h->d.redact };
    return r->ct == LO_CT_PROTOBUF ? lo_otlp_pb_decode(r->signal, p, n, &opts, &r->ir.batch)
                                   : lo_otlp_json_decode(r->signal, (const char *)p, n, &opts, &r->ir.batch);
}

/* Hands the decoded batch to ingest and suspends the connection until a
 * writer has committed it (or answers at once when it already has). */
static enum MHD_Result submit(otlp_req_t *r)
{
    const lo_config_t *cfg = r->h->cfg;
    struct MHD_Connection *c = r->conn;
    r->ir.bytes =
        r->cap + r->plain_len + lo_arena_used(r->arena) + r->ir.batch.cap * lo_otlp_rec_size(r->signal);
    r->ir.done = on_done;
    r->ir.user = r;
    int rc = lo_ingest_submit(r->h->d.ingest, &r->ir);
    if (rc == LO_BUSY) {
        lo_stat_add(&lo_stats.requests_busy[r->signal], 1);
        return reply_retry(c, r->ct, MHD_HTTP_TOO_MANY_REQUESTS, "ingest buffer full, retry later",
                           cfg->retry_after_seconds, false);
    }
    if (rc != LO_OK) {
        lo_stat_add(&lo_stats.requests_unavail[r->signal], 1);
        return reply_retry(c, r->ct, MHD_HTTP_SERVICE_UNAVAILABLE, "storage unavailable, retry later",
                           cfg->retry_after_seconds, false);
    }
    r->submitted = true;
    r->state = REQ_WAITING;
    atomic_fetch_add(&r->h->waiting, 1);
    /* done() may already have run on a writer thread; if not, it resumes us
     * (the lock orders our suspend before its resume). */
    pthread_mutex_lock(&r->mu);
    if (!r->finished) {
        MHD_suspend_connection(c);
        r->suspended = true;
        pthread_mutex_unlock(&r->mu);
        return MHD_YES;
    }
    pthread_mutex_unlock(&r->mu);
    return reply_result(r);
}

/* The whole body has arrived: unpack, decode, admit, submit. */
static enum MHD_Result finish(otlp_req_t *r)
{
    lo_http_t *h = r->h;
    struct MHD_Connection *c = r->conn;
    enum MHD_Result ret;

    if (r->state == REQ_DISCARD && r->refused)
        return reply_early(h, c, r->ct, &r->early);
    if (r->state == REQ_DISCARD) {
        char msg[160];
        snprintf(msg, sizeof(msg), "body larger than %" PRId64 " bytes", h->cfg->max_body_bytes);
        return reply_status(c, r->ct, MHD_HTTP_CONTENT_TOO_LARGE, RPC_INVALID_ARGUMENT, msg, NULL);
    }
    const uint8_t *p;
    size_t n;
    if (!plain_body(r, &p, &n, &ret))
        return ret;
    int64_t now = lo_now_ns();
    int rc = decode(r, p, n, now);
    if (rc == LO_ERROR && r->arena == NULL)
        return reply_status(c, r->ct, MHD_HTTP_INTERNAL_SERVER_ERROR, RPC_INTERNAL, "out of memory", NULL);
    if (rc != LO_OK)
        return decode_failed(r, rc);
    int64_t retry = 0;
    if (lo_admit(&h->admit, &r->who, &r->ir.batch, now, &retry) != LO_OK) {
        lo_stat_add(&lo_stats.requests_busy[r->signal], 1);
        return reply_retry(c, r->ct, MHD_HTTP_TOO_MANY_REQUESTS, "project over its ingest rate limit", retry,
                           false);
    }
    if (r->ir.batch.n == 0)
        return reply_ok(r); /* nothing to store: answer at once */
    return submit(r);
}

enum MHD_Result lo_http_otlp_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                    const char *version, const char *upload, size_t *upload_size,
                                    void **con_cls)
{
    LO_UNUSED(version);
    lo_http_t *h = cls;
    if (lo_http_guard_first(*con_cls)) {
        unsigned status;
        const char *why;
        if (lo_http_guard_head(c, version, *con_cls, &status, &why) != LO_OK) {
            *con_cls = NULL;
            lo_http_hdr_t close[] = { { MHD_HTTP_HEADER_CONNECTION, "close" }, { NULL, NULL } };
            return reply_status(c,
                                lo_http_content_type(MHD_lookup_connection_value(
                                    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)),
                                status, RPC_INVALID_ARGUMENT, why, close);
        }
        *con_cls = NULL;
        return begin(h, c, url, method, con_cls);
    }
    otlp_req_t *r = *con_cls;
    if (r->state == REQ_WAITING) {
        /* resumed by done() */
        pthread_mutex_lock(&r->mu);
        bool fin = r->finished;
        if (!fin) {
            MHD_suspend_connection(c);
            r->suspended = true;
        }
        pthread_mutex_unlock(&r->mu);
        return fin ? reply_result(r) : MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        return take_chunk(r, upload, n);
    }
    return finish(r);
}

void lo_http_otlp_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    LO_UNUSED(toe);
    lo_http_t *h = cls;
    lo_http_guard_request_done(c);
    otlp_req_t *r = *con_cls;
    if (lo_http_guard_first(r))
        return;
    *con_cls = NULL;
    if (r->submitted) {
        pthread_mutex_lock(&r->mu);
        bool fin = r->finished;
        pthread_mutex_unlock(&r->mu);
        if (!fin) {
            /* A writer still holds the records: leaking beats a use after free. */
            lo_log_error("otlp request ended before its writer answered", "signal=%s",
                         lo_signal_name(r->signal));
            return;
        }
        atomic_fetch_sub(&h->waiting, 1);
    }
    req_free(r);
    atomic_fetch_sub(&h->active, 1);
}
