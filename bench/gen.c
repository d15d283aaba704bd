/*
 * gen.c — the benchmark's synthetic telemetry (see gen.h).
 *
 * Shapes are meant to look like a small web shop: four projects, eight
 * services, a few hundred agent sessions, log lines of ~490 bytes of
 * message + attributes, traces of 8 spans with events on errors, and the
 * usual HTTP/process/DB metrics including a latency histogram.
 */
#include "gen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_PROJECTS 4
#define N_SESSIONS 400
#define N_USERS    150

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rnd(rng_t *r)
{
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static int rndn(rng_t *r, int n)
{
    return (int)(rnd(r) % (uint64_t)n);
}

static void rnd_bytes(rng_t *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd(r) >> 32);
}

/* Stable ids derived from (kind, k): the same session always maps to the
 * same project and user, as agent_sessions expects. */
static void stable_uuid(uint8_t out[16], uint64_t kind, uint64_t k)
{
    rng_t r = { (kind * 0x9E3779B97F4A7C15ULL) ^ (k + 1) * 0xD1B54A32D192ED03ULL };
    rnd(&r);
    rnd_bytes(&r, out, 16);
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

int64_t bg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t bg_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void bg_uuid_format(const uint8_t u[16], char out[37])
{
    static const char hx[] = "0123456789abcdef";
    int j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = hx[u[i] >> 4];
        out[j++] = hx[u[i] & 15];
    }
    out[j] = 0;
}

const char *bg_signal_name(bg_signal_t s)
{
    return s == BG_LOGS ? "logs" : s == BG_SPANS ? "spans" : "metrics";
}

int bg_signal_parse(const char *s)
{
    if (strcmp(s, "logs") == 0)
        return BG_LOGS;
    if (strcmp(s, "spans") == 0 || strcmp(s, "traces") == 0)
        return BG_SPANS;
    if (strcmp(s, "metrics") == 0)
        return BG_METRICS;
    return -1;
}

/* ---- string pool ---- */

static const char *pool_printf(bg_req_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *pool_printf(bg_req_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = r->pool_cap - r->pool_len;
    int n = vsnprintf(r->pool + r->pool_len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        fprintf(stderr, "gen: string pool exhausted\n");
        abort();
    }
    const char *s = r->pool + r->pool_len;
    r->pool_len += (size_t)n + 1;
    return s;
}

static const char *pool_uuid(bg_req_t *r, const uint8_t u[16])
{
    char b[37];
    bg_uuid_format(u, b);
    return pool_printf(r, "%s", b);
}

static void kv_str(bg_kv_t *a, int *n, const char *k, const char *v)
{
    a[*n] = (bg_kv_t){ .key = k, .t = BG_STR, .s = v };
    (*n)++;
}

static void kv_int(bg_kv_t *a, int *n, const char *k, int64_t v)
{
    a[*n] = (bg_kv_t){ .key = k, .t = BG_INT, .i = v };
    (*n)++;
}

static void kv_dbl(bg_kv_t *a, int *n, const char *k, double v)
{
    a[*n] = (bg_kv_t){ .key = k, .t = BG_DBL, .d = v };
    (*n)++;
}

/* ---- vocabulary ---- */

static const char *const services[] = { "checkout", "payments", "inventory", "frontend",
                                        "auth",     "search",   "shipping",  "notifications" };
static const char *const methods[] = { "GET", "GET", "GET", "POST", "PUT", "DELETE" };
static const char *const routes[] = {
    "/api/v1/orders/{id}",    "/api/v1/orders",  "/api/v1/cart",       "/api/v1/cart/items",
    "/api/v1/products/{sku}", "/api/v1/search",  "/api/v1/users/{id}", "/api/v1/payments",
    "/api/v1/shipments/{id}", "/api/v1/session", "/healthz",           "/api/v1/recommendations"
};
static const int statuses[] = { 200, 200, 200, 200, 201, 204, 304, 400, 404, 500 };
static const char *const regions[] = { "eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-2" };
static const char *const functions[] = { "OrderController.handleGet", "CartService.addItem",
                                         "PaymentGateway.authorize",  "InventoryClient.reserve",
                                         "SearchIndex.query",         "SessionManager.refresh" };
static const char *const queues[] = { "order-events", "payment-events", "email-outbox", "stock-updates" };

typedef struct {
    int num;
    const char *text, *level;
} sev_t;

static const sev_t sevs[] = { { 9, "INFO", "info" },   { 9, "INFO", "info" },    { 9, "INFO", "info" },
                              { 9, "INFO", "info" },   { 9, "INFO", "info" },    { 9, "INFO", "info" },
                              { 5, "DEBUG", "debug" }, { 5, "DEBUG", "debug" },  { 13, "WARN", "warn" },
                              { 13, "WARN", "warn" },  { 17, "ERROR", "error" }, { 1, "TRACE", "trace" } };

static const char *log_message(bg_req_t *r, rng_t *g, const char *route, const char *method, int status,
                               int dur)
{
    switch (rndn(g, 6)) {
    case 0:
        return pool_printf(r,
                           "%s %s completed with status %d in %d ms; order=%d cart_items=%d "
                           "payment_provider=%s cache=%s region=%s upstream_calls=%d",
                           method, route, status, dur, 100000 + rndn(g, 900000), 1 + rndn(g, 20),
                           rndn(g, 2) ? "stripe" : "adyen", rndn(g, 3) ? "hit" : "miss", regions[rndn(g, 4)],
                           rndn(g, 6));
    case 1:
        return pool_printf(r,
                           "Processed message %016llx from queue %s: partition=%d offset=%lld lag=%d ms, "
                           "handler took %d ms (batch of %d events, %d retries)",
                           (unsigned long long)rnd(g), queues[rndn(g, 4)], rndn(g, 32),
                           (long long)(rnd(g) % 100000000), rndn(g, 5000), dur, 1 + rndn(g, 500), rndn(g, 3));
    case 2:
        return pool_printf(r,
                           "User signed in via %s from %d.%d.%d.%d using %s; mfa=%s risk_score=%.2f "
                           "session_age=%ds",
                           rndn(g, 2) ? "password" : "oauth2/google", 10 + rndn(g, 200), rndn(g, 256),
                           rndn(g, 256), 1 + rndn(g, 254),
                           rndn(g, 2) ? "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"
                                      : "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
                           rndn(g, 2) ? "totp" : "none", (double)rndn(g, 1000) / 1000.0, rndn(g, 86400));
    case 3:
        return pool_printf(r,
                           "Slow query (%d ms): SELECT o.id, o.total, o.status FROM orders o JOIN customers "
                           "c ON c.id = o.customer_id WHERE c.region = $1 AND o.created_at > $2 ORDER BY "
                           "o.created_at DESC LIMIT %d",
                           dur + 200, 10 * (1 + rndn(g, 10)));
    case 4:
        return pool_printf(
            r,
            "Failed to reserve inventory for sku SKU-%06d (warehouse %s): upstream returned %d "
            "after %d attempts; falling back to backorder queue, order %d delayed",
            rndn(g, 1000000), regions[rndn(g, 4)], status, 1 + rndn(g, 5), 100000 + rndn(g, 900000));
    default:
        return pool_printf(r,
                           "Cache refresh finished for key space %s:%s: %d keys loaded, %d evicted, hit "
                           "ratio %.3f, memory %d KiB, elapsed %d ms, next refresh in %d s",
                           services[rndn(g, 8)], rndn(g, 2) ? "products" : "prices", rndn(g, 100000),
                           rndn(g, 5000), (double)rndn(g, 1000) / 1000.0, rndn(g, 65536), dur,
                           30 + rndn(g, 300));
    }
}

/* ---- resources ---- */

static void build_resource(bg_req_t *r, bg_res_t *res, int svc, uint64_t seed)
{
    res->service = services[svc % 8];
    stable_uuid(res->project, seed ^ 1, (uint64_t)(svc % N_PROJECTS));
    int n = 0;
    kv_str(res->attr, &n, "service.name", res->service);
    kv_str(res->attr, &n, "service.version", pool_printf(r, "1.%d.%d", svc % 5, 3 + svc));
    kv_str(res->attr, &n, "service.instance.id", pool_printf(r, "%s-%d", res->service, 7 + svc));
    kv_str(res->attr, &n, "host.name", pool_printf(r, "node-%02d.prod.internal", svc % 6));
    kv_str(res->attr, &n, "deployment.environment", "production");
    kv_str(res->attr, &n, "telemetry.sdk.language", "nodejs");
    kv_str(res->attr, &n, "project.id", pool_uuid(r, res->project));
    res->nattr = n;
    res->scope_name = pool_printf(r, "@shop/%s", res->service);
    res->scope_version = "2.4.1";
}

static void pick_session(rng_t *g, uint64_t seed, int svc, uint8_t session[16], uint8_t user[16])
{
    /* sessions belong to the resource's project: session k of project p is
     * k * N_PROJECTS + p */
    int k = rndn(g, N_SESSIONS / N_PROJECTS) * N_PROJECTS + svc % N_PROJECTS;
    stable_uuid(session, seed ^ 2, (uint64_t)k);
    stable_uuid(user, seed ^ 3, (uint64_t)(k % N_USERS));
}

/* ---- logs ---- */

static void build_logs(bg_req_t *r, bg_res_t *res, int svc, int n, rng_t *g, uint64_t seed, int64_t now)
{
    uint8_t trace[16], span[8];
    for (int i = 0; i < n; i++) {
        bg_log_t *l = &res->logs[i];
        if (i % 5 == 0) { /* five log lines per trace */
            rnd_bytes(g, trace, 16);
        }
        rnd_bytes(g, span, 8);
        const sev_t *sv = &sevs[rndn(g, (int)(sizeof sevs / sizeof sevs[0]))];
        l->time_ns = now - (int64_t)rndn(g, 5000) * 1000000LL - rndn(g, 1000000);
        l->observed_ns = l->time_ns + 1000000LL + rndn(g, 1000000);
        l->sev = sv->num;
        l->sev_text = sv->text;
        l->level = sv->level;
        l->has_trace = rndn(g, 10) < 7;
        memcpy(l->trace_id, trace, 16);
        memcpy(l->span_id, span, 8);
        rnd_bytes(g, l->id, 16);
        pick_session(g, seed, svc, l->session, l->user);
        const char *method = methods[rndn(g, 6)];
        const char *route = routes[rndn(g, 12)];
        int status = statuses[rndn(g, 10)];
        int dur = 1 + rndn(g, 400);
        l->body = log_message(r, g, route, method, status, dur);
        int k = 0;
        kv_str(l->attr, &k, "session.id", pool_uuid(r, l->session));
        kv_str(l->attr, &k, "user.id", pool_uuid(r, l->user));
        kv_str(l->attr, &k, "http.method", method);
        kv_str(l->attr, &k, "http.route", route);
        kv_int(l->attr, &k, "http.status_code", status);
        kv_int(l->attr, &k, "duration_ms", dur);
        kv_str(l->attr, &k, "code.function", functions[rndn(g, 6)]);
        kv_int(l->attr, &k, "code.lineno", 20 + rndn(g, 900));
        kv_str(l->attr, &k, "thread.name", pool_printf(r, "worker-%d", rndn(g, 16)));
        kv_str(l->attr, &k, "client.address",
               pool_printf(r, "10.%d.%d.%d", rndn(g, 256), rndn(g, 256), rndn(g, 256)));
        kv_int(l->attr, &k, "server.port", 8080);
        l->nattr = k;
    }
}

/* ---- spans ---- */

static const char *const child_names[] = { "OrderService.load", "SELECT orders",        "GET inventory",
                                           "redis GET",         "publish order-events", "render" };
static const int child_kinds[] = { 1, 3, 3, 3, 4, 1 };

static void build_spans(bg_req_t *r, bg_res_t *res, int svc, int n, rng_t *g, uint64_t seed, int64_t now)
{
    uint8_t trace[16], root_span[8], session[16], user[16];
    int64_t root_start = 0, root_end = 0;
    for (int i = 0; i < n; i++) {
        bg_span_t *s = &res->spans[i];
        int pos = i % 8; /* traces of 8 spans */
        if (pos == 0) {
            rnd_bytes(g, trace, 16);
            rnd_bytes(g, root_span, 8);
            pick_session(g, seed, svc, session, user);
            root_start = now - (int64_t)rndn(g, 10000) * 1000000LL;
            root_end = root_start + (int64_t)(5 + rndn(g, 500)) * 1000000LL;
        }
        memcpy(s->trace_id, trace, 16);
        memcpy(s->session, session, 16);
        memcpy(s->user, user, 16);
        const char *method = methods[rndn(g, 6)];
        const char *route = routes[rndn(g, 12)];
        int status = statuses[rndn(g, 10)];
        int k = 0;
        kv_str(s->attr, &k, "session.id", pool_uuid(r, session));
        kv_str(s->attr, &k, "user.id", pool_uuid(r, user));
        if (pos == 0) {
            memcpy(s->span_id, root_span, 8);
            s->has_parent = false;
            s->name = pool_printf(r, "%s %s", method, route);
            s->kind = 2;
            s->start_ns = root_start;
            s->end_ns = root_end;
            kv_str(s->attr, &k, "http.request.method", method);
            kv_str(s->attr, &k, "http.route", route);
            kv_int(s->attr, &k, "http.response.status_code", status);
            kv_str(s->attr, &k, "url.scheme", "https");
            kv_str(s->attr, &k, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0");
            kv_str(s->attr, &k, "client.address",
                   pool_printf(r, "10.%d.%d.%d", rndn(g, 256), rndn(g, 256), rndn(g, 256)));
        } else {
            int c = rndn(g, 6);
            rnd_bytes(g, s->span_id, 8);
            s->has_parent = true;
            memcpy(s->parent, root_span, 8);
            s->name = child_names[c];
            s->kind = child_kinds[c];
            int64_t span = root_end - root_start;
            s->start_ns = root_start + (int64_t)(rnd(g) % (uint64_t)(span / 2 + 1));
            s->end_ns = s->start_ns + (int64_t)(rnd(g) % (uint64_t)(span / 2 + 1));
            if (c == 1) {
                kv_str(s->attr, &k, "db.system", "postgresql");
                kv_str(s->attr, &k, "db.statement",
                       "SELECT id, total, status FROM orders WHERE customer_id = $1 ORDER BY created_at DESC "
                       "LIMIT 20");
                kv_str(s->attr, &k, "server.address", "pg-primary.prod.internal");
            } else if (c == 2) {
                kv_str(s->attr, &k, "http.request.method", "GET");
                kv_str(s->attr, &k, "url.full",
                       pool_printf(r, "http://inventory:8080/api/v1/stock/SKU-%06d", rndn(g, 1000000)));
                kv_int(s->attr, &k, "http.response.status_code", status);
            } else if (c == 3) {
                kv_str(s->attr, &k, "db.system", "redis");
                kv_str(s->attr, &k, "db.operation", "GET");
            } else if (c == 4) {
                kv_str(s->attr, &k, "messaging.system", "kafka");
                kv_str(s->attr, &k, "messaging.destination.name", "order-events");
            } else {
                kv_str(s->attr, &k, "code.function", functions[rndn(g, 6)]);
                kv_dbl(s->attr, &k, "render.cpu_ratio", (double)rndn(g, 1000) / 1000.0);
            }
        }
        s->nattr = k;
        s->nev = 0;
        s->status = 0;
        s->status_msg = NULL;
        if (rndn(g, 20) == 0) { /* 5 % errors, each with an exception event */
            s->status = 2;
            s->status_msg = "upstream timed out";
            bg_event_t *e = &s->ev[s->nev++];
            e->time_ns = s->end_ns - 1000;
            e->name = "exception";
            e->nattr = 0;
            kv_str(e->attr, &e->nattr, "exception.type", "TimeoutError");
            kv_str(e->attr, &e->nattr, "exception.message",
                   "request to inventory:8080 timed out after 2000 ms");
            kv_str(
                e->attr, &e->nattr, "exception.stacktrace",
                "TimeoutError: timed out\n    at InventoryClient.reserve (inventory.js:88:11)\n    at async "
                "CartService.addItem (cart.js:41:5)");
        } else if (pos == 0) {
            s->status = 1;
        }
        s->has_link = rndn(g, 25) == 0;
        if (s->has_link) {
            rnd_bytes(g, s->link_trace, 16);
            rnd_bytes(g, s->link_span, 8);
        }
    }
}

/* ---- metrics ---- */

static const double duration_bounds[BG_MAX_BOUNDS] = {
    5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000
};

/* FNV-1a over the series identity; the server computes its own hash, the
 * baseline only needs a stable id with the same cardinality. */
static uint64_t series_hash(const bg_metric_t *m, const bg_point_t *p, const bg_res_t *res)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(s)                                     \
    for (const char *c_ = (s); *c_; c_++) {        \
        h = (h ^ (uint8_t)*c_) * 1099511628211ULL; \
    }
    MIX(m->name);
    MIX(res->service);
    for (int i = 0; i < p->nlabel; i++) {
        MIX(p->label[i].key);
        if (p->label[i].t == BG_STR)
            MIX(p->label[i].s);
        h = (h ^ (uint64_t)p->label[i].i) * 1099511628211ULL;
    }
    for (int i = 0; i < 16; i++)
        h = (h ^ res->project[i]) * 1099511628211ULL;
#undef MIX
    return h >> 1; /* bigint */
}

static void build_metrics(bg_req_t *r, bg_res_t *res, int n, rng_t *g, int64_t now)
{
    static const struct {
        const char *name, *desc, *unit;
        int type, temporality;
        bool mono;
        int share; /* of 20 */
    } defs[] = {
        { "http.server.request.count", "Number of HTTP requests", "{request}", 2, 2, true, 8 },
        { "process.cpu.utilization", "CPU utilization", "1", 1, 0, false, 3 },
        { "process.memory.usage", "Resident memory", "By", 1, 0, false, 2 },
        { "db.client.connections.usage", "Connections in the pool", "{connection}", 2, 2, false, 3 },
        { "http.server.request.duration", "Duration of HTTP requests", "ms", 3, 2, false, 4 },
    };
    int left = n;
    res->nmetrics = 5;
    int64_t start = now - 3600LL * 1000000000LL;
    for (int mi = 0; mi < 5; mi++) {
        bg_metric_t *m = &res->metrics[mi];
        m->name = defs[mi].name;
        m->desc = defs[mi].desc;
        m->unit = defs[mi].unit;
        m->type = defs[mi].type;
        m->temporality = defs[mi].temporality;
        m->monotonic = defs[mi].mono;
        m->nbounds = m->type == 3 ? BG_MAX_BOUNDS : 0;
        m->bounds = duration_bounds;
        int np = mi == 4 ? left : n * defs[mi].share / 20;
        if (np > left)
            np = left;
        left -= np;
        m->npt = np;
        for (int j = 0; j < np; j++) {
            bg_point_t *p = &m->pt[j];
            int k = 0;
            p->start_ns = start;
            /* a few samples of each series per request, 10 s apart */
            p->time_ns = now - (int64_t)(j % 3) * 10000000000LL - rndn(g, 1000000);
            int combo = j / 3;
            if (mi == 0 || mi == 4) {
                kv_str(p->label, &k, "http.request.method", methods[combo % 6]);
                kv_str(p->label, &k, "http.route", routes[(combo / 6) % 12]);
                kv_int(p->label, &k, "http.response.status_code", statuses[(combo / 72) % 10]);
            } else if (mi == 1) {
                kv_str(p->label, &k, "state", combo % 2 ? "system" : "user");
                kv_int(p->label, &k, "cpu", combo % 16);
            } else if (mi == 2) {
                kv_str(p->label, &k, "type", combo % 2 ? "heap" : "rss");
                kv_int(p->label, &k, "pid", 1000 + combo % 32);
            } else {
                kv_str(p->label, &k, "pool.name", pool_printf(r, "pool-%d", combo % 8));
                kv_str(p->label, &k, "state", combo % 2 ? "idle" : "used");
            }
            p->nlabel = k;
            if (m->type == 3) {
                uint64_t total = 0;
                for (int b = 0; b <= BG_MAX_BOUNDS; b++) {
                    p->counts[b] = (uint64_t)rndn(g, b < 7 ? 400 : 40);
                    total += p->counts[b];
                }
                p->count = total;
                p->sum = (double)total * (20.0 + rndn(g, 200));
                p->min = 0.5 + rndn(g, 4);
                p->max = 100 + rndn(g, 6000);
            } else if (m->type == 2) {
                p->value = m->monotonic ? (double)(1000 + rnd(g) % 10000000) : (double)rndn(g, 50);
            } else {
                p->value =
                    mi == 1 ? (double)rndn(g, 10000) / 10000.0 : (double)(50000000 + rnd(g) % 500000000);
            }
            p->series_id = series_hash(m, p, res);
        }
    }
}

/* ---- request ---- */

int bg_req_build(bg_req_t *r, bg_signal_t signal, int records, uint64_t seed, int index, int64_t now_ns)
{
    memset(r, 0, sizeof *r);
    r->signal = signal;
    r->pool_cap = (size_t)records * 1400 + 65536;
    r->pool = malloc(r->pool_cap);
    if (!r->pool)
        return -1;
    rng_t g = { (seed + 1) * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)index + 1) * 0xBF58476D1CE4E5B9ULL ^
                (uint64_t)signal };
    for (int i = 0; i < 4; i++)
        rnd(&g);
    r->nres = records >= 4 ? 4 : 1;
    int left = records;
    for (int ri = 0; ri < r->nres; ri++) {
        bg_res_t *res = &r->res[ri];
        int svc = (index * 3 + ri) % 8;
        int n = ri == r->nres - 1 ? left : records / r->nres;
        left -= n;
        build_resource(r, res, svc, seed);
        if (signal == BG_LOGS) {
            res->logs = calloc((size_t)n + 1, sizeof *res->logs);
            if (!res->logs)
                goto fail;
            res->nlogs = n;
            build_logs(r, res, svc, n, &g, seed, now_ns);
        } else if (signal == BG_SPANS) {
            res->spans = calloc((size_t)n + 1, sizeof *res->spans);
            if (!res->spans)
                goto fail;
            res->nspans = n;
            build_spans(r, res, svc, n, &g, seed, now_ns);
        } else {
            res->metrics = calloc(5, sizeof *res->metrics);
            if (!res->metrics)
                goto fail;
            for (int mi = 0; mi < 5; mi++) {
                res->metrics[mi].pt = calloc((size_t)n + 1, sizeof(bg_point_t));
                if (!res->metrics[mi].pt)
                    goto fail;
            }
            build_metrics(r, res, n, &g, now_ns);
        }
    }
    r->nrecords = records;
    return 0;
fail:
    bg_req_free(r);
    return -1;
}

void bg_req_free(bg_req_t *r)
{
    if (!r)
        return;
    for (int ri = 0; ri < BG_MAX_RES; ri++) {
        bg_res_t *res = &r->res[ri];
        free(res->logs);
        free(res->spans);
        if (res->metrics)
            for (int mi = 0; mi < 5; mi++)
                free(res->metrics[mi].pt);
        free(res->metrics);
    }
    free(r->pool);
    memset(r, 0, sizeof *r);
}
