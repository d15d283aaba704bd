/* copy.c — COPY text field writers (see copy.h). */
#include "ingest/copy.h"

#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

/* "00".."ff": one two-byte copy per input byte */
static const char hexpairs[513] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
                                  "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                                  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                                  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                                  "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                                  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                                  "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

void lo_copy_ctx_init(lo_copy_ctx_t *c)
{
    memset(c, 0, sizeof(*c));
    c->last_sec = INT64_MIN;
    if (getrandom(c->rng, sizeof(c->rng), 0) != (ssize_t)sizeof(c->rng)) {
        /* no entropy source: ids must still differ between writers */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        c->rng[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)c;
        c->rng[1] = (uint64_t)lo_now_ns();
    }
    if (c->rng[0] == 0 && c->rng[1] == 0)
        c->rng[0] = 1;
}

/* xorshift128+: fast; log ids need uniqueness, not secrecy. */
static uint64_t rng_next(lo_copy_ctx_t *c)
{
    uint64_t s1 = c->rng[0];
    const uint64_t s0 = c->rng[1];
    c->rng[0] = s0;
    s1 ^= s1 << 23;
    c->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return c->rng[1] + s0;
}

void lo_uuidv7(lo_copy_ctx_t *c, int64_t unix_ms, uint8_t out[16])
{
    uint64_t ms = (uint64_t)unix_ms & 0xFFFFFFFFFFFFULL;
    uint64_t a = rng_next(c), b = rng_next(c);
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (40 - 8 * i));
    out[6] = (uint8_t)(0x70 | (a & 0x0F));
    out[7] = (uint8_t)(a >> 8);
    for (int i = 8; i < 16; i++)
        out[i] = (uint8_t)(b >> (8 * (i - 8)));
    out[8] = (uint8_t)(0x80 | (out[8] & 0x3F));
}

void lo_uuidv7_next(lo_copy_ctx_t *c, int64_t now_ms, uint8_t out[16])
{
    if (now_ms > c->id_ms) {
        c->id_ms = now_ms;
        c->id_seq = 0;
    } else if (++c->id_seq > 0xFFF) {
        c->id_ms++; /* borrowed: the clock catches up */
        c->id_seq = 0;
    }
    lo_uuidv7(c, c->id_ms, out);
    out[6] = (uint8_t)(0x70 | (c->id_seq >> 8));
    out[7] = (uint8_t)(c->id_seq & 0xFF);
}

/* The letter after the backslash for bytes COPY text must escape, else 0. */
static const char esc_letter[256] = { ['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r' };

/* True when one of the 8 bytes is a backslash or below 0x10 (tab, newline
 * and carriage return are; other bytes below 0x10 are rare and harmless). */
static inline bool word_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t bs = x ^ (ones * '\\');
    uint64_t has_bs = (bs - ones) & ~bs & highs;
    uint64_t has_low = (x - ones * 0x10) & ~x & highs;
    return (has_bs | has_low) != 0;
}

#ifdef __SSE2__
static inline bool block_special(__m128i x)
{
    const __m128i bs = _mm_set1_epi8('\\'), low = _mm_set1_epi8(0x0F);
    /* unsigned x <= 0x0F  <=>  min(x, 0x0F) == x */
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, bs), _mm_cmpeq_epi8(_mm_min_epu8(x, low), x));
    return _mm_movemask_epi8(hit) != 0;
}
#endif

char *lo_copy_text(char *w, const char *p, size_t n)
{
    /* Fast paths copy clean blocks whole; while nothing was escaped, output
     * offsets equal input offsets, so the last block may overlap the one
     * before it instead of falling back to bytes. */
    size_t i = 0;
#ifdef __SSE2__
    if (n >= 16) {
        for (; i + 16 <= n; i += 16, w += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            if (block_special(x))
                goto bytes;
            _mm_storeu_si128((__m128i *)(void *)w, x);
        }
        if (i == n)
            return w;
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
        if (block_special(x))
            goto bytes;
        _mm_storeu_si128((__m128i *)(void *)(w + (n - i) - 16), x);
        return w + (n - i);
    }
#endif
    if (n >= 8) {
        uint64_t x;
        for (; i + 8 <= n; i += 8, w += 8) {
            memcpy(&x, p + i, 8);
            if (word_special(x))
                goto bytes;
            memcpy(w, &x, 8);
        }
        if (i == n)
            return w;
        memcpy(&x, p + n - 8, 8);
        if (word_special(x))
            goto bytes;
        memcpy(w + (n - i) - 8, &x, 8);
        return w + (n - i);
    }
bytes:
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        char e = esc_letter[ch];
        if (e == 0) {
            *w++ = (char)ch;
        } else {
            w[0] = '\\';
            w[1] = e;
            w += 2;
        }
    }
    return w;
}

static inline char *lo_copy_hex(char *w, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++, w += 2)
        memcpy(w, hexpairs + 2 * p[i], 2);
    return w;
}

char *lo_copy_bytea(char *w, const uint8_t *p, size_t n)
{
    w[0] = '\\';
    w[1] = '\\';
    w[2] = 'x';
    return lo_copy_hex(w + 3, p, n);
}

char *lo_copy_uuid(char *w, const uint8_t u[16])
{
    w = lo_copy_hex(w, u, 4);
    *w++ = '-';
    w = lo_copy_hex(w, u + 4, 2);
    *w++ = '-';
    w = lo_copy_hex(w, u + 6, 2);
    *w++ = '-';
    w = lo_copy_hex(w, u + 8, 2);
    *w++ = '-';
    return lo_copy_hex(w, u + 10, 6);
}

static inline void put2(char *w, int v)
{
    w[0] = (char)('0' + v / 10);
    w[1] = (char)('0' + v % 10);
}

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

char *lo_copy_ts(lo_copy_ctx_t *c, char *w, int64_t unix_ns)
{
    /* floor division: times before 1970 stay exact */
    int64_t us = unix_ns / 1000 - (unix_ns % 1000 < 0);
    int64_t sec = us / 1000000 - (us % 1000000 < 0);
    int64_t frac = us - sec * 1000000;
    if (sec != c->last_sec) {
        int64_t days = sec / 86400 - (sec % 86400 < 0);
        int64_t sod = sec - days * 86400;
        int y, m, d;
        civil_from_days(days, &y, &m, &d);
        char *s = c->last_date;
        put2(s, y / 100);
        put2(s + 2, y % 100);
        s[4] = '-';
        put2(s + 5, m);
        s[7] = '-';
        put2(s + 8, d);
        s[10] = ' ';
        put2(s + 11, (int)(sod / 3600));
        s[13] = ':';
        put2(s + 14, (int)(sod / 60 % 60));
        s[16] = ':';
        put2(s + 17, (int)(sod % 60));
        c->last_sec = sec;
    }
    memcpy(w, c->last_date, 19);
    w[19] = '.';
    put2(w + 20, (int)(frac / 10000));
    put2(w + 22, (int)(frac / 100 % 100));
    put2(w + 24, (int)(frac % 100));
    memcpy(w + 26, "+00", 3);
    return w + 29;
}

char *lo_copy_u64(char *w, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *w++ = tmp[--n];
    return w;
}

char *lo_copy_i64(char *w, int64_t v)
{
    if (v < 0) {
        *w++ = '-';
        return lo_copy_u64(w, (uint64_t)0 - (uint64_t)v);
    }
    return lo_copy_u64(w, (uint64_t)v);
}

char *lo_copy_f64(char *w, double v)
{
    if (isnan(v)) {
        memcpy(w, "NaN", 3);
        return w + 3;
    }
    if (isinf(v)) {
        if (v < 0) {
            memcpy(w, "-Infinity", 9);
            return w + 9;
        }
        memcpy(w, "Infinity", 8);
        return w + 8;
    }
    /* Values with up to 9 decimals (most measurements) without printf: m
     * and 10^k are exact doubles, so m / 10^k is correctly rounded, i.e.
     * exactly what parsing "m * 10^-k" yields; equal to v, the short
     * decimal reads back to the same double.  -0 keeps its sign (printf). */
    static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
    if (fabs(v) < 9007199254740992.0 && !(v == 0 && signbit(v))) {
        for (int k = 0; k < 10; k++) {
            double x = v * p10[k];
            if (!(fabs(x) < 9007199254740992.0))
                break;
            int64_t m = (int64_t)x;
            if ((double)m != x || (double)m / p10[k] != v)
                continue;
            if (k == 0)
                return lo_copy_i64(w, m);
            if (m < 0) {
                *w++ = '-';
                m = -m;
            }
            char digits[24];
            char *d = lo_copy_i64(digits, m);
            int nd = (int)(d - digits);
            if (nd <= k) { /* 0.00ddd */
                *w++ = '0';
                *w++ = '.';
                for (int z = nd; z < k; z++)
                    *w++ = '0';
                memcpy(w, digits, (size_t)nd);
                return w + nd;
            }
            memcpy(w, digits, (size_t)(nd - k));
            w += nd - k;
            *w++ = '.';
            memcpy(w, digits + nd - k, (size_t)k);
            return w + k;
        }
    }
    /* 17 significant digits read back to the same double */
    int n = snprintf(w, LO_COPY_F64_MAX, "%.17g", v);
    return w + n;
}
