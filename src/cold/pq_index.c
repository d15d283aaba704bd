/* The reader's side of bloom filters (BloomFilter.md) and page indexes
 * (PageIndex.md): each read on demand, in its own range of the file. */
#include <stdlib.h>

#include "cold/pq_read.h"
#include "cold/thrift.h"

/* Whether a union struct (BloomFilterAlgorithm, Hash, Compression) has
 * field 1 set (BLOCK, XXHASH, UNCOMPRESSED). */
static int union_is_first(lo_thrift_r_t *t, int type, bool *first)
{
    int16_t last = 0, id;
    int ft, rc;
    *first = false;
    if (lo_thrift_r_enter(t, type) != LO_OK)
        return LO_INVALID;
    while ((rc = lo_thrift_r_field(t, &last, &id, &ft)) == LO_OK) {
        *first |= id == 1;
        if (lo_thrift_r_skip(t, ft) != LO_OK)
            return LO_INVALID;
    }
    if (rc != LO_ABSENT)
        return LO_INVALID;
    lo_thrift_r_leave(t);
    return LO_OK;
}

int lo_pq_bloom_check(lo_pq_file_t *f, size_t rg, size_t col, const void *value, size_t len, bool *maybe,
                      char *err, size_t errlen)
{
    *maybe = true;
    if (rg >= f->n_row_groups || col >= f->n_fields)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: no row group %zu or column %zu", rg, col);
    const lo_pq_chunk_t *c = &f->row_groups[rg].columns[col];
    if (c->bloom_filter_offset < 0)
        return LO_ABSENT;
    /* the header is a few bytes; read up to 256 of them, less near the end */
    uint64_t body_end = f->size - f->footer_len - 8;
    if (c->bloom_filter_offset < 4 || (uint64_t)c->bloom_filter_offset >= body_end)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: a bloom filter outside the file");
    uint64_t room = body_end - (uint64_t)c->bloom_filter_offset;
    int64_t hlen = room < 256 ? (int64_t)room : 256;
    uint8_t *h;
    int rc = lo_pq_read_range(f, c->bloom_filter_offset, hlen, 256, &h, err, errlen);
    if (rc != LO_OK)
        return rc;
    lo_thrift_r_t t;
    int16_t last = 0, id;
    int ft;
    int32_t nbytes = -1;
    bool block = false, xxhash = false, plain = false;
    lo_thrift_r_init(&t, h, (size_t)hlen, 4);
    rc = lo_thrift_r_enter(&t, LO_THRIFT_STRUCT);
    while (rc == LO_OK && (rc = lo_thrift_r_field(&t, &last, &id, &ft)) == LO_OK) {
        switch (id) {
        case 1: rc = lo_thrift_r_i32(&t, ft, &nbytes); break;
        case 2: rc = union_is_first(&t, ft, &block); break;
        case 3: rc = union_is_first(&t, ft, &xxhash); break;
        case 4: rc = union_is_first(&t, ft, &plain); break;
        default: rc = lo_thrift_r_skip(&t, ft);
        }
    }
    size_t used = lo_thrift_r_pos(&t, h);
    if (rc != LO_ABSENT || nbytes < 32 || nbytes % 32 != 0 || (size_t)nbytes > f->limits.max_page_bytes)
        rc = LO_INVALID;
    else if (!block || !xxhash || !plain)
        rc = LO_ABSENT; /* a filter of a kind this code does not know: no answer */
    else
        rc = LO_OK;
    free(h);
    if (rc == LO_INVALID)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: a corrupt bloom filter header");
    if (rc == LO_ABSENT)
        return LO_ABSENT;
    uint8_t *bits;
    rc = lo_pq_read_range(f, c->bloom_filter_offset + (int64_t)used, nbytes, f->limits.max_page_bytes, &bits,
                          err, errlen);
    if (rc != LO_OK)
        return rc;
    *maybe = lo_pq_bloom_find(bits, (size_t)nbytes, lo_pq_hash(value, len));
    free(bits);
    return LO_OK;
}

static int parse_offset_index(lo_thrift_r_t *t, lo_pq_page_index_t *pi)
{
    int16_t last = 0, id;
    int ft, rc, et;
    size_t n;
    bool seen = false;
    if (lo_thrift_r_enter(t, LO_THRIFT_STRUCT) != LO_OK)
        return LO_INVALID;
    while ((rc = lo_thrift_r_field(t, &last, &id, &ft)) == LO_OK) {
        if (id != 1 || seen) {
            if (lo_thrift_r_skip(t, ft) != LO_OK)
                return LO_INVALID;
            continue;
        }
        seen = true;
        if (lo_thrift_r_list(t, ft, &et, &n) != LO_OK)
            return LO_INVALID;
        pi->pages = calloc(n ? n : 1, sizeof *pi->pages);
        if (pi->pages == NULL)
            return LO_ERROR;
        pi->n_pages = n;
        for (size_t i = 0; i < n; i++) {
            int16_t l2 = 0, id2;
            int t2, rc2;
            lo_pq_page_loc_t *p = &pi->pages[i];
            if (lo_thrift_r_enter(t, et) != LO_OK)
                return LO_INVALID;
            while ((rc2 = lo_thrift_r_field(t, &l2, &id2, &t2)) == LO_OK) {
                int r3 = id2 == 1   ? lo_thrift_r_i64(t, t2, &p->offset)
                         : id2 == 2 ? lo_thrift_r_i32(t, t2, &p->compressed_size)
                         : id2 == 3 ? lo_thrift_r_i64(t, t2, &p->first_row)
                                    : lo_thrift_r_skip(t, t2);
                if (r3 != LO_OK)
                    return LO_INVALID;
            }
            if (rc2 != LO_ABSENT)
                return LO_INVALID;
            lo_thrift_r_leave(t);
        }
    }
    return rc == LO_ABSENT && seen ? LO_OK : LO_INVALID;
}

static int parse_column_index(lo_thrift_r_t *t, lo_pq_page_index_t *pi)
{
    int16_t last = 0, id;
    int ft, rc, et;
    size_t n;
    int32_t order = 0;
    bool seen[6] = { false };
    if (lo_thrift_r_enter(t, LO_THRIFT_STRUCT) != LO_OK)
        return LO_INVALID;
    while ((rc = lo_thrift_r_field(t, &last, &id, &ft)) == LO_OK) {
        if (id == 4) {
            if (lo_thrift_r_i32(t, ft, &order) != LO_OK)
                return LO_INVALID;
            seen[4] = true;
            continue;
        }
        if (id < 1 || id > 5 || seen[id]) {
            if (lo_thrift_r_skip(t, ft) != LO_OK)
                return LO_INVALID;
            continue;
        }
        seen[id] = true;
        if (lo_thrift_r_list(t, ft, &et, &n) != LO_OK || n != pi->n_pages)
            return LO_INVALID;
        size_t m = n ? n : 1;
        if (id == 1 && (pi->null_pages = calloc(m, sizeof *pi->null_pages)) == NULL)
            return LO_ERROR;
        if (id == 2 && (pi->min = calloc(m, sizeof *pi->min)) == NULL)
            return LO_ERROR;
        if (id == 3 && (pi->max = calloc(m, sizeof *pi->max)) == NULL)
            return LO_ERROR;
        if (id == 5 && (pi->null_counts = calloc(m, sizeof *pi->null_counts)) == NULL)
            return LO_ERROR;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p;
            size_t len;
            int r2 = LO_OK;
            if (id == 1) {
                r2 = lo_thrift_r_bool(t, et, &pi->null_pages[i], true);
            } else if (id == 5) {
                r2 = lo_thrift_r_i64(t, et, &pi->null_counts[i]);
            } else {
                r2 = lo_thrift_r_binary(t, et, &p, &len);
                if (r2 == LO_OK)
                    (id == 2 ? pi->min : pi->max)[i] = lo_str((const char *)p, len);
            }
            if (r2 != LO_OK)
                return LO_INVALID;
        }
    }
    if (rc != LO_ABSENT || !seen[1] || !seen[2] || !seen[3] || !seen[4])
        return LO_INVALID;
    pi->boundary_order = order == 1 ? LO_PQ_ASCENDING : order == 2 ? LO_PQ_DESCENDING : LO_PQ_UNORDERED;
    pi->has_column_index = true;
    return LO_OK;
}

int lo_pq_read_page_index(lo_pq_file_t *f, size_t rg, size_t col, lo_pq_page_index_t *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (rg >= f->n_row_groups || col >= f->n_fields)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: no row group %zu or column %zu", rg, col);
    const lo_pq_chunk_t *c = &f->row_groups[rg].columns[col];
    if (c->offset_index_offset < 0 || c->offset_index_length <= 0)
        return LO_ABSENT;
    uint8_t *buf;
    int rc = lo_pq_read_range(f, c->offset_index_offset, c->offset_index_length, f->limits.max_footer_bytes,
                              &buf, err, errlen);
    if (rc != LO_OK)
        return rc;
    lo_thrift_r_t t;
    lo_thrift_r_init(&t, buf, (size_t)c->offset_index_length, 4);
    rc = parse_offset_index(&t, out);
    free(buf);
    if (rc == LO_OK && c->column_index_offset >= 0 && c->column_index_length > 0) {
        rc = lo_pq_read_range(f, c->column_index_offset, c->column_index_length, f->limits.max_footer_bytes,
                              &out->mem, err, errlen);
        if (rc != LO_OK) {
            lo_pq_page_index_free(out);
            return rc;
        }
        lo_thrift_r_init(&t, out->mem, (size_t)c->column_index_length, 4);
        rc = parse_column_index(&t, out);
    }
    if (rc != LO_OK) {
        lo_pq_page_index_free(out);
        return lo_pq_say(err, errlen, rc,
                         rc == LO_ERROR ? "parquet: out of memory" : "parquet: a corrupt page index");
    }
    return LO_OK;
}

void lo_pq_page_index_free(lo_pq_page_index_t *pi)
{
    if (pi == NULL)
        return;
    free(pi->pages);
    free(pi->null_pages);
    free(pi->min);
    free(pi->max);
    free(pi->null_counts);
    free(pi->mem);
    memset(pi, 0, sizeof *pi);
}
