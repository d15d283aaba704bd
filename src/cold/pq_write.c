/* The Parquet writer: column batches into pages, pages into column chunks,
 * one row group at a time.  Dictionary pages come first in a chunk but are
 * known only when the row group ends, so a row group's data pages wait in
 * memory (encoded and compressed) until lo_pq_writer_end_row_group; the
 * page index and the footer (pq_footer.c) are written by close. */
#include "cold/pq_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#include "cold/thrift.h"

/* Most rows in one page, whatever its bytes, so page indexes stay useful. */
#define PAGE_ROWS_MAX 20000

void lo_pq_options_default(lo_pq_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->codec = LO_PQ_SNAPPY;
    o->zstd_level = 1; /* smaller than 3 on id text (docs/parquet.md) */
    o->page_bytes = 1 << 20;
    o->page_rows = PAGE_ROWS_MAX;
    o->row_group_rows = 1000000;
    o->dict_max_bytes = 1 << 20;
    o->bloom_max_bytes = 1 << 20;
    o->stats_max_bytes = 64;
    o->created_by = "lookout";
}

int lo_pq_w_fail(lo_pq_writer_t *w, int rc, const char *fmt, const char *arg)
{
    if (w->rc == LO_OK) {
        w->rc = rc;
        snprintf(w->err, sizeof w->err, fmt, arg ? arg : "");
    }
    return w->rc;
}

int lo_pq_w_sink(lo_pq_writer_t *w, const void *p, size_t n)
{
    if (w->rc != LO_OK)
        return w->rc;
    if (n > 0 && w->write(w->ud, p, n) != LO_OK)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: the sink failed%s", NULL);
    w->offset += n;
    return LO_OK;
}

/* ---- min/max ---- */

static void mm_set(lo_buf_t *b, const uint8_t *v, size_t n)
{
    lo_buf_reset(b);
    lo_buf_append(b, v, n);
}

static void mm_update(lo_pq_type_t t, lo_pq_minmax_t *m, const uint8_t *v, size_t n)
{
    if (!m->has) {
        mm_set(&m->min, v, n);
        mm_set(&m->max, v, n);
        m->has = true;
    } else if (lo_pq_compare(t, v, n, (uint8_t *)m->min.p, m->min.len) < 0) {
        mm_set(&m->min, v, n);
    } else if (lo_pq_compare(t, v, n, (uint8_t *)m->max.p, m->max.len) > 0) {
        mm_set(&m->max, v, n);
    }
}

static void mm_free(lo_pq_minmax_t *m)
{
    lo_buf_free(&m->min);
    lo_buf_free(&m->max);
    m->has = false;
}

/* Copies a min or max into its stored form: byte arrays longer than the
 * limit are cut (a max rounded up, so it stays an upper bound); a zero
 * double becomes -0.0 as a min and +0.0 as a max.  false when no bound can
 * be stored (a max of only 0xFF bytes past the limit). */
static bool stat_copy(const lo_pq_writer_t *w, lo_pq_type_t t, const lo_buf_t *v, bool is_max,
                      lo_pq_bytes_t *out, bool *exact)
{
    size_t n = v->len;
    *exact = true;
    out->p = NULL;
    out->len = 0;
    if (t == LO_PQ_BYTE_ARRAY && n > w->opt.stats_max_bytes) {
        n = w->opt.stats_max_bytes;
        *exact = false;
    }
    out->p = malloc(n ? n : 1);
    if (out->p == NULL)
        return false;
    if (n)
        memcpy(out->p, v->p, n);
    out->len = n;
    if (t == LO_PQ_DOUBLE) {
        uint64_t u = lo_le64(out->p);
        double d;
        memcpy(&d, &u, 8);
        if (d == 0.0)
            lo_put_le64(out->p, is_max ? 0 : 0x8000000000000000ULL);
    }
    if (!*exact && is_max) {
        while (out->len > 0 && out->p[out->len - 1] == 0xff)
            out->len--;
        if (out->len == 0) {
            free(out->p);
            out->p = NULL;
            return false;
        }
        out->p[out->len - 1]++;
    }
    return true;
}

/* ---- the writer ---- */

static void col_free(lo_pq_col_t *c)
{
    free(c->name);
    lo_buf_free(&c->chunk);
    lo_buf_free(&c->defs);
    lo_buf_free(&c->vals);
    lo_buf_free(&c->dict);
    free(c->ents);
    free(c->slots);
    free(c->hashes);
    mm_free(&c->page_mm);
    mm_free(&c->chunk_mm);
    lo_pq_chunk_meta_free(&c->meta);
}

void lo_pq_chunk_meta_free(lo_pq_chunk_meta_t *m)
{
    for (size_t i = 0; i < m->n_pages; i++) {
        free(m->pages[i].min.p);
        free(m->pages[i].max.p);
    }
    free(m->pages);
    free(m->min.p);
    free(m->max.p);
    memset(m, 0, sizeof *m);
}

static void meta_init(lo_pq_chunk_meta_t *m)
{
    memset(m, 0, sizeof *m);
    m->dict_page_offset = -1;
    m->bloom_offset = -1;
    m->index_ok = true;
}

static bool logical_fits(const lo_pq_column_t *c)
{
    switch (c->logical) {
    case LO_PQ_LOGICAL_NONE: return true;
    case LO_PQ_LOGICAL_STRING:
    case LO_PQ_LOGICAL_JSON: return c->type == LO_PQ_BYTE_ARRAY;
    case LO_PQ_LOGICAL_TIMESTAMP_MICROS:
    case LO_PQ_LOGICAL_TIMESTAMP_NANOS: return c->type == LO_PQ_INT64;
    case LO_PQ_LOGICAL_UUID: return c->type == LO_PQ_FIXED && c->type_length == 16;
    default: return false;
    }
}

lo_pq_writer_t *lo_pq_writer_open(const lo_pq_schema_t *schema, const lo_pq_options_t *options,
                                  lo_pq_sink_fn write, void *ud, char *err, size_t errlen)
{
    const char *why = NULL, *name = "";
    if (schema == NULL || schema->n_columns == 0 || schema->n_columns > 4096)
        why = "parquet: a schema has 1 to 4096 columns%s";
    for (size_t i = 0; why == NULL && i < schema->n_columns; i++) {
        const lo_pq_column_t *c = &schema->columns[i];
        name = c->name ? c->name : "";
        if (c->name == NULL || c->name[0] == '\0')
            why = "parquet: a column has no name%s";
        else if (c->type != LO_PQ_BOOLEAN && c->type != LO_PQ_INT32 && c->type != LO_PQ_INT64 &&
                 c->type != LO_PQ_DOUBLE && c->type != LO_PQ_BYTE_ARRAY && c->type != LO_PQ_FIXED)
            why = "parquet: column %s: the writer does not write that type";
        else if (c->type == LO_PQ_FIXED && (c->type_length < 1 || c->type_length > 256))
            why = "parquet: column %s: a fixed length is 1 to 256 bytes";
        else if (!logical_fits(c))
            why = "parquet: column %s: the logical type does not suit the physical type";
        else if (c->bloom && c->type == LO_PQ_BOOLEAN)
            why = "parquet: column %s: no bloom filter for booleans";
        for (size_t j = 0; why == NULL && j < i; j++)
            if (strcmp(schema->columns[j].name, c->name) == 0)
                why = "parquet: column %s: the name is taken";
    }
    if (why == NULL && write == NULL)
        why = "parquet: no sink%s";
    if (why != NULL) {
        snprintf(err, errlen, why, name);
        return NULL;
    }
    lo_pq_writer_t *w = calloc(1, sizeof *w);
    if (w == NULL || (w->cols = calloc(schema->n_columns, sizeof *w->cols)) == NULL) {
        free(w);
        snprintf(err, errlen, "parquet: out of memory");
        return NULL;
    }
    w->n_cols = schema->n_columns;
    if (options)
        w->opt = *options;
    else
        lo_pq_options_default(&w->opt);
    lo_pq_options_t d;
    lo_pq_options_default(&d);
    if (w->opt.page_bytes == 0)
        w->opt.page_bytes = d.page_bytes;
    if (w->opt.page_rows == 0 || w->opt.page_rows > PAGE_ROWS_MAX)
        w->opt.page_rows = d.page_rows;
    if (w->opt.row_group_rows == 0)
        w->opt.row_group_rows = d.row_group_rows;
    if (w->opt.bloom_max_bytes < 32)
        w->opt.bloom_max_bytes = d.bloom_max_bytes;
    if (w->opt.stats_max_bytes == 0)
        w->opt.stats_max_bytes = d.stats_max_bytes;
    if (w->opt.created_by == NULL)
        w->opt.created_by = d.created_by;
    w->created_by = strdup(w->opt.created_by);
    w->write = write;
    w->ud = ud;
    bool oom = w->created_by == NULL;
    for (size_t i = 0; i < w->n_cols; i++) {
        lo_pq_col_t *c = &w->cols[i];
        c->def = schema->columns[i];
        c->name = strdup(c->def.name);
        c->def.name = c->name;
        oom |= c->name == NULL;
        c->dict_on = c->def.type == LO_PQ_BYTE_ARRAY && !c->def.no_dictionary;
        meta_init(&c->meta);
    }
    if (oom) {
        lo_pq_writer_destroy(w);
        snprintf(err, errlen, "parquet: out of memory");
        return NULL;
    }
    if (lo_pq_w_sink(w, LO_PQ_MAGIC, 4) != LO_OK) {
        snprintf(err, errlen, "%s", w->err);
        lo_pq_writer_destroy(w);
        return NULL;
    }
    return w;
}

void lo_pq_writer_destroy(lo_pq_writer_t *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n_cols; i++)
        col_free(&w->cols[i]);
    free(w->cols);
    for (size_t g = 0; g < w->n_rgs; g++) {
        for (size_t i = 0; i < w->n_cols; i++)
            lo_pq_chunk_meta_free(&w->rgs[g].cols[i]);
        free(w->rgs[g].cols);
    }
    free(w->rgs);
    lo_buf_free(&w->body);
    lo_buf_free(&w->tmp);
    lo_buf_free(&w->comp);
    lo_buf_free(&w->hdr);
    free(w->scratch);
    free(w->created_by);
    free(w);
}

const char *lo_pq_writer_error(const lo_pq_writer_t *w)
{
    return w->err;
}

uint64_t lo_pq_writer_offset(const lo_pq_writer_t *w)
{
    return w->offset;
}

size_t lo_pq_writer_room(const lo_pq_writer_t *w)
{
    int64_t most = 0;
    for (size_t i = 0; i < w->n_cols; i++)
        if (w->cols[i].rows > most)
            most = w->cols[i].rows;
    return (size_t)most >= w->opt.row_group_rows ? 0 : w->opt.row_group_rows - (size_t)most;
}

static uint64_t *scratch(lo_pq_writer_t *w, size_t n)
{
    if (n > w->scratch_cap) {
        uint64_t *p = realloc(w->scratch, n * sizeof *p);
        if (p == NULL)
            return NULL;
        w->scratch = p;
        w->scratch_cap = n;
    }
    return w->scratch;
}

/* ---- pages ---- */

/* Byte arrays not in a dictionary (c->vals holds them in PLAIN: a 4-byte
 * length, then the bytes) into w->body as DELTA_LENGTH_BYTE_ARRAY, the
 * lengths apart from the bytes; or as DELTA_BYTE_ARRAY when the values share
 * more than 2 bytes on average with the value before them (sorted ids,
 * repeated message stems): prefix lengths, then the suffixes as
 * DELTA_LENGTH_BYTE_ARRAY.  Both beat PLAIN once compressed: zstd codes the
 * hex or UUID text of ids near 4 bits a character, and PLAIN's length bytes
 * between the values cost it about a byte a value. */
static int byte_array_values(lo_pq_writer_t *w, lo_pq_col_t *c, size_t nonnull, int *enc)
{
    uint64_t *u = scratch(w, 2 * nonnull);
    if (u == NULL && nonnull > 0)
        return LO_ERROR;
    int64_t *lens = (int64_t *)u, *pre = (int64_t *)u + nonnull;
    const uint8_t *p = (const uint8_t *)c->vals.p, *prev = NULL;
    size_t prev_len = 0, shared = 0;
    for (size_t i = 0; i < nonnull; i++) {
        size_t n = lo_le32(p), k = 0, most = n < prev_len ? n : prev_len;
        p += 4;
        while (k < most && prev[k] == p[k])
            k++;
        pre[i] = (int64_t)k;
        lens[i] = (int64_t)n;
        shared += k;
        prev = p;
        prev_len = n;
        p += n;
    }
    bool dba = shared > 2 * nonnull;
    lo_buf_reset(&w->tmp);
    if (dba) {
        lo_pq_delta_encode(&w->tmp, pre, nonnull);
        for (size_t i = 0; i < nonnull; i++)
            lens[i] -= pre[i];
    }
    lo_pq_delta_encode(&w->tmp, lens, nonnull);
    p = (const uint8_t *)c->vals.p;
    for (size_t i = 0; i < nonnull; i++) {
        size_t n = lo_le32(p), k = dba ? (size_t)pre[i] : 0;
        lo_buf_append(&w->tmp, p + 4 + k, n - k);
        p += 4 + n;
    }
    *enc = dba ? LO_PQ_ENC_DELTA_BYTE_ARRAY : LO_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY;
    return lo_buf_append(&w->body, w->tmp.p, w->tmp.len);
}

/* The encoded values of the open page into w->body; sets *enc. */
static int page_values(lo_pq_writer_t *w, lo_pq_col_t *c, size_t nonnull, int *enc)
{
    const lo_pq_type_t t = c->def.type;
    *enc = LO_PQ_ENC_PLAIN;
    if (c->page_dict && c->n_ents > 0) {
        int bw = lo_pq_bit_width(c->n_ents - 1);
        if (bw == 0)
            bw = 1;
        lo_buf_putc(&w->body, (char)bw);
        lo_pq_rle_encode(&w->body, (const uint32_t *)c->vals.p, nonnull, bw);
        *enc = LO_PQ_ENC_RLE_DICTIONARY;
        return LO_OK;
    }
    if (t == LO_PQ_BOOLEAN) {
        uint64_t *u = scratch(w, nonnull);
        if (u == NULL && nonnull > 0)
            return LO_ERROR;
        for (size_t i = 0; i < nonnull; i++)
            u[i] = (uint8_t)c->vals.p[i];
        lo_pq_bitpack(&w->body, u, nonnull, 1);
        return LO_OK;
    }
    bool ts =
        c->def.logical == LO_PQ_LOGICAL_TIMESTAMP_MICROS || c->def.logical == LO_PQ_LOGICAL_TIMESTAMP_NANOS;
    if (ts && nonnull > 1) {
        /* DELTA_BINARY_PACKED when it is smaller than PLAIN */
        int64_t *v = (int64_t *)scratch(w, nonnull);
        if (v == NULL)
            return LO_ERROR;
        for (size_t i = 0; i < nonnull; i++)
            v[i] = (int64_t)lo_le64((const uint8_t *)c->vals.p + 8 * i);
        lo_buf_reset(&w->tmp);
        lo_pq_delta_encode(&w->tmp, v, nonnull);
        if (w->tmp.err == LO_OK && w->tmp.len < c->vals.len) {
            *enc = LO_PQ_ENC_DELTA_BINARY_PACKED;
            return lo_buf_append(&w->body, w->tmp.p, w->tmp.len);
        }
    }
    if (t == LO_PQ_BYTE_ARRAY && nonnull > 0)
        return byte_array_values(w, c, nonnull, enc);
    return lo_buf_append(&w->body, c->vals.p, c->vals.len);
}

static int add_page(lo_pq_chunk_meta_t *m, const lo_pq_page_t *p)
{
    if (m->n_pages == m->cap_pages) {
        size_t cap = m->cap_pages ? m->cap_pages * 2 : 16;
        lo_pq_page_t *np = realloc(m->pages, cap * sizeof *np);
        if (np == NULL)
            return LO_ERROR;
        m->pages = np;
        m->cap_pages = cap;
    }
    m->pages[m->n_pages++] = *p;
    return LO_OK;
}

/* A PageHeader for a page of body_len bytes stored as comp_len, into w->hdr. */
void lo_pq_w_page_header(lo_pq_writer_t *w, int type, size_t body_len, size_t comp_len, int32_t n, int enc)
{
    lo_thrift_w_t t;
    lo_buf_reset(&w->hdr);
    lo_thrift_w_init(&t, &w->hdr);
    lo_thrift_w_i32(&t, 1, type);
    lo_thrift_w_i32(&t, 2, (int32_t)body_len);
    lo_thrift_w_i32(&t, 3, (int32_t)comp_len);
    if (type == LO_PQ_PAGE_DATA) {
        lo_thrift_w_struct_begin(&t, 5);
        lo_thrift_w_i32(&t, 1, n);
        lo_thrift_w_i32(&t, 2, enc);
        lo_thrift_w_i32(&t, 3, LO_PQ_ENC_RLE);
        lo_thrift_w_i32(&t, 4, LO_PQ_ENC_RLE);
        lo_thrift_w_struct_end(&t);
    } else {
        lo_thrift_w_struct_begin(&t, 7);
        lo_thrift_w_i32(&t, 1, n);
        lo_thrift_w_i32(&t, 2, LO_PQ_ENC_PLAIN);
        lo_thrift_w_struct_end(&t);
    }
    if (lo_thrift_w_finish(&t) != LO_OK)
        return; /* the error stays in w->hdr.err */
}

/* The first page of a chunk whose dictionary holds more than half its
 * values (ids, unique messages): the dictionary costs more than it saves
 * (its entries are the values anyway, plus an index per value), so the
 * page's indexes turn back into values and the rest of the row group goes
 * without a dictionary. */
static int drop_dictionary(lo_pq_col_t *c, size_t nonnull)
{
    if (!c->page_dict || c->meta.n_pages != 0 || c->n_ents * 2 <= nonnull)
        return LO_OK;
    lo_buf_t plain;
    lo_buf_init(&plain, 0);
    if (lo_buf_reserve(&plain, c->dict.len) != LO_OK)
        return LO_ERROR;
    const uint32_t *ix = (const uint32_t *)c->vals.p;
    for (size_t i = 0; i < nonnull; i++) {
        const lo_pq_dict_ent_t *e = &c->ents[ix[i]];
        lo_buf_append(&plain, c->dict.p + e->off, 4 + (size_t)e->len);
    }
    if (plain.err != LO_OK) {
        lo_buf_free(&plain);
        return LO_ERROR;
    }
    lo_buf_free(&c->vals);
    c->vals = plain;
    c->dict_on = c->page_dict = false;
    c->n_ents = 0;
    lo_buf_reset(&c->dict);
    memset(c->slots, 0, c->n_slots * sizeof *c->slots);
    return LO_OK;
}

/* Closes the open page of a column: encodes its levels and values,
 * compresses them, appends header and page to the chunk, records the page
 * for the page index and merges its statistics into the chunk's. */
int lo_pq_w_page_flush(lo_pq_writer_t *w, lo_pq_col_t *c)
{
    if (c->page_values == 0)
        return LO_OK;
    size_t nonnull = c->page_values - c->page_nulls;
    int enc;
    lo_buf_reset(&w->body);
    if (c->def.optional) {
        lo_buf_reset(&w->tmp);
        lo_pq_rle_encode(&w->tmp, (const uint32_t *)c->defs.p, c->page_values, 1);
        uint8_t len[4];
        lo_put_le32(len, (uint32_t)w->tmp.len);
        lo_buf_append(&w->body, len, 4);
        lo_buf_append(&w->body, w->tmp.p, w->tmp.len);
    }
    if (drop_dictionary(c, nonnull) != LO_OK || page_values(w, c, nonnull, &enc) != LO_OK ||
        w->body.err != LO_OK || w->tmp.err != LO_OK)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    if (w->body.len > INT32_MAX)
        return lo_pq_w_fail(w, LO_TOO_LARGE, "parquet: column %s: a page passed 2 GiB", c->name);
    lo_buf_reset(&w->comp);
    if (lo_pq_compress(w->opt.codec, w->opt.zstd_level, w->body.p, w->body.len, &w->comp) != LO_OK)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: compression failed%s", NULL);
    lo_pq_w_page_header(w, LO_PQ_PAGE_DATA, w->body.len, w->comp.len, (int32_t)c->page_values, enc);
    if (w->hdr.err != LO_OK)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);

    lo_pq_chunk_meta_t *m = &c->meta;
    lo_pq_page_t p = { .offset = (int64_t)c->chunk.len,
                       .size = (int32_t)(w->hdr.len + w->comp.len),
                       .first_row = c->page_first_row,
                       .nulls = (int64_t)c->page_nulls,
                       .null_page = nonnull == 0 };
    if (c->page_mm.has) {
        bool e1, e2;
        p.has_minmax = stat_copy(w, c->def.type, &c->page_mm.min, false, &p.min, &e1) &&
                       stat_copy(w, c->def.type, &c->page_mm.max, true, &p.max, &e2);
        if (!p.has_minmax) {
            free(p.min.p);
            free(p.max.p);
            p.min.p = p.max.p = NULL;
        }
    }
    if (!p.null_page && !p.has_minmax)
        m->index_ok = false; /* only NaNs, or an unboundable max */
    if (add_page(m, &p) != LO_OK) {
        free(p.min.p);
        free(p.max.p);
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    }
    lo_buf_append(&c->chunk, w->hdr.p, w->hdr.len);
    lo_buf_append(&c->chunk, w->comp.p, w->comp.len);
    if (c->chunk.err != LO_OK)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    m->num_values += (int64_t)c->page_values;
    m->null_count += (int64_t)c->page_nulls;
    m->uncompressed += (int64_t)(w->hdr.len + w->body.len);
    m->compressed += (int64_t)(w->hdr.len + w->comp.len);
    m->encodings |= 1u << enc;
    if (c->def.optional)
        m->encodings |= 1u << LO_PQ_ENC_RLE;
    if (c->page_mm.has) {
        mm_update(c->def.type, &c->chunk_mm, (uint8_t *)c->page_mm.min.p, c->page_mm.min.len);
        mm_update(c->def.type, &c->chunk_mm, (uint8_t *)c->page_mm.max.p, c->page_mm.max.len);
    }
    c->page_first_row += (int64_t)c->page_values;
    c->page_values = c->page_nulls = 0;
    c->page_mm.has = false;
    lo_buf_reset(&c->defs);
    lo_buf_reset(&c->vals);
    c->page_dict = c->dict_on;
    if (c->chunk_mm.min.err != LO_OK || c->chunk_mm.max.err != LO_OK)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    return LO_OK;
}

/* ---- values ---- */

static int begin_batch(lo_pq_writer_t *w, size_t col, lo_pq_type_t t, const uint8_t *nulls, size_t n)
{
    if (w->rc != LO_OK)
        return w->rc;
    if (w->closed)
        return lo_pq_w_fail(w, LO_INVALID, "parquet: the writer is closed%s", NULL);
    if (col >= w->n_cols)
        return lo_pq_w_fail(w, LO_INVALID, "parquet: no such column%s", NULL);
    lo_pq_col_t *c = &w->cols[col];
    if (c->def.type != t && !(t == LO_PQ_BYTE_ARRAY && c->def.type == LO_PQ_FIXED))
        return lo_pq_w_fail(w, LO_INVALID, "parquet: column %s: values of another type", c->name);
    if ((size_t)c->rows + n > w->opt.row_group_rows)
        return lo_pq_w_fail(w, LO_TOO_LARGE, "parquet: column %s: the row group is full", c->name);
    if (nulls && !c->def.optional)
        for (size_t i = 0; i < n; i++)
            if (nulls[i])
                return lo_pq_w_fail(w, LO_INVALID, "parquet: column %s: a null in a REQUIRED column",
                                    c->name);
    if (c->page_values == 0)
        c->page_dict = c->dict_on;
    return LO_OK;
}

/* Records one row's definition level; opens a new page first when the open
 * one is full. */
static int next_row(lo_pq_writer_t *w, lo_pq_col_t *c, bool null)
{
    size_t est = c->page_dict ? c->page_values * (size_t)(lo_pq_bit_width(c->n_ents) + 1) / 8 : c->vals.len;
    if (c->page_values >= w->opt.page_rows || est >= w->opt.page_bytes)
        if (lo_pq_w_page_flush(w, c) != LO_OK)
            return w->rc;
    if (c->def.optional) {
        uint32_t lvl = null ? 0 : 1;
        lo_buf_append(&c->defs, &lvl, sizeof lvl);
    }
    c->page_values++;
    c->page_nulls += null;
    c->rows++;
    return LO_OK;
}

static int add_hash(lo_pq_col_t *c, uint64_t h)
{
    if (c->n_hashes == c->cap_hashes) {
        size_t cap = c->cap_hashes ? c->cap_hashes * 2 : 1024;
        uint64_t *p = realloc(c->hashes, cap * sizeof *p);
        if (p == NULL)
            return LO_ERROR;
        c->hashes = p;
        c->cap_hashes = cap;
    }
    c->hashes[c->n_hashes++] = h;
    return LO_OK;
}

/* One fixed-size value in its PLAIN bytes. */
static int put_fixed(lo_pq_writer_t *w, lo_pq_col_t *c, const uint8_t *le, size_t n, bool stat)
{
    lo_buf_append(&c->vals, le, n);
    if (stat)
        mm_update(c->def.type, &c->page_mm, le, n);
    if (c->def.bloom && add_hash(c, lo_pq_hash(le, n)) != LO_OK)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    return LO_OK;
}

static int end_batch(lo_pq_writer_t *w, lo_pq_col_t *c)
{
    if (c->vals.err != LO_OK || c->defs.err != LO_OK || c->page_mm.min.err != LO_OK ||
        c->page_mm.max.err != LO_OK)
        return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
    return w->rc;
}

int lo_pq_write_i64(lo_pq_writer_t *w, size_t col, const int64_t *v, const uint8_t *nulls, size_t n)
{
    if (begin_batch(w, col, LO_PQ_INT64, nulls, n) != LO_OK)
        return w->rc;
    lo_pq_col_t *c = &w->cols[col];
    for (size_t i = 0; i < n; i++) {
        bool null = nulls && nulls[i];
        if (next_row(w, c, null) != LO_OK)
            return w->rc;
        if (!null) {
            uint8_t le[8];
            lo_put_le64(le, (uint64_t)v[i]);
            if (put_fixed(w, c, le, 8, true) != LO_OK)
                return w->rc;
        }
    }
    return end_batch(w, c);
}

int lo_pq_write_i32(lo_pq_writer_t *w, size_t col, const int32_t *v, const uint8_t *nulls, size_t n)
{
    if (begin_batch(w, col, LO_PQ_INT32, nulls, n) != LO_OK)
        return w->rc;
    lo_pq_col_t *c = &w->cols[col];
    for (size_t i = 0; i < n; i++) {
        bool null = nulls && nulls[i];
        if (next_row(w, c, null) != LO_OK)
            return w->rc;
        if (!null) {
            uint8_t le[4];
            lo_put_le32(le, (uint32_t)v[i]);
            if (put_fixed(w, c, le, 4, true) != LO_OK)
                return w->rc;
        }
    }
    return end_batch(w, c);
}

int lo_pq_write_f64(lo_pq_writer_t *w, size_t col, const double *v, const uint8_t *nulls, size_t n)
{
    if (begin_batch(w, col, LO_PQ_DOUBLE, nulls, n) != LO_OK)
        return w->rc;
    lo_pq_col_t *c = &w->cols[col];
    for (size_t i = 0; i < n; i++) {
        bool null = nulls && nulls[i];
        if (next_row(w, c, null) != LO_OK)
            return w->rc;
        if (!null) {
            uint64_t u;
            uint8_t le[8];
            memcpy(&u, &v[i], 8);
            lo_put_le64(le, u);
            /* NaN has no place in the order: left out of min/max */
            if (put_fixed(w, c, le, 8, v[i] == v[i]) != LO_OK)
                return w->rc;
        }
    }
    return end_batch(w, c);
}

int lo_pq_write_bool(lo_pq_writer_t *w, size_t col, const uint8_t *v, const uint8_t *nulls, size_t n)
{
    if (begin_batch(w, col, LO_PQ_BOOLEAN, nulls, n) != LO_OK)
        return w->rc;
    lo_pq_col_t *c = &w->cols[col];
    for (size_t i = 0; i < n; i++) {
        bool null = nulls && nulls[i];
        if (next_row(w, c, null) != LO_OK)
            return w->rc;
        if (!null) {
            uint8_t b = v[i] != 0;
            if (put_fixed(w, c, &b, 1, true) != LO_OK)
                return w->rc;
        }
    }
    return end_batch(w, c);
}

/* ---- dictionary ---- */

static int dict_grow(lo_pq_col_t *c)
{
    size_t n = c->n_slots ? c->n_slots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return LO_ERROR;
    for (size_t e = 0; e < c->n_ents; e++) {
        size_t i = c->ents[e].hash & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)e + 1;
    }
    free(c->slots);
    c->slots = slots;
    c->n_slots = n;
    return LO_OK;
}

/* The index of a value in the column's dictionary, adding it if there is
 * room; *idx = UINT32_MAX when the dictionary is full. */
static int dict_index(lo_pq_writer_t *w, lo_pq_col_t *c, const lo_str_t *v, uint64_t h, uint32_t *idx)
{
    if ((c->n_ents + 1) * 2 > c->n_slots && dict_grow(c) != LO_OK)
        return LO_ERROR;
    size_t mask = c->n_slots - 1, i = h & mask;
    for (; c->slots[i]; i = (i + 1) & mask) {
        const lo_pq_dict_ent_t *e = &c->ents[c->slots[i] - 1];
        if (e->hash == h && e->len == v->len && memcmp(c->dict.p + e->off + 4, v->p, v->len) == 0) {
            *idx = c->slots[i] - 1;
            return LO_OK;
        }
    }
    if (c->dict.len + 4 + v->len > w->opt.dict_max_bytes || c->n_ents >= INT32_MAX) {
        *idx = UINT32_MAX;
        return LO_OK;
    }
    if (c->n_ents == c->cap_ents) {
        size_t cap = c->cap_ents ? c->cap_ents * 2 : 256;
        lo_pq_dict_ent_t *p = realloc(c->ents, cap * sizeof *p);
        if (p == NULL)
            return LO_ERROR;
        c->ents = p;
        c->cap_ents = cap;
    }
    c->ents[c->n_ents] = (lo_pq_dict_ent_t){ .off = c->dict.len, .len = (uint32_t)v->len, .hash = h };
    uint8_t len[4];
    lo_put_le32(len, (uint32_t)v->len);
    lo_buf_append(&c->dict, len, 4);
    lo_buf_append(&c->dict, v->p, v->len);
    if (c->dict.err != LO_OK)
        return LO_ERROR;
    c->slots[i] = (uint32_t)c->n_ents + 1;
    *idx = (uint32_t)c->n_ents++;
    return LO_OK;
}

int lo_pq_write_bytes(lo_pq_writer_t *w, size_t col, const lo_str_t *v, const uint8_t *nulls, size_t n)
{
    if (begin_batch(w, col, LO_PQ_BYTE_ARRAY, nulls, n) != LO_OK)
        return w->rc;
    lo_pq_col_t *c = &w->cols[col];
    bool fixed = c->def.type == LO_PQ_FIXED;
    for (size_t i = 0; i < n; i++) {
        bool null = nulls && nulls[i];
        if (!null && fixed && v[i].len != (size_t)c->def.type_length)
            return lo_pq_w_fail(w, LO_INVALID, "parquet: column %s: a value of another length", c->name);
        if (!null && v[i].len > INT32_MAX)
            return lo_pq_w_fail(w, LO_TOO_LARGE, "parquet: column %s: a value passed 2 GiB", c->name);
        const uint8_t *p = null ? NULL : (const uint8_t *)v[i].p; /* v may be NULL when all are null */
        uint64_t h = 0;
        uint32_t idx = UINT32_MAX;
        if (!null) {
            /* a bloom filter needs XXH64 (the format's); a dictionary alone
             * takes any hash, and XXH3 is several times faster on short values */
            if (c->def.bloom)
                h = lo_pq_hash(p, v[i].len);
            else if (c->page_dict)
                h = XXH3_64bits(p, v[i].len);
            if (c->page_dict && dict_index(w, c, &v[i], h, &idx) != LO_OK)
                return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
            if (c->page_dict && idx == UINT32_MAX) {
                /* the dictionary is full: the open page ends, the rest of
                 * the row group is PLAIN */
                c->dict_on = false;
                if (lo_pq_w_page_flush(w, c) != LO_OK)
                    return w->rc;
                c->page_dict = false;
            }
        }
        if (next_row(w, c, null) != LO_OK)
            return w->rc;
        if (null)
            continue;
        mm_update(c->def.type, &c->page_mm, p, v[i].len);
        if (c->def.bloom && add_hash(c, h) != LO_OK)
            return lo_pq_w_fail(w, LO_ERROR, "parquet: out of memory%s", NULL);
        if (c->page_dict) {
            lo_buf_append(&c->vals, &idx, sizeof idx);
        } else if (fixed) {
            lo_buf_append(&c->vals, p, v[i].len);
        } else {
            uint8_t len[4];
            lo_put_le32(len, (uint32_t)v[i].len);
            lo_buf_append(&c->vals, len, 4);
            lo_buf_append(&c->vals, p, v[i].len);
        }
    }
    return end_batch(w, c);
}

void lo_pq_w_chunk_stats(lo_pq_writer_t *w, lo_pq_col_t *c)
{
    lo_pq_chunk_meta_t *m = &c->meta;
    if (!c->chunk_mm.has)
        return;
    m->has_minmax = stat_copy(w, c->def.type, &c->chunk_mm.min, false, &m->min, &m->min_exact) &&
                    stat_copy(w, c->def.type, &c->chunk_mm.max, true, &m->max, &m->max_exact);
    if (!m->has_minmax) {
        free(m->min.p);
        free(m->max.p);
        m->min.p = m->max.p = NULL;
    }
}

void lo_pq_w_col_reset(lo_pq_col_t *c)
{
    c->rows = 0;
    lo_buf_reset(&c->chunk);
    lo_buf_reset(&c->dict);
    c->n_ents = 0;
    if (c->slots)
        memset(c->slots, 0, c->n_slots * sizeof *c->slots);
    c->n_hashes = 0;
    c->page_first_row = 0;
    c->chunk_mm.has = false;
    c->dict_on = c->def.type == LO_PQ_BYTE_ARRAY && !c->def.no_dictionary;
    c->page_dict = c->dict_on;
    meta_init(&c->meta);
}
