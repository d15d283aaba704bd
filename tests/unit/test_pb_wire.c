/*
 * test_pb_wire.c — the protobuf wire reader (src/otlp/pb.h) on its own:
 * varints at their limits, every wire type, lengths past the end, packed
 * runs, zigzag; checked against protobuf-c's encoder where it has one.
 */
#include "pb_oracle.h"
#include "otlp/pb.h"

static int next1(const uint8_t *p, size_t n, lo_pb_field_t *f)
{
    lo_pb_reader_t r;
    lo_pb_init(&r, p, n);
    return lo_pb_next(&r, f);
}

static void test_varints(void **state)
{
    (void)state;
    static const uint64_t v[] = {
        0, 1, 127, 128, 300, 16383, 16384, 1ULL << 35, (1ULL << 63) - 1, 1ULL << 63, UINT64_MAX
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(v); i++) {
        uint8_t b[16];
        size_t n = lo_pb_put_varint(b, v[i]);
        const uint8_t *p = b;
        uint64_t out = 0;
        assert_int_equal(lo_pb_varint(&p, b + n, &out), LO_PB_FIELD);
        assert_true(out == v[i]);
        assert_ptr_equal(p, b + n);
        /* every shorter prefix is truncated */
        for (size_t k = 0; k < n; k++) {
            p = b;
            assert_int_equal(lo_pb_varint(&p, b + k, &out), LO_PB_E_TRUNC);
        }
    }
    /* 10th byte above 1: beyond 64 bits */
    uint8_t big[11] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    const uint8_t *p = big;
    uint64_t out;
    assert_int_equal(lo_pb_varint(&p, big + 10, &out), LO_PB_E_VARINT);
    /* 11 bytes */
    uint8_t eleven[11] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00 };
    p = eleven;
    assert_int_equal(lo_pb_varint(&p, eleven + 11, &out), LO_PB_E_VARINT);
    /* non-minimal but valid: 0x80 0x00 is 0 */
    uint8_t nm[2] = { 0x80, 0x00 };
    p = nm;
    assert_int_equal(lo_pb_varint(&p, nm + 2, &out), LO_PB_FIELD);
    assert_true(out == 0);
}

static void test_fields(void **state)
{
    (void)state;
    lo_pb_field_t f;
    /* varint field 1 = 150 */
    static const uint8_t a[] = { 0x08, 0x96, 0x01 };
    assert_int_equal(next1(a, sizeof(a), &f), LO_PB_FIELD);
    assert_int_equal(f.num, 1);
    assert_int_equal(f.wt, LO_PB_VARINT);
    assert_int_equal(f.v, 150);
    /* fixed64 and fixed32, little-endian */
    static const uint8_t b[] = { 0x11, 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_int_equal(next1(b, sizeof(b), &f), LO_PB_FIELD);
    assert_true(f.v == 0x0807060504030201ULL);
    assert_int_equal(next1(b, sizeof(b) - 1, &f), LO_PB_E_TRUNC);
    assert_int_equal(f.num, 2);
    static const uint8_t c[] = { 0x1d, 1, 2, 3, 4 };
    assert_int_equal(next1(c, sizeof(c), &f), LO_PB_FIELD);
    assert_true(f.v == 0x04030201u);
    assert_int_equal(next1(c, 4, &f), LO_PB_E_TRUNC);
    /* length-delimited: a view, checked against what remains */
    static const uint8_t d[] = { 0x22, 0x03, 'a', 'b', 'c' };
    assert_int_equal(next1(d, sizeof(d), &f), LO_PB_FIELD);
    assert_int_equal(f.n, 3);
    assert_ptr_equal(f.p, d + 2);
    assert_int_equal(next1(d, 4, &f), LO_PB_E_TRUNC);
    /* a length of 2^63 does not wrap around */
    static const uint8_t e[] = { 0x22, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 'x' };
    assert_int_equal(next1(e, sizeof(e), &f), LO_PB_E_TRUNC);
    static const uint8_t e2[] = { 0x22, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'x' };
    assert_int_equal(next1(e2, sizeof(e2), &f), LO_PB_E_TRUNC);
    /* groups and reserved wire types */
    for (uint8_t wt = 3; wt <= 7; wt++) {
        if (wt == 5)
            continue;
        uint8_t g[] = { (uint8_t)(1 << 3 | wt), 0 };
        assert_int_equal(next1(g, sizeof(g), &f), LO_PB_E_WIRETYPE);
        assert_int_equal(f.num, 1);
    }
    /* field number 0, and a tag beyond 32 bits */
    static const uint8_t z[] = { 0x02, 0x00 };
    assert_int_equal(next1(z, sizeof(z), &f), LO_PB_E_FIELDNUM);
    static const uint8_t t[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    assert_int_equal(next1(t, sizeof(t), &f), LO_PB_E_FIELDNUM);
    /* the largest field number */
    static const uint8_t mx[] = { 0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00 };
    assert_int_equal(next1(mx, sizeof(mx), &f), LO_PB_FIELD);
    assert_int_equal(f.num, (1u << 29) - 1);
    /* the end */
    assert_int_equal(next1(a, 0, &f), LO_PB_END);
}

static void test_zigzag_and_packed(void **state)
{
    (void)state;
    assert_int_equal(lo_pb_zigzag32(0), 0);
    assert_int_equal(lo_pb_zigzag32(1), -1);
    assert_int_equal(lo_pb_zigzag32(2), 1);
    assert_int_equal(lo_pb_zigzag32(4294967294u), INT32_MAX);
    assert_int_equal(lo_pb_zigzag32(4294967295u), INT32_MIN);
    /* against protobuf-c: Buckets{offset sint32, counts packed varint} */
    static uint64_t counts[] = { 0, 1, 300, UINT64_MAX };
    static const int32_t offs[] = { 0, -1, 1, INT32_MIN, INT32_MAX, -300 };
    for (size_t i = 0; i < LO_ARRAY_LEN(offs); i++) {
        LookoutTest__ExponentialHistogramDataPoint__Buckets b =
            LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT__BUCKETS__INIT;
        b.offset = offs[i];
        b.n_bucket_counts = 4;
        b.bucket_counts = counts;
        size_t n;
        uint8_t *p = pack_msg(&b.base, &n);
        lo_pb_reader_t r;
        lo_pb_field_t f = { 0 };
        int32_t off = 0;
        size_t k = 0;
        lo_pb_init(&r, p, n);
        while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
            if (f.num == 1)
                off = lo_pb_zigzag32(f.v);
            if (f.num == 2) {
                assert_int_equal(f.wt, LO_PB_LEN);
                lo_pb_packed_t pk = { f.p, f.p + f.n };
                uint64_t v;
                while (lo_pb_packed_next_varint(&pk, &v) == LO_PB_FIELD)
                    assert_true(v == counts[k++]);
            }
        }
        assert_int_equal(off, offs[i]);
        assert_int_equal(k, 4);
        free(p);
    }
    /* packed fixed64: a partial value at the end is an error */
    static const uint8_t pf[] = { 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0 };
    lo_pb_packed_t pk = { pf, pf + sizeof(pf) };
    uint64_t v;
    assert_int_equal(lo_pb_packed_next64(&pk, &v), 1);
    assert_true(v == 1);
    assert_true(lo_pb_packed_next64(&pk, &v) < 0);
    /* packed varints: a truncated one at the end is an error */
    static const uint8_t pv[] = { 0x01, 0x80 };
    lo_pb_packed_t pk2 = { pv, pv + sizeof(pv) };
    assert_int_equal(lo_pb_packed_next_varint(&pk2, &v), LO_PB_FIELD);
    assert_true(lo_pb_packed_next_varint(&pk2, &v) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_zigzag_and_packed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
