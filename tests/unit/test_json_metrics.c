/* OTLP/JSON metrics decoding (src/otlp/json_metrics.c): every metric type. */
#include <dirent.h>

#include "json_harness.h"

#define REQ(metrics)                                                                                    \
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"         \
    "{\"stringValue\":\"svc\"}}]},\"scopeMetrics\":[{\"scope\":{\"name\":\"meter\",\"version\":\"2\"}," \
    "\"metrics\":[" metrics "]}]}]}"

static uint64_t hash_of(const char *const *pairs, size_t n)
{
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = lo_labels_hash_add(h, pairs[i], strlen(pairs[i]));
    return lo_labels_hash_finish(h, n);
}

static void test_gauge_and_sum(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_METRICS,
              REQ("{\"name\":\"temp\",\"description\":\"d\",\"unit\":\"C\",\"gauge\":{\"dataPoints\":["
                  "{\"attributes\":[{\"key\":\"room\",\"value\":{\"stringValue\":\"a\"}},"
                  "{\"key\":\"floor\",\"value\":{\"intValue\":\"2\"}}],"
                  "\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"1700000000000000000\",\"asDouble\":21.5,"
                  "\"flags\":1},"
                  "{\"asInt\":\"-7\"},{\"asDouble\":\"NaN\"}]}},"
                  "{\"name\":\"requests\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,"
                  "\"dataPoints\":["
                  "{\"attributes\":[{\"key\":\"floor\",\"value\":{\"intValue\":2}},"
                  "{\"key\":\"room\",\"value\":{\"stringValue\":\"a\"}}],\"asInt\":9007199254740993}]}},"
                  "{\"name\":\"nodata\"}"));
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.n, 4);
    lo_sample_rec_t *s = t.b.samples;
    assert_str(s[0].name, "temp");
    assert_str(s[0].description, "d");
    assert_str(s[0].unit, "C");
    assert_int_equal(s[0].type, LO_METRIC_GAUGE);
    assert_int_equal(s[0].temporality, 0);
    assert_false(s[0].monotonic);
    assert_str(s[0].labels, "{\"room\":\"a\",\"floor\":2}");
    static const char *const pairs[] = { "\"room\":\"a\"", "\"floor\":2" };
    assert_true(s[0].labels_hash == hash_of(pairs, 2));
    assert_true(s[0].start_ns == 1 && s[0].time_ns == 1700000000000000000LL);
    assert_true(s[0].has_value && s[0].value == 21.5);
    assert_int_equal(s[0].flags, 1);
    assert_int_equal(s[0].buckets.len, 0);
    assert_str(s[0].resource, "{\"service.name\":\"svc\"}");
    assert_str(s[0].scope_name, "meter");
    assert_str(s[0].scope_version, "2");
    assert_str(s[0].env.service, "svc");
    assert_true(s[1].has_value && s[1].value == -7.0);
    assert_true(s[1].time_ns == RECEIVE_NS);
    assert_str(s[1].labels, "{}");
    assert_true(s[1].labels_hash == lo_labels_hash_finish(0, 0));
    assert_true(s[2].has_value && s[2].value != s[2].value);
    assert_int_equal(s[3].type, LO_METRIC_SUM);
    assert_int_equal(s[3].temporality, 2);
    assert_true(s[3].monotonic);
    assert_true(s[3].value == 9007199254740993.0);
    /* the same labels in another order: the same series */
    assert_true(s[3].labels_hash == s[0].labels_hash);
    jt_free(&t);

    jt_decode(&t, LO_SIGNAL_METRICS, REQ("{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{}]}}"));
    assert_int_equal(t.rc, LO_OK);
    assert_false(t.b.samples[0].has_value);
    jt_free(&t);
}

static void test_histogram(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_METRICS,
              REQ("{\"name\":\"latency\",\"unit\":\"ms\",\"histogram\":{\"aggregationTemporality\":1,"
                  "\"dataPoints\":["
                  "{\"startTimeUnixNano\":\"100\",\"timeUnixNano\":\"200\",\"count\":\"10\",\"sum\":123.5,"
                  "\"bucketCounts\":[\"1\",2,\"3\",4],\"explicitBounds\":[0.5,1,2.5],\"min\":0.1,\"max\":9,"
                  "\"flags\":0,\"exemplars\":[{\"timeUnixNano\":\"150\",\"asDouble\":3.5,"
                  "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
                  "\"filteredAttributes\":[{\"key\":\"x\",\"value\":{\"stringValue\":\"y\"}}]}]},"
                  "{\"count\":0}]}}"));
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.n, 2);
    lo_sample_rec_t *s = t.b.samples;
    assert_int_equal(s[0].type, LO_METRIC_HISTOGRAM);
    assert_int_equal(s[0].temporality, 1);
    assert_true(s[0].count == 10);
    assert_true(s[0].has_sum && s[0].sum == 123.5);
    assert_true(s[0].has_min && s[0].min == 0.1);
    assert_true(s[0].has_max && s[0].max == 9);
    assert_false(s[0].has_value);
    assert_str(s[0].buckets, "{\"bounds\":[0.5,1,2.5],\"counts\":[1,2,3,4]}");
    assert_true(s[0].start_ns == 100 && s[0].time_ns == 200);
    assert_false(s[0].env.has_trace_id); /* exemplar ids are not the point's */
    assert_false(s[1].has_sum || s[1].has_min || s[1].has_max);
    assert_str(s[1].buckets, "{\"bounds\":[],\"counts\":[]}");
    jt_free(&t);
}

static void test_exponential_histogram(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_METRICS,
              REQ("{\"name\":\"size\",\"exponentialHistogram\":{\"aggregationTemporality\":2,\"dataPoints\":["
                  "{\"timeUnixNano\":\"5\",\"count\":\"7\",\"sum\":70,\"scale\":-3,\"zeroCount\":\"1\","
                  "\"zeroThreshold\":0.001,\"positive\":{\"offset\":\"-2\",\"bucketCounts\":[\"1\","
                  "\"18446744073709551615\"]},"
                  "\"negative\":{\"offset\":5,\"bucketCounts\":[3]},\"min\":-1,\"max\":100},"
                  "{\"timeUnixNano\":\"6\"}]}}"));
    assert_int_equal(t.rc, LO_OK);
    lo_sample_rec_t *s = t.b.samples;
    assert_int_equal(s[0].type, LO_METRIC_EXP_HISTOGRAM);
    assert_int_equal(s[0].temporality, 2);
    assert_true(s[0].count == 7 && s[0].has_sum && s[0].sum == 70);
    assert_true(s[0].has_min && s[0].min == -1 && s[0].has_max && s[0].max == 100);
    assert_str(s[0].buckets, "{\"scale\":-3,\"zero_count\":1,\"zero_threshold\":0.001,"
                             "\"positive\":{\"offset\":-2,\"counts\":[1,\"18446744073709551615\"]},"
                             "\"negative\":{\"offset\":5,\"counts\":[3]}}");
    assert_str(s[1].buckets,
               "{\"scale\":0,\"zero_count\":0,\"zero_threshold\":0,"
               "\"positive\":{\"offset\":0,\"counts\":[]},\"negative\":{\"offset\":0,\"counts\":[]}}");
    assert_false(s[1].has_sum);
    jt_free(&t);
}

static void test_summary(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_METRICS,
              REQ("{\"name\":\"rpc\",\"summary\":{\"dataPoints\":["
                  "{\"timeUnixNano\":\"5\",\"count\":\"4\",\"sum\":8.5,\"quantileValues\":["
                  "{\"quantile\":0.5,\"value\":2},{\"quantile\":0.99,\"value\":\"Infinity\"},{}]},"
                  "{\"timeUnixNano\":\"6\"}]}}"));
    assert_int_equal(t.rc, LO_OK);
    lo_sample_rec_t *s = t.b.samples;
    assert_int_equal(s[0].type, LO_METRIC_SUMMARY);
    assert_true(s[0].count == 4 && s[0].has_sum && s[0].sum == 8.5);
    assert_false(s[0].has_min || s[0].has_max);
    assert_str(s[0].buckets, "{\"quantiles\":[[0.5,2],[0.98999999999999999,\"Infinity\"],[0,0]]}");
    assert_true(s[1].has_sum && s[1].sum == 0); /* sum is not optional in a summary */
    assert_str(s[1].buckets, "{\"quantiles\":[]}");
    jt_free(&t);
}

static void test_errors(void **state)
{
    (void)state;
    const lo_signal_t M = LO_SIGNAL_METRICS;
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"gauge\":{},\"sum\":{}}"),
                      "metrics[0]: a metric holds one kind of data, got both gauge and sum");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"exponentialHistogram\":{},\"exponential_histogram\":{}}"),
                      "metrics[0]: \"exponentialHistogram\" is given twice");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"gauge\":{\"data_points\":[],\"dataPoints\":[]}}"),
                      "metrics[0].gauge: \"dataPoints\" is given twice");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"gauge\":[]}"),
                      "metrics[0].gauge: expected an object, got an array");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"gauge\":{\"dataPoints\":[{\"asDouble\":1,\"asInt\":1}]}}"),
                      "gauge.dataPoints[0]: a data point holds one value");
    jt_expect_invalid(
        M, REQ("{\"name\":\"x\",\"gauge\":{\"dataPoints\":[{\"asInt\":1.5}]}}"),
        "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asInt: expected an integer "
        "or a decimal string, got a fractional number");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"gauge\":{\"dataPoints\":[{\"asDouble\":\"fast\"}]}}"),
                      "gauge.dataPoints[0].asDouble: expected a number, got a non-numeric string");
    jt_expect_invalid(M,
                      REQ("{\"name\":\"x\",\"gauge\":{\"dataPoints\":[{\"as_double\":1,\"asDouble\":1}]}}"),
                      "gauge.dataPoints[0]: \"asDouble\" is given twice");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"sum\":{\"isMonotonic\":\"true\"}}"),
                      "metrics[0].sum.isMonotonic: expected a boolean, got a string");
    jt_expect_invalid(
        M, REQ("{\"name\":\"x\",\"sum\":{\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_DELTA\"}}"),
        "metrics[0].sum.aggregationTemporality: expected an integer (OTLP/JSON enums are integers)");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"histogram\":{\"dataPoints\":[{\"count\":-1}]}}"),
                      "histogram.dataPoints[0].count: expected a non-negative integer");
    jt_expect_invalid(M,
                      REQ("{\"name\":\"x\",\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[1,\"x\"]}]}}"),
                      "histogram.dataPoints[0].bucketCounts[1]: expected an integer or a decimal string");
    jt_expect_invalid(
        M, REQ("{\"name\":\"x\",\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[null]}]}}"),
        "histogram.dataPoints[0].bucketCounts[0]: expected an integer or a decimal string, got null");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"histogram\":{\"dataPoints\":[{\"explicitBounds\":[true]}]}}"),
                      "histogram.dataPoints[0].explicitBounds[0]: expected a number, got a boolean");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"histogram\":{\"dataPoints\":[{\"explicitBounds\":{}}]}}"),
                      "histogram.dataPoints[0].explicitBounds: expected an array");
    jt_expect_invalid(
        M, REQ("{\"name\":\"x\",\"histogram\":{\"dataPoints\":[{\"exemplars\":[{\"traceId\":\"q\"}]}]}}"),
        "histogram.dataPoints[0].exemplars[0].traceId: expected a hex string");
    jt_expect_invalid(
        M, REQ("{\"name\":\"x\",\"exponentialHistogram\":{\"dataPoints\":[{\"scale\":2147483648}]}}"),
        "exponentialHistogram.dataPoints[0].scale: integer out of range");
    jt_expect_invalid(M,
                      REQ("{\"name\":\"x\",\"exponentialHistogram\":{\"dataPoints\":[{\"positive\":[]}]}}"),
                      "exponentialHistogram.dataPoints[0].positive: expected an object");
    jt_expect_invalid(M,
                      REQ("{\"name\":\"x\",\"exponentialHistogram\":{\"dataPoints\":[{\"negative\":"
                          "{\"bucket_counts\":[],\"bucketCounts\":[]}}]}}"),
                      "exponentialHistogram.dataPoints[0].negative: \"bucketCounts\" is given twice");
    jt_expect_invalid(
        M, REQ("{\"name\":\"x\",\"summary\":{\"dataPoints\":[{\"quantileValues\":[{\"quantile\":\"a\"}]}]}}"),
        "summary.dataPoints[0].quantileValues[0].quantile: expected a number");
    jt_expect_invalid(
        M,
        REQ("{\"name\":\"x\",\"summary\":{\"dataPoints\":[{\"quantile_values\":[],\"quantileValues\":[]}"
            "]}}"),
        "summary.dataPoints[0]: \"quantileValues\" is given twice");
    jt_expect_invalid(M, REQ("{\"name\":7}"), "metrics[0].name: expected a string");
    jt_expect_invalid(M, REQ("{\"name\":\"x\",\"metadata\":[{\"key\":\"a\",\"value\":{\"intValue\":true}}]}"),
                      "metrics[0].metadata[0].value.intValue: expected an integer or a decimal string");
}

static void test_keys_of_other_types_are_ignored(void **state)
{
    (void)state;
    jt_t t;
    /* a gauge point has no count; a gauge has no temporality: unknown, ignored */
    jt_decode(&t, LO_SIGNAL_METRICS,
              REQ("{\"name\":\"g\",\"gauge\":{\"aggregationTemporality\":2,\"isMonotonic\":true,"
                  "\"dataPoints\":[{\"count\":\"x\",\"bucket_counts\":5,\"asInt\":1}]}}"));
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.samples[0].temporality, 0);
    assert_false(t.b.samples[0].monotonic);
    assert_true(t.b.samples[0].count == 0);
    jt_free(&t);
}

static void test_sdk_corpus(void **state)
{
    (void)state;
    const char *dir = "fuzz/corpus/fuzz_json_metrics";
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        /* every seed decodes; the SDK's bodies are checked record by record */
        bool sdk = strncmp(e->d_name, "sdk-", 4) == 0;
        char path[512];
        size_t n = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char *p = jt_read_file(path, &n);
        assert_non_null(p);
        jt_t t;
        lo_decode_opts_t o = { .max_depth = 32, .receive_ns = RECEIVE_NS };
        jt_decode_opts(&t, LO_SIGNAL_METRICS, p, n, &o);
        if (t.rc != LO_OK)
            fprintf(stderr, "%s: %s\n", path, t.b.error);
        assert_int_equal(t.rc, LO_OK);
        assert_true(t.b.n > 0);
        int types = 0;
        for (size_t i = 0; sdk && i < t.b.n; i++) {
            lo_sample_rec_t *s = &t.b.samples[i];
            assert_true(s->name.len > 0);
            assert_true(s->time_ns != 0 && s->time_ns != RECEIVE_NS);
            assert_false(lo_str_eq(s->env.service, "unknown_service"));
            assert_clean(s->labels);
            assert_clean(s->buckets);
            if (s->type == LO_METRIC_HISTOGRAM) {
                assert_true(s->buckets.len > 0);
                types |= 1;
            } else {
                assert_true(s->has_value);
                types |= 2;
            }
        }
        assert_true(!sdk || types != 0);
        jt_free(&t);
        free(p);
        files++;
    }
    closedir(d);
    assert_true(files >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gauge_and_sum),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_exponential_histogram),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_keys_of_other_types_are_ignored),
        cmocka_unit_test(test_sdk_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
