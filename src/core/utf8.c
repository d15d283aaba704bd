#include "core/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Length of the valid sequence starting at p, or 0 if invalid. */
static size_t seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        if (n >= 2 && (s[1] & 0xC0) == 0x80)
            return 2;
        return 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return 0; /* beyond U+10FFFF */
        return 4;
    }
    return 0;
}

size_t lo_utf8_valid_prefix(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
#ifdef __SSE2__
        /* fast path: 16 ASCII bytes without NUL at a time */
        while (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            if ((_mm_movemask_epi8(v) | _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()))) != 0)
                break;
            i += 16;
        }
#endif
        /* 8 at a time */
        while (i + 8 <= n) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if ((v & 0x8080808080808080ULL) != 0)
                break;
            /* any zero byte? */
            if (((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL) != 0)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        size_t l = seq_len(s + i, n - i);
        if (l == 0)
            return i;
        i += l;
    }
    return n;
}

size_t lo_utf8_invalid_len(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    /* consume the lead byte and any continuation bytes that follow it */
    size_t i = 1;
    if (s[0] >= 0xC0)
        while (i < n && i < 4 && (s[i] & 0xC0) == 0x80)
            i++;
    return i;
}
