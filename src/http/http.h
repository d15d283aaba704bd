/*
 * http.h — the two HTTP listeners of `lookout serve` (libmicrohttpd).
 *
 * The OTLP listener takes POST /v1/traces, /v1/logs, /v1/metrics: it checks
 * method, token, Content-Type and Content-Encoding before reading a byte of
 * the body, reads the body within max_body_bytes, inflates gzip within
 * max_decompressed_bytes, decodes, enforces the token's projects and the
 * accepted time window, takes rate-limit tokens, and hands the batch to the
 * writers (ingest.h).  The connection is suspended until the writer has
 * committed; then the answer is 200 (Export*ServiceResponse) or 503.
 *
 * The body bytes all OTLP requests hold at once are bounded (twice
 * queue_max_bytes): past the bound a request gets 429 before its body is
 * kept, so many slow or concurrent uploads cannot exhaust memory.
 *
 * The API listener answers /healthz, /readyz, /metrics and, under /api/,
 * the routes modules registered (authenticated; those needing the database
 * on the query threads, api_exec.h; api.h).
 *
 * Shutdown: lo_http_quiesce stops accepting; lo_http_wait_idle lets the
 * requests in flight reach the writers; after lo_ingest_stop has answered
 * them, lo_http_drain waits until the answers are sent; lo_http_stop ends
 * the daemons.
 */
#ifndef LO_HTTP_H
#define LO_HTTP_H

#include "auth/auth.h"
#include "http/api.h"
#include "core/config.h"
#include "ingest/ingest.h"
#include "ingest/ratelimit.h"
#include "otlp/otlp.h"
#include "store/pool.h"
#include "store/retention.h"

typedef struct lo_http lo_http_t;

/* What the listeners use; nothing here is owned by the listeners. */
typedef struct {
    const lo_config_t *cfg;
    lo_auth_t *auth;
    lo_pg_pool_t *pool;              /* API handlers and /readyz */
    lo_ingest_t *ingest;             /* may be NULL: the OTLP listener answers 503 */
    lo_ratelimit_t *ratelimit;       /* may be NULL: no rate limit */
    const lo_redact_t *redact;       /* may be NULL: redact nothing */
    const lo_api_routes_t *routes;   /* the API routes of the modules; NULL: none (404) */
    const lo_retention_t *retention; /* the acceptance window of records */
} lo_http_deps_t;

/* Resolves the addresses and prepares the listeners (not started).
 * NULL with a message in err. */
lo_http_t *lo_http_create(const lo_http_deps_t *deps, char *err, size_t errlen);
/* Binds and starts both listeners.  LO_ERROR with a message in err
 * (address in use, ...). */
int lo_http_start(lo_http_t *h, char *err, size_t errlen) LO_MUST_USE;
/* The ports actually bound (useful with port 0). */
int lo_http_otlp_port(const lo_http_t *h);
int lo_http_api_port(const lo_http_t *h);
/* Stops accepting connections; requests on open connections get 503. */
void lo_http_quiesce(lo_http_t *h);
/* Waits (at most timeout_ms) until every OTLP request in flight has been
 * handed to the writers or answered.  true when that happened in time. */
bool lo_http_wait_idle(lo_http_t *h, int timeout_ms);
/* Waits (at most timeout_ms) until every OTLP request has been answered
 * (call after lo_ingest_stop).  true when that happened in time. */
bool lo_http_drain(lo_http_t *h, int timeout_ms);
/* Stops both daemons; open connections are closed. */
void lo_http_stop(lo_http_t *h);
/* Frees everything; accepts NULL and a never-started or stopped h. */
void lo_http_destroy(lo_http_t *h);

#endif
