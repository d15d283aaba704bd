/*
 * fuzz_query_params.c — libFuzzer target: the query API's parameter parsers
 * (query/query_internal.h: times, UUIDs, hex ids, LIKE escaping) on arbitrary
 * strings.  What a parser accepts must print canonically and parse back to
 * the same value; LIKE escaping must stay within 2 * n + 1 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query/query_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char s[257];
    memcpy(s, data, size);
    s[size] = '\0';

    int64_t us, again;
    if (lo_q_parse_time(s, &us) == LO_OK) {
        char f[32];
        lo_q_fmt_time(us, f);
        if (lo_q_parse_time(f, &again) != LO_OK || again != us)
            abort();
    }
    char u[37], u2[37];
    if (lo_q_parse_uuid(s, u) == LO_OK) {
        if (strlen(u) != 36 || lo_q_parse_uuid(u, u2) != LO_OK || strcmp(u, u2) != 0)
            abort();
    }
    char h[33], h2[33];
    if (lo_q_parse_hex_id(s, 16, h) == LO_OK) {
        if (strlen(h) != 32 || lo_q_parse_hex_id(h, 16, h2) != LO_OK || strcmp(h, h2) != 0)
            abort();
    }
    size_t n = strlen(s);
    char *e = malloc(2 * n + 1);
    if (e != NULL) {
        lo_q_like_escape(s, e);
        if (strlen(e) > 2 * n)
            abort();
        free(e);
    }
    return 0;
}
