/*
 * test_json_equiv_traces.c — OTLP/JSON and protobuf give the same span
 * records, on the protobuf walker's own random requests (test_pb_traces.c,
 * included with its main renamed) and on the SDK corpus.
 */
#define main test_pb_traces_main
#include "test_pb_traces.c"
#undef main
#include "json_equiv.h"

/* A span's own ids must be well-formed in OTLP/JSON (a 400 otherwise), while
 * the protobuf walker keeps such a span without them: give every span valid
 * ids so that both accept it (and drop wrong-length parents, which the
 * protobuf walker ignores). */
/* What fix_ids replaced, so that a protobuf-c unpacked tree can be put back
 * before protobuf-c frees it. */
static struct {
    ProtobufCBinaryData *at, was;
} g_undo[4096];
static size_t g_nundo;

static void fix_ids(ProtobufCBinaryData *b, size_t n, bool required)
{
    if (g_nundo < LO_ARRAY_LEN(g_undo)) {
        g_undo[g_nundo].at = b;
        g_undo[g_nundo].was = *b;
        g_nundo++;
    }
    bool zero = true;
    for (size_t i = 0; i < b->len; i++)
        zero = zero && b->data[i] == 0;
    if (b->len == n && !zero)
        return;
    if (!required && (b->len == n || b->len == 0))
        return;
    if (!required) {
        b->len = 0;
        return;
    }
    b->len = n;
    b->data = palloc(n);
    for (size_t i = 0; i < n; i++)
        b->data[i] = (uint8_t)(i + 1);
}

static void fix_request(LookoutTest__ExportTraceServiceRequest *q)
{
    for (size_t i = 0; i < q->n_resource_spans; i++)
        for (size_t j = 0; j < q->resource_spans[i]->n_scope_spans; j++) {
            LookoutTest__ScopeSpans *ss = q->resource_spans[i]->scope_spans[j];
            for (size_t k = 0; k < ss->n_spans; k++) {
                fix_ids(&ss->spans[k]->trace_id, 16, true);
                fix_ids(&ss->spans[k]->span_id, 8, true);
                fix_ids(&ss->spans[k]->parent_span_id, 8, false);
            }
        }
}

static void test_random_requests_equal(void **state)
{
    (void)state;
    lo_redact_t *red = eq_redactor();
    g_rng = 0x7654321ULL;
    for (int iter = 0; iter < 400; iter++) {
        LookoutTest__ExportTraceServiceRequest *q = rnd_traces_req();
        g_nundo = 0; /* a pool tree: nothing to put back */
        fix_request(q);
        lo_decode_opts_t o = { .max_depth = 32,
                               .receive_ns = 1600000000000000000LL,
                               .redact = iter % 2 ? red : NULL };
        assert_int_equal(eq_check(LO_SIGNAL_SPANS, &q->base, &o), LO_OK);
        pool_free();
        if (g_eq_bad != 0)
            fail_msg("iteration %d differs", iter);
    }
    lo_redact_destroy(red);
    g_frag_secrets = false;
    assert_true(g_eq_records > 1000);
    assert_true(g_eq_scrubbed > 20); /* the scrubbing was exercised */
}

static ProtobufCMessage *eq_wrap_span(LookoutTest__KeyValue *kv)
{
    static uint8_t tid[16] = { 1 }, sid[8] = { 2 };
    LookoutTest__Span *s = PNEW(LookoutTest__Span, LOOKOUT_TEST__SPAN__INIT);
    s->trace_id.data = tid;
    s->trace_id.len = 16;
    s->span_id.data = sid;
    s->span_id.len = 8;
    /* the nested value sits in an event's attributes */
    LookoutTest__Span__Event *e = PNEW(LookoutTest__Span__Event, LOOKOUT_TEST__SPAN__EVENT__INIT);
    e->n_attributes = 1;
    e->attributes = PARR(LookoutTest__KeyValue *, 1);
    e->attributes[0] = kv;
    s->n_events = 1;
    s->events = PARR(LookoutTest__Span__Event *, 1);
    s->events[0] = e;
    LookoutTest__ScopeSpans *ss = PNEW(LookoutTest__ScopeSpans, LOOKOUT_TEST__SCOPE_SPANS__INIT);
    ss->n_spans = 1;
    ss->spans = PARR(LookoutTest__Span *, 1);
    ss->spans[0] = s;
    LookoutTest__ResourceSpans *rs = PNEW(LookoutTest__ResourceSpans, LOOKOUT_TEST__RESOURCE_SPANS__INIT);
    rs->n_scope_spans = 1;
    rs->scope_spans = PARR(LookoutTest__ScopeSpans *, 1);
    rs->scope_spans[0] = ss;
    LookoutTest__ExportTraceServiceRequest *q =
        PNEW(LookoutTest__ExportTraceServiceRequest, LOOKOUT_TEST__EXPORT_TRACE_SERVICE_REQUEST__INIT);
    q->n_resource_spans = 1;
    q->resource_spans = PARR(LookoutTest__ResourceSpans *, 1);
    q->resource_spans[0] = rs;
    return &q->base;
}

static void test_depth_bound_equal(void **state)
{
    (void)state;
    eq_depth_bound(LO_SIGNAL_SPANS, eq_wrap_span);
    pool_free();
}

static void corpus_equal(const uint8_t *p, size_t n, const char *name)
{
    LookoutTest__ExportTraceServiceRequest *u =
        lookout_test__export_trace_service_request__unpack(NULL, n, p);
    assert_non_null(u);
    g_nundo = 0;
    fix_request(u);
    assert_true(g_nundo < LO_ARRAY_LEN(g_undo));
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = 1600000000000000000LL };
    assert_int_equal(eq_check(LO_SIGNAL_SPANS, &u->base, &o), LO_OK);
    while (g_nundo > 0) {
        g_nundo--;
        *g_undo[g_nundo].at = g_undo[g_nundo].was;
    }
    pool_free();
    if (g_eq_bad != 0)
        fail_msg("%s differs", name);
    lookout_test__export_trace_service_request__free_unpacked(u, NULL);
}

static void test_corpus_equal(void **state)
{
    (void)state;
    assert_true(corpus_each("fuzz/corpus/fuzz_pb_traces", corpus_equal) > 0);
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
