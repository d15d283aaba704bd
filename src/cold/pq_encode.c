/* Parquet's integer encodings (Encodings.md in apache/parquet-format):
 * bit packing LSB first, the RLE/bit-packed hybrid, DELTA_BINARY_PACKED. */
#include "cold/pq_internal.h"
#include "cold/thrift.h"

void lo_pq_bitpack(lo_buf_t *out, const uint64_t *v, size_t n, int w)
{
    uint64_t acc = 0;
    int have = 0; /* bits in acc; below 8 between values */
    for (size_t i = 0; i < n; i++) {
        uint64_t x = w == 64 ? v[i] : v[i] & ((1ULL << w) - 1);
        int left = w;
        while (left > 0) {
            int take = left < 64 - have ? left : 64 - have;
            acc |= (take == 64 ? x : x & ((1ULL << take) - 1)) << have;
            have += take;
            x = take == 64 ? 0 : x >> take;
            left -= take;
            while (have >= 8) {
                lo_buf_putc(out, (char)(acc & 0xff));
                acc >>= 8;
                have -= 8;
            }
        }
    }
    if (have > 0)
        lo_buf_putc(out, (char)(acc & 0xff));
}

uint64_t lo_pq_bits_at(const uint8_t *p, size_t pos, int w)
{
    uint64_t v = 0;
    int got = 0, off = (int)(pos & 7);
    size_t i = pos >> 3;
    while (got < w) {
        v |= (uint64_t)(p[i++] >> off) << got;
        got += 8 - off;
        off = 0;
    }
    return w == 64 ? v : v & ((1ULL << w) - 1);
}

static void rle_run(lo_buf_t *out, uint32_t value, size_t count, int w)
{
    lo_varint_put(out, (uint64_t)count << 1);
    for (int i = 0; i < (w + 7) / 8; i++)
        lo_buf_putc(out, (char)(value >> (8 * i)));
}

static void packed_run(lo_buf_t *out, const uint32_t *v, size_t n, int w)
{
    uint64_t tmp[8];
    size_t groups = (n + 7) / 8;
    lo_varint_put(out, (uint64_t)groups << 1 | 1);
    for (size_t g = 0; g < groups; g++) {
        for (size_t k = 0; k < 8; k++)
            tmp[k] = g * 8 + k < n ? v[g * 8 + k] : 0; /* the last group padded with zeros */
        lo_pq_bitpack(out, tmp, 8, w);
    }
}

/* Runs of 8 or more equal values become RLE runs; what lies between is bit
 * packed in groups of 8, the last group of a stretch borrowing values from
 * the run after it (whose rest is then a shorter run). */
void lo_pq_rle_encode(lo_buf_t *out, const uint32_t *v, size_t n, int w)
{
    size_t i = 0;
    while (i < n) {
        size_t r = i, j = i + 1;
        while (j < n && j - r < 8) {
            if (v[j] != v[r])
                r = j;
            j++;
        }
        bool run = j - r >= 8;
        if (run && r == i) {
            while (j < n && v[j] == v[i])
                j++;
            rle_run(out, v[i], j - i, w);
            i = j;
            continue;
        }
        size_t lit = (run ? r : n) - i;
        size_t take = (lit + 7) / 8 * 8;
        if (take > 63 * 8)
            take = 63 * 8; /* one header byte per packed run, as other writers do */
        if (take > n - i)
            take = n - i;
        packed_run(out, v + i, take, w);
        i += take;
    }
}

int lo_pq_rle_decode(const uint8_t *p, size_t len, int w, uint32_t *out, size_t n)
{
    const uint8_t *end = p + len;
    size_t i = 0, vbytes = (size_t)(w + 7) / 8;
    if (w < 0 || w > 32)
        return LO_INVALID;
    while (i < n) {
        uint64_t h;
        if (lo_varint_get(&p, end, &h) != LO_OK)
            return LO_INVALID;
        if (h & 1) {
            uint64_t groups = h >> 1;
            size_t avail = (size_t)(end - p);
            if (w > 0 && groups > avail / (size_t)w)
                return LO_INVALID;
            size_t bytes = (size_t)groups * (size_t)w; /* 8 values of w bits */
            size_t want = n - i, count = groups > want / 8 + 1 ? want : (size_t)groups * 8;
            if (count > want)
                count = want;
            for (size_t k = 0; k < count; k++)
                out[i++] = (uint32_t)lo_pq_bits_at(p, k * (size_t)w, w);
            p += bytes;
        } else {
            uint64_t count = h >> 1;
            if ((size_t)(end - p) < vbytes)
                return LO_INVALID;
            uint32_t value = 0;
            for (size_t k = 0; k < vbytes; k++)
                value |= (uint32_t)p[k] << (8 * k);
            p += vbytes;
            if (w < 32 && value >> w != 0)
                return LO_INVALID;
            size_t take = count < n - i ? (size_t)count : n - i;
            for (size_t k = 0; k < take; k++)
                out[i++] = value;
        }
    }
    return LO_OK;
}

#define DELTA_BLOCK      128
#define DELTA_MINIBLOCKS 4
#define DELTA_PER_MINI   (DELTA_BLOCK / DELTA_MINIBLOCKS)

void lo_pq_delta_encode(lo_buf_t *out, const int64_t *v, size_t n)
{
    lo_varint_put(out, DELTA_BLOCK);
    lo_varint_put(out, DELTA_MINIBLOCKS);
    lo_varint_put(out, n);
    lo_varint_put(out, lo_zigzag(n ? v[0] : 0));
    uint64_t d[DELTA_BLOCK];
    for (size_t i = 1; i < n; i += DELTA_BLOCK) {
        size_t m = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        int64_t min = INT64_MAX;
        for (size_t k = 0; k < m; k++) {
            /* unsigned arithmetic: deltas wrap as two's complement */
            d[k] = (uint64_t)v[i + k] - (uint64_t)v[i + k - 1];
            if ((int64_t)d[k] < min)
                min = (int64_t)d[k];
        }
        lo_varint_put(out, lo_zigzag(min));
        uint8_t widths[DELTA_MINIBLOCKS] = { 0 };
        for (size_t k = 0; k < m; k++)
            d[k] -= (uint64_t)min;
        for (size_t k = m; k < DELTA_BLOCK; k++)
            d[k] = 0;
        for (int mb = 0; mb < DELTA_MINIBLOCKS; mb++) {
            uint64_t all = 0;
            for (size_t k = (size_t)mb * DELTA_PER_MINI; k < (size_t)(mb + 1) * DELTA_PER_MINI && k < m; k++)
                all |= d[k];
            widths[mb] = (uint8_t)lo_pq_bit_width(all);
        }
        lo_buf_append(out, widths, sizeof widths);
        for (int mb = 0; mb < DELTA_MINIBLOCKS && (size_t)mb * DELTA_PER_MINI < m; mb++)
            lo_pq_bitpack(out, d + mb * DELTA_PER_MINI, DELTA_PER_MINI, widths[mb]);
    }
}

typedef struct {
    uint64_t block, minis, total;
    int64_t first;
} delta_header_t;

static int delta_header(const uint8_t **p, const uint8_t *end, delta_header_t *h)
{
    uint64_t first;
    if (lo_varint_get(p, end, &h->block) != LO_OK || lo_varint_get(p, end, &h->minis) != LO_OK ||
        lo_varint_get(p, end, &h->total) != LO_OK || lo_varint_get(p, end, &first) != LO_OK)
        return LO_INVALID;
    h->first = lo_unzigzag(first);
    if (h->block == 0 || h->block % 128 != 0 || h->block > (1u << 20) || h->minis == 0 ||
        h->block % h->minis != 0 || (h->block / h->minis) % 32 != 0)
        return LO_INVALID;
    return LO_OK;
}

int lo_pq_delta_count(const uint8_t *p, size_t len, size_t *n)
{
    delta_header_t h;
    if (delta_header(&p, p + len, &h) != LO_OK || h.total > SIZE_MAX / 16)
        return LO_INVALID;
    *n = (size_t)h.total;
    return LO_OK;
}

int lo_pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t n, size_t *used)
{
    const uint8_t *start = p, *end = p + len;
    delta_header_t h;
    if (delta_header(&p, end, &h) != LO_OK || h.total != n)
        return LO_INVALID;
    if (n > 0)
        out[0] = h.first;
    uint64_t last = (uint64_t)h.first;
    size_t i = 1, per_mini = (size_t)(h.block / h.minis);
    while (i < n) {
        uint64_t zmin;
        if (lo_varint_get(&p, end, &zmin) != LO_OK)
            return LO_INVALID;
        uint64_t min = (uint64_t)lo_unzigzag(zmin);
        if ((uint64_t)(end - p) < h.minis)
            return LO_INVALID;
        const uint8_t *widths = p;
        p += h.minis;
        for (size_t mb = 0; mb < h.minis && i < n; mb++) {
            int w = widths[mb];
            if (w > 64)
                return LO_INVALID;
            size_t bytes = per_mini / 8 * (size_t)w;
            if ((size_t)(end - p) < bytes)
                return LO_INVALID;
            for (size_t k = 0; k < per_mini && i < n; k++) {
                last += min + lo_pq_bits_at(p, k * (size_t)w, w);
                out[i++] = (int64_t)last;
            }
            p += bytes;
        }
    }
    *used = (size_t)(p - start);
    return LO_OK;
}
