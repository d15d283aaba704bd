/*
 * decode_bench.c — how fast the OTLP protobuf walker decodes, on one core.
 *
 * Builds realistic requests with protobuf-c (from tests/proto/otlp.proto):
 * logs (1,000 records, ~400-byte messages, 8 attributes, ids), spans (1,000
 * spans, 8 attributes, some events) and metrics (gauges, sums, histograms),
 * then decodes each repeatedly for a short time with the arena reset between
 * runs, as the server does per request, and prints MB/s and records/s.
 *
 *   make bench-decode, or build/bench/decode_bench [seconds [logs|spans|metrics|protobuf-c]]
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "otlp.pb-c.h"
#include "otlp/otlp.h"

#define T(x) LookoutTest__##x

static uint64_t g_rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Everything the request tree points to is allocated here and never freed
 * before exit: the tree is built once. */
static void *xalloc(size_t n)
{
    void *p = calloc(1, n);
    if (p == NULL) {
        fprintf(stderr, "decode_bench: out of memory\n");
        exit(1);
    }
    return p;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return strcpy(xalloc(strlen(buf) + 1), buf);
}

static T(KeyValue) * kv_str(const char *k, char *v)
{
    T(KeyValue) *kv = xalloc(sizeof(*kv));
    T(AnyValue) *a = xalloc(sizeof(*a));
    lookout_test__key_value__init(kv);
    lookout_test__any_value__init(a);
    a->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
    a->string_value = v;
    kv->key = (char *)k;
    kv->value = a;
    return kv;
}

static T(KeyValue) * kv_int(const char *k, int64_t v)
{
    T(KeyValue) *kv = kv_str(k, NULL);
    kv->value->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_INT_VALUE;
    kv->value->int_value = v;
    return kv;
}

static T(KeyValue) * kv_dbl(const char *k, double v)
{
    T(KeyValue) *kv = kv_str(k, NULL);
    kv->value->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_DOUBLE_VALUE;
    kv->value->double_value = v;
    return kv;
}

static char *uuid(void)
{
    uint64_t a = rnd(), b = rnd();
    return xprintf("%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
                   (unsigned)a & 0xfff, (unsigned)(b >> 48) & 0xfff,
                   (unsigned long long)(b & 0xffffffffffffULL));
}

static ProtobufCBinaryData id(size_t n)
{
    ProtobufCBinaryData b = { n, xalloc(n) };
    for (size_t i = 0; i < n; i++)
        b.data[i] = (uint8_t)(rnd() | 1);
    return b;
}

static T(Resource) * resource(void)
{
    T(Resource) *r = xalloc(sizeof(*r));
    lookout_test__resource__init(r);
    r->n_attributes = 6;
    r->attributes = xalloc(6 * sizeof(T(KeyValue) *));
    r->attributes[0] = kv_str("service.name", "checkout");
    r->attributes[1] = kv_str("service.version", "2.14.1");
    r->attributes[2] = kv_str("host.name", "checkout-7d9f8b6c5-x2x8q");
    r->attributes[3] = kv_str("deployment.environment", "production");
    r->attributes[4] = kv_str("telemetry.sdk.language", "nodejs");
    r->attributes[5] = kv_str("project_id", uuid());
    return r;
}

static T(InstrumentationScope) * scope(void)
{
    T(InstrumentationScope) *s = xalloc(sizeof(*s));
    lookout_test__instrumentation_scope__init(s);
    s->name = "@opentelemetry/instrumentation-http";
    s->version = "0.57.0";
    return s;
}

static const char *const routes[] = { "/api/orders", "/api/cart/items",         "/api/users/{id}",
                                      "/healthz",    "/api/payments/authorize", "/api/inventory/{sku}" };

static char *message(void)
{
    /* ~400 bytes of the kind of line services log */
    return xprintf("POST %s completed with status %d in %d ms; order=%llu cart_items=%d payment_provider=%s "
                   "cache=%s region=%s upstream_calls=%d customer_tier=%s correlation=%016llx "
                   "feature_flags=[checkout_v2,fast_pay,\"new-ui\"] note=\"retried once after timeout from "
                   "inventory service at 10.0.%d.%d:8080\" user_agent=Mozilla/5.0 (X11; Linux x86_64) "
                   "Firefox/132.0",
                   routes[rnd() % 6], 200 + (int)(rnd() % 4) * 100, (int)(rnd() % 900),
                   (unsigned long long)(rnd() % 10000000), (int)(rnd() % 20), rnd() % 2 ? "stripe" : "adyen",
                   rnd() % 3 ? "hit" : "miss", rnd() % 2 ? "eu-west-1" : "us-east-2", (int)(rnd() % 8),
                   rnd() % 2 ? "gold" : "standard", (unsigned long long)rnd(), (int)(rnd() % 256),
                   (int)(rnd() % 256));
}

static T(KeyValue) * *attrs(size_t *n)
{
    *n = 8;
    T(KeyValue) **a = xalloc(8 * sizeof(*a));
    a[0] = kv_str("session.id", uuid());
    a[1] = kv_str("user.id", uuid());
    a[2] = kv_str("http.method", rnd() % 2 ? "GET" : "POST");
    a[3] = kv_str("http.route", (char *)routes[rnd() % 6]);
    a[4] = kv_int("http.status_code", 200 + (int64_t)(rnd() % 4) * 100);
    a[5] = kv_dbl("duration_ms", (double)(rnd() % 100000) / 100.0);
    a[6] = kv_str("thread.name", xprintf("worker-%d", (int)(rnd() % 16)));
    a[7] = kv_str("client.address",
                  xprintf("10.%d.%d.%d", (int)(rnd() % 256), (int)(rnd() % 256), (int)(rnd() % 256)));
    return a;
}

static const int64_t NOW = 1764300000000000000LL;

static uint8_t *pack(const ProtobufCMessage *m, size_t *n)
{
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *p = xalloc(*n);
    protobuf_c_message_pack(m, p);
    return p;
}

static uint8_t *logs_request(int nrec, size_t *n)
{
    T(ExportLogsServiceRequest) q = LOOKOUT_TEST__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    T(ResourceLogs) rl = LOOKOUT_TEST__RESOURCE_LOGS__INIT;
    T(ScopeLogs) sl = LOOKOUT_TEST__SCOPE_LOGS__INIT;
    T(ResourceLogs) *rlp = &rl;
    T(ScopeLogs) *slp = &sl;
    q.n_resource_logs = 1;
    q.resource_logs = &rlp;
    rl.resource = resource();
    rl.n_scope_logs = 1;
    rl.scope_logs = &slp;
    sl.scope = scope();
    sl.n_log_records = (size_t)nrec;
    sl.log_records = xalloc((size_t)nrec * sizeof(T(LogRecord) *));
    for (int i = 0; i < nrec; i++) {
        T(LogRecord) *r = xalloc(sizeof(*r));
        lookout_test__log_record__init(r);
        r->time_unix_nano = (uint64_t)(NOW + i * 1000);
        r->observed_time_unix_nano = r->time_unix_nano + 500;
        r->severity_number = 9;
        r->severity_text = "INFO";
        r->body = xalloc(sizeof(T(AnyValue)));
        lookout_test__any_value__init(r->body);
        r->body->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
        r->body->string_value = message();
        r->attributes = attrs(&r->n_attributes);
        r->trace_id = id(16);
        r->span_id = id(8);
        r->flags = 1;
        sl.log_records[i] = r;
    }
    return pack(&q.base, n);
}

static uint8_t *traces_request(int nspan, size_t *n)
{
    T(ExportTraceServiceRequest) q = LOOKOUT_TEST__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    T(ResourceSpans) rs = LOOKOUT_TEST__RESOURCE_SPANS__INIT;
    T(ScopeSpans) ss = LOOKOUT_TEST__SCOPE_SPANS__INIT;
    T(ResourceSpans) *rsp = &rs;
    T(ScopeSpans) *ssp = &ss;
    q.n_resource_spans = 1;
    q.resource_spans = &rsp;
    rs.resource = resource();
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    ss.scope = scope();
    ss.n_spans = (size_t)nspan;
    ss.spans = xalloc((size_t)nspan * sizeof(T(Span) *));
    ProtobufCBinaryData trace = id(16);
    for (int i = 0; i < nspan; i++) {
        T(Span) *s = xalloc(sizeof(*s));
        lookout_test__span__init(s);
        if (i % 10 == 0)
            trace = id(16);
        s->trace_id = trace;
        s->span_id = id(8);
        if (i % 10 != 0)
            s->parent_span_id = id(8);
        s->name = (char *)routes[rnd() % 6];
        s->kind = 2;
        s->start_time_unix_nano = (uint64_t)(NOW + i * 1000);
        s->end_time_unix_nano = s->start_time_unix_nano + rnd() % 100000000;
        s->attributes = attrs(&s->n_attributes);
        if (i % 4 == 0) {
            s->n_events = 1;
            s->events = xalloc(sizeof(T(Span__Event) *));
            T(Span__Event) *e = xalloc(sizeof(*e));
            lookout_test__span__event__init(e);
            e->time_unix_nano = s->start_time_unix_nano + 1000;
            e->name = "exception";
            e->n_attributes = 2;
            e->attributes = xalloc(2 * sizeof(T(KeyValue) *));
            e->attributes[0] = kv_str("exception.type", "TimeoutError");
            e->attributes[1] =
                kv_str("exception.message", "request to inventory:8080 timed out after 2000 ms");
            s->events[0] = e;
        }
        s->status = xalloc(sizeof(T(Status)));
        lookout_test__status__init(s->status);
        s->status->code = i % 4 == 0 ? 2 : 1;
        ss.spans[i] = s;
    }
    return pack(&q.base, n);
}

static uint8_t *metrics_request(int nmetric, int npoints, size_t *n)
{
    static double bounds[] = { 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000 };
    T(ExportMetricsServiceRequest) q = LOOKOUT_TEST__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    T(ResourceMetrics) rm = LOOKOUT_TEST__RESOURCE_METRICS__INIT;
    T(ScopeMetrics) sm = LOOKOUT_TEST__SCOPE_METRICS__INIT;
    T(ResourceMetrics) *rmp = &rm;
    T(ScopeMetrics) *smp = &sm;
    q.n_resource_metrics = 1;
    q.resource_metrics = &rmp;
    rm.resource = resource();
    rm.n_scope_metrics = 1;
    rm.scope_metrics = &smp;
    sm.scope = scope();
    sm.n_metrics = (size_t)nmetric;
    sm.metrics = xalloc((size_t)nmetric * sizeof(T(Metric) *));
    for (int i = 0; i < nmetric; i++) {
        T(Metric) *m = xalloc(sizeof(*m));
        lookout_test__metric__init(m);
        m->name = xprintf("http.server.metric_%d", i);
        m->unit = "ms";
        if (i % 3 == 2) {
            m->data_case = LOOKOUT_TEST__METRIC__DATA_HISTOGRAM;
            m->histogram = xalloc(sizeof(T(Histogram)));
            lookout_test__histogram__init(m->histogram);
            m->histogram->aggregation_temporality = 2;
            m->histogram->n_data_points = (size_t)npoints;
            m->histogram->data_points = xalloc((size_t)npoints * sizeof(T(HistogramDataPoint) *));
            for (int k = 0; k < npoints; k++) {
                T(HistogramDataPoint) *p = xalloc(sizeof(*p));
                lookout_test__histogram_data_point__init(p);
                p->n_attributes = 3;
                p->attributes = xalloc(3 * sizeof(T(KeyValue) *));
                p->attributes[0] = kv_str("http.method", "GET");
                p->attributes[1] = kv_str("http.route", (char *)routes[k % 6]);
                p->attributes[2] = kv_int("http.status_code", 200 + (k % 4) * 100);
                p->start_time_unix_nano = (uint64_t)NOW - 60000000000ULL;
                p->time_unix_nano = (uint64_t)NOW;
                p->count = 1000 + rnd() % 1000;
                p->_sum_case = LOOKOUT_TEST__HISTOGRAM_DATA_POINT___SUM_SUM;
                p->sum = (double)(rnd() % 1000000) / 10.0;
                p->n_explicit_bounds = 12;
                p->explicit_bounds = bounds;
                p->n_bucket_counts = 13;
                p->bucket_counts = xalloc(13 * sizeof(uint64_t));
                for (int b = 0; b < 13; b++)
                    p->bucket_counts[b] = rnd() % 200;
                m->histogram->data_points[k] = p;
            }
        } else {
            T(NumberDataPoint) **pts = xalloc((size_t)npoints * sizeof(*pts));
            for (int k = 0; k < npoints; k++) {
                T(NumberDataPoint) *p = xalloc(sizeof(*p));
                lookout_test__number_data_point__init(p);
                p->n_attributes = 3;
                p->attributes = xalloc(3 * sizeof(T(KeyValue) *));
                p->attributes[0] = kv_str("http.method", "GET");
                p->attributes[1] = kv_str("http.route", (char *)routes[k % 6]);
                p->attributes[2] = kv_int("http.status_code", 200 + (k % 4) * 100);
                p->start_time_unix_nano = (uint64_t)NOW - 60000000000ULL;
                p->time_unix_nano = (uint64_t)NOW;
                p->value_case = LOOKOUT_TEST__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
                p->as_double = (double)(rnd() % 100000) / 7.0;
                pts[k] = p;
            }
            if (i % 3 == 0) {
                m->data_case = LOOKOUT_TEST__METRIC__DATA_GAUGE;
                m->gauge = xalloc(sizeof(T(Gauge)));
                lookout_test__gauge__init(m->gauge);
                m->gauge->n_data_points = (size_t)npoints;
                m->gauge->data_points = pts;
            } else {
                m->data_case = LOOKOUT_TEST__METRIC__DATA_SUM;
                m->sum = xalloc(sizeof(T(Sum)));
                lookout_test__sum__init(m->sum);
                m->sum->aggregation_temporality = 2;
                m->sum->is_monotonic = 1;
                m->sum->n_data_points = (size_t)npoints;
                m->sum->data_points = pts;
            }
        }
        sm.metrics[i] = m;
    }
    return pack(&q.base, n);
}

/* CPU time of this thread: the machine is shared, wall time would count
 * the time other processes run. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void run(const char *what, lo_signal_t sig, const uint8_t *p, size_t n, double seconds)
{
    lo_arena_t *a = lo_arena_create(1 << 20, 256 << 20);
    /* redaction as lookout serve does it by default (docs/auth.md) */
    lo_config_t cfg;
    if (lo_config_defaults(&cfg) != LO_OK) {
        fprintf(stderr, "decode_bench: out of memory\n");
        exit(1);
    }
    lo_redact_t *red = lo_redact_from_config(&cfg);
    lo_config_free(&cfg);
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = NOW, .redact = red };
    lo_otlp_batch_t b;
    lo_otlp_batch_init(&b, sig, a);
    long iters = 0;
    size_t recs = 0;
    int64_t t0 = cpu_ns(), t1;
    do {
        for (int k = 0; k < 20; k++) {
            lo_arena_reset(a);
            b.n = 0; /* keep the record array, as a server reusing batches would */
            if (lo_otlp_pb_decode(sig, p, n, &o, &b) != LO_OK) {
                fprintf(stderr, "decode_bench: %s: %s\n", what, b.error);
                exit(1);
            }
            recs += b.n;
            iters++;
        }
        t1 = cpu_ns();
    } while ((double)(t1 - t0) < seconds * 1e9);
    double s = (double)(t1 - t0) / 1e9;
    printf("%-8s %7zu bytes/request %5zu records  %8.0f MB/s  %10.0f records/s  %6.0f ns/record\n", what, n,
           b.n, (double)n * (double)iters / s / 1e6, (double)recs / s, s * 1e9 / (double)recs);
    lo_otlp_batch_free(&b);
    lo_arena_destroy(a);
    lo_redact_destroy(red);
}

/* The same logs body through protobuf-c's generated unpack (a malloc'd
 * tree, nothing rendered): what a generated decoder costs, for comparison. */
static void run_protobuf_c(const uint8_t *p, size_t n, double seconds)
{
    long iters = 0;
    int64_t t0 = cpu_ns(), t1;
    do {
        for (int k = 0; k < 5; k++) {
            T(ExportLogsServiceRequest) *q = lookout_test__export_logs_service_request__unpack(NULL, n, p);
            if (q == NULL) {
                fprintf(stderr, "decode_bench: protobuf-c refused the logs body\n");
                exit(1);
            }
            lookout_test__export_logs_service_request__free_unpacked(q, NULL);
            iters++;
        }
        t1 = cpu_ns();
    } while ((double)(t1 - t0) < seconds * 1e9);
    double s = (double)(t1 - t0) / 1e9;
    printf("%-8s %7zu bytes/request  protobuf-c unpack only: %5.0f MB/s\n", "logs", n,
           (double)n * (double)iters / s / 1e6);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    size_t nl, nt, nm;
    uint8_t *logs = logs_request(1000, &nl);
    uint8_t *traces = traces_request(1000, &nt);
    uint8_t *metrics = metrics_request(100, 10, &nm);
    const char *only = argc > 2 ? argv[2] : "";
    printf("decode_bench: protobuf walker, one core, %.1f s of CPU time per payload\n", seconds);
    if (!*only || strcmp(only, "logs") == 0)
        run("logs", LO_SIGNAL_LOGS, logs, nl, seconds);
    if (strcmp(only, "protobuf-c") == 0)
        run_protobuf_c(logs, nl, seconds);
    if (!*only || strcmp(only, "spans") == 0)
        run("spans", LO_SIGNAL_SPANS, traces, nt, seconds);
    if (!*only || strcmp(only, "metrics") == 0)
        run("metrics", LO_SIGNAL_METRICS, metrics, nm, seconds);
    return 0;
}
