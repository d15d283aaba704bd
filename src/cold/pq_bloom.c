/* Split-block bloom filters (BloomFilter.md in apache/parquet-format):
 * 32-byte blocks of eight 32-bit words; the hash's upper half picks the
 * block, its lower half times eight salts sets one bit in each word. */
#include "cold/pq_internal.h"

#include <xxhash.h>

static const uint32_t salt[8] = { 0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                  0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U };

uint64_t lo_pq_hash(const void *p, size_t n)
{
    return XXH64(p, n, 0);
}

size_t lo_pq_bloom_bytes(size_t ndv, size_t max_bytes)
{
    /* ~12 bits per distinct value keeps false positives near 1% */
    size_t want = ndv > SIZE_MAX / 2 ? SIZE_MAX / 2 : ndv * 12 / 8 + 1;
    size_t bytes = 32;
    while (bytes < want && bytes * 2 <= max_bytes)
        bytes *= 2;
    return bytes;
}

static uint8_t *block_of(const uint8_t *bits, size_t nbytes, uint64_t h)
{
    uint64_t nblocks = nbytes / 32;
    return (uint8_t *)bits + (((h >> 32) * nblocks) >> 32) * 32;
}

void lo_pq_bloom_insert(uint8_t *bits, size_t nbytes, uint64_t h)
{
    uint8_t *b = block_of(bits, nbytes, h);
    uint32_t key = (uint32_t)h;
    for (int i = 0; i < 8; i++) {
        uint32_t word = lo_le32(b + 4 * i) | 1u << ((key * salt[i]) >> 27);
        lo_put_le32(b + 4 * i, word);
    }
}

bool lo_pq_bloom_find(const uint8_t *bits, size_t nbytes, uint64_t h)
{
    const uint8_t *b = block_of(bits, nbytes, h);
    uint32_t key = (uint32_t)h;
    for (int i = 0; i < 8; i++)
        if (!(lo_le32(b + 4 * i) & 1u << ((key * salt[i]) >> 27)))
            return false;
    return true;
}
