/*
 * fuzz_parquet_read.c — libFuzzer target: the Parquet reader
 * (cold/parquet.h) over arbitrary bytes: the footer, then every column of
 * every row group, every page index and a bloom probe.  Whatever it
 * accepts must be consistent (one slot per row, nulls counted); whatever
 * it refuses must say why.  Limits keep one input's allocations small.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cold/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    lo_pq_file_t *f;
    lo_pq_limits_t lim = { .max_footer_bytes = 1 << 20,
                           .max_chunk_bytes = 1 << 22,
                           .max_page_bytes = 1 << 22,
                           .max_rows = 1 << 16 };
    err[0] = '\0';
    if (lo_pq_open_buffer(data, size, &lim, &f, err, sizeof err) != LO_OK) {
        if (err[0] == '\0')
            abort();
        return 0;
    }
    for (size_t g = 0; g < f->n_row_groups; g++) {
        for (size_t c = 0; c < f->n_fields; c++) {
            lo_pq_values_t v;
            err[0] = '\0';
            if (lo_pq_read_column(f, g, c, &v, err, sizeof err) == LO_OK) {
                size_t nulls = 0;
                if (v.n != (size_t)f->row_groups[g].num_rows)
                    abort();
                for (size_t i = 0; v.nulls && i < v.n; i++)
                    nulls += v.nulls[i];
                if (nulls != v.n_nulls)
                    abort();
                lo_pq_values_free(&v);
            } else if (err[0] == '\0') {
                abort();
            }
            /* a window of rows: the pages the offset index names */
            size_t rows = (size_t)f->row_groups[g].num_rows, from = rows / 3, to = rows - rows / 4;
            err[0] = '\0';
            if (lo_pq_read_rows(f, g, c, from, to, &v, err, sizeof err) == LO_OK) {
                if (v.n != to - from)
                    abort();
                lo_pq_values_free(&v);
            } else if (err[0] == '\0') {
                abort();
            }
            lo_pq_page_index_t pi;
            if (lo_pq_read_page_index(f, g, c, &pi, err, sizeof err) == LO_OK)
                lo_pq_page_index_free(&pi);
            bool maybe;
            if (lo_pq_bloom_check(f, g, c, "svc-3", 5, &maybe, err, sizeof err) < LO_ABSENT)
                abort();
        }
    }
    lo_pq_close(f);
    return 0;
}
