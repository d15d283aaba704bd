/* The two listeners in-process, over real sockets: every status the OTLP
 * listener answers, the suspend/resume hand-off with a writer (answered
 * later on another thread, or at once inside submit), token-bound project
 * stamping and rejection, the time window, rate limits, API errors, and the
 * shutdown sequence.  Token checks and the writers are stand-ins defined
 * here (the linker then leaves auth.o and ingest.o out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/stats.h"
#include "http/http.h"
#include "http/metrics.h"

/* ---- stand-ins: tokens "Bearer good" (ingest), "Bearer read" (observe:read),
 * "Bearer bound" (ingest, bound to project 11..11), "Bearer down" (503) ---- */

static const uint8_t PROJ_A[16] = { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };

int lo_auth_check(lo_auth_t *a, const char *h, lo_principal_t *out)
{
    (void)a;
    memset(out, 0, sizeof(*out));
    if (strcmp(h, "Bearer good") == 0) {
        out->scopes = LO_SCOPE_INGEST;
        return LO_OK;
    }
    if (strcmp(h, "Bearer read") == 0) {
        out->scopes = LO_SCOPE_OBSERVE_READ;
        return LO_OK;
    }
    if (strcmp(h, "Bearer bound") == 0) {
        out->scopes = LO_SCOPE_INGEST;
        out->n_projects = 1;
        memcpy(out->projects[0], PROJ_A, 16);
        return LO_OK;
    }
    if (strcmp(h, "Bearer down") == 0)
        return LO_UNAVAIL;
    return LO_DENIED;
}

bool lo_principal_has_scope(const lo_principal_t *p, unsigned scope)
{
    return (p->scopes & scope) == scope || (p->scopes & LO_SCOPE_ADMIN) != 0;
}

bool lo_principal_allows_project(const lo_principal_t *p, const uint8_t project[16])
{
    if (p->n_projects == 0)
        return true;
    for (size_t i = 0; i < p->n_projects; i++)
        if (memcmp(p->projects[i], project, 16) == 0)
            return true;
    return false;
}

/* The writers: how submit behaves, and what the last batch held. */
enum { W_ASYNC, W_SYNC, W_BUSY, W_UNAVAIL, W_ASYNC_FAIL };
static struct {
    int mode;
    pthread_mutex_t mu;
    size_t last_n;
    int64_t last_rejected;
    bool last_has_project;
    uint8_t last_project[16];
    int submitted;
} wr = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void note(lo_ingest_req_t *r)
{
    pthread_mutex_lock(&wr.mu);
    wr.submitted++;
    wr.last_n = r->batch.n;
    wr.last_rejected = r->batch.rejected;
    const lo_log_rec_t *rec = r->batch.signal == LO_SIGNAL_LOGS && r->batch.n > 0 ? &r->batch.logs[0] : NULL;
    wr.last_has_project = rec != NULL && rec->env.has_project;
    if (wr.last_has_project)
        memcpy(wr.last_project, rec->env.project_id, 16);
    pthread_mutex_unlock(&wr.mu);
}

static void *later(void *arg)
{
    lo_ingest_req_t *r = arg;
    usleep(30000);
    r->result = wr.mode == W_ASYNC_FAIL ? LO_UNAVAIL : LO_OK;
    r->done(r);
    return NULL;
}

int lo_ingest_submit(lo_ingest_t *in, lo_ingest_req_t *r)
{
    (void)in;
    if (wr.mode == W_BUSY)
        return LO_BUSY;
    if (wr.mode == W_UNAVAIL)
        return LO_UNAVAIL;
    note(r);
    if (wr.mode == W_SYNC) {
        r->result = LO_OK;
        r->done(r); /* before the HTTP thread had a chance to suspend */
        return LO_OK;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, later, r) != 0) {
        r->result = LO_OK; /* no thread: answer at once */
        r->done(r);
        return LO_OK;
    }
    pthread_detach(t);
    return LO_OK;
}

bool lo_ingest_ready(lo_ingest_t *in)
{
    (void)in;
    return true;
}

/* ---- a tiny HTTP/1.1 client ---- */

typedef struct {
    int status;
    char head[4096];
    char body[65536];
    size_t body_len;
} resp_t;

static lo_http_t *srv;
static lo_config_t cfg;
static lo_ratelimit_t *limiter;

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0)
            return; /* the server may answer and close early */
        c += k;
        n -= (size_t)k;
    }
}

/* Reads one response (Content-Length framed). */
static void read_resp(int fd, resp_t *r)
{
    memset(r, 0, sizeof(*r));
    char buf[sizeof(r->head) + sizeof(r->body)];
    size_t len = 0;
    char *end = NULL;
    long clen = -1;
    for (;;) {
        if (end != NULL && clen >= 0 && len >= (size_t)(end - buf) + 4 + (size_t)clen)
            break;
        ssize_t k = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (k <= 0)
            break;
        len += (size_t)k;
        buf[len] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            size_t hl = (size_t)(end - buf);
            assert_true(hl < sizeof(r->head));
            memcpy(r->head, buf, hl);
            const char *cl = strcasestr(r->head, "\r\nContent-Length:");
            clen = cl != NULL ? strtol(cl + 17, NULL, 10) : 0;
        }
    }
    assert_non_null(end);
    sscanf(buf, "HTTP/1.1 %d", &r->status);
    r->body_len = len - (size_t)(end - buf) - 4;
    memcpy(r->body, end + 4, r->body_len);
}

/* One request on a new connection.  extra: more header lines ("K: V\r\n"). */
static void req(int port, const char *method, const char *path, const char *extra, const void *body, size_t n,
                bool chunked, resp_t *out)
{
    int fd = connect_to(port);
    char head[2048];
    snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: t\r\n%s%s\r\n", method, path, extra ? extra : "",
             chunked ? "Transfer-Encoding: chunked\r\n" : "");
    if (!chunked && body != NULL) {
        char *p = head + strlen(head) - 2;
        snprintf(p, sizeof(head) - (size_t)(p - head), "Content-Length: %zu\r\n\r\n", n);
    }
    send_all(fd, head, strlen(head));
    if (chunked) {
        const char *b = body;
        for (size_t off = 0; off < n; off += 40000) {
            size_t k = n - off < 40000 ? n - off : 40000;
            char sz[32];
            snprintf(sz, sizeof(sz), "%zx\r\n", k);
            send_all(fd, sz, strlen(sz));
            send_all(fd, b + off, k);
            send_all(fd, "\r\n", 2);
        }
        send_all(fd, "0\r\n\r\n", 5);
    } else if (body != NULL) {
        send_all(fd, body, n);
    }
    read_resp(fd, out);
    close(fd);
}

#define PB_AUTH(tok) "Content-Type: application/x-protobuf\r\nAuthorization: Bearer " tok "\r\n"

/* ---- OTLP protobuf bodies ---- */

typedef struct {
    uint8_t p[4096];
    size_t n;
} pb_t;

static void put_varint(pb_t *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        b->p[b->n++] = c | (v ? 0x80 : 0);
    } while (v);
}

static void put_ld(pb_t *b, int field, const void *p, size_t n)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* ExportLogsServiceRequest with one record per time (offset seconds from
 * now); a record claims project `claim` when not NULL. */
static pb_t logs_body(int n, const int64_t *offsets, const char *claim)
{
    pb_t sl = { .n = 0 }, rl = { .n = 0 }, out = { .n = 0 };
    for (int i = 0; i < n; i++) {
        pb_t rec = { .n = 0 };
        int64_t t = lo_now_ns() + (offsets ? offsets[i] : 0) * 1000000000LL;
        rec.p[rec.n++] = 0x09; /* field 1, fixed64 */
        memcpy(rec.p + rec.n, &t, 8);
        rec.n += 8;
        if (claim != NULL) {
            pb_t av = { .n = 0 }, kv = { .n = 0 };
            put_ld(&av, 1, claim, strlen(claim));
            put_ld(&kv, 1, "project_id", 10);
            put_ld(&kv, 2, av.p, av.n);
            put_ld(&rec, 6, kv.p, kv.n);
        }
        put_ld(&sl, 2, rec.p, rec.n);
    }
    put_ld(&rl, 2, sl.p, sl.n);
    put_ld(&out, 1, rl.p, rl.n);
    return out;
}

/* ---- API routes of the fixture ---- */

static int h_never(lo_api_req_t *req, lo_api_resp_t *resp)
{
    (void)req;
    return lo_api_error(resp, 500, "internal", "no database here: never reached");
}

static int h_echo(lo_api_req_t *req, lo_api_resp_t *resp)
{
    assert_null(req->db); /* a route without the database runs without one */
    char loc[128];
    snprintf(loc, sizeof(loc), "/api/test/echo/%s", lo_api_path_param(req, "id"));
    lo_api_header(resp, "Location", loc);
    lo_buf_printf(&resp->body, "{\"id\":\"%s\"}", lo_api_path_param(req, "id"));
    resp->status = 201;
    return LO_OK;
}

static void up_hello(void *arg, int sock, const char *extra, size_t extra_len, void *urh)
{
    (void)arg, (void)extra, (void)extra_len;
    send_all(sock, "hello", 5);
    lo_api_upgrade_close(urh);
}

static int h_upgrade(lo_api_req_t *req, lo_api_resp_t *resp)
{
    (void)req;
    lo_api_header(resp, "Upgrade", "lo-test");
    resp->upgrade = up_hello;
    resp->status = 101;
    return LO_OK;
}

static const lo_api_route_t test_routes[] = {
    { "GET", "/api/observe/logs", LO_SCOPE_OBSERVE_READ, true, LO_ROUTE_JSON, h_never, NULL },
    { "POST", "/api/observe/alerts", LO_SCOPE_OBSERVE_READ, true, LO_ROUTE_JSON, h_never, NULL },
    { "PUT", "/api/test/echo/{id}", 0, false, LO_ROUTE_JSON, h_echo, NULL },
    { "GET", "/api/test/admin", LO_SCOPE_ADMIN, false, LO_ROUTE_JSON, h_never, NULL },
    { "GET", "/api/test/upgrade", LO_SCOPE_OBSERVE_READ, false, LO_ROUTE_UPGRADE, h_upgrade, NULL },
};
static lo_api_routes_t routes;
static lo_retention_t retention;

/* ---- fixture ---- */

static int setup(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "otlp_addr", "127.0.0.1:0", err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "api_addr", "127.0.0.1:0", err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "max_body_bytes", "64K", err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "max_decompressed_bytes", "256K", err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "rate_limit_records", "100", err, sizeof(err)), LO_OK);
    limiter = lo_ratelimit_create_ex(100, 100, 16, NULL, NULL);
    assert_non_null(limiter);
    assert_int_equal(lo_retention_init(&retention, &cfg, err, sizeof(err)), LO_OK);
    lo_api_routes_init(&routes);
    assert_int_equal(lo_api_routes_add(&routes, test_routes, LO_ARRAY_LEN(test_routes)), LO_OK);
    lo_http_deps_t d = { .cfg = &cfg,
                         .auth = (lo_auth_t *)&wr,
                         .pool = NULL,
                         .ingest = (lo_ingest_t *)&wr,
                         .ratelimit = limiter,
                         .redact = NULL,
                         .routes = &routes,
                         .retention = &retention };
    srv = lo_http_create(&d, err, sizeof(err));
    assert_non_null(srv);
    assert_int_equal(lo_http_start(srv, err, sizeof(err)), LO_OK);
    assert_true(lo_http_otlp_port(srv) > 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lo_http_destroy(srv);
    lo_ratelimit_destroy(limiter);
    lo_config_free(&cfg);
    return 0;
}

static void test_api_plain(void **state)
{
    (void)state;
    resp_t r;
    int port = lo_http_api_port(srv);
    req(port, "GET", "/healthz", NULL, NULL, 0, false, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    req(port, "GET", "/metrics", NULL, NULL, 0, false, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "text/plain; version=0.0.4"));
    req(port, "POST", "/healthz", NULL, "x", 1, false, &r);
    assert_int_equal(r.status, 405);
    req(port, "GET", "/readyz", NULL, NULL, 0, false, &r); /* no pool: not ready */
    assert_int_equal(r.status, 503);
    req(port, "GET", "/nothing", NULL, NULL, 0, false, &r);
    assert_int_equal(r.status, 404);
    req(port, "GET", "/api/observe/logs", NULL, NULL, 0, false, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "\"code\":\"unauthorized\""));
    req(port, "POST", "/api/observe/alerts", "Authorization: Bearer nope\r\n", "{}", 2, false, &r);
    assert_int_equal(r.status, 401);
    req(port, "GET", "/api/observe/logs", "Authorization: Bearer read\r\n", NULL, 0, false, &r);
    assert_int_equal(r.status, 503); /* authenticated, but no database */
    /* API bodies are bounded at 1 MiB, declared or chunked */
    size_t big = (1 << 20) + 10;
    char *body = calloc(1, big);
    req(port, "POST", "/api/observe/alerts", "Authorization: Bearer read\r\n", body, big, false, &r);
    assert_int_equal(r.status, 413);
    req(port, "POST", "/api/observe/alerts", "Authorization: Bearer read\r\n", body, big, true, &r);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "\"code\":\"too_large\""));
    req(port, "POST", "/api/observe/alerts", "Authorization: Bearer read\r\n", body, 1000, true, &r);
    assert_int_equal(r.status, 503); /* within the bound: on to the handlers (no database here) */
    free(body);

    /* the route table: 404, 405 with Allow, 403 by scope, path parameters,
     * headers, and handlers without the database answered at once */
    req(port, "GET", "/api/nothing", "Authorization: Bearer read\r\n", NULL, 0, false, &r);
    assert_int_equal(r.status, 404);
    req(port, "DELETE", "/api/observe/logs", "Authorization: Bearer read\r\n", NULL, 0, false, &r);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.head, "\r\nAllow: GET"));
    req(port, "GET", "/api/test/admin", "Authorization: Bearer read\r\n", NULL, 0, false, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "lacks the admin scope"));
    req(port, "PUT", "/api/test/echo/abc", "Authorization: Bearer good\r\n", "{}", 2, false, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "{\"id\":\"abc\"}");
    assert_non_null(strstr(r.head, "\r\nLocation: /api/test/echo/abc"));
    req(port, "PUT", "/api/test/echo/abc/def", "Authorization: Bearer good\r\n", "{}", 2, false, &r);
    assert_int_equal(r.status, 404);
    req(port, "PUT", "/api/test/echo/abc", "Authorization: Bearer nope\r\n", "{}", 2, false, &r);
    assert_int_equal(r.status, 401); /* authentication comes before routing */

    /* an upgrade route: 101, then the socket belongs to the route */
    int fd = connect_to(port);
    const char *up = "GET /api/test/upgrade HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer read\r\n"
                     "Connection: Upgrade\r\nUpgrade: lo-test\r\n\r\n";
    send_all(fd, up, strlen(up));
    char got[512] = "";
    size_t gl = 0;
    for (ssize_t k; gl < sizeof(got) - 1 && (k = recv(fd, got + gl, sizeof(got) - 1 - gl, 0)) > 0;)
        gl += (size_t)k;
    got[gl] = '\0';
    close(fd);
    assert_true(strncmp(got, "HTTP/1.1 101", 12) == 0);
    assert_non_null(strstr(got, "\r\n\r\nhello"));
}

static void test_otlp_refusals(void **state)
{
    (void)state;
    resp_t r;
    int port = lo_http_otlp_port(srv);
    pb_t b = logs_body(1, NULL, NULL);
    req(port, "POST", "/v1/nothing", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 404);
    req(port, "GET", "/v1/logs", PB_AUTH("good"), NULL, 0, false, &r);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.head, "Allow: POST"));
    req(port, "POST", "/v1/logs", "Content-Type: application/x-protobuf\r\n", b.p, b.n, false, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.head, "application/x-protobuf"));
    assert_int_equal(r.body[0], 0x08); /* google.rpc.Status: field 1 code */
    assert_int_equal(r.body[1], 16);   /* UNAUTHENTICATED */
    req(port, "POST", "/v1/logs", PB_AUTH("nope"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 401);
    req(port, "POST", "/v1/traces", PB_AUTH("read"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 403);
    req(port, "POST", "/v1/logs", PB_AUTH("down"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.head, "Retry-After: 1"));
    req(port, "POST", "/v1/logs", "Content-Type: text/plain\r\nAuthorization: Bearer good\r\n", b.p, b.n,
        false, &r);
    assert_int_equal(r.status, 415);
    req(port, "POST", "/v1/logs", PB_AUTH("good") "Content-Encoding: br\r\n", b.p, b.n, false, &r);
    assert_int_equal(r.status, 415);
    req(port, "POST", "/v1/logs", "Content-Type: application/json\r\nAuthorization: Bearer good\r\n",
        "{\"resourceLogs\":7}", 18, false, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"code\":3"));
    req(port, "POST", "/v1/logs", PB_AUTH("good"), "\x0f garbage", 9, false, &r);
    assert_int_equal(r.status, 400);
    req(port, "POST", "/v1/logs", PB_AUTH("good") "Content-Encoding: gzip\r\n", "not gzip at all, really", 23,
        false, &r);
    assert_int_equal(r.status, 400);
}

static void test_otlp_sizes(void **state)
{
    (void)state;
    resp_t r;
    int port = lo_http_otlp_port(srv);
    size_t big = 70 * 1024;
    char *body = calloc(1, big);
    req(port, "POST", "/v1/logs", PB_AUTH("good"), body, big, false, &r);
    assert_int_equal(r.status, 413);
    req(port, "POST", "/v1/logs", PB_AUTH("good"), body, big, true, &r);
    assert_int_equal(r.status, 413);
    /* a small gzip inflating past max_decompressed_bytes */
    size_t raw = 1 << 20;
    uLongf zn = compressBound(raw) + 64;
    uint8_t *zero = calloc(1, raw), *z = malloc(zn);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = zero;
    zs.avail_in = (uInt)raw;
    zs.next_out = z;
    zs.avail_out = (uInt)zn;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t gzn = zs.total_out;
    deflateEnd(&zs);
    assert_true(gzn < 64 * 1024);
    req(port, "POST", "/v1/logs", PB_AUTH("good") "Content-Encoding: gzip\r\n", z, gzn, false, &r);
    assert_int_equal(r.status, 413);
    free(zero);
    free(z);
    free(body);
}

static void test_otlp_accept(void **state)
{
    (void)state;
    resp_t r;
    int port = lo_http_otlp_port(srv);
    pb_t b = logs_body(3, NULL, NULL);
    int modes[] = { W_ASYNC, W_SYNC };
    for (int m = 0; m < 2; m++) {
        wr.mode = modes[m];
        int before = wr.submitted;
        req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, m == 1, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 0); /* empty ExportLogsServiceResponse */
        assert_non_null(strstr(r.head, "Content-Type: application/x-protobuf"));
        assert_int_equal(wr.submitted, before + 1);
        assert_int_equal(wr.last_n, 3);
    }
    /* gzip of the same */
    uint8_t z[8192];
    uLongf zn = sizeof(z);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = b.p;
    zs.avail_in = (uInt)b.n;
    zs.next_out = z;
    zs.avail_out = (uInt)zn;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    zn = zs.total_out;
    deflateEnd(&zs);
    wr.mode = W_ASYNC;
    req(port, "POST", "/v1/logs", PB_AUTH("good") "Content-Encoding: gzip\r\n", z, zn, false, &r);
    assert_int_equal(r.status, 200);
    /* an empty request stores nothing and needs no writer */
    int before = wr.submitted;
    req(port, "POST", "/v1/traces", PB_AUTH("good"), "", 0, false, &r);
    assert_int_equal(r.status, 200);
    req(port, "POST", "/v1/metrics", "Content-Type: application/json\r\nAuthorization: Bearer good\r\n", "{}",
        2, false, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{}");
    assert_int_equal(wr.submitted, before);
}

static void test_otlp_writer_verdicts(void **state)
{
    (void)state;
    resp_t r;
    int port = lo_http_otlp_port(srv);
    pb_t b = logs_body(1, NULL, NULL);
    wr.mode = W_BUSY;
    req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.head, "Retry-After: "));
    wr.mode = W_UNAVAIL;
    req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.head, "Retry-After: "));
    wr.mode = W_ASYNC_FAIL;
    req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.head, "Retry-After: "));
    wr.mode = W_ASYNC;
}

static void test_otlp_projects_and_window(void **state)
{
    (void)state;
    resp_t r;
    int port = lo_http_otlp_port(srv);
    wr.mode = W_SYNC;
    /* unclaimed records get the token's project */
    pb_t b = logs_body(2, NULL, NULL);
    req(port, "POST", "/v1/logs", PB_AUTH("bound"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 200);
    assert_true(wr.last_has_project);
    assert_memory_equal(wr.last_project, PROJ_A, 16);
    /* a claim on another project is rejected, counted in partial_success */
    b = logs_body(2, NULL, "22222222-2222-2222-2222-222222222222");
    int before = wr.submitted;
    req(port, "POST", "/v1/logs", PB_AUTH("bound"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(wr.submitted, before); /* nothing left to store */
    assert_true(r.body_len > 4);
    assert_int_equal((uint8_t)r.body[0], 0x0a); /* partial_success */
    assert_int_equal((uint8_t)r.body[2], 0x08); /* rejected_log_records */
    assert_int_equal((uint8_t)r.body[3], 2);
    assert_non_null(memmem(r.body, r.body_len, "project", 7));
    /* the same claim from an unbound token is fine */
    req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    /* too old and too far ahead are rejected; the rest stored */
    int64_t offs[] = { 0, -8 * 24 * 3600, 25 * 3600, -3600 };
    b = logs_body(4, offs, NULL);
    req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(wr.last_n, 2);
    assert_int_equal((uint8_t)r.body[3], 2);
    wr.mode = W_ASYNC;
}

static void test_otlp_rate_limit(void **state)
{
    (void)state;
    resp_t r;
    int port = lo_http_otlp_port(srv);
    wr.mode = W_SYNC;
    int64_t offs[60] = { 0 };
    pb_t b = logs_body(60, offs, "33333333-3333-3333-3333-333333333333");
    req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 200);
    req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.head, "Retry-After: "));
    /* another project has its own bucket */
    b = logs_body(60, offs, "44444444-4444-4444-4444-444444444444");
    req(port, "POST", "/v1/logs", PB_AUTH("good"), b.p, b.n, false, &r);
    assert_int_equal(r.status, 200);
    wr.mode = W_ASYNC;
}

/* Bodies in flight are bounded: with queue_max_bytes 1 MiB the listener
 * holds at most 2 MiB of bodies; a third large upload gets 429 while two
 * are still arriving, and the two complete normally. */
static void test_otlp_body_budget(void **state)
{
    (void)state;
    lo_config_t c2;
    char err[256];
    assert_int_equal(lo_config_defaults(&c2), LO_OK);
    assert_int_equal(lo_config_set(&c2, "otlp_addr", "127.0.0.1:0", err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&c2, "api_addr", "127.0.0.1:0", err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&c2, "max_body_bytes", "1M", err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&c2, "queue_max_bytes", "1M", err, sizeof(err)), LO_OK);
    lo_http_deps_t d = {
        .cfg = &c2, .auth = (lo_auth_t *)&wr, .ingest = (lo_ingest_t *)&wr, .retention = &retention
    };
    lo_http_t *h2 = lo_http_create(&d, err, sizeof(err));
    assert_non_null(h2);
    assert_int_equal(lo_http_start(h2, err, sizeof(err)), LO_OK);
    int port = lo_http_otlp_port(h2);
    wr.mode = W_SYNC;

    /* 900 KiB of zeros: field 0, which the decoder refuses (400) once
     * the body is complete; all this test needs is its size */
    size_t n = 900 * 1024;
    uint8_t *body = calloc(1, n);
    char head[512];
    snprintf(head, sizeof(head),
             "POST /v1/logs HTTP/1.1\r\nHost: t\r\n" PB_AUTH("good") "Content-Length: %zu\r\n\r\n", n);
    int a = connect_to(port), b = connect_to(port);
    send_all(a, head, strlen(head));
    send_all(a, body, n / 2);
    send_all(b, head, strlen(head));
    send_all(b, body, n / 2);
    usleep(100000);
    resp_t r;
    req(port, "POST", "/v1/logs", PB_AUTH("good"), body, n, false, &r);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.head, "Retry-After: "));
    assert_true(atomic_load(&lo_http_held_bytes) >= (long long)(2 * n));
    send_all(a, body + n / 2, n - n / 2);
    send_all(b, body + n / 2, n - n / 2);
    read_resp(a, &r);
    assert_int_equal(r.status, 400);
    read_resp(b, &r);
    assert_int_equal(r.status, 400);
    close(a);
    close(b);
    /* released once libmicrohttpd reports both requests completed (just
     * after the answers left): the same request now reaches the decoder */
    for (int i = 0; i < 200 && atomic_load(&lo_http_held_bytes) > 0; i++)
        usleep(10000);
    req(port, "POST", "/v1/logs", PB_AUTH("good"), body, n, false, &r);
    assert_int_equal(r.status, 400);
    lo_http_destroy(h2);
    assert_int_equal(atomic_load(&lo_http_held_bytes), 0);
    free(body);
    lo_config_free(&c2);
    wr.mode = W_ASYNC;
}

typedef struct {
    int port;
    int status;
} bg_t;

/* Posts one small logs request; status 0 when the connection was refused
 * or closed (no cmocka asserts off the main thread). */
static void *bg_post(void *arg)
{
    bg_t *g = arg;
    pb_t b = logs_body(1, NULL, NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g->port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char head[256];
    snprintf(head, sizeof(head),
             "POST /v1/logs HTTP/1.1\r\nHost: t\r\n" PB_AUTH("good") "Content-Length: %zu\r\n\r\n", b.n);
    send_all(fd, head, strlen(head));
    send_all(fd, b.p, b.n);
    char buf[512];
    ssize_t k = recv(fd, buf, sizeof(buf) - 1, 0);
    if (k > 0) {
        buf[k] = '\0';
        sscanf(buf, "HTTP/1.1 %d", &g->status);
    }
    close(fd);
    return NULL;
}

/* Last: requests waiting on a writer are answered through shutdown. */
static void test_shutdown(void **state)
{
    (void)state;
    wr.mode = W_ASYNC;
    wr.submitted = 0;
    bg_t g[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        g[i].port = lo_http_otlp_port(srv);
        g[i].status = 0;
        assert_int_equal(pthread_create(&t[i], NULL, bg_post, &g[i]), 0);
    }
    usleep(10000);
    lo_http_quiesce(srv);
    assert_true(lo_http_wait_idle(srv, 2000));
    assert_true(lo_http_drain(srv, 2000)); /* the writer stand-in answers by itself */
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(g[i].status == 200 || g[i].status == 503 || g[i].status == 0);
        ok += g[i].status == 200;
    }
    assert_int_equal(ok, wr.submitted); /* whatever reached the writer was answered 200 */
    lo_http_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_plain),
        cmocka_unit_test(test_otlp_refusals),
        cmocka_unit_test(test_otlp_sizes),
        cmocka_unit_test(test_otlp_accept),
        cmocka_unit_test(test_otlp_writer_verdicts),
        cmocka_unit_test(test_otlp_projects_and_window),
        cmocka_unit_test(test_otlp_rate_limit),
        cmocka_unit_test(test_otlp_body_budget),
        cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
