/*
 * pq_write.h — the writer's state, shared by pq_write.c (values and pages)
 * and pq_footer.c (row group ends, bloom filters, page indexes, footer).
 * Not for use outside src/cold.
 */
#ifndef LO_COLD_PQ_WRITE_H
#define LO_COLD_PQ_WRITE_H

#include "cold/pq_internal.h"

/* Owned bytes. */
typedef struct {
    uint8_t *p;
    size_t len;
} lo_pq_bytes_t;

/* The running min and max of PLAIN values. */
typedef struct {
    bool has;
    lo_buf_t min, max;
} lo_pq_minmax_t;

/* A written data page, as the page index needs it. */
typedef struct {
    int64_t offset; /* within the chunk's data pages until the row group ends, then absolute */
    int32_t size;   /* header included */
    int64_t first_row;
    int64_t nulls;
    bool null_page;
    bool has_minmax;
    lo_pq_bytes_t min, max; /* as stored (truncated) */
} lo_pq_page_t;

/* A column chunk, as the footer and the page index need it. */
typedef struct {
    int64_t data_page_offset;
    int64_t dict_page_offset; /* -1: none */
    int64_t num_values;
    int64_t null_count;
    int64_t uncompressed; /* page headers included */
    int64_t compressed;
    uint32_t encodings;
    bool has_minmax;
    bool min_exact, max_exact;
    lo_pq_bytes_t min, max;
    int64_t bloom_offset; /* -1: none */
    int32_t bloom_len;
    lo_pq_page_t *pages;
    size_t n_pages, cap_pages;
    bool index_ok; /* every page with values has a min and max */
    int64_t ci_offset, oi_offset;
    int32_t ci_len, oi_len;
} lo_pq_chunk_meta_t;

/* A written row group. */
typedef struct {
    int64_t num_rows;
    int64_t total_byte_size;
    int64_t compressed;
    int64_t file_offset;
    lo_pq_chunk_meta_t *cols;
} lo_pq_rg_meta_t;

/* A dictionary entry: its place in the dictionary's PLAIN bytes. */
typedef struct {
    size_t off; /* of the length prefix */
    uint32_t len;
    uint64_t hash;
} lo_pq_dict_ent_t;

/* A column while its row group is open. */
typedef struct {
    lo_pq_column_t def;
    char *name;
    int64_t rows;   /* in this row group */
    lo_buf_t chunk; /* the row group's data pages, headers and compressed bodies */
    /* the open page */
    lo_buf_t defs; /* one uint32 level per value (OPTIONAL columns) */
    lo_buf_t vals; /* PLAIN values, or uint32 dictionary indexes */
    size_t page_values, page_nulls;
    int64_t page_first_row;
    bool page_dict; /* the open page holds dictionary indexes */
    lo_pq_minmax_t page_mm, chunk_mm;
    /* the row group's dictionary (BYTE_ARRAY) */
    bool dict_on;
    lo_buf_t dict; /* PLAIN entries: the dictionary page's body */
    lo_pq_dict_ent_t *ents;
    size_t n_ents, cap_ents;
    uint32_t *slots; /* open addressing, entry + 1 */
    size_t n_slots;
    /* bloom filter hashes of the row group's values */
    uint64_t *hashes;
    size_t n_hashes, cap_hashes;
    lo_pq_chunk_meta_t meta;
} lo_pq_col_t;

struct lo_pq_writer {
    lo_pq_options_t opt;
    char *created_by;
    lo_pq_sink_fn write;
    void *ud;
    uint64_t offset;
    int rc;
    char err[256];
    bool closed;
    lo_pq_col_t *cols;
    size_t n_cols;
    lo_pq_rg_meta_t *rgs;
    size_t n_rgs, cap_rgs;
    /* scratch */
    lo_buf_t body, tmp, comp, hdr;
    uint64_t *scratch;
    size_t scratch_cap;
};

/* pq_write.c: the sink, errors, page flushing, the dictionary page's header. */
int lo_pq_w_sink(lo_pq_writer_t *w, const void *p, size_t n);
int lo_pq_w_fail(lo_pq_writer_t *w, int rc, const char *fmt, const char *arg);
int lo_pq_w_page_flush(lo_pq_writer_t *w, lo_pq_col_t *c);
void lo_pq_w_page_header(lo_pq_writer_t *w, int type, size_t body_len, size_t comp_len, int32_t n, int enc);
/* Stores a chunk's min/max from its running min/max (truncating). */
void lo_pq_w_chunk_stats(lo_pq_writer_t *w, lo_pq_col_t *c);
/* Frees what a chunk's metadata owns. */
void lo_pq_chunk_meta_free(lo_pq_chunk_meta_t *m);
/* Resets a column for the next row group (keeps its buffers). */
void lo_pq_w_col_reset(lo_pq_col_t *c);

#endif
