/*
 * test_json_equiv_metrics.c — OTLP/JSON and protobuf give the same metric
 * samples (every metric type, labels hash included), on the protobuf
 * walker's own random requests (test_pb_metrics.c, included with its main
 * renamed) and on the SDK corpus.
 */
#define main test_pb_metrics_main
#include "test_pb_metrics.c"
#undef main
#include "json_equiv.h"

static void test_random_requests_equal(void **state)
{
    (void)state;
    lo_redact_t *red = eq_redactor();
    g_rng = 0xABCDEF1ULL;
    for (int iter = 0; iter < 400; iter++) {
        T(ExportMetricsServiceRequest) *q = rnd_metrics_req();
        lo_decode_opts_t o = { .max_depth = 32,
                               .receive_ns = 1600000000000000000LL,
                               .redact = iter % 2 ? red : NULL };
        assert_int_equal(eq_check(LO_SIGNAL_METRICS, &q->base, &o), LO_OK);
        pool_free();
        if (g_eq_bad != 0)
            fail_msg("iteration %d differs", iter);
    }
    lo_redact_destroy(red);
    g_frag_secrets = false;
    assert_true(g_eq_records > 1000);
    assert_true(g_eq_scrubbed > 20); /* the scrubbing was exercised */
}

static ProtobufCMessage *eq_wrap_point(T(KeyValue) * kv)
{
    T(NumberDataPoint) *p = PNEW(T(NumberDataPoint), LOOKOUT_TEST__NUMBER_DATA_POINT__INIT);
    p->n_attributes = 1;
    p->attributes = PARR(T(KeyValue) *, 1);
    p->attributes[0] = kv;
    T(Gauge) *g = PNEW(T(Gauge), LOOKOUT_TEST__GAUGE__INIT);
    g->n_data_points = 1;
    g->data_points = PARR(T(NumberDataPoint) *, 1);
    g->data_points[0] = p;
    T(Metric) *m = PNEW(T(Metric), LOOKOUT_TEST__METRIC__INIT);
    m->name = pstrdup("g");
    m->data_case = LOOKOUT_TEST__METRIC__DATA_GAUGE;
    m->gauge = g;
    T(ScopeMetrics) *sm = PNEW(T(ScopeMetrics), LOOKOUT_TEST__SCOPE_METRICS__INIT);
    sm->n_metrics = 1;
    sm->metrics = PARR(T(Metric) *, 1);
    sm->metrics[0] = m;
    T(ResourceMetrics) *rm = PNEW(T(ResourceMetrics), LOOKOUT_TEST__RESOURCE_METRICS__INIT);
    rm->n_scope_metrics = 1;
    rm->scope_metrics = PARR(T(ScopeMetrics) *, 1);
    rm->scope_metrics[0] = sm;
    T(ExportMetricsServiceRequest) *q =
        PNEW(T(ExportMetricsServiceRequest), LOOKOUT_TEST__EXPORT_METRICS_SERVICE_REQUEST__INIT);
    q->n_resource_metrics = 1;
    q->resource_metrics = PARR(T(ResourceMetrics) *, 1);
    q->resource_metrics[0] = rm;
    return &q->base;
}

static void test_depth_bound_equal(void **state)
{
    (void)state;
    eq_depth_bound(LO_SIGNAL_METRICS, eq_wrap_point);
    pool_free();
}

static void corpus_equal(const uint8_t *p, size_t n, const char *name)
{
    T(ExportMetricsServiceRequest) *u = lookout_test__export_metrics_service_request__unpack(NULL, n, p);
    assert_non_null(u);
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = 1600000000000000000LL };
    assert_int_equal(eq_check(LO_SIGNAL_METRICS, &u->base, &o), LO_OK);
    if (g_eq_bad != 0)
        fail_msg("%s differs", name);
    lookout_test__export_metrics_service_request__free_unpacked(u, NULL);
}

static void test_corpus_equal(void **state)
{
    (void)state;
    assert_true(corpus_each("fuzz/corpus/fuzz_pb_metrics", corpus_equal) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_requests_equal),
        cmocka_unit_test(test_depth_bound_equal),
        cmocka_unit_test(test_corpus_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
