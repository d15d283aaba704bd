/*
 * test_query_metrics.c — GET /api/observe/metrics, /metrics/names and
 * /sessions/{id}/timeline against a real PostgreSQL: step alignment,
 * aggregation values (avg/sum/min/max/count, rate and increase across a
 * counter reset, histogram percentiles), grouping, authorization, cursor
 * paging and bad parameters.
 */
#include <math.h>

#include "query_harness.h"

#include "query/query_internal.h"

#define PA "aaaaaaaa-0000-4000-8000-000000000001"
#define PB "bbbbbbbb-0000-4000-8000-000000000002"
#define S2 "5e552000-0000-4000-8000-000000000002"
#define S3 "5e553000-0000-4000-8000-000000000003"

static int64_t base; /* a minute boundary, in Unix microseconds */
static char from_s[32], to_s[32];
static lo_principal_t who_all, who_a, who_b, who_none;

static void ins_series(int id, const char *project, const char *name, int type, int temporality,
                       const char *labels)
{
    char sql[512], proj[64] = "NULL";
    if (project)
        snprintf(proj, sizeof proj, "'%s'", project);
    snprintf(sql, sizeof sql,
             "INSERT INTO metric_series (series_id, project_id, service, name, type, temporality, monotonic, "
             "unit, "
             "description, labels) VALUES (%d, %s, 'api', '%s', %d, %d, %s, 'ms', 'd of %s', '%s')",
             id, proj, name, type, temporality, type == 2 ? "true" : "false", name, labels);
    tq_exec(sql);
}

static void ins_value(int id, int64_t off_s, double v, int64_t start_off_s)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO metric_samples (time, series_id, start_time, value, service) VALUES ("
             "'epoch'::timestamptz + %lld * interval '1 microsecond', %d, "
             "'epoch'::timestamptz + %lld * interval '1 microsecond', %.17g, 'api')",
             (long long)(base + off_s * 1000000), id, (long long)(base + start_off_s * 1000000), v);
    tq_exec(sql);
}

static void ins_hist(int id, int64_t off_s, int64_t start_off_s, const char *counts, double count, double sum)
{
    char sql[640];
    snprintf(sql, sizeof sql,
             "INSERT INTO metric_samples (time, series_id, start_time, count, sum, min, max, buckets, "
             "service) VALUES ("
             "'epoch'::timestamptz + %lld * interval '1 microsecond', %d, "
             "'epoch'::timestamptz + %lld * interval '1 microsecond', %.0f, %.17g, 1, 5000, "
             "'{\"bounds\": [10, 100, 1000], \"counts\": %s}', 'api')",
             (long long)(base + off_s * 1000000), id, (long long)(base + start_off_s * 1000000), count, sum,
             counts);
    tq_exec(sql);
}

static void ins_exp(int id, int64_t off_s, int offset, const char *counts, double count)
{
    char sql[640];
    snprintf(sql, sizeof sql,
             "INSERT INTO metric_samples (time, series_id, start_time, count, sum, buckets, service) VALUES ("
             "'epoch'::timestamptz + %lld * interval '1 microsecond', %d, "
             "'epoch'::timestamptz + %lld * interval '1 microsecond', %.0f, 0, "
             "'{\"scale\": 0, \"zero_count\": 0, \"zero_threshold\": 0, "
             "\"positive\": {\"offset\": %d, \"counts\": %s}, \"negative\": {\"offset\": 0, \"counts\": "
             "[]}}', 'api')",
             (long long)(base + off_s * 1000000), id, (long long)(base - 3600 * 1000000LL), count, offset,
             counts);
    tq_exec(sql);
}

static void ins_log(const char *session, const char *project, int64_t off_ms, const char *id, const char *msg)
{
    char sql[700];
    snprintf(sql, sizeof sql,
             "INSERT INTO log_entries (time, id, project_id, session_id, service, level, severity_number, "
             "message) "
             "VALUES ('epoch'::timestamptz + %lld * interval '1 microsecond', '%s', '%s', '%s', 'api', "
             "'info', 9, '%s')",
             (long long)(base + off_ms * 1000), id, project, session, msg);
    tq_exec(sql);
}

static void ins_span(const char *session, const char *project, int64_t off_ms, const char *span,
                     const char *name)
{
    char sql[800];
    snprintf(sql, sizeof sql,
             "INSERT INTO spans (start_time, end_time, duration_ns, trace_id, span_id, project_id, "
             "session_id, service, "
             "name, kind, status_code) VALUES ('epoch'::timestamptz + %lld * interval '1 microsecond', "
             "'epoch'::timestamptz + %lld * interval '1 microsecond', 1000000, "
             "decode('0af7651916cd43dd8448eb211c80319c','hex'), decode('%s','hex'), '%s', '%s', 'api', '%s', "
             "2, 1)",
             (long long)(base + off_ms * 1000), (long long)(base + off_ms * 1000 + 1000), span, project,
             session, name);
    tq_exec(sql);
}

static int setup(void **state)
{
    (void)state;
    tq_db_create("metrics");
    base = tq_base_us(70) / 600000000 * 600000000; /* on a 10-minute boundary */
    lo_q_fmt_time(base, from_s);
    lo_q_fmt_time(base + 600 * 1000000LL, to_s);
    tq_exec("INSERT INTO projects (id, name, public) VALUES ('" PA "', 'a', false), ('" PB "', 'b', false)");

    ins_series(1, PA, "cpu", 1, 0, "{\"host\": \"a\"}");
    ins_series(2, PA, "cpu", 1, 0, "{\"host\": \"b\"}");
    ins_series(3, PB, "cpu", 1, 0, "{\"host\": \"a\"}");
    ins_series(6, NULL, "cpu", 1, 0, "{\"host\": \"c\"}");
    ins_value(1, 0, 1, 0), ins_value(1, 20, 2, 0), ins_value(1, 40, 3, 0);
    ins_value(1, 60, 10, 0), ins_value(1, 80, 20, 0);
    ins_value(1, -30, 99, 0); /* before from: never counted */
    ins_value(2, 10, 100, 0), ins_value(2, 70, 200, 0);
    ins_value(3, 5, 1000, 0);
    ins_value(6, 5, 7, 0);

    /* a cumulative counter that started before the range and resets at +45 s */
    ins_series(4, PA, "requests", 2, 2, "{\"code\": 200}");
    ins_value(4, -30, 90, -3600);
    ins_value(4, 0, 100, -3600), ins_value(4, 15, 110, -3600), ins_value(4, 30, 130, -3600);
    ins_value(4, 45, 5, 40), ins_value(4, 60, 25, 40), ins_value(4, 75, 25, 40), ins_value(4, 90, 40, 40);
    /* one that started inside the range: its first value counts */
    ins_series(7, PA, "requests", 2, 2, "{\"code\": 500}");
    ins_value(7, 10, 3, 1), ins_value(7, 70, 4, 1);

    /* one metric with a cumulative and a delta series */
    ins_series(10, PA, "mixed", 2, 2, "{\"k\": \"c\"}");
    ins_value(10, -30, 10, -3600), ins_value(10, 10, 15, -3600), ins_value(10, 70, 18, -3600);
    ins_series(11, PA, "mixed", 2, 1, "{\"k\": \"d\"}");
    ins_value(11, 10, 2, 0), ins_value(11, 20, 3, 10), ins_value(11, 70, 4, 60);

    /* cumulative histograms, bounds 10, 100, 1000 */
    ins_series(5, PA, "latency", 3, 2, "{\"route\": \"/a\"}");
    ins_hist(5, -30, -3600, "[0, 0, 0, 0]", 0, 0);
    ins_hist(5, 10, -3600, "[10, 80, 10, 0]", 100, 5000);
    ins_hist(5, 70, -3600, "[10, 80, 10, 100]", 200, 205000);
    ins_series(8, PA, "latency", 3, 2, "{\"route\": \"/b\"}");
    ins_hist(8, 20, 5, "[100, 0, 0, 0]", 100, 500);

    /* an exponential histogram (scale 0: buckets (1,2], (2,4], (4,8]) whose offset moves */
    ins_series(12, PA, "explat", 4, 2, "{\"route\": \"/e\"}");
    ins_exp(12, -30, 0, "[0, 0, 0]", 0);
    ins_exp(12, 10, 0, "[10, 80, 10]", 100);
    ins_exp(12, 70, -1, "[0, 10, 80, 20]", 110);

    /* a session: logs and spans interleaved, two logs at the same instant */
    ins_log(S2, PA, 1000, "00000000-0000-4000-8000-0000000000a1", "first");
    ins_span(S2, PA, 2000, "00000000000000b1", "span one");
    ins_log(S2, PA, 3000, "00000000-0000-4000-8000-0000000000a3", "third b");
    ins_log(S2, PA, 3000, "00000000-0000-4000-8000-0000000000a2", "third a");
    ins_span(S2, PA, 3000, "00000000000000b2", "span two");
    ins_log(S3, PB, 1000, "00000000-0000-4000-8000-0000000000c1", "secret");

    who_all = tq_principal(LO_SCOPE_OBSERVE_READ, NULL, NULL);
    who_a = tq_principal(LO_SCOPE_OBSERVE_READ, PA, NULL);
    who_b = tq_principal(LO_SCOPE_OBSERVE_READ, PB, NULL);
    who_none = tq_principal(LO_SCOPE_INGEST | LO_SCOPE_ALERT_MANAGE, NULL, NULL);
    return 0;
}

/* The series of a metrics answer as "label:ms=v,ms=v;..." with ms relative
 * to base and values %g, for compact comparisons. */
static void series_text(tq_resp_t *r, char *out, size_t cap)
{
    tq_expect_ok(r);
    json_t *ser = json_object_get(r->json, "series"), *s;
    size_t i, o = 0;
    out[0] = '\0';
    json_array_foreach(ser, i, s)
    {
        char *lab = json_dumps(json_object_get(s, "labels"), JSON_COMPACT | JSON_SORT_KEYS);
        o += (size_t)snprintf(out + o, cap - o, "%s%s:", i ? ";" : "", lab);
        free(lab);
        json_t *pts = json_object_get(s, "points"), *p;
        size_t k;
        json_array_foreach(pts, k, p)
        {
            int64_t ms = json_integer_value(json_array_get(p, 0));
            assert_int_equal(ms % 60000, 0); /* aligned to step */
            o += (size_t)snprintf(out + o, cap - o, "%s%lld=%.6g", k ? "," : "",
                                  (long long)(ms - base / 1000) / 1000,
                                  json_number_value(json_array_get(p, 1)));
        }
    }
}

#define EXPECT_SERIES(want, who, ...) EXPECT_SERIES_S(want, who, "60", ##__VA_ARGS__)
#define EXPECT_SERIES_S(want, who, step, ...)                                                        \
    do {                                                                                             \
        tq_resp_t r_ = tq_get(who, "/api/observe/metrics", "from", from_s, "to", to_s, "step", step, \
                              ##__VA_ARGS__, NULL);                                                  \
        char got_[1024];                                                                             \
        series_text(&r_, got_, sizeof got_);                                                         \
        assert_string_equal(got_, want);                                                             \
        tq_resp_free(&r_);                                                                           \
    } while (0)

/* The executor apart from rendering: the same query into a sink that
 * keeps numbers (as alert evaluation does) gives what the JSON shows. */
typedef struct {
    int begins, series, points, ends;
    char type[32];
    double last;
} count_sink_t;

static void cs_begin(void *ud, const char *type, const char *unit)
{
    count_sink_t *c = ud;
    (void)unit;
    c->begins++;
    snprintf(c->type, sizeof(c->type), "%s", type ? type : "-");
}
static void cs_series(void *ud, const char *labels, size_t len, int members)
{
    (void)labels, (void)len, (void)members;
    ((count_sink_t *)ud)->series++;
}
static void cs_point(void *ud, int64_t ts_ms, double v)
{
    (void)ts_ms;
    ((count_sink_t *)ud)->points++;
    ((count_sink_t *)ud)->last = v;
}
static void cs_end(void *ud)
{
    ((count_sink_t *)ud)->ends++;
}

static void test_executor_sink(void **state)
{
    (void)state;
    lo_metric_spec_t spec = { .name = "cpu", .labels = "{\"host\":\"b\"}", .agg = 3 /* max */, .step_s = 60 };
    int64_t to_us = base + 600 * 1000000LL;
    spec.from_us = base;
    spec.to_us = to_us;
    lo_q_vis_t vis = { .all = true };
    lo_buf_init(&vis.arr, 0);
    lo_api_req_t req = { .method = "GET", .path = "/", .who = &who_all, .db = tq_db };
    lo_api_resp_t resp = { 0 };
    lo_buf_init(&resp.body, 1 << 20);
    count_sink_t c = { 0 };
    lo_metric_sink_t sink = { &c, cs_begin, cs_series, cs_point, cs_end, NULL, NULL, NULL, NULL };
    assert_int_equal(lo_q_metric_run(&req, &resp, &spec, &vis, &sink), LO_OK);
    assert_int_equal(c.begins, 1);
    assert_string_equal(c.type, "gauge");
    assert_int_equal(c.series, 1);
    assert_int_equal(c.ends, 1);
    assert_int_equal(c.points, 2);
    assert_true(c.last == 200);
    /* steps aligned to from (alert windows): one step covers an unaligned
     * range exactly, and its point is at from */
    memset(&c, 0, sizeof(c));
    spec.align_from = true;
    spec.from_us = base + 7 * 1000000LL;
    spec.to_us = spec.from_us + 600 * 1000000LL;
    spec.step_s = 600;
    assert_int_equal(lo_q_metric_run(&req, &resp, &spec, &vis, &sink), LO_OK);
    assert_int_equal(c.points, 1);
    assert_true(c.last == 200);
    spec.align_from = false;
    spec.from_us = base;
    spec.to_us = to_us;
    spec.step_s = 60;
    /* a query the executor cannot answer writes the error and calls nothing */
    memset(&c, 0, sizeof(c));
    spec.agg = 7; /* p50 of a gauge */
    assert_int_not_equal(lo_q_metric_run(&req, &resp, &spec, &vis, &sink), LO_OK);
    assert_int_equal(resp.status, 400);
    assert_int_equal(c.begins + c.series + c.points, 0);
    lo_buf_free(&resp.body);
}

static void test_gauges(void **state)
{
    (void)state;
    EXPECT_SERIES("{\"host\":\"a\"}:0=2,60=15;{\"host\":\"b\"}:0=100,60=200", &who_a, "name", "cpu");
    EXPECT_SERIES("{\"host\":\"a\"}:0=1,60=10;{\"host\":\"b\"}:0=100,60=200", &who_a, "name", "cpu", "agg",
                  "min");
    EXPECT_SERIES("{\"host\":\"a\"}:0=3,60=20;{\"host\":\"b\"}:0=100,60=200", &who_a, "name", "cpu", "agg",
                  "max");
    EXPECT_SERIES("{\"host\":\"a\"}:0=3,60=2;{\"host\":\"b\"}:0=1,60=1", &who_a, "name", "cpu", "agg",
                  "count");
    EXPECT_SERIES("{\"host\":\"b\"}:0=100,60=200", &who_a, "name", "cpu", "labels", "{\"host\":\"b\"}");
    EXPECT_SERIES("", &who_a, "name", "cpu", "labels", "{\"host\":\"z\"}");
    /* one step over the whole range */
    EXPECT_SERIES_S("{\"host\":\"a\"}:0=7.2", &who_a, "600", "name", "cpu", "labels", "{\"host\":\"a\"}");
    /* an unbound token merges project B's {"host":"a"} and sees the project-less series */
    EXPECT_SERIES("{\"host\":\"a\"}:0=251.5,60=15;{\"host\":\"b\"}:0=100,60=200;{\"host\":\"c\"}:0=7",
                  &who_all, "name", "cpu");
    EXPECT_SERIES("{\"host\":\"a\"}:0=1002,60=15;{\"host\":\"b\"}:0=100,60=200;{\"host\":\"c\"}:0=7",
                  &who_all, "name", "cpu", "agg", "sum");
    EXPECT_SERIES("{\"host\":\"a\"}:0=1000", &who_b, "name", "cpu");
    EXPECT_SERIES("{\"host\":\"a\"}:0=1000", &who_all, "name", "cpu", "project_id", PB);
    /* group=none: everything matched as one series */
    EXPECT_SERIES("{}:0=26.5,60=76.6667", &who_a, "name", "cpu", "group", "none");
    EXPECT_SERIES("{}:0=102,60=215", &who_a, "name", "cpu", "group", "none", "agg", "sum");
    EXPECT_SERIES("", &who_a, "name", "no.such.metric");
    /* group_by: one series per value of the named labels */
    EXPECT_SERIES("{\"host\":\"a\"}:0=2,60=15;{\"host\":\"b\"}:0=100,60=200", &who_a, "name", "cpu",
                  "group_by", "host");
    EXPECT_SERIES("{}:0=26.5,60=76.6667", &who_a, "name", "cpu", "group_by", "zone");
    EXPECT_SERIES("{\"host\":\"a\"}:0=251.5,60=15;{\"host\":\"b\"}:0=100,60=200;{\"host\":\"c\"}:0=7",
                  &who_all, "name", "cpu", "group_by", " host , zone ");
    /* step alignment when from is not on a boundary: buckets start at multiples of step */
    char f[32];
    lo_q_fmt_time(base + 30 * 1000000LL, f);
    tq_resp_t r = tq_get(&who_a, "/api/observe/metrics", "from", f, "to", to_s, "step", "60", "name", "cpu",
                         "labels", "{\"host\":\"a\"}", NULL);
    char got[256];
    series_text(&r, got, sizeof got);
    assert_string_equal(got, "{\"host\":\"a\"}:0=3,60=15");
    json_t *s0 = json_array_get(json_object_get(r.json, "series"), 0);
    assert_int_equal(json_integer_value(json_object_get(s0, "series_count")), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "type")), "gauge");
    assert_string_equal(json_string_value(json_object_get(r.json, "unit")), "ms");
    tq_resp_free(&r);
}

static void test_counters(void **state)
{
    (void)state;
    /* increases: +0 10, +15 10, +30 20, +45 5 (reset), +60 20, +75 0, +90 15 */
    EXPECT_SERIES("{\"code\":200}:0=45,60=35;{\"code\":500}:0=3,60=1", &who_a, "name", "requests", "agg",
                  "increase");
    EXPECT_SERIES("{\"code\":200}:0=0.75,60=0.583333;{\"code\":500}:0=0.05,60=0.0166667", &who_a, "name",
                  "requests", "agg", "rate");
    EXPECT_SERIES("{}:0=48,60=36", &who_a, "name", "requests", "agg", "increase", "group", "none");
    EXPECT_SERIES_S("{\"code\":200}:0=80", &who_a, "600", "name", "requests", "agg", "increase", "labels",
                    "{\"code\":200}");
    /* labels match whatever JSON type either side has: "200" finds 200 */
    EXPECT_SERIES("{\"code\":200}:0=45,60=35", &who_a, "name", "requests", "agg", "increase", "labels",
                  "{\"code\":\"200\"}");
    EXPECT_SERIES("{\"code\":200}:0=45,60=35", &who_a, "name", "requests", "agg", "increase", "labels",
                  "{\"code\":200}");
    /* an empty answer says why */
    {
        tq_resp_t r = tq_get(&who_a, "/api/observe/metrics", "from", from_s, "to", to_s, "name", "requests",
                             "labels", "{\"status\":\"200\"}", NULL);
        assert_int_equal(r.status, 200);
        const char *note = json_string_value(json_object_get(r.json, "note"));
        assert_non_null(note);
        assert_non_null(strstr(note, "no series of requests has the label status; its label keys are: code"));
        tq_resp_free(&r);
        r = tq_get(&who_a, "/api/observe/metrics", "from", from_s, "to", to_s, "name", "no.such", "labels",
                   "{\"a\":1}", NULL);
        assert_non_null(
            strstr(json_string_value(json_object_get(r.json, "note")), "no metric is named no.such"));
        tq_resp_free(&r);
    }
    EXPECT_SERIES("", &who_b, "name", "requests", "agg", "increase");
    /* each series with its own temporality: delta values are increases already */
    EXPECT_SERIES("{\"k\":\"c\"}:0=5,60=3;{\"k\":\"d\"}:0=5,60=4", &who_a, "name", "mixed", "agg",
                  "increase");
    EXPECT_SERIES("{}:0=10,60=7", &who_a, "name", "mixed", "agg", "increase", "group", "none");
    /* an up-down counter (cumulative, not monotonic): its decreases are not
     * resets, so increase and rate refuse it; its values read as usual */
    tq_exec("INSERT INTO metric_series (series_id, project_id, service, name, type, temporality, monotonic, "
            "labels) VALUES (13, '" PA "', 'api', 'queue.depth', 2, 2, false, '{}')");
    ins_value(13, 0, 5, -10);
    ins_value(13, 20, 3, -10);
    for (int i = 0; i < 2; i++) {
        tq_resp_t r = tq_get(&who_a, "/api/observe/metrics", "from", from_s, "to", to_s, "step", "60", "name",
                             "queue.depth", "agg", i ? "rate" : "increase", NULL);
        const char *m = tq_expect_error(&r, 400);
        assert_non_null(strstr(m, "up-down"));
        tq_resp_free(&r);
    }
    EXPECT_SERIES("{}:0=4", &who_a, "name", "queue.depth");
    tq_exec(
        "DELETE FROM metric_samples WHERE series_id = 13; DELETE FROM metric_series WHERE series_id = 13");
}

static void test_histograms(void **state)
{
    (void)state;
    EXPECT_SERIES("{\"route\":\"/a\"}:0=55,60=1000;{\"route\":\"/b\"}:0=5", &who_a, "name", "latency", "agg",
                  "p50");
    EXPECT_SERIES("{\"route\":\"/a\"}:0=100,60=1000;{\"route\":\"/b\"}:0=9", &who_a, "name", "latency", "agg",
                  "p90");
    EXPECT_SERIES("{\"route\":\"/a\"}:0=550,60=1000;{\"route\":\"/b\"}:0=9.5", &who_a, "name", "latency",
                  "agg", "p95");
    EXPECT_SERIES("{\"route\":\"/a\"}:0=910,60=1000;{\"route\":\"/b\"}:0=9.9", &who_a, "name", "latency",
                  "agg", "p99");
    /* any percentile, not only the four named ones */
    EXPECT_SERIES("{\"route\":\"/b\"}:0=7.5", &who_a, "name", "latency", "labels", "{\"route\":\"/b\"}",
                  "agg", "p75");
    EXPECT_SERIES("{\"route\":\"/b\"}:0=9.99", &who_a, "name", "latency", "labels", "{\"route\":\"/b\"}",
                  "agg", "p99.9");
    EXPECT_SERIES("{\"route\":\"/b\"}:0=5", &who_a, "name", "latency", "labels", "{\"route\":\"/b\"}", "agg",
                  "P50.0");
    /* the bucket counts per step, for heatmaps: the series' bounds once,
     * then per step the count of each bucket (the last is +Inf) */
    {
        tq_resp_t r = tq_get(&who_a, "/api/observe/metrics", "from", from_s, "to", to_s, "step", "60", "name",
                             "latency", "labels", "{\"route\":\"/b\"}", "agg", "buckets", NULL);
        assert_int_equal(r.status, 200);
        json_t *s0 = json_array_get(json_object_get(r.json, "series"), 0);
        json_t *bounds = json_object_get(s0, "bounds"), *pts = json_object_get(s0, "points");
        assert_true(json_array_size(bounds) > 0);
        assert_true(json_array_size(pts) > 0);
        json_t *counts = json_array_get(json_array_get(pts, 0), 1);
        assert_int_equal(json_array_size(counts), json_array_size(bounds) + 1);
        assert_string_equal(json_string_value(json_object_get(r.json, "agg")), "buckets");
        tq_resp_free(&r);
        r = tq_get(&who_a, "/api/observe/metrics", "from", from_s, "to", to_s, "name", "cpu", "agg",
                   "buckets", NULL);
        tq_expect_error(&r, 400); /* a gauge has no buckets */
        tq_resp_free(&r);
    }
    /* exponential buckets, differenced by bound across an offset change */
    EXPECT_SERIES("{\"route\":\"/e\"}:0=3,60=6", &who_a, "name", "explat", "agg", "p50");
    EXPECT_SERIES("{\"route\":\"/e\"}:0=7.6,60=7.96", &who_a, "name", "explat", "agg", "p99");
    EXPECT_SERIES("{\"route\":\"/e\"}:0=100,60=10", &who_a, "name", "explat", "agg", "count");
    EXPECT_SERIES("{\"route\":\"/e\"}:", &who_a, "name", "explat", "agg",
                  "min"); /* no min stored: no points */
    EXPECT_SERIES("{\"route\":\"/a\"}:0=5000,60=5000;{\"route\":\"/b\"}:0=5000", &who_a, "name", "latency",
                  "agg", "max");
    EXPECT_SERIES("{}:0=1,60=1", &who_a, "name", "latency", "agg", "min", "group", "none");
    /* merged over both series: [110, 80, 10, 0] -> rank 100 in the first bucket */
    EXPECT_SERIES("{}:0=9.09091,60=1000", &who_a, "name", "latency", "agg", "p50", "group", "none");
    EXPECT_SERIES("{\"route\":\"/a\"}:0=100,60=100;{\"route\":\"/b\"}:0=100", &who_a, "name", "latency",
                  "agg", "count");
    EXPECT_SERIES("{\"route\":\"/a\"}:0=50,60=2000;{\"route\":\"/b\"}:0=5", &who_a, "name", "latency", "agg",
                  "avg");
}

static void test_metrics_errors(void **state)
{
    (void)state;
    char big[5000], many[2000];
    size_t o = 0;
    o += (size_t)snprintf(big + o, sizeof big - o, "{\"k\":\"");
    memset(big + o, 'v', 4100);
    o += 4100;
    snprintf(big + o, sizeof big - o, "\"}");
    o = 0;
    many[o++] = '{';
    for (int i = 0; i < 33; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "%s\"k%d\":\"v\"", i ? "," : "", i);
    snprintf(many + o, sizeof many - o, "}");
    const char *bad[][2] = {
        { "agg", "p0" },
        { "agg", "p100" },
        { "agg", "p1000" },
        { "agg", "p9.1234" },
        { "agg", "p" },
        { "agg", "p5x" },
        { "agg", "p.5" },
        { "group_by", "" },
        { "group_by", "a,,b" },
        { "group_by", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q" },
        { "step", "0" },
        { "step", "-5" },
        { "step", "1.5" },
        { "agg", "median" },
        { "labels", "host=a" },
        { "labels", "[1,2]" },
        { "labels", "{\"a\":{\"b\":1}}" },
        { "labels", "{\"a\":null}" },
        { "labels", big },
        { "labels", many },
        { "labels", "{\"a\":1,\"a\":2}" },
        { "group", "host" },
        { "project_id", "nope" },
        { "from", "2026-11-31T00:00:00Z" },
        { "labels", "{\"a\":\"\xff\"}" },
        { "unit", "ms" },
        { "labels", "{\"a\":\"\\u0000\"}" },
        { "labels", "{\"a\":\"\\ud800\"}" },
        { "labels", "{\"a\":1e400}" },
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
        tq_resp_t r = tq_get(&who_a, "/api/observe/metrics", "name", "cpu", bad[i][0], bad[i][1], NULL);
        if (r.status != 400)
            fprintf(stderr, "case %zu (%s)\n", i, bad[i][0]);
        tq_expect_error(&r, 400);
        tq_resp_free(&r);
    }
    tq_resp_t r = tq_get(&who_a, "/api/observe/metrics", NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "name is required"));
    tq_resp_free(&r);
    r = tq_get(&who_a, "/api/observe/metrics", "name", "cpu", "agg", "p99", NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "histogram"));
    tq_resp_free(&r);
    r = tq_get(&who_a, "/api/observe/metrics", "name", "cpu", "agg", "rate", NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "counter"));
    tq_resp_free(&r);
    /* at most 11,000 points per series */
    char f[32], t[32];
    lo_q_fmt_time(base, f);
    lo_q_fmt_time(base + 11000 * 1000000LL, t);
    r = tq_get(&who_a, "/api/observe/metrics", "name", "cpu", "from", f, "to", t, "step", "1", NULL);
    tq_expect_ok(&r);
    tq_resp_free(&r);
    lo_q_fmt_time(base + 11001 * 1000000LL, t);
    r = tq_get(&who_a, "/api/observe/metrics", "name", "cpu", "from", f, "to", t, "step", "1", NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "raise step"));
    tq_resp_free(&r);
    /* at most 1,000,000 points in one answer: 100 label sets x 11,000 points */
    tq_exec(
        "INSERT INTO metric_series (series_id, project_id, service, name, type, labels) "
        "SELECT 1000 + k, NULL, 'api', 'many', 1, jsonb_build_object('k', k) FROM generate_series(1, 100) k");
    lo_q_fmt_time(base + 11000 * 1000000LL, t);
    r = tq_get(&who_all, "/api/observe/metrics", "name", "many", "from", f, "to", t, "step", "1", NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "group=none"));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/metrics", "name", "many", "from", f, "to", t, "step", "1", "group",
               "none", NULL);
    tq_expect_ok(&r);
    tq_resp_free(&r);
    /* 31 days at the default step is fine */
    lo_q_fmt_time(base - 31LL * 86400 * 1000000, f);
    lo_q_fmt_time(base, t);
    r = tq_get(&who_a, "/api/observe/metrics", "name", "cpu", "from", f, "to", t, NULL);
    tq_expect_ok(&r);
    assert_true(json_integer_value(json_object_get(r.json, "step")) >= 244);
    tq_resp_free(&r);
    /* authorization */
    r = tq_get(&who_a, "/api/observe/metrics", "name", "cpu", "project_id", PB, NULL);
    tq_expect_error(&r, 404);
    tq_resp_free(&r);
    r = tq_get(&who_none, "/api/observe/metrics", "name", "cpu", NULL);
    tq_expect_error(&r, 403);
    tq_resp_free(&r);
    r = tq_get(&who_none, "/api/observe/metrics/names", NULL);
    tq_expect_error(&r, 403);
    tq_resp_free(&r);
}

static void test_names(void **state)
{
    (void)state;
    tq_resp_t r = tq_get(&who_a, "/api/observe/metrics/names", NULL);
    tq_expect_ok(&r);
    json_t *m = json_object_get(r.json, "metrics");
    assert_int_equal(json_array_size(m), 5); /* cpu, explat, latency, mixed, requests */
    json_t *cpu = json_array_get(m, 0), *lat = json_array_get(m, 2), *req = json_array_get(m, 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "type")),
                        "exponential_histogram");
    assert_string_equal(json_string_value(json_object_get(cpu, "name")), "cpu");
    assert_string_equal(json_string_value(json_object_get(cpu, "type")), "gauge");
    assert_string_equal(json_string_value(json_object_get(cpu, "unit")), "ms");
    assert_string_equal(json_string_value(json_object_get(cpu, "description")), "d of cpu");
    assert_int_equal(json_integer_value(json_object_get(cpu, "series_count")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(cpu, "label_keys"), 0)), "host");
    assert_int_equal(json_array_size(json_object_get(cpu, "label_keys")), 1);
    assert_string_equal(json_string_value(json_object_get(lat, "type")), "histogram");
    assert_string_equal(json_string_value(json_object_get(req, "type")), "sum");
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/metrics/names", "prefix", "cp", NULL);
    tq_expect_ok(&r);
    m = json_object_get(r.json, "metrics");
    assert_int_equal(json_array_size(m), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 0), "series_count")), 4);
    tq_resp_free(&r);
    r = tq_get(&who_b, "/api/observe/metrics/names", NULL);
    tq_expect_ok(&r);
    assert_int_equal(json_array_size(json_object_get(r.json, "metrics")), 1);
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/metrics/names", "prefix", "%", NULL);
    tq_expect_ok(&r);
    assert_int_equal(json_array_size(json_object_get(r.json, "metrics")), 0);
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/metrics/names", "limit", "1", NULL);
    tq_expect_ok(&r);
    assert_true(json_is_true(json_object_get(r.json, "has_more")));
    tq_resp_free(&r);
    const char *bad[][2] = { { "prefix", "" }, { "limit", "0" }, { "project_id", "x" }, { "name", "cpu" } };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
        r = tq_get(&who_all, "/api/observe/metrics/names", bad[i][0], bad[i][1], NULL);
        tq_expect_error(&r, 400);
        tq_resp_free(&r);
    }
    r = tq_get(&who_a, "/api/observe/metrics/names", "project_id", PB, NULL);
    tq_expect_error(&r, 404);
    tq_resp_free(&r);
}

/* "kind:name-or-message,..." of a timeline page; sets *next (malloc'd or NULL). */
static void timeline_text(tq_resp_t *r, char *out, size_t cap, char **next)
{
    tq_expect_ok(r);
    json_t *items = json_object_get(r->json, "items"), *e;
    size_t i, o = strlen(out);
    json_array_foreach(items, i, e)
    {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        const char *what =
            json_string_value(json_object_get(e, strcmp(kind, "log") == 0 ? "message" : "name"));
        o += (size_t)snprintf(out + o, cap - o, "%s%s:%s", o ? "," : "", kind, what);
    }
    json_t *n = json_object_get(r->json, "next_cursor");
    *next = json_is_string(n) ? strdup(json_string_value(n)) : NULL;
}

static void test_timeline(void **state)
{
    (void)state;
    const char *want = "log:first,span:span one,log:third a,log:third b,span:span two";
    char all[512] = "";
    char *next = NULL;
    tq_resp_t r = tq_get(&who_a, "/api/observe/sessions/" S2 "/timeline", NULL);
    timeline_text(&r, all, sizeof all, &next);
    assert_string_equal(all, want);
    assert_null(next);
    json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "time_unix_ms")), base / 1000 + 1000);
    json_t *span = json_array_get(json_object_get(r.json, "items"), 1);
    assert_string_equal(json_string_value(json_object_get(span, "span_id")), "00000000000000b1");
    assert_string_equal(json_string_value(json_object_get(span, "status")), "ok");
    assert_int_equal(json_integer_value(json_object_get(span, "duration_ns")), 1000000);
    tq_resp_free(&r);

    /* pages of two, by cursor, add up to the same list */
    char paged[512] = "";
    int pages = 0;
    do {
        char *cursor = next;
        r = cursor ? tq_get(&who_a, "/api/observe/sessions/" S2 "/timeline", "limit", "2", "cursor", cursor,
                            NULL)
                   : tq_get(&who_a, "/api/observe/sessions/" S2 "/timeline", "limit", "2", NULL);
        timeline_text(&r, paged, sizeof paged, &next);
        tq_resp_free(&r);
        free(cursor);
        pages++;
    } while (next && pages < 10);
    assert_string_equal(paged, want);
    assert_int_equal(pages, 3);

    /* another project's session is not found; an unbound token sees it */
    r = tq_get(&who_a, "/api/observe/sessions/" S3 "/timeline", NULL);
    tq_expect_error(&r, 404);
    assert_null(strstr(r.text, "secret"));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/sessions/" S3 "/timeline", NULL);
    tq_expect_ok(&r);
    tq_resp_free(&r);
    r = tq_get(&who_b, "/api/observe/sessions/" S2 "/timeline", NULL);
    tq_expect_error(&r, 404);
    tq_resp_free(&r);
    r = tq_get(&who_none, "/api/observe/sessions/" S2 "/timeline", NULL);
    tq_expect_error(&r, 403);
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/sessions/5e559999-0000-4000-8000-000000000009/timeline", NULL);
    tq_expect_error(&r, 404);
    tq_resp_free(&r);
    const char *badc[] = { "",
                           "abc",
                           "123_x_00000000000000b1",
                           "123_s_zz",
                           "123_l_00000000000000b1",
                           "99999999999999999999_s_00000000000000b1",
                           "1_s_00000000000000b1'--" };
    for (size_t i = 0; i < LO_ARRAY_LEN(badc); i++) {
        r = tq_get(&who_a, "/api/observe/sessions/" S2 "/timeline", "cursor", badc[i], NULL);
        tq_expect_error(&r, 400);
        tq_resp_free(&r);
    }
    const char *badp[] = { "/api/observe/sessions/nope/timeline", "/api/observe/sessions/" S2 "x/timeline" };
    for (size_t i = 0; i < LO_ARRAY_LEN(badp); i++) {
        r = tq_get(&who_a, badp[i], NULL);
        tq_expect_error(&r, 400);
        tq_resp_free(&r);
    }
    r = tq_get(&who_a, "/api/observe/sessions/" S2 "/timeline", "limit", "1001", NULL);
    tq_expect_error(&r, 400);
    tq_resp_free(&r);
    r = tq_get(&who_a, "/api/observe/sessions/" S2 "/timeline", "from", from_s, NULL);
    tq_expect_error(&r, 400);
    tq_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gauges),         cmocka_unit_test(test_executor_sink),
        cmocka_unit_test(test_counters),       cmocka_unit_test(test_histograms),
        cmocka_unit_test(test_metrics_errors), cmocka_unit_test(test_names),
        cmocka_unit_test(test_timeline),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
