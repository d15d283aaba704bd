/*
 * test_pb_json.c — the walker's JSON scalars (pb_json.c) write exactly what
 * core/json_write.c writes for the same values: strings with every kind of
 * escape and broken UTF-8, integers at the 2^53 edges, and doubles (the fast
 * exact "%.17g" path against printf, over many values).
 */
#include <math.h>

#include "pb_oracle.h"
#include "otlp/pb_internal.h"

static void same(void (*mine)(lo_buf_t *), void (*theirs)(lo_jw_t *))
{
    lo_buf_t a, b;
    lo_jw_t w;
    lo_buf_init(&a, 0);
    lo_buf_init(&b, 0);
    mine(&a);
    lo_jw_init(&w, &b);
    theirs(&w);
    if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
        print_error("mine '%.*s' json_write '%.*s'\n", (int)a.len, a.p, (int)b.len, b.p);
        fail();
    }
    lo_buf_free(&a);
    lo_buf_free(&b);
}

static double g_d;
static int64_t g_i;
static const char *g_s;
static size_t g_n;

static void my_f64(lo_buf_t *b)
{
    lo_pbd_json_f64(b, g_d);
}
static void jw_f64(lo_jw_t *w)
{
    lo_jw_f64(w, g_d);
}
static void my_i64(lo_buf_t *b)
{
    lo_pbd_json_i64(b, g_i);
}
static void jw_i64(lo_jw_t *w)
{
    lo_jw_i64(w, g_i);
}
static void my_u64(lo_buf_t *b)
{
    lo_pbd_json_u64(b, (uint64_t)g_i);
}
static void jw_u64(lo_jw_t *w)
{
    lo_jw_u64(w, (uint64_t)g_i);
}
static void my_str(lo_buf_t *b)
{
    lo_pbd_json_str(b, (const uint8_t *)g_s, g_n);
}
static void jw_str(lo_jw_t *w)
{
    lo_jw_str(w, g_s, g_n);
}
static void my_b64(lo_buf_t *b)
{
    lo_pbd_json_base64(b, (const uint8_t *)g_s, g_n);
}
static void jw_b64(lo_jw_t *w)
{
    lo_jw_base64(w, (const uint8_t *)g_s, g_n);
}
static void my_hex(lo_buf_t *b)
{
    lo_pbd_json_hex(b, (const uint8_t *)g_s, g_n);
}
static void jw_hex(lo_jw_t *w)
{
    lo_jw_hex(w, (const uint8_t *)g_s, g_n);
}

static void test_doubles(void **state)
{
    (void)state;
    static const double fixed[] = { 0.0,
                                    -0.0,
                                    0.1,
                                    0.2,
                                    0.3,
                                    1.5,
                                    -2.25,
                                    123.45,
                                    1e-4,
                                    9.9999999999999e-5,
                                    1e-5,
                                    0.00012345,
                                    1e15,
                                    1e15 + 0.5,
                                    9.999999999999998e15,
                                    1e16,
                                    1e17,
                                    1e300,
                                    -1e-300,
                                    5e-324,
                                    2.5,
                                    0.5,
                                    1.0 / 3,
                                    2.0 / 3,
                                    4503599627370495.5,
                                    NAN,
                                    INFINITY,
                                    -INFINITY,
                                    99999999999999.99,
                                    0.000999999999999999 };
    for (size_t i = 0; i < LO_ARRAY_LEN(fixed); i++) {
        g_d = fixed[i];
        same(my_f64, jw_f64);
    }
    for (int i = 0; i < 300000; i++) {
        uint64_t r = rnd();
        switch (i % 4) {
        case 0: memcpy(&g_d, &r, sizeof(g_d)); break;                  /* any bits */
        case 1: g_d = (double)(int64_t)(r % 100000000) / 100.0; break; /* "money" */
        case 2: g_d = (double)(r % 1000000) / (double)(1 + rnd() % 100000); break;
        default: g_d = ldexp((double)(r >> 11), (int)(rnd() % 120) - 100); break;
        }
        same(my_f64, jw_f64);
    }
}

static void test_integers(void **state)
{
    (void)state;
    static const int64_t v[] = { 0,
                                 1,
                                 -1,
                                 9,
                                 10,
                                 9007199254740992LL,
                                 9007199254740993LL,
                                 -9007199254740992LL,
                                 -9007199254740993LL,
                                 INT64_MAX,
                                 INT64_MIN,
                                 1234567890123LL };
    for (size_t i = 0; i < LO_ARRAY_LEN(v); i++) {
        g_i = v[i];
        same(my_i64, jw_i64);
        same(my_u64, jw_u64);
    }
    for (int i = 0; i < 100000; i++) {
        g_i = (int64_t)(rnd() >> rndn(64));
        if (i % 2)
            g_i = -g_i;
        same(my_i64, jw_i64);
        same(my_u64, jw_u64);
    }
}

static void test_strings(void **state)
{
    (void)state;
    static const char *const s[] = {
        "",      "plain",        "q\"uo\\te", "\n\r\t\b\f\x01\x1f\x7f", "é日本😀",   "\xff\xfe",
        "a\xc3", "\xed\xa0\x80", "\xc0\x80",  "\xf4\x90\x80\x80",       "\xe2\x82", "\xe2\x82\xac\xe2"
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(s); i++) {
        g_s = s[i];
        g_n = strlen(s[i]);
        same(my_str, jw_str);
        same(my_b64, jw_b64);
        same(my_hex, jw_hex);
    }
    g_s = "a\0b";
    g_n = 3;
    same(my_str, jw_str);
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        g_n = rndn(sizeof(buf));
        for (size_t k = 0; k < g_n; k++)
            buf[k] = (char)(i % 2 ? rnd() : (rnd() % 4 == 0 ? 0x80 | rnd() : 0x20 + rnd() % 95));
        g_s = buf;
        same(my_str, jw_str);
        if (i % 10 == 0) {
            same(my_b64, jw_b64);
            same(my_hex, jw_hex);
        }
    }
}

/* "éa" repeated: linear in the string, not quadratic. */
static void test_escape_is_linear(void **state)
{
    (void)state;
    size_t n = 4 << 20;
    char *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i + 3 <= n; i += 3)
        memcpy(p + i,
               "\xc3\xa9"
               "a",
               3);
    lo_buf_t b;
    lo_buf_init(&b, 0);
    int64_t t0 = lo_mono_ns();
    lo_pbd_json_str(&b, (const uint8_t *)p, n - n % 3);
    assert_true(lo_mono_ns() - t0 < 2000000000LL);
    assert_int_equal(b.len, n - n % 3 + 2);
    /* and core/json_write.c's escaping, which the COPY encoders share */
    lo_buf_reset(&b);
    t0 = lo_mono_ns();
    assert_int_equal(lo_json_escape_into(&b, p, n - n % 3), LO_OK);
    assert_true(lo_mono_ns() - t0 < 2000000000LL);
    assert_int_equal(b.len, n - n % 3);
    lo_buf_free(&b);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_escape_is_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
