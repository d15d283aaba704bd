/*
 * parquet.h — the cold tier's file format: a writer and a reader of Apache
 * Parquet files with flat schemas (one leaf column per field, REQUIRED or
 * OPTIONAL, nothing repeated or nested).  docs/parquet.md says what is
 * written and read, and the limits.
 *
 * The writer takes the rows of one row group as column batches, encodes and
 * compresses pages as they fill, and hands the row group's bytes to a sink
 * when the row group ends; its memory is bounded by one row group.  After
 * the last row group it writes the page indexes and the footer.
 *
 * The reader parses the footer from a buffer or through a read-at callback
 * (so a file may be read in ranges), lists row groups and column chunks with
 * their statistics, reads the columns asked for (projection), probes bloom
 * filters and reads page indexes.  Every length and offset read from a file
 * is checked: a corrupt or hostile file is LO_INVALID with a message, never
 * a crash, and allocations are bounded by lo_pq_limits_t.
 */
#ifndef LO_COLD_PARQUET_H
#define LO_COLD_PARQUET_H

#include "core/lo.h"

/* Physical types (the values are Parquet's Type enum). */
typedef enum {
    LO_PQ_BOOLEAN = 0,
    LO_PQ_INT32 = 1,
    LO_PQ_INT64 = 2,
    LO_PQ_INT96 = 3, /* read as 12-byte values, never written */
    LO_PQ_FLOAT = 4, /* read only */
    LO_PQ_DOUBLE = 5,
    LO_PQ_BYTE_ARRAY = 6,
    LO_PQ_FIXED = 7, /* FIXED_LEN_BYTE_ARRAY(type_length) */
} lo_pq_type_t;

/* Logical types the writer sets (and the reader reports). */
typedef enum {
    LO_PQ_LOGICAL_NONE = 0,
    LO_PQ_LOGICAL_STRING,           /* BYTE_ARRAY, UTF-8 */
    LO_PQ_LOGICAL_JSON,             /* BYTE_ARRAY, JSON text */
    LO_PQ_LOGICAL_TIMESTAMP_MICROS, /* INT64, microseconds since the epoch */
    LO_PQ_LOGICAL_TIMESTAMP_MILLIS, /* read only */
    LO_PQ_LOGICAL_TIMESTAMP_NANOS,  /* INT64, nanoseconds since the epoch */
    LO_PQ_LOGICAL_UUID,             /* FIXED(16) */
    LO_PQ_LOGICAL_OTHER,            /* read only: a logical type this code does not name */
} lo_pq_logical_t;

/* Compression codecs (the values are Parquet's CompressionCodec enum). */
typedef enum {
    LO_PQ_UNCOMPRESSED = 0,
    LO_PQ_SNAPPY = 1,
    LO_PQ_GZIP = 2,
    LO_PQ_ZSTD = 6,
} lo_pq_codec_t;

/* ------------------------------------------------------------------ */
/* Writer                                                               */
/* ------------------------------------------------------------------ */

/* One column of a flat schema. */
typedef struct {
    const char *name;        /* UTF-8, unique in the schema */
    lo_pq_type_t type;       /* BOOLEAN, INT32, INT64, DOUBLE, BYTE_ARRAY or FIXED */
    lo_pq_logical_t logical; /* NONE, or one that suits the type */
    int32_t type_length;     /* FIXED only: bytes per value (1..64) */
    bool optional;           /* OPTIONAL (may hold nulls) rather than REQUIRED */
    bool bloom;              /* write a split-block bloom filter per column chunk */
    bool no_dictionary;      /* BYTE_ARRAY: never dictionary-encode (long unique text; a
                              * dictionary is dropped anyway when a chunk's first page is
                              * mostly distinct values) */
} lo_pq_column_t;

/* A flat schema: its columns in file order. */
typedef struct {
    const lo_pq_column_t *columns;
    size_t n_columns;
} lo_pq_schema_t;

/* Writer settings; lo_pq_options_default fills in the defaults. */
typedef struct {
    lo_pq_codec_t codec;    /* default SNAPPY */
    int zstd_level;         /* default 1 (smaller than 3 on id text: docs/parquet.md) */
    size_t page_bytes;      /* a page is closed past this many encoded bytes; default 1 MiB */
    size_t page_rows;       /* ... or past this many rows; default (and at most) 20,000 */
    size_t row_group_rows;  /* most rows in one row group; default 1,000,000 */
    size_t dict_max_bytes;  /* a dictionary past this: the rest without one; default 1 MiB */
    size_t bloom_max_bytes; /* largest bloom filter per column chunk; default 1 MiB */
    size_t stats_max_bytes; /* longer min/max values are truncated (inexact); default 64 */
    const char *created_by; /* FileMetaData.created_by; default "lookout" */
} lo_pq_options_t;

/* Where the writer's bytes go, in file order.  Returns LO_OK or an error
 * (which fails the writer). */
typedef int (*lo_pq_sink_fn)(void *ud, const void *p, size_t n);

typedef struct lo_pq_writer lo_pq_writer_t;

/* Fills o with the defaults. */
void lo_pq_options_default(lo_pq_options_t *o);

/* Starts a file: checks the schema and options (NULL for the defaults) and
 * writes the magic.  The schema's names are copied.  NULL on failure, with
 * the reason in err. */
lo_pq_writer_t *lo_pq_writer_open(const lo_pq_schema_t *schema, const lo_pq_options_t *options,
                                  lo_pq_sink_fn write, void *ud, char *err, size_t errlen);

/* Appends n values to column col of the current row group.  nulls (NULL when
 * none) flags the null rows (nulls[i] != 0); a null row's value is ignored
 * (v may be NULL when every row is null),
 * and nulls are refused for a REQUIRED column.  Values are copied.  The type
 * must be the column's: i64 for INT64, i32 for INT32, f64 for DOUBLE, bool
 * (bytes 0/1) for BOOLEAN, bytes for BYTE_ARRAY and FIXED (each of
 * type_length bytes).  LO_TOO_LARGE when the row group would pass
 * row_group_rows for this column; LO_INVALID for a misuse; LO_ERROR when
 * out of memory or the sink failed.  After an error the writer is failed. */
LO_MUST_USE int lo_pq_write_i64(lo_pq_writer_t *w, size_t col, const int64_t *v, const uint8_t *nulls,
                                size_t n);
/* As lo_pq_write_i64, for INT32 columns. */
LO_MUST_USE int lo_pq_write_i32(lo_pq_writer_t *w, size_t col, const int32_t *v, const uint8_t *nulls,
                                size_t n);
/* As lo_pq_write_i64, for DOUBLE columns. */
LO_MUST_USE int lo_pq_write_f64(lo_pq_writer_t *w, size_t col, const double *v, const uint8_t *nulls,
                                size_t n);
/* As lo_pq_write_i64, for BOOLEAN columns (v[i] != 0 is true). */
LO_MUST_USE int lo_pq_write_bool(lo_pq_writer_t *w, size_t col, const uint8_t *v, const uint8_t *nulls,
                                 size_t n);
/* As lo_pq_write_i64, for BYTE_ARRAY and FIXED columns. */
LO_MUST_USE int lo_pq_write_bytes(lo_pq_writer_t *w, size_t col, const lo_str_t *v, const uint8_t *nulls,
                                  size_t n);

/* Rows the current row group may still take (row_group_rows less the most
 * rows given to any column). */
size_t lo_pq_writer_room(const lo_pq_writer_t *w);

/* Ends the current row group: every column must have the same number of
 * rows.  Writes its column chunks and bloom filters to the sink.  An empty
 * row group is not written (LO_OK). */
LO_MUST_USE int lo_pq_writer_end_row_group(lo_pq_writer_t *w);

/* Ends the file: the current row group if it holds rows, then the column
 * and offset indexes, the footer and the magic.  The writer must still be
 * destroyed. */
LO_MUST_USE int lo_pq_writer_close(lo_pq_writer_t *w);

/* The first error the writer met ("" if none). */
const char *lo_pq_writer_error(const lo_pq_writer_t *w);

/* Bytes given to the sink so far. */
uint64_t lo_pq_writer_offset(const lo_pq_writer_t *w);

/* Frees the writer (closed or not; an unclosed file is left incomplete).
 * Accepts NULL. */
void lo_pq_writer_destroy(lo_pq_writer_t *w);

/* ------------------------------------------------------------------ */
/* Reader                                                               */
/* ------------------------------------------------------------------ */

/* Reads n bytes at offset into dst; LO_OK or an error. */
typedef int (*lo_pq_read_at_fn)(void *ud, uint64_t offset, void *dst, size_t n);

/* Bounds on what a file may make the reader allocate; 0 = the default. */
typedef struct {
    size_t max_footer_bytes; /* default 64 MiB */
    size_t max_chunk_bytes;  /* one column chunk as stored; default 512 MiB */
    size_t max_page_bytes;   /* one page, decompressed; default 256 MiB */
    size_t max_rows;         /* rows in one row group; default 8 Mi */
} lo_pq_limits_t;

/* Statistics of a column chunk; min and max are PLAIN-encoded values
 * (without a length prefix), views into the footer. */
typedef struct {
    bool has_min_max;
    bool min_exact, max_exact;
    bool has_null_count;
    bool legacy; /* from the deprecated min/max fields (sort order unknown) */
    lo_str_t min, max;
    int64_t null_count;
} lo_pq_stats_t;

/* A leaf column of the file's schema. */
typedef struct {
    lo_str_t name;
    lo_pq_type_t type;
    int32_t type_length;
    bool optional;
    lo_pq_logical_t logical;
    bool utc;               /* TIMESTAMP: isAdjustedToUTC */
    int32_t converted_type; /* -1 when absent */
} lo_pq_field_t;

/* A column chunk's metadata.  Offsets are absolute; -1 when absent. */
typedef struct {
    lo_pq_type_t type;
    lo_pq_codec_t codec;
    uint32_t encodings; /* bit (1 << encoding) per Encoding listed */
    int64_t num_values; /* nulls included */
    int64_t total_compressed_size;
    int64_t total_uncompressed_size;
    int64_t data_page_offset;
    int64_t dictionary_page_offset;
    int64_t bloom_filter_offset;
    int32_t bloom_filter_length;
    int64_t column_index_offset;
    int32_t column_index_length;
    int64_t offset_index_offset;
    int32_t offset_index_length;
    lo_pq_stats_t stats;
} lo_pq_chunk_t;

/* A row group: its rows and one chunk per field. */
typedef struct {
    int64_t num_rows;
    int64_t total_byte_size;
    lo_pq_chunk_t *columns;
} lo_pq_row_group_t;

/* An open file.  The public fields are read-only. */
typedef struct lo_pq_file {
    size_t n_fields;
    lo_pq_field_t *fields;
    size_t n_row_groups;
    lo_pq_row_group_t *row_groups;
    int64_t num_rows;
    lo_str_t created_by;
    bool type_defined_order; /* column_orders say TypeDefinedOrder for every column */
    /* private */
    uint64_t size;
    lo_pq_read_at_fn read_at;
    void *ud;
    lo_pq_limits_t limits;
    uint8_t *footer;
    uint32_t footer_len;
    void *owned_ud;
    struct lo_pq_scratch *scratch; /* decoding buffers reused from column to column */
} lo_pq_file_t;

/* Opens a file of size bytes read through read_at: reads and parses the
 * footer.  limits may be NULL.  LO_INVALID (with err) for a file that is
 * not Parquet, is corrupt, or uses what this reader does not (nested
 * schemas, encryption); LO_ERROR for out of memory or a read failure. */
LO_MUST_USE int lo_pq_open(uint64_t size, lo_pq_read_at_fn read_at, void *ud, const lo_pq_limits_t *limits,
                           lo_pq_file_t **out, char *err, size_t errlen);

/* A file's decoding buffers, which a reader of many files on one thread
 * may carry from one to the next instead of growing new ones for each. */
typedef struct lo_pq_scratch lo_pq_scratch_t;

/* Detaches the file's buffers (NULL when it has none) for another file. */
lo_pq_scratch_t *lo_pq_take_scratch(lo_pq_file_t *f);

/* Gives the file buffers taken from another (freeing any it has).
 * Accepts NULL. */
void lo_pq_give_scratch(lo_pq_file_t *f, lo_pq_scratch_t *sc);

/* Frees buffers taken from a file.  Accepts NULL. */
void lo_pq_scratch_free(lo_pq_scratch_t *sc);

/* As lo_pq_open, over a file in memory; p must outlive the file. */
LO_MUST_USE int lo_pq_open_buffer(const void *p, size_t n, const lo_pq_limits_t *limits, lo_pq_file_t **out,
                                  char *err, size_t errlen);

/* Closes a file.  Accepts NULL.  (A file is read by one thread at a
 * time: its decoding buffers are reused from one read to the next.) */
void lo_pq_close(lo_pq_file_t *f);

/* The values of one column chunk, one slot per row.  A null row's slot is
 * zero ({NULL, 0} for byte values).  Byte-array and fixed values are views
 * into the decompressed pages (and dictionary), which the values own: no
 * value is copied. */
typedef struct {
    lo_pq_type_t type;
    size_t n;
    size_t n_nulls;
    uint8_t *nulls; /* n flags (1 = null), or NULL for a REQUIRED column */
    union {
        int32_t *i32;
        int64_t *i64;
        float *f32;
        double *f64;
        uint8_t *b;  /* BOOLEAN: 0 or 1 */
        lo_str_t *s; /* BYTE_ARRAY, FIXED, INT96 */
        void *any;
    } v;
    void **owned; /* the buffers byte values point into */
    size_t n_owned;
} lo_pq_values_t;

/* Reads column col of row group rg: every page of its chunk, decoded.
 * PLAIN, RLE_DICTIONARY/PLAIN_DICTIONARY, DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT and RLE
 * (booleans), data pages v1 and v2, codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD.
 * out is zeroed first and must be freed with lo_pq_values_free. */
LO_MUST_USE int lo_pq_read_column(lo_pq_file_t *f, size_t rg, size_t col, lo_pq_values_t *out, char *err,
                                  size_t errlen);

/* As lo_pq_read_column, for rows [from, to) of the row group only: out
 * holds to - from values (row from at index 0).  With an offset index only
 * the dictionary and the data pages holding those rows are read and
 * decoded; without one (or when it does not fit the chunk), the whole
 * chunk. */
LO_MUST_USE int lo_pq_read_rows(lo_pq_file_t *f, size_t rg, size_t col, size_t from, size_t to,
                                lo_pq_values_t *out, char *err, size_t errlen);

/* Frees what lo_pq_read_column allocated.  Accepts NULL. */
void lo_pq_values_free(lo_pq_values_t *v);

/* The hash a bloom filter is built of: XXH64 with seed 0 of a value's PLAIN
 * bytes (for byte arrays, without the length prefix). */
uint64_t lo_pq_hash(const void *p, size_t n);

/* Probes the bloom filter of column col in row group rg for a value given
 * as its PLAIN bytes.  *maybe is false when the value is certainly absent.
 * LO_OK, LO_ABSENT when the chunk has no filter, LO_INVALID or LO_ERROR. */
LO_MUST_USE int lo_pq_bloom_check(lo_pq_file_t *f, size_t rg, size_t col, const void *value, size_t len,
                                  bool *maybe, char *err, size_t errlen);

/* Boundary orders of a column index. */
typedef enum { LO_PQ_UNORDERED = 0, LO_PQ_ASCENDING = 1, LO_PQ_DESCENDING = 2 } lo_pq_order_t;

/* One data page's place in the file (OffsetIndex.page_locations). */
typedef struct {
    int64_t offset;
    int32_t compressed_size; /* page header included */
    int64_t first_row;
} lo_pq_page_loc_t;

/* A column chunk's page index.  The column index part (null_pages, min,
 * max, null_counts) is there when has_column_index; min and max are PLAIN
 * values, views into mem. */
typedef struct {
    size_t n_pages;
    lo_pq_page_loc_t *pages;
    bool has_column_index;
    lo_pq_order_t boundary_order;
    bool *null_pages;
    lo_str_t *min;
    lo_str_t *max;
    int64_t *null_counts; /* NULL when the index has none */
    uint8_t *mem;
} lo_pq_page_index_t;

/* Reads the offset index (and column index, if any) of a column chunk.
 * LO_OK, LO_ABSENT when the chunk has no offset index, LO_INVALID or
 * LO_ERROR.  Free with lo_pq_page_index_free. */
LO_MUST_USE int lo_pq_read_page_index(lo_pq_file_t *f, size_t rg, size_t col, lo_pq_page_index_t *out,
                                      char *err, size_t errlen);

/* Frees a page index.  Accepts NULL. */
void lo_pq_page_index_free(lo_pq_page_index_t *pi);

#endif
