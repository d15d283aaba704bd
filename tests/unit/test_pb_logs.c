/*
 * test_pb_logs.c — the protobuf walker against protobuf-c for logs: random
 * requests must decode to the records the protobuf-c tree implies; broken
 * bodies must be refused cleanly.
 */
#include "pb_oracle.h"
#include "pb_corpus.h"

static LookoutTest__LogRecord *rnd_log(void)
{
    LookoutTest__LogRecord *r = PNEW(LookoutTest__LogRecord, LOOKOUT_TEST__LOG_RECORD__INIT);
    r->time_unix_nano = rnd_time();
    r->observed_time_unix_nano = rnd_time();
    r->severity_number = coin(70) ? (int32_t)rndn(26) : (int32_t)rnd();
    if (coin(60))
        r->severity_text = coin(50) ? pstrdup(coin(50) ? "WARNING" : "Info") : rnd_str();
    if (coin(90)) {
        if (coin(60)) {
            r->body = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
            r->body->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
            r->body->string_value = rnd_str();
        } else {
            r->body = rnd_any(0);
        }
    }
    r->attributes = rnd_attrs(&r->n_attributes, 8);
    r->dropped_attributes_count = coin(20) ? (uint32_t)rnd() : 0;
    r->flags = coin(30) ? (uint32_t)rnd() : 0;
    r->trace_id = rnd_id_ok(16);
    r->span_id = rnd_id_ok(8);
    if (coin(20))
        r->event_name = rnd_str();
    return r;
}

static LookoutTest__ExportLogsServiceRequest *rnd_logs_req(void)
{
    LookoutTest__ExportLogsServiceRequest *q =
        PNEW(LookoutTest__ExportLogsServiceRequest, LOOKOUT_TEST__EXPORT_LOGS_SERVICE_REQUEST__INIT);
    q->n_resource_logs = rndn(3) + (coin(90) ? 1 : 0);
    q->resource_logs = PARR(LookoutTest__ResourceLogs *, q->n_resource_logs);
    for (size_t i = 0; i < q->n_resource_logs; i++) {
        LookoutTest__ResourceLogs *rl = PNEW(LookoutTest__ResourceLogs, LOOKOUT_TEST__RESOURCE_LOGS__INIT);
        rl->resource = rnd_resource();
        rl->n_scope_logs = rndn(3) + 1;
        rl->scope_logs = PARR(LookoutTest__ScopeLogs *, rl->n_scope_logs);
        if (coin(20))
            rl->schema_url = pstrdup("https://opentelemetry.io/schemas/1.24.0");
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            LookoutTest__ScopeLogs *sl = PNEW(LookoutTest__ScopeLogs, LOOKOUT_TEST__SCOPE_LOGS__INIT);
            sl->scope = rnd_scope();
            sl->n_log_records = rndn(5);
            sl->log_records = PARR(LookoutTest__LogRecord *, sl->n_log_records);
            for (size_t k = 0; k < sl->n_log_records; k++)
                sl->log_records[k] = rnd_log();
            rl->scope_logs[j] = sl;
        }
        q->resource_logs[i] = rl;
    }
    return q;
}

static lo_str_t exp_level(int32_t sev, const char *text, lo_arena_t *a, lo_buf_t *keep)
{
    lo_str_t t = exp_text(text, strlen(text), keep);
    return lo_log_level(sev, t, a);
}

/* Checks the decoded batch against the protobuf-c tree. */
static void check_logs(const LookoutTest__ExportLogsServiceRequest *q, const lo_otlp_batch_t *b)
{
    lo_buf_t res_json, svc, attrs, body, keep;
    lo_buf_init(&res_json, 0);
    lo_buf_init(&svc, 0);
    lo_buf_init(&attrs, 0);
    lo_buf_init(&body, 0);
    lo_buf_init(&keep, 0);
    lo_arena_t *a = lo_arena_create(4096, 0);
    size_t n = 0;
    for (size_t i = 0; i < q->n_resource_logs; i++) {
        const LookoutTest__ResourceLogs *rl = q->resource_logs[i];
        lo_env_cand_t rc;
        res_cand(rl->resource, &rc, &res_json, &svc);
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            const LookoutTest__ScopeLogs *sl = rl->scope_logs[j];
            lo_env_cand_t sc;
            scope_cand(sl->scope, &sc);
            for (size_t k = 0; k < sl->n_log_records; k++) {
                const LookoutTest__LogRecord *r = sl->log_records[k];
                assert_true(n < b->n);
                const lo_log_rec_t *g = &b->logs[n++];
                lo_env_cand_t cand = { 0 };
                exp_attrs(&attrs, r->attributes, r->n_attributes, &cand, NULL);
                assert_str_buf(g->attributes, &attrs, "attributes");
                assert_str_buf(g->resource, &res_json, "resource");
                int64_t t = r->time_unix_nano            ? (int64_t)r->time_unix_nano
                            : r->observed_time_unix_nano ? (int64_t)r->observed_time_unix_nano
                                                         : TEST_RECEIVE_NS;
                assert_int_equal(g->time_ns, t);
                assert_int_equal(g->observed_ns, (int64_t)r->observed_time_unix_nano);
                assert_int_equal(g->severity_number, r->severity_number);
                assert_text(g->severity_text, r->severity_text, "severity_text");
                lo_str_t lv = exp_level(r->severity_number, r->severity_text, a, &keep);
                assert_str_eq(g->level, lv.p, lv.len, "level");
                if (r->body == NULL || r->body->value_case == LOOKOUT_TEST__ANY_VALUE__VALUE__NOT_SET) {
                    assert_str_eq(g->message, "", 0, "message");
                } else if (r->body->value_case == LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE) {
                    assert_text(g->message, r->body->string_value, "message");
                } else {
                    lo_jw_t w;
                    lo_buf_reset(&body);
                    lo_jw_init(&w, &body);
                    exp_any(&w, r->body);
                    assert_str_buf(g->message, &body, "message (JSON)");
                }
                /* the kind is the AnyValue's field number (protobuf-c's value_case) */
                assert_int_equal(g->body_kind, r->body ? (int)r->body->value_case : 0);
                assert_text(g->scope_name, sl->scope ? sl->scope->name : "", "scope_name");
                assert_text(g->scope_version, sl->scope ? sl->scope->version : "", "scope_version");
                assert_text(g->event_name, r->event_name, "event_name");
                assert_int_equal(g->flags, r->flags);
                assert_int_equal(g->dropped_attributes_count, r->dropped_attributes_count);
                lo_envelope_t env;
                memset(&env, 0, sizeof(env));
                if (id_ok(r->trace_id, 16)) {
                    env.has_trace_id = true;
                    memcpy(env.trace_id, r->trace_id.data, 16);
                }
                if (id_ok(r->span_id, 8)) {
                    env.has_span_id = true;
                    memcpy(env.span_id, r->span_id.data, 8);
                }
                lo_envelope_build(&env, &cand, &sc, &rc);
                assert_env(&g->env, &env);
            }
        }
    }
    assert_int_equal(n, b->n);
    lo_arena_destroy(a);
    lo_buf_free(&res_json);
    lo_buf_free(&svc);
    lo_buf_free(&attrs);
    lo_buf_free(&body);
    lo_buf_free(&keep);
}

static void test_random_requests(void **state)
{
    (void)state;
    lo_redact_t *red = lo_redact_create("password,authorization,cookie,token");
    for (int iter = 0; iter < 400; iter++) {
        g_redact = iter % 2 ? red : NULL;
        LookoutTest__ExportLogsServiceRequest *q = rnd_logs_req();
        size_t n;
        uint8_t *p = pack_msg(&q->base, &n);
        dec_t d = { 0 };
        int rc = dec_run(&d, LO_SIGNAL_LOGS, p, n);
        if (rc != LO_OK)
            print_error("decode: %s\n", d.b.error);
        assert_int_equal(rc, LO_OK);
        /* the oracle reads the same bytes back */
        LookoutTest__ExportLogsServiceRequest *u =
            lookout_test__export_logs_service_request__unpack(NULL, n, p);
        assert_non_null(u);
        check_logs(u, &d.b);
        lookout_test__export_logs_service_request__free_unpacked(u, NULL);
        dec_free(&d);
        free(p);
        pool_free();
    }
    g_redact = NULL;
    lo_redact_destroy(red);
}

/* Every prefix of a valid body: refused exactly when protobuf-c refuses it
 * (a prefix ending between top-level fields is a valid, shorter request). */
static void test_truncated_everywhere(void **state)
{
    (void)state;
    for (int iter = 0; iter < 6; iter++) {
        LookoutTest__ExportLogsServiceRequest *q = rnd_logs_req();
        size_t n;
        uint8_t *p = pack_msg(&q->base, &n);
        for (size_t cut = 0; cut < n; cut++) {
            dec_t d = { 0 };
            int rc = dec_run(&d, LO_SIGNAL_LOGS, p, cut);
            LookoutTest__ExportLogsServiceRequest *u =
                lookout_test__export_logs_service_request__unpack(NULL, cut, p);
            if (u == NULL) {
                assert_int_equal(rc, LO_INVALID);
                assert_true(d.b.error[0] != '\0');
            } else {
                assert_int_equal(rc, LO_OK);
                check_logs(u, &d.b);
                lookout_test__export_logs_service_request__free_unpacked(u, NULL);
            }
            dec_free(&d);
        }
        free(p);
        pool_free();
    }
}

/* One log record wrapped in ResourceLogs/ScopeLogs at the given indexes. */
static void wrap_record(wbuf_t *out, const wbuf_t *rec, int scope_index, int rec_index)
{
    wbuf_t empty = { .n = 0 }, sl = { .n = 0 }, rl = { .n = 0 };
    for (int k = 0; k < rec_index; k++)
        w_sub(&sl, 2, &empty);
    w_sub(&sl, 2, rec);
    for (int j = 0; j < scope_index; j++)
        w_sub(&rl, 2, &empty);
    w_sub(&rl, 2, &sl);
    out->n = 0;
    w_sub(out, 1, &rl);
}

static void expect_invalid(const wbuf_t *body, const char *needle)
{
    dec_t d = { 0 };
    int rc = dec_run(&d, LO_SIGNAL_LOGS, body->p, body->n);
    assert_int_equal(rc, LO_INVALID);
    if (strstr(d.b.error, needle) == NULL) {
        print_error("error '%s' lacks '%s'\n", d.b.error, needle);
        fail();
    }
    dec_free(&d);
}

static void test_errors_say_where(void **state)
{
    (void)state;
    wbuf_t rec = { .n = 0 }, body;
    /* field 5 claims 100 bytes that are not there */
    w_fixed64(&rec, 1, 1);
    w_tag(&rec, 5, 2);
    w_varint(&rec, 100);
    rec.p[rec.n++] = 0x0a;
    wrap_record(&body, &rec, 1, 3);
    expect_invalid(&body, "resource_logs[0].scope_logs[1].log_records[3]: truncated field 5");

    /* time_unix_nano as a varint */
    rec.n = 0;
    w_tag(&rec, 1, 0);
    w_varint(&rec, 5);
    wrap_record(&body, &rec, 0, 0);
    expect_invalid(&body, "log_records[0]: field 1 has wrong wire type 0");

    /* a group */
    rec.n = 0;
    w_tag(&rec, 40, 3);
    wrap_record(&body, &rec, 0, 0);
    expect_invalid(&body, "log_records[0]: field 40: unsupported wire type");

    /* wire types 6 and 7 */
    rec.n = 0;
    w_tag(&rec, 40, 7);
    wrap_record(&body, &rec, 0, 0);
    expect_invalid(&body, "unsupported wire type");
    rec.n = 0;
    w_tag(&rec, 2, 6);
    wrap_record(&body, &rec, 0, 0);
    expect_invalid(&body, "unsupported wire type");

    /* an 11-byte varint */
    rec.n = 0;
    w_tag(&rec, 2, 0);
    for (int i = 0; i < 10; i++)
        rec.p[rec.n++] = 0xff;
    rec.p[rec.n++] = 0x01;
    wrap_record(&body, &rec, 0, 0);
    expect_invalid(&body, "malformed varint in field 2");

    /* a varint whose 10th byte overflows 64 bits */
    rec.n = 0;
    w_tag(&rec, 2, 0);
    for (int i = 0; i < 9; i++)
        rec.p[rec.n++] = 0xff;
    rec.p[rec.n++] = 0x02;
    wrap_record(&body, &rec, 0, 0);
    expect_invalid(&body, "malformed varint");

    /* field number 0 */
    rec.n = 0;
    rec.p[rec.n++] = 0x00;
    wrap_record(&body, &rec, 0, 0);
    expect_invalid(&body, "invalid field number");

    /* a bad attribute deep inside */
    wbuf_t kv = { .n = 0 }, v = { .n = 0 };
    w_bytes(&kv, 1, "k", 1);
    w_tag(&v, 3, 1); /* int_value as fixed64 */
    for (int i = 0; i < 8; i++)
        v.p[v.n++] = 0;
    w_sub(&kv, 2, &v);
    rec.n = 0;
    w_sub(&rec, 6, &kv);
    w_sub(&rec, 6, &kv);
    wrap_record(&body, &rec, 0, 2);
    expect_invalid(&body, "log_records[2].attributes[0]: field 3 has wrong wire type 1");

    /* the top level itself */
    body.n = 0;
    w_tag(&body, 1, 0);
    w_varint(&body, 1);
    expect_invalid(&body, "field 1 has wrong wire type 0");
}

/* AnyValue nested far deeper than allowed: refused, and no stack overflow. */
static void test_deep_nesting(void **state)
{
    (void)state;
    const int levels = 10000;
    /* build from the inside out: AnyValue{5: ArrayValue{1: AnyValue{...}}} */
    size_t cap = (size_t)levels * 16 + 64;
    uint8_t *a = malloc(cap), *b = malloc(cap);
    assert_non_null(a);
    assert_non_null(b);
    size_t n = 0;
    wbuf_t tmp;
    for (int i = 0; i < levels; i++) {
        /* ArrayValue = tag(1,LEN) len AnyValue; AnyValue = tag(5,LEN) len ArrayValue */
        size_t m = 0;
        tmp.n = 0;
        w_tag(&tmp, 1, 2);
        w_varint(&tmp, n);
        size_t inner = tmp.n + n;
        wbuf_t hdr = { .n = 0 };
        w_tag(&hdr, 5, 2);
        w_varint(&hdr, inner);
        memcpy(b + m, hdr.p, hdr.n);
        m += hdr.n;
        memcpy(b + m, tmp.p, tmp.n);
        m += tmp.n;
        memcpy(b + m, a, n);
        m += n;
        uint8_t *t = a;
        a = b;
        b = t;
        n = m;
    }
    /* LogRecord{5: body}; wrap */
    size_t total = n + 64;
    uint8_t *body = malloc(total * 3 + 64);
    assert_non_null(body);
    /* wrap three times by hand: LogRecord, ScopeLogs, ResourceLogs, request */
    uint8_t *cur = a;
    size_t cn = n;
    static const uint32_t nums[] = { 5, 2, 2, 1 };
    for (int k = 0; k < 4; k++) {
        wbuf_t hdr = { .n = 0 };
        w_tag(&hdr, nums[k], 2);
        w_varint(&hdr, cn);
        memmove(body + hdr.n, cur, cn);
        memcpy(body, hdr.p, hdr.n);
        cur = body;
        cn += hdr.n;
    }
    dec_t d = { 0 };
    int rc = dec_run(&d, LO_SIGNAL_LOGS, body, cn);
    assert_int_equal(rc, LO_INVALID);
    assert_non_null(strstr(d.b.error, "nested deeper than 32"));
    assert_non_null(strstr(d.b.error, "log_records[0].body"));
    dec_free(&d);
    free(a);
    free(b);
    free(body);
}

static void test_order_and_last_wins(void **state)
{
    (void)state;
    /* resource after scope_logs, scope after log_records, fields repeated */
    wbuf_t kv = { .n = 0 }, v = { .n = 0 }, res = { .n = 0 }, scope = { .n = 0 }, rec = { .n = 0 };
    wbuf_t sl = { .n = 0 }, rl = { .n = 0 }, body = { .n = 0 };
    w_bytes(&v, 1, "svc", 3);
    w_bytes(&kv, 1, "service.name", 12);
    w_sub(&kv, 2, &v);
    w_sub(&res, 1, &kv);
    w_bytes(&scope, 1, "old", 3);
    w_bytes(&scope, 1, "lib", 3);
    w_fixed64(&rec, 1, 5);
    w_fixed64(&rec, 1, 7); /* last wins */
    w_tag(&rec, 2, 0);
    w_varint(&rec, 9);
    w_bytes(&rec, 3, "x", 1);
    w_bytes(&rec, 3, "WARN", 4);
    w_bytes(&rec, 99, "unknown", 7); /* unknown fields are skipped */
    w_fixed32(&rec, 98, 1);
    w_tag(&rec, 97, 0);
    w_varint(&rec, 300);
    w_fixed64(&rec, 96, 1);
    w_sub(&sl, 2, &rec);
    w_sub(&sl, 1, &scope);
    w_sub(&rl, 2, &sl);
    w_sub(&rl, 1, &res);
    w_sub(&body, 1, &rl);
    dec_t d = { 0 };
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body.p, body.n), LO_OK);
    assert_int_equal(d.b.n, 1);
    const lo_log_rec_t *r = &d.b.logs[0];
    assert_int_equal(r->time_ns, 7);
    assert_true(lo_str_eq(r->severity_text, "WARN"));
    assert_true(lo_str_eq(r->level, "info"));
    assert_true(lo_str_eq(r->scope_name, "lib"));
    assert_true(lo_str_eq(r->env.service, "svc"));
    assert_true(lo_str_eq(r->resource, "{\"service.name\":\"svc\"}"));
    assert_true(lo_str_eq(r->attributes, "{}"));
    assert_true(lo_str_eq(r->message, ""));
    dec_free(&d);
}

static void test_strings_repaired(void **state)
{
    (void)state;
    /* NUL and invalid UTF-8 in a string field and in the body */
    wbuf_t rec = { .n = 0 }, v = { .n = 0 }, body;
    w_bytes(&rec, 3, "ab\0c\xff", 5);
    w_bytes(&v, 1, "m\0\xc3", 3);
    w_sub(&rec, 5, &v);
    wrap_record(&body, &rec, 0, 0);
    dec_t d = { 0 };
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body.p, body.n), LO_OK);
    assert_int_equal(d.b.n, 1);
    assert_true(lo_str_eq(d.b.logs[0].severity_text, "ab\xEF\xBF\xBD"
                                                     "c\xEF\xBF\xBD"));
    assert_true(lo_str_eq(d.b.logs[0].message, "m\xEF\xBF\xBD\xEF\xBF\xBD"));
    assert_true(lo_str_eq(d.b.logs[0].level, "ab\xEF\xBF\xBD"
                                             "c\xEF\xBF\xBD"));
    dec_free(&d);
}

static void test_times_and_levels(void **state)
{
    (void)state;
    wbuf_t rec = { .n = 0 }, body;
    dec_t d = { 0 };
    /* no time at all: receive time */
    w_tag(&rec, 2, 0);
    w_varint(&rec, 17);
    wrap_record(&body, &rec, 0, 0);
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body.p, body.n), LO_OK);
    assert_int_equal(d.b.logs[0].time_ns, TEST_RECEIVE_NS);
    assert_int_equal(d.b.logs[0].observed_ns, 0);
    assert_true(lo_str_eq(d.b.logs[0].level, "error"));
    dec_free(&d);
    /* observed only */
    rec.n = 0;
    w_fixed64(&rec, 11, 42);
    w_bytes(&rec, 3, "NOTICE", 6);
    wrap_record(&body, &rec, 0, 0);
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body.p, body.n), LO_OK);
    assert_int_equal(d.b.logs[0].time_ns, 42);
    assert_true(lo_str_eq(d.b.logs[0].level, "info")); /* NOTICE: a usual spelling of info */
    dec_free(&d);
    /* nothing */
    rec.n = 0;
    wrap_record(&body, &rec, 0, 0);
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body.p, body.n), LO_OK);
    assert_true(lo_str_eq(d.b.logs[0].level, "unspecified"));
    assert_true(lo_str_eq(d.b.logs[0].severity_text, ""));
    assert_true(lo_str_eq(d.b.logs[0].event_name, ""));
    assert_true(lo_str_eq(d.b.logs[0].scope_name, ""));
    assert_true(lo_str_eq(d.b.logs[0].resource, "{}"));
    assert_true(lo_str_eq(d.b.logs[0].env.service, "unknown_service"));
    dec_free(&d);
}

static void test_garbage(void **state)
{
    (void)state;
    uint8_t buf[512];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = rndn(sizeof(buf));
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rnd();
        if (iter % 3 == 0 && n > 2) {
            buf[0] = 0x0a; /* look like a request */
            buf[1] = (uint8_t)(n - 2 < 127 ? n - 2 : 127);
        }
        for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
            dec_t d = { 0 };
            int rc = dec_run(&d, (lo_signal_t)s, buf, n);
            assert_true(rc == LO_OK || rc == LO_INVALID);
            if (rc == LO_INVALID)
                assert_true(d.b.error[0] != '\0');
            dec_free(&d);
        }
    }
    /* the empty body is an empty request */
    dec_t d = { 0 };
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, (const uint8_t *)"", 0), LO_OK);
    assert_int_equal(d.b.n, 0);
    dec_free(&d);
}

/* Real bodies captured from the OpenTelemetry JS SDK (when present) and
 * the committed seeds: each must decode, to what protobuf-c says. */
static void corpus_one(const uint8_t *p, size_t n, const char *name)
{
    LookoutTest__ExportLogsServiceRequest *u = lookout_test__export_logs_service_request__unpack(NULL, n, p);
    if (u == NULL)
        return; /* not a valid request (a fuzzer find): must only not crash */
    dec_t d = { 0 };
    int rc = dec_run(&d, LO_SIGNAL_LOGS, p, n);
    if (rc != LO_OK)
        print_error("%s: %s\n", name, d.b.error);
    assert_int_equal(rc, LO_OK);
    check_logs(u, &d.b);
    lookout_test__export_logs_service_request__free_unpacked(u, NULL);
    dec_free(&d);
}

static void test_corpus(void **state)
{
    (void)state;
    int n = corpus_each("fuzz/corpus/fuzz_pb_logs", corpus_one);
    print_message("corpus: %d logs bodies\n", n);
}

/* A body of empty records stops at max_records, not at memory. */
static void test_max_records(void **state)
{
    (void)state;
    size_t nrec = 200000;
    size_t cap = nrec * 2 + 64;
    uint8_t *sl = malloc(cap), *body = malloc(cap + 32);
    assert_non_null(sl);
    assert_non_null(body);
    for (size_t i = 0; i < nrec; i++) {
        sl[2 * i] = 0x12; /* ScopeLogs.log_records, empty */
        sl[2 * i + 1] = 0;
    }
    size_t sn = nrec * 2, bn = 0;
    wbuf_t h = { .n = 0 };
    w_tag(&h, 1, 2); /* request.resource_logs */
    w_varint(&h, sn + 1 + (sn >= 128 ? 3 : 1));
    w_tag(&h, 2, 2); /* ResourceLogs.scope_logs */
    w_varint(&h, sn);
    memcpy(body, h.p, h.n);
    bn = h.n;
    memcpy(body + bn, sl, sn);
    bn += sn;
    dec_t d = { 0 };
    d.arena = lo_arena_create(4096, 0);
    lo_otlp_batch_init(&d.b, LO_SIGNAL_LOGS, d.arena);
    d.b.max_records = 1000;
    d.o.max_depth = 32;
    d.o.receive_ns = 1;
    int rc = lo_otlp_pb_decode(LO_SIGNAL_LOGS, body, bn, &d.o, &d.b);
    assert_int_equal(rc, LO_ERROR);
    assert_non_null(strstr(d.b.error, "more than 1000 records"));
    assert_true(d.b.cap <= 1000);
    lo_otlp_batch_free(&d.b);
    lo_arena_destroy(d.arena);
    /* without the bound, all of them (they are valid) */
    memset(&d, 0, sizeof(d));
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body, bn), LO_OK);
    assert_int_equal(d.b.n, nrec);
    dec_free(&d);
    free(sl);
    free(body);
}

/* A record's own ids: empty or all-zero is "none" (and the attribute of
 * that name fills in); another length makes the record malformed (refused
 * at admission, the rest of the request kept). */
static void test_record_ids(void **state)
{
    (void)state;
    static const uint8_t id17[17] = { 1, 2, 3 }, zero16[16], id7[7] = { 1 };
    wbuf_t rec = { .n = 0 }, body, kv = { .n = 0 }, v = { .n = 0 };
    dec_t d = { 0 };
    w_bytes(&rec, 9, id17, sizeof(id17));
    wrap_record(&body, &rec, 0, 1);
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body.p, body.n), LO_OK); /* refused at admission */
    assert_string_equal(d.b.logs[1].env.malformed, "a trace id that is not 16 bytes");
    assert_null(d.b.logs[0].env.malformed);
    dec_free(&d);
    rec.n = 0;
    w_bytes(&rec, 10, id7, sizeof(id7));
    wrap_record(&body, &rec, 0, 0);
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body.p, body.n), LO_OK);
    assert_string_equal(d.b.logs[0].env.malformed, "a span id that is not 8 bytes");
    dec_free(&d);
    /* the last occurrence wins, before the check */
    rec.n = 0;
    w_bytes(&rec, 9, id17, sizeof(id17));
    w_bytes(&rec, 9, zero16, sizeof(zero16));
    w_bytes(&v, 1, "0102030405060708090a0b0c0d0e0f10", 32);
    w_bytes(&kv, 1, "trace_id", 8);
    w_sub(&kv, 2, &v);
    w_sub(&rec, 6, &kv);
    wrap_record(&body, &rec, 0, 0);
    assert_int_equal(dec_run(&d, LO_SIGNAL_LOGS, body.p, body.n), LO_OK);
    assert_true(d.b.logs[0].env.has_trace_id);
    assert_int_equal(d.b.logs[0].env.trace_id[0], 1);
    assert_int_equal(d.b.logs[0].env.trace_id[15], 0x10);
    assert_false(d.b.logs[0].env.has_span_id);
    dec_free(&d);
}

static const ProtobufCMessage *gen_seed(void)
{
    return &rnd_logs_req()->base;
}

static void test_seeds(void **state)
{
    (void)state;
    corpus_write_seeds("fuzz_pb_logs", gen_seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_requests),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_errors_say_where),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_order_and_last_wins),
        cmocka_unit_test(test_strings_repaired),
        cmocka_unit_test(test_times_and_levels),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_max_records),
        cmocka_unit_test(test_record_ids),
        cmocka_unit_test(test_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
