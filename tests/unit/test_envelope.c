/* Unit tests of the decoders' shared helpers (src/otlp/envelope.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/json_write.h"
#include "otlp/otlp.h"

#define S(lit) LO_STR_LIT(lit)

static void test_uuid(void **state)
{
    (void)state;
    uint8_t u[16];
    char out[37];
    assert_true(lo_uuid_parse(S("0F8fad5b-d9cb-469f-a165-70867728950e"), u));
    lo_uuid_format(u, out);
    assert_string_equal(out, "0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_false(lo_uuid_parse(S("0f8fad5bd9cb469fa16570867728950e"), u));
    assert_false(lo_uuid_parse(S("0f8fad5b-d9cb-469f-a165-70867728950"), u));
    assert_false(lo_uuid_parse(S("0f8fad5b-d9cb-469f-a165-70867728950g"), u));
    assert_false(lo_uuid_parse(S("'; drop table x; --0000000000000000000"), u));
}

static void test_envelope_precedence(void **state)
{
    (void)state;
    lo_env_cand_t rec = { 0 }, scope = { 0 }, res = { 0 };
    lo_env_cand_note(&rec, S("session_id"), S("not-a-uuid"));
    lo_env_cand_note(&scope, S("session.id"), S("11111111-1111-1111-1111-111111111111"));
    lo_env_cand_note(&res, S("session_id"), S("22222222-2222-2222-2222-222222222222"));
    lo_env_cand_note(&res, S("enduser.id"), S("33333333-3333-3333-3333-333333333333"));
    lo_env_cand_note(&rec, S("project.id"), S("44444444-4444-4444-4444-444444444444"));
    lo_env_cand_note(&res, S("service.name"), S("checkout"));
    lo_env_cand_note(&rec, S("trace_id"), S("0102030405060708090a0b0c0d0e0f10"));
    lo_envelope_t env = { 0 };
    lo_envelope_build(&env, &rec, &scope, &res);
    assert_true(env.has_session);
    assert_int_equal(env.session_id[0], 0x11); /* malformed record value dropped */
    assert_true(env.has_user);
    assert_int_equal(env.user_id[15], 0x33);
    assert_true(env.has_project);
    assert_int_equal(env.project_id[0], 0x44);
    assert_true(env.has_trace_id);
    assert_int_equal(env.trace_id[15], 0x10);
    assert_false(env.has_span_id);
    assert_true(lo_str_eq(env.service, "checkout"));

    lo_envelope_t e2 = { 0 };
    e2.has_trace_id = true;
    e2.trace_id[0] = 0xAA;
    lo_envelope_build(&e2, &rec, NULL, NULL);
    assert_int_equal(e2.trace_id[0], 0xAA); /* the record's own field wins */
    assert_true(lo_str_eq(e2.service, "unknown_service"));
}

static void test_levels(void **state)
{
    (void)state;
    lo_arena_t *a = lo_arena_create(1024, 0);
    assert_true(lo_str_eq(lo_log_level(1, LO_STR_NULL, a), "trace"));
    assert_true(lo_str_eq(lo_log_level(8, LO_STR_NULL, a), "debug"));
    assert_true(lo_str_eq(lo_log_level(9, LO_STR_NULL, a), "info"));
    assert_true(lo_str_eq(lo_log_level(16, LO_STR_NULL, a), "warn"));
    assert_true(lo_str_eq(lo_log_level(17, LO_STR_NULL, a), "error"));
    assert_true(lo_str_eq(lo_log_level(24, LO_STR_NULL, a), "fatal"));
    assert_true(lo_str_eq(lo_log_level(0, S("WARNING"), a), "warn")); /* a usual spelling: its level */
    assert_true(lo_str_eq(lo_log_level(0, S("Audit"), a), "audit"));  /* others: lower-cased */
    assert_true(lo_str_eq(lo_log_level(0, LO_STR_NULL, a), "unspecified"));
    assert_true(lo_str_eq(lo_log_level(99, LO_STR_NULL, a), "unspecified"));
    lo_arena_destroy(a);
}

static void test_labels_hash_order_independent(void **state)
{
    (void)state;
    uint64_t a = 0, b = 0;
    a = lo_labels_hash_add(a, "\"k\":\"v\"", 7);
    a = lo_labels_hash_add(a, "\"x\":1", 5);
    b = lo_labels_hash_add(b, "\"x\":1", 5);
    b = lo_labels_hash_add(b, "\"k\":\"v\"", 7);
    assert_true(a == b);
    assert_true(lo_hash64("abc", 3, 1) != lo_hash64("abd", 3, 1));
    assert_true(lo_hash64("abcdefghij", 10, 1) != lo_hash64("abcdefghik", 10, 1));
}

static void test_batch_push(void **state)
{
    (void)state;
    lo_otlp_batch_t b;
    lo_otlp_batch_init(&b, LO_SIGNAL_SPANS, NULL);
    for (int i = 0; i < 1000; i++) {
        lo_span_rec_t *s = lo_otlp_batch_push(&b);
        assert_non_null(s);
        s->kind = i;
    }
    assert_int_equal(b.n, 1000);
    assert_int_equal(b.spans[999].kind, 999);
    assert_int_equal(lo_otlp_fail(&b, "first %d", 1), LO_INVALID);
    assert_int_equal(lo_otlp_fail(&b, "second"), LO_INVALID);
    assert_string_equal(b.error, "first 1");
    lo_otlp_batch_free(&b);

    /* max_records bounds the array: push fails past it, never grows it */
    lo_otlp_batch_init(&b, LO_SIGNAL_LOGS, NULL);
    b.max_records = 100;
    for (int i = 0; i < 100; i++)
        assert_non_null(lo_otlp_batch_push(&b));
    assert_null(lo_otlp_batch_push(&b));
    assert_int_equal(b.n, 100);
    assert_true(b.cap <= 100);
    lo_otlp_batch_free(&b);
}

static void test_json_writer(void **state)
{
    (void)state;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    lo_jw_t w;
    lo_jw_init(&w, &b);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "a\"b", 3);
    lo_jw_str(&w, "x\x00y\xff\n", 5);
    lo_jw_key(&w, "n", 1);
    lo_jw_arr_begin(&w);
    lo_jw_i64(&w, 9007199254740993LL);
    lo_jw_i64(&w, -5);
    lo_jw_f64(&w, 1.5);
    lo_jw_bool(&w, true);
    lo_jw_null(&w);
    lo_jw_base64(&w, (const uint8_t *)"hi!", 3);
    lo_jw_hex(&w, (const uint8_t *)"\x01\xab", 2);
    lo_jw_arr_end(&w);
    lo_jw_obj_end(&w);
    assert_int_equal(lo_jw_status(&w), LO_OK);
    assert_string_equal(
        b.p, "{\"a\\\"b\":\"x\xEF\xBF\xBDy\xEF\xBF\xBD\\n\",\"n\":[\"9007199254740993\",-5,1.5,true,null,"
             "\"aGkh\",\"01ab\"]}");
    lo_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid),       cmocka_unit_test(test_envelope_precedence),
        cmocka_unit_test(test_levels),     cmocka_unit_test(test_labels_hash_order_independent),
        cmocka_unit_test(test_batch_push), cmocka_unit_test(test_json_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
