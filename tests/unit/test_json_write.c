/*
 * test_json_write.c — the JSON writer (src/core/json_write.h) on numbers at
 * the edges: doubles far outside int64 (a fuzz finding: the integral check
 * cast them to int64_t first, which is undefined behaviour; make asan
 * aborts on it), NaN and infinities, integers past 2^53 written as strings.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/json_write.h"

/* Writes one double alone and compares the text. */
static void f64_is(double v, const char *want)
{
    lo_buf_t b;
    lo_buf_init(&b, 0);
    lo_jw_t w;
    lo_jw_init(&w, &b);
    lo_jw_f64(&w, v);
    assert_int_equal(w.err, LO_OK);
    assert_int_equal(b.err, LO_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
    lo_buf_free(&b);
}

static void test_f64_integral_and_fractional(void **state)
{
    (void)state;
    f64_is(0.0, "0");
    f64_is(123.0, "123");
    f64_is(-42.0, "-42");
    f64_is(0.5, "0.5");
    f64_is(999999999999999.0, "999999999999999");
    f64_is(1e15, "1000000000000000");
}

static void test_f64_outside_int64(void **state)
{
    (void)state;
    f64_is(1.1111111111111111e51, "1.1111111111111111e+51");
    f64_is(-1e300, "-1.0000000000000001e+300");
    f64_is(9223372036854775808.0, "9.2233720368547758e+18"); /* 2^63: one past INT64_MAX */
    f64_is(-9223372036854775808.0, "-9.2233720368547758e+18");
    f64_is(1.7976931348623157e308, "1.7976931348623157e+308");
}

static void test_f64_not_finite(void **state)
{
    (void)state;
    f64_is(NAN, "\"NaN\"");
    f64_is(INFINITY, "\"Infinity\"");
    f64_is(-INFINITY, "\"-Infinity\"");
}

static void test_i64_u64_past_2_53(void **state)
{
    (void)state;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    lo_jw_t w;
    lo_jw_init(&w, &b);
    lo_jw_arr_begin(&w);
    lo_jw_i64(&w, INT64_MIN);
    lo_jw_i64(&w, 9007199254740992LL);
    lo_jw_u64(&w, UINT64_MAX);
    lo_jw_arr_end(&w);
    const char *want = "[\"-9223372036854775808\",9007199254740992,\"18446744073709551615\"]";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
    lo_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f64_integral_and_fractional),
        cmocka_unit_test(test_f64_outside_int64),
        cmocka_unit_test(test_f64_not_finite),
        cmocka_unit_test(test_i64_u64_past_2_53),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
