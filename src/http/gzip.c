#include "http/gzip.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* zlib counts in uInt: feed it at most this much at a time. */
#define CHUNK_MAX ((size_t)1 << 30)

/* Grows *buf so that at least one more byte fits, never past max_out + 1
 * (the +1 holds the NUL).  The first size is a guess from the input length:
 * bodies usually inflate 4-10x, and the guess is capped by max_out. */
static int grow(uint8_t **buf, size_t *cap, size_t in_len, size_t max_out)
{
    size_t want;
    if (*cap == 0) {
        want = in_len <= (SIZE_MAX - 4096) / 4 ? in_len * 4 + 4096 : SIZE_MAX;
    } else {
        want = *cap <= SIZE_MAX / 2 ? *cap * 2 : SIZE_MAX;
    }
    if (want > max_out + 1)
        want = max_out + 1;
    if (want <= *cap)
        return LO_TOO_LARGE;
    uint8_t *p = realloc(*buf, want);
    if (p == NULL)
        return LO_ERROR;
    *buf = p;
    *cap = want;
    return LO_OK;
}

int lo_gunzip(const uint8_t *in, size_t n, size_t max_out, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (max_out >= SIZE_MAX - 1)
        max_out = SIZE_MAX - 2;
    if (n < 18 || in[0] != 0x1f || in[1] != 0x8b)
        return LO_INVALID; /* shorter than a gzip header + trailer, or not gzip */

    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return LO_ERROR;

    uint8_t *buf = NULL;
    size_t cap = 0, len = 0, pos = 0;
    int rc = LO_OK;
    for (;;) {
        if (len + 1 >= cap) {
            /* Full up to max_out: one more byte of output means too large. */
            if (len >= max_out) {
                uint8_t probe;
                zs.next_out = &probe;
                zs.avail_out = 1;
                size_t feed = n - pos < CHUNK_MAX ? n - pos : CHUNK_MAX;
                zs.next_in = (Bytef *)(in + pos);
                zs.avail_in = (uInt)feed;
                int z = inflate(&zs, Z_NO_FLUSH);
                pos += feed - zs.avail_in;
                if (zs.avail_out == 0) {
                    rc = LO_TOO_LARGE;
                    goto cleanup;
                }
                if (z == Z_STREAM_END)
                    goto member_end;
                if (z == Z_OK)
                    continue; /* input consumed without output (headers, empty blocks) */
                rc = (z == Z_MEM_ERROR) ? LO_ERROR : LO_INVALID;
                goto cleanup;
            }
            rc = grow(&buf, &cap, n, max_out);
            if (rc != LO_OK)
                goto cleanup;
        }
        size_t room = cap - 1 - len;
        if (room > CHUNK_MAX)
            room = CHUNK_MAX;
        size_t feed = n - pos < CHUNK_MAX ? n - pos : CHUNK_MAX;
        zs.next_in = (Bytef *)(in + pos);
        zs.avail_in = (uInt)feed;
        zs.next_out = buf + len;
        zs.avail_out = (uInt)room;
        int z = inflate(&zs, Z_NO_FLUSH);
        pos += feed - zs.avail_in;
        len += room - zs.avail_out;
        if (z == Z_OK)
            continue;
        if (z == Z_BUF_ERROR && zs.avail_out == 0)
            continue; /* output full: grow and go on */
        if (z != Z_STREAM_END) {
            /* Z_BUF_ERROR with output room left: the input ended early. */
            rc = (z == Z_MEM_ERROR) ? LO_ERROR : LO_INVALID;
            goto cleanup;
        }
    member_end:
        if (pos == n)
            break;
        /* Another member must follow; anything else is garbage. */
        if (n - pos < 18 || in[pos] != 0x1f || in[pos + 1] != 0x8b) {
            rc = LO_INVALID;
            goto cleanup;
        }
        if (inflateReset(&zs) != Z_OK) {
            rc = LO_ERROR;
            goto cleanup;
        }
    }
    if (buf == NULL) {
        buf = malloc(1);
        if (buf == NULL) {
            rc = LO_ERROR;
            goto cleanup;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;

cleanup:
    inflateEnd(&zs);
    free(buf);
    return rc;
}

int lo_gzip(const uint8_t *in, size_t n, int level, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (n > CHUNK_MAX)
        return LO_TOO_LARGE;
    z_stream z = { 0 };
    /* 15 + 16: a gzip wrapper; memLevel 8 is zlib's default */
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return LO_ERROR;
    size_t cap = deflateBound(&z, (uLong)n);
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        deflateEnd(&z);
        return LO_ERROR;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return LO_ERROR;
    }
    *out = buf;
    *out_len = z.total_out;
    return LO_OK;
}

bool lo_accepts_gzip(const char *v)
{
    /* "gzip", "gzip;q=0.5", "*": yes; "gzip;q=0", absent: no */
    bool yes = false;
    while (v != NULL && *v != '\0') {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        size_t k = strcspn(v, ",; \t");
        bool gzip = (k == 4 && strncasecmp(v, "gzip", 4) == 0) || (k == 1 && *v == '*');
        v += k;
        double q = 1;
        const char *end = v + strcspn(v, ",");
        const char *qp = strstr(v, "q=");
        if (qp != NULL && qp < end)
            q = strtod(qp + 2, NULL);
        if (gzip)
            yes = q > 0;
        v = end;
    }
    return yes;
}
