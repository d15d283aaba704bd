/* Hex and UUID text (core/ids.h): the one parser and printer of each id format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/ids.h"

#define S(lit) ((lo_str_t){ (lit), sizeof(lit) - 1 })

static void test_hex(void **state)
{
    (void)state;
    uint8_t b[4];
    assert_true(lo_hex_parse(S("00aBfF10"), b, 4));
    assert_int_equal(b[0], 0x00);
    assert_int_equal(b[1], 0xab);
    assert_int_equal(b[2], 0xff);
    assert_int_equal(b[3], 0x10);
    char out[9];
    *lo_hex_put(out, b, 4) = '\0';
    assert_string_equal(out, "00abff10");
    assert_false(lo_hex_parse(S("00abff1"), b, 4));   /* odd length */
    assert_false(lo_hex_parse(S("00abff100"), b, 4)); /* too long */
    assert_false(lo_hex_parse(S("00abfg10"), b, 4));  /* not a digit */
    assert_false(lo_hex_parse(S("00ab f10"), b, 4));
    for (int c = 0; c < 256; c++) {
        bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        assert_int_equal(lo_hex_value((char)c) >= 0, digit);
        if (digit)
            assert_int_equal(lo_hex_digits[lo_hex_value((char)c)], c >= 'A' && c <= 'F' ? c + 32 : c);
    }
}

static void test_uuid(void **state)
{
    (void)state;
    uint8_t u[16];
    char out[37];
    assert_true(lo_uuid_parse(S("0190A5C4-7B2E-7C3D-8E4F-0123456789AB"), u));
    lo_uuid_format(u, out);
    assert_string_equal(out, "0190a5c4-7b2e-7c3d-8e4f-0123456789ab");
    assert_int_equal(u[0], 0x01);
    assert_int_equal(u[15], 0xab);
    assert_true(lo_uuid_parse((lo_str_t){ out, 36 }, u));
    assert_false(lo_uuid_parse(S("0190a5c47b2e7c3d8e4f0123456789ab"), u));      /* no dashes */
    assert_false(lo_uuid_parse(S("0190a5c4-7b2e-7c3d-8e4f-0123456789a"), u));   /* short */
    assert_false(lo_uuid_parse(S("0190a5c4-7b2e-7c3d-8e4f-0123456789abc"), u)); /* long */
    assert_false(lo_uuid_parse(S("0190a5c4-7b2e-7c3d-8e4f0-123456789ab"), u));  /* dash moved */
    assert_false(lo_uuid_parse(S("0190a5c4-7b2e-7c3d-8e4f-0123456789ag"), u));
    assert_false(lo_uuid_parse(S("{190a5c4-7b2e-7c3d-8e4f-0123456789ab"), u));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_uuid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
