/* ids.c — hex and UUID text (ids.h). */
#include "core/ids.h"

const char lo_hex_digits[16] = "0123456789abcdef";

#define H16(b) -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
const int8_t lo_hex_values[256] = {
    H16(0x00), H16(0x10), H16(0x20), 0,         1,         2,         3,         4,         5,         6,
    7,         8,         9,         -1,        -1,        -1,        -1,        -1,        -1, /* 0x30 */
    -1,        10,        11,        12,        13,        14,        15,        -1,        -1,        -1,
    -1,        -1,        -1,        -1,        -1,        -1, /* 0x40 */
    H16(0x50), -1,        10,        11,        12,        13,        14,        15,        -1,        -1,
    -1,        -1,        -1,        -1,        -1,        -1,        -1, /* 0x60 */
    H16(0x70), H16(0x80), H16(0x90), H16(0xa0), H16(0xb0), H16(0xc0), H16(0xd0), H16(0xe0), H16(0xf0),
};
#undef H16

bool lo_hex_parse(lo_str_t s, uint8_t *out, size_t n)
{
    if (s.len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = lo_hex_value(s.p[2 * i]), lo = lo_hex_value(s.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

char *lo_hex_put(char *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *o++ = lo_hex_digits[p[i] >> 4];
        *o++ = lo_hex_digits[p[i] & 15];
    }
    return o;
}

bool lo_uuid_parse(lo_str_t s, uint8_t out[16])
{
    if (s.len != 36 || s.p[8] != '-' || s.p[13] != '-' || s.p[18] != '-' || s.p[23] != '-')
        return false;
    static const uint8_t starts[] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34 };
    for (size_t i = 0; i < 16; i++) {
        int hi = lo_hex_value(s.p[starts[i]]), lo = lo_hex_value(s.p[starts[i] + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void lo_uuid_format(const uint8_t u[16], char out[37])
{
    char *o = out;
    o = lo_hex_put(o, u, 4);
    *o++ = '-';
    o = lo_hex_put(o, u + 4, 2);
    *o++ = '-';
    o = lo_hex_put(o, u + 6, 2);
    *o++ = '-';
    o = lo_hex_put(o, u + 8, 2);
    *o++ = '-';
    o = lo_hex_put(o, u + 10, 6);
    *o = '\0';
}
