#include "http/listener.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "http/api_exec.h"
#include "http/guard.h"

/* Per-connection memory of libmicrohttpd: headers plus the read buffer
 * through which body chunks reach the handler. */
#define CONN_MEMORY  (64 * 1024)
/* Idle keep-alive connections are closed after this many seconds. */
#define CONN_TIMEOUT 60

static const char *cors_origins = "";

void lo_http_cors_set(const char *origins)
{
    cors_origins = origins != NULL ? origins : "";
}

const char *lo_http_cors_origin(struct MHD_Connection *c)
{
    const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (o == NULL || *o == '\0' || cors_origins[0] == '\0' || strlen(o) > 512)
        return NULL;
    for (const char *p = o; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return NULL; /* never echoed into a header */
    size_t n = strlen(o);
    for (const char *p = cors_origins; p != NULL; p = strchr(p, ','), p = p != NULL ? p + 1 : NULL) {
        const char *e = p + strcspn(p, ",");
        while (p < e && *p == ' ')
            p++;
        while (e > p && e[-1] == ' ')
            e--;
        if ((e - p == 1 && *p == '*') || ((size_t)(e - p) == n && strncasecmp(p, o, n) == 0))
            return o;
    }
    return NULL;
}

/* An answer of the API listener to an allowed origin says so. */
static void add_cors(struct MHD_Connection *c, lo_listener_t l, struct MHD_Response *r)
{
    const char *o = l == LO_LISTENER_API ? lo_http_cors_origin(c) : NULL;
    if (o == NULL)
        return;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", o);
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "Location, Retry-After, Content-Encoding");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
}

enum MHD_Result lo_http_reply(struct MHD_Connection *c, lo_listener_t l, unsigned status, const char *ctype,
                              const void *body, size_t len, const lo_http_hdr_t *extra)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(len > 0 ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (ctype != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    for (const lo_http_hdr_t *e = extra; e != NULL && e->name != NULL; e++)
        MHD_add_response_header(r, e->name, e->value);
    add_cors(c, l, r);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    if (rc == MHD_YES)
        lo_http_count_response(l, status);
    return rc;
}

enum MHD_Result lo_http_reply_buf(struct MHD_Connection *c, lo_listener_t l, unsigned status,
                                  const char *ctype, lo_buf_t *b, const lo_http_hdr_t *extra)
{
    if (b->p == NULL)
        return lo_http_reply(c, l, status, ctype, "", 0, extra);
    size_t len;
    char *p = lo_buf_detach(b, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, p, free);
    if (r == NULL) {
        free(p);
        return MHD_NO;
    }
    if (ctype != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    for (const lo_http_hdr_t *e = extra; e != NULL && e->name != NULL; e++)
        MHD_add_response_header(r, e->name, e->value);
    add_cors(c, l, r);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    if (rc == MHD_YES)
        lo_http_count_response(l, status);
    return rc;
}

/* libmicrohttpd's own complaints (bad requests, clients gone mid-request,
 * socket errors) as log lines: at most MHD_LOG_PER_SECOND a second, so a
 * client that disconnects on purpose cannot flood the log; the next line
 * after a quiet spell says how many were dropped. */
#define MHD_LOG_PER_SECOND 10
static atomic_llong mhd_log_second, mhd_log_count, mhd_log_dropped;

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    LO_UNUSED(cls);
    long long sec = lo_mono_ns() / 1000000000LL;
    if (atomic_exchange(&mhd_log_second, sec) != sec)
        atomic_store(&mhd_log_count, 0);
    if (atomic_fetch_add(&mhd_log_count, 1) >= MHD_LOG_PER_SECOND) {
        atomic_fetch_add(&mhd_log_dropped, 1);
        return;
    }
    char msg[512];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0)
        return;
    /* keep it one logfmt value: no quotes, no line breaks */
    for (char *p = msg; *p != '\0'; p++)
        if (*p == '"' || *p == '\n' || *p == '\r' || *p == '\\')
            *p = (*p == '"') ? '\'' : ' ';
    long long dropped = atomic_exchange(&mhd_log_dropped, 0);
    if (dropped > 0)
        lo_log_warn("http server", "detail=\"%s\" dropped_lines=%lld", msg, dropped);
    else
        lo_log_warn("http server", "detail=\"%s\"", msg);
}

lo_http_t *lo_http_create(const lo_http_deps_t *deps, char *err, size_t errlen)
{
    lo_http_t *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->d = *deps;
    h->cfg = deps->cfg;
    lo_http_cors_set(h->cfg->cors_origins);
    /* Bodies being received or decoded, plus those waiting for a writer,
     * may hold twice what the writers may buffer; past that, requests get
     * 429 before their bodies are kept. */
    h->held_max = 2 * h->cfg->queue_max_bytes;
    h->admit.retention = deps->retention;
    h->admit.ratelimit = h->cfg->rate_limit_records > 0 ? deps->ratelimit : NULL;
    if (deps->retention == NULL) {
        snprintf(err, errlen, "no retention settings");
        free(h);
        return NULL;
    }
    char e[200];
    if (lo_http_addr_parse(h->cfg->otlp_addr, &h->otlp_addr, e, sizeof(e)) != LO_OK) {
        snprintf(err, errlen, "otlp_addr: %s", e);
        goto fail;
    }
    if (lo_http_addr_parse(h->cfg->api_addr, &h->api_addr, e, sizeof(e)) != LO_OK) {
        snprintf(err, errlen, "api_addr: %s", e);
        goto fail;
    }
    return h;
fail:
    free(h);
    return NULL;
}

/* Connections each listener accepts: half of the descriptors the process
 * may open, less some for the database and files (libmicrohttpd's own
 * default, about 1000, is low for a server behind a load balancer). */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 4096;
    if (rl.rlim_cur < 512)
        return 64;
    rlim_t n = (rl.rlim_cur - 256) / 2;
    return n > 65536 ? 65536 : (unsigned)n;
}

static struct MHD_Daemon *start_one(lo_http_t *h, const lo_http_addr_t *a, MHD_AccessHandlerCallback ah,
                                    MHD_RequestCompletedCallback done, unsigned extra_flags)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | extra_flags;
    if (a->ipv6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, ah, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, /* first, or MHD complains */
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&a->sa, MHD_OPTION_NOTIFY_CONNECTION,
        lo_http_guard_notify, h->guard, MHD_OPTION_URI_LOG_CALLBACK, lo_http_guard_uri, h->guard,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)h->cfg->http_connections_per_ip,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg->http_threads, MHD_OPTION_NOTIFY_COMPLETED, done, h,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT, MHD_OPTION_CONNECTION_LIMIT,
        connection_limit(), MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
}

static int bound_port(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return i != NULL ? (int)i->port : -1;
}

int lo_http_start(lo_http_t *h, char *err, size_t errlen)
{
    h->exec = lo_api_exec_create((int)h->cfg->query_threads, (int)h->cfg->query_queue_max);
    h->guard =
        lo_http_guard_create(h->cfg->http_head_timeout_seconds * 1000000000LL, CONN_TIMEOUT * 1000000000LL);
    if (h->exec == NULL || h->guard == NULL) {
        snprintf(err, errlen, "cannot start the query threads");
        lo_api_exec_destroy(h->exec);
        lo_http_guard_destroy(h->guard);
        h->exec = NULL;
        h->guard = NULL;
        return LO_ERROR;
    }
    h->otlp = start_one(h, &h->otlp_addr, lo_http_otlp_access, lo_http_otlp_completed, 0);
    if (h->otlp == NULL) {
        snprintf(err, errlen, "cannot listen on otlp_addr %s (in use, or not a local address?)",
                 h->cfg->otlp_addr);
        lo_api_exec_destroy(h->exec);
        h->exec = NULL;
        return LO_ERROR;
    }
    h->api = start_one(h, &h->api_addr, lo_http_api_access, lo_http_api_completed, MHD_ALLOW_UPGRADE);
    if (h->api == NULL) {
        snprintf(err, errlen, "cannot listen on api_addr %s (in use, or not a local address?)",
                 h->cfg->api_addr);
        MHD_stop_daemon(h->otlp);
        h->otlp = NULL;
        lo_api_exec_destroy(h->exec);
        h->exec = NULL;
        return LO_ERROR;
    }
    h->otlp_port = bound_port(h->otlp);
    h->api_port = bound_port(h->api);
    return LO_OK;
}

int lo_http_otlp_port(const lo_http_t *h)
{
    return h->otlp_port;
}

int lo_http_api_port(const lo_http_t *h)
{
    return h->api_port;
}

static void quiesce_one(struct MHD_Daemon *d)
{
    if (d == NULL)
        return;
    MHD_socket s = MHD_quiesce_daemon(d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
}

void lo_http_quiesce(lo_http_t *h)
{
    atomic_store(&h->stopping, true);
    quiesce_one(h->otlp);
    quiesce_one(h->api);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

bool lo_http_wait_idle(lo_http_t *h, int timeout_ms)
{
    int64_t end = lo_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (atomic_load(&h->active) > atomic_load(&h->waiting)) {
        if (lo_mono_ns() >= end)
            return false;
        sleep_ms(10);
    }
    return true;
}

bool lo_http_drain(lo_http_t *h, int timeout_ms)
{
    int64_t end = lo_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (atomic_load(&h->active) > 0) {
        if (lo_mono_ns() >= end)
            return false;
        sleep_ms(10);
    }
    return true;
}

void lo_http_stop(lo_http_t *h)
{
    if (h == NULL)
        return;
    /* queries first: each resumes its connection while the daemon runs */
    lo_api_exec_stop(h->exec);
    if (h->otlp != NULL)
        MHD_stop_daemon(h->otlp);
    if (h->api != NULL)
        MHD_stop_daemon(h->api);
    h->otlp = h->api = NULL;
}

void lo_http_destroy(lo_http_t *h)
{
    if (h == NULL)
        return;
    lo_http_stop(h);
    lo_api_exec_destroy(h->exec);
    lo_http_guard_destroy(h->guard);
    free(h);
}
