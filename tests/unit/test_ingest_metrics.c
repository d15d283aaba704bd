/* Metric writers: samples and series stored; series ids cached so that a
 * batch of known series issues no series statement at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest/writer.h"
#include "ingesttest.h"

static char conninfo[1024];
static int64_t base;

static lo_sample_rec_t *add_sample(treq_t *t, const char *name, const char *labels, uint64_t lh,
                                   lo_metric_type_t type, double value, int64_t sec)
{
    lo_sample_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    assert_non_null(r);
    r->env.service = S("svc");
    r->name = lo_str(name, strlen(name));
    r->labels = lo_str(labels, strlen(labels));
    r->labels_hash = lh;
    r->type = type;
    r->time_ns = base + sec * 1000000000;
    if (type == LO_METRIC_GAUGE || type == LO_METRIC_SUM) {
        r->value = value;
        r->has_value = true;
    }
    return r;
}

static void submit_wait(lo_ingest_t *in, treq_t *t)
{
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);
}

static void test_series_id(void **state)
{
    (void)state;
    lo_sample_rec_t a, b;
    memset(&a, 0, sizeof(a));
    a.name = S("m");
    a.labels_hash = 42;
    a.env.service = S("s");
    b = a;
    b.value = 3; /* not identity */
    b.resource = S("{\"host\":\"x\"}");
    assert_true(lo_series_id(&a) == lo_series_id(&b));
    b.labels_hash = 43;
    assert_true(lo_series_id(&a) != lo_series_id(&b));
    b = a;
    b.env.service = S("t");
    assert_true(lo_series_id(&a) != lo_series_id(&b));
    b = a;
    b.env.has_project = true;
    assert_true(lo_series_id(&a) != lo_series_id(&b));
    b.env.project_id[0] = 1;
    lo_sample_rec_t c = b;
    c.env.project_id[0] = 2;
    assert_true(lo_series_id(&b) != lo_series_id(&c));
    b = a;
    b.name = S("n");
    assert_true(lo_series_id(&a) != lo_series_id(&b));
}

static void test_samples_and_series_cache(void **state)
{
    (void)state;
    int64_t t = lo_now_ns() - 600LL * 1000000000;
    base = t - t % 1000000000;
    it_fresh_schema("lo_t_metrics", conninfo, sizeof(conninfo));
    PGconn *c = pgt_connect(conninfo);
    pgt_exec(c, "CREATE TABLE series_stmts (n int NOT NULL); INSERT INTO series_stmts VALUES (0);"
                "CREATE FUNCTION count_stmt() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN UPDATE series_stmts SET n = n + 1; RETURN NULL; END $$;"
                "CREATE TRIGGER count_stmt AFTER INSERT ON metric_series FOR EACH STATEMENT "
                "EXECUTE FUNCTION count_stmt()");
    lo_ingest_t *in = it_start(conninfo, 1, NULL, true);

    treq_t *r1 = treq_new(LO_SIGNAL_METRICS);
    lo_sample_rec_t *g = add_sample(r1, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, 0.25, 1);
    g->unit = S("1");
    g->description = S("cpu use");
    g->resource = S("{\"host.name\":\"h1\"}");
    g->start_ns = base;
    fill_uuid(g->env.project_id, 2);
    g->env.has_project = true;
    lo_sample_rec_t *g2 = add_sample(r1, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, -1e300, 2);
    g2->env = g->env;
    lo_sample_rec_t *h = add_sample(r1, "latency", "{}", 0, LO_METRIC_HISTOGRAM, 0, 1);
    h->count = 7;
    h->sum = 12.5;
    h->has_sum = h->has_min = h->has_max = true;
    h->min = 0.5;
    h->max = 4;
    h->buckets = S("{\"bounds\":[1,2.5],\"counts\":[2,3,2]}");
    h->temporality = 2;
    h->flags = 1;
    submit_wait(in, r1);
    assert_int_equal(pgt_int(c, "SELECT n FROM series_stmts"), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_series"), 2);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_samples"), 3);

    char sql[512], v[512];
    snprintf(sql, sizeof(sql),
             "SELECT project_id::text || '|' || service || '|' || name || '|' || type || '|' || temporality "
             "|| '|' ||"
             " monotonic || '|' || unit || '|' || description || '|' || labels::text || '|' || resource::text"
             " FROM metric_series WHERE series_id = %lld",
             (long long)lo_series_id(g));
    assert_string_equal(pgt_value(c, sql, v, sizeof(v)),
                        "20212223-2425-4627-a829-2a2b2c2d2e2f|svc|cpu|1|0|false|1|cpu use|{\"core\": "
                        "\"0\"}|{\"host.name\": \"h1\"}");
    snprintf(sql, sizeof(sql),
             "SELECT labels::text || '|' || (unit IS NULL) || '|' || (resource IS NULL) || '|' || temporality"
             " FROM metric_series WHERE series_id = %lld",
             (long long)lo_series_id(h));
    assert_string_equal(pgt_value(c, sql, v, sizeof(v)), "{}|true|true|2");
    snprintf(sql, sizeof(sql),
             "SELECT string_agg(value::text || '|' || ((extract(epoch from time))::bigint - %lld) || '|' ||"
             " coalesce(((extract(epoch from start_time))::bigint - %lld)::text, '-') || '|' ||"
             " (count IS NULL) || '|' || (buckets IS NULL) || '|' || project_id::text, ',' ORDER BY time)"
             " FROM metric_samples WHERE series_id = %lld",
             (long long)(base / 1000000000), (long long)(base / 1000000000), (long long)lo_series_id(g));
    assert_string_equal(pgt_value(c, sql, v, sizeof(v)),
                        "0.25|1|0|true|true|20212223-2425-4627-a829-2a2b2c2d2e2f,"
                        "-1e+300|2|-|true|true|20212223-2425-4627-a829-2a2b2c2d2e2f");
    snprintf(sql, sizeof(sql),
             "SELECT (value IS NULL) || '|' || count || '|' || sum || '|' || min || '|' || max || '|' ||"
             " buckets::text || '|' || flags || '|' || (project_id IS NULL) || '|' || service"
             " FROM metric_samples WHERE series_id = %lld",
             (long long)lo_series_id(h));
    assert_string_equal(pgt_value(c, sql, v, sizeof(v)),
                        "true|7|12.5|0.5|4|{\"bounds\": [1, 2.5], \"counts\": [2, 3, 2]}|1|true|svc");

    /* the same series again: no series statement at all */
    treq_t *r2 = treq_new(LO_SIGNAL_METRICS);
    lo_sample_rec_t *g3 = add_sample(r2, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, 1, 3);
    g3->env = g->env;
    add_sample(r2, "latency", "{}", 0, LO_METRIC_HISTOGRAM, 0, 3)->count = 1;
    submit_wait(in, r2);
    assert_int_equal(pgt_int(c, "SELECT n FROM series_stmts"), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_samples"), 5);

    /* a new label set is a new series: one statement */
    treq_t *r3 = treq_new(LO_SIGNAL_METRICS);
    add_sample(r3, "cpu", "{\"core\":\"1\"}", 2, LO_METRIC_GAUGE, 1, 4);
    add_sample(r3, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, 1, 4)->env = g->env;
    submit_wait(in, r3);
    assert_int_equal(pgt_int(c, "SELECT n FROM series_stmts"), 2);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_series"), 3);
    /* every sample has its series */
    assert_int_equal(
        pgt_int(c, "SELECT count(*) FROM metric_samples s LEFT JOIN metric_series m USING (series_id)"
                   " WHERE m.series_id IS NULL"),
        0);
    PQfinish(c);
    treq_free(r1);
    treq_free(r2);
    treq_free(r3);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_metrics");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_id),
        cmocka_unit_test(test_samples_and_series_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
