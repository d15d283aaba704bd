/* The column schemas (store/columns.h): for each signal one record with a
 * distinct value in every field goes through a writer (COPY with the
 * schema's column list) and comes back through the schema's SELECT list;
 * every column is checked by its name in the schema, not by position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest_harness.h"
#include "query/log_entry.h"
#include "store/columns.h"

#include <jansson.h>

static char conninfo[1024];
static lo_ingest_t *in;
static PGconn *db;
static int64_t T_NS; /* a minute ago, with nanoseconds that COPY cuts */
static char T_US[24], T_US_1[24], T_US_2[24], T_US_M1000[24];

static int setup(void **state)
{
    (void)state;
    it_fresh_schema("lo_t_columns", conninfo, sizeof(conninfo));
    in = it_start(conninfo, 1, NULL, true);
    db = pgt_connect(conninfo);
    int64_t us = lo_now_ns() / 1000 - 60000000;
    T_NS = us * 1000 + 456;
    snprintf(T_US, sizeof(T_US), "%lld", (long long)us);
    snprintf(T_US_1, sizeof(T_US_1), "%lld", (long long)us + 1);
    snprintf(T_US_2, sizeof(T_US_2), "%lld", (long long)us + 2);
    snprintf(T_US_M1000, sizeof(T_US_M1000), "%lld", (long long)us - 1000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(db);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_columns");
    return 0;
}

static void ids(lo_envelope_t *e)
{
    fill_uuid(e->project_id, 2);
    fill_uuid(e->session_id, 1);
    fill_uuid(e->user_id, 3);
    e->has_project = e->has_session = e->has_user = true;
    memset(e->trace_id, 0xa1, 16);
    memset(e->span_id, 0xb2, 8);
    e->has_trace_id = e->has_span_id = true;
    e->service = S("svc");
}

/* Reads back every column of signal s and compares with want[column]
 * (NULL: SQL NULL; "*": any non-NULL value). */
static void check(lo_signal_t s, const char *where, const char *const *want, size_t nwant)
{
    size_t n;
    const lo_column_t *cols = lo_columns(s, &n);
    assert_int_equal(n, nwant);
    char sql[4096];
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s", lo_columns_select(s), lo_columns_table(s),
             where);
    PGresult *r = PQexec(db, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    assert_int_equal(PQnfields(r), (int)n);
    for (size_t i = 0; i < n; i++) {
        const char *got = PQgetisnull(r, 0, (int)i) ? NULL : PQgetvalue(r, 0, (int)i);
        bool ok = want[i] == NULL ? got == NULL
                                  : got != NULL && (strcmp(want[i], "*") == 0 || strcmp(got, want[i]) == 0);
        if (!ok)
            fail_msg("%s.%s: got %s, want %s", lo_columns_table(s), cols[i].name, got ? got : "NULL",
                     want[i] ? want[i] : "NULL");
    }
    PQclear(r);
}

static void submit(treq_t *t)
{
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);
    treq_free(t);
}

static void test_log_columns(void **state)
{
    (void)state;
    treq_t *t = treq_new(LO_SIGNAL_LOGS);
    lo_log_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    ids(&r->env);
    r->time_ns = T_NS;
    r->observed_ns = T_NS + 1000;
    r->severity_number = 17;
    r->severity_text = S("ERR");
    r->level = S("error");
    r->message = S("columns-log");
    r->body_kind = 1;
    r->attributes = S("{\"a\": 1}");
    r->resource = S("{\"r\": 2}");
    r->scope_name = S("scope");
    r->scope_version = S("1.2");
    r->event_name = S("ev");
    r->flags = 7;
    r->dropped_attributes_count = 3;
    submit(t);
    const char *const want[LO_LOG_NCOLS] = {
        [LO_LOG_TIME] = T_US,
        [LO_LOG_OBSERVED_TIME] = T_US_1,
        [LO_LOG_ID] = "*",
        [LO_LOG_PROJECT_ID] = "20212223-2425-4627-a829-2a2b2c2d2e2f",
        [LO_LOG_SESSION_ID] = "10111213-1415-4617-9819-1a1b1c1d1e1f",
        [LO_LOG_USER_ID] = "30313233-3435-4637-b839-3a3b3c3d3e3f",
        [LO_LOG_TRACE_ID] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
        [LO_LOG_SPAN_ID] = "b2b2b2b2b2b2b2b2",
        [LO_LOG_SERVICE] = "svc",
        [LO_LOG_LEVEL] = "error",
        [LO_LOG_SEVERITY_NUMBER] = "17",
        [LO_LOG_SEVERITY_TEXT] = "ERR",
        [LO_LOG_MESSAGE] = "columns-log",
        [LO_LOG_ATTRIBUTES] = "{\"a\": 1}",
        [LO_LOG_RESOURCE] = "{\"r\": 2}",
        [LO_LOG_SCOPE_NAME] = "scope",
        [LO_LOG_SCOPE_VERSION] = "1.2",
        [LO_LOG_EVENT_NAME] = "ev",
        [LO_LOG_FLAGS] = "7",
        [LO_LOG_DROPPED_ATTRIBUTES_COUNT] = "3",
        [LO_LOG_BODY_KIND] = "1",
    };
    for (size_t i = 0; i < LO_LOG_NCOLS; i++)
        assert_non_null(want[i]); /* a column added to the schema needs its check here */
    check(LO_SIGNAL_LOGS, "message = 'columns-log'", want, LO_LOG_NCOLS);
}

/* A log entry printed from its committed record (the live tail) is the
 * object printed from its stored row (the search API), for a full record
 * and for one whose optional fields are absent or out of their columns'
 * range. */
static void test_log_entry_views(void **state)
{
    (void)state;
    treq_t *t = treq_new(LO_SIGNAL_LOGS);
    lo_log_rec_t *full = lo_otlp_batch_push(&t->req.batch);
    ids(&full->env);
    full->time_ns = T_NS;
    full->observed_ns = T_NS + 1999;
    full->severity_number = 17;
    full->severity_text = S("ERR");
    full->level = S("error");
    full->message = S("views-full \"quoted\" \u00e9\t");
    full->attributes = S("{\"b\":{\"x\":[1,2.5,\"s\"]},\"a\":\"\\u00e9\",\"n\":null,\"t\":true}");
    full->resource = S("{\"service.name\":\"svc\"}");
    full->scope_name = S("scope");
    full->scope_version = S("1.2");
    full->event_name = S("ev");
    full->flags = 0x80000001u;
    full->dropped_attributes_count = 0xFFFFFFFFu;
    lo_log_rec_t *bare = lo_otlp_batch_push(&t->req.batch);
    bare->env.service = S("unknown_service");
    bare->time_ns = T_NS - 999; /* floored to whole microseconds */
    bare->severity_number = 40000;
    bare->level = S("unspecified");
    bare->message = S("views-bare");
    bare->attributes = S("{}");
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);

    char sql[4096];
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM log_entries WHERE message LIKE 'views-%%' ORDER BY message DESC",
             lo_columns_select(LO_SIGNAL_LOGS));
    PGresult *r = PQexec(db, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 2);
    const lo_log_rec_t *recs[2] = { full, bare };
    for (int i = 0; i < 2; i++) {
        lo_buf_t a, b;
        lo_buf_init(&a, 0);
        lo_buf_init(&b, 0);
        lo_jw_t wa, wb;
        lo_jw_init(&wa, &a);
        lo_jw_init(&wb, &b);
        lo_log_view_t v;
        lo_log_view_ids_t scratch;
        lo_log_view_from_row(&v, r, i);
        lo_log_entry_write(&wa, &v);
        lo_log_view_from_rec(&v, recs[i], &scratch);
        lo_log_entry_write(&wb, &v);
        assert_int_equal(lo_jw_status(&wa), LO_OK);
        assert_int_equal(lo_jw_status(&wb), LO_OK);
        json_t *ja = json_loadb(a.p, a.len, 0, NULL), *jb = json_loadb(b.p, b.len, 0, NULL);
        assert_non_null(ja);
        assert_non_null(jb);
        if (!json_equal(ja, jb))
            fail_msg("row %d: stored %.*s\nrecord %.*s", i, (int)a.len, a.p, (int)b.len, b.p);
        json_decref(ja);
        json_decref(jb);
        lo_buf_free(&a);
        lo_buf_free(&b);
    }
    PQclear(r);
    treq_free(t);
}

static void test_span_columns(void **state)
{
    (void)state;
    treq_t *t = treq_new(LO_SIGNAL_SPANS);
    lo_span_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    ids(&r->env);
    memset(r->parent_span_id, 0xc3, 8);
    r->has_parent = true;
    r->name = S("columns-span");
    r->trace_state = S("k=v");
    r->kind = 3;
    r->start_ns = T_NS;
    r->end_ns = T_NS + 2000;
    r->attributes = S("{\"a\": 1}");
    r->events = S("[1]");
    r->links = S("[2]");
    r->status_code = 2;
    r->status_message = S("bad");
    r->flags = 9;
    r->dropped_attributes_count = 1;
    r->dropped_events_count = 2;
    r->dropped_links_count = 3;
    r->resource = S("{\"r\": 2}");
    r->scope_name = S("scope");
    r->scope_version = S("1.2");
    submit(t);
    const char *const want[LO_SPAN_NCOLS] = {
        [LO_SPAN_START_TIME] = T_US,
        [LO_SPAN_END_TIME] = T_US_2,
        [LO_SPAN_DURATION_NS] = "2000",
        [LO_SPAN_TRACE_ID] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
        [LO_SPAN_SPAN_ID] = "b2b2b2b2b2b2b2b2",
        [LO_SPAN_PARENT_SPAN_ID] = "c3c3c3c3c3c3c3c3",
        [LO_SPAN_PROJECT_ID] = "20212223-2425-4627-a829-2a2b2c2d2e2f",
        [LO_SPAN_SESSION_ID] = "10111213-1415-4617-9819-1a1b1c1d1e1f",
        [LO_SPAN_USER_ID] = "30313233-3435-4637-b839-3a3b3c3d3e3f",
        [LO_SPAN_SERVICE] = "svc",
        [LO_SPAN_NAME] = "columns-span",
        [LO_SPAN_KIND] = "3",
        [LO_SPAN_STATUS_CODE] = "2",
        [LO_SPAN_STATUS_MESSAGE] = "bad",
        [LO_SPAN_TRACE_STATE] = "k=v",
        [LO_SPAN_FLAGS] = "9",
        [LO_SPAN_ATTRIBUTES] = "{\"a\": 1}",
        [LO_SPAN_EVENTS] = "[1]",
        [LO_SPAN_LINKS] = "[2]",
        [LO_SPAN_RESOURCE] = "{\"r\": 2}",
        [LO_SPAN_SCOPE_NAME] = "scope",
        [LO_SPAN_SCOPE_VERSION] = "1.2",
        [LO_SPAN_DROPPED_ATTRIBUTES_COUNT] = "1",
        [LO_SPAN_DROPPED_EVENTS_COUNT] = "2",
        [LO_SPAN_DROPPED_LINKS_COUNT] = "3",
    };
    for (size_t i = 0; i < LO_SPAN_NCOLS; i++)
        assert_non_null(want[i]);
    check(LO_SIGNAL_SPANS, "name = 'columns-span'", want, LO_SPAN_NCOLS);
}

/* The names the query API prints for spans.kind and spans.status_code are
 * OTLP's enums in order; a stored number outside them is shown as that
 * number, never read past the table. */
static void test_span_vocabularies(void **state)
{
    (void)state;
    const char *kinds[] = { "unspecified", "internal", "server", "client", "producer", "consumer" };
    const char *statuses[] = { "unset", "ok", "error" };
    char nb[24];
    for (int i = 0; i < 6; i++)
        assert_string_equal(lo_span_kind_name(i, nb), kinds[i]);
    for (int i = 0; i < 3; i++)
        assert_string_equal(lo_span_status_name(i, nb), statuses[i]);
    assert_null(lo_span_kind_names[6]);
    assert_null(lo_span_status_names[3]);
    /* values this version does not know are shown as the numbers sent */
    assert_string_equal(lo_span_kind_name(6, nb), "6");
    assert_string_equal(lo_span_kind_name(-1, nb), "-1");
    assert_string_equal(lo_span_status_name(3, nb), "3");
    assert_string_equal(lo_span_status_name(INT64_MIN, nb), "-9223372036854775808");
}

static void test_sample_columns(void **state)
{
    (void)state;
    treq_t *t = treq_new(LO_SIGNAL_METRICS);
    lo_sample_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    ids(&r->env);
    r->name = S("columns.metric");
    r->labels = S("{}");
    r->type = LO_METRIC_HISTOGRAM;
    r->time_ns = T_NS;
    r->start_ns = T_NS - 1000000;
    r->count = 5;
    r->sum = 2.5;
    r->min = 0.25;
    r->max = 1.5;
    r->has_sum = r->has_min = r->has_max = true;
    r->buckets = S("{\"bounds\": [1], \"counts\": [2, 3]}");
    r->exemplars = S("[{\"time_unix_nano\":\"1\",\"value\":2}]");
    r->flags = 1;
    submit(t);
    const char *const want[LO_SAMPLE_NCOLS] = {
        [LO_SAMPLE_TIME] = T_US,
        [LO_SAMPLE_SERIES_ID] = "*",
        [LO_SAMPLE_START_TIME] = T_US_M1000,
        [LO_SAMPLE_VALUE] = NULL, /* a histogram has none */
        [LO_SAMPLE_COUNT] = "5",
        [LO_SAMPLE_SUM] = "2.5",
        [LO_SAMPLE_MIN] = "0.25",
        [LO_SAMPLE_MAX] = "1.5",
        [LO_SAMPLE_BUCKETS] = "{\"bounds\": [1], \"counts\": [2, 3]}",
        [LO_SAMPLE_FLAGS] = "1",
        [LO_SAMPLE_PROJECT_ID] = "20212223-2425-4627-a829-2a2b2c2d2e2f",
        [LO_SAMPLE_SESSION_ID] = "10111213-1415-4617-9819-1a1b1c1d1e1f",
        [LO_SAMPLE_USER_ID] = "30313233-3435-4637-b839-3a3b3c3d3e3f",
        [LO_SAMPLE_TRACE_ID] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
        [LO_SAMPLE_SPAN_ID] = "b2b2b2b2b2b2b2b2",
        [LO_SAMPLE_SERVICE] = "svc",
        [LO_SAMPLE_EXEMPLARS] = "[{\"value\": 2, \"time_unix_nano\": \"1\"}]",
    };
    check(LO_SIGNAL_METRICS, "count = 5", want, LO_SAMPLE_NCOLS);
    /* and the series the sample names is the one written for it */
    assert_int_equal(pgt_int(db,
                             "SELECT count(*) FROM metric_samples s JOIN metric_series m USING (series_id) "
                             "WHERE m.name = 'columns.metric'"),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_columns),     cmocka_unit_test(test_span_columns),
        cmocka_unit_test(test_sample_columns),  cmocka_unit_test(test_span_vocabularies),
        cmocka_unit_test(test_log_entry_views),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
