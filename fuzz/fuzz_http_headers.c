/*
 * fuzz_http_headers.c — libFuzzer target: the header parsers of the OTLP
 * listener (http/parse.h: Content-Type, Content-Encoding, Content-Length,
 * Transfer-Encoding) on arbitrary strings.  Transfer-Encoding is accepted
 * only when the string holds the letters of "chunked" and nothing else but
 * blanks.  An accepted Content-Length is at most INT64_MAX and is
 * the number its digits spell; a plain run of up to 18 digits is accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 512)
        return 0;
    char s[513];
    memcpy(s, data, size);
    s[size] = '\0';
    size_t n = strlen(s);

    lo_content_type_t ct = lo_http_content_type(s);
    if (ct != LO_CT_NONE && ct != LO_CT_UNSUPPORTED && ct != LO_CT_PROTOBUF && ct != LO_CT_JSON)
        abort();
    lo_content_encoding_t ce = lo_http_content_encoding(s);
    if (ce != LO_CE_IDENTITY && ce != LO_CE_GZIP && ce != LO_CE_UNSUPPORTED)
        abort();

    uint64_t len = 0, digits = 0;
    size_t nd = 0;
    bool only_digits = n > 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (nd < 19)
                digits = digits * 10 + (uint64_t)(s[i] - '0');
            nd++;
        } else {
            only_digits = false;
        }
    }
    bool ok = lo_http_content_length(s, &len);
    if (ok && (len > (uint64_t)INT64_MAX || nd == 0 || (nd <= 19 && len != digits)))
        abort();
    if (only_digits && nd <= 18 && (!ok || len != digits))
        abort();

    if (lo_http_transfer_encoding_chunked(s)) {
        size_t letters = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ' ' || s[i] == '\t')
                continue;
            if (letters >= 7 || (s[i] | 0x20) != "chunked"[letters])
                abort();
            letters++;
        }
        if (letters != 7)
            abort();
    }
    return 0;
}
