/* The end of a row group (dictionary page, data pages, bloom filters) and
 * of the file (column indexes, offset indexes, FileMetaData, magic), in
 * the layout of parquet.thrift and PageIndex.md. */
#include <stdlib.h>
#include <string.h>

#include "cold/pq_write.h"
#include "cold/thrift.h"

/* Sorts n hashes (LSD radix, 11 bits a pass; tmp holds n): several times
 * faster than qsort's comparisons, which were a tenth of rotation's CPU. */
static void sort_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
    enum { BITS = 11, BUCKETS = 1 << BITS };
    size_t count[BUCKETS];
    uint64_t *src = v, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += BITS) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift) & (BUCKETS - 1)]++;
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & (BUCKETS - 1)]++] = src[i];
        uint64_t *x = src;
        src = dst, dst = x;
    }
    if (src != v) /* (six passes: an even number, so never; kept for other widths) */
        memcpy(v, src, n * sizeof *v);
}

/* A bloom filter of the chunk's hashes: BloomFilterHeader, then the bitset. */
static int write_bloom(lo_pq_writer_t *w, lo_pq_col_t *c)
{
    if (!c->def.bloom || c->n_hashes == 0)
        return LO_OK;
    uint64_t *tmp = malloc(c->n_hashes * sizeof *tmp);
    if (tmp == NULL)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    sort_u64(c->hashes, tmp, c->n_hashes);
    free(tmp);
    size_t ndv = 0;
    for (size_t i = 0; i < c->n_hashes; i++)
        if (i == 0 || c->hashes[i] != c->hashes[i - 1])
            c->hashes[ndv++] = c->hashes[i];
    size_t nbytes = lo_pq_bloom_bytes(ndv, w->opt.bloom_max_bytes);
    uint8_t *bits = calloc(1, nbytes);
    if (bits == NULL)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    for (size_t i = 0; i < ndv; i++)
        lo_pq_bloom_insert(bits, nbytes, c->hashes[i]);
    lo_thrift_w_t t;
    lo_buf_reset(&w->hdr);
    lo_thrift_w_init(&t, &w->hdr);
    lo_thrift_w_i32(&t, 1, (int32_t)nbytes);
    lo_thrift_w_struct_begin(&t, 2); /* algorithm: BLOCK */
    lo_thrift_w_struct_begin(&t, 1);
    lo_thrift_w_struct_end(&t);
    lo_thrift_w_struct_end(&t);
    lo_thrift_w_struct_begin(&t, 3); /* hash: XXHASH */
    lo_thrift_w_struct_begin(&t, 1);
    lo_thrift_w_struct_end(&t);
    lo_thrift_w_struct_end(&t);
    lo_thrift_w_struct_begin(&t, 4); /* compression: UNCOMPRESSED */
    lo_thrift_w_struct_begin(&t, 1);
    lo_thrift_w_struct_end(&t);
    lo_thrift_w_struct_end(&t);
    if (lo_thrift_w_finish(&t) != LO_OK) {
        free(bits);
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    }
    c->meta.bloom_offset = (int64_t)w->offset;
    c->meta.bloom_len = (int32_t)(w->hdr.len + nbytes);
    int rc = lo_pq_w_sink(w, w->hdr.p, w->hdr.len);
    if (rc == LO_OK)
        rc = lo_pq_w_sink(w, bits, nbytes);
    free(bits);
    return rc;
}

/* The chunk's dictionary page (if any) and data pages, to the sink. */
static int write_chunk(lo_pq_writer_t *w, lo_pq_col_t *c)
{
    lo_pq_chunk_meta_t *m = &c->meta;
    if (c->n_ents > 0) {
        lo_buf_reset(&w->comp);
        if (lo_pq_compress(w->opt.codec, w->opt.zstd_level, c->dict.p, c->dict.len, &w->comp) != LO_OK)
            return lo_pq_w_fail(w, LO_ERROR, "parquet: compression failed%s", NULL);
        lo_pq_w_page_header(w, LO_PQ_PAGE_DICTIONARY, c->dict.len, w->comp.len, (int32_t)c->n_ents, 0);
        if (w->hdr.err != LO_OK)
            return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
        m->dict_page_offset = (int64_t)w->offset;
        m->uncompressed += (int64_t)(w->hdr.len + c->dict.len);
        m->compressed += (int64_t)(w->hdr.len + w->comp.len);
        m->encodings |= 1u << LO_PQ_ENC_PLAIN;
        if (lo_pq_w_sink(w, w->hdr.p, w->hdr.len) != LO_OK ||
            lo_pq_w_sink(w, w->comp.p, w->comp.len) != LO_OK)
            return w->rc;
    }
    m->data_page_offset = (int64_t)w->offset;
    for (size_t i = 0; i < m->n_pages; i++)
        m->pages[i].offset += m->data_page_offset;
    lo_pq_w_chunk_stats(w, c);
    return lo_pq_w_sink(w, c->chunk.p, c->chunk.len);
}

int lo_pq_writer_end_row_group(lo_pq_writer_t *w)
{
    if (w->rc != LO_OK)
        return w->rc;
    if (w->closed)
        return lo_pq_w_fail(w, LO_INVALID, "parquet: the writer is closed%s", NULL);
    int64_t rows = w->cols[0].rows;
    for (size_t i = 1; i < w->n_cols; i++)
        if (w->cols[i].rows != rows)
            return lo_pq_w_fail(w, LO_INVALID, "parquet: column %s: another number of rows than the first",
                                w->cols[i].name);
    if (rows == 0)
        return LO_OK;
    if (w->n_rgs == w->cap_rgs) {
        size_t cap = w->cap_rgs ? w->cap_rgs * 2 : 8;
        lo_pq_rg_meta_t *p = realloc(w->rgs, cap * sizeof *p);
        if (p == NULL)
            return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
        w->rgs = p;
        w->cap_rgs = cap;
    }
    lo_pq_rg_meta_t *rg = &w->rgs[w->n_rgs];
    memset(rg, 0, sizeof *rg);
    rg->cols = calloc(w->n_cols, sizeof *rg->cols);
    if (rg->cols == NULL)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    w->n_rgs++;
    rg->num_rows = rows;
    rg->file_offset = (int64_t)w->offset;
    for (size_t i = 0; i < w->n_cols; i++)
        if (lo_pq_w_page_flush(w, &w->cols[i]) != LO_OK || write_chunk(w, &w->cols[i]) != LO_OK)
            return w->rc;
    for (size_t i = 0; i < w->n_cols; i++)
        if (write_bloom(w, &w->cols[i]) != LO_OK)
            return w->rc;
    for (size_t i = 0; i < w->n_cols; i++) {
        rg->cols[i] = w->cols[i].meta; /* the metadata moves to the row group */
        rg->total_byte_size += rg->cols[i].uncompressed;
        rg->compressed += rg->cols[i].compressed;
        lo_pq_w_col_reset(&w->cols[i]);
    }
    return LO_OK;
}

/* ---- page index ---- */

static int boundary_order(lo_pq_type_t t, const lo_pq_chunk_meta_t *m)
{
    bool asc = true, desc = true;
    const lo_pq_page_t *prev = NULL;
    for (size_t i = 0; i < m->n_pages; i++) {
        const lo_pq_page_t *p = &m->pages[i];
        if (p->null_page)
            continue;
        if (prev) {
            int cmin = lo_pq_compare(t, prev->min.p, prev->min.len, p->min.p, p->min.len);
            int cmax = lo_pq_compare(t, prev->max.p, prev->max.len, p->max.p, p->max.len);
            asc &= cmin <= 0 && cmax <= 0;
            desc &= cmin >= 0 && cmax >= 0;
        }
        prev = p;
    }
    return asc ? 1 : desc ? 2 : 0;
}

static void column_index(lo_thrift_w_t *t, lo_pq_type_t type, const lo_pq_chunk_meta_t *m)
{
    lo_thrift_w_list_begin(t, 1, LO_THRIFT_TRUE, m->n_pages);
    for (size_t i = 0; i < m->n_pages; i++)
        lo_thrift_w_elem_bool(t, m->pages[i].null_page);
    lo_thrift_w_list_begin(t, 2, LO_THRIFT_BINARY, m->n_pages);
    for (size_t i = 0; i < m->n_pages; i++)
        lo_thrift_w_elem_binary(t, m->pages[i].min.p, m->pages[i].null_page ? 0 : m->pages[i].min.len);
    lo_thrift_w_list_begin(t, 3, LO_THRIFT_BINARY, m->n_pages);
    for (size_t i = 0; i < m->n_pages; i++)
        lo_thrift_w_elem_binary(t, m->pages[i].max.p, m->pages[i].null_page ? 0 : m->pages[i].max.len);
    lo_thrift_w_i32(t, 4, boundary_order(type, m));
    lo_thrift_w_list_begin(t, 5, LO_THRIFT_I64, m->n_pages);
    for (size_t i = 0; i < m->n_pages; i++)
        lo_thrift_w_elem_i64(t, m->pages[i].nulls);
}

static void offset_index(lo_thrift_w_t *t, const lo_pq_chunk_meta_t *m)
{
    lo_thrift_w_list_begin(t, 1, LO_THRIFT_STRUCT, m->n_pages);
    for (size_t i = 0; i < m->n_pages; i++) {
        lo_thrift_w_elem_struct_begin(t);
        lo_thrift_w_i64(t, 1, m->pages[i].offset);
        lo_thrift_w_i32(t, 2, m->pages[i].size);
        lo_thrift_w_i64(t, 3, m->pages[i].first_row);
        lo_thrift_w_struct_end(t);
    }
}

/* Every chunk's column index, then every chunk's offset index. */
static int write_page_indexes(lo_pq_writer_t *w)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t g = 0; g < w->n_rgs; g++) {
            for (size_t i = 0; i < w->n_cols; i++) {
                lo_pq_chunk_meta_t *m = &w->rgs[g].cols[i];
                if (m->n_pages == 0 || (pass == 0 && !m->index_ok))
                    continue;
                lo_thrift_w_t t;
                lo_buf_reset(&w->hdr);
                lo_thrift_w_init(&t, &w->hdr);
                if (pass == 0)
                    column_index(&t, w->cols[i].def.type, m);
                else
                    offset_index(&t, m);
                if (lo_thrift_w_finish(&t) != LO_OK || w->hdr.len > INT32_MAX)
                    return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
                if (pass == 0) {
                    m->ci_offset = (int64_t)w->offset;
                    m->ci_len = (int32_t)w->hdr.len;
                } else {
                    m->oi_offset = (int64_t)w->offset;
                    m->oi_len = (int32_t)w->hdr.len;
                }
                if (lo_pq_w_sink(w, w->hdr.p, w->hdr.len) != LO_OK)
                    return w->rc;
            }
        }
    }
    return LO_OK;
}

/* ---- footer ---- */

static void schema_element(lo_thrift_w_t *t, const lo_pq_column_t *c)
{
    lo_thrift_w_elem_struct_begin(t);
    lo_thrift_w_i32(t, 1, c->type);
    if (c->type == LO_PQ_FIXED)
        lo_thrift_w_i32(t, 2, c->type_length);
    lo_thrift_w_i32(t, 3, c->optional ? 1 : 0);
    lo_thrift_w_binary(t, 4, c->name, strlen(c->name));
    int conv = -1, logical = 0;
    switch (c->logical) {
    case LO_PQ_LOGICAL_STRING: conv = LO_PQ_CONV_UTF8, logical = 1; break;
    case LO_PQ_LOGICAL_JSON: conv = LO_PQ_CONV_JSON, logical = 12; break;
    case LO_PQ_LOGICAL_TIMESTAMP_MICROS: conv = LO_PQ_CONV_TIMESTAMP_MICROS, logical = 8; break;
    case LO_PQ_LOGICAL_TIMESTAMP_NANOS: logical = 8; break;
    case LO_PQ_LOGICAL_UUID: logical = 14; break;
    default: break;
    }
    if (conv >= 0)
        lo_thrift_w_i32(t, 6, conv);
    if (logical) {
        lo_thrift_w_struct_begin(t, 10);
        lo_thrift_w_struct_begin(t, (int16_t)logical);
        if (logical == 8) { /* TimestampType: isAdjustedToUTC, unit */
            lo_thrift_w_bool(t, 1, true);
            lo_thrift_w_struct_begin(t, 2);
            lo_thrift_w_struct_begin(t, c->logical == LO_PQ_LOGICAL_TIMESTAMP_NANOS ? 3 : 2);
            lo_thrift_w_struct_end(t);
            lo_thrift_w_struct_end(t);
        }
        lo_thrift_w_struct_end(t);
        lo_thrift_w_struct_end(t);
    }
    lo_thrift_w_struct_end(t);
}

static void column_chunk(lo_thrift_w_t *t, const lo_pq_col_t *c, const lo_pq_chunk_meta_t *m, int codec)
{
    lo_thrift_w_elem_struct_begin(t);
    lo_thrift_w_i64(t, 2, m->dict_page_offset >= 0 ? m->dict_page_offset : m->data_page_offset);
    lo_thrift_w_struct_begin(t, 3); /* ColumnMetaData */
    lo_thrift_w_i32(t, 1, c->def.type);
    lo_thrift_w_list_begin(t, 2, LO_THRIFT_I32, (size_t)__builtin_popcount(m->encodings));
    for (int e = 0; e < 32; e++)
        if (m->encodings & 1u << e)
            lo_thrift_w_elem_i32(t, e);
    lo_thrift_w_list_begin(t, 3, LO_THRIFT_BINARY, 1);
    lo_thrift_w_elem_binary(t, c->name, strlen(c->name));
    lo_thrift_w_i32(t, 4, codec);
    lo_thrift_w_i64(t, 5, m->num_values);
    lo_thrift_w_i64(t, 6, m->uncompressed);
    lo_thrift_w_i64(t, 7, m->compressed);
    lo_thrift_w_i64(t, 9, m->data_page_offset);
    if (m->dict_page_offset >= 0)
        lo_thrift_w_i64(t, 11, m->dict_page_offset);
    lo_thrift_w_struct_begin(t, 12); /* Statistics */
    lo_thrift_w_i64(t, 3, m->null_count);
    if (m->has_minmax) {
        lo_thrift_w_binary(t, 5, m->max.p, m->max.len);
        lo_thrift_w_binary(t, 6, m->min.p, m->min.len);
        lo_thrift_w_bool(t, 7, m->max_exact);
        lo_thrift_w_bool(t, 8, m->min_exact);
    }
    lo_thrift_w_struct_end(t);
    if (m->bloom_offset >= 0) {
        lo_thrift_w_i64(t, 14, m->bloom_offset);
        lo_thrift_w_i32(t, 15, m->bloom_len);
    }
    lo_thrift_w_struct_end(t);
    if (m->oi_len > 0) {
        lo_thrift_w_i64(t, 4, m->oi_offset);
        lo_thrift_w_i32(t, 5, m->oi_len);
    }
    if (m->ci_len > 0) {
        lo_thrift_w_i64(t, 6, m->ci_offset);
        lo_thrift_w_i32(t, 7, m->ci_len);
    }
    lo_thrift_w_struct_end(t);
}

static int write_footer(lo_pq_writer_t *w)
{
    lo_buf_t out;
    lo_thrift_w_t t;
    lo_buf_init(&out, 0);
    lo_thrift_w_init(&t, &out);
    lo_thrift_w_i32(&t, 1, 1);
    lo_thrift_w_list_begin(&t, 2, LO_THRIFT_STRUCT, w->n_cols + 1);
    lo_thrift_w_elem_struct_begin(&t);
    lo_thrift_w_binary(&t, 4, "schema", 6);
    lo_thrift_w_i32(&t, 5, (int32_t)w->n_cols);
    lo_thrift_w_struct_end(&t);
    for (size_t i = 0; i < w->n_cols; i++)
        schema_element(&t, &w->cols[i].def);
    int64_t rows = 0;
    for (size_t g = 0; g < w->n_rgs; g++)
        rows += w->rgs[g].num_rows;
    lo_thrift_w_i64(&t, 3, rows);
    lo_thrift_w_list_begin(&t, 4, LO_THRIFT_STRUCT, w->n_rgs);
    for (size_t g = 0; g < w->n_rgs; g++) {
        const lo_pq_rg_meta_t *rg = &w->rgs[g];
        lo_thrift_w_elem_struct_begin(&t);
        lo_thrift_w_list_begin(&t, 1, LO_THRIFT_STRUCT, w->n_cols);
        for (size_t i = 0; i < w->n_cols; i++)
            column_chunk(&t, &w->cols[i], &rg->cols[i], w->opt.codec);
        lo_thrift_w_i64(&t, 2, rg->total_byte_size);
        lo_thrift_w_i64(&t, 3, rg->num_rows);
        lo_thrift_w_i64(&t, 5, rg->file_offset);
        lo_thrift_w_i64(&t, 6, rg->compressed);
        lo_thrift_w_field(&t, 7, LO_THRIFT_I16);
        lo_varint_put(&out, lo_zigzag(g < INT16_MAX ? (int64_t)g : INT16_MAX));
        lo_thrift_w_struct_end(&t);
    }
    lo_thrift_w_binary(&t, 6, w->created_by, strlen(w->created_by));
    lo_thrift_w_list_begin(&t, 7, LO_THRIFT_STRUCT, w->n_cols); /* TypeDefinedOrder for each */
    for (size_t i = 0; i < w->n_cols; i++) {
        lo_thrift_w_elem_struct_begin(&t);
        lo_thrift_w_struct_begin(&t, 1);
        lo_thrift_w_struct_end(&t);
        lo_thrift_w_struct_end(&t);
    }
    int rc = lo_thrift_w_finish(&t);
    uint8_t tail[8];
    lo_put_le32(tail, (uint32_t)out.len);
    memcpy(tail + 4, LO_PQ_MAGIC, 4);
    if (rc != LO_OK || out.len > UINT32_MAX)
        rc = lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    else if (lo_pq_w_sink(w, out.p, out.len) != LO_OK || lo_pq_w_sink(w, tail, 8) != LO_OK)
        rc = w->rc;
    lo_buf_free(&out);
    return rc;
}

int lo_pq_writer_close(lo_pq_writer_t *w)
{
    if (w->rc != LO_OK)
        return w->rc;
    if (w->closed)
        return lo_pq_w_fail(w, LO_INVALID, "parquet: the writer is closed%s", NULL);
    if (lo_pq_writer_end_row_group(w) != LO_OK || write_page_indexes(w) != LO_OK || write_footer(w) != LO_OK)
        return w->rc;
    w->closed = true;
    return LO_OK;
}
