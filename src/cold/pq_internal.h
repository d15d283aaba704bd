/*
 * pq_internal.h — what the Parquet writer and reader share: the format's
 * enums, the value encodings (pq_encode.c), the codecs (pq_codec.c), the
 * split-block bloom filter (pq_bloom.c) and the order of values for
 * statistics.  Not for use outside src/cold.
 */
#ifndef LO_COLD_PQ_INTERNAL_H
#define LO_COLD_PQ_INTERNAL_H

#include "cold/parquet.h"
#include "core/buf.h"

#define LO_PQ_MAGIC "PAR1"

/* Parquet's Encoding enum. */
enum {
    LO_PQ_ENC_PLAIN = 0,
    LO_PQ_ENC_PLAIN_DICTIONARY = 2,
    LO_PQ_ENC_RLE = 3,
    LO_PQ_ENC_BIT_PACKED = 4,
    LO_PQ_ENC_DELTA_BINARY_PACKED = 5,
    LO_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    LO_PQ_ENC_DELTA_BYTE_ARRAY = 7,
    LO_PQ_ENC_RLE_DICTIONARY = 8,
    LO_PQ_ENC_BYTE_STREAM_SPLIT = 9,
};

/* Parquet's PageType enum. */
enum {
    LO_PQ_PAGE_DATA = 0,
    LO_PQ_PAGE_INDEX = 1,
    LO_PQ_PAGE_DICTIONARY = 2,
    LO_PQ_PAGE_DATA_V2 = 3,
};

/* Parquet's ConvertedType values the writer sets. */
enum {
    LO_PQ_CONV_UTF8 = 0,
    LO_PQ_CONV_TIMESTAMP_MILLIS = 9,
    LO_PQ_CONV_TIMESTAMP_MICROS = 10,
    LO_PQ_CONV_JSON = 19,
};

/* Little-endian loads and stores. */
static inline uint32_t lo_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t lo_le64(const uint8_t *p)
{
    return (uint64_t)lo_le32(p) | (uint64_t)lo_le32(p + 4) << 32;
}
static inline void lo_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void lo_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Bits needed for v (0 for 0). */
static inline int lo_pq_bit_width(uint64_t v)
{
    return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

/* ---- encodings (pq_encode.c) ---- */

/* Appends n values of w bits (0..64) each, packed LSB first. */
void lo_pq_bitpack(lo_buf_t *out, const uint64_t *v, size_t n, int w);
/* The w-bit value at bit position pos of p; the caller has checked that
 * pos + w bits lie inside p. */
uint64_t lo_pq_bits_at(const uint8_t *p, size_t pos, int w);
/* Appends the RLE/bit-packed hybrid encoding of n values of bit width w
 * (0..32), without a length prefix. */
void lo_pq_rle_encode(lo_buf_t *out, const uint32_t *v, size_t n, int w);
/* Decodes exactly n values of bit width w (0..32) from the hybrid
 * encoding in [p, p + len).  LO_OK or LO_INVALID (too short, a value wider
 * than w). */
LO_MUST_USE int lo_pq_rle_decode(const uint8_t *p, size_t len, int w, uint32_t *out, size_t n);
/* Appends DELTA_BINARY_PACKED of n values (block 128, 4 miniblocks). */
void lo_pq_delta_encode(lo_buf_t *out, const int64_t *v, size_t n);
/* Reads the value count in a DELTA_BINARY_PACKED header. */
LO_MUST_USE int lo_pq_delta_count(const uint8_t *p, size_t len, size_t *n);
/* Decodes a DELTA_BINARY_PACKED run of exactly n values (the header's count
 * must be n); *used is set to the bytes it took.  Values wrap as 64-bit
 * integers (INT32 readers truncate).  LO_OK or LO_INVALID. */
LO_MUST_USE int lo_pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t n, size_t *used);

/* ---- codecs (pq_codec.c) ---- */

/* Appends src compressed with codec (level: zstd's). LO_OK, LO_ERROR, or
 * LO_INVALID for a codec this code does not write. */
LO_MUST_USE int lo_pq_compress(lo_pq_codec_t codec, int level, const void *src, size_t n, lo_buf_t *out);
/* Decompresses src into exactly dst_len bytes.  LO_OK or LO_INVALID
 * (corrupt input, other size, unknown codec). */
LO_MUST_USE int lo_pq_decompress(int codec, const void *src, size_t n, void *dst, size_t dst_len);

/* ---- bloom filters (pq_bloom.c) ---- */

/* The bitset size for ndv distinct values (~1% false positives): a power
 * of two from 32 to max_bytes. */
size_t lo_pq_bloom_bytes(size_t ndv, size_t max_bytes);
/* Sets the bits of hash h in a bitset of nbytes (a multiple of 32). */
void lo_pq_bloom_insert(uint8_t *bits, size_t nbytes, uint64_t h);
/* Whether every bit of hash h is set. */
bool lo_pq_bloom_find(const uint8_t *bits, size_t nbytes, uint64_t h);

/* ---- statistics ---- */

/* Compares two PLAIN values of a type in Parquet's type-defined order
 * (signed integers, IEEE doubles, unsigned bytes): <0, 0, >0. */
int lo_pq_compare(lo_pq_type_t type, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
