/* Span writers: every column stored, and the traces summary kept right
 * when spans arrive out of order, across requests and concurrent writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest_harness.h"

static char conninfo[1024];
static int64_t base;

static lo_span_rec_t *add_span(treq_t *t, uint8_t trace, uint8_t span, int parent, const char *service,
                               const char *name, int64_t start_us, int64_t end_us, int status)
{
    lo_span_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    assert_non_null(r);
    memset(r->env.trace_id, trace, 16);
    memset(r->env.span_id, span, 8);
    r->env.has_trace_id = r->env.has_span_id = true;
    if (parent >= 0) {
        memset(r->parent_span_id, parent, 8);
        r->has_parent = true;
    }
    r->env.service = lo_str(service, strlen(service));
    r->name = lo_str(name, strlen(name));
    r->start_ns = base + start_us * 1000;
    r->end_ns = base + end_us * 1000;
    r->status_code = status;
    r->kind = 2;
    return r;
}

static void submit_wait(lo_ingest_t *in, treq_t *t)
{
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);
    treq_free(t);
}

static void setup_base(void)
{
    int64_t t = lo_now_ns() - 600LL * 1000000000;
    base = t - t % 1000000000;
}

static void test_every_column(void **state)
{
    (void)state;
    setup_base();
    it_fresh_schema("lo_t_spans", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 1, NULL, true);
    treq_t *t = treq_new(LO_SIGNAL_SPANS);
    lo_span_rec_t *r = add_span(t, 0x11, 0x22, 0x33, "svc\\1", "GET /a\tb", 10, 1510, 2);
    fill_uuid(r->env.project_id, 2);
    fill_uuid(r->env.session_id, 1);
    fill_uuid(r->env.user_id, 3);
    r->env.has_project = r->env.has_session = r->env.has_user = true;
    r->end_ns += 7; /* sub-microsecond: kept in duration_ns only */
    r->kind = 3;
    r->status_message = S("boom\nline");
    r->trace_state = S("k=v");
    r->flags = 257;
    r->attributes = S("{\"http.method\":\"GET\"}");
    r->events =
        S("[{\"time_unix_nano\":\"1\",\"name\":\"e\",\"attributes\":{},\"dropped_attributes_count\":0}]");
    r->links =
        S("[{\"trace_id\":\"00\",\"span_id\":\"01\",\"trace_state\":\"\",\"attributes\":{},\"flags\":0}]");
    r->resource = S("{\"service.name\":\"svc\"}");
    r->scope_name = S("sc");
    r->scope_version = S("2");
    r->dropped_attributes_count = 1;
    r->dropped_events_count = 2;
    r->dropped_links_count = 3;
    add_span(t, 0x44, 0x55, -1, "unknown_service", "", 0, 0, 0);
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);
    const lo_span_rec_t *f = &t->req.batch.spans[0];

    PGconn *c = pgt_connect(conninfo);
    PGresult *q = PQexecParams(
        c,
        "SELECT (extract(epoch from start_time) * 1000000)::bigint - $1::bigint,"
        " (extract(epoch from end_time) * 1000000)::bigint - $1::bigint, duration_ns,"
        " encode(trace_id, 'hex'), encode(span_id, 'hex'), encode(parent_span_id, 'hex'),"
        " project_id::text, session_id::text, user_id::text, service, name, kind, status_code,"
        " status_message, trace_state, flags, attributes = $2::jsonb, events = $3::jsonb, links = $4::jsonb,"
        " resource = $5::jsonb, scope_name, scope_version, dropped_attributes_count, dropped_events_count,"
        " dropped_links_count FROM spans ORDER BY name DESC",
        5, NULL, (const char *[]){ "0", f->attributes.p, f->events.p, f->links.p, f->resource.p }, NULL, NULL,
        0);
    assert_int_equal(PQresultStatus(q), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(q), 2);
    char v[64];
    snprintf(v, sizeof(v), "%lld", (long long)(base / 1000 + 10));
    assert_string_equal(PQgetvalue(q, 0, 0), v);
    snprintf(v, sizeof(v), "%lld", (long long)(base / 1000 + 1510));
    assert_string_equal(PQgetvalue(q, 0, 1), v);
    assert_string_equal(PQgetvalue(q, 0, 2), "1500007");
    assert_string_equal(PQgetvalue(q, 0, 3), "11111111111111111111111111111111");
    assert_string_equal(PQgetvalue(q, 0, 4), "2222222222222222");
    assert_string_equal(PQgetvalue(q, 0, 5), "3333333333333333");
    assert_string_equal(PQgetvalue(q, 0, 6), "20212223-2425-4627-a829-2a2b2c2d2e2f");
    assert_string_equal(PQgetvalue(q, 0, 7), "10111213-1415-4617-9819-1a1b1c1d1e1f");
    assert_string_equal(PQgetvalue(q, 0, 8), "30313233-3435-4637-b839-3a3b3c3d3e3f");
    assert_string_equal(PQgetvalue(q, 0, 9), "svc\\1");
    assert_string_equal(PQgetvalue(q, 0, 10), "GET /a\tb");
    assert_string_equal(PQgetvalue(q, 0, 11), "3");
    assert_string_equal(PQgetvalue(q, 0, 12), "2");
    assert_string_equal(PQgetvalue(q, 0, 13), "boom\nline");
    assert_string_equal(PQgetvalue(q, 0, 14), "k=v");
    assert_string_equal(PQgetvalue(q, 0, 15), "257");
    for (int col = 16; col <= 19; col++)
        assert_string_equal(PQgetvalue(q, 0, col), "t");
    assert_string_equal(PQgetvalue(q, 0, 20), "sc");
    assert_string_equal(PQgetvalue(q, 0, 21), "2");
    assert_string_equal(PQgetvalue(q, 0, 22), "1");
    assert_string_equal(PQgetvalue(q, 0, 23), "2");
    assert_string_equal(PQgetvalue(q, 0, 24), "3");
    /* the bare span: optional columns NULL */
    assert_string_equal(PQgetvalue(q, 1, 2), "0");
    int nulls[] = { 5, 6, 7, 8, 13, 14, 16, 17, 18, 19, 20, 21 };
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (!PQgetisnull(q, 1, nulls[i]))
            fail_msg("column %s should be NULL", PQfname(q, nulls[i]));
    assert_string_equal(PQgetvalue(q, 1, 10), "");
    PQclear(q);
    /* both traces summarized; the bare span is its trace's root with an empty name */
    char w[128];
    assert_string_equal(pgt_value(c,
                                  "SELECT root_span_name IS NULL FROM traces WHERE trace_id = "
                                  "'\\x11111111111111111111111111111111'",
                                  w, sizeof(w)),
                        "t");
    assert_string_equal(
        pgt_value(
            c,
            "SELECT root_span_name = '' FROM traces WHERE trace_id = '\\x44444444444444444444444444444444'",
            w, sizeof(w)),
        "t");
    assert_string_equal(
        pgt_value(c,
                  "SELECT project_id::text || ' ' || session_id::text || ' ' || user_id::text FROM traces "
                  "WHERE trace_id = '\\x11111111111111111111111111111111'",
                  w, sizeof(w)),
        "20212223-2425-4627-a829-2a2b2c2d2e2f 10111213-1415-4617-9819-1a1b1c1d1e1f "
        "30313233-3435-4637-b839-3a3b3c3d3e3f");
    PQfinish(c);
    treq_free(t);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_spans");
}

static void summary(PGconn *c, uint8_t trace, char *out, size_t outlen)
{
    char hex[33], sql[640];
    for (int i = 0; i < 16; i++) /* the trace id is 16 copies of one byte */
        snprintf(hex + 2 * i, 3, "%02x", trace);
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(root_span_name, '-') || '|' || coalesce(service, '-') || '|' ||"
             " ((extract(epoch from start_time) * 1000000)::bigint - %lld) || '|' ||"
             " ((extract(epoch from end_time) * 1000000)::bigint - %lld) || '|' || status_code || '|' ||"
             " span_count || '|' || error_count || '|' || coalesce(project_id::text, '-')"
             " FROM traces WHERE trace_id = '\\x%s'::bytea",
             (long long)(base / 1000), (long long)(base / 1000), hex);
    pgt_value(c, sql, out, outlen);
}

static void test_summary_out_of_order(void **state)
{
    (void)state;
    setup_base();
    it_fresh_schema("lo_t_traces", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 2, NULL, true);

    /* trace 0x01: children first (one errors), the root last */
    treq_t *t = treq_new(LO_SIGNAL_SPANS);
    lo_span_rec_t *s = add_span(t, 0x01, 0x02, 0x09, "svc-child", "child-a", 100, 300, 2);
    fill_uuid(s->env.project_id, 7);
    s->env.has_project = true;
    const lo_envelope_t p7 = s->env; /* before submit_wait frees the batch */
    submit_wait(in, t);
    t = treq_new(LO_SIGNAL_SPANS);
    s = add_span(t, 0x01, 0x03, 0x09, "svc-child", "child-b", 50, 200, 1);
    s->env.has_project = true;
    memcpy(s->env.project_id, p7.project_id, 16);
    submit_wait(in, t);
    t = treq_new(LO_SIGNAL_SPANS);
    s = add_span(t, 0x01, 0x09, -1, "svc-root", "GET /", 80, 400, 0);
    s->env.has_project = true;
    memcpy(s->env.project_id, p7.project_id, 16);
    submit_wait(in, t);
    /* a late child after the root changes counts and times, not the root */
    t = treq_new(LO_SIGNAL_SPANS);
    s = add_span(t, 0x01, 0x04, 0x02, "svc-late", "late", 390, 500, 0);
    s->env.has_project = true;
    memcpy(s->env.project_id, p7.project_id, 16);
    submit_wait(in, t);

    /* trace 0x05: never a root: the service of the first span seen */
    t = treq_new(LO_SIGNAL_SPANS);
    add_span(t, 0x05, 0x06, 0x01, "svc-first", "x", 10, 20, 0);
    submit_wait(in, t);
    t = treq_new(LO_SIGNAL_SPANS);
    add_span(t, 0x05, 0x07, 0x01, "svc-second", "y", 5, 30, 1);
    submit_wait(in, t);

    /* trace 0x08: root and children mixed in one request, root in the middle */
    t = treq_new(LO_SIGNAL_SPANS);
    add_span(t, 0x08, 0x0a, 0x0b, "svc-c", "c1", 20, 30, 0);
    add_span(t, 0x08, 0x0b, -1, "svc-r", "root8", 10, 40, 1);
    add_span(t, 0x08, 0x0c, 0x0b, "svc-c", "c2", 15, 45, 2);
    submit_wait(in, t);

    PGconn *c = pgt_connect(conninfo);
    char v[256];
    summary(c, 0x01, v, sizeof(v));
    assert_string_equal(v, "GET /|svc-root|50|500|2|4|1|70717273-7475-4677-b879-7a7b7c7d7e7f");
    summary(c, 0x05, v, sizeof(v));
    assert_string_equal(v, "-|svc-first|5|30|1|2|0|-");
    summary(c, 0x08, v, sizeof(v));
    assert_string_equal(v, "root8|svc-r|10|45|2|3|1|-");
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM spans"), 9);
    PQfinish(c);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_traces");
}

/* Two projects send spans of one trace (ids travel in traceparent headers
 * between organisations): each has its own summary of its own spans, and a
 * parentless span of one never renames the other's trace. */
static void test_summary_per_project(void **state)
{
    (void)state;
    setup_base();
    it_fresh_schema("lo_t_traces_proj", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 1, NULL, true);
    treq_t *t = treq_new(LO_SIGNAL_SPANS);
    lo_span_rec_t *s = add_span(t, 0x31, 0x01, -1, "shop", "checkout", 10, 100, 1);
    fill_uuid(s->env.project_id, 0x0A);
    s->env.has_project = true;
    const lo_envelope_t a = s->env;
    s = add_span(t, 0x31, 0x02, 0x01, "shop", "db", 20, 30, 0);
    s->env.has_project = true;
    memcpy(s->env.project_id, a.project_id, 16);
    submit_wait(in, t);
    /* project B: a parentless span (its entry point) and an error, later */
    t = treq_new(LO_SIGNAL_SPANS);
    s = add_span(t, 0x31, 0x11, -1, "bank", "authorize", 40, 90, 2);
    fill_uuid(s->env.project_id, 0x0B);
    s->env.has_project = true;
    submit_wait(in, t);

    PGconn *c = pgt_connect(conninfo);
    char v[512];
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM traces"), 2);
    pgt_value(c,
              "SELECT string_agg(root_span_name || '|' || service || '|' || status_code || '|' || span_count "
              "|| '|' || "
              "error_count || '|' || left(project_id::text, 2), ',' ORDER BY project_id) FROM traces",
              v, sizeof(v));
    assert_string_equal(v, "checkout|shop|1|2|0|a0,authorize|bank|2|1|1|b0");
    PQfinish(c);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_traces_proj");
}

/* Many requests touching the same traces in different orders, written by
 * two writers at once: no deadlock, no lost update. */
static void test_summary_concurrent(void **state)
{
    (void)state;
    setup_base();
    it_fresh_schema("lo_t_traces_conc", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 2, NULL, true);
    enum { REQS = 60, TRACES = 12 };
    treq_t *t[REQS];
    unsigned seed = 7;
    for (int i = 0; i < REQS; i++) {
        t[i] = treq_new(LO_SIGNAL_SPANS);
        for (int k = 0; k < TRACES; k++) {
            seed = seed * 1103515245 + 12345;
            uint8_t trace = (uint8_t)(0x20 + (seed >> 16) % TRACES);
            int64_t st = (int64_t)((seed >> 8) % 1000);
            add_span(t[i], trace, (uint8_t)(i + 1), 0x7f, "svc", "s", st, st + 10,
                     (seed >> 4) % 3 == 0 ? 2 : 0);
        }
        assert_int_equal(lo_ingest_submit(in, &t[i]->req), LO_OK);
    }
    for (int i = 0; i < REQS; i++)
        assert_int_equal(treq_wait(t[i], 10000), LO_OK);
    PGconn *c = pgt_connect(conninfo);
    assert_int_equal(pgt_int(c, "SELECT sum(span_count) FROM traces"), REQS * TRACES);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM traces t WHERE span_count <> "
                                "(SELECT count(*) FROM spans s WHERE s.trace_id = t.trace_id)"),
                     0);
    assert_int_equal(
        pgt_int(c, "SELECT count(*) FROM traces t WHERE error_count <> "
                   "(SELECT count(*) FROM spans s WHERE s.trace_id = t.trace_id AND status_code = 2)"),
        0);
    assert_int_equal(
        pgt_int(c, "SELECT count(*) FROM traces t WHERE (start_time, end_time) <> "
                   "(SELECT min(start_time), max(end_time) FROM spans s WHERE s.trace_id = t.trace_id)"),
        0);
    PQfinish(c);
    for (int i = 0; i < REQS; i++)
        treq_free(t[i]);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_traces_conc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_column),
        cmocka_unit_test(test_summary_out_of_order),
        cmocka_unit_test(test_summary_per_project),
        cmocka_unit_test(test_summary_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
