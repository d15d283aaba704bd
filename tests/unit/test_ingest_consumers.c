/* Post-commit consumers (ingest.h): called once per committed batch of
 * their signal, after the commit (the rows are visible to others) and
 * before the requests are answered (the records are still valid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest_harness.h"

static char conninfo[1024];

typedef struct {
    PGconn *c;
    int calls;
    size_t records;
    long long visible; /* rows of the batch's service seen from another connection */
    bool answered;     /* a request of the batch was already answered */
    char first_msg[64];
    long long id_stored; /* rows whose id is the first record's, as the consumer saw it */
    treq_t *watch;
} seen_t;

static void on_commit(void *arg, lo_signal_t signal, const lo_ingest_req_t *list, size_t records)
{
    seen_t *s = arg;
    assert_int_equal(signal, LO_SIGNAL_LOGS);
    s->calls++;
    s->records += records;
    size_t n = 0;
    for (const lo_ingest_req_t *r = list; r != NULL; r = r->next)
        n += r->batch.n;
    assert_int_equal(n, records);
    const lo_log_rec_t *l = &list->batch.logs[0];
    snprintf(s->first_msg, sizeof(s->first_msg), "%.*s", (int)l->message.len, l->message.p);
    s->visible = pgt_int(s->c, "SELECT count(*) FROM log_entries WHERE service = 'consumer'");
    s->answered = treq_finished(s->watch);
    char id[37];
    lo_uuid_format(l->id, id);
    const char *p[1] = { id };
    PGresult *res =
        PQexecParams(s->c, "SELECT count(*) FROM log_entries WHERE id = $1::uuid AND message = 'first'", 1,
                     NULL, p, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    s->id_stored = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
}

static void test_consumer_after_commit_before_answer(void **state)
{
    (void)state;
    it_fresh_schema("lo_t_consumers", conninfo, sizeof(conninfo));
    lo_config_t cfg;
    char err[256];
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "database_url", conninfo, err, sizeof(err)), LO_OK);
    assert_int_equal(lo_config_set(&cfg, "writers", "1", err, sizeof(err)), LO_OK);
    lo_ingest_t *in = lo_ingest_create(&cfg);
    lo_config_free(&cfg);
    assert_non_null(in);
    seen_t s = { .c = pgt_connect(conninfo) };
    assert_int_equal(lo_ingest_add_consumer(in, LO_SIGNAL_LOGS, on_commit, &s), LO_OK);
    assert_int_equal(lo_ingest_add_consumer(in, LO_SIGNAL_COUNT, on_commit, &s), LO_ERROR);
    assert_int_equal(lo_ingest_start(in), LO_OK);
    assert_int_equal(lo_ingest_add_consumer(in, LO_SIGNAL_SPANS, on_commit, &s), LO_ERROR); /* after start */
    for (int i = 0; i < 500 && !lo_ingest_ready(in); i++)
        usleep(10000);

    treq_t *t = treq_new(LO_SIGNAL_LOGS);
    for (int i = 0; i < 3; i++) {
        lo_log_rec_t *r = lo_otlp_batch_push(&t->req.batch);
        r->env.service = S("consumer");
        r->time_ns = lo_now_ns();
        r->level = S("info");
        r->message = i == 0 ? S("first") : S("more");
    }
    s.watch = t;
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.records, 3);
    assert_int_equal(s.visible, 3); /* committed before the consumer ran */
    assert_false(s.answered);       /* and before the answer */
    assert_string_equal(s.first_msg, "first");
    assert_int_equal(s.id_stored, 1); /* the id minted before the write is the stored one */
    /* spans: no consumer registered, nothing called */
    treq_t *sp = treq_new(LO_SIGNAL_SPANS);
    lo_span_rec_t *r = lo_otlp_batch_push(&sp->req.batch);
    r->env.service = S("consumer");
    r->env.has_trace_id = true;
    r->start_ns = r->end_ns = lo_now_ns();
    assert_int_equal(lo_ingest_submit(in, &sp->req), LO_OK);
    assert_int_equal(treq_wait(sp, 5000), LO_OK);
    assert_int_equal(s.calls, 1);
    lo_ingest_destroy(in);
    treq_free(t);
    treq_free(sp);
    PQfinish(s.c);
    pgt_drop_db("lo_t_consumers");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consumer_after_commit_before_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
