/* Log writers against a real PostgreSQL: every column stored, group commit
 * across requests, the queue bound, a rejected request isolated, and stop
 * draining the queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/stats.h"
#include "ingest_harness.h"

static char conninfo[1024];
static const int64_t T0 = 1700000000123456789LL; /* replaced by "now - 1h" at run time */

static int64_t base_ns(void)
{
    /* an hour ago, whole microseconds plus a sub-microsecond part that
     * timestamptz drops */
    int64_t t = lo_now_ns() - 3600LL * 1000000000;
    return t - t % 1000 + 789;
}

static void add_full_log(treq_t *t, int64_t ns)
{
    lo_log_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    assert_non_null(r);
    for (int i = 0; i < 16; i++)
        r->env.trace_id[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 8; i++)
        r->env.span_id[i] = (uint8_t)(0xb0 + i);
    fill_uuid(r->env.session_id, 1);
    fill_uuid(r->env.project_id, 2);
    fill_uuid(r->env.user_id, 3);
    r->env.has_trace_id = r->env.has_span_id = r->env.has_session = r->env.has_project = r->env.has_user =
        true;
    r->env.service = S("check\tout \\svc");
    r->time_ns = ns;
    r->observed_ns = ns + 5000;
    r->severity_number = 17;
    r->severity_text = S("ERROR");
    r->level = S("error");
    r->message = S("line1\nline2\r\n\ttabbed \\ back caf\xc3\xa9 \xf0\x9f\x98\x80 \\N \\.");
    r->attributes = S("{\"k\":\"v\\n\\\\\",\"n\":1,\"nested\":{\"a\":[1,2,{\"b\":null}]}}");
    r->resource = S("{\"service.name\":\"check\\tout\"}");
    r->scope_name = S("lib");
    r->scope_version = S("1.0");
    r->event_name = S("ev");
    r->flags = 1;
    r->dropped_attributes_count = 2;
}

static void add_min_log(treq_t *t, int64_t ns, const char *msg)
{
    lo_log_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    assert_non_null(r);
    r->env.service = S("unknown_service");
    r->time_ns = ns;
    r->level = S("unspecified");
    r->message = lo_str(msg, strlen(msg));
}

static void expect(PGresult *r, int row, int col, const char *want)
{
    if (want == NULL) {
        if (!PQgetisnull(r, row, col))
            fail_msg("row %d col %s: want NULL, got \"%s\"", row, PQfname(r, col), PQgetvalue(r, row, col));
        return;
    }
    if (PQgetisnull(r, row, col))
        fail_msg("row %d col %s: want \"%s\", got NULL", row, PQfname(r, col), want);
    if (strcmp(PQgetvalue(r, row, col), want) != 0)
        fail_msg("row %d col %s: want \"%s\", got \"%s\"", row, PQfname(r, col), want,
                 PQgetvalue(r, row, col));
}

static void test_every_column(void **state)
{
    (void)state;
    (void)T0;
    it_fresh_schema("lo_t_logs", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 2, NULL, true);
    int64_t ns = base_ns();
    long long before = atomic_load(&lo_stats.records_ingested[LO_SIGNAL_LOGS]);
    treq_t *t = treq_new(LO_SIGNAL_LOGS);
    add_full_log(t, ns);
    add_min_log(t, ns + 1000, "");
    int64_t sent_ms = lo_now_ns() / 1000000;
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);
    int64_t done_ms = lo_now_ns() / 1000000;
    assert_int_equal(atomic_load(&lo_stats.records_ingested[LO_SIGNAL_LOGS]) - before, 2);

    PGconn *c = pgt_connect(conninfo);
    const lo_log_rec_t *full = &t->req.batch.logs[0];
    PGresult *r = PQexecParams(
        c,
        "SELECT (extract(epoch from time) * 1000000)::bigint, (extract(epoch from observed_time) * "
        "1000000)::bigint,"
        " substr(id::text, 15, 1), (extract(epoch from uuid_extract_ts(id)) * 1000)::bigint,"
        " project_id::text, session_id::text, user_id::text, encode(trace_id, 'hex'), encode(span_id, 'hex'),"
        " service, level, severity_number, severity_text, message, attributes = $1::jsonb, resource = "
        "$2::jsonb,"
        " scope_name, scope_version, event_name, flags, dropped_attributes_count"
        " FROM log_entries ORDER BY severity_number DESC",
        2, NULL, (const char *[]){ full->attributes.p, full->resource.p }, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        /* uuid_extract_ts is PostgreSQL 17+: check the id's time bits in C instead */
        PQclear(r);
        r = PQexecParams(
            c,
            "SELECT (extract(epoch from time) * 1000000)::bigint, (extract(epoch from observed_time) * "
            "1000000)::bigint,"
            " substr(id::text, 15, 1), ('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint,"
            " project_id::text, session_id::text, user_id::text, encode(trace_id, 'hex'), encode(span_id, "
            "'hex'),"
            " service, level, severity_number, severity_text, message, attributes = $1::jsonb, resource = "
            "$2::jsonb,"
            " scope_name, scope_version, event_name, flags, dropped_attributes_count"
            " FROM log_entries ORDER BY severity_number DESC",
            2, NULL, (const char *[]){ full->attributes.p, full->resource.p }, NULL, NULL, 0);
    }
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 2);
    char v[64];
    snprintf(v, sizeof(v), "%lld", (long long)(ns / 1000));
    expect(r, 0, 0, v);
    snprintf(v, sizeof(v), "%lld", (long long)((ns + 5000) / 1000));
    expect(r, 0, 1, v);
    expect(r, 0, 2, "7"); /* UUIDv7 */
    /* the id's time is when the writer took the record (ids increase in
     * ingest order), not the record's own time */
    int64_t id_ms = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    assert_true(id_ms >= sent_ms && id_ms <= done_ms);
    expect(r, 0, 4, "20212223-2425-4627-a829-2a2b2c2d2e2f");
    expect(r, 0, 5, "10111213-1415-4617-9819-1a1b1c1d1e1f");
    expect(r, 0, 6, "30313233-3435-4637-b839-3a3b3c3d3e3f");
    expect(r, 0, 7, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    expect(r, 0, 8, "b0b1b2b3b4b5b6b7");
    expect(r, 0, 9, "check\tout \\svc");
    expect(r, 0, 10, "error");
    expect(r, 0, 11, "17");
    expect(r, 0, 12, "ERROR");
    expect(r, 0, 13, "line1\nline2\r\n\ttabbed \\ back caf\xc3\xa9 \xf0\x9f\x98\x80 \\N \\.");
    expect(r, 0, 14, "t");
    expect(r, 0, 15, "t");
    expect(r, 0, 16, "lib");
    expect(r, 0, 17, "1.0");
    expect(r, 0, 18, "ev");
    expect(r, 0, 19, "1");
    expect(r, 0, 20, "2");
    /* the minimal record: optional columns NULL, required ones set */
    snprintf(v, sizeof(v), "%lld", (long long)((ns + 1000) / 1000));
    expect(r, 1, 0, v);
    expect(r, 1, 1, NULL);
    expect(r, 1, 2, "7");
    for (int col = 4; col <= 8; col++)
        expect(r, 1, col, NULL);
    expect(r, 1, 9, "unknown_service");
    expect(r, 1, 10, "unspecified");
    expect(r, 1, 11, "0");
    expect(r, 1, 12, NULL);
    expect(r, 1, 13, "");
    expect(r, 1, 14, NULL);
    expect(r, 1, 15, NULL);
    for (int col = 16; col <= 18; col++)
        expect(r, 1, col, NULL);
    expect(r, 1, 19, "0");
    expect(r, 1, 20, "0");
    PQclear(r);
    /* distinct ids */
    assert_int_equal(pgt_int(c, "SELECT count(DISTINCT id) FROM log_entries"), 2);
    PQfinish(c);
    treq_free(t);
    lo_ingest_stop(in);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_logs");
}

/* With the table locked, the writer stalls on its first request; everything
 * submitted meanwhile is written together in the next transaction. */
static void test_group_commit(void **state)
{
    (void)state;
    it_fresh_schema("lo_t_logs_gc", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 1, NULL, true);
    PGconn *lock = it_lock_table(conninfo, "log_entries");
    long long b0 = atomic_load(&lo_stats.batches[LO_SIGNAL_LOGS]);
    int64_t ns = base_ns();
    treq_t *t[11];
    for (int i = 0; i < 11; i++) {
        t[i] = treq_new(LO_SIGNAL_LOGS);
        for (int k = 0; k < 3; k++)
            add_min_log(t[i], ns + i * 1000 + k, "m");
        assert_int_equal(lo_ingest_submit(in, &t[i]->req), LO_OK);
        if (i == 0)
            usleep(200 * 1000); /* the writer takes the first alone */
    }
    usleep(100 * 1000);
    for (int i = 0; i < 11; i++)
        assert_false(treq_finished(t[i])); /* nothing answered before commit */
    it_unlock(lock);
    for (int i = 0; i < 11; i++)
        assert_int_equal(treq_wait(t[i], 5000), LO_OK);
    assert_int_equal(atomic_load(&lo_stats.batches[LO_SIGNAL_LOGS]) - b0, 2);
    PGconn *c = pgt_connect(conninfo);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries"), 33);
    PQfinish(c);
    for (int i = 0; i < 11; i++)
        treq_free(t[i]);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_logs_gc");
}

static void test_queue_bound_busy(void **state)
{
    (void)state;
    it_fresh_schema("lo_t_logs_busy", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 1, "1M", true);
    PGconn *lock = it_lock_table(conninfo, "log_entries");
    int64_t ns = base_ns();
    treq_t *t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = treq_new(LO_SIGNAL_LOGS);
        add_min_log(t[i], ns + i, "m");
        t[i]->req.bytes = 400 * 1024;
    }
    assert_int_equal(lo_ingest_submit(in, &t[0]->req), LO_OK); /* taken, held while written */
    usleep(100 * 1000);
    assert_int_equal(lo_ingest_submit(in, &t[1]->req), LO_OK);   /* 800K */
    assert_int_equal(lo_ingest_submit(in, &t[2]->req), LO_BUSY); /* 1200K > 1M */
    assert_true(atomic_load(&lo_stats.buffer_bytes[LO_SIGNAL_LOGS]) >= 800 * 1024);
    it_unlock(lock);
    assert_int_equal(treq_wait(t[0], 5000), LO_OK);
    assert_int_equal(treq_wait(t[1], 5000), LO_OK);
    /* room again */
    assert_int_equal(lo_ingest_submit(in, &t[3]->req), LO_OK);
    assert_int_equal(treq_wait(t[3], 5000), LO_OK);
    assert_false(treq_finished(t[2]));
    lo_ingest_destroy(in);
    assert_int_equal(atomic_load(&lo_stats.buffer_bytes[LO_SIGNAL_LOGS]), 0);
    for (int i = 0; i < 4; i++)
        treq_free(t[i]);
    pgt_drop_db("lo_t_logs_busy");
}

/* The oldest queued request waiting past queue_max_wait_ms means the
 * writers are behind: new requests get LO_BUSY until the queue moves. */
static void test_queue_age_busy(void **state)
{
    (void)state;
    it_fresh_schema("lo_t_logs_age", conninfo, sizeof(conninfo));
    static const char *const extra[] = { "queue_max_wait_ms", "200", NULL };
    lo_ingest_t *in = it_start_with(conninfo, 1, NULL, true, extra);
    PGconn *lock = it_lock_table(conninfo, "log_entries");
    int64_t ns = base_ns();
    treq_t *t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = treq_new(LO_SIGNAL_LOGS);
        add_min_log(t[i], ns + i, "m");
    }
    assert_int_equal(lo_ingest_submit(in, &t[0]->req), LO_OK); /* taken, held while written */
    usleep(100 * 1000);
    assert_int_equal(lo_ingest_submit(in, &t[1]->req), LO_OK); /* queued */
    assert_int_equal(lo_ingest_submit(in, &t[2]->req), LO_OK); /* young queue: fine */
    usleep(300 * 1000);
    assert_int_equal(lo_ingest_submit(in, &t[3]->req), LO_BUSY); /* oldest waited 300 ms */
    it_unlock(lock);
    for (int i = 0; i < 3; i++)
        assert_int_equal(treq_wait(t[i], 5000), LO_OK);
    assert_int_equal(lo_ingest_submit(in, &t[3]->req), LO_OK); /* moving again */
    assert_int_equal(treq_wait(t[3], 5000), LO_OK);
    lo_ingest_destroy(in);
    for (int i = 0; i < 4; i++)
        treq_free(t[i]);
    pgt_drop_db("lo_t_logs_age");
}

/* A request the database rejects (a time without a partition) fails alone;
 * the requests batched with it are committed. */
static void test_rejected_request_isolated(void **state)
{
    (void)state;
    it_fresh_schema("lo_t_logs_err", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 1, NULL, true);
    PGconn *lock = it_lock_table(conninfo, "log_entries");
    int64_t ns = base_ns();
    treq_t *first = treq_new(LO_SIGNAL_LOGS), *a = treq_new(LO_SIGNAL_LOGS), *bad = treq_new(LO_SIGNAL_LOGS),
           *b = treq_new(LO_SIGNAL_LOGS);
    add_min_log(first, ns, "first");
    add_min_log(a, ns, "a");
    add_min_log(bad, ns, "bad-ok-part");
    add_min_log(bad, 946684800LL * 1000000000, "bad"); /* year 2000: no partition */
    add_min_log(b, ns, "b");
    assert_int_equal(lo_ingest_submit(in, &first->req), LO_OK);
    usleep(200 * 1000);
    assert_int_equal(lo_ingest_submit(in, &a->req), LO_OK);
    assert_int_equal(lo_ingest_submit(in, &bad->req), LO_OK);
    assert_int_equal(lo_ingest_submit(in, &b->req), LO_OK);
    it_unlock(lock);
    assert_int_equal(treq_wait(first, 5000), LO_OK);
    assert_int_equal(treq_wait(a, 5000), LO_OK);
    assert_int_equal(treq_wait(bad, 5000), LO_ERROR);
    assert_int_equal(treq_wait(b, 5000), LO_OK);
    PGconn *c = pgt_connect(conninfo);
    char v[128];
    assert_string_equal(
        pgt_value(c, "SELECT string_agg(message, ',' ORDER BY message) FROM log_entries", v, sizeof(v)),
        "a,b,first");
    PQfinish(c);
    /* the writer carries on */
    treq_t *after = treq_new(LO_SIGNAL_LOGS);
    add_min_log(after, ns, "after");
    assert_int_equal(lo_ingest_submit(in, &after->req), LO_OK);
    assert_int_equal(treq_wait(after, 5000), LO_OK);
    lo_ingest_destroy(in);
    treq_free(first);
    treq_free(a);
    treq_free(bad);
    treq_free(b);
    treq_free(after);
    pgt_drop_db("lo_t_logs_err");
}

static void *stop_thread(void *arg)
{
    lo_ingest_stop(arg);
    return NULL;
}

/* stop commits what is queued and answers every request before returning;
 * later submits get LO_UNAVAIL. */
static void test_stop_drains(void **state)
{
    (void)state;
    it_fresh_schema("lo_t_logs_stop", conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 2, NULL, true);
    PGconn *lock = it_lock_table(conninfo, "log_entries");
    int64_t ns = base_ns();
    treq_t *t[20];
    for (int i = 0; i < 20; i++) {
        t[i] = treq_new(LO_SIGNAL_LOGS);
        for (int k = 0; k < 50; k++)
            add_min_log(t[i], ns + k, "m");
        assert_int_equal(lo_ingest_submit(in, &t[i]->req), LO_OK);
    }
    pthread_t th;
    pthread_create(&th, NULL, stop_thread, in);
    usleep(100 * 1000);
    treq_t *late = treq_new(LO_SIGNAL_LOGS);
    add_min_log(late, ns, "late");
    assert_int_equal(lo_ingest_submit(in, &late->req), LO_UNAVAIL);
    it_unlock(lock);
    pthread_join(th, NULL);
    for (int i = 0; i < 20; i++) {
        assert_true(treq_finished(t[i]));
        assert_int_equal(t[i]->result, LO_OK);
    }
    PGconn *c = pgt_connect(conninfo);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries"), 1000);
    PQfinish(c);
    lo_ingest_destroy(in);
    for (int i = 0; i < 20; i++)
        treq_free(t[i]);
    treq_free(late);
    pgt_drop_db("lo_t_logs_stop");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_column),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_queue_bound_busy),
        cmocka_unit_test(test_queue_age_busy),
        cmocka_unit_test(test_rejected_request_isolated),
        cmocka_unit_test(test_stop_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
