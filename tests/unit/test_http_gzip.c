/* Bounded gunzip of request bodies: round trips, exact bounds, corrupt and
 * truncated input, concatenated members, and a decompression bomb that must
 * fail without allocating past the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "http/gzip.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* gzip-compresses n bytes produced by fill(i) into a malloc'd buffer. */
static uint8_t *gz(size_t n, uint8_t (*fill)(size_t), size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)n) + 64, len = 0;
    uint8_t *out = malloc(cap);
    uint8_t chunk[65536];
    size_t done = 0;
    assert_non_null(out);
    do {
        size_t k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
        for (size_t i = 0; i < k; i++)
            chunk[i] = fill(done + i);
        done += k;
        zs.next_in = chunk;
        zs.avail_in = (uInt)k;
        int flush = done == n ? Z_FINISH : Z_NO_FLUSH;
        int z;
        do {
            zs.next_out = out + len;
            zs.avail_out = (uInt)(cap - len);
            z = deflate(&zs, flush);
            len = cap - zs.avail_out;
            assert_true(z == Z_OK || z == Z_STREAM_END || z == Z_BUF_ERROR);
        } while (zs.avail_in > 0 || (flush == Z_FINISH && z != Z_STREAM_END));
    } while (done < n);
    deflateEnd(&zs);
    *out_len = len;
    return out;
}

static uint8_t text_byte(size_t i)
{
    return (uint8_t)("lookout otlp body "[i % 18] + (i / 977) % 3);
}

static uint8_t zero_byte(size_t i)
{
    (void)i;
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t sizes[] = { 0, 1, 100, 65536, 300000 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t zn;
        uint8_t *z = gz(sizes[k], text_byte, &zn);
        uint8_t *out;
        size_t n;
        assert_int_equal(lo_gunzip(z, zn, 1 << 20, &out, &n), LO_OK);
        assert_int_equal(n, sizes[k]);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(out[i], text_byte(i));
        assert_int_equal(out[n], 0); /* NUL-terminated */
        free(out);
        free(z);
    }
}

static void test_exact_bound(void **state)
{
    (void)state;
    size_t zn, n;
    uint8_t *z = gz(4096, text_byte, &zn), *out;
    assert_int_equal(lo_gunzip(z, zn, 4096, &out, &n), LO_OK);
    assert_int_equal(n, 4096);
    free(out);
    assert_int_equal(lo_gunzip(z, zn, 4095, &out, &n), LO_TOO_LARGE);
    assert_null(out);
    assert_int_equal(lo_gunzip(z, zn, 1, &out, &n), LO_TOO_LARGE);
    assert_null(out);
    free(z);
}

static void test_corrupt(void **state)
{
    (void)state;
    size_t zn, n;
    uint8_t *z = gz(20000, text_byte, &zn), *out;

    /* not gzip at all */
    const char *plain = "this is not a gzip stream, just text";
    assert_int_equal(lo_gunzip((const uint8_t *)plain, strlen(plain), 1 << 20, &out, &n), LO_INVALID);
    assert_null(out);
    /* empty and tiny */
    assert_int_equal(lo_gunzip((const uint8_t *)"", 0, 1 << 20, &out, &n), LO_INVALID);
    assert_int_equal(lo_gunzip(z, 10, 1 << 20, &out, &n), LO_INVALID);
    /* truncated anywhere */
    size_t cuts[] = { 18, zn / 2, zn - 4, zn - 1 };
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(lo_gunzip(z, cuts[k], 1 << 20, &out, &n), LO_INVALID);
        assert_null(out);
    }
    /* a flipped byte in the data or in the CRC */
    uint8_t *bad = malloc(zn);
    memcpy(bad, z, zn);
    bad[zn / 2] ^= 0x5a;
    assert_int_equal(lo_gunzip(bad, zn, 1 << 20, &out, &n), LO_INVALID);
    memcpy(bad, z, zn);
    bad[zn - 6] ^= 0x01;
    assert_int_equal(lo_gunzip(bad, zn, 1 << 20, &out, &n), LO_INVALID);
    free(bad);

    /* trailing garbage after a complete member */
    uint8_t *tail = malloc(zn + 40);
    memcpy(tail, z, zn);
    memset(tail + zn, 'x', 40);
    assert_int_equal(lo_gunzip(tail, zn + 40, 1 << 20, &out, &n), LO_INVALID);
    free(tail);
    free(z);
}

static void test_concatenated_members(void **state)
{
    (void)state;
    size_t an, bn, n;
    uint8_t *a = gz(1000, text_byte, &an), *b = gz(500, zero_byte, &bn), *out;
    uint8_t *ab = malloc(an + bn);
    memcpy(ab, a, an);
    memcpy(ab + an, b, bn);
    assert_int_equal(lo_gunzip(ab, an + bn, 1 << 20, &out, &n), LO_OK);
    assert_int_equal(n, 1500);
    assert_int_equal(out[999], text_byte(999));
    assert_int_equal(out[1000], 0);
    free(out);
    /* the bound counts both members */
    assert_int_equal(lo_gunzip(ab, an + bn, 1200, &out, &n), LO_TOO_LARGE);
    free(ab);
    free(a);
    free(b);
}

static void test_bomb(void **state)
{
    (void)state;
    /* 128 MiB of zeros: about 130 KiB compressed. */
    size_t zn, n;
    uint8_t *z = gz((size_t)128 << 20, zero_byte, &zn), *out;
    assert_true(zn < (1u << 20));
#ifndef UNDER_ASAN
    /* Cap the address space at what we use now + 96 MiB: inflating past
     * the 8 MiB bound (or anywhere near 128 MiB) would fail with LO_ERROR
     * instead of LO_TOO_LARGE. */
    struct rlimit old, lim;
    getrlimit(RLIMIT_AS, &old);
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    lim.rlim_cur = (rlim_t)pages * 4096 + ((rlim_t)96 << 20);
    lim.rlim_max = old.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
#endif
    int rc = lo_gunzip(z, zn, (size_t)8 << 20, &out, &n);
#ifndef UNDER_ASAN
    setrlimit(RLIMIT_AS, &old);
#endif
    assert_int_equal(rc, LO_TOO_LARGE);
    assert_null(out);
    free(z);
}

/* Answers compressed by lo_gzip inflate back exactly (through our own
 * bounded inflater), and Accept-Encoding is read as RFC 9110 says. */
static void test_compress_and_negotiate(void **state)
{
    (void)state;
    size_t n = 200000;
    char *json = malloc(n);
    static const char entry[] = "{\"level\":\"info\",\"message\":\"request 123\"}";
    for (size_t i = 0; i < n; i++)
        json[i] = entry[i % (sizeof entry - 1)];
    uint8_t *z, *back;
    size_t zn, bn;
    assert_int_equal(lo_gzip((const uint8_t *)json, n, 1, &z, &zn), LO_OK);
    assert_true(zn < n / 10);
    assert_int_equal(lo_gunzip(z, zn, n, &back, &bn), LO_OK);
    assert_int_equal(bn, n);
    assert_memory_equal(back, json, n);
    free(z);
    free(back);
    free(json);
    assert_int_equal(lo_gzip((const uint8_t *)"", 0, 1, &z, &zn), LO_OK);
    assert_int_equal(lo_gunzip(z, zn, 16, &back, &bn), LO_OK);
    assert_int_equal(bn, 0);
    free(z);
    free(back);

    assert_true(lo_accepts_gzip("gzip"));
    assert_true(lo_accepts_gzip("gzip, deflate, br"));
    assert_true(lo_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    assert_true(lo_accepts_gzip("*"));
    assert_true(lo_accepts_gzip("identity, *;q=0.1"));
    assert_false(lo_accepts_gzip(NULL));
    assert_false(lo_accepts_gzip(""));
    assert_false(lo_accepts_gzip("deflate, br"));
    assert_false(lo_accepts_gzip("gzip;q=0"));
    assert_false(lo_accepts_gzip("gzip;q=0.000"));
    assert_false(lo_accepts_gzip("x-gzip2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_exact_bound),
        cmocka_unit_test(test_corrupt),    cmocka_unit_test(test_concatenated_members),
        cmocka_unit_test(test_bomb),       cmocka_unit_test(test_compress_and_negotiate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
