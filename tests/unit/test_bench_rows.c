/*
 * The benchmark's data: its COPY baseline rows load into the real schema
 * (so the baseline cannot silently drift from the tables the server
 * writes), carry the envelope the server would derive, and its protobuf
 * bodies have their trace ids where the load generator rewrites them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "otlp/otlp.h"
#include "pg_harness.h"
#include "store/store.h"

#include "../../bench/encode.c"
#include "../../bench/gen.c"
#include "../../bench/rows.c"

static void copy_chunk(PGconn *c, bg_signal_t s, const bg_chunk_t *ch)
{
    PGresult *r = PQexec(c, bg_rows_copy_sql(s));
    if (PQresultStatus(r) != PGRES_COPY_IN)
        fail_msg("%s: %s", bg_rows_copy_sql(s), PQerrorMessage(c));
    PQclear(r);
    assert_int_equal(PQputCopyData(c, ch->text, (int)ch->len), 1);
    assert_int_equal(PQputCopyEnd(c, NULL), 1);
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("COPY %s: %s", bg_signal_name(s), PQresultErrorMessage(r));
        PQclear(r);
    }
}

static void test_rows_fit_schema(void **state)
{
    (void)state;
    char conninfo[1024], err[256];
    pgt_fresh_db("lo_t_bench_rows", conninfo, sizeof(conninfo));
    PGconn *c = lo_store_connect(conninfo, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(lo_store_migrate(c, err, sizeof(err)), LO_OK);
    assert_int_equal(lo_store_ensure_partitions(c, 1, 1, err, sizeof(err)), LO_OK);
    int64_t now = bg_now_ns();
    for (int s = 0; s < 3; s++) {
        bg_req_t req;
        bg_chunk_t ch;
        assert_int_equal(bg_req_build(&req, (bg_signal_t)s, 200, 1, 0, now), 0);
        assert_int_equal(bg_rows_render(&req, &ch), 0);
        assert_int_equal(ch.rows, 200);
        copy_chunk(c, (bg_signal_t)s, &ch);
        bg_chunk_free(&ch);
        bg_req_free(&req);
    }
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries"), 200);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM spans"), 200);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_samples"), 200);
    /* the envelope agrees with the attributes it came from */
    assert_int_equal(
        pgt_int(c, "SELECT count(*) FROM log_entries WHERE session_id::text = attributes->>'session.id'"
                   " AND user_id::text = attributes->>'user.id'"
                   " AND project_id::text = resource->>'project.id'"
                   " AND service = resource->>'service.name'"),
        200);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries WHERE level NOT IN "
                                "('trace','debug','info','warn','error')"),
                     0);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM spans WHERE parent_span_id IS NULL"),
                     4 * 7); /* 4 x 50 spans, traces of 8 */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM spans WHERE status_code = 2 AND events = '[]'"), 0);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_samples WHERE buckets IS NOT NULL "
                                "AND jsonb_array_length(buckets->'counts') <> 13"),
                     0);
    PQfinish(c);
    pgt_drop_db("lo_t_bench_rows");
}

static void test_trace_marks(void **state)
{
    (void)state;
    int64_t now = bg_now_ns();
    for (int s = 0; s < 3; s++) {
        bg_req_t req;
        pbw_t w = { 0 };
        assert_int_equal(bg_req_build(&req, (bg_signal_t)s, 300, 7, 3, now), 0);
        bg_encode_request(&w, &req);
        size_t want = 0;
        for (int ri = 0; ri < req.nres; ri++) {
            want += (size_t)req.res[ri].nspans;
            for (int i = 0; i < req.res[ri].nlogs; i++)
                want += req.res[ri].logs[i].has_trace;
        }
        assert_int_equal(w.nmark, want);
        /* each mark follows "field 9 (log) / field 1 (span), length 16" and
         * holds the trace id of the record, in order */
        size_t m = 0;
        for (int ri = 0; ri < req.nres; ri++) {
            for (int i = 0; i < req.res[ri].nlogs; i++) {
                const bg_log_t *l = &req.res[ri].logs[i];
                if (!l->has_trace)
                    continue;
                assert_int_equal(w.p[w.mark[m] - 2], (9 << 3) | 2);
                assert_int_equal(w.p[w.mark[m] - 1], 16);
                assert_memory_equal(w.p + w.mark[m], l->trace_id, 16);
                m++;
            }
            for (int i = 0; i < req.res[ri].nspans; i++) {
                assert_int_equal(w.p[w.mark[m] - 2], (1 << 3) | 2);
                assert_int_equal(w.p[w.mark[m] - 1], 16);
                assert_memory_equal(w.p + w.mark[m], req.res[ri].spans[i].trace_id, 16);
                m++;
            }
        }
        /* the body is one run of top-level field 1 messages to the end */
        size_t pos = 0;
        while (pos < w.len) {
            assert_int_equal(w.p[pos], 0x0a);
            uint64_t n = 0;
            int sh = 0;
            pos++;
            while (w.p[pos] & 0x80) {
                n |= (uint64_t)(w.p[pos++] & 0x7f) << sh;
                sh += 7;
            }
            n |= (uint64_t)w.p[pos++] << sh;
            pos += n;
        }
        assert_int_equal(pos, w.len);
        pbw_free(&w);
        bg_req_free(&req);
    }
}

/* lookout's own decoder reads the load generator's bodies as the rows the
 * baseline stores: same count, message, level, service and envelope. */
static void decode_and_compare(bg_signal_t s)
{
    bg_req_t req;
    pbw_t w = { 0 };
    assert_int_equal(bg_req_build(&req, s, 300, 5, 2, bg_now_ns()), 0);
    bg_encode_request(&w, &req);
    lo_arena_t *a = lo_arena_create(64 * 1024, 64 << 20);
    assert_non_null(a);
    lo_otlp_batch_t b;
    lo_otlp_batch_init(&b, (lo_signal_t)s, a);
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = bg_now_ns() };
    int rc = lo_otlp_pb_decode((lo_signal_t)s, w.p, w.len, &o, &b);
    if (rc != LO_OK)
        fail_msg("decode %s: %s", bg_signal_name(s), b.error);
    assert_int_equal(b.n, (size_t)req.nrecords);
    size_t k = 0;
    for (int ri = 0; ri < req.nres; ri++) {
        const bg_res_t *res = &req.res[ri];
        for (int i = 0; i < res->nlogs; i++, k++) {
            const bg_log_t *l = &res->logs[i];
            const lo_log_rec_t *d = &b.logs[k];
            assert_true(lo_str_eq(d->message, l->body));
            assert_true(lo_str_eq(d->level, l->level));
            assert_true(lo_str_eq(d->env.service, res->service));
            assert_int_equal(d->time_ns, l->time_ns);
            assert_true(d->env.has_session && d->env.has_user && d->env.has_project);
            assert_memory_equal(d->env.session_id, l->session, 16);
            assert_memory_equal(d->env.user_id, l->user, 16);
            assert_memory_equal(d->env.project_id, res->project, 16);
            assert_int_equal(d->env.has_trace_id, l->has_trace);
            /* the baseline's JSON is byte for byte the decoder's */
            sbuf_t j = { 0 };
            json_attrs(&j, l->attr, l->nattr);
            assert_int_equal(d->attributes.len, j.len);
            assert_memory_equal(d->attributes.p, j.p, j.len);
            j.len = 0;
            json_attrs(&j, res->attr, res->nattr);
            assert_int_equal(d->resource.len, j.len);
            assert_memory_equal(d->resource.p, j.p, j.len);
            free(j.p);
        }
        for (int i = 0; i < res->nspans; i++, k++) {
            const bg_span_t *sp = &res->spans[i];
            const lo_span_rec_t *d = &b.spans[k];
            assert_true(lo_str_eq(d->name, sp->name));
            assert_int_equal(d->kind, sp->kind);
            assert_int_equal(d->start_ns, sp->start_ns);
            assert_int_equal(d->end_ns, sp->end_ns);
            assert_int_equal(d->status_code, sp->status);
            assert_int_equal(d->has_parent, sp->has_parent);
            assert_memory_equal(d->env.trace_id, sp->trace_id, 16);
            assert_memory_equal(d->env.session_id, sp->session, 16);
            assert_memory_equal(d->env.project_id, res->project, 16);
            sbuf_t j = { 0 };
            json_attrs(&j, sp->attr, sp->nattr);
            assert_true(d->attributes.len == j.len && memcmp(d->attributes.p, j.p, j.len) == 0);
            j.len = 0;
            json_events(&j, sp);
            assert_true(d->events.len == j.len && memcmp(d->events.p, j.p, j.len) == 0);
            j.len = 0;
            json_links(&j, sp);
            assert_true(d->links.len == j.len && memcmp(d->links.p, j.p, j.len) == 0);
            free(j.p);
        }
        for (int mi = 0; mi < res->nmetrics; mi++) {
            const bg_metric_t *m = &res->metrics[mi];
            for (int i = 0; i < m->npt; i++, k++) {
                const bg_point_t *pt = &m->pt[i];
                const lo_sample_rec_t *d = &b.samples[k];
                assert_true(lo_str_eq(d->name, m->name));
                assert_int_equal(d->type, m->type);
                assert_int_equal(d->time_ns, pt->time_ns);
                assert_true(lo_str_eq(d->env.service, res->service));
                assert_memory_equal(d->env.project_id, res->project, 16);
                sbuf_t j = { 0 };
                json_attrs(&j, pt->label, pt->nlabel);
                assert_true(d->labels.len == j.len && memcmp(d->labels.p, j.p, j.len) == 0);
                if (m->type == 3) {
                    j.len = 0;
                    json_buckets(&j, m, pt);
                    assert_true(d->buckets.len == j.len && memcmp(d->buckets.p, j.p, j.len) == 0);
                    assert_int_equal(d->count, pt->count);
                    assert_true(d->sum == pt->sum && d->min == pt->min && d->max == pt->max);
                } else {
                    assert_true(d->has_value && d->value == pt->value);
                }
                free(j.p);
            }
        }
    }
    lo_otlp_batch_free(&b);
    lo_arena_destroy(a);
    pbw_free(&w);
    bg_req_free(&req);
}

static void test_server_decodes_same_records(void **state)
{
    (void)state;
    decode_and_compare(BG_LOGS);
    decode_and_compare(BG_SPANS);
    decode_and_compare(BG_METRICS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_marks),
        cmocka_unit_test(test_server_decodes_same_records),
        cmocka_unit_test(test_rows_fit_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
