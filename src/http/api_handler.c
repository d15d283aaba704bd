/*
 * api_handler.c — the API listener: /healthz, /readyz, /metrics, and the
 * JSON API under /api/ (authenticated; handlers from the modules, api.h).
 * Requests under /api/ run on the query threads (api_exec.h) with a pooled
 * database connection: the listener's threads only parse, check tokens and
 * send, so health checks answer at once whatever the queries do.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/json_write.h"
#include "core/log.h"
#include "http/api.h"
#include "http/api_exec.h"
#include "http/guard.h"
#include "http/gzip.h"
#include "http/listener.h"
#include "store/store.h"

#define CT_JSON      "application/json"
#define CT_TEXT      "text/plain; charset=utf-8"
#define CT_PROM      "text/plain; version=0.0.4; charset=utf-8"
#define API_BODY_MAX (1024 * 1024) /* POST/PATCH bodies */
#define POOL_WAIT_MS 2000

typedef struct {
    lo_api_http_t http; /* first: lo_api_req_t.http points here */
    lo_http_t *h;
    lo_principal_t who;
    lo_api_req_t req;            /* path parameters from the route match */
    const lo_api_route_t *route; /* NULL until matched */
    char allow[64];              /* for a 405 */
    bool discard;
    size_t discarded;
    unsigned err_status; /* refused from the headers: answer this after the body */
    const char *err_code;
    char err_msg[128];
    bool err_retry;
    char *body;
    size_t len, cap;
    /* handed to a query thread: the connection is suspended until done */
    char *url, *method;
    pthread_mutex_t mu;
    bool queued, suspended, finished;
    int rc;             /* the handlers' result */
    lo_api_resp_t resp; /* their answer */
    bool gzip_ok;       /* the client accepts gzip */
    bool gzipped;       /* resp.body is compressed */
} api_ctx_t;

/* Answers smaller than this are sent as they are: compressing them saves
 * less than it costs. */
#define GZIP_MIN_BYTES 1024
#define GZIP_LEVEL     1 /* fast: answers are JSON, which compresses well even so */

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *code,
                                   const char *message, const lo_http_hdr_t *extra)
{
    lo_api_resp_t resp = { 0 };
    lo_buf_init(&resp.body, 64 * 1024);
    (void)lo_api_error(&resp, (int)status, code, "%s", message);
    enum MHD_Result r = lo_http_reply(c, LO_LISTENER_API, status, CT_JSON, resp.body.p, resp.body.len, extra);
    lo_buf_free(&resp.body);
    return r;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *ctype,
                                  const char *text)
{
    return lo_http_reply(c, LO_LISTENER_API, status, ctype, text, strlen(text), NULL);
}

static bool is_read(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result readyz(lo_http_t *h, struct MHD_Connection *c)
{
    if (atomic_load(&h->stopping))
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, CT_TEXT, "shutting down\n");
    PGconn *db = h->d.pool != NULL ? lo_pg_pool_get(h->d.pool, POOL_WAIT_MS) : NULL;
    if (db == NULL)
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, CT_TEXT, "database unreachable\n");
    int rc = lo_store_schema_current(db);
    lo_pg_pool_put(h->d.pool, db, rc == LO_UNAVAIL);
    if (rc == LO_UNAVAIL)
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, CT_TEXT, "database unreachable\n");
    if (rc != LO_OK)
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, CT_TEXT,
                          "schema not current: run lookout migrate\n");
    if (h->d.ingest != NULL && !lo_ingest_ready(h->d.ingest))
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, CT_TEXT, "writers cannot reach the database\n");
    return reply_text(c, MHD_HTTP_OK, CT_TEXT, "ready\n");
}

static enum MHD_Result metrics(struct MHD_Connection *c)
{
    lo_buf_t b;
    lo_buf_init(&b, 4 * 1024 * 1024);
    enum MHD_Result r;
    if (lo_metrics_render(&b) == LO_OK)
        r = lo_http_reply(c, LO_LISTENER_API, MHD_HTTP_OK, CT_PROM, b.p, b.len, NULL);
    else
        r = reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_TEXT, "cannot render metrics\n");
    lo_buf_free(&b);
    return r;
}

static bool has_body(struct MHD_Connection *c)
{
    uint64_t n = 0;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (cl != NULL && (!lo_http_content_length(cl, &n) || n > 0)) ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* Requests outside /api/: answered from the headers alone.  A request with
 * a body (which none of them takes) is answered at once, unread, and its
 * connection closed. */
static enum MHD_Result plain_request(lo_http_t *h, struct MHD_Connection *c, const char *url,
                                     const char *method, bool body)
{
    bool known = strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 || strcmp(url, "/metrics") == 0;
    lo_http_hdr_t allow[] = { { MHD_HTTP_HEADER_ALLOW, "GET, HEAD" },
                              { body ? MHD_HTTP_HEADER_CONNECTION : NULL, "close" },
                              { NULL, NULL } };
    if (!known)
        return reply_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint", allow + 1);
    if (!is_read(method))
        return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "use GET", allow);
    if (body)
        return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", "this endpoint takes no request body",
                           allow + 1);
    if (strcmp(url, "/healthz") == 0)
        return reply_text(c, MHD_HTTP_OK, CT_TEXT, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return readyz(h, c);
    return metrics(c);
}

/* An API answer decided from the headers, sent once the body is read. */
static enum MHD_Result reply_refusal(lo_http_t *h, struct MHD_Connection *c, const api_ctx_t *x)
{
    char ra[24];
    snprintf(ra, sizeof(ra), "%" PRId64, h->cfg->retry_after_seconds);
    lo_http_hdr_t hdr[] = { { MHD_HTTP_HEADER_RETRY_AFTER, ra }, { NULL, NULL } };
    lo_http_hdr_t allow[] = { { MHD_HTTP_HEADER_ALLOW, x->allow }, { NULL, NULL } };
    return reply_error(c, x->err_status, x->err_code, x->err_msg,
                       x->err_retry                                   ? hdr
                       : x->err_status == MHD_HTTP_METHOD_NOT_ALLOWED ? allow
                                                                      : NULL);
}

/* The route of the request, and whether the caller may use it: sets the
 * refusal in x when not (404, 405, 403). */
static void route_request(lo_http_t *h, api_ctx_t *x, const char *url, const char *method)
{
    int rc = h->d.routes != NULL ? lo_api_routes_match(h->d.routes, method, url, &x->req, &x->route, x->allow,
                                                       sizeof(x->allow))
                                 : LO_DECLINED;
    if (rc == LO_DECLINED) {
        x->err_status = MHD_HTTP_NOT_FOUND;
        x->err_code = "not_found";
        snprintf(x->err_msg, sizeof(x->err_msg), "no such endpoint");
    } else if (rc != LO_OK) {
        x->err_status = MHD_HTTP_METHOD_NOT_ALLOWED;
        x->err_code = "method_not_allowed";
        snprintf(x->err_msg, sizeof(x->err_msg), "this endpoint accepts %s only", x->allow);
    } else if (!lo_api_route_allows(x->route, &x->who)) {
        char scopes[64] = "";
        if (lo_scopes_format(x->route->scope, scopes, sizeof(scopes)) != LO_OK)
            snprintf(scopes, sizeof(scopes), "required");
        x->err_status = MHD_HTTP_FORBIDDEN;
        x->err_code = "forbidden";
        snprintf(x->err_msg, sizeof(x->err_msg), "this token lacks the %s scope", scopes);
    }
}

/* A WebSocket upgrade may carry its token where browsers can put one (they
 * cannot set Authorization): the access_token query parameter, or a
 * Sec-WebSocket-Protocol offer "bearer.<token>".  Writes "Bearer <token>"
 * into out; NULL when the request is no upgrade or carries neither. */
static const char *upgrade_token(struct MHD_Connection *c, char *out, size_t outlen)
{
    const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_UPGRADE);
    if (up == NULL || strcasecmp(up, "websocket") != 0)
        return NULL;
    const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "access_token");
    size_t n = t != NULL ? strlen(t) : 0;
    if (t == NULL) {
        const char *p = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Protocol");
        while (p != NULL && *p != '\0') {
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            size_t k = strcspn(p, ", \t");
            if (k > 7 && strncmp(p, "bearer.", 7) == 0) {
                t = p + 7;
                n = k - 7;
                break;
            }
            p += k;
        }
    }
    if (t == NULL || n + 8 > outlen)
        return NULL;
    snprintf(out, outlen, "Bearer %.*s", (int)n, t);
    return out;
}

static enum MHD_Result begin_api(lo_http_t *h, struct MHD_Connection *c, const char *url, const char *method,
                                 void **con_cls)
{
    api_ctx_t *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory", NULL);
    x->http.conn = c;
    x->h = h;
    pthread_mutex_init(&x->mu, NULL);
    char ws_authz[600];
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (authz == NULL)
        authz = upgrade_token(c, ws_authz, sizeof(ws_authz));
    int rc = authz != NULL ? lo_auth_check(h->d.auth, authz, &x->who) : LO_DENIED;
    uint64_t declared = 0;
    bool has_len = lo_http_content_length(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH), &declared);
    if (rc == LO_DENIED) {
        x->err_status = MHD_HTTP_UNAUTHORIZED;
        x->err_code = "unauthorized";
        snprintf(x->err_msg, sizeof(x->err_msg), "%s",
                 authz == NULL ? "missing Authorization: Bearer token" : "unknown or revoked token");
    } else if (rc == LO_BUSY) {
        x->err_status = MHD_HTTP_TOO_MANY_REQUESTS;
        x->err_code = "busy";
        x->err_retry = true;
        snprintf(x->err_msg, sizeof(x->err_msg), "too many unknown tokens being checked, retry later");
    } else if (rc != LO_OK) {
        x->err_status = MHD_HTTP_SERVICE_UNAVAILABLE;
        x->err_code = "unavailable";
        x->err_retry = true;
        snprintf(x->err_msg, sizeof(x->err_msg), "cannot check the token: database unavailable");
    } else if (route_request(h, x, url, method), x->err_status != 0) {
        /* refused by the route table */
    } else if (has_len && declared > API_BODY_MAX) {
        x->err_status = MHD_HTTP_CONTENT_TOO_LARGE;
        x->err_code = "too_large";
        snprintf(x->err_msg, sizeof(x->err_msg), "request body larger than 1 MiB");
    }
    if (x->err_status != 0) {
        /* Answer now only when no body follows (or the client waits for
         * 100-continue): a client still sending would see a reset. */
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        bool body_follows =
            (has_len && declared > 0) ||
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
        bool waits = expect != NULL && strcasecmp(expect, "100-continue") == 0;
        if (!body_follows || waits || declared > 4 * (uint64_t)API_BODY_MAX) {
            enum MHD_Result r = reply_refusal(h, c, x);
            pthread_mutex_destroy(&x->mu);
            free(x);
            return r;
        }
        x->discard = true;
    }
    *con_cls = x;
    return MHD_YES;
}

static enum MHD_Result take_chunk(api_ctx_t *x, const char *data, size_t n)
{
    if (x->discard || n > API_BODY_MAX - x->len) {
        /* read on without keeping, so that the client gets its 413; a
         * client that sends much more than the limit is cut off */
        x->discarded += n + x->len;
        if (x->discarded > 4 * (size_t)API_BODY_MAX)
            return MHD_NO;
        x->discard = true;
        free(x->body);
        x->body = NULL;
        x->len = x->cap = 0;
        return MHD_YES;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap < 4096 ? 4096 : x->cap;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *p = realloc(x->body, cap);
        if (p == NULL)
            return MHD_NO;
        x->body = p;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    x->body[x->len] = '\0';
    return MHD_YES;
}

static enum MHD_Result retry_later(lo_http_t *h, struct MHD_Connection *c, unsigned status, const char *code,
                                   const char *message)
{
    char ra[24];
    snprintf(ra, sizeof(ra), "%" PRId64, h->cfg->retry_after_seconds);
    lo_http_hdr_t hdr[] = { { MHD_HTTP_HEADER_RETRY_AFTER, ra }, { NULL, NULL } };
    return reply_error(c, status, code, message, hdr);
}

/* Runs the route's handler with db (may be NULL for routes that need none). */
static void run_handler(api_ctx_t *x, PGconn *db)
{
    lo_api_req_t *req = &x->req;
    req->method = x->method;
    req->path = x->url;
    req->who = &x->who;
    req->db = db;
    req->db_broken = false;
    req->body = x->body;
    req->body_len = x->len;
    req->http = &x->http;
    req->arg = x->route->arg;
    lo_buf_reset(&x->resp.body);
    x->resp.status = 0;
    x->gzipped = false;
    x->rc = x->route->handler(req, &x->resp);
    /* compressed here, on the handler's thread, never on the listener's */
    if (x->gzip_ok && x->rc == LO_OK && x->resp.body.err == LO_OK && x->resp.body.len >= GZIP_MIN_BYTES &&
        x->route->kind == LO_ROUTE_JSON) {
        uint8_t *z;
        size_t zn;
        if (lo_gzip((const uint8_t *)x->resp.body.p, x->resp.body.len, GZIP_LEVEL, &z, &zn) == LO_OK) {
            lo_buf_reset(&x->resp.body);
            if (lo_buf_append(&x->resp.body, z, zn) == LO_OK)
                x->gzipped = true;
            else
                x->resp.body.err = LO_ERROR;
            free(z);
        }
    }
}

/* On a query thread: runs the handler with a pooled connection, then
 * resumes the request's connection (lo_http_api_access sends the answer). */
static void run_job(void *arg, bool cancelled)
{
    api_ctx_t *x = arg;
    lo_http_t *h = x->h;
    x->rc = LO_ERROR;
    PGconn *db = NULL;
    if (!cancelled && !atomic_load(&h->stopping))
        db = h->d.pool != NULL ? lo_pg_pool_get(h->d.pool, POOL_WAIT_MS) : NULL;
    if (db == NULL) {
        x->rc = LO_UNAVAIL;
    } else {
        run_handler(x, db);
        lo_pg_pool_put(h->d.pool, db, x->req.db_broken);
    }
    pthread_mutex_lock(&x->mu);
    x->finished = true;
    if (x->suspended)
        MHD_resume_connection(x->http.conn);
    pthread_mutex_unlock(&x->mu);
}

/* libmicrohttpd's side of an upgraded connection: to the route's function. */
static void upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra_in,
                     size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    LO_UNUSED(con_cls);
    lo_http_guard_upgraded(c); /* the socket is no longer HTTP: no head deadline */
    lo_api_resp_t *resp = cls;
    lo_api_upgrade_fn fn = resp->upgrade;
    void *arg = resp->upgrade_arg;
    free(resp);
    fn(arg, (int)sock, extra_in, extra_in_size, urh);
}

void lo_api_upgrade_close(void *urh)
{
    (void)MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

static enum MHD_Result reply_upgrade(struct MHD_Connection *c, const lo_api_resp_t *resp)
{
    lo_api_resp_t *copy = malloc(sizeof(*copy)); /* freed by upgraded(), or below */
    if (copy == NULL)
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory", NULL);
    *copy = *resp;
    lo_buf_init(&copy->body, 0);
    struct MHD_Response *r = MHD_create_response_for_upgrade(upgraded, copy);
    if (r == NULL) {
        free(copy);
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "cannot upgrade", NULL);
    }
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
    MHD_destroy_response(r);
    if (rc == MHD_YES)
        lo_http_count_response(LO_LISTENER_API, MHD_HTTP_SWITCHING_PROTOCOLS);
    return rc;
}

/* Back on the listener: the handler's answer. */
static enum MHD_Result reply_job(lo_http_t *h, api_ctx_t *x)
{
    struct MHD_Connection *c = x->http.conn;
    enum MHD_Result r;
    lo_http_hdr_t hdr[LO_API_MAX_HEADERS + 3];
    size_t nh = 0;
    for (; nh < x->resp.n_headers && nh < LO_API_MAX_HEADERS; nh++)
        hdr[nh] = (lo_http_hdr_t){ x->resp.headers[nh].name, x->resp.headers[nh].value };
    if (x->gzipped)
        hdr[nh++] = (lo_http_hdr_t){ MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip" };
    hdr[nh++] = (lo_http_hdr_t){ MHD_HTTP_HEADER_VARY, "Accept-Encoding" }; /* for caches */
    hdr[nh] = (lo_http_hdr_t){ NULL, NULL };
    if (x->rc == LO_UNAVAIL)
        r = retry_later(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                        atomic_load(&h->stopping) ? "shutting down" : "the database is unavailable");
    else if (x->rc != LO_OK || x->resp.status < 100 || x->resp.status > 599 || x->resp.body.err != LO_OK)
        r = reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the handler failed", NULL);
    else if (x->resp.status == MHD_HTTP_SWITCHING_PROTOCOLS && x->route->kind == LO_ROUTE_UPGRADE &&
             x->resp.upgrade != NULL)
        r = reply_upgrade(c, &x->resp);
    else
        r = lo_http_reply_buf(c, LO_LISTENER_API, (unsigned)x->resp.status, CT_JSON, &x->resp.body, hdr);
    lo_buf_free(&x->resp.body);
    return r;
}

static enum MHD_Result dispatch(lo_http_t *h, api_ctx_t *x, const char *url, const char *method)
{
    struct MHD_Connection *c = x->http.conn;
    if (x->err_status != 0)
        return reply_refusal(h, c, x);
    if (x->discard)
        return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "request body larger than 1 MiB",
                           NULL);
    x->url = strdup(url);
    x->method = strdup(method);
    if (x->url == NULL || x->method == NULL)
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory", NULL);
    lo_buf_init(&x->resp.body, (size_t)h->cfg->api_response_max_bytes);
    x->gzip_ok =
        lo_accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    if (!x->route->needs_db) {
        /* quick, no database: answered on this thread */
        run_handler(x, NULL);
        return reply_job(h, x);
    }
    /* The lock orders our suspend before the job's resume. */
    pthread_mutex_lock(&x->mu);
    if (h->exec == NULL || lo_api_exec_submit(h->exec, run_job, x) != LO_OK) {
        pthread_mutex_unlock(&x->mu);
        return retry_later(h, c, MHD_HTTP_TOO_MANY_REQUESTS, "busy",
                           "too many queries in progress; retry later");
    }
    x->queued = true;
    MHD_suspend_connection(c);
    x->suspended = true;
    pthread_mutex_unlock(&x->mu);
    return MHD_YES;
}

/* A browser's CORS preflight: answered without a token (it carries none),
 * for allowed origins only. */
static enum MHD_Result preflight(struct MHD_Connection *c)
{
    if (lo_http_cors_origin(c) == NULL ||
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method") == NULL)
        return reply_error(c, MHD_HTTP_FORBIDDEN, "forbidden",
                           "this origin may not call the API from a browser (cors_origins)", NULL);
    lo_http_hdr_t hdr[] = { { "Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE" },
                            { "Access-Control-Allow-Headers", "Authorization, Content-Type" },
                            { "Access-Control-Max-Age", "600" },
                            { NULL, NULL } };
    return lo_http_reply(c, LO_LISTENER_API, MHD_HTTP_NO_CONTENT, NULL, "", 0, hdr);
}

/* con_cls of requests outside /api/: they are answered on the second call,
 * once the request is complete, so that the connection can be kept alive
 * (libmicrohttpd closes connections answered before the request end). */
static char plain_marker;

enum MHD_Result lo_http_api_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *version, const char *upload, size_t *upload_size,
                                   void **con_cls)
{
    lo_http_t *h = cls;
    if (lo_http_guard_first(*con_cls)) {
        unsigned status;
        const char *why;
        if (lo_http_guard_head(c, version, *con_cls, &status, &why) != LO_OK) {
            *con_cls = NULL;
            lo_http_hdr_t close[] = { { MHD_HTTP_HEADER_CONNECTION, "close" }, { NULL, NULL } };
            return reply_error(c, status, status == MHD_HTTP_BAD_REQUEST ? "bad_request" : "too_large", why,
                               close);
        }
        *con_cls = NULL;
        if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0 && strncmp(url, "/api/", 5) == 0 && !has_body(c))
            return preflight(c);
        if (strncmp(url, "/api/", 5) != 0) {
            /* nothing outside /api/ takes a body: refuse one before reading it */
            if (has_body(c))
                return plain_request(h, c, url, method, true);
            *con_cls = &plain_marker;
            return MHD_YES;
        }
        return begin_api(h, c, url, method, con_cls);
    }
    if (*con_cls == &plain_marker) {
        if (*upload_size > 0) {
            *upload_size = 0; /* unreachable: bodies were refused above */
            return MHD_YES;
        }
        return plain_request(h, c, url, method, false);
    }
    api_ctx_t *x = *con_cls;
    if (x->queued) {
        /* resumed by run_job */
        pthread_mutex_lock(&x->mu);
        bool fin = x->finished;
        x->suspended = false;
        if (!fin) {
            MHD_suspend_connection(c);
            x->suspended = true;
        }
        pthread_mutex_unlock(&x->mu);
        return fin ? reply_job(h, x) : MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        return take_chunk(x, upload, n);
    }
    return dispatch(h, x, url, method);
}

void lo_http_api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    LO_UNUSED(cls);
    LO_UNUSED(toe);
    lo_http_guard_request_done(c);
    api_ctx_t *x = *con_cls;
    *con_cls = NULL;
    if (lo_http_guard_first(x) || (void *)x == (void *)&plain_marker)
        return;
    pthread_mutex_lock(&x->mu);
    bool lost = x->queued && !x->finished;
    pthread_mutex_unlock(&x->mu);
    if (lost) {
        /* a query thread still holds it: leaking beats a use after free */
        lo_log_error("api request ended before its query finished", "listener=%s", "api");
        return;
    }
    lo_buf_free(&x->resp.body);
    pthread_mutex_destroy(&x->mu);
    free(x->url);
    free(x->method);
    free(x->body);
    free(x);
}
