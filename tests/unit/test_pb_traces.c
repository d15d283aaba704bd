/*
 * test_pb_traces.c — the protobuf walker against protobuf-c for spans:
 * ids, kinds, times, status, events and links, absent optionals.
 */
#include "pb_corpus.h"
#include "pb_oracle.h"

static LookoutTest__Span *rnd_span(void)
{
    LookoutTest__Span *s = PNEW(LookoutTest__Span, LOOKOUT_TEST__SPAN__INIT);
    s->trace_id = rnd_id_valid(16);
    s->span_id = rnd_id_valid(8);
    s->parent_span_id = rnd_id_ok(8);
    if (coin(30))
        s->trace_state = coin(50) ? pstrdup("rojo=00f067aa0ba902b7") : rnd_str();
    if (coin(90))
        s->name = rnd_str();
    s->kind = coin(90) ? (int32_t)rndn(6) : (int32_t)rnd();
    s->start_time_unix_nano = rnd_time();
    s->end_time_unix_nano = rnd_time();
    s->attributes = rnd_attrs(&s->n_attributes, 8);
    s->dropped_attributes_count = coin(10) ? (uint32_t)rnd() : 0;
    s->n_events = coin(50) ? rndn(4) : 0;
    s->events = PARR(LookoutTest__Span__Event *, s->n_events);
    for (size_t i = 0; i < s->n_events; i++) {
        LookoutTest__Span__Event *e = PNEW(LookoutTest__Span__Event, LOOKOUT_TEST__SPAN__EVENT__INIT);
        e->time_unix_nano = rnd_time();
        if (coin(80))
            e->name = coin(50) ? pstrdup("exception") : rnd_str();
        e->attributes = rnd_attrs(&e->n_attributes, 3);
        e->dropped_attributes_count = coin(10) ? rndn(9) : 0;
        s->events[i] = e;
    }
    s->dropped_events_count = coin(10) ? rndn(100) : 0;
    s->n_links = coin(30) ? rndn(3) : 0;
    s->links = PARR(LookoutTest__Span__Link *, s->n_links);
    for (size_t i = 0; i < s->n_links; i++) {
        LookoutTest__Span__Link *l = PNEW(LookoutTest__Span__Link, LOOKOUT_TEST__SPAN__LINK__INIT);
        l->trace_id = rnd_id(16);
        l->span_id = rnd_id(8);
        if (coin(30))
            l->trace_state = rnd_str();
        l->attributes = rnd_attrs(&l->n_attributes, 2);
        l->dropped_attributes_count = coin(10) ? rndn(9) : 0;
        l->flags = coin(30) ? (uint32_t)rnd() : 0;
        s->links[i] = l;
    }
    s->dropped_links_count = coin(10) ? rndn(100) : 0;
    if (coin(70)) {
        s->status = PNEW(LookoutTest__Status, LOOKOUT_TEST__STATUS__INIT);
        s->status->code = coin(90) ? (int32_t)rndn(3) : (int32_t)rnd();
        if (coin(40))
            s->status->message = rnd_str();
    }
    s->flags = coin(30) ? (uint32_t)rnd() : 0;
    return s;
}

static LookoutTest__ExportTraceServiceRequest *rnd_traces_req(void)
{
    LookoutTest__ExportTraceServiceRequest *q =
        PNEW(LookoutTest__ExportTraceServiceRequest, LOOKOUT_TEST__EXPORT_TRACE_SERVICE_REQUEST__INIT);
    q->n_resource_spans = rndn(3) + (coin(90) ? 1 : 0);
    q->resource_spans = PARR(LookoutTest__ResourceSpans *, q->n_resource_spans);
    for (size_t i = 0; i < q->n_resource_spans; i++) {
        LookoutTest__ResourceSpans *rs = PNEW(LookoutTest__ResourceSpans, LOOKOUT_TEST__RESOURCE_SPANS__INIT);
        rs->resource = rnd_resource();
        rs->n_scope_spans = rndn(3) + 1;
        rs->scope_spans = PARR(LookoutTest__ScopeSpans *, rs->n_scope_spans);
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            LookoutTest__ScopeSpans *ss = PNEW(LookoutTest__ScopeSpans, LOOKOUT_TEST__SCOPE_SPANS__INIT);
            ss->scope = rnd_scope();
            ss->n_spans = rndn(5);
            ss->spans = PARR(LookoutTest__Span *, ss->n_spans);
            for (size_t k = 0; k < ss->n_spans; k++)
                ss->spans[k] = rnd_span();
            rs->scope_spans[j] = ss;
        }
        q->resource_spans[i] = rs;
    }
    return q;
}

static void exp_events(lo_buf_t *out, const LookoutTest__Span *s)
{
    lo_jw_t w;
    lo_buf_reset(out);
    lo_jw_init(&w, out);
    lo_jw_arr_begin(&w);
    for (size_t i = 0; i < s->n_events; i++) {
        const LookoutTest__Span__Event *e = s->events[i];
        lo_jw_obj_begin(&w);
        lo_jw_key(&w, "time_unix_nano", 14);
        lo_jw_u64(&w, e->time_unix_nano);
        lo_jw_key(&w, "name", 4);
        lo_jw_cstr(&w, e->name);
        lo_jw_key(&w, "attributes", 10);
        lo_jw_obj_begin(&w);
        for (size_t k = 0; k < e->n_attributes; k++)
            exp_kv(&w, e->attributes[k], NULL);
        lo_jw_obj_end(&w);
        lo_jw_key(&w, "dropped_attributes_count", 24);
        lo_jw_u64(&w, e->dropped_attributes_count);
        lo_jw_obj_end(&w);
    }
    lo_jw_arr_end(&w);
}

static void exp_links(lo_buf_t *out, const LookoutTest__Span *s)
{
    lo_jw_t w;
    lo_buf_reset(out);
    lo_jw_init(&w, out);
    lo_jw_arr_begin(&w);
    for (size_t i = 0; i < s->n_links; i++) {
        const LookoutTest__Span__Link *l = s->links[i];
        lo_jw_obj_begin(&w);
        lo_jw_key(&w, "trace_id", 8);
        lo_jw_hex(&w, l->trace_id.data, l->trace_id.len);
        lo_jw_key(&w, "span_id", 7);
        lo_jw_hex(&w, l->span_id.data, l->span_id.len);
        lo_jw_key(&w, "trace_state", 11);
        lo_jw_cstr(&w, l->trace_state);
        lo_jw_key(&w, "attributes", 10);
        lo_jw_obj_begin(&w);
        for (size_t k = 0; k < l->n_attributes; k++)
            exp_kv(&w, l->attributes[k], NULL);
        lo_jw_obj_end(&w);
        lo_jw_key(&w, "flags", 5);
        lo_jw_u64(&w, l->flags);
        lo_jw_obj_end(&w);
    }
    lo_jw_arr_end(&w);
}

static void check_traces(const LookoutTest__ExportTraceServiceRequest *q, const lo_otlp_batch_t *b)
{
    lo_buf_t res_json, svc, attrs, ev, ln;
    lo_buf_init(&res_json, 0);
    lo_buf_init(&svc, 0);
    lo_buf_init(&attrs, 0);
    lo_buf_init(&ev, 0);
    lo_buf_init(&ln, 0);
    size_t n = 0;
    for (size_t i = 0; i < q->n_resource_spans; i++) {
        const LookoutTest__ResourceSpans *rs = q->resource_spans[i];
        lo_env_cand_t rc;
        res_cand(rs->resource, &rc, &res_json, &svc);
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const LookoutTest__ScopeSpans *ss = rs->scope_spans[j];
            lo_env_cand_t sc;
            scope_cand(ss->scope, &sc);
            for (size_t k = 0; k < ss->n_spans; k++) {
                const LookoutTest__Span *s = ss->spans[k];
                assert_true(n < b->n);
                const lo_span_rec_t *g = &b->spans[n++];
                lo_env_cand_t cand = { 0 };
                exp_attrs(&attrs, s->attributes, s->n_attributes, &cand, NULL);
                assert_str_buf(g->attributes, &attrs, "attributes");
                assert_str_buf(g->resource, &res_json, "resource");
                exp_events(&ev, s);
                assert_str_buf(g->events, &ev, "events");
                exp_links(&ln, s);
                assert_str_buf(g->links, &ln, "links");
                assert_text(g->name, s->name, "name");
                assert_text(g->trace_state, s->trace_state, "trace_state");
                assert_int_equal(g->kind, s->kind >= 0 && s->kind <= 5 ? s->kind : 0);
                assert_int_equal(g->start_ns, (int64_t)s->start_time_unix_nano);
                assert_int_equal(g->end_ns, (int64_t)s->end_time_unix_nano);
                assert_int_equal(g->has_parent, id_ok(s->parent_span_id, 8));
                if (g->has_parent)
                    assert_memory_equal(g->parent_span_id, s->parent_span_id.data, 8);
                if (s->status != NULL) {
                    assert_int_equal(g->status_code,
                                     s->status->code >= 0 && s->status->code <= 2 ? s->status->code : 0);
                    assert_text(g->status_message, s->status->message, "status_message");
                } else {
                    assert_int_equal(g->status_code, 0);
                    assert_str_eq(g->status_message, "", 0, "status_message");
                }
                assert_int_equal(g->flags, s->flags);
                assert_int_equal(g->dropped_attributes_count, s->dropped_attributes_count);
                assert_int_equal(g->dropped_events_count, s->dropped_events_count);
                assert_int_equal(g->dropped_links_count, s->dropped_links_count);
                assert_text(g->scope_name, ss->scope ? ss->scope->name : "", "scope_name");
                assert_text(g->scope_version, ss->scope ? ss->scope->version : "", "scope_version");
                lo_envelope_t env;
                memset(&env, 0, sizeof(env));
                if (id_ok(s->trace_id, 16)) {
                    env.has_trace_id = true;
                    memcpy(env.trace_id, s->trace_id.data, 16);
                }
                if (id_ok(s->span_id, 8)) {
                    env.has_span_id = true;
                    memcpy(env.span_id, s->span_id.data, 8);
                }
                lo_envelope_build(&env, &cand, &sc, &rc);
                assert_env(&g->env, &env);
            }
        }
    }
    assert_int_equal(n, b->n);
    lo_buf_free(&res_json);
    lo_buf_free(&svc);
    lo_buf_free(&attrs);
    lo_buf_free(&ev);
    lo_buf_free(&ln);
}

static void test_random_requests(void **state)
{
    (void)state;
    lo_redact_t *red = lo_redact_create("password,authorization,cookie,token");
    for (int iter = 0; iter < 300; iter++) {
        g_redact = iter % 2 ? red : NULL;
        LookoutTest__ExportTraceServiceRequest *q = rnd_traces_req();
        size_t n;
        uint8_t *p = pack_msg(&q->base, &n);
        dec_t d = { 0 };
        int rc = dec_run(&d, LO_SIGNAL_SPANS, p, n);
        if (rc != LO_OK)
            print_error("decode: %s\n", d.b.error);
        assert_int_equal(rc, LO_OK);
        LookoutTest__ExportTraceServiceRequest *u =
            lookout_test__export_trace_service_request__unpack(NULL, n, p);
        assert_non_null(u);
        check_traces(u, &d.b);
        lookout_test__export_trace_service_request__free_unpacked(u, NULL);
        dec_free(&d);
        free(p);
        pool_free();
    }
    g_redact = NULL;
    lo_redact_destroy(red);
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    for (int iter = 0; iter < 5; iter++) {
        LookoutTest__ExportTraceServiceRequest *q = rnd_traces_req();
        size_t n;
        uint8_t *p = pack_msg(&q->base, &n);
        for (size_t cut = 0; cut < n; cut++) {
            dec_t d = { 0 };
            int rc = dec_run(&d, LO_SIGNAL_SPANS, p, cut);
            LookoutTest__ExportTraceServiceRequest *u =
                lookout_test__export_trace_service_request__unpack(NULL, cut, p);
            if (u == NULL) {
                assert_int_equal(rc, LO_INVALID);
                assert_true(d.b.error[0] != '\0');
            } else {
                assert_int_equal(rc, LO_OK);
                check_traces(u, &d.b);
                lookout_test__export_trace_service_request__free_unpacked(u, NULL);
            }
            dec_free(&d);
        }
        free(p);
        pool_free();
    }
}

static void wrap_span(wbuf_t *out, const wbuf_t *span)
{
    wbuf_t ss = { .n = 0 }, rs = { .n = 0 };
    w_sub(&ss, 2, span);
    w_sub(&rs, 2, &ss);
    out->n = 0;
    w_sub(out, 1, &rs);
}

/* Valid trace and span ids, for hand-made spans. */
static void w_ids(wbuf_t *sp)
{
    static const uint8_t tid[16] = { 0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const uint8_t sid[8] = { 0xcd, 1, 2, 3, 4, 5, 6, 7 };
    w_bytes(sp, 1, tid, sizeof(tid));
    w_bytes(sp, 2, sid, sizeof(sid));
}

static void expect_span_invalid(const wbuf_t *sp, const char *needle)
{
    wbuf_t body;
    dec_t d = { 0 };
    wrap_span(&body, sp);
    assert_int_equal(dec_run(&d, LO_SIGNAL_SPANS, body.p, body.n), LO_INVALID);
    if (strstr(d.b.error, needle) == NULL) {
        print_error("error '%s' lacks '%s'\n", d.b.error, needle);
        fail();
    }
    dec_free(&d);
}

/* A span whose ids are wrong is decoded, flagged for admission to refuse
 * (the rest of its request is kept). */
static void expect_span_malformed(const wbuf_t *sp, const char *needle)
{
    wbuf_t body;
    dec_t d = { 0 };
    wrap_span(&body, sp);
    assert_int_equal(dec_run(&d, LO_SIGNAL_SPANS, body.p, body.n), LO_OK);
    assert_int_equal(d.b.n, 1);
    const char *why = d.b.spans[0].env.malformed;
    if (why == NULL || strstr(why, needle) == NULL) {
        print_error("malformed '%s' lacks '%s'\n", why ? why : "(none)", needle);
        fail();
    }
    dec_free(&d);
}

static void test_errors_and_absent_parts(void **state)
{
    (void)state;
    wbuf_t sp = { .n = 0 }, ev = { .n = 0 }, body;
    dec_t d = { 0 };
    /* an event whose name has the wrong wire type */
    w_ids(&sp);
    w_fixed64(&ev, 2, 1);
    w_bytes(&sp, 5, "op", 2);
    w_sub(&sp, 11, &ev);
    expect_span_invalid(&sp, "resource_spans[0].scope_spans[0].spans[0].events[0]: field 2");
    /* a span with its ids and nothing else: every other part absent */
    sp.n = 0;
    w_ids(&sp);
    wrap_span(&body, &sp);
    assert_int_equal(dec_run(&d, LO_SIGNAL_SPANS, body.p, body.n), LO_OK);
    assert_int_equal(d.b.n, 1);
    const lo_span_rec_t *s = &d.b.spans[0];
    assert_true(lo_str_eq(s->attributes, "{}"));
    assert_true(lo_str_eq(s->events, "[]"));
    assert_true(lo_str_eq(s->links, "[]"));
    assert_true(lo_str_eq(s->name, ""));
    assert_true(lo_str_eq(s->status_message, ""));
    assert_int_equal(s->status_code, 0);
    assert_true(s->env.has_trace_id);
    assert_int_equal(s->env.trace_id[0], 0xab);
    assert_true(s->env.has_span_id);
    assert_false(s->has_parent);
    assert_true(lo_str_eq(s->env.service, "unknown_service"));
    dec_free(&d);
}

/* A span's own ids are its identity, as in the OTLP/JSON decoder. */
static void test_span_ids(void **state)
{
    (void)state;
    static const uint8_t zero16[16], zero8[8], id17[17] = { 1 }, id7[7] = { 1 }, sid[8] = { 1 },
                                               tid[16] = { 1 };
    wbuf_t sp = { .n = 0 }, body;
    dec_t d = { 0 };
    expect_span_malformed(&sp, "a span without a trace id");
    w_bytes(&sp, 1, zero16, sizeof(zero16));
    w_bytes(&sp, 2, sid, sizeof(sid));
    expect_span_malformed(&sp, "a span without a trace id");
    sp.n = 0;
    w_bytes(&sp, 1, id17, sizeof(id17));
    w_bytes(&sp, 2, sid, sizeof(sid));
    expect_span_malformed(&sp, "a trace id that is not 16 bytes");
    sp.n = 0;
    w_bytes(&sp, 1, tid, sizeof(tid));
    expect_span_malformed(&sp, "a span without a span id");
    w_bytes(&sp, 2, id7, sizeof(id7));
    expect_span_malformed(&sp, "a span id that is not 8 bytes");
    sp.n = 0;
    w_bytes(&sp, 1, tid, sizeof(tid));
    w_bytes(&sp, 2, sid, sizeof(sid));
    w_bytes(&sp, 4, id7, sizeof(id7));
    expect_span_malformed(&sp, "a parent span id that is not 8 bytes");
    /* an all-zero or empty parent is "no parent" */
    sp.n = 0;
    w_bytes(&sp, 1, tid, sizeof(tid));
    w_bytes(&sp, 2, sid, sizeof(sid));
    w_bytes(&sp, 4, zero8, sizeof(zero8));
    wrap_span(&body, &sp);
    assert_int_equal(dec_run(&d, LO_SIGNAL_SPANS, body.p, body.n), LO_OK);
    assert_false(d.b.spans[0].has_parent);
    dec_free(&d);
    /* link ids are kept as given, whatever their length */
    wbuf_t ln = { .n = 0 };
    w_bytes(&ln, 1, id7, sizeof(id7));
    w_sub(&sp, 13, &ln);
    wrap_span(&body, &sp);
    assert_int_equal(dec_run(&d, LO_SIGNAL_SPANS, body.p, body.n), LO_OK);
    assert_true(lo_str_eq(d.b.spans[0].links, "[{\"trace_id\":\"01000000000000\",\"span_id\":\"\","
                                              "\"trace_state\":\"\",\"attributes\":{},\"flags\":0}]"));
    dec_free(&d);
}

static void corpus_one(const uint8_t *p, size_t n, const char *name)
{
    LookoutTest__ExportTraceServiceRequest *u =
        lookout_test__export_trace_service_request__unpack(NULL, n, p);
    if (u == NULL)
        return;
    dec_t d = { 0 };
    int rc = dec_run(&d, LO_SIGNAL_SPANS, p, n);
    if (rc != LO_OK)
        print_error("%s: %s\n", name, d.b.error);
    assert_int_equal(rc, LO_OK);
    check_traces(u, &d.b);
    lookout_test__export_trace_service_request__free_unpacked(u, NULL);
    dec_free(&d);
}

static void test_corpus(void **state)
{
    (void)state;
    int n = corpus_each("fuzz/corpus/fuzz_pb_traces", corpus_one);
    print_message("corpus: %d traces bodies\n", n);
}

static const ProtobufCMessage *gen_seed(void)
{
    return &rnd_traces_req()->base;
}

static void test_seeds(void **state)
{
    (void)state;
    corpus_write_seeds("fuzz_pb_traces", gen_seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_requests),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_errors_and_absent_parts),
        cmocka_unit_test(test_span_ids),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
