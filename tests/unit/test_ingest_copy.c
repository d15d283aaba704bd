/* COPY text encoding: escaping, ids, timestamps, numbers; and a round trip
 * through PostgreSQL's own COPY parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "ingest/copy.h"
#include "pg_harness.h"

static void enc_text(const char *in, size_t n, char *out)
{
    char *e = lo_copy_text(out, in, n);
    *e = '\0';
}

static void test_text_escaping(void **state)
{
    (void)state;
    char out[256];
    enc_text("plain", 5, out);
    assert_string_equal(out, "plain");
    enc_text("a\\b\tc\nd\re", 9, out);
    assert_string_equal(out, "a\\\\b\\tc\\nd\\re");
    /* specials at every offset of an 8-byte word, and around its edges */
    for (int pos = 0; pos < 20; pos++) {
        const char specials[] = { '\\', '\t', '\n', '\r' };
        const char *expect[] = { "\\\\", "\\t", "\\n", "\\r" };
        for (int k = 0; k < 4; k++) {
            char in[21];
            memset(in, 'x', 20);
            in[pos] = specials[k];
            enc_text(in, 20, out);
            char want[64];
            snprintf(want, sizeof(want), "%.*s%s%.*s", pos, "xxxxxxxxxxxxxxxxxxxx", expect[k], 19 - pos,
                     "xxxxxxxxxxxxxxxxxxxx");
            assert_string_equal(out, want);
        }
    }
    /* other control bytes and UTF-8 pass through unchanged */
    const char raw[] = "\x01\x0b\x0c\x1f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \"q\" ,;|";
    enc_text(raw, sizeof(raw) - 1, out);
    assert_string_equal(out, raw);
    enc_text("", 0, out);
    assert_string_equal(out, "");
    /* worst case fits the bound */
    char all[64];
    memset(all, '\\', sizeof(all));
    assert_int_equal(lo_copy_text(out, all, sizeof(all)) - out, (long)lo_copy_text_max(sizeof(all)));
}

/* The block fast paths against a byte-by-byte reference, for every length
 * up to 70 and a special byte at every position (or none). */
static void test_text_all_lengths(void **state)
{
    (void)state;
    const char specials[] = { '\\', '\t', '\n', '\r', '\x01', (char)0xc3 };
    char in[80], out[200], want[200];
    for (size_t n = 0; n <= 70; n++) {
        for (size_t pos = 0; pos <= n; pos++) {
            for (size_t k = 0; k < sizeof(specials); k++) {
                for (size_t i = 0; i < n; i++)
                    in[i] = (char)('a' + i % 26);
                if (pos < n)
                    in[pos] = specials[k];
                size_t m = 0;
                for (size_t i = 0; i < n; i++) {
                    switch (in[i]) {
                    case '\\':
                        want[m++] = '\\';
                        want[m++] = '\\';
                        break;
                    case '\t':
                        want[m++] = '\\';
                        want[m++] = 't';
                        break;
                    case '\n':
                        want[m++] = '\\';
                        want[m++] = 'n';
                        break;
                    case '\r':
                        want[m++] = '\\';
                        want[m++] = 'r';
                        break;
                    default: want[m++] = in[i];
                    }
                }
                char *e = lo_copy_text(out, in, n);
                assert_int_equal(e - out, (long)m);
                assert_memory_equal(out, want, m);
            }
        }
    }
}

static void test_bytea_uuid(void **state)
{
    (void)state;
    char out[128];
    uint8_t b[3] = { 0x00, 0xab, 0xff };
    *lo_copy_bytea(out, b, 3) = '\0';
    assert_string_equal(out, "\\\\x00abff");
    uint8_t u[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                      0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };
    *lo_copy_uuid(out, u) = '\0';
    assert_string_equal(out, "01234567-89ab-cdef-fedc-ba9876543210");
    *lo_copy_null(out) = '\0';
    assert_string_equal(out, "\\N");
}

static void test_timestamps(void **state)
{
    (void)state;
    lo_copy_ctx_t c;
    lo_copy_ctx_init(&c);
    char out[64];
    struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        { 0, "1970-01-01 00:00:00.000000+00" },
        { 1764315709554123999LL, "2025-11-28 07:41:49.554123+00" },
        { 1709164800000000000LL, "2024-02-29 00:00:00.000000+00" }, /* leap day */
        { 951782400000000000LL, "2000-02-29 00:00:00.000000+00" },
        { 4102444799999999000LL, "2099-12-31 23:59:59.999999+00" },
        { -1000, "1969-12-31 23:59:59.999999+00" }, /* floor, not truncation */
        { -86400000000000LL, "1969-12-31 00:00:00.000000+00" },
        { 1764315709000000001LL, "2025-11-28 07:41:49.000000+00" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *e = lo_copy_ts(&c, out, cases[i].ns);
        *e = '\0';
        assert_string_equal(out, cases[i].want);
        assert_true(e - out <= LO_COPY_TS_MAX);
        /* the cached second gives the same answer */
        *lo_copy_ts(&c, out, cases[i].ns) = '\0';
        assert_string_equal(out, cases[i].want);
    }
}

static void test_numbers(void **state)
{
    (void)state;
    char out[64];
    *lo_copy_i64(out, 0) = '\0';
    assert_string_equal(out, "0");
    *lo_copy_i64(out, INT64_MIN) = '\0';
    assert_string_equal(out, "-9223372036854775808");
    *lo_copy_i64(out, INT64_MAX) = '\0';
    assert_string_equal(out, "9223372036854775807");
    *lo_copy_u64(out, UINT64_MAX) = '\0';
    assert_string_equal(out, "18446744073709551615");
    *lo_copy_f64(out, 42.0) = '\0';
    assert_string_equal(out, "42");
    *lo_copy_f64(out, -3.0) = '\0';
    assert_string_equal(out, "-3");
    *lo_copy_f64(out, NAN) = '\0';
    assert_string_equal(out, "NaN");
    *lo_copy_f64(out, -INFINITY) = '\0';
    assert_string_equal(out, "-Infinity");
    *lo_copy_f64(out, INFINITY) = '\0';
    assert_string_equal(out, "Infinity");
    *lo_copy_f64(out, 12.5) = '\0';
    assert_string_equal(out, "12.5");
    *lo_copy_f64(out, -0.025) = '\0';
    assert_string_equal(out, "-0.025");
    *lo_copy_f64(out, 0.000000001) = '\0';
    assert_string_equal(out, "0.000000001");
    *lo_copy_f64(out, 1234567.125) = '\0';
    assert_string_equal(out, "1234567.125");
    double vals[] = { 0.1,        -0.0,       1e300, 5e-324,    1.0 / 3, 9007199254740993.0,
                      123456.789, -2.5e-10,   0.3,   0.1 + 0.2, 1e-9,    4503599627370495.5,
                      1e15 + 0.3, 299792.458, -1e-5, 2.675,     1.005 };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char *e = lo_copy_f64(out, vals[i]);
        assert_true(e - out <= LO_COPY_F64_MAX);
        *e = '\0';
        double back = strtod(out, NULL);
        assert_memory_equal(&back, &vals[i], sizeof(double)); /* exact, sign of zero too */
    }
    /* random doubles and random short decimals read back exactly */
    uint64_t s = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double v;
        if (i % 2 == 0) {
            memcpy(&v, &s, sizeof(v));
            if (isnan(v) || isinf(v))
                continue;
        } else {
            static const double scale[] = { 1, 10, 100, 1000, 1e6, 1e9, 1e12 };
            v = (double)(int64_t)(s % 100000000000ULL) / scale[(s >> 40) % 7];
        }
        char *e = lo_copy_f64(out, v);
        *e = '\0';
        double back = strtod(out, NULL);
        if (memcmp(&back, &v, sizeof(v)) != 0)
            fail_msg("%.17g encoded as %s", v, out);
    }
}

static void test_uuidv7(void **state)
{
    (void)state;
    lo_copy_ctx_t c;
    lo_copy_ctx_init(&c);
    uint8_t a[16], b[16];
    int64_t ms = 1764315709554LL;
    lo_uuidv7(&c, ms, a);
    lo_uuidv7(&c, ms, b);
    assert_memory_not_equal(a, b, 16);
    assert_int_equal(a[6] >> 4, 7); /* version */
    assert_int_equal(a[8] >> 6, 2); /* variant 10 */
    int64_t got = 0;
    for (int i = 0; i < 6; i++)
        got = got << 8 | a[i];
    assert_int_equal(got, ms);
}

/* Ids minted by one context increase, within a millisecond, across
 * milliseconds, past 4096 in one millisecond, and when the clock steps
 * back. */
static void test_uuidv7_increasing(void **state)
{
    (void)state;
    lo_copy_ctx_t c;
    lo_copy_ctx_init(&c);
    uint8_t prev[16], cur[16];
    int64_t clock[] = { 1000, 1000, 1001, 995, 2000 };
    lo_uuidv7_next(&c, 999, prev);
    for (size_t k = 0; k < sizeof clock / sizeof clock[0]; k++) {
        for (int i = 0; i < 5000; i++) {
            lo_uuidv7_next(&c, clock[k], cur);
            if (memcmp(prev, cur, 16) >= 0)
                fail_msg("id %d at clock %lld is not above the previous one", i, (long long)clock[k]);
            assert_int_equal(cur[6] >> 4, 7);
            assert_int_equal(cur[8] >> 6, 2);
            memcpy(prev, cur, 16);
        }
    }
}

/* Every byte value that may reach COPY (no NUL), in one field, parsed back
 * by PostgreSQL; plus a whole log row. */
static void test_round_trip(void **state)
{
    (void)state;
    char conninfo[1024];
    pgt_fresh_db("lo_t_copy", conninfo, sizeof(conninfo));
    PGconn *c = pgt_connect(conninfo);
    pgt_exec(c, "CREATE TABLE t (s text, b bytea, ts timestamptz, f float8, j jsonb)");
    char in[300];
    size_t n = 0;
    for (int v = 1; v < 128; v++)
        in[n++] = (char)v;
    const char utf8[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\.\n\\N";
    memcpy(in + n, utf8, sizeof(utf8) - 1);
    n += sizeof(utf8) - 1;

    lo_copy_ctx_t ctx;
    lo_copy_ctx_init(&ctx);
    char row[2048];
    char *w = lo_copy_text(row, in, n);
    *w++ = '\t';
    uint8_t bin[4] = { 0, 0x5c, 0x0a, 0xff };
    w = lo_copy_bytea(w, bin, 4);
    *w++ = '\t';
    w = lo_copy_ts(&ctx, w, 1764315709554123000LL);
    *w++ = '\t';
    w = lo_copy_f64(w, 0.1);
    *w++ = '\t';
    const char json[] = "{\"k\":\"tab\\there \\\\ \\\"q\\\" \\n\"}";
    w = lo_copy_text(w, json, sizeof(json) - 1);
    *w++ = '\n';

    PGresult *r = PQexec(c, "COPY t FROM STDIN");
    assert_int_equal(PQresultStatus(r), PGRES_COPY_IN);
    PQclear(r);
    assert_int_equal(PQputCopyData(c, row, (int)(w - row)), 1);
    assert_int_equal(PQputCopyEnd(c, NULL), 1);
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("copy: %s", PQresultErrorMessage(r));
    PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);

    r = PQexecParams(c,
                     "SELECT s, b, extract(epoch from ts)::numeric * 1000000, f = 0.1::float8, "
                     "j = $1::jsonb FROM t",
                     1, NULL, (const char *[]){ json }, NULL, NULL, 1);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQgetlength(r, 0, 0), (int)n);
    assert_memory_equal(PQgetvalue(r, 0, 0), in, n);
    assert_int_equal(PQgetlength(r, 0, 1), 4);
    assert_memory_equal(PQgetvalue(r, 0, 1), bin, 4);
    PQclear(r);
    char v[64];
    assert_string_equal(
        pgt_value(c, "SELECT (extract(epoch from ts) * 1000000)::bigint FROM t", v, sizeof(v)),
        "1764315709554123");
    assert_string_equal(pgt_value(c, "SELECT f = 0.1::float8 FROM t", v, sizeof(v)), "t");
    assert_string_equal(pgt_value(c, "SELECT j->>'k' FROM t", v, sizeof(v)), "tab\there \\ \"q\" \n");
    PQfinish(c);
    pgt_drop_db("lo_t_copy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_escaping),     cmocka_unit_test(test_text_all_lengths),
        cmocka_unit_test(test_bytea_uuid),        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_numbers),           cmocka_unit_test(test_uuidv7),
        cmocka_unit_test(test_uuidv7_increasing), cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
