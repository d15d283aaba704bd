/*
 * test_pb_response.c — the protobuf response encoders, read back with
 * protobuf-c.
 */
#include "pb_oracle.h"

static void test_empty_when_nothing_rejected(void **state)
{
    (void)state;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        lo_buf_reset(&b);
        assert_int_equal(lo_otlp_pb_response((lo_signal_t)s, 0, NULL, &b), LO_OK);
        assert_int_equal(b.len, 0);
        assert_int_equal(lo_otlp_pb_response((lo_signal_t)s, 0, "ignored", &b), LO_OK);
        assert_int_equal(b.len, 0);
    }
    lo_buf_free(&b);
}

static void test_partial_success(void **state)
{
    (void)state;
    static const int64_t counts[] = { 1, 127, 128, 300, 1LL << 40, INT64_MAX };
    lo_buf_t b;
    lo_buf_init(&b, 0);
    for (size_t i = 0; i < LO_ARRAY_LEN(counts); i++) {
        const char *msg = i % 2 ? "3 records claim a project the token is not bound to" : NULL;
        lo_buf_reset(&b);
        assert_int_equal(lo_otlp_pb_response(LO_SIGNAL_LOGS, counts[i], msg, &b), LO_OK);
        LookoutTest__ExportLogsServiceResponse *l =
            lookout_test__export_logs_service_response__unpack(NULL, b.len, (const uint8_t *)b.p);
        assert_non_null(l);
        assert_non_null(l->partial_success);
        assert_int_equal(l->partial_success->rejected_log_records, counts[i]);
        assert_string_equal(l->partial_success->error_message, msg ? msg : "");
        lookout_test__export_logs_service_response__free_unpacked(l, NULL);

        lo_buf_reset(&b);
        assert_int_equal(lo_otlp_pb_response(LO_SIGNAL_SPANS, counts[i], msg, &b), LO_OK);
        LookoutTest__ExportTraceServiceResponse *t =
            lookout_test__export_trace_service_response__unpack(NULL, b.len, (const uint8_t *)b.p);
        assert_non_null(t);
        assert_non_null(t->partial_success);
        assert_int_equal(t->partial_success->rejected_spans, counts[i]);
        lookout_test__export_trace_service_response__free_unpacked(t, NULL);

        lo_buf_reset(&b);
        assert_int_equal(lo_otlp_pb_response(LO_SIGNAL_METRICS, counts[i], msg, &b), LO_OK);
        LookoutTest__ExportMetricsServiceResponse *m =
            lookout_test__export_metrics_service_response__unpack(NULL, b.len, (const uint8_t *)b.p);
        assert_non_null(m);
        assert_non_null(m->partial_success);
        assert_int_equal(m->partial_success->rejected_data_points, counts[i]);
        assert_string_equal(m->partial_success->error_message, msg ? msg : "");
        lookout_test__export_metrics_service_response__free_unpacked(m, NULL);
    }
    lo_buf_free(&b);
}

static void test_status(void **state)
{
    (void)state;
    static const int32_t codes[] = { 3, 7, 8, 14, 16, 0, -1 };
    char longmsg[300];
    memset(longmsg, 'x', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    lo_buf_t b;
    lo_buf_init(&b, 0);
    for (size_t i = 0; i < LO_ARRAY_LEN(codes); i++) {
        const char *msg = i % 3 == 0 ? "resource_logs[0]: truncated field 5" : i % 3 == 1 ? longmsg : NULL;
        lo_buf_reset(&b);
        assert_int_equal(lo_otlp_pb_status(codes[i], msg, &b), LO_OK);
        LookoutTest__RpcStatus *st = lookout_test__rpc_status__unpack(NULL, b.len, (const uint8_t *)b.p);
        assert_non_null(st);
        assert_int_equal(st->code, codes[i]);
        assert_string_equal(st->message, msg ? msg : "");
        lookout_test__rpc_status__free_unpacked(st, NULL);
    }
    lo_buf_free(&b);
}

static void test_buffer_limit(void **state)
{
    (void)state;
    lo_buf_t b;
    lo_buf_init(&b, 8);
    assert_int_not_equal(lo_otlp_pb_status(3, "a message longer than eight bytes", &b), LO_OK);
    lo_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_when_nothing_rejected),
        cmocka_unit_test(test_partial_success),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_buffer_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
