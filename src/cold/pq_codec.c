/* Page compression: Snappy's raw block format, zstd frames, gzip members
 * (Compression.md in apache/parquet-format).  Each page is compressed on
 * its own. */
#include "cold/pq_internal.h"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

static int gzip_compress(const void *src, size_t n, lo_buf_t *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return LO_ERROR;
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    if (n > UINT32_MAX || lo_buf_reserve(out, cap) != LO_OK) {
        deflateEnd(&z);
        return LO_ERROR;
    }
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->p + out->len;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t produced = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return LO_ERROR;
    out->len += produced;
    return LO_OK;
}

static int gzip_decompress(const void *src, size_t n, void *dst, size_t dst_len)
{
    if (n > UINT32_MAX || dst_len > UINT32_MAX)
        return LO_INVALID;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib header */
        return LO_ERROR;
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)dst_len;
    int rc = inflate(&z, Z_FINISH);
    size_t got = dst_len - z.avail_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END && got == dst_len ? LO_OK : LO_INVALID;
}

int lo_pq_compress(lo_pq_codec_t codec, int level, const void *src, size_t n, lo_buf_t *out)
{
    switch (codec) {
    case LO_PQ_UNCOMPRESSED: return lo_buf_append(out, src, n);
    case LO_PQ_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        if (lo_buf_reserve(out, cap) != LO_OK)
            return LO_ERROR;
        if (snappy_compress(src, n, out->p + out->len, &cap) != SNAPPY_OK)
            return LO_ERROR;
        out->len += cap;
        return LO_OK;
    }
    case LO_PQ_ZSTD: {
        size_t cap = ZSTD_compressBound(n);
        if (lo_buf_reserve(out, cap) != LO_OK)
            return LO_ERROR;
        size_t got = ZSTD_compress(out->p + out->len, cap, src, n, level);
        if (ZSTD_isError(got))
            return LO_ERROR;
        out->len += got;
        return LO_OK;
    }
    case LO_PQ_GZIP: return gzip_compress(src, n, out);
    }
    return LO_INVALID;
}

int lo_pq_decompress(int codec, const void *src, size_t n, void *dst, size_t dst_len)
{
    switch (codec) {
    case LO_PQ_UNCOMPRESSED:
        if (n != dst_len)
            return LO_INVALID;
        if (n > 0)
            memcpy(dst, src, n);
        return LO_OK;
    case LO_PQ_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length(src, n, &len) != SNAPPY_OK || len != dst_len)
            return LO_INVALID;
        if (snappy_uncompress(src, n, dst, &len) != SNAPPY_OK || len != dst_len)
            return LO_INVALID;
        return LO_OK;
    }
    case LO_PQ_ZSTD: {
        size_t got = ZSTD_decompress(dst, dst_len, src, n);
        return !ZSTD_isError(got) && got == dst_len ? LO_OK : LO_INVALID;
    }
    case LO_PQ_GZIP: return gzip_decompress(src, n, dst, dst_len);
    }
    return LO_INVALID;
}
