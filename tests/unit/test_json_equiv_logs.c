/*
 * test_json_equiv_logs.c — OTLP/JSON and protobuf give the same log records.
 * The random requests are the protobuf walker's own test generators
 * (test_pb_logs.c, included with its main renamed), so both decoders are
 * held to one independent oracle.
 */
#define main test_pb_logs_main
#include "test_pb_logs.c"
#undef main
#include "json_equiv.h"

/* OTLP/JSON refuses ids of the wrong length (400) where the protobuf walker
 * ignores them: drop those so that both accept the record. */
static void fix_request(LookoutTest__ExportLogsServiceRequest *q)
{
    for (size_t i = 0; i < q->n_resource_logs; i++)
        for (size_t j = 0; j < q->resource_logs[i]->n_scope_logs; j++) {
            LookoutTest__ScopeLogs *sl = q->resource_logs[i]->scope_logs[j];
            for (size_t k = 0; k < sl->n_log_records; k++) {
                if (sl->log_records[k]->trace_id.len != 16)
                    sl->log_records[k]->trace_id.len = 0;
                if (sl->log_records[k]->span_id.len != 8)
                    sl->log_records[k]->span_id.len = 0;
            }
        }
}

static void test_random_requests_equal(void **state)
{
    (void)state;
    lo_redact_t *red = eq_redactor();
    g_rng = 0x1234567ULL;
    for (int iter = 0; iter < 400; iter++) {
        LookoutTest__ExportLogsServiceRequest *q = rnd_logs_req();
        fix_request(q);
        lo_decode_opts_t o = { .max_depth = 32,
                               .receive_ns = 1600000000000000000LL,
                               .redact = iter % 2 ? red : NULL };
        assert_int_equal(eq_check(LO_SIGNAL_LOGS, &q->base, &o), LO_OK);
        pool_free();
        if (g_eq_bad != 0)
            fail_msg("iteration %d differs", iter);
    }
    lo_redact_destroy(red);
    g_frag_secrets = false;
    assert_true(g_eq_records > 1000);
    assert_true(g_eq_scrubbed > 20); /* the scrubbing was exercised */
}

static ProtobufCMessage *eq_wrap_log(LookoutTest__KeyValue *kv)
{
    LookoutTest__LogRecord *r = PNEW(LookoutTest__LogRecord, LOOKOUT_TEST__LOG_RECORD__INIT);
    r->n_attributes = 1;
    r->attributes = PARR(LookoutTest__KeyValue *, 1);
    r->attributes[0] = kv;
    LookoutTest__ScopeLogs *sl = PNEW(LookoutTest__ScopeLogs, LOOKOUT_TEST__SCOPE_LOGS__INIT);
    sl->n_log_records = 1;
    sl->log_records = PARR(LookoutTest__LogRecord *, 1);
    sl->log_records[0] = r;
    LookoutTest__ResourceLogs *rl = PNEW(LookoutTest__ResourceLogs, LOOKOUT_TEST__RESOURCE_LOGS__INIT);
    rl->n_scope_logs = 1;
    rl->scope_logs = PARR(LookoutTest__ScopeLogs *, 1);
    rl->scope_logs[0] = sl;
    LookoutTest__ExportLogsServiceRequest *q =
        PNEW(LookoutTest__ExportLogsServiceRequest, LOOKOUT_TEST__EXPORT_LOGS_SERVICE_REQUEST__INIT);
    q->n_resource_logs = 1;
    q->resource_logs = PARR(LookoutTest__ResourceLogs *, 1);
    q->resource_logs[0] = rl;
    return &q->base;
}

static void test_depth_bound_equal(void **state)
{
    (void)state;
    eq_depth_bound(LO_SIGNAL_LOGS, eq_wrap_log);
    pool_free();
}

/* The SDK's protobuf corpus, re-spelled as OTLP/JSON. */
static void corpus_equal(const uint8_t *p, size_t n, const char *name)
{
    LookoutTest__ExportLogsServiceRequest *u = lookout_test__export_logs_service_request__unpack(NULL, n, p);
    assert_non_null(u);
    fix_request(u);
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = 1600000000000000000LL };
    assert_int_equal(eq_check(LO_SIGNAL_LOGS, &u->base, &o), LO_OK);
    if (g_eq_bad != 0)
        fail_msg("%s differs", name);
    lookout_test__export_logs_service_request__free_unpacked(u, NULL);
}

static void test_corpus_equal(void **state)
{
    (void)state;
    assert_true(corpus_each("fuzz/corpus/fuzz_pb_logs", corpus_equal) > 0);
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
