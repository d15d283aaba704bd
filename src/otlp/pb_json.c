/*
 * pb_json.c — JSON scalars written straight into a lo_buf_t for the
 * protobuf walker.  The text is byte-for-byte what core/json_write.c's
 * lo_jw_* functions write (the OTLP/JSON decoder uses those, and both
 * decoders must store identical records; the unit tests render their
 * expectations with lo_jw_*), but without a function call and a bounds
 * check per character, and without printf for integers: attributes are
 * most of the decoding time.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "core/utf8.h"
#include "otlp/pb_internal.h"

/* 0: copied as is; 1: escaped; 2: start of a multi-byte sequence (or invalid) */
static const uint8_t cls[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

void lo_pbd_json_str(lo_buf_t *b, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case: every byte becomes \u00XX (6) or U+FFFD (3) */
    if (n > SIZE_MAX / 8 || (b->len + n * 6 + 3 > b->cap && lo_buf_reserve(b, n * 6 + 2) != LO_OK))
        return;
    char *o = b->p + b->len;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        /* 8 bytes at a time while none needs care (<0x20, '"', '\\', >=0x80) */
        while (i + 8 <= n) {
            uint64_t v, q, e;
            memcpy(&v, s + i, 8);
            q = v ^ 0x2222222222222222ULL;
            e = v ^ 0x5C5C5C5C5C5C5C5CULL;
            if (((v | ((v - 0x2020202020202020ULL) & ~v) | ((q - 0x0101010101010101ULL) & ~q) |
                  ((e - 0x0101010101010101ULL) & ~e)) &
                 0x8080808080808080ULL) != 0)
                break;
            memcpy(o, s + i, 8);
            o += 8;
            i += 8;
        }
        if (i >= n)
            break;
        uint8_t c = s[i];
        uint8_t k = cls[c];
        if (k == 0) {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (k == 2) {
            /* one valid sequence (at most 4 bytes: linear time), else U+FFFD */
            size_t lim = n - i < 4 ? n - i : 4;
            size_t v = lo_utf8_valid_prefix((const char *)s + i, lim);
            size_t take = 0;
            while (take < v && s[i + take] >= 0x80)
                take++;
            if (take > 0) {
                memcpy(o, s + i, take);
                o += take;
                i += take;
            } else {
                memcpy(o, "\xEF\xBF\xBD", 3);
                o += 3;
                i += lo_utf8_invalid_len((const char *)s + i, n - i);
            }
            continue;
        }
        switch (c) {
        case '"':
            *o++ = '\\';
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        case 0:
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            break;
        default:
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        }
        i++;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
}

/* Decimal digits of v, written backwards ending at end; returns the start. */
static char *digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

#define SAFE_INT 9007199254740992ULL /* 2^53: beyond it, integers are JSON strings */

void lo_pbd_json_u64(lo_buf_t *b, uint64_t v)
{
    char t[24], *e = t + sizeof(t), *s;
    bool quote = v > SAFE_INT;
    if (quote)
        *--e = '"';
    s = digits(e, v);
    if (quote)
        *--s = '"';
    lo_pbd_put(b, s, (size_t)(t + sizeof(t) - s));
}

void lo_pbd_json_i64(lo_buf_t *b, int64_t v)
{
    char t[24], *e = t + sizeof(t), *s;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    bool quote = mag > SAFE_INT;
    if (quote)
        *--e = '"';
    s = digits(e, mag);
    if (v < 0)
        *--s = '-';
    if (quote)
        *--s = '"';
    lo_pbd_put(b, s, (size_t)(t + sizeof(t) - s));
}

/*
 * printf's "%.17g" for 1e-4 <= |v| < 1e16, where %g means fixed notation,
 * computed exactly with 128-bit integers: v = m * 2^-s, and the 17
 * significant digits are floor(m * 10^k / 2^s) rounded to nearest.  Exact
 * ties and everything else are left to snprintf (returns 0).  glibc's
 * printf costs ~300 ns per double; this ~30 ns.
 */
static size_t g17(char *out, double v)
{
    /* clang-format off */
    static const uint64_t p10[20] = { 1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                      10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
                                      100000000000ULL, 1000000000000ULL, 10000000000000ULL,
                                      100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
                                      100000000000000000ULL, 1000000000000000000ULL,
                                      10000000000000000000ULL };
    /* clang-format on */
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    double a = fabs(v);
    int bexp = (int)((bits >> 52) & 0x7FF);
    if (!(a >= 1e-4 && a < 1e16) || bexp == 0)
        return 0;
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int s = 1075 - bexp; /* v = m * 2^-s */
    if (s <= 0 || s >= 120)
        return 0;
    /* decimal exponent x: first guess from the binary one, then adjusted */
    int x = (int)floor((double)(52 - s) * 0.30102999566398120);
    unsigned __int128 num = 0;
    uint64_t q = 0;
    for (int tries = 0; tries < 4; tries++) {
        int k = 16 - x;
        if (k < 0 || k > 22)
            return 0;
        num = (unsigned __int128)m * p10[k > 19 ? 19 : k];
        for (int e = 19; e < k; e++)
            num *= 10;
        unsigned __int128 qq = num >> s;
        if (qq < p10[16]) {
            x--;
            continue;
        }
        if (qq >= p10[17]) {
            x++;
            continue;
        }
        q = (uint64_t)qq;
        break;
    }
    if (q == 0)
        return 0;
    unsigned __int128 rem = num & ((((unsigned __int128)1) << s) - 1);
    unsigned __int128 half = ((unsigned __int128)1) << (s - 1);
    if (rem == half)
        return 0;
    if (rem > half)
        q++;
    if (q == p10[17]) {
        q = p10[16];
        x++;
    }
    if (x > 16 || x < -4)
        return 0;
    char dig[17];
    for (int i = 16; i >= 0; i--) {
        dig[i] = (char)('0' + q % 10);
        q /= 10;
    }
    int nd = 17; /* drop trailing zeros of the fraction */
    int intd = x >= 0 ? x + 1 : 0;
    while (nd > intd && dig[nd - 1] == '0')
        nd--;
    char *o = out;
    if (bits >> 63)
        *o++ = '-';
    if (x >= 0) {
        memcpy(o, dig, (size_t)intd);
        o += intd;
        if (nd > intd) {
            *o++ = '.';
            memcpy(o, dig + intd, (size_t)(nd - intd));
            o += nd - intd;
        }
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int z = 0; z < -x - 1; z++)
            *o++ = '0';
        memcpy(o, dig, (size_t)nd);
        o += nd;
    }
    return (size_t)(o - out);
}

void lo_pbd_json_f64(lo_buf_t *b, double v)
{
    if (isnan(v)) {
        lo_buf_append(b, "\"NaN\"", 5);
    } else if (isinf(v)) {
        if (v > 0)
            lo_buf_append(b, "\"Infinity\"", 10);
        else
            lo_buf_append(b, "\"-Infinity\"", 11);
    } else if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
        lo_pbd_json_i64(b, (int64_t)v);
    } else {
        char t[40];
        size_t fast = g17(t, v);
        if (fast > 0) {
            lo_pbd_put(b, t, fast);
            return;
        }
        int k = snprintf(t, sizeof(t), "%.17g", v);
        if (k > 0)
            lo_buf_append(b, t, (size_t)k);
    }
}

void lo_pbd_json_base64(lo_buf_t *b, const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n > SIZE_MAX / 2 || lo_buf_reserve(b, (n + 2) / 3 * 4 + 2) != LO_OK)
        return;
    char *o = b->p + b->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = tbl[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = '=';
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
}

void lo_pbd_json_hex(lo_buf_t *b, const uint8_t *p, size_t n)
{
    if (n > SIZE_MAX / 4 || lo_buf_reserve(b, n * 2 + 2) != LO_OK)
        return;
    char *o = b->p + b->len;
    *o++ = '"';
    o = lo_hex_put(o, p, n);
    *o++ = '"';
    b->len = (size_t)(o - b->p);
}
