/*
 * fuzz_gzip.c — libFuzzer target: the bounded gzip inflater of request
 * bodies (http/gzip.h) on arbitrary bytes.  Checks its contract: on success
 * a NUL-terminated buffer of at most max_out bytes, on failure no buffer and
 * one of the documented codes.  Corrupt, truncated, concatenated and bomb-like
 * streams all come through here.
 */
#include <stdint.h>
#include <stdlib.h>

#include "http/gzip.h"

#define FUZZ_GZIP_MAX_OUT (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = (uint8_t *)data; /* must be overwritten */
    size_t out_len = (size_t)-1;
    int rc = lo_gunzip(data, size, FUZZ_GZIP_MAX_OUT, &out, &out_len);
    if (rc == LO_OK) {
        if (out == NULL || out_len > FUZZ_GZIP_MAX_OUT || out[out_len] != '\0')
            abort();
    } else {
        if (out != NULL)
            abort();
        if (rc != LO_INVALID && rc != LO_TOO_LARGE && rc != LO_ERROR)
            abort();
    }
    free(out);
    return 0;
}
