/*
 * test_cold_compact.c — compaction (docs/cold-store.md, "Compaction") of
 * files written with an older layout: a day of metric files that lack the
 * layout's last column (exemplars, added after them) merges into one file
 * of the current layout, that column null in every row, every other value
 * kept, and the catalog swapped in one transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "ingest_harness.h"

#include "cold/layout.h"
#include "cold/parquet.h"
#include "cold/rotate.h"
#include "store/retention.h"

#define ROWS 300 /* a file */

static int file_sink(void *ud, const void *p, size_t n)
{
    return fwrite(p, 1, n, ud) == n ? LO_OK : LO_ERROR;
}

/* Value k of a file starting at t0_us: times a minute apart, the rest a
 * function of k (required columns hold a value, optional ones are null
 * except the numbers). */
static void write_old_file(const char *path, int64_t t0_us, int64_t series)
{
    const lo_cold_layout_t *L = lo_cold_layout(LO_SIGNAL_METRICS);
    size_t nc = L->n_cols - 1; /* the layout before its last column */
    assert_string_equal(L->cols[nc].name, "exemplars");
    lo_pq_column_t cols[64];
    for (size_t i = 0; i < nc; i++)
        cols[i] = lo_cold_pq_column(&L->cols[i]);
    char err[256];
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    lo_pq_schema_t schema = { cols, nc };
    lo_pq_writer_t *w = lo_pq_writer_open(&schema, NULL, file_sink, f, err, sizeof err);
    assert_non_null(w);
    int64_t i64[ROWS];
    int32_t i32[ROWS];
    double f64[ROWS];
    uint8_t b[ROWS], nulls[ROWS];
    lo_str_t s[ROWS];
    for (size_t c = 0; c < nc; c++) {
        const lo_cold_col_t *lc = &L->cols[c];
        bool numeric = lc->kind == LO_CK_I64 || lc->kind == LO_CK_I32 || lc->kind == LO_CK_F64;
        for (int k = 0; k < ROWS; k++) {
            nulls[k] = lc->optional && !numeric;
            i64[k] = lc->kind == LO_CK_TS ? t0_us + (int64_t)k * 60000000 : series + k % 3;
            i32[k] = 1;
            f64[k] = k + 0.5;
            b[k] = 0;
            s[k] = lc->kind == LO_CK_JSON ? LO_STR_LIT("{}") : LO_STR_LIT("m");
        }
        int rc;
        switch (lc->kind) {
        case LO_CK_TS:
        case LO_CK_I64: rc = lo_pq_write_i64(w, c, i64, lc->optional ? nulls : NULL, ROWS); break;
        case LO_CK_I32: rc = lo_pq_write_i32(w, c, i32, lc->optional ? nulls : NULL, ROWS); break;
        case LO_CK_F64: rc = lo_pq_write_f64(w, c, f64, lc->optional ? nulls : NULL, ROWS); break;
        case LO_CK_BOOL: rc = lo_pq_write_bool(w, c, b, lc->optional ? nulls : NULL, ROWS); break;
        default: rc = lo_pq_write_bytes(w, c, s, lc->optional ? nulls : NULL, ROWS); break;
        }
        assert_int_equal(rc, LO_OK);
    }
    assert_int_equal(lo_pq_writer_close(w), LO_OK);
    lo_pq_writer_destroy(w);
    assert_int_equal(fclose(f), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void test_old_layout_compacts(void **state)
{
    (void)state;
    char conninfo[512], err[256], dir[] = "/tmp/lookout-compact-XXXXXX";
    it_fresh_schema("lookout_test_compact", conninfo, sizeof conninfo);
    assert_non_null(mkdtemp(dir));
    PGconn *db = pgt_connect(conninfo);

    /* two hours of a day five days ago, as an older version rotated them */
    time_t day = (time(NULL) / 86400 - 5) * 86400;
    char ymd[16], keys[2][160], path[400];
    strftime(ymd, sizeof ymd, "%Y-%m-%d", gmtime(&day));
    for (int h = 0; h < 2; h++) {
        snprintf(keys[h], sizeof keys[h], "otel/metrics/%s/metrics_%032d.parquet", ymd, h + 1);
        snprintf(path, sizeof path, "%s/otel/metrics/%s", dir, ymd);
        char mk[450];
        snprintf(mk, sizeof mk, "mkdir -p '%s'", path);
        assert_int_equal(system(mk), 0);
        snprintf(path, sizeof path, "%s/%s", dir, keys[h]);
        int64_t t0 = ((int64_t)day + (h + 1) * 3600) * 1000000;
        write_old_file(path, t0, 10 * (h + 1));
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        char sql[1024];
        snprintf(sql, sizeof sql,
                 "INSERT INTO cold_files (id, signal, key, min_time, max_time, slice_start, slice_end, rows, "
                 "bytes, projects, has_null_project, services, sessions) VALUES (gen_random_uuid(), "
                 "'metrics', '%s', lo_us_ts(%lld), lo_us_ts(%lld), lo_us_ts(%lld), lo_us_ts(%lld), %d, %lld, "
                 "NULL, true, NULL, NULL)",
                 keys[h], (long long)t0, (long long)(t0 + (ROWS - 1) * 60000000LL), (long long)t0,
                 (long long)(t0 + 3600000000LL), ROWS, (long long)st.st_size);
        pgt_exec(db, sql);
    }

    lo_config_t cfg;
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    char url[128];
    snprintf(url, sizeof url, "file://%s", dir);
    assert_int_equal(lo_config_set(&cfg, "cold_url", url, err, sizeof err), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "cold_compact_files", "2", err, sizeof err), LO_OK);
    lo_retention_t ret;
    assert_int_equal(lo_retention_init(&ret, &cfg, err, sizeof err), LO_OK);
    lo_rotate_t *r = lo_rotate_create(&cfg, &ret, err, sizeof err);
    assert_non_null(r);
    lo_rotate_opts_t o = { .signals = 1u << LO_SIGNAL_METRICS };
    if (lo_rotate_run(r, db, &o, err, sizeof err) != LO_OK)
        fail_msg("rotate: %s", err);

    /* one file of the current layout holds both */
    assert_int_equal(pgt_int(db, "SELECT count(*) FROM cold_files WHERE signal = 'metrics'"), 1);
    assert_int_equal(pgt_int(db, "SELECT sum(rows) FROM cold_files WHERE signal = 'metrics'"), 2 * ROWS);
    char key[200];
    pgt_value(db, "SELECT key FROM cold_files WHERE signal = 'metrics'", key, sizeof key);
    snprintf(path, sizeof path, "%s/%s", dir, key);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[4 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    lo_pq_file_t *pf;
    assert_int_equal(lo_pq_open_buffer(buf, n, NULL, &pf, err, sizeof err), LO_OK);
    const lo_cold_layout_t *L = lo_cold_layout(LO_SIGNAL_METRICS);
    assert_int_equal(pf->n_fields, L->n_cols);
    assert_int_equal(pf->num_rows, 2 * ROWS);
    size_t last = L->n_cols - 1, sc = 1;
    assert_string_equal(L->cols[sc].name, "series_id");
    int64_t seen = 0, series_sum = 0;
    for (size_t g = 0; g < pf->n_row_groups; g++) {
        lo_pq_values_t ex, sid;
        assert_int_equal(lo_pq_read_column(pf, g, last, &ex, err, sizeof err), LO_OK);
        assert_int_equal(ex.n_nulls, ex.n); /* the column the old files lacked: null */
        assert_int_equal(lo_pq_read_column(pf, g, sc, &sid, err, sizeof err), LO_OK);
        for (size_t k = 0; k < sid.n; k++)
            series_sum += sid.v.i64[k];
        seen += (int64_t)ex.n;
        lo_pq_values_free(&ex);
        lo_pq_values_free(&sid);
    }
    assert_true(seen == 2 * ROWS);
    /* every row's series id as written: 10..12 in the first file, 20..22 in the second */
    int64_t want = 0;
    for (int k = 0; k < ROWS; k++)
        want += (10 + k % 3) + (20 + k % 3);
    assert_true(series_sum == want);
    lo_pq_close(pf);

    lo_rotate_destroy(r);
    lo_config_free(&cfg);
    PQfinish(db);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    pgt_drop_db("lookout_test_compact");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_layout_compacts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
