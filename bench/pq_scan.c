/*
 * pq_scan.c — how fast the cold tier's reader scans one column of a Parquet
 * file (bench/cold_bench.sh; docs/BENCHMARKS.md, "Cold tier").
 *
 *   pq_scan FILE COLUMN [RUNS]
 *
 * Reads the file into memory, then RUNS times (default 5) decodes the
 * column in every row group (lo_pq_read_column: decompression and
 * decoding) and folds every value into a checksum so nothing is skipped;
 * prints the best run: "<column> <rows> <seconds> <checksum>".  One thread,
 * as DuckDB is run beside it (threads = 1).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cold/parquet.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t fold(const lo_pq_values_t *v)
{
    uint64_t h = 0;
    for (size_t i = 0; i < v->n; i++) {
        switch (v->type) {
        case LO_PQ_INT64: h += (uint64_t)v->v.i64[i]; break;
        case LO_PQ_INT32: h += (uint64_t)(uint32_t)v->v.i32[i]; break;
        case LO_PQ_DOUBLE: h += (uint64_t)v->v.f64[i]; break;
        case LO_PQ_BOOLEAN: h += v->v.b[i]; break;
        default: h += v->v.s[i].len + (v->v.s[i].len ? (uint8_t)v->v.s[i].p[0] : 0); break;
        }
    }
    return h;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pq_scan FILE COLUMN [RUNS]\n");
        return 2;
    }
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    /* freed memory stays with the process, as in a server that has run a
     * while (glibc would otherwise hand big blocks back to the kernel and
     * fault them in again on every run) */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    FILE *fp = fopen(argv[1], "rb");
    if (!fp) {
        perror(argv[1]);
        return 1;
    }
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)size);
    if (!buf || fread(buf, 1, (size_t)size, fp) != (size_t)size) {
        fprintf(stderr, "pq_scan: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(fp);
    char err[256];
    lo_pq_file_t *f = NULL;
    if (lo_pq_open_buffer(buf, (size_t)size, NULL, &f, err, sizeof err) != LO_OK) {
        fprintf(stderr, "pq_scan: %s\n", err);
        return 1;
    }
    size_t col = f->n_fields;
    for (size_t i = 0; i < f->n_fields; i++)
        if (lo_str_eq(f->fields[i].name, argv[2]))
            col = i;
    if (col == f->n_fields) {
        fprintf(stderr, "pq_scan: no column %s\n", argv[2]);
        return 1;
    }
    double best = 1e9;
    uint64_t sum = 0;
    int64_t rows = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        sum = 0;
        rows = 0;
        for (size_t g = 0; g < f->n_row_groups; g++) {
            lo_pq_values_t v;
            if (lo_pq_read_column(f, g, col, &v, err, sizeof err) != LO_OK) {
                fprintf(stderr, "pq_scan: %s\n", err);
                return 1;
            }
            sum += fold(&v);
            rows += (int64_t)v.n;
            lo_pq_values_free(&v);
        }
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    printf("%s %lld %.6f %llu\n", argv[2], (long long)rows, best, (unsigned long long)sum);
    lo_pq_close(f);
    free(buf);
    return 0;
}
