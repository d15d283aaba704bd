/* The Parquet library (cold/parquet.h, cold/thrift.h): Thrift compact
 * vectors derived by hand from the protocol, the integer encodings against
 * the examples of Encodings.md, write-then-read round trips of every type,
 * nulls, pages, row groups and codecs, files written by DuckDB
 * (tests/parquet/fixtures, made by tests/parquet/make-fixtures.mjs), and
 * damaged files.  With LO_PQ_CHECK_DIR set it also leaves files there for
 * tests/parquet/check-with-duckdb.mjs (make parquet-check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "cold/parquet.h"
#include "cold/pq_internal.h"
#include "cold/thrift.h"

/* ---- Thrift ---- */

/* struct { 1: i32 1, 20: i64 -1, 21: true, 22: "ab", 23: list<i32>[1,2,3],
 *          24: struct { 1: double 1.0 } } */
static const uint8_t thrift_vector[] = {
    0x15, 0x02,                   /* delta 1, I32, zigzag(1) */
    0x06, 0x28, 0x01,             /* long form: I64, zigzag(20), zigzag(-1) */
    0x11,                         /* delta 1, TRUE */
    0x18, 0x02, 'a',  'b',        /* delta 1, BINARY, len 2 */
    0x19, 0x35, 0x02, 0x04, 0x06, /* delta 1, LIST, 3 x I32 */
    0x1c, 0x17, 0,    0,    0,    0,
    0,    0,    0xf0, 0x3f, 0x00, 0x00, /* delta 1, STRUCT { 1: DOUBLE 1.0 } stop; stop */
};

static void test_thrift_encode_vector(void **state)
{
    (void)state;
    lo_buf_t b;
    lo_thrift_w_t w;
    lo_buf_init(&b, 0);
    lo_thrift_w_init(&w, &b);
    lo_thrift_w_i32(&w, 1, 1);
    lo_thrift_w_i64(&w, 20, -1);
    lo_thrift_w_bool(&w, 21, true);
    lo_thrift_w_binary(&w, 22, "ab", 2);
    lo_thrift_w_list_begin(&w, 23, LO_THRIFT_I32, 3);
    for (int i = 1; i <= 3; i++)
        lo_thrift_w_elem_i32(&w, i);
    lo_thrift_w_struct_begin(&w, 24);
    lo_thrift_w_double(&w, 1, 1.0);
    lo_thrift_w_struct_end(&w);
    assert_int_equal(lo_thrift_w_finish(&w), LO_OK);
    assert_int_equal(b.len, sizeof thrift_vector);
    assert_memory_equal(b.p, thrift_vector, sizeof thrift_vector);
    lo_buf_free(&b);
}

static int walk(const uint8_t *p, size_t n, int64_t *sum)
{
    lo_thrift_r_t r;
    int16_t last = 0, id;
    int t, rc;
    lo_thrift_r_init(&r, p, n, 0);
    if (lo_thrift_r_enter(&r, LO_THRIFT_STRUCT) != LO_OK)
        return LO_INVALID;
    while ((rc = lo_thrift_r_field(&r, &last, &id, &t)) == LO_OK) {
        int64_t v;
        if (id == 20) {
            if (lo_thrift_r_i64(&r, t, &v) != LO_OK)
                return LO_INVALID;
            *sum += v;
        } else if (lo_thrift_r_skip(&r, t) != LO_OK) {
            return LO_INVALID;
        }
    }
    return rc == LO_ABSENT ? LO_OK : LO_INVALID;
}

static void test_thrift_decode_vector(void **state)
{
    (void)state;
    lo_thrift_r_t r;
    int16_t last = 0, id;
    int t;
    int32_t i32;
    int64_t i64;
    bool b;
    const uint8_t *p;
    size_t n;
    int et;
    double d;
    lo_thrift_r_init(&r, thrift_vector, sizeof thrift_vector, 0);
    assert_int_equal(lo_thrift_r_enter(&r, LO_THRIFT_STRUCT), LO_OK);
    assert_int_equal(lo_thrift_r_field(&r, &last, &id, &t), LO_OK);
    assert_int_equal(id, 1);
    assert_int_equal(lo_thrift_r_i32(&r, t, &i32), LO_OK);
    assert_int_equal(i32, 1);
    assert_int_equal(lo_thrift_r_field(&r, &last, &id, &t), LO_OK);
    assert_int_equal(id, 20);
    assert_int_equal(lo_thrift_r_i64(&r, t, &i64), LO_OK);
    assert_true(i64 == -1);
    assert_int_equal(lo_thrift_r_field(&r, &last, &id, &t), LO_OK);
    assert_int_equal(lo_thrift_r_bool(&r, t, &b, false), LO_OK);
    assert_true(id == 21 && b);
    assert_int_equal(lo_thrift_r_field(&r, &last, &id, &t), LO_OK);
    assert_int_equal(lo_thrift_r_binary(&r, t, &p, &n), LO_OK);
    assert_true(id == 22 && n == 2 && memcmp(p, "ab", 2) == 0);
    assert_int_equal(lo_thrift_r_field(&r, &last, &id, &t), LO_OK);
    assert_int_equal(lo_thrift_r_list(&r, t, &et, &n), LO_OK);
    assert_true(id == 23 && n == 3 && et == LO_THRIFT_I32);
    for (int k = 1; k <= 3; k++) {
        assert_int_equal(lo_thrift_r_i32(&r, et, &i32), LO_OK);
        assert_int_equal(i32, k);
    }
    assert_int_equal(lo_thrift_r_field(&r, &last, &id, &t), LO_OK);
    assert_int_equal(id, 24);
    assert_int_equal(lo_thrift_r_enter(&r, t), LO_OK);
    int16_t l2 = 0;
    assert_int_equal(lo_thrift_r_field(&r, &l2, &id, &t), LO_OK);
    assert_int_equal(lo_thrift_r_double(&r, t, &d), LO_OK);
    assert_true(d == 1.0);
    assert_int_equal(lo_thrift_r_field(&r, &l2, &id, &t), LO_ABSENT);
    lo_thrift_r_leave(&r);
    assert_int_equal(lo_thrift_r_field(&r, &last, &id, &t), LO_ABSENT);
    assert_true(r.p == r.end);

    /* unknown fields skipped; every truncation refused, never read past */
    int64_t sum = 0;
    assert_int_equal(walk(thrift_vector, sizeof thrift_vector, &sum), LO_OK);
    assert_true(sum == -1);
    for (size_t cut = 0; cut < sizeof thrift_vector; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, thrift_vector, cut);
        assert_int_equal(walk(copy, cut, &sum), LO_INVALID);
        free(copy);
    }
}

static void test_thrift_bounds(void **state)
{
    (void)state;
    /* 40 nested structs: past the depth limit */
    uint8_t deep[80];
    for (int i = 0; i < 40; i++)
        deep[i] = 0x1c;
    memset(deep + 40, 0, 40);
    int64_t sum = 0;
    assert_int_equal(walk(deep, sizeof deep, &sum), LO_INVALID);
    /* a list claiming more elements than bytes remain */
    const uint8_t list[] = { 0x19, 0xf5, 0xff, 0xff, 0x03, 0x02, 0x00 };
    assert_int_equal(walk(list, sizeof list, &sum), LO_INVALID);
    /* a binary longer than its input */
    const uint8_t bin[] = { 0x18, 0x7f, 'a', 0x00 };
    assert_int_equal(walk(bin, sizeof bin, &sum), LO_INVALID);
    /* a varint of 11 bytes */
    const uint8_t vi[] = { 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00 };
    assert_int_equal(walk(vi, sizeof vi, &sum), LO_INVALID);
    /* an i32 out of range */
    lo_thrift_r_t r;
    int32_t v;
    const uint8_t big[] = { 0x80, 0x80, 0x80, 0x80, 0x10 };
    lo_thrift_r_init(&r, big, sizeof big, 0);
    assert_int_equal(lo_thrift_r_i32(&r, LO_THRIFT_I32, &v), LO_INVALID);
}

/* ---- encodings ---- */

static void test_rle_hybrid_vectors(void **state)
{
    (void)state;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    /* Encodings.md: 0..7 at bit width 3 pack to 10001000 11000110 11111010 */
    const uint32_t seq[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    lo_pq_rle_encode(&b, seq, 8, 3);
    const uint8_t packed[] = { 0x03, 0x88, 0xc6, 0xfa };
    assert_int_equal(b.len, sizeof packed);
    assert_memory_equal(b.p, packed, sizeof packed);
    uint32_t out[64];
    assert_int_equal(lo_pq_rle_decode(packed, sizeof packed, 3, out, 8), LO_OK);
    assert_memory_equal(out, seq, sizeof seq);
    /* a run: 10 copies of 5 at width 3 = header 10 << 1, one value byte */
    const uint32_t run[10] = { 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 };
    lo_buf_reset(&b);
    lo_pq_rle_encode(&b, run, 10, 3);
    const uint8_t rle[] = { 0x14, 0x05 };
    assert_int_equal(b.len, sizeof rle);
    assert_memory_equal(b.p, rle, sizeof rle);
    /* a value wider than the bit width is refused; so is a short input */
    const uint8_t wide[] = { 0x14, 0x09 };
    assert_int_equal(lo_pq_rle_decode(wide, sizeof wide, 3, out, 10), LO_INVALID);
    assert_int_equal(lo_pq_rle_decode(packed, 3, 3, out, 8), LO_INVALID);
    /* mixed runs round-trip at every width */
    uint32_t mix[1000], back[1000];
    for (int w = 1; w <= 32; w++) {
        for (int i = 0; i < 1000; i++) {
            uint32_t v = (i / 37) % 3 == 0 ? 1u : (uint32_t)(i * 2654435761u);
            mix[i] = w == 32 ? v : v & ((1u << w) - 1);
        }
        lo_buf_reset(&b);
        lo_pq_rle_encode(&b, mix, 1000, w);
        assert_int_equal(lo_pq_rle_decode((uint8_t *)b.p, b.len, w, back, 1000), LO_OK);
        assert_memory_equal(back, mix, sizeof mix);
    }
    lo_buf_free(&b);
}

static void test_delta_vectors(void **state)
{
    (void)state;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    /* Encodings.md example 1 (1..5), with the block of 128 / 4 miniblocks
     * this writer uses: every relative delta is 0, so no miniblock bytes */
    const int64_t ex1[] = { 1, 2, 3, 4, 5 };
    lo_pq_delta_encode(&b, ex1, 5);
    const uint8_t enc1[] = { 0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00 };
    assert_int_equal(b.len, sizeof enc1);
    assert_memory_equal(b.p, enc1, sizeof enc1);
    /* example 2 (7,5,3,1,2,3,4,5): min delta -2, relative 0,0,0,3,3,3,3 at
     * width 2 in the first miniblock of 32 values (8 bytes, zero padded) */
    const int64_t ex2[] = { 7, 5, 3, 1, 2, 3, 4, 5 };
    const uint8_t enc2[] = { 0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0x00, 0x00,
                             0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
    lo_buf_reset(&b);
    lo_pq_delta_encode(&b, ex2, 8);
    assert_int_equal(b.len, sizeof enc2);
    assert_memory_equal(b.p, enc2, sizeof enc2);
    int64_t out[2000];
    size_t used;
    assert_int_equal(lo_pq_delta_decode(enc2, sizeof enc2, out, 8, &used), LO_OK);
    assert_int_equal(used, sizeof enc2);
    assert_memory_equal(out, ex2, sizeof ex2);
    assert_int_equal(lo_pq_delta_decode(enc2, sizeof enc2 - 1, out, 8, &used), LO_INVALID);
    /* extremes wrap as two's complement */
    int64_t v[2000];
    for (int i = 0; i < 2000; i++)
        v[i] = i % 3 == 0 ? INT64_MIN + i : i % 3 == 1 ? INT64_MAX - i : 1700000000000000LL + i * 1000;
    lo_buf_reset(&b);
    lo_pq_delta_encode(&b, v, 2000);
    assert_int_equal(lo_pq_delta_decode((uint8_t *)b.p, b.len, out, 2000, &used), LO_OK);
    assert_int_equal(used, b.len);
    assert_memory_equal(out, v, sizeof v);
    lo_buf_free(&b);
}

static void test_bloom(void **state)
{
    (void)state;
    size_t nbytes = lo_pq_bloom_bytes(1000, 1 << 20);
    assert_true(nbytes >= 1024 && nbytes % 32 == 0);
    uint8_t *bits = calloc(1, nbytes);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        lo_pq_bloom_insert(bits, nbytes, lo_pq_hash(key, (size_t)n));
    }
    int fp = 0;
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        assert_true(lo_pq_bloom_find(bits, nbytes, lo_pq_hash(key, (size_t)n)));
        n = snprintf(key, sizeof key, "absent%d", i);
        fp += lo_pq_bloom_find(bits, nbytes, lo_pq_hash(key, (size_t)n));
    }
    assert_true(fp < 50); /* about 1% expected */
    free(bits);
    /* XXH64 of the empty input, seed 0 (the xxHash reference value) */
    assert_true(lo_pq_hash("", 0) == 0xEF46DB3751D8E999ULL);
}

/* ---- write, then read ---- */

static int buf_sink(void *ud, const void *p, size_t n)
{
    return lo_buf_append(ud, p, n);
}

enum { C_TS, C_N, C_D, C_B, C_S, C_BODY, C_JSON, C_ID, C_SPAN, C_BIG, NCOLS };

static const lo_pq_column_t cols[NCOLS] = {
    { .name = "ts", .type = LO_PQ_INT64, .logical = LO_PQ_LOGICAL_TIMESTAMP_MICROS },
    { .name = "n", .type = LO_PQ_INT32, .optional = true },
    { .name = "d", .type = LO_PQ_DOUBLE },
    { .name = "b", .type = LO_PQ_BOOLEAN, .optional = true },
    { .name = "s",
      .type = LO_PQ_BYTE_ARRAY,
      .logical = LO_PQ_LOGICAL_STRING,
      .optional = true,
      .bloom = true },
    { .name = "body", .type = LO_PQ_BYTE_ARRAY, .logical = LO_PQ_LOGICAL_STRING, .no_dictionary = true },
    { .name = "attrs", .type = LO_PQ_BYTE_ARRAY, .logical = LO_PQ_LOGICAL_JSON, .optional = true },
    { .name = "id", .type = LO_PQ_FIXED, .type_length = 16, .logical = LO_PQ_LOGICAL_UUID, .bloom = true },
    { .name = "span", .type = LO_PQ_FIXED, .type_length = 8, .optional = true },
    { .name = "big", .type = LO_PQ_INT64, .bloom = true },
};

/* The rows, each a function of its number (check-with-duckdb.mjs knows the
 * same functions). */
static int64_t v_ts(int64_t i)
{
    return 1700000000000000LL + i * 1000 + i % 7;
}
static bool is_null(int64_t i)
{
    return i % 5 == 0;
}
static int v_str(int64_t i, int col, char *buf)
{
    switch (col) {
    case C_S: return sprintf(buf, "svc-%d", (int)(i % 50));
    case C_BODY: return sprintf(buf, "line %lld %.*s", (long long)i, (int)(i % 13), "xxxxxxxxxxxxxxx");
    case C_JSON: return sprintf(buf, "{\"k\":%lld}", (long long)i);
    case C_ID: memset(buf, 0x11, 16), memcpy(buf, &(uint32_t){ (uint32_t)i }, 4); return 16;
    default: {
        uint64_t u = (uint64_t)i * 2654435761u;
        for (int k = 0; k < 8; k++)
            buf[k] = (char)(u >> (8 * k));
        return 8;
    }
    }
}

static void write_rows(lo_pq_writer_t *w, int64_t from, size_t n)
{
    int64_t *ts = calloc(n, 8), *big = calloc(n, 8);
    int32_t *n32 = calloc(n, 4);
    double *d = calloc(n, 8);
    uint8_t *b = calloc(n, 1), *nl = calloc(n, 1);
    lo_str_t *s[NCOLS];
    char *mem = calloc(n, 5 * 64);
    for (int c = C_S; c <= C_SPAN; c++)
        s[c] = calloc(n, sizeof(lo_str_t));
    for (size_t k = 0; k < n; k++) {
        int64_t i = from + (int64_t)k;
        ts[k] = v_ts(i);
        big[k] = i * 1000000000000LL - 5000000000000000LL;
        n32[k] = (int32_t)(i * 3 - 100);
        d[k] = (double)i * 0.5 - 10;
        b[k] = i & 1;
        nl[k] = is_null(i);
        for (int c = C_S; c <= C_SPAN; c++) {
            char *at = mem + k * 320 + (c - C_S) * 64;
            s[c][k] = lo_str(at, (size_t)v_str(i, c, at));
        }
    }
    assert_int_equal(lo_pq_write_i64(w, C_TS, ts, NULL, n), LO_OK);
    assert_int_equal(lo_pq_write_i32(w, C_N, n32, nl, n), LO_OK);
    assert_int_equal(lo_pq_write_f64(w, C_D, d, NULL, n), LO_OK);
    assert_int_equal(lo_pq_write_bool(w, C_B, b, nl, n), LO_OK);
    assert_int_equal(lo_pq_write_bytes(w, C_S, s[C_S], nl, n), LO_OK);
    assert_int_equal(lo_pq_write_bytes(w, C_BODY, s[C_BODY], NULL, n), LO_OK);
    assert_int_equal(lo_pq_write_bytes(w, C_JSON, s[C_JSON], nl, n), LO_OK);
    assert_int_equal(lo_pq_write_bytes(w, C_ID, s[C_ID], NULL, n), LO_OK);
    assert_int_equal(lo_pq_write_bytes(w, C_SPAN, s[C_SPAN], nl, n), LO_OK);
    assert_int_equal(lo_pq_write_i64(w, C_BIG, big, NULL, n), LO_OK);
    free(ts), free(big), free(n32), free(d), free(b), free(nl), free(mem);
    for (int c = C_S; c <= C_SPAN; c++)
        free(s[c]);
}

/* A file of rows 0..rows-1 in row groups of rg rows. */
static void write_file(lo_buf_t *out, const lo_pq_options_t *o, int64_t rows)
{
    char err[256];
    lo_buf_init(out, 0);
    lo_pq_schema_t schema = { cols, NCOLS };
    lo_pq_writer_t *w = lo_pq_writer_open(&schema, o, buf_sink, out, err, sizeof err);
    assert_non_null(w);
    int64_t i = 0;
    while (i < rows) {
        size_t room = lo_pq_writer_room(w);
        if (room == 0) {
            assert_int_equal(lo_pq_writer_end_row_group(w), LO_OK);
            continue;
        }
        size_t n = (size_t)(rows - i) < room ? (size_t)(rows - i) : room;
        if (n > 777)
            n = 777; /* batches that do not line up with pages or row groups */
        write_rows(w, i, n);
        i += (int64_t)n;
    }
    assert_int_equal(lo_pq_writer_close(w), LO_OK);
    assert_int_equal(lo_pq_writer_offset(w), out->len);
    lo_pq_writer_destroy(w);
}

/* Compares the values of column c with the functions; v's first value is
 * row base of the file. */
static void check_values(size_t c, const lo_pq_values_t *v, int64_t base)
{
    char want[128];
    for (size_t k = 0; k < v->n; k++) {
        int64_t i = base + (int64_t)k;
        bool null = cols[c].optional && is_null(i);
        if (cols[c].optional)
            assert_int_equal(v->nulls[k], null);
        if (null)
            continue;
        switch (c) {
        case C_TS: assert_true(v->v.i64[k] == v_ts(i)); break;
        case C_BIG: assert_true(v->v.i64[k] == i * 1000000000000LL - 5000000000000000LL); break;
        case C_N: assert_int_equal(v->v.i32[k], i * 3 - 100); break;
        case C_D: assert_true(v->v.f64[k] == (double)i * 0.5 - 10); break;
        case C_B: assert_int_equal(v->v.b[k], i & 1); break;
        default: {
            int n = v_str(i, (int)c, want);
            assert_int_equal(v->v.s[k].len, n);
            assert_memory_equal(v->v.s[k].p, want, (size_t)n);
        }
        }
    }
}

/* Reads every column of every row group and compares with the functions. */
static void check_file(const lo_buf_t *file, int64_t rows)
{
    char err[256], want[128];
    lo_pq_file_t *f;
    assert_int_equal(lo_pq_open_buffer(file->p, file->len, NULL, &f, err, sizeof err), LO_OK);
    assert_int_equal(f->n_fields, NCOLS);
    assert_true(f->num_rows == rows);
    assert_true(f->type_defined_order);
    assert_true(f->fields[C_TS].logical == LO_PQ_LOGICAL_TIMESTAMP_MICROS && f->fields[C_TS].utc);
    assert_true(f->fields[C_S].logical == LO_PQ_LOGICAL_STRING && f->fields[C_S].optional);
    assert_true(f->fields[C_JSON].logical == LO_PQ_LOGICAL_JSON);
    assert_true(f->fields[C_ID].logical == LO_PQ_LOGICAL_UUID && f->fields[C_ID].type_length == 16);
    int64_t base = 0;
    for (size_t g = 0; g < f->n_row_groups; g++) {
        const lo_pq_row_group_t *rg = &f->row_groups[g];
        for (size_t c = 0; c < NCOLS; c++) {
            lo_pq_values_t v;
            int rc = lo_pq_read_column(f, g, c, &v, err, sizeof err);
            if (rc != LO_OK)
                fail_msg("rg %zu col %zu: %s", g, c, err);
            assert_true(v.n == (size_t)rg->num_rows);
            assert_true(rg->columns[c].stats.has_null_count);
            check_values(c, &v, base);
            lo_pq_values_free(&v);
            /* windows of rows: only the pages that hold them are read */
            size_t n = (size_t)rg->num_rows;
            size_t win[][2] = { { 0, n },     { n / 3, n / 3 + 1 }, { n / 2, n },
                                { n - 1, n }, { n / 4, n / 4 },     { 1, n > 1 ? n - 1 : 1 } };
            for (size_t w = 0; w < LO_ARRAY_LEN(win); w++) {
                rc = lo_pq_read_rows(f, g, c, win[w][0], win[w][1], &v, err, sizeof err);
                if (rc != LO_OK)
                    fail_msg("rg %zu col %zu rows %zu-%zu: %s", g, c, win[w][0], win[w][1], err);
                assert_true(v.n == win[w][1] - win[w][0]);
                check_values(c, &v, base + (int64_t)win[w][0]);
                lo_pq_values_free(&v);
            }
            assert_int_equal(lo_pq_read_rows(f, g, c, 0, n + 1, &v, err, sizeof err), LO_INVALID);
        }
        /* statistics: ts ascends within the row group */
        const lo_pq_stats_t *st = &rg->columns[C_TS].stats;
        assert_true(st->has_min_max && st->min.len == 8 && !st->legacy);
        assert_true((int64_t)lo_le64((const uint8_t *)st->min.p) == v_ts(base));
        assert_true((int64_t)lo_le64((const uint8_t *)st->max.p) == v_ts(base + rg->num_rows - 1));
        /* the page index covers the rows, in order */
        lo_pq_page_index_t pi;
        assert_int_equal(lo_pq_read_page_index(f, g, C_TS, &pi, err, sizeof err), LO_OK);
        assert_true(pi.n_pages >= 1 && pi.pages[0].first_row == 0 && pi.has_column_index);
        assert_int_equal(pi.boundary_order, LO_PQ_ASCENDING);
        for (size_t p = 1; p < pi.n_pages; p++)
            assert_true(pi.pages[p].first_row > pi.pages[p - 1].first_row &&
                        pi.pages[p].offset > pi.pages[p - 1].offset);
        lo_pq_page_index_free(&pi);
        /* bloom filters: present values found, an absent one not */
        bool maybe;
        base += rg->num_rows;
        if (rg->num_rows < 2)
            continue; /* (row 0 of a group of one is null in s: no filter) */
        int n = v_str(base - rg->num_rows + 1, C_S, want);
        assert_int_equal(lo_pq_bloom_check(f, g, C_S, want, (size_t)n, &maybe, err, sizeof err), LO_OK);
        assert_true(maybe);
        assert_int_equal(lo_pq_bloom_check(f, g, C_S, "nope", 4, &maybe, err, sizeof err), LO_OK);
        assert_false(maybe);
        assert_int_equal(lo_pq_bloom_check(f, g, C_TS, "x", 1, &maybe, err, sizeof err), LO_ABSENT);
    }
    assert_true(base == rows);
    lo_pq_close(f);
}

static void round_trip(lo_pq_codec_t codec, size_t page_bytes, size_t rg_rows, int64_t rows)
{
    lo_pq_options_t o;
    lo_pq_options_default(&o);
    o.codec = codec;
    o.page_bytes = page_bytes;
    o.row_group_rows = rg_rows;
    lo_buf_t file;
    write_file(&file, &o, rows);
    check_file(&file, rows);
    lo_buf_free(&file);
}

static void test_round_trip_codecs(void **state)
{
    (void)state;
    round_trip(LO_PQ_SNAPPY, 1 << 20, 1000000, 3000);
    round_trip(LO_PQ_ZSTD, 1 << 20, 1000000, 3000);
    round_trip(LO_PQ_GZIP, 1 << 20, 1000000, 3000);
    round_trip(LO_PQ_UNCOMPRESSED, 1 << 20, 1000000, 3000);
}

static void test_round_trip_pages_and_groups(void **state)
{
    (void)state;
    round_trip(LO_PQ_SNAPPY, 512, 2500, 10001); /* many small pages, five row groups */
    round_trip(LO_PQ_ZSTD, 64, 100000, 50001);  /* pages past the row cap */
    round_trip(LO_PQ_SNAPPY, 4096, 1, 7);       /* one row per group */
}

/* A dictionary past its limit: the chunk keeps its dictionary page for the
 * first pages and goes on without (values repeated five times, so that the
 * first page is worth a dictionary). */
static void test_dictionary_fallback(void **state)
{
    (void)state;
    lo_pq_column_t c = { .name = "s", .type = LO_PQ_BYTE_ARRAY, .logical = LO_PQ_LOGICAL_STRING };
    lo_pq_schema_t schema = { &c, 1 };
    lo_pq_options_t o;
    lo_pq_options_default(&o);
    o.dict_max_bytes = 2000;
    o.page_bytes = 300;
    lo_buf_t file;
    char err[256], want[32];
    lo_buf_init(&file, 0);
    lo_pq_writer_t *w = lo_pq_writer_open(&schema, &o, buf_sink, &file, err, sizeof err);
    assert_non_null(w);
    lo_str_t v[5000];
    static char mem[5000][16];
    for (int i = 0; i < 5000; i++)
        v[i] = lo_str(mem[i], (size_t)sprintf(mem[i], "v%d", i / 5 % 1000));
    assert_int_equal(lo_pq_write_bytes(w, 0, v, NULL, 5000), LO_OK);
    assert_int_equal(lo_pq_writer_close(w), LO_OK);
    lo_pq_writer_destroy(w);
    lo_pq_file_t *f;
    assert_int_equal(lo_pq_open_buffer(file.p, file.len, NULL, &f, err, sizeof err), LO_OK);
    const lo_pq_chunk_t *ch = &f->row_groups[0].columns[0];
    assert_true(ch->dictionary_page_offset >= 4);
    assert_true(ch->encodings & (1u << LO_PQ_ENC_RLE_DICTIONARY));
    assert_true(ch->encodings & (1u << LO_PQ_ENC_DELTA_BYTE_ARRAY)); /* equal neighbours share all */
    lo_pq_values_t r;
    assert_int_equal(lo_pq_read_column(f, 0, 0, &r, err, sizeof err), LO_OK);
    for (int i = 0; i < 5000; i++) {
        int n = sprintf(want, "v%d", i / 5 % 1000);
        assert_int_equal(r.v.s[i].len, n);
        assert_memory_equal(r.v.s[i].p, want, (size_t)n);
    }
    lo_pq_values_free(&r);
    lo_pq_close(f);
    lo_buf_free(&file);
}

/* Byte arrays without a dictionary: nearly unique values drop it after the
 * first page; DELTA_BYTE_ARRAY for values that share prefixes with the one
 * before, DELTA_LENGTH_BYTE_ARRAY otherwise; a dictionary again in the next
 * row group where values repeat. */
enum { BA_HEX, BA_KEY, BA_REP, BA_N };

static int ba_value(int col, int i, char *buf)
{
    uint64_t u = (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL;
    switch (col) {
    case BA_HEX: return sprintf(buf, "%016llx", (unsigned long long)u);        /* like span ids */
    case BA_KEY: return sprintf(buf, "key-%08d-%02x", i, (unsigned)(u >> 56)); /* sorted */
    default: return sprintf(buf, "r%d", i % 10);
    }
}

static void test_byte_array_encodings(void **state)
{
    (void)state;
    const lo_pq_column_t c[BA_N] = {
        { .name = "hex", .type = LO_PQ_BYTE_ARRAY, .logical = LO_PQ_LOGICAL_STRING, .optional = true },
        { .name = "key", .type = LO_PQ_BYTE_ARRAY, .logical = LO_PQ_LOGICAL_STRING },
        { .name = "rep", .type = LO_PQ_BYTE_ARRAY, .logical = LO_PQ_LOGICAL_STRING },
    };
    lo_pq_schema_t schema = { c, BA_N };
    lo_pq_options_t o;
    lo_pq_options_default(&o);
    o.codec = LO_PQ_ZSTD;
    o.page_bytes = 20000;
    o.row_group_rows = 3000;
    enum { ROWS = 4500 };
    lo_buf_t file;
    char err[256], want[64];
    lo_buf_init(&file, 0);
    lo_pq_writer_t *w = lo_pq_writer_open(&schema, &o, buf_sink, &file, err, sizeof err);
    assert_non_null(w);
    static char mem[BA_N][ROWS][32];
    static lo_str_t v[BA_N][ROWS];
    static uint8_t nulls[ROWS];
    for (int i = 0; i < ROWS; i++) {
        nulls[i] = i % 3 == 0;
        for (int k = 0; k < BA_N; k++)
            v[k][i] = lo_str(mem[k][i], (size_t)ba_value(k, i, mem[k][i]));
    }
    for (int from = 0; from < ROWS; from += 3000) {
        size_t n = ROWS - from < 3000 ? (size_t)(ROWS - from) : 3000;
        assert_int_equal(lo_pq_write_bytes(w, BA_HEX, v[BA_HEX] + from, nulls + from, n), LO_OK);
        assert_int_equal(lo_pq_write_bytes(w, BA_KEY, v[BA_KEY] + from, NULL, n), LO_OK);
        assert_int_equal(lo_pq_write_bytes(w, BA_REP, v[BA_REP] + from, NULL, n), LO_OK);
        assert_int_equal(lo_pq_writer_end_row_group(w), LO_OK);
    }
    assert_int_equal(lo_pq_writer_close(w), LO_OK);
    lo_pq_writer_destroy(w);

    lo_pq_file_t *f;
    assert_int_equal(lo_pq_open_buffer(file.p, file.len, NULL, &f, err, sizeof err), LO_OK);
    assert_int_equal(f->n_row_groups, 2);
    int64_t base = 0;
    for (size_t g = 0; g < f->n_row_groups; g++) {
        const lo_pq_chunk_t *ch = f->row_groups[g].columns;
        assert_true(ch[BA_HEX].dictionary_page_offset < 0);
        assert_true(ch[BA_HEX].encodings & (1u << LO_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY));
        assert_false(ch[BA_HEX].encodings & (1u << LO_PQ_ENC_RLE_DICTIONARY));
        assert_true(ch[BA_KEY].dictionary_page_offset < 0);
        assert_true(ch[BA_KEY].encodings & (1u << LO_PQ_ENC_DELTA_BYTE_ARRAY));
        assert_true(ch[BA_REP].dictionary_page_offset >= 4);
        assert_true(ch[BA_REP].encodings & (1u << LO_PQ_ENC_RLE_DICTIONARY));
        for (size_t k = 0; k < BA_N; k++) {
            lo_pq_values_t r;
            if (lo_pq_read_column(f, g, k, &r, err, sizeof err) != LO_OK)
                fail_msg("rg %zu col %zu: %s", g, k, err);
            assert_true(r.n == (size_t)f->row_groups[g].num_rows);
            for (size_t j = 0; j < r.n; j++) {
                int i = (int)(base + (int64_t)j);
                if (k == BA_HEX) {
                    assert_int_equal(r.nulls[j], nulls[i]);
                    if (nulls[i])
                        continue;
                }
                int n = ba_value((int)k, i, want);
                assert_int_equal(r.v.s[j].len, n);
                assert_memory_equal(r.v.s[j].p, want, (size_t)n);
            }
            lo_pq_values_free(&r);
        }
        base += f->row_groups[g].num_rows;
    }
    lo_pq_close(f);
    lo_buf_free(&file);
}

static void test_writer_refusals(void **state)
{
    (void)state;
    char err[256];
    lo_buf_t file;
    lo_buf_init(&file, 0);
    lo_pq_column_t bad[] = { { .name = "a", .type = LO_PQ_INT32, .logical = LO_PQ_LOGICAL_STRING } };
    lo_pq_schema_t s = { bad, 1 };
    assert_null(lo_pq_writer_open(&s, NULL, buf_sink, &file, err, sizeof err));
    assert_non_null(strstr(err, "logical"));
    lo_pq_column_t dup[] = { { .name = "a", .type = LO_PQ_INT32 }, { .name = "a", .type = LO_PQ_INT64 } };
    s = (lo_pq_schema_t){ dup, 2 };
    assert_null(lo_pq_writer_open(&s, NULL, buf_sink, &file, err, sizeof err));
    lo_pq_writer_t *w =
        lo_pq_writer_open(&(lo_pq_schema_t){ dup, 1 }, NULL, buf_sink, &file, err, sizeof err);
    const uint8_t nulls[1] = { 1 };
    const int32_t one = 1;
    assert_int_equal(lo_pq_write_i32(w, 0, &one, nulls, 1), LO_INVALID); /* a null in a REQUIRED column */
    assert_int_equal(lo_pq_writer_close(w), LO_INVALID);                 /* and the writer stays failed */
    lo_pq_writer_destroy(w);
    lo_buf_free(&file);
}

/* ---- files written by DuckDB ---- */

static lo_buf_t load(const char *path)
{
    lo_buf_t b;
    lo_buf_init(&b, 0);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        fail_msg("cannot open %s (run from the repository's root)", path);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
        lo_buf_append(&b, tmp, n);
    fclose(fp);
    return b;
}

/* make-fixtures.mjs: 1000 rows, i = 0..999 */
static void check_fixture(const char *name)
{
    char path[256], err[256], want[64];
    snprintf(path, sizeof path, "tests/parquet/fixtures/%s", name);
    lo_buf_t b = load(path);
    lo_pq_file_t *f;
    if (lo_pq_open_buffer(b.p, b.len, NULL, &f, err, sizeof err) != LO_OK)
        fail_msg("%s: %s", name, err);
    assert_int_equal(f->n_fields, 8);
    assert_true(f->num_rows == 1000);
    assert_true(lo_str_eq(f->fields[4].name, "service"));
    assert_true(f->fields[7].logical == LO_PQ_LOGICAL_TIMESTAMP_MICROS && f->fields[7].utc);
    int64_t base = 0;
    for (size_t g = 0; g < f->n_row_groups; g++) {
        lo_pq_values_t v[8];
        for (size_t c = 0; c < 8; c++)
            if (lo_pq_read_column(f, g, c, &v[c], err, sizeof err) != LO_OK)
                fail_msg("%s: %s", name, err);
        for (size_t k = 0; k < v[0].n; k++) {
            int64_t i = base + (int64_t)k;
            assert_true(v[0].v.i64[k] == i);
            assert_int_equal(v[1].v.i32[k], i * 7 - 3000);
            assert_true(v[2].v.f64[k] == (double)i * 0.25);
            assert_int_equal(v[3].v.b[k], i % 3 == 0);
            int n = sprintf(want, "svc-%d", (int)(i % 10));
            assert_true(v[4].v.s[k].len == (size_t)n && memcmp(v[4].v.s[k].p, want, (size_t)n) == 0);
            assert_int_equal(v[5].nulls[k], i % 4 == 0);
            if (i % 4) {
                n = sprintf(want, "msg %d", (int)i);
                assert_true(v[5].v.s[k].len == (size_t)n && memcmp(v[5].v.s[k].p, want, (size_t)n) == 0);
            }
            assert_int_equal(v[6].nulls[k], i % 5 == 0);
            if (i % 5)
                assert_true(v[6].v.i64[k] == i * 11);
            assert_true(v[7].v.i64[k] == 1700000000000000LL + i * 1000001LL);
        }
        base += (int64_t)v[0].n;
        for (size_t c = 0; c < 8; c++)
            lo_pq_values_free(&v[c]);
    }
    assert_true(base == 1000);
    lo_pq_close(f);
    lo_buf_free(&b);
}

static void test_duckdb_fixtures(void **state)
{
    (void)state;
    check_fixture("snappy.parquet");
    check_fixture("zstd.parquet");
    check_fixture("gzip.parquet");
    check_fixture("uncompressed.parquet");
    check_fixture("v2.parquet");
}

/* ---- damaged files ---- */

/* Opens and reads everything it can; any answer but a crash will do, and
 * errors carry a message. */
static void read_all(const uint8_t *p, size_t n)
{
    char err[256];
    lo_pq_file_t *f;
    lo_pq_limits_t lim = { .max_rows = 1 << 16, .max_page_bytes = 1 << 22, .max_chunk_bytes = 1 << 22 };
    err[0] = '\0';
    if (lo_pq_open_buffer(p, n, &lim, &f, err, sizeof err) != LO_OK) {
        assert_true(err[0] != '\0');
        return;
    }
    for (size_t g = 0; g < f->n_row_groups; g++)
        for (size_t c = 0; c < f->n_fields; c++) {
            lo_pq_values_t v;
            err[0] = '\0';
            if (lo_pq_read_column(f, g, c, &v, err, sizeof err) == LO_OK)
                lo_pq_values_free(&v);
            else
                assert_true(err[0] != '\0');
        }
    lo_pq_close(f);
}

static void test_damaged_files(void **state)
{
    (void)state;
    lo_pq_options_t o;
    lo_pq_options_default(&o);
    o.page_bytes = 256;
    lo_buf_t file;
    write_file(&file, &o, 300);
    uint8_t *copy = malloc(file.len);
    /* every truncation of the tail, and byte flips across the file */
    for (size_t cut = 0; cut < file.len; cut += 1 + cut / 64)
        read_all((uint8_t *)file.p, cut);
    uint32_t seed = 12345;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, file.p, file.len);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % file.len] ^= (uint8_t)(1u << (seed % 8));
        }
        read_all(copy, file.len);
    }
    free(copy);
    lo_buf_free(&file);
}

/* ---- files for check-with-duckdb.mjs ---- */

static void save(const char *dir, const char *name, const lo_buf_t *b)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->p, 1, b->len, fp), b->len);
    fclose(fp);
}

static void test_files_for_duckdb(void **state)
{
    (void)state;
    const char *dir = getenv("LO_PQ_CHECK_DIR");
    if (dir == NULL || dir[0] == '\0')
        skip();
    static const struct {
        const char *name;
        lo_pq_codec_t codec;
    } files[] = { { "lookout-snappy.parquet", LO_PQ_SNAPPY },
                  { "lookout-zstd.parquet", LO_PQ_ZSTD },
                  { "lookout-gzip.parquet", LO_PQ_GZIP },
                  { "lookout-uncompressed.parquet", LO_PQ_UNCOMPRESSED } };
    for (size_t i = 0; i < LO_ARRAY_LEN(files); i++) {
        lo_pq_options_t o;
        lo_pq_options_default(&o);
        o.codec = files[i].codec;
        o.page_bytes = 4096;
        o.row_group_rows = 10000;
        lo_buf_t file;
        write_file(&file, &o, 30000);
        save(dir, files[i].name, &file);
        lo_buf_free(&file);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_encode_vector), cmocka_unit_test(test_thrift_decode_vector),
        cmocka_unit_test(test_thrift_bounds),        cmocka_unit_test(test_rle_hybrid_vectors),
        cmocka_unit_test(test_delta_vectors),        cmocka_unit_test(test_bloom),
        cmocka_unit_test(test_round_trip_codecs),    cmocka_unit_test(test_round_trip_pages_and_groups),
        cmocka_unit_test(test_dictionary_fallback),  cmocka_unit_test(test_byte_array_encodings),
        cmocka_unit_test(test_writer_refusals),      cmocka_unit_test(test_duckdb_fixtures),
        cmocka_unit_test(test_damaged_files),        cmocka_unit_test(test_files_for_duckdb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
